"""What the IMAP client tells its agent: one frozen dataclass per happening.

The agent turns each into a trace record and decides what to do next
(`ImapClient.perform`, `stop_idle`).  When STARTTLS got its OK the
client hands out `protocols.tls.TlsRequested`, as the SMTP and POP3
clients do, and waits for `tls_established(version)`.  A session that no
server line ends ends instead with an interruption of `protocols.common`
(`ConnectionClosed`, `TimedOut`, `ConnectionBroken`, `RemoteProtocolError`).
Codes are response-code names (RFC 9051 §7.1) for decisions; texts are for
people.
"""

from __future__ import annotations

from dataclasses import dataclass

from simulator.protocols.tls import TlsRequested


@dataclass(frozen=True)
class Greeted:
    """The server's greeting (§7.1.1), with the capabilities it carried, if any."""

    text: str
    capabilities: frozenset[str]


@dataclass(frozen=True)
class NoSafeLogin:
    """The client will not log in and logs out: STARTTLS or the mechanism is missing,
    or the server says LOGINDISABLED (§6.2.3).  `reason` is in the client's words."""

    reason: str


@dataclass(frozen=True)
class LoggedIn:
    """LOGIN or AUTHENTICATE succeeded; the capabilities now known."""

    text: str
    capabilities: frozenset[str]


@dataclass(frozen=True)
class LoginFailed:
    """LOGIN or AUTHENTICATE was refused; `code` such as AUTHENTICATIONFAILED."""

    text: str
    code: str | None


@dataclass(frozen=True)
class FolderSelected:
    """SELECT or EXAMINE succeeded (§6.3.2): the folder's size, UIDVALIDITY, UIDNEXT."""

    folder: str
    exists: int
    uidvalidity: int | None
    uidnext: int | None
    flags: tuple[str, ...]
    read_only: bool


@dataclass(frozen=True)
class SearchResult:
    """The UIDs a UID SEARCH found (RFC 3501 §7.2.5 SEARCH or RFC 9051 §7.3.4 ESEARCH)."""

    uids: tuple[int, ...]


@dataclass(frozen=True)
class HeadersFetched:
    """One message's header, flags and size, for a message list (BODY.PEEK[HEADER])."""

    uid: int
    flags: tuple[str, ...] | None
    size: int | None
    header: bytes


@dataclass(frozen=True)
class MessageFetched:
    """One whole message (BODY[]), with its flags when the server sent them along."""

    uid: int
    content: bytes
    flags: tuple[str, ...] | None


@dataclass(frozen=True)
class FlagsChanged:
    """A message's flags as they now are: after STORE, or pushed (§7.5.2)."""

    number: int
    uid: int | None
    flags: tuple[str, ...]


@dataclass(frozen=True)
class NewMail:
    """EXISTS grew outside SELECT -- during IDLE, NOOP or any command (§7.4.1)."""

    exists: int


@dataclass(frozen=True)
class Expunged:
    """The message with this sequence number is gone; later ones move down (§7.5.1)."""

    number: int


@dataclass(frozen=True)
class MessagesMoved:
    """UID MOVE succeeded; `new_uids` in the target folder when COPYUID said (§6.4.8)."""

    folder: str
    uids: tuple[int, ...]
    new_uids: tuple[int, ...]


@dataclass(frozen=True)
class MessageAppended:
    """APPEND succeeded; UIDVALIDITY and UID when the server sent APPENDUID (§7.1)."""

    folder: str
    uidvalidity: int | None
    uid: int | None


@dataclass(frozen=True)
class FolderListed:
    """One LIST response (§7.3.1): a folder, its attributes and hierarchy delimiter."""

    name: str
    attributes: tuple[str, ...]
    delimiter: str | None


@dataclass(frozen=True)
class FolderStatus:
    """One STATUS response (§7.3.3): (item, number) pairs such as ("UNSEEN", 2)."""

    folder: str
    items: tuple[tuple[str, int], ...]


@dataclass(frozen=True)
class CommandRefused:
    """A command got NO or BAD (§7.1.2, §7.1.3); `code` such as OVERQUOTA, TRYCREATE."""

    tag: str
    command: str
    condition: str
    code: str | None
    text: str


@dataclass(frozen=True)
class Ready:
    """The plan is done and nothing is in flight: the agent may `perform()` more."""


@dataclass(frozen=True)
class SessionClosed:
    """The server ended the session: BYE then OK to LOGOUT, or BYE on its own (§7.1.5).

    `ok` only after a LOGOUT the client chose; `text` is the BYE (or the
    reason the client gave up).
    """

    ok: bool
    text: str


ClientEvent = (
    Greeted | TlsRequested | NoSafeLogin | LoggedIn | LoginFailed | FolderSelected
    | SearchResult | HeadersFetched | MessageFetched | FlagsChanged | NewMail | Expunged
    | MessagesMoved | MessageAppended | FolderListed | FolderStatus | CommandRefused | Ready
    | SessionClosed
)
