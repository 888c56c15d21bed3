"""What the IMAP server tells its agent: typed events, one per happening.

One of them waits for the agent's answer: `CredentialsReceived` (answer
`login(mailbox)` or `reject_login()`).  STARTTLS hands out the
`TlsRequested` of `protocols.tls`, as SMTP and POP3 do: the session layer
runs the handshake and calls `tls_established(version)`.  The others
report what a session did, for the trace; the machine has already answered
the client.
"""

from __future__ import annotations

from dataclasses import dataclass

from simulator.protocols.common import NeedData
from simulator.protocols.tls import TlsRequested


@dataclass(frozen=True)
class CredentialsReceived:
    """LOGIN or AUTHENTICATE PLAIN arrived: answer `login()` or `reject_login()`.

    `authzid` is who a SASL client asked to act as (RFC 4616 §2); the
    machine has already refused one `username` may not take.
    """

    username: str
    password: str
    authzid: str = ""


@dataclass(frozen=True)
class LoggedIn:
    """The agent accepted the credentials: the session is authenticated."""

    username: str


@dataclass(frozen=True)
class FolderSelected:
    """SELECT or EXAMINE opened a folder."""

    folder: str
    read_only: bool
    exists: int


@dataclass(frozen=True)
class MessageFetched:
    """FETCH sent something of a message; `body_read` when its text went out."""

    folder: str
    uid: int
    message_id: str | None
    body_read: bool


@dataclass(frozen=True)
class FlagsChanged:
    """STORE (or a FETCH that set ``\\Seen``) changed a message's flags."""

    folder: str
    uid: int
    flags: tuple[str, ...]


@dataclass(frozen=True)
class MessageAppended:
    """APPEND, COPY or MOVE filed a message under a new UID."""

    folder: str
    uid: int
    size: int


@dataclass(frozen=True)
class MessagesExpunged:
    """EXPUNGE, UID EXPUNGE, CLOSE or MOVE removed messages for good."""

    folder: str
    uids: tuple[int, ...]


@dataclass(frozen=True)
class IdleStarted:
    """IDLE began: the agent should call `notify()` when the mailbox changes."""

    folder: str | None


@dataclass(frozen=True)
class IdleEnded:
    """DONE ended IDLE."""


@dataclass(frozen=True)
class LoggedOut:
    """LOGOUT: "* BYE" and the tagged OK are queued; hang up after sending them."""


ImapServerEvent = (
    CredentialsReceived | TlsRequested | LoggedIn | FolderSelected | MessageFetched
    | FlagsChanged | MessageAppended | MessagesExpunged | IdleStarted | IdleEnded
    | LoggedOut | NeedData
)
