"""The POP3 server side: one session from greeting to sign-off (RFC 1939)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import Enum

from simulator.protocols.common import NEED_DATA, LineBuffer, LineTooLong, NeedData, stuff_lines
from simulator.protocols.pop3.maildrop import CommandError, MaildropEntry, SessionMaildrop
from simulator.protocols.pop3.replies import (
    CAPABILITIES_AUTHORIZATION,
    CAPABILITIES_TRANSACTION,
    Pop3Reply,
    reply_line,
)
from simulator.protocols.pop3.wire import (
    MAX_COMMAND_LINE,
    Verb,
    parse_number,
    parse_verb,
    printable,
)


class Pop3State(Enum):
    """Session states of RFC 1939 §3, plus CLOSED once the session is over."""

    AUTHORIZATION = "AUTHORIZATION"
    TRANSACTION = "TRANSACTION"
    UPDATE = "UPDATE"
    CLOSED = "CLOSED"


_A, _T = Pop3State.AUTHORIZATION, Pop3State.TRANSACTION

# The verbs each state accepts and the state each one leads to (RFC 1939 §4-7).
# PASS reaches TRANSACTION only when the agent accepts it with `login()`.
# UPDATE accepts nothing: the server leaves it for CLOSED on its own.
TRANSITIONS: dict[Pop3State, dict[Verb, Pop3State]] = {
    Pop3State.AUTHORIZATION: {
        Verb.USER: _A,
        Verb.PASS: _T,
        Verb.APOP: _A,
        Verb.CAPA: _A,
        Verb.QUIT: Pop3State.CLOSED,  # RFC 1939 §4: QUIT here skips UPDATE
    },
    Pop3State.TRANSACTION: {
        Verb.STAT: _T,
        Verb.LIST: _T,
        Verb.RETR: _T,
        Verb.DELE: _T,
        Verb.NOOP: _T,
        Verb.RSET: _T,
        Verb.TOP: _T,
        Verb.UIDL: _T,
        Verb.CAPA: _T,
        Verb.QUIT: Pop3State.UPDATE,  # RFC 1939 §6
    },
    Pop3State.UPDATE: {},
    Pop3State.CLOSED: {},
}

# Verbs whose transition waits for a decision by the agent.
DECIDED_BY_AGENT = frozenset({Verb.PASS})

# (fewest, most) arguments per verb, RFC 1939 §5-7; None = no upper limit.
# USER and PASS take the rest of the line as one argument (RFC 1939 §7).
ARITY: dict[Verb, tuple[int, int | None]] = {
    Verb.USER: (1, None),
    Verb.PASS: (1, None),
    Verb.APOP: (0, None),
    Verb.CAPA: (0, 0),
    Verb.STAT: (0, 0),
    Verb.LIST: (0, 1),
    Verb.RETR: (1, 1),
    Verb.DELE: (1, 1),
    Verb.NOOP: (0, 0),
    Verb.RSET: (0, 0),
    Verb.TOP: (2, 2),
    Verb.UIDL: (0, 1),
    Verb.QUIT: (0, 0),
}


@dataclass(frozen=True)
class Pop3ServerConfig:
    """What a POP3 server says about itself."""

    hostname: str
    software: str = "Dovecot"


@dataclass(frozen=True)
class CredentialsReceived:
    """USER and PASS arrived: answer with `login()` or `reject_login()`."""

    username: str
    password: str


@dataclass(frozen=True)
class UpdateRequested:
    """QUIT in TRANSACTION: remove these messages now (RFC 1939 §6)."""

    deleted_uids: tuple[str, ...]


_AgentEvent = CredentialsReceived | UpdateRequested
Pop3ServerEvent = CredentialsReceived | UpdateRequested | NeedData
_Handler = Callable[[bytes], _AgentEvent | None]


class Pop3Server:
    """A sans-I/O POP3 server session; the agent decides logins and deletions."""

    def __init__(self, config: Pop3ServerConfig) -> None:
        self.config = config
        self.state = Pop3State.AUTHORIZATION
        self.username: str | None = None
        self._lines = LineBuffer(MAX_COMMAND_LINE)
        self._outbox = bytearray()
        self._candidate: str | None = None  # USER given, PASS awaited
        self._pending: CredentialsReceived | None = None
        self._maildrop = SessionMaildrop(())
        self._handlers: dict[Verb, _Handler] = {
            Verb.USER: self._user,
            Verb.PASS: self._pass,
            Verb.APOP: self._apop,
            Verb.CAPA: self._capa,
            Verb.STAT: self._stat,
            Verb.LIST: self._list,
            Verb.UIDL: self._uidl,
            Verb.RETR: self._retr,
            Verb.TOP: self._top,
            Verb.DELE: self._dele,
            Verb.RSET: self._rset,
            Verb.NOOP: self._noop,
            Verb.QUIT: self._quit,
        }

    @property
    def closed(self) -> bool:
        """True once no further command will be read; send what is left, then hang up."""
        return self.state in (Pop3State.UPDATE, Pop3State.CLOSED)

    # -- the agent's side -------------------------------------------------

    def greet(self) -> None:
        """Queue the greeting that opens the AUTHORIZATION state (RFC 1939 §4)."""
        self._reply(Pop3Reply.GREETING, software=self.config.software)

    def receive_data(self, data: bytes) -> None:
        """Take bytes from the client; ignored once the session is over."""
        if not self.closed:
            self._lines.feed(data)

    def next_event(self) -> Pop3ServerEvent:
        """Answer buffered commands until one needs the agent, or more data."""
        if self._pending is not None:
            raise RuntimeError("answer CredentialsReceived with login() or reject_login() first")
        if self.state is Pop3State.UPDATE:
            self.state = Pop3State.CLOSED
        while not self.closed:
            line = self._lines.next_line()
            if line is None:
                return NEED_DATA
            event = self._handle_line(line)
            if event is not None:
                return event
        return NEED_DATA

    def login(self, maildrop: Sequence[MaildropEntry]) -> None:
        """Accept the credentials; messages are numbered 1..n from this snapshot."""
        session_maildrop = SessionMaildrop(maildrop)  # may raise ValueError: bad snapshot
        credentials = self._take_pending()
        self._maildrop = session_maildrop
        self.username = credentials.username
        self.state = TRANSITIONS[Pop3State.AUTHORIZATION][Verb.PASS]
        self._reply(Pop3Reply.LOGGED_IN)

    def reject_login(self, in_use: bool = False, reply: Pop3Reply | None = None) -> None:
        """Refuse the credentials with [AUTH], [IN-USE] or `reply`; stay in AUTHORIZATION."""
        self._take_pending()
        self._candidate = None
        default = Pop3Reply.IN_USE if in_use else Pop3Reply.AUTH_FAILED
        self._reply(reply or default)

    def close(self, reply: Pop3Reply | None = Pop3Reply.AUTOLOGOUT) -> None:
        """End the session without UPDATE: nothing is deleted (RFC 1939 §6)."""
        if not self.closed and reply is not None:
            self._reply(reply)
        self._pending = None
        self.state = Pop3State.CLOSED

    def data_to_send(self) -> bytes:
        """The bytes queued for the client since the last call."""
        data = bytes(self._outbox)
        self._outbox.clear()
        return data

    # -- the engine -------------------------------------------------------

    def _take_pending(self) -> CredentialsReceived:
        if self._pending is None:
            raise RuntimeError("no CredentialsReceived is waiting for an answer")
        pending, self._pending = self._pending, None
        return pending

    def _reply(self, reply: Pop3Reply, body: bytes = b"", **fields: object) -> None:
        self._outbox += reply_line(reply, **fields) + body

    def _handle_line(self, line: bytes | LineTooLong) -> _AgentEvent | None:
        if isinstance(line, LineTooLong):
            self._reply(Pop3Reply.LINE_TOO_LONG)
            return None
        word, _, rest = line.partition(b" ")
        verb = parse_verb(word)
        if verb is None:
            self._reply(Pop3Reply.UNKNOWN_COMMAND, verb=printable(word))
            return None
        if verb not in TRANSITIONS[self.state]:
            self._reply(Pop3Reply.WRONG_STATE, verb=verb.value, state=self.state.value)
            return None
        return self._dispatch(verb, rest)

    def _dispatch(self, verb: Verb, rest: bytes) -> _AgentEvent | None:
        before = self.state
        try:
            self._check_arity(verb, rest)
            event = self._handlers[verb](rest)
        except CommandError as error:
            self._reply(error.reply, **error.fields)
            return None
        if verb not in DECIDED_BY_AGENT:
            self.state = TRANSITIONS[before][verb]
        return event

    @staticmethod
    def _check_arity(verb: Verb, rest: bytes) -> None:
        fewest, most = ARITY[verb]
        count = len(_args(rest))
        if count < fewest:
            raise CommandError(Pop3Reply.MISSING_ARGUMENT, verb=verb.value)
        if most is not None and count > most:
            raise CommandError(Pop3Reply.TOO_MANY_ARGUMENTS, verb=verb.value)

    # -- AUTHORIZATION commands (RFC 1939 §4, §7) ---------------------------

    def _user(self, rest: bytes) -> None:
        self._candidate = rest.decode("utf-8", "replace")
        self._reply(Pop3Reply.OK)

    def _pass(self, rest: bytes) -> CredentialsReceived:
        if self._candidate is None:
            raise CommandError(Pop3Reply.NO_USERNAME)
        # RFC 1939 §7: the whole rest of the line is the password, spaces included.
        self._pending = CredentialsReceived(self._candidate, rest.decode("utf-8", "replace"))
        return self._pending

    def _apop(self, rest: bytes) -> None:
        # RFC 1939 §7: no timestamp in our greeting, so no APOP.
        raise CommandError(Pop3Reply.APOP_UNSUPPORTED)

    def _capa(self, rest: bytes) -> None:
        authorizing = self.state is Pop3State.AUTHORIZATION
        names = CAPABILITIES_AUTHORIZATION if authorizing else CAPABILITIES_TRANSACTION
        # RFC 2449 §5: the capability list is a multi-line response
        self._reply(Pop3Reply.OK, stuff_lines(name.encode("ascii") for name in names))

    def _quit(self, rest: bytes) -> UpdateRequested | None:
        if self.state is Pop3State.AUTHORIZATION:
            self._reply(Pop3Reply.LOGOUT)
            return None
        deleted = self._maildrop.deleted_uids()
        self._reply(Pop3Reply.LOGOUT_DELETED if deleted else Pop3Reply.LOGOUT)
        return UpdateRequested(deleted)

    # -- TRANSACTION commands (RFC 1939 §5, §7) -----------------------------

    def _stat(self, rest: bytes) -> None:
        drop = self._maildrop
        self._reply(Pop3Reply.STAT, count=len(drop.live_numbers()), size=drop.total_size())

    def _list(self, rest: bytes) -> None:
        drop = self._maildrop
        if rest.split():
            number = drop.resolve(_args(rest)[0])
            self._reply(Pop3Reply.SCAN_LISTING, number=number, size=drop.size(number))
            return
        numbers = drop.live_numbers()
        body = stuff_lines(b"%d %d" % (n, drop.size(n)) for n in numbers)
        self._reply(Pop3Reply.LIST_ALL, body, count=len(numbers))

    def _uidl(self, rest: bytes) -> None:
        drop = self._maildrop
        if rest.split():
            number = drop.resolve(_args(rest)[0])
            self._reply(Pop3Reply.UIDL_ONE, number=number, uid=drop.uid(number))
            return
        body = stuff_lines(f"{n} {drop.uid(n)}".encode("ascii") for n in drop.live_numbers())
        self._reply(Pop3Reply.OK, body)

    def _retr(self, rest: bytes) -> None:
        number = self._maildrop.resolve(_args(rest)[0])
        body = stuff_lines(self._maildrop.lines(number))
        self._reply(Pop3Reply.RETR, body, size=self._maildrop.size(number))

    def _top(self, rest: bytes) -> None:
        number_arg, count_arg = _args(rest)
        number = self._maildrop.resolve(number_arg)
        count = parse_number(count_arg)
        if count is None:
            raise CommandError(Pop3Reply.INVALID_LINES, arg=printable(count_arg))
        self._reply(Pop3Reply.OK, stuff_lines(_head(self._maildrop.lines(number), count)))

    def _dele(self, rest: bytes) -> None:
        self._maildrop.mark_deleted(self._maildrop.resolve(_args(rest)[0]))
        self._reply(Pop3Reply.DELETED)

    def _rset(self, rest: bytes) -> None:
        self._maildrop.unmark_all()
        self._reply(Pop3Reply.OK)

    def _noop(self, rest: bytes) -> None:
        self._reply(Pop3Reply.OK)


def _args(rest: bytes) -> list[str]:
    """The blank-separated arguments of a command, as text (RFC 1939 §3)."""
    return [word.decode("ascii", "replace") for word in rest.split()]


def _head(lines: list[bytes], body_lines: int) -> list[bytes]:
    """TOP: the header, the blank line, then `body_lines` body lines (RFC 1939 §7)."""
    if b"" not in lines:
        return lines
    blank = lines.index(b"")
    return lines[: blank + 1 + body_lines]
