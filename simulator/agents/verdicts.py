"""What became of one recipient in one delivery attempt.

An `Outcome` is either a reply an SMTP or LMTP server really sent (reported
in a DSN as `Diagnostic-Code: smtp; ...` or `lmtp; ...`) or the MTA's own verdict when no
server answered: the name did not resolve, nobody listened, the connection
broke or timed out, the server's bytes made no sense, the mail would loop
back to this host.  Those verdicts live in one table, worded the way
Postfix logs them, and a DSN reports them with the `X-Postfix` diagnostic
type (RFC 3464 §2.3.6 allows such private types).  Which verdict a cut-off
session gets depends only on the type of the event that cut it off.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from simulator.protocols.common import (
    ConnectionBroken,
    ConnectionClosed,
    Interruption,
    RemoteProtocolError,
    TimedOut,
    TlsUnavailable,
)
from simulator.protocols.smtp import Reply
from simulator.protocols.status import status_class

#: The MTA's delivery agents to a server (Postfix master.cf services), which are
#: also the RFC 3464 diagnostic types of that server's replies in a DSN.
SMTP, LMTP = "smtp", "lmtp"


class Verdict(Enum):
    """The MTA's own words for outcomes no SMTP server replied."""

    HOST_NOT_FOUND = "host_not_found"
    CONNECT_FAILED = "connect_failed"
    LOST_CONNECTION = "lost_connection"
    TIMED_OUT = "timed_out"
    PROTOCOL_ERROR = "protocol_error"
    LOOPS_BACK = "loops_back"
    NO_PRIMARY_RELAY = "no_primary_relay"
    TLS_NOT_OFFERED = "tls_not_offered"


#: RFC 3463 status and text for each verdict, as Postfix writes them in its log.
VERDICTS: dict[Verdict, tuple[str, str]] = {
    # Postfix smtp_addr.c: dsn=5.4.4, "Host or domain name not found. ..."
    Verdict.HOST_NOT_FOUND: (
        "5.4.4",
        "Host or domain name not found. Name service error for name={name} type={qtype}: "
        "Host not found",
    ),
    # Postfix smtp_connect.c: dsn=4.4.1, "connect to host[addr]:25: Connection refused"
    Verdict.CONNECT_FAILED: ("4.4.1", "connect to {host}[{address}]:{port}: {reason}"),
    # Postfix smtp_proto.c: dsn=4.4.2, "lost connection with host[addr] ..."
    Verdict.LOST_CONNECTION: ("4.4.2", "lost connection with {host}[{address}]"),
    # Postfix smtp_trouble.c: dsn=4.4.2, "conversation with host[addr] timed out ..."
    Verdict.TIMED_OUT: ("4.4.2", "conversation with {host}[{address}] timed out"),
    # The client hangs up on a reply it cannot parse (RFC 3463 X.5.0: other
    # protocol status).  Postfix's smtp_chat.c gives such a reply 5.5.0 and may
    # bounce; here it stays transient, so another exchanger or a later try
    # can still take the mail.
    Verdict.PROTOCOL_ERROR: (
        "4.5.0", "protocol error talking to {host}[{address}]: {detail}",
    ),
    # Postfix smtp_addr.c: dsn=5.4.6, the best MX is this host itself
    Verdict.LOOPS_BACK: ("5.4.6", "mail for {domain} loops back to myself"),
    # Postfix smtp_addr.c: dsn=4.4.4, this host is a backup MX and no better
    # MX has an address to try
    Verdict.NO_PRIMARY_RELAY: ("4.4.4", "unable to find primary relay for {domain}"),
    # Postfix smtp_proto.c with smtp_tls_security_level = encrypt: dsn=4.7.4
    Verdict.TLS_NOT_OFFERED: (
        "4.7.4", "TLS is required, but was not offered by host {host}[{address}]",
    ),
}


#: The verdict on a session cut short, by the type of event that cut it.
#: Postfix (smtp_trouble.c) calls an end of input "lost connection"; a
#: broken connection reads the same to it.
INTERRUPTED: dict[type[Interruption], Verdict] = {
    ConnectionClosed: Verdict.LOST_CONNECTION,
    ConnectionBroken: Verdict.LOST_CONNECTION,
    TimedOut: Verdict.TIMED_OUT,
    RemoteProtocolError: Verdict.PROTOCOL_ERROR,
    TlsUnavailable: Verdict.TLS_NOT_OFFERED,
}


@dataclass(frozen=True, slots=True)
class Outcome:
    """One recipient's result: an RFC 3463 status and the words behind it."""

    status: str  # e.g. "2.0.0", "4.4.1", "5.1.1"
    text: str  # a server's reply as on the wire, or the MTA's verdict
    relay: str | None = None  # the host whose server answered
    from_server: bool = False
    protocol: str = SMTP  # the server's protocol: SMTP, or LMTP for the MDA

    @classmethod
    def of_reply(cls, reply: Reply, relay: str, protocol: str = SMTP) -> Outcome:
        """A reply received from the server on `relay` (an SMTP server, or an MDA's LMTP)."""
        status = reply.enhanced or f"{reply.code // 100}.0.0"
        return cls(status, str(reply), relay, from_server=True, protocol=protocol)

    @classmethod
    def of_verdict(cls, verdict: Verdict, **fields: str) -> Outcome:
        """One of the MTA's own verdicts, its template filled in."""
        status, template = VERDICTS[verdict]
        return cls(status, template.format(**fields))

    @classmethod
    def of_interruption(cls, event: Interruption, **fields: str) -> Outcome:
        """The verdict on a session that `event` cut short; `fields` name the server."""
        detail = {"detail": event.detail} if isinstance(event, RemoteProtocolError) else {}
        return cls.of_verdict(INTERRUPTED[type(event)], **fields, **detail)

    @property
    def is_success(self) -> bool:
        """2.X.X: the next hop (or the mailbox) has it."""
        return status_class(self.status) == 2

    @property
    def is_transient(self) -> bool:
        """4.X.X: keep the message and try again later."""
        return status_class(self.status) == 4

    @property
    def diagnostic_type(self) -> str:
        """The DSN Diagnostic-Code type: `smtp` or `lmtp` for a server's reply."""
        return self.protocol if self.from_server else "X-Postfix"
