"""Sending as a mail client does: write the message, submit it, keep the Outbox.

One `Outbox` per account and client, shared by every kind of MUA: a
desktop client on the user's device and a webmail on the provider's web
server submit the same way -- to the provider's MTA on port 587 with
AUTH PLAIN (RFC 6409), after STARTTLS or over TLS from the first byte on
465 (RFC 8314) as the account's security says.  A message the MSA refuses
for good is reported back to the user at once; one that could not be
handed over stays in the Outbox, as in a real client.
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass, replace
from typing import Any

import simpy

from simulator.agents.context import SimContext
from simulator.agents.transfer import Answer, transfer
from simulator.net.connection import ConnectError
from simulator.profiles import DEFAULT_CLIENT, submission_port
from simulator.protocols.addresses import domain_of
from simulator.protocols.common import (
    ConnectionBroken,
    ConnectionClosed,
    Interruption,
    RemoteProtocolError,
    TimedOut,
    TlsUnavailable,
)
from simulator.protocols.message import Draft, compose, unique_recipients
from simulator.protocols.smtp import Envelope, Reply, SmtpClientConfig
from simulator.protocols.tls import ConnectionSecurity, TlsPolicy
from simulator.trace import Kind
from simulator.trace_data import MailBounced, MailComposed, MailQueued, Note

#: The Outbox reason of a message that was still being sent when the run ended.
SENDING = "still being sent"
#: The Outbox reason when the submission session ended without a reply to the message.
CUT_OFF_REASONS: dict[type[Interruption], str] = {
    ConnectionClosed: "the server closed the connection",
    TimedOut: "the server did not answer in time",
    ConnectionBroken: "the connection broke",
    RemoteProtocolError: "the server's reply made no sense",
    TlsUnavailable: "the server offers no encryption (STARTTLS)",
}


@dataclass(frozen=True)
class Account:
    """The outgoing half of a mail account, as typed into the client."""

    address: str
    password: str
    submission_host: str  # the provider's MTA (outgoing server)
    client: str = DEFAULT_CLIENT  # its User-Agent: header
    security: ConnectionSecurity = ConnectionSecurity.NONE  # 587, or 465 with TLS


@dataclass(frozen=True, slots=True)
class Unsent:
    """A message left in the Outbox, and why."""

    message_id: str
    recipients: tuple[str, ...]
    reason: str
    session: str | None = None  # the submission session carrying it, while being sent


@dataclass(frozen=True, slots=True)
class Sent:
    """A submission that is over: the message and each recipient's answer."""

    message_id: str
    content: bytes
    replies: dict[str, Answer]

    @property
    def accepted(self) -> bool:
        """Whether the MSA took it for at least one recipient: a copy belongs in Sent."""
        return any(isinstance(a, Reply) and a.is_positive for a in self.replies.values())


class Outbox:
    """What one client on `host` has written and not yet handed over."""

    def __init__(self, ctx: SimContext, host: str, account: Account, ids: str) -> None:
        self.ctx = ctx
        self.host = host
        self.account = account
        self.items: list[Unsent] = []
        self._ids = ctx.rng(ids)  # the stream Message-IDs are drawn from

    def submit(self, draft: Draft) -> Generator[simpy.events.Event, Any, Sent]:
        """Write `draft` and run one submission session for it (a SimPy sub-process)."""
        message_id, content = self._write(draft)
        envelope = Envelope(mail_from=draft.sender,
                            rcpt_to=tuple(unique_recipients(draft.recipients)))
        sending = Unsent(message_id, envelope.rcpt_to, SENDING)
        self.items.append(sending)  # until the server has answered, it is ours
        security = self.account.security
        implicit = security is ConnectionSecurity.TLS
        endpoint = yield from self.ctx.network.connect(
            self.host, self.account.submission_host, submission_port(security)
        )
        if isinstance(endpoint, ConnectError):
            self.items[self.items.index(sending)] = replace(sending, reason=endpoint.reason)
            return Sent(message_id, content, {})
        endpoint.message = message_id
        session = endpoint.connection.session
        index = self.items.index(sending)
        sending = self.items[index] = replace(sending, session=session)
        starttls = TlsPolicy.REQUIRE if security is ConnectionSecurity.STARTTLS else TlsPolicy.NONE
        smtp = SmtpClientConfig(helo_name=self.host, username=self.account.address,
                                password=self.account.password, tls=starttls)
        replies = yield from transfer(endpoint, smtp, envelope, content, implicit_tls=implicit)
        self.items.remove(sending)
        self.ctx.handovers.difference_update((session, rcpt) for rcpt in envelope.rcpt_to)
        self._result(message_id, replies)
        return Sent(message_id, content, replies)

    def report_remaining(self, shown: str = "still in the Outbox") -> None:
        """Record every message still in the Outbox (end of the run), as `shown` words it.

        A recipient the server has already taken (its 250 to the final dot
        was on its way back) is the server's to report.
        """
        client = self.account.client
        for unsent in self.items:
            for rcpt in unsent.recipients:
                if unsent.session and (unsent.session, rcpt) in self.ctx.handovers:
                    self.ctx.trace.emit(
                        Kind.NOTE, self.host, f"{client}: <{rcpt}>: the server has "
                        "taken it; its reply had not arrived when the run ended",
                        Note(recipient=rcpt), message=unsent.message_id,
                    )
                    continue
                self.ctx.trace.emit(
                    Kind.MAIL_QUEUED, self.host, f"{shown} for <{rcpt}>",
                    MailQueued(queue_id="outbox", recipient=rcpt, reason=unsent.reason),
                    message=unsent.message_id,
                )

    def _write(self, draft: Draft) -> tuple[str, bytes]:
        """The user writes the message: a fresh Message-ID and the whole text."""
        account = self.account
        message_id = f"<{self._ids.getrandbits(64):016x}@{domain_of(account.address)}>"
        content = compose(draft, date=self.ctx.clock(), message_id=message_id,
                          user_agent=account.client)
        self.ctx.trace.emit(
            Kind.MAIL_COMPOSED, self.host, f"{account.client}: new message",
            MailComposed(sender=draft.sender, recipients=tuple(draft.recipients),
                         subject=draft.subject, origin="user"),
            message=message_id,
        )
        return message_id, content

    def _result(self, message_id: str, replies: dict[str, Answer]) -> None:
        """Refused recipients are reported to the user; unsent ones wait."""
        waiting = tuple(r for r, answer in replies.items() if _unsent(answer))
        if waiting:
            self.items.append(Unsent(message_id, waiting, _reason(replies[waiting[0]])))
        for rcpt, answer in replies.items():
            if isinstance(answer, Reply) and answer.is_permanent:
                self.ctx.trace.emit(
                    Kind.MAIL_BOUNCED, self.host, f"{self.account.client}: sending failed: "
                    f"{answer}", MailBounced(recipient=rcpt, status=answer.enhanced or "5.0.0",
                                             reply=str(answer), bounce_id=None),
                    message=message_id,
                )


def _unsent(answer: Answer) -> bool:
    """Whether the message stays in the Outbox for this recipient: a 4yz, or no reply."""
    return not isinstance(answer, Reply) or answer.is_transient


def _reason(answer: Answer) -> str:
    """Why it stays there, as the Outbox shows it: the server's reply, or what happened."""
    return str(answer) if isinstance(answer, Reply) else CUT_OFF_REASONS[type(answer)]
