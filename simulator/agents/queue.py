"""The MTA's mail queue and its manager (Postfix's qmgr, simplified).

A message enters the queue once an SMTP server has said `250 ... queued`:
from then on this MTA owns it and must not lose it (RFC 5321 §6.1).  Like
Postfix's qmgr, the manager hands every destination of a message to a
delivery agent of its own, all at once: the local recipients to an LMTP
client that hands them to their domain's MDA (`agents.lmtp`), the
recipients of each remote domain to an SMTP client that relays by MX --
at most `destination_concurrency_limit` sessions per destination at a
time.  Each recipient is settled the moment its agent reports: done (2yz),
bounced (5yz) or deferred (4yz).  When every agent has reported, one DSN
goes back to the sender for the recipients that bounced, and a message
with deferred recipients moves to the deferred queue.  A scanner looks at
that queue every `queue_run_delay` and brings back each message whose
backoff time has passed, until the queue lifetime runs out; then the
message bounces with the last error it met.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

import simpy

from simulator.agents.bounce import BounceContext, FailedRecipient, build_dsn
from simulator.agents.context import SimContext
from simulator.agents.lmtp import deliver_over_lmtp
from simulator.agents.relay import Hop, relay
from simulator.agents.verdicts import LMTP, Outcome
from simulator.protocols.lmtp import LMTP_PORT
from simulator.protocols.message import (
    first_header,
    prepend_header,
    trace_date,
    unique_recipients,
)
from simulator.protocols.smtp import Envelope, SmtpReply, reply
from simulator.trace import Kind
from simulator.trace_data import (
    MailBounced,
    MailComposed,
    MailDeferred,
    MailQueued,
    MailRelayed,
    Note,
    Payload,
    QueueEnter,
    QueueLeave,
)

if TYPE_CHECKING:
    from simulator.agents.mta import Mta

#: Postfix's error(8) delivery agent: a recipient refused without a server (besides SMTP, LMTP).
ERROR = "error"


@dataclass(frozen=True, slots=True)
class Destination:
    """Where a recipient goes next, as Postfix's transport maps say it.

    ``smtp:example.net`` relays by MX; ``lmtp:mda.example.net`` hands mail to
    the MDA of one of our domains (Postfix virtual_transport); ``error:``
    refuses a local address no MDA keeps.
    """

    transport: str
    nexthop: str

    def __str__(self) -> str:
        return f"{self.transport}:{self.nexthop}"


@dataclass(frozen=True)
class RetryPolicy:
    """When deferred mail is tried again, and when the MTA gives up."""

    minimal_backoff: float = 300.0  # Postfix minimal_backoff_time
    maximal_backoff: float = 4000.0  # Postfix maximal_backoff_time
    queue_lifetime: float = 5 * 86400.0  # Postfix maximal_queue_lifetime (5d)
    queue_run_delay: float = 300.0  # Postfix queue_run_delay: deferred queue scanned this often

    def delay(self, age: float) -> float:
        """Postfix qmgr: wait as long as the message is old, within bounds."""
        return min(max(age, self.minimal_backoff), self.maximal_backoff)

    def scan_after(self, seconds: float) -> int:
        """The number of the first deferred-queue scan after `seconds`.

        Scan n runs at n * queue_run_delay seconds, counted from the start.
        """
        return math.floor(seconds / self.queue_run_delay) + 1

    def scan_time(self, scan: int) -> float:
        """When scan number `scan` runs, in simulated seconds."""
        return scan * self.queue_run_delay


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
    retry_at: float | None = None  # in the deferred queue: not tried again before this
    waiting: set[str] = field(default_factory=set)  # for a delivery agent (concurrency limit)
    # with a delivery agent: recipient -> the SMTP session carrying it ("" before one is open)
    delivering: dict[str, str] = field(default_factory=dict)
    bounce_log: list[FailedRecipient] = field(default_factory=list)  # this attempt's failures
    dsn: tuple[str, str] | None = None  # queue id and Message-ID of the DSN they will go in

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
        self.deferred: dict[str, QueuedMessage] = {}  # Postfix's deferred queue
        self._ids = ctx.rng(f"queue-id/{mta.hostname}")
        self._reserved: set[str] = set()  # ids promised to DSNs not queued yet
        self._mx_order = ctx.rng(f"mx-order/{mta.hostname}")
        self._slots: dict[str, simpy.Resource] = {}  # per destination domain
        self._nudge: simpy.Event | None = None  # wakes the idle scanner
        ctx.start(f"qmgr {mta.hostname}: deferred queue scan", self._scan_deferred())

    def new_queue_id(self) -> str:
        """A fresh Postfix-style queue id: ten hexadecimal digits."""
        while True:
            queue_id = f"{self._ids.randrange(16**10):010X}"
            if queue_id not in self.entries and queue_id not in self._reserved:
                return queue_id

    def enqueue(self, message: QueuedMessage) -> None:
        """Take ownership of `message` and start delivering it."""
        self.entries[message.queue_id] = message
        self._emit(Kind.QUEUE_ENTER, message, f"queued as {message.queue_id}",
                   QueueEnter(queue_id=message.queue_id, sender=message.sender,
                              recipients=tuple(message.recipients)))
        self._activate(message)

    def report_remaining(self) -> None:
        """Record every recipient still waiting here (end of the run).

        A recipient whose SMTP session has reached the point where the next
        hop took it over (its 250 to the final dot) is the next hop's to
        report: the reply was still on its way back when the run ended.
        """
        for message in self.entries.values():
            for rcpt in message.recipients:
                session = message.delivering.get(rcpt)
                if session and (session, rcpt) in self.ctx.handovers:
                    self._emit(Kind.NOTE, message, f"<{rcpt}>: the next hop has taken it; its "
                               "reply had not arrived when the run ended",
                               Note(queue_id=message.queue_id, recipient=rcpt))
                    continue
                last = message.last_outcome.get(rcpt)
                self._emit(Kind.MAIL_QUEUED, message, f"still queued for <{rcpt}>",
                           MailQueued(queue_id=message.queue_id, recipient=rcpt,
                                      reason=_whereabouts(message, rcpt),
                                      status=last.status if last else None))
            if message.bounce_log and message.dsn:
                self._emit(Kind.NOTE, message, f"delivery status notification {message.dsn[1]} "
                           "not sent yet: the delivery attempt was still under way",
                           Note(queue_id=message.queue_id))

    # -- one delivery attempt: an agent per destination, all at once ---------

    def _activate(self, message: QueuedMessage) -> None:
        """Move `message` to the active queue and start an attempt."""
        self.ctx.start(f"qmgr {self.mta.hostname}: {message.queue_id}", self._attempt(message))

    def _attempt(self, message: QueuedMessage) -> Generator[simpy.events.Event, Any, None]:
        message.attempts += 1
        message.in_progress = True
        agents = []
        for destination, rcpts in _by_destination(message.recipients, self.mta.transport).items():
            message.waiting.update(rcpts)
            name = (f"{destination.transport} {self.mta.hostname}: {message.queue_id} "
                    f"to {destination.nexthop}")
            agents.append(self.ctx.start(name, self._deliver(message, destination, rcpts)))
        yield self.ctx.env.all_of(agents)
        message.in_progress = False
        self._finish_attempt(message)

    def _deliver(
        self, message: QueuedMessage, destination: Destination, rcpts: tuple[str, ...]
    ) -> Generator[simpy.events.Event, Any, None]:
        """One delivery agent: LMTP to our MDA, SMTP by MX, or a refusal."""
        if destination.transport == ERROR:
            message.waiting.difference_update(rcpts)
            outcomes = {rcpt: Outcome.of_reply(reply(SmtpReply.USER_UNKNOWN, rcpt=rcpt),
                                               self.mta.hostname) for rcpt in rcpts}
        else:
            outcomes = yield from self._hand_over(message, destination, rcpts)
        self._settle(message, outcomes)

    def _hand_over(
        self, message: QueuedMessage, destination: Destination, rcpts: tuple[str, ...]
    ) -> Generator[simpy.events.Event, Any, dict[str, Outcome]]:
        """One session to `destination` once one is free (Postfix
        default_destination_concurrency_limit)."""
        key = str(destination)
        if key not in self._slots:
            limit = self.mta.config.destination_concurrency_limit
            self._slots[key] = simpy.Resource(self.ctx.env, capacity=limit)
        with self._slots[key].request() as slot:
            yield slot
            for rcpt in rcpts:
                message.waiting.discard(rcpt)
                message.delivering[rcpt] = ""
            hop = Hop(message.sender, rcpts, message.content, message.message_id)
            host = self.mta.hostname
            if destination.transport == LMTP:
                outcomes = yield from deliver_over_lmtp(self.ctx, host, hop, destination.nexthop,
                                                        message.delivering)
            else:
                outcomes = yield from relay(self.ctx, host, hop, destination.nexthop,
                                            self._mx_order, message.delivering)
        for rcpt in rcpts:
            self.ctx.handovers.discard((message.delivering.pop(rcpt), rcpt))
        return outcomes

    def _settle(self, message: QueuedMessage, outcomes: dict[str, Outcome]) -> None:
        """Record what one delivery agent reports, recipient by recipient."""
        for rcpt, outcome in outcomes.items():
            message.last_outcome[rcpt] = outcome
            if outcome.is_transient:
                self._emit(Kind.MAIL_DEFERRED, message, f"deferred <{rcpt}>: {outcome.text}",
                           MailDeferred(queue_id=message.queue_id, recipient=rcpt,
                                        reply=outcome.text, status=outcome.status,
                                        attempt=message.attempts))
                continue
            message.recipients.remove(rcpt)
            if not outcome.is_success:
                self._log_bounce(message, _failure(rcpt, outcome))
            elif outcome.relay is not None:  # Postfix smtp(8) and lmtp(8) both log status=sent;
                # over LMTP the MDA's host records the delivery itself (its own record)
                lmtp = outcome.protocol == LMTP
                relay = f"{outcome.relay}:{LMTP_PORT}" if lmtp else outcome.relay
                self._emit(Kind.MAIL_RELAYED, message, f"<{rcpt}> relayed to {relay}",
                           MailRelayed(queue_id=message.queue_id, recipient=rcpt,
                                       relay=relay, reply=outcome.text))

    def _finish_attempt(self, message: QueuedMessage) -> None:
        """Every agent has reported: bounce, defer or let go of the message."""
        retry = self.mta.config.retry
        age = self.ctx.env.now - message.arrived_at
        if message.recipients and age >= retry.queue_lifetime:
            # Too old: return it with the last error seen.  RFC 3463 X.4.7 ("delivery
            # time expired") asks for the code of the actual problem when it is known.
            for rcpt in list(message.recipients):
                message.recipients.remove(rcpt)
                self._log_bounce(message, _failure(rcpt, message.last_outcome[rcpt]),
                                 expired=True)
        self._return_bounces(message)
        if not message.recipients:
            del self.entries[message.queue_id]
            self._emit(Kind.QUEUE_LEAVE, message, f"{message.queue_id} removed",
                       QueueLeave(queue_id=message.queue_id, reason="done"))
            return
        message.retry_at = self.ctx.env.now + retry.delay(age)
        self.deferred[message.queue_id] = message
        if self._nudge is not None and not self._nudge.triggered:
            self._nudge.succeed()

    # -- the deferred queue ------------------------------------------------------

    def _scan_deferred(self) -> Generator[simpy.events.Event, Any, None]:
        """Scan the deferred queue every queue_run_delay, from time 0 (Postfix qmgr).

        While the deferred queue is empty the scanner sleeps until something
        is deferred, so an idle MTA costs no events.
        """
        env = self.ctx.env
        scan = 0
        while True:
            if not self.deferred:
                self._nudge = env.event()
                yield self._nudge
                self._nudge = None
            retry = self.mta.config.retry
            scan = max(scan + 1, retry.scan_after(env.now))
            at = retry.scan_time(scan)
            yield env.timeout(_delay_until(env.now, at))
            due = [m for m in self.deferred.values() if m.retry_at is not None and m.retry_at <= at]
            for message in due:
                del self.deferred[message.queue_id]
                message.retry_at = None
                self._activate(message)

    # -- bounces -------------------------------------------------------------------

    def _log_bounce(
        self, message: QueuedMessage, failure: FailedRecipient, expired: bool = False
    ) -> None:
        """Record a recipient as bounced now; its DSN goes out when the attempt ends."""
        dsn_id = self._dsn_id(message)
        note = "" if dsn_id else " (a bounce: discarded, never bounced)"
        self._emit(Kind.MAIL_BOUNCED, message, f"<{failure.recipient}>: "
                   f"{failure.diagnostic}{note}",
                   MailBounced(queue_id=message.queue_id, recipient=failure.recipient,
                               status=failure.status, reply=failure.diagnostic,
                               bounce_id=dsn_id, expired=expired))
        message.bounce_log.append(failure)

    def _dsn_id(self, message: QueuedMessage) -> str | None:
        """The Message-ID of the DSN for this attempt's failures; None for a bounce."""
        if not message.sender:
            return None  # never bounce a bounce (RFC 5321 §4.5.5)
        if message.dsn is None:
            queue_id = self.new_queue_id()
            self._reserved.add(queue_id)
            message.dsn = (queue_id, local_message_id(self.ctx.clock(), queue_id,
                                                      self.mta.hostname))
        return message.dsn[1]

    def _return_bounces(self, message: QueuedMessage) -> None:
        """Send one DSN to the sender for every failure of this attempt (Postfix bounce)."""
        failed, message.bounce_log = message.bounce_log, []
        if not failed or message.dsn is None:
            return
        (queue_id, dsn_id), message.dsn = message.dsn, None
        self._reserved.discard(queue_id)
        now = self.ctx.clock()
        context = BounceContext(self.mta.hostname, message.sender, message.content,
                                self.ctx.datetime_at(message.arrived_at), now, dsn_id)
        dsn = self._stamp_local(build_dsn(context, failed), queue_id, now)
        self.ctx.trace.emit(
            Kind.MAIL_COMPOSED, self.mta.hostname, "delivery status notification",
            MailComposed(sender="", recipients=(message.sender,),
                         subject=first_header(dsn, "Subject") or "", origin="bounce",
                         original=message.message_id),
            message=dsn_id,
        )
        self.enqueue(QueuedMessage(queue_id, "", [message.sender], dsn,
                                   self.ctx.env.now, dsn_id))

    def _stamp_local(self, content: bytes, queue_id: str, now: datetime) -> bytes:
        """The Received: header of mail made on this host (Postfix cleanup)."""
        software = self.mta.config.software
        value = f"by {self.mta.hostname} ({software}) id {queue_id}; {trace_date(now)}"
        return prepend_header(content, "Received", value)

    def _emit(self, kind: Kind, message: QueuedMessage, text: str, payload: Payload) -> None:
        self.ctx.trace.emit(kind, self.mta.hostname, text, payload, message=message.message_id)


def _whereabouts(message: QueuedMessage, rcpt: str) -> str:
    """Why a recipient is still queued, in words for the end-of-run ledger."""
    last = message.last_outcome.get(rcpt)
    if rcpt in message.delivering:
        now = "delivery in progress"
    elif rcpt in message.waiting:
        now = "waiting for a delivery agent"
    else:
        return last.text if last else "not tried yet"
    return now + (f"; last error: {last.text}" if last else "")


def _failure(rcpt: str, outcome: Outcome) -> FailedRecipient:
    return FailedRecipient(rcpt, outcome.status, outcome.text,
                           outcome.relay if outcome.from_server else None,
                           outcome.diagnostic_type)


def _by_destination(
    recipients: Sequence[str], transport: Callable[[str], Destination]
) -> dict[Destination, tuple[str, ...]]:
    """Recipients by destination, in order of first appearance."""
    groups: dict[Destination, list[str]] = {}
    for rcpt in recipients:
        groups.setdefault(transport(rcpt), []).append(rcpt)
    return {destination: tuple(rcpts) for destination, rcpts in groups.items()}


def _delay_until(now: float, at: float) -> float:
    """The timeout that makes a SimPy clock at `now` read exactly `at`."""
    delay = max(0.0, at - now)
    while now + delay < at:
        delay = math.nextafter(delay, math.inf)
    while delay > 0.0 and now + delay > at:
        delay = math.nextafter(delay, 0.0)
    return delay
