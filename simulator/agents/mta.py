"""The MTA: an SMTP server on ports 25 and 587 with Postfix-like policy.

Port 25 takes mail from other MTAs for the domains this MTA serves; port
587 is the submission service (RFC 6409) where users authenticate with
AUTH PLAIN before they may send anywhere.  With TLS set up, both offer
STARTTLS (RFC 3207) and port 465 takes submission over TLS (RFC 8314).  The relay policy follows
Postfix's default: a recipient in one of our domains must exist (else
`550 5.1.1`), an authenticated user may relay, anyone else is refused with
`554 5.7.1 Relay access denied`.  Accepted mail gets a `Received:` header
and goes into the `MailQueue`, whose manager hands it to the domain's MDA
over LMTP or relays it.
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass, field
from typing import Any

import simpy

from simulator.agents.context import SimContext
from simulator.agents.mda import Mda
from simulator.agents.queue import (
    ERROR,
    Destination,
    MailQueue,
    QueuedMessage,
    RetryPolicy,
    local_message_id,
)
from simulator.agents.session import Patience, pump, serve
from simulator.agents.verdicts import LMTP, SMTP
from simulator.net.connection import Endpoint
from simulator.protocols.addresses import domain_of, is_postmaster, normalise_domain
from simulator.protocols.message import (
    add_missing_headers,
    prepend_header,
    received_count,
    trace_date,
)
from simulator.protocols.smtp import (
    SMTP_PORT,
    SMTPS_PORT,
    SUBMISSION_PORT,
    AuthReceived,
    Envelope,
    MailFromReceived,
    MessageReceived,
    RcptToReceived,
    Reply,
    SmtpReply,
    SmtpServer,
    SmtpServerConfig,
    reply,
)
from simulator.protocols.tls import FLIGHTS, ServerTls, TlsRequested, TlsVersion

#: Postfix smtpd_timeout: how long the server waits for the next command
#: (RFC 5321 §4.5.3.2.7 asks for at least 5 minutes).
SERVER_TIMEOUT = 300.0


@dataclass(frozen=True)
class MtaConfig:
    """What an MTA is told by its administrator."""

    hostname: str
    domains: frozenset[str]  # final destinations (Postfix virtual_mailbox_domains)
    software: str = "Postfix"
    hopcount_limit: int = 50  # Postfix hopcount_limit (RFC 5321 §6.3 asks >= 100)
    recipient_limit: int = 1000  # Postfix smtpd_recipient_limit: RCPTs per transaction
    # Postfix default_destination_concurrency_limit: SMTP sessions at once per destination
    destination_concurrency_limit: int = 20
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    tls: ServerTls | None = None  # None: no TLS at all (no STARTTLS, no port 465)


class Mta:
    """A mail transfer agent: accepts mail over SMTP and queues it onward."""

    def __init__(self, ctx: SimContext, config: MtaConfig) -> None:
        self.ctx = ctx
        self.config = config
        self.hostname = config.hostname
        self.mailstores: dict[str, Mda] = {}
        self.queue = MailQueue(ctx, self)
        relay_port = ctx.network.listen(self.hostname, SMTP_PORT, "smtp")
        serve(ctx, f"smtpd {self.hostname}:{SMTP_PORT}", relay_port,
              lambda endpoint: SmtpSession(self, endpoint, False).run())
        submission = ctx.network.listen(self.hostname, SUBMISSION_PORT, "smtp")
        serve(ctx, f"smtpd {self.hostname}:{SUBMISSION_PORT}", submission,
              lambda endpoint: SmtpSession(self, endpoint, True).run())
        if config.tls is not None and config.tls.implicit:  # RFC 8314 §3.3: submission over TLS
            smtps = ctx.network.listen(self.hostname, SMTPS_PORT, "smtp")
            serve(ctx, f"smtpd {self.hostname}:{SMTPS_PORT}", smtps,
                  lambda endpoint: SmtpSession(self, endpoint, True, implicit_tls=True).run())

    def attach_mailstore(self, domain: str, mda: Mda) -> None:
        """Hand mail for `domain` to `mda` over LMTP, and look its users up there.

        The lookups -- is there such a user (Postfix virtual_mailbox_maps), is
        this password right (Postfix asking Dovecot's SASL service) -- read
        the MDA's user directory directly: in real life a map file, a
        database or a socket shared by both, not a network dialogue worth
        simulating.  The mail itself goes over the network (`transport`).
        """
        self.mailstores[normalise_domain(domain)] = mda

    def transport(self, address: str) -> Destination:
        """Where mail for `address` goes: our MDA over LMTP, or relayed by MX.

        Postfix: ``virtual_transport = lmtp:inet:<mda host>:24`` for our
        domains, ``smtp:`` for the rest.
        """
        if not self.is_local(address):
            return Destination(SMTP, domain_of(address))
        mda = self.mailstore_for(address)
        return Destination(LMTP, mda.hostname) if mda is not None else Destination(ERROR, "")

    def is_local(self, address: str) -> bool:
        """Whether `address` belongs to a domain this MTA is final for."""
        return domain_of(address) in self.config.domains

    def postmaster(self) -> str:
        """The address a bare `<Postmaster>` stands for: the first domain's postmaster."""
        return f"postmaster@{min(self.config.domains, default=self.hostname)}"

    def mailstore_for(self, address: str) -> Mda | None:
        """The MDA that keeps `address`'s mailbox, if it is ours."""
        return self.mailstores.get(domain_of(address))

    def check_recipient(self, recipient: str, authenticated_user: str | None) -> Reply:
        """RCPT policy: known local user, or relay for authenticated users.

        A bare `<Postmaster>` must always be accepted (RFC 5321 §4.5.1); it
        means the postmaster of the (alphabetically) first domain served here.
        """
        if is_postmaster(recipient):
            return reply(SmtpReply.RCPT_OK)
        if self.is_local(recipient):
            mda = self.mailstore_for(recipient)
            if mda is None or not mda.has_user(recipient):
                return reply(SmtpReply.USER_UNKNOWN, rcpt=recipient)
            return reply(SmtpReply.RCPT_OK)
        if authenticated_user is not None:
            return reply(SmtpReply.RCPT_OK)
        return reply(SmtpReply.RELAY_DENIED, rcpt=recipient)

    def authenticate(self, username: str, password: str) -> bool:
        """SASL check against the mailbox server (Postfix asks Dovecot)."""
        mda = self.mailstore_for(username)
        return mda is not None and mda.authenticate(username, password)


class SmtpSession:
    """One SMTP conversation on the server side."""

    def __init__(
        self, mta: Mta, endpoint: Endpoint, submission: bool, implicit_tls: bool = False
    ) -> None:
        self.mta = mta
        self.endpoint = endpoint
        self.submission = submission
        tls = mta.config.tls
        starttls = tls is not None and tls.starttls
        # a real client (mailsim serve) on loopback may log in in clear, as Dovecot
        # lets local clients (its TLS, when it asks, is real: see `bridge`)
        auth_only = tls is not None and tls.require_for_auth and not endpoint.connection.real
        self.server = SmtpServer(
            SmtpServerConfig(
                hostname=mta.hostname,
                software=mta.config.software,
                offer_auth=submission,
                auth_required=submission,
                max_recipients=mta.config.recipient_limit,
                starttls=starttls,
                tls_version=tls.version if tls is not None else TlsVersion.TLS1_3,
                tls_auth_only=submission and auth_only,
            )
        )
        self.tls_first = TlsRequested(self.server.config.tls_version) if implicit_tls else None

    def run(self) -> Generator[simpy.events.Event, Any, None]:
        """Greet, then answer commands until the client leaves."""
        self.server.greet()
        patience = Patience(SERVER_TIMEOUT, self.on_timeout)
        yield from pump(self.endpoint, self.server, self.on_event, patience, self.reply_delay,
                        tls_first=self.tls_first)

    def on_event(self, event: object) -> None:
        """Answer the decisions the SMTP machine asks for."""
        if isinstance(event, MailFromReceived):
            self.server.respond(reply(SmtpReply.MAIL_OK))
        elif isinstance(event, RcptToReceived):
            user = self.server.authenticated_user
            self.server.respond(self.mta.check_recipient(event.forward_path, user))
        elif isinstance(event, AuthReceived):
            ok = self.mta.authenticate(event.username, event.password)
            self.server.respond(reply(SmtpReply.AUTH_OK if ok else SmtpReply.AUTH_FAILED))
        elif isinstance(event, MessageReceived):
            self.server.respond(self.accept_message(event))

    def reply_delay(self) -> float:
        """Seconds to wait before the queued replies go out (Postfix smtpd_error_sleep_time)."""
        return self.server.reply_delay

    def on_timeout(self) -> None:
        """The client fell silent: say goodbye with a 421 (Postfix smtpd)."""
        self.server.close(reply(SmtpReply.TIMEOUT, hostname=self.mta.hostname))

    def accept_message(self, event: MessageReceived) -> Reply:
        """Stamp, queue and acknowledge a received message."""
        content = event.content
        if received_count(content) >= self.mta.config.hopcount_limit:
            return reply(SmtpReply.HOP_LIMIT)
        queue = self.mta.queue
        queue_id = queue.new_queue_id()
        if self.submission:
            content = self.complete_headers(content, event.envelope.mail_from, queue_id)
        content = prepend_header(content, "Received", self.received_value(event, queue_id))
        envelope = event.envelope
        rcpts = tuple(self.mta.postmaster() if is_postmaster(r) else r
                      for r in envelope.rcpt_to)
        envelope = Envelope(mail_from=envelope.mail_from, rcpt_to=rcpts)
        queue.enqueue(QueuedMessage.arrived(queue_id, envelope, content, self.mta.ctx.env.now))
        # From this 250 on the message is ours (RFC 5321 §6.1), whether or not
        # the client reads the reply before the run ends.
        session = self.endpoint.connection.session
        self.mta.ctx.handovers.update((session, rcpt) for rcpt in event.envelope.rcpt_to)
        return reply(SmtpReply.QUEUED, queue_id=queue_id)

    def complete_headers(self, content: bytes, sender: str, queue_id: str) -> bytes:
        """Add Date, Message-ID and From if the MUA left them out (RFC 6409 §8)."""
        now = self.mta.ctx.clock()
        message_id = local_message_id(now, queue_id, self.mta.hostname)
        return add_missing_headers(content, date=now, message_id=message_id, sender=sender)

    def received_value(self, event: MessageReceived, queue_id: str) -> str:
        """A Postfix-style `Received:` header (RFC 5321 §4.4)."""
        client, address = self.endpoint.peer_host, self.endpoint.peer_address
        if ":" in address:
            address = f"IPv6:{address}"  # RFC 5321 §4.1.3 address literal
        protocol = "ESMTP" if self.server.esmtp else "SMTP"
        using = ""
        if self.server.tls is not None:  # RFC 3848 ESMTPS; Postfix's "(using ...)" comment
            protocol += "S"
            suite = FLIGHTS[self.server.tls]
            using = (f"(using {self.server.tls.value} with cipher {suite.cipher} "
                     f"({suite.bits}/{suite.bits} bits))\n")
        if self.server.authenticated_user:
            protocol += "A"  # RFC 3848: authenticated ESMTP
        rcpts = event.envelope.rcpt_to
        target = f"\nfor <{rcpts[0]}>" if len(rcpts) == 1 else ""
        date = trace_date(self.mta.ctx.clock())
        # Postfix names the client by its HELO, or by its host name when it sent none.
        helo = self.server.helo_name or client
        return (
            f"from {helo} ({client} [{address}])\n{using}"
            f"by {self.mta.hostname} ({self.mta.config.software}) with {protocol} id {queue_id}"
            f"{target}; {date}"
        )
