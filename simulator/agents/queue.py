"""The MTA's mail queue and its manager (Postfix's qmgr, simplified).

A message enters the queue once an SMTP server has said `250 ... queued`:
from then on this MTA owns it and must not lose it (RFC 5321 §6.1).  The
manager tries every recipient at once: local ones go to the MDA, remote
ones are relayed by MX.  After each attempt a recipient is done (2yz),
bounced (5yz: a DSN goes back to the sender) or deferred (4yz: tried again
after Postfix's backoff, until the queue lifetime runs out, when it bounces
with the last error it met).
"""

from __future__ import annotations

from collections.abc import Generator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

import simpy

from simulator.agents.bounce import BounceContext, FailedRecipient, build_dsn
from simulator.agents.context import SimContext
from simulator.agents.relay import Hop, relay
from simulator.agents.verdicts import Outcome, Verdict
from simulator.protocols.message import (
    domain_of,
    first_header,
    prepend_header,
    trace_date,
    unique_recipients,
)
from simulator.protocols.smtp import Envelope, SmtpReply, reply
from simulator.trace import Kind

if TYPE_CHECKING:
    from simulator.agents.mta import Mta


@dataclass(frozen=True)
class RetryPolicy:
    """When deferred mail is tried again, and when the MTA gives up."""

    minimal_backoff: float = 300.0  # Postfix minimal_backoff_time
    maximal_backoff: float = 4000.0  # Postfix maximal_backoff_time
    queue_lifetime: float = 5 * 86400.0  # Postfix maximal_queue_lifetime (5d)

    def delay(self, age: float) -> float:
        """Postfix qmgr: wait as long as the message is old, within bounds."""
        return min(max(age, self.minimal_backoff), self.maximal_backoff)


@dataclass
class QueuedMessage:
    """A message in the queue and the recipients it still has to reach."""

    queue_id: str
    sender: str
    recipients: list[str]
    content: bytes
    arrived_at: float
    message_id: str | None
    attempts: int = 0
    in_progress: bool = False  # a delivery attempt is under way (Postfix: active queue)
    last_outcome: dict[str, Outcome] = field(default_factory=dict)

    @classmethod
    def arrived(
        cls, queue_id: str, envelope: Envelope, content: bytes, now: float
    ) -> QueuedMessage:
        """A message just accepted over SMTP; a recipient named twice counts once."""
        return cls(
            queue_id, envelope.mail_from, unique_recipients(envelope.rcpt_to), content, now,
            first_header(content, "Message-ID"),
        )


def local_message_id(now: datetime, queue_id: str, hostname: str) -> str:
    """A Message-ID the way Postfix makes one: <YYYYMMDDhhmmss.QUEUEID@host>."""
    return f"<{now:%Y%m%d%H%M%S}.{queue_id}@{hostname}>"


class MailQueue:
    """The queue of one MTA, with the manager that empties it."""

    def __init__(self, ctx: SimContext, mta: Mta) -> None:
        self.ctx = ctx
        self.mta = mta
        self.entries: dict[str, QueuedMessage] = {}
        self._ids = ctx.rng(f"queue-id/{mta.hostname}")
        self._mx_order = ctx.rng(f"mx-order/{mta.hostname}")

    def new_queue_id(self) -> str:
        """A fresh Postfix-style queue id: ten hexadecimal digits."""
        while True:
            queue_id = f"{self._ids.randrange(16**10):010X}"
            if queue_id not in self.entries:
                return queue_id

    def enqueue(self, message: QueuedMessage) -> None:
        """Take ownership of `message` and start delivering it."""
        self.entries[message.queue_id] = message
        self._emit(Kind.QUEUE_ENTER, message, f"queued as {message.queue_id}",
                   **{"from": message.sender, "to": list(message.recipients)})
        self.ctx.start(f"qmgr {self.mta.hostname}: {message.queue_id}", self._attempt(message))

    def report_remaining(self) -> None:
        """Record every recipient still waiting here (end of the run)."""
        for message in self.entries.values():
            for rcpt in message.recipients:
                last = message.last_outcome.get(rcpt)
                self._emit(Kind.MAIL_QUEUED, message, f"still queued for <{rcpt}>",
                           recipient=rcpt, reason=_whereabouts(message, last),
                           status=last.status if last else None)

    def _attempt(self, message: QueuedMessage) -> Generator[simpy.events.Event, Any, None]:
        message.attempts += 1
        message.in_progress = True
        outcomes: dict[str, Outcome] = {}
        for domain, rcpts in _by_domain(message.recipients).items():
            if self.mta.is_local(rcpts[0]):
                outcomes.update({r: self._deliver_locally(message, r) for r in rcpts})
            else:
                hop = Hop(message.sender, rcpts, message.content, message.message_id)
                outcomes.update(
                    (yield from relay(self.ctx, self.mta.hostname, hop, domain, self._mx_order))
                )
        message.in_progress = False
        self._settle(message, outcomes)

    def _deliver_locally(self, message: QueuedMessage, rcpt: str) -> Outcome:
        mda = self.mta.mailstore_for(rcpt)
        if mda is not None and mda.deliver(message.sender, rcpt, message.content, message.queue_id):
            return Outcome.of_verdict(Verdict.DELIVERED)
        return Outcome.of_reply(reply(SmtpReply.USER_UNKNOWN, rcpt=rcpt), self.mta.hostname)

    def _settle(self, message: QueuedMessage, outcomes: dict[str, Outcome]) -> None:
        failed: list[FailedRecipient] = []
        for rcpt, outcome in outcomes.items():
            message.last_outcome[rcpt] = outcome
            if outcome.is_transient:
                self._emit(Kind.MAIL_DEFERRED, message, f"deferred <{rcpt}>: {outcome.text}",
                           recipient=rcpt, reply=outcome.text, status=outcome.status,
                           attempt=message.attempts)
                continue
            message.recipients.remove(rcpt)
            if not outcome.is_success:
                failed.append(_failure(rcpt, outcome))
            elif outcome.relay is not None:
                self._emit(Kind.MAIL_RELAYED, message, f"<{rcpt}> relayed to {outcome.relay}",
                           recipient=rcpt, relay=outcome.relay, reply=outcome.text)
        if failed:
            self._bounce(message, failed)
        self._next_step(message)

    def _next_step(self, message: QueuedMessage) -> None:
        if not message.recipients:
            del self.entries[message.queue_id]
            self._emit(Kind.QUEUE_LEAVE, message, f"{message.queue_id} removed", reason="done")
            return
        retry = self.mta.config.retry
        age = self.ctx.env.now - message.arrived_at
        if age < retry.queue_lifetime:
            self.ctx.start(f"qmgr {self.mta.hostname}: {message.queue_id} deferred",
                           self._retry(message, retry.delay(age)))
            return
        # Too old: return it with the last error seen.  RFC 3463 X.4.7 ("delivery
        # time expired") asks for the code of the actual problem when it is known.
        expired = [_failure(r, message.last_outcome[r]) for r in message.recipients]
        message.recipients.clear()
        self._bounce(message, expired, expired=True)
        self._next_step(message)

    def _retry(
        self, message: QueuedMessage, delay: float
    ) -> Generator[simpy.events.Event, Any, None]:
        yield self.ctx.env.timeout(delay)
        yield from self._attempt(message)

    def _bounce(
        self, message: QueuedMessage, failed: list[FailedRecipient], expired: bool = False
    ) -> None:
        """Return a DSN to the sender, unless the failed mail was a bounce."""
        now = self.ctx.clock()
        queue_id = self.new_queue_id() if message.sender else ""
        dsn_id = local_message_id(now, queue_id, self.mta.hostname) if queue_id else None
        note = "" if dsn_id else " (a bounce: discarded, never bounced)"
        for failure in failed:
            self._emit(Kind.MAIL_BOUNCED, message, f"<{failure.recipient}>: "
                       f"{failure.diagnostic}{note}", recipient=failure.recipient,
                       status=failure.status, reply=failure.diagnostic, bounce_id=dsn_id,
                       expired=expired)
        if dsn_id is None:  # never bounce a bounce (RFC 5321 §4.5.5)
            return
        context = BounceContext(self.mta.hostname, message.sender, message.content,
                                self.ctx.datetime_at(message.arrived_at), now, dsn_id)
        dsn = self._stamp_local(build_dsn(context, failed), queue_id, now)
        self.ctx.trace.emit(
            Kind.MAIL_COMPOSED, self.mta.hostname, "delivery status notification",
            message=dsn_id, **{"from": "", "to": [message.sender]},
            subject=first_header(dsn, "Subject") or "", origin="bounce",
            original=message.message_id,
        )
        self.enqueue(QueuedMessage(queue_id, "", [message.sender], dsn,
                                   self.ctx.env.now, dsn_id))

    def _stamp_local(self, content: bytes, queue_id: str, now: datetime) -> bytes:
        """The Received: header of mail made on this host (Postfix cleanup)."""
        software = self.mta.config.software
        value = f"by {self.mta.hostname} ({software}) id {queue_id}; {trace_date(now)}"
        return prepend_header(content, "Received", value)

    def _emit(self, kind: Kind, message: QueuedMessage, text: str, **data: Any) -> None:
        self.ctx.trace.emit(kind, self.mta.hostname, text, message=message.message_id,
                            queue_id=message.queue_id, **data)


def _whereabouts(message: QueuedMessage, last: Outcome | None) -> str:
    """Why a recipient is still queued, in words for the end-of-run ledger."""
    if message.in_progress:
        return "delivery in progress" + (f"; last error: {last.text}" if last else "")
    return last.text if last else "not tried yet"


def _failure(rcpt: str, outcome: Outcome) -> FailedRecipient:
    return FailedRecipient(rcpt, outcome.status, outcome.text,
                           outcome.relay if outcome.from_server else None,
                           outcome.diagnostic_type)


def _by_domain(recipients: Sequence[str]) -> dict[str, tuple[str, ...]]:
    """Recipients grouped by domain, in order of first appearance."""
    groups: dict[str, list[str]] = {}
    for rcpt in recipients:
        groups.setdefault(domain_of(rcpt), []).append(rcpt)
    return {domain: tuple(rcpts) for domain, rcpts in groups.items()}
