"""The POP3 client side: log in, fetch new mail, maybe delete it, sign off.

The client runs its dialogue by itself along `CLIENT_TRANSITIONS`: each
reply it awaited is read as an `Outcome`, and `_advance` -- the one place
the state changes -- follows the table and sends the new state's command
from `COMMANDS`.  When no reply will come (the server closed, the caller
timed out, the connection broke, the server's bytes made no sense) the
session ends with that event, never with a line the server did not send.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from enum import Enum

from simulator.protocols.common import (
    CRLF,
    NEED_DATA,
    TERMINATOR,
    ClientEnding,
    ConnectionClosed,
    Interruption,
    Line,
    LineBuffer,
    LineTooLong,
    NeedData,
    RemoteProtocolError,
    unstuff_line,
)
from simulator.protocols.pop3.replies import ClientNote
from simulator.protocols.pop3.wire import (
    BODY_PIECE,
    ERR,
    MAX_STATUS_LINE,
    Verb,
    parse_number,
    printable,
    status_of,
)
from simulator.protocols.tls import TlsRequested, TlsVersion


class Pop3ClientState(Enum):
    """The reply the client is waiting for; it sends one command at a time."""

    GREETING = "GREETING"
    STLS = "STLS"  # RFC 2595 §4
    TLS_HANDSHAKE = "TLS_HANDSHAKE"  # +OK to STLS: the session layer's handshake
    USER = "USER"
    PASS = "PASS"
    STAT = "STAT"
    UIDL = "UIDL"
    RETR = "RETR"
    DELE = "DELE"
    QUIT = "QUIT"
    CLOSED = "CLOSED"


class Outcome(Enum):
    """How a reply came out, as far as the client's next step is concerned."""

    OK = "+OK"
    ERR = "-ERR"
    OK_FETCH = "+OK, a new message is left to fetch"
    OK_DELETE = "+OK, and the message just fetched is to be deleted"
    OK_DONE = "+OK, nothing left to fetch"
    OK_TLS = "+OK, STLS wanted first"
    TLS_ESTABLISHED = "handshake done"
    CUT_OFF = "cut off"  # no reply will come: closed, timed out, broken, garbled


_S = Pop3ClientState

_CUT = Outcome.CUT_OFF
# State → outcome of the awaited reply → next state.  Entering a state sends
# its command.  Any -ERR after the greeting leads to QUIT, which deletes
# nothing that was not marked (RFC 1939 §6).  A malformed reply, the end of
# input, a timeout or a broken connection ends the session from any state
# without a QUIT (and so without UPDATE).
CLIENT_TRANSITIONS: dict[Pop3ClientState, dict[Outcome, Pop3ClientState]] = {
    _S.GREETING: {  # RFC 1939 §4
        Outcome.OK: _S.USER, Outcome.OK_TLS: _S.STLS, Outcome.ERR: _S.CLOSED, _CUT: _S.CLOSED,
    },
    _S.STLS: {Outcome.OK: _S.TLS_HANDSHAKE, Outcome.ERR: _S.QUIT, _CUT: _S.CLOSED},
    _S.TLS_HANDSHAKE: {Outcome.TLS_ESTABLISHED: _S.USER, _CUT: _S.CLOSED},  # RFC 2595 §4
    _S.USER: {Outcome.OK: _S.PASS, Outcome.ERR: _S.QUIT, _CUT: _S.CLOSED},  # RFC 1939 §7
    _S.PASS: {Outcome.OK: _S.STAT, Outcome.ERR: _S.QUIT, _CUT: _S.CLOSED},
    _S.STAT: {Outcome.OK: _S.UIDL, Outcome.ERR: _S.QUIT, _CUT: _S.CLOSED},  # RFC 1939 §5
    _S.UIDL: {
        Outcome.OK_FETCH: _S.RETR, Outcome.OK_DONE: _S.QUIT, Outcome.ERR: _S.QUIT,
        _CUT: _S.CLOSED,
    },
    _S.RETR: {
        Outcome.OK_DELETE: _S.DELE, Outcome.OK_FETCH: _S.RETR, Outcome.OK_DONE: _S.QUIT,
        Outcome.ERR: _S.QUIT, _CUT: _S.CLOSED,
    },
    _S.DELE: {
        Outcome.OK_FETCH: _S.RETR, Outcome.OK_DONE: _S.QUIT, Outcome.ERR: _S.QUIT,
        _CUT: _S.CLOSED,
    },
    _S.QUIT: {Outcome.OK: _S.CLOSED, Outcome.ERR: _S.CLOSED, _CUT: _S.CLOSED},  # RFC 1939 §6
    _S.CLOSED: {},
}  # fmt: skip

# The command each state sends on entry.
COMMANDS: dict[Pop3ClientState, Verb] = {
    _S.STLS: Verb.STLS,
    _S.USER: Verb.USER,
    _S.PASS: Verb.PASS,
    _S.STAT: Verb.STAT,
    _S.UIDL: Verb.UIDL,
    _S.RETR: Verb.RETR,
    _S.DELE: Verb.DELE,
    _S.QUIT: Verb.QUIT,
}

# States whose +OK opens a multi-line response (RFC 1939 §3).
MULTI_LINE = frozenset({_S.UIDL, _S.RETR})


@dataclass(frozen=True)
class Pop3ClientConfig:
    """Who logs in and what the client does with the mail it fetches."""

    username: str
    password: str
    delete: bool = True  # DELE after RETR; False = "leave messages on server"
    known_uids: frozenset[str] = field(default_factory=frozenset)  # fetched before
    starttls: bool = False  # STLS before logging in (RFC 2595), or no login at all


@dataclass(frozen=True)
class LoginFailed:
    """USER or PASS was refused; `text` is the server's -ERR line."""

    text: str


@dataclass(frozen=True)
class MessageRetrieved:
    """A message arrived: un-stuffed CRLF lines, without the final "."."""

    number: int
    uid: str
    content: bytes


@dataclass(frozen=True)
class SessionClosed:
    """The server ended the session; `ok` only when every step and QUIT succeeded.

    `text` is the server's line: the answer to QUIT, or the -ERR that cut
    the session short.  A session no server line ended ends instead with
    the interruption (`ConnectionClosed`, `TimedOut`, `ConnectionBroken`,
    `RemoteProtocolError`).
    """

    ok: bool
    text: str


_Report = LoginFailed | MessageRetrieved | SessionClosed | Interruption | TlsRequested
Pop3ClientEvent = _Report | NeedData


class Pop3Client(ClientEnding):
    """A sans-I/O POP3 client session that runs its dialogue by itself."""

    def __init__(self, config: Pop3ClientConfig) -> None:
        self.config = config
        self.state = Pop3ClientState.GREETING
        self._lines = LineBuffer(MAX_STATUS_LINE)
        self._outbox = bytearray()
        self._events: deque[_Report] = deque()
        self.tls: TlsVersion | None = None  # the TLS version once the session is encrypted
        self._end_of_input = False
        self._body: list[bytes] | None = None  # a multi-line response being read
        self._partial = bytearray()  # the pieces so far of a long body line
        self._uids: dict[int, str] = {}
        self._to_fetch: deque[int] = deque()
        self._current = 0  # the message number of RETR / DELE in flight
        self._failure: str | None = None  # the -ERR line that cut the session short

    @property
    def closed(self) -> bool:
        """True once the session is over."""
        return self.state is Pop3ClientState.CLOSED

    def next_event(self) -> Pop3ClientEvent:
        """Read replies, queue the next command, and report what happened."""
        while not self._events and not self.closed:
            if not self._read():
                if not self._end_of_input or self.closed:
                    break
                self._cut_off(ConnectionClosed())  # the server closed without a word
        return self._events.popleft() if self._events else NEED_DATA

    def tls_established(self, version: TlsVersion) -> None:
        """The handshake is over (after STLS, or first thing on port 995)."""
        self.tls = version
        if self.state is Pop3ClientState.TLS_HANDSHAKE:
            self._advance(Outcome.TLS_ESTABLISHED)

    def data_to_send(self) -> bytes:
        """The commands queued for the server since the last call."""
        data = bytes(self._outbox)
        self._outbox.clear()
        return data

    # -- reading replies ----------------------------------------------------

    def _read(self) -> bool:
        """Take one status line or body piece; False when none is complete yet.

        Status lines are limited (RFC 2449 §4); lines of a multi-line
        response are not (RFC 1939 §3), so they are read in pieces.
        """
        if self._body is not None:
            if not self._partial:  # at the start of a line: plain ones in bulk
                plain = self._lines.next_plain_lines()
                if plain:
                    self._body += plain.split(CRLF)[:-1]
                    return True
            piece = self._lines.next_piece(BODY_PIECE)
            if piece is not None:
                self._on_body_piece(self._body, piece)
            return piece is not None
        line = self._lines.next_framed()
        if isinstance(line, LineTooLong):
            self._violation(ClientNote.LINE_TOO_LONG, length=line.length)
        elif line is not None:
            self._on_status_line(line.content)
        return line is not None

    def _on_body_piece(self, body: list[bytes], piece: Line) -> None:
        self._partial += piece.content
        if piece.complete:
            line = bytes(self._partial)
            self._partial.clear()
            self._on_body_line(body, line)

    def _on_status_line(self, line: bytes) -> None:
        status = status_of(line)
        text = line.decode("utf-8", "replace")
        if status is None or self.state is Pop3ClientState.TLS_HANDSHAKE:
            self._violation(ClientNote.BAD_RESPONSE, line=printable(line, limit=60))
        elif status == ERR:
            self._on_error(text)
        elif self.state in MULTI_LINE:
            self._body = []
        else:
            self._on_ok(text)

    def _on_body_line(self, body: list[bytes], line: bytes) -> None:
        if line != TERMINATOR:
            body.append(unstuff_line(line))
            return
        self._body = None
        if self.state is Pop3ClientState.UIDL:
            self._on_listing(body)
        else:
            self._on_message(body)

    def _on_ok(self, text: str) -> None:
        if self.state is Pop3ClientState.QUIT:
            self._events.append(SessionClosed(ok=self._failure is None, text=self._failure or text))
            self._advance(Outcome.OK)
        elif self.state is Pop3ClientState.DELE:
            self._advance(self._fetch_outcome())
        elif self.state is Pop3ClientState.GREETING and self.config.starttls and not self.tls:
            self._advance(Outcome.OK_TLS)
        elif self.state is Pop3ClientState.STLS:  # drop what came after it in clear
            self._lines = LineBuffer(MAX_STATUS_LINE)
            self._events.append(TlsRequested())
            self._advance(Outcome.OK)
        else:
            self._advance(Outcome.OK)

    def _on_error(self, text: str) -> None:
        if self.state in (Pop3ClientState.GREETING, Pop3ClientState.QUIT):
            self._events.append(SessionClosed(ok=False, text=self._failure or text))
        elif self.state in (Pop3ClientState.USER, Pop3ClientState.PASS):
            self._events.append(LoginFailed(text))
        self._failure = self._failure or text
        self._advance(Outcome.ERR)

    def _on_listing(self, body: list[bytes]) -> None:
        """UIDL: remember each "n unique-id" line; queue the unknown ones (RFC 1939 §7)."""
        for line in body:
            parts = line.split()
            number = parse_number(parts[0].decode("ascii", "replace")) if parts else None
            if len(parts) != 2 or not number:
                self._violation(ClientNote.BAD_RESPONSE, line=printable(line, limit=60))
                return
            self._uids[number] = parts[1].decode("ascii", "replace")
        known = self.config.known_uids
        self._to_fetch = deque(n for n, uid in self._uids.items() if uid not in known)
        self._advance(self._fetch_outcome())

    def _on_message(self, body: list[bytes]) -> None:
        content = b"".join(line + CRLF for line in body)
        self._events.append(MessageRetrieved(self._current, self._uids[self._current], content))
        self._advance(Outcome.OK_DELETE if self.config.delete else self._fetch_outcome())

    # -- moving on ----------------------------------------------------------

    def _fetch_outcome(self) -> Outcome:
        return Outcome.OK_FETCH if self._to_fetch else Outcome.OK_DONE

    def _advance(self, outcome: Outcome) -> None:
        """The one place the state moves along `CLIENT_TRANSITIONS`; send the new command."""
        self.state = CLIENT_TRANSITIONS[self.state][outcome]
        if self.state is Pop3ClientState.RETR:
            self._current = self._to_fetch.popleft()
        verb = COMMANDS.get(self.state)
        if verb is not None:
            self._send(verb)

    def _send(self, verb: Verb) -> None:
        argument = {
            Verb.USER: self.config.username,
            Verb.PASS: self.config.password,
            Verb.RETR: str(self._current),
            Verb.DELE: str(self._current),
        }.get(verb)
        line = verb.value if argument is None else f"{verb.value} {argument}"
        self._outbox += line.encode("utf-8") + CRLF

    def _violation(self, note: ClientNote, **fields: object) -> None:
        """The server broke the protocol: the conversation cannot go on."""
        self._cut_off(RemoteProtocolError(note.value.format(**fields)))

    def _cut_off(self, interruption: Interruption) -> None:
        """No reply will come: report why and close, without QUIT (so without UPDATE)."""
        self._body = None
        self._partial.clear()
        self._events.append(interruption)
        self._advance(Outcome.CUT_OFF)
