"""The MUA: a user's mail program (Thunderbird, Outlook, ...).

It writes messages from the scenario's traffic, submits them to its
provider's MTA on port 587 with AUTH PLAIN (RFC 6409), and checks for new
mail over POP3 every few minutes -- in clear, after STARTTLS/STLS, or over
TLS from the start (465, 995) as the user's connection security says --
deleting what it downloaded unless the user keeps mail on the server.  A
message the MSA refuses for good is reported back to the user at once; one
that could not be handed over stays in the Outbox, as in a real client.
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass, replace
from typing import Any

import simpy

from simulator.agents.context import SimContext
from simulator.agents.session import Patience, pump
from simulator.agents.transfer import Answer, transfer
from simulator.net.connection import ConnectError
from simulator.protocols.addresses import domain_of
from simulator.protocols.common import (
    ConnectionBroken,
    ConnectionClosed,
    Interruption,
    RemoteProtocolError,
    TimedOut,
    TlsUnavailable,
)
from simulator.protocols.message import Draft, compose, first_header, unique_recipients
from simulator.protocols.pop3 import (
    POP3_PORT,
    POP3S_PORT,
    LoginFailed,
    MessageRetrieved,
    Pop3Client,
    Pop3ClientConfig,
)
from simulator.protocols.smtp import (
    SMTPS_PORT,
    SUBMISSION_PORT,
    Envelope,
    Reply,
    SmtpClientConfig,
)
from simulator.protocols.tls import ConnectionSecurity, TlsPolicy, TlsRequested
from simulator.trace import Kind
from simulator.trace_data import MailBounced, MailComposed, MailFetched, MailQueued, Note

#: Modelling assumption: how long the mail client waits for the POP3 server.
POP3_CLIENT_TIMEOUT = 300.0
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
class MuaConfig:
    """A user's mail account settings, as typed into the client."""

    address: str
    password: str
    submission_host: str  # the provider's MTA (outgoing server, port 587)
    mailbox_host: str  # the provider's MDA (incoming server, POP3 port 110)
    client: str = "Thunderbird"
    check_every: float = 300.0
    keep_on_server: bool = False
    submission_security: ConnectionSecurity = ConnectionSecurity.NONE  # 587, or 465 with TLS
    mailbox_security: ConnectionSecurity = ConnectionSecurity.NONE  # 110, or 995 with TLS


@dataclass(frozen=True, slots=True)
class Unsent:
    """A message left in the Outbox, and why."""

    message_id: str
    recipients: tuple[str, ...]
    reason: str
    session: str | None = None  # the submission session carrying it, while being sent


class Mua:
    """One user's mail client on one host."""

    def __init__(self, ctx: SimContext, host: str, config: MuaConfig) -> None:
        self.ctx = ctx
        self.host = host
        self.config = config
        self.inbox: list[bytes] = []
        self.outbox: list[Unsent] = []
        self._known_uids: set[str] = set()
        self._ids = ctx.rng(f"message-id/{config.address}")
        ctx.start(f"{config.client} {config.address}: check mail", self._check_regularly())

    def send_at(self, at: float, draft: Draft) -> None:
        """Have the user write and send `draft` at simulated time `at`."""
        self.ctx.start(f"{self.config.client} {self.config.address}: send", self._send(at, draft))

    def report_remaining(self) -> None:
        """Record every message still in the Outbox (end of the run).

        A recipient the server has already taken (its 250 to the final dot
        was on its way back) is the server's to report.
        """
        for unsent in self.outbox:
            for rcpt in unsent.recipients:
                if unsent.session and (unsent.session, rcpt) in self.ctx.handovers:
                    self.ctx.trace.emit(
                        Kind.NOTE, self.host, f"{self.config.client}: <{rcpt}>: the server has "
                        "taken it; its reply had not arrived when the run ended",
                        Note(recipient=rcpt), message=unsent.message_id,
                    )
                    continue
                self.ctx.trace.emit(
                    Kind.MAIL_QUEUED, self.host, f"still in the Outbox for <{rcpt}>",
                    MailQueued(queue_id="outbox", recipient=rcpt, reason=unsent.reason),
                    message=unsent.message_id,
                )

    def _send(self, at: float, draft: Draft) -> Generator[simpy.events.Event, Any, None]:
        yield self.ctx.env.timeout(max(0.0, at - self.ctx.env.now))
        message_id, content = self._write(draft)
        envelope = Envelope(mail_from=draft.sender,
                            rcpt_to=tuple(unique_recipients(draft.recipients)))
        sending = Unsent(message_id, envelope.rcpt_to, SENDING)
        self.outbox.append(sending)  # until the server has answered, it is ours
        security = self.config.submission_security
        implicit = security is ConnectionSecurity.TLS
        endpoint = yield from self.ctx.network.connect(
            self.host, self.config.submission_host, SMTPS_PORT if implicit else SUBMISSION_PORT
        )
        if isinstance(endpoint, ConnectError):
            self.outbox[self.outbox.index(sending)] = replace(sending, reason=endpoint.reason)
            return
        endpoint.message = message_id
        session = endpoint.connection.session
        index = self.outbox.index(sending)
        sending = self.outbox[index] = replace(sending, session=session)
        starttls = TlsPolicy.REQUIRE if security is ConnectionSecurity.STARTTLS else TlsPolicy.NONE
        smtp = SmtpClientConfig(helo_name=self.host, username=self.config.address,
                                password=self.config.password, tls=starttls)
        replies = yield from transfer(endpoint, smtp, envelope, content, implicit_tls=implicit)
        self.outbox.remove(sending)
        self.ctx.handovers.difference_update((session, rcpt) for rcpt in envelope.rcpt_to)
        self._submission_result(message_id, replies)

    def _write(self, draft: Draft) -> tuple[str, bytes]:
        """The user writes the message: a fresh Message-ID and the whole text."""
        message_id = f"<{self._ids.getrandbits(64):016x}@{domain_of(self.config.address)}>"
        content = compose(draft, date=self.ctx.clock(), message_id=message_id,
                          user_agent=self.config.client)
        self.ctx.trace.emit(
            Kind.MAIL_COMPOSED, self.host, f"{self.config.client}: new message",
            MailComposed(sender=draft.sender, recipients=tuple(draft.recipients),
                         subject=draft.subject, origin="user"),
            message=message_id,
        )
        return message_id, content

    def _submission_result(self, message_id: str, replies: dict[str, Answer]) -> None:
        """Refused recipients are reported to the user; unsent ones wait."""
        waiting = tuple(r for r, answer in replies.items() if _unsent(answer))
        if waiting:
            self.outbox.append(Unsent(message_id, waiting, _reason(replies[waiting[0]])))
        for rcpt, answer in replies.items():
            if isinstance(answer, Reply) and answer.is_permanent:
                self.ctx.trace.emit(
                    Kind.MAIL_BOUNCED, self.host, f"{self.config.client}: sending failed: {answer}",
                    MailBounced(recipient=rcpt, status=answer.enhanced or "5.0.0",
                                reply=str(answer), bounce_id=None),
                    message=message_id,
                )

    def _check_regularly(self) -> Generator[simpy.events.Event, Any, None]:
        """Check every `check_every` seconds, on a fixed beat like a client's timer."""
        env = self.ctx.env
        beat = env.now
        while True:
            beat += self.config.check_every
            yield env.timeout(max(0.0, beat - env.now))
            yield from self.check_mail()

    def check_mail(self) -> Generator[simpy.events.Event, Any, None]:
        """One POP3 session: download new messages (a SimPy sub-process)."""
        security = self.config.mailbox_security
        implicit = security is ConnectionSecurity.TLS
        endpoint = yield from self.ctx.network.connect(
            self.host, self.config.mailbox_host, POP3S_PORT if implicit else POP3_PORT
        )
        if isinstance(endpoint, ConnectError):
            return
        client = Pop3Client(Pop3ClientConfig(
            username=self.config.address, password=self.config.password,
            delete=not self.config.keep_on_server, known_uids=frozenset(self._known_uids),
            starttls=security is ConnectionSecurity.STARTTLS,
        ))
        patience = Patience(POP3_CLIENT_TIMEOUT, client.timed_out)
        tls_first = TlsRequested() if implicit else None
        yield from pump(endpoint, client, self._on_pop3_event, patience, tls_first=tls_first)

    def _on_pop3_event(self, event: object) -> None:
        if isinstance(event, MessageRetrieved):
            self.inbox.append(event.content)
            self._known_uids.add(event.uid)
            self.ctx.trace.emit(
                Kind.MAIL_FETCHED, self.host, f"{self.config.client}: new mail for "
                f"{self.config.address}",
                MailFetched(user=self.config.address, uid=event.uid,
                            subject=first_header(event.content, "Subject") or ""),
                message=first_header(event.content, "Message-ID"),
            )
        elif isinstance(event, LoginFailed):
            self.ctx.trace.emit(Kind.NOTE, self.host, f"{self.config.client}: login failed: "
                                f"{event.text}", Note(), protocol="pop3")


def _unsent(answer: Answer) -> bool:
    """Whether the message stays in the Outbox for this recipient: a 4yz, or no reply."""
    return not isinstance(answer, Reply) or answer.is_transient


def _reason(answer: Answer) -> str:
    """Why it stays there, as the Outbox shows it: the server's reply, or what happened."""
    return str(answer) if isinstance(answer, Reply) else CUT_OFF_REASONS[type(answer)]
