"""Values exchanged with SMTP agents: the envelope and the events.

Server events are decisions the agent must answer with `SmtpServer.respond`;
client events report what the far server said, or what cut the session
short when it said nothing more (the interruptions of `protocols.common`).
"""

from __future__ import annotations

from dataclasses import dataclass

from simulator.protocols.common import Interruption
from simulator.protocols.smtp.replies import Reply


@dataclass(frozen=True)
class Envelope:
    """The SMTP envelope (RFC 5321 §2.3.1): reverse-path and forward-paths.

    Addresses carry no "<>"; `mail_from == ""` is the null sender.
    """

    mail_from: str
    rcpt_to: tuple[str, ...]


# ---- server side: decisions for the agent ----


@dataclass(frozen=True)
class MailFromReceived:
    """MAIL FROM arrived; answer with e.g. MAIL_OK."""

    reverse_path: str
    size: int | None


@dataclass(frozen=True)
class RcptToReceived:
    """RCPT TO arrived; answer with RCPT_OK, USER_UNKNOWN, RELAY_DENIED..."""

    forward_path: str


@dataclass(frozen=True)
class MessageReceived:
    """The final dot arrived; answer with QUEUED or an error.

    `content` is CRLF lines, dot-unstuffed, without the final ".CRLF".
    """

    envelope: Envelope
    content: bytes


@dataclass(frozen=True)
class AuthReceived:
    """Decoded AUTH credentials (RFC 4954); answer AUTH_OK or AUTH_FAILED."""

    mechanism: str
    authzid: str
    username: str
    password: str


ServerEvent = MailFromReceived | RcptToReceived | MessageReceived | AuthReceived


# ---- client side: what happened to the caller's transactions ----


@dataclass(frozen=True)
class RecipientResult:
    """The server's reply to RCPT TO for one recipient of transaction `index`."""

    index: int
    recipient: str
    reply: Reply


@dataclass(frozen=True)
class TransactionResult:
    """The final word on transaction `index`.

    `outcome` is the reply to the final dot, or the reply that ended the
    transaction early -- or, when no reply came, what cut the session short
    (`ConnectionClosed`, `TimedOut`, `ConnectionBroken`,
    `RemoteProtocolError`).  `accepted` lists the recipients whose RCPT got
    a 2yz reply.
    """

    index: int
    envelope: Envelope
    outcome: Reply | Interruption
    accepted: tuple[str, ...]


@dataclass(frozen=True)
class DeliveryResult:
    """LMTP only: the reply to the final dot for one accepted recipient (RFC 2033 §4.2)."""

    index: int
    recipient: str
    reply: Reply


@dataclass(frozen=True)
class SessionClosed:
    """The server ended the session with `reply`: the answer to QUIT, or a 421."""

    reply: Reply


#: What the client hands out.  A session ends with `SessionClosed`, or with
#: the interruption itself when no reply ended it.
ClientEvent = RecipientResult | DeliveryResult | TransactionResult | SessionClosed | Interruption
