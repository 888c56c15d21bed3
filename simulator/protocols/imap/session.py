"""What one IMAP session knows once logged in, shared by the command modules.

The server engine (`server.py`) reads commands and moves along the
transition table; the commands themselves (`mailboxes.py`, `selected.py`)
are functions of a `Session`: the mailbox the agent handed over, the
selected folder's `FolderView`, what the client has ENABLEd, and the queue
of untagged lines and events.  A command returns a `Completion` (its tagged
reply) or raises `CommandFailed` (NO or BAD).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from simulator.protocols.common import MESSAGE_SIZE_LIMIT
from simulator.protocols.imap.events import ImapServerEvent
from simulator.protocols.imap.replies import CommandFailed, ImapReply
from simulator.protocols.imap.store import ImapFolder, ImapMailbox
from simulator.protocols.imap.view import FolderView
from simulator.protocols.imap.wire import Atom, String, Token
from simulator.protocols.tls import TlsVersion

#: Dovecot imap_max_line_length: a command's octets, literals included,
#: APPEND's message literal excepted.
MAX_LINE_LENGTH = 64 * 1024


@dataclass(frozen=True)
class ImapServerConfig:
    """What an IMAP server says about itself, and its limits (Dovecot's defaults)."""

    hostname: str
    software: str = "Dovecot"
    #: Simulated time 0 as a date, for INTERNALDATE and SEARCH dates.
    epoch: datetime = datetime(2026, 3, 2, 9, 0, 0, tzinfo=UTC)
    #: The simulated time now, in seconds: APPEND's default INTERNALDATE.
    clock: Callable[[], float] = lambda: 0.0
    #: Whether STARTTLS is offered (a certificate is configured).
    tls_available: bool = False
    #: The version the server's ServerHello chooses (Dovecot ssl_min_protocol allowing).
    tls_version: TlsVersion = TlsVersion.TLS1_3
    #: Dovecot disable_plaintext_auth=yes: LOGINDISABLED until TLS (RFC 9051 §6.2.3).
    require_tls: bool = False
    #: RFC 9051 §5.4: the autologout timer is at least 30 minutes (Dovecot: 30).
    autologout: float = 30 * 60.0
    max_line_length: int = MAX_LINE_LENGTH
    #: What an MTA would not take in, APPEND does not either (RFC 7889 APPENDLIMIT;
    #: Dovecot's mail_max_size).
    append_limit: int = MESSAGE_SIZE_LIMIT
    #: imap-login CLIENT_MAX_BAD_COMMANDS (3) and imap CLIENT_MAX_BAD_COMMANDS (20).
    login_max_bad_commands: int = 3
    max_bad_commands: int = 20
    #: RFC 4616 §2: (authcid, authzid) pairs allowed to act as someone else.
    sasl_act_as: frozenset[tuple[str, str]] = frozenset()


@dataclass(frozen=True)
class Completion:
    """A command's tagged reply and the fields its text needs."""

    reply: ImapReply
    fields: dict[str, object] = field(default_factory=dict)


def done(reply: ImapReply, **fields: object) -> Completion:
    """The tagged reply that ends a command."""
    return Completion(reply, fields)


class Session:
    """A logged-in session's state, handed to every command function."""

    def __init__(self, config: ImapServerConfig) -> None:
        self.config = config
        self.mailbox: ImapMailbox | None = None
        self.view: FolderView | None = None
        self.rev2 = False  # ENABLE IMAP4rev2 (RFC 9051 §6.3.1)
        self.out = bytearray()
        self.events: deque[ImapServerEvent] = deque()
        self.mailbox_gone = False  # the selected folder was deleted or renamed

    @property
    def store(self) -> ImapMailbox:
        """The logged-in user's mailbox."""
        if self.mailbox is None:
            raise RuntimeError("no mailbox: the session is not logged in")
        return self.mailbox

    @property
    def selected(self) -> FolderView:
        """The selected folder's view."""
        if self.view is None:
            raise CommandFailed(ImapReply.NO_MAILBOX_SELECTED)
        return self.view

    def send(self, line: bytes) -> None:
        """Queue an untagged line (with its CRLF) for the client."""
        self.out += line

    def folder(self, name: str) -> ImapFolder:
        """The folder called `name`, or NO [NONEXISTENT]."""
        found = self.store.folder(name)
        if found is None:
            raise CommandFailed(ImapReply.NONEXISTENT, name=name)
        return found

    def sync(self, expunge_allowed: bool) -> None:
        """Tell the client what changed in its selected folder (see `view`)."""
        view = self.view
        if view is None or self.mailbox_gone:
            return
        if self.store.folder(view.folder.name) is not view.folder:
            self.mailbox_gone = True  # Dovecot disconnects such a session
            return
        for line in view.sync(expunge_allowed):
            self.send(line)


def mailbox_name(token: Token) -> str:
    """A mailbox argument (RFC 9051 §9 mailbox: astring) as text."""
    if isinstance(token, Atom):
        return token.value
    if isinstance(token, String):
        return token.text()
    raise CommandFailed(ImapReply.BAD_ARGUMENTS, detail="Invalid arguments.")


def bad(detail: str = "Invalid arguments.") -> CommandFailed:
    """BAD Error in IMAP command X: detail (the engine fills in X)."""
    return CommandFailed(ImapReply.BAD_ARGUMENTS, detail=detail)
