"""The POP3 server side: one session from greeting to sign-off (RFC 1939).

Logins come as USER/PASS or as SASL PLAIN (RFC 5034); either way the agent
decides.  Like Dovecot, the server hangs up on a client that sends bad
commands in a row: before login after `login_max_bad_commands` of them
(pop3-login), after login after more than `max_bad_commands` (pop3).
STLS (RFC 2595 §4) is answered as Dovecot's pop3-login does; the
handshake itself is the session layer's (`TlsRequested`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from simulator.protocols.common import (
    CRLF,
    NEED_DATA,
    Line,
    LineBuffer,
    LineTooLong,
    NeedData,
    stuff_lines,
)
from simulator.protocols.pop3.maildrop import CommandError, MaildropEntry, SessionMaildrop
from simulator.protocols.pop3.replies import (
    CAPABILITIES_AUTHORIZATION,
    CAPABILITIES_LOGIN,
    CAPABILITIES_TRANSACTION,
    CAPABILITY_STLS,
    SASL_MECHANISMS,
    Pop3Reply,
    reply_line,
)
from simulator.protocols.pop3.states import ARITY, DECIDED_BY_AGENT, TRANSITIONS, Pop3State
from simulator.protocols.pop3.wire import (
    MAX_COMMAND_LINE,
    MAX_SASL_LINE,
    Verb,
    parse_number,
    parse_verb,
    printable,
)
from simulator.protocols.sasl import MECHANISM, Base64Error, decode_plain, may_act_as
from simulator.protocols.tls import TlsRequested, TlsVersion


@dataclass(frozen=True)
class Pop3ServerConfig:
    """What a POP3 server says about itself, and its limits (Dovecot's)."""

    hostname: str
    software: str = "Dovecot"
    # Dovecot login-common CLIENT_MAX_BAD_COMMANDS (10; newer pop3-login uses 3):
    # the bad command in a row that makes pop3-login hang up
    login_max_bad_commands: int = 10
    # Dovecot pop3 CLIENT_MAX_BAD_COMMANDS: more bad commands in a row than this
    # after login and the session ends (without UPDATE)
    max_bad_commands: int = 20
    # RFC 4616 §2: (authcid, authzid) pairs allowed to act as someone else
    sasl_act_as: frozenset[tuple[str, str]] = frozenset()
    starttls: bool = False  # RFC 2595: offer STLS (Dovecot ssl = yes)
    tls_version: TlsVersion = TlsVersion.TLS1_3
    disable_plaintext_auth: bool = False  # Dovecot: no USER/PASS/AUTH PLAIN in clear


@dataclass(frozen=True)
class CredentialsReceived:
    """USER and PASS, or AUTH PLAIN, arrived: answer with `login()` or `reject_login()`.

    `authzid` is the identity a SASL client asked to act as (RFC 4616 §2);
    the machine has already refused one that `username` may not take.
    """

    username: str
    password: str
    authzid: str = ""


@dataclass(frozen=True)
class UpdateRequested:
    """QUIT in TRANSACTION: remove these messages now (RFC 1939 §6).

    `retrieved_uids` names the messages RETR sent whole, for a store that
    marks them read (Dovecot's default, pop3_no_flag_updates = no).
    """

    deleted_uids: tuple[str, ...]
    retrieved_uids: tuple[str, ...] = ()


_AgentEvent = CredentialsReceived | UpdateRequested | TlsRequested
Pop3ServerEvent = CredentialsReceived | UpdateRequested | TlsRequested | NeedData


class Pop3Server:
    """A sans-I/O POP3 server session; the agent decides logins and deletions."""

    #: The method that handles each command, by name.
    handlers: Mapping[Verb, str] = {
        Verb.USER: "_user",
        Verb.PASS: "_pass",
        Verb.APOP: "_apop",
        Verb.AUTH: "_auth",
        Verb.CAPA: "_capa",
        Verb.STLS: "_stls",
        Verb.STAT: "_stat",
        Verb.LIST: "_list",
        Verb.UIDL: "_uidl",
        Verb.RETR: "_retr",
        Verb.TOP: "_top",
        Verb.DELE: "_dele",
        Verb.RSET: "_rset",
        Verb.NOOP: "_noop",
        Verb.QUIT: "_quit",
    }

    def __init__(self, config: Pop3ServerConfig) -> None:
        self.config = config
        self.state = Pop3State.AUTHORIZATION
        self.username: str | None = None
        self.tls: TlsVersion | None = None  # the TLS version once the session is encrypted
        self._lines = LineBuffer(MAX_SASL_LINE)
        self._outbox = bytearray()
        self._candidate: str | None = None  # USER given, PASS awaited
        self._pending: CredentialsReceived | None = None
        self._pending_verb = Verb.PASS  # the command the pending credentials came with
        self._retrieved: dict[str, None] = {}  # unique-ids RETR sent, in order
        self._sasl_continues = False  # "+ " sent: the next line is a SASL response
        self._bad_commands = 0  # in a row, as Dovecot counts them
        self._maildrop = SessionMaildrop(())

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
            line = self._lines.next_framed()
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
        self.username = credentials.authzid or credentials.username
        self._advance(self._pending_verb)
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

    def tls_established(self, version: TlsVersion) -> None:
        """The handshake is over (after STLS, or first thing on port 995); a USER
        given in clear is forgotten (RFC 2595 §4: the client starts over)."""
        self.tls = version
        self._candidate = None

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

    def _reply(self, reply: Pop3Reply, body: bytes = b"", /, **fields: object) -> None:
        self._outbox += reply_line(reply, **fields) + body

    def _advance(self, verb: Verb) -> None:
        """The one place the state moves along `TRANSITIONS`."""
        self.state = TRANSITIONS[self.state][verb]

    def _handle_line(self, line: Line | LineTooLong) -> _AgentEvent | None:
        if self._sasl_continues:
            self._sasl_continues = False
            text = b"" if isinstance(line, LineTooLong) else line.content
            return self._sasl_response(text.decode("ascii", "replace").strip())
        try:
            verb, rest = self._admit(line)
            event = getattr(self, self.handlers[verb])(rest)
        except CommandError as error:
            self._reply(error.reply, **error.fields)
            self._bad_command()
            return None
        self._bad_commands = 0
        if verb not in DECIDED_BY_AGENT:
            self._advance(verb)
        return event

    def _admit(self, line: Line | LineTooLong) -> tuple[Verb, bytes]:
        """The verb and arguments of a command that may run now, or CommandError."""
        if isinstance(line, LineTooLong) or len(line.content) + len(CRLF) > MAX_COMMAND_LINE:
            raise CommandError(Pop3Reply.LINE_TOO_LONG)
        word, _, rest = line.content.partition(b" ")
        verb = parse_verb(word)
        if verb is None:
            raise CommandError(Pop3Reply.UNKNOWN_COMMAND, verb=printable(word))
        if verb not in TRANSITIONS[self.state]:
            raise CommandError(Pop3Reply.WRONG_STATE, verb=verb.value, state=self.state.value)
        self._check_arity(verb, rest)
        if verb in _PLAINTEXT_LOGIN and self.tls is None and self.config.disable_plaintext_auth:
            raise CommandError(Pop3Reply.PLAINTEXT_DISALLOWED)
        return verb, rest

    def _bad_command(self) -> None:
        """Dovecot hangs up on a client that keeps sending bad commands."""
        self._bad_commands += 1
        if self.state is Pop3State.AUTHORIZATION:
            if self._bad_commands >= self.config.login_max_bad_commands:
                self.close(Pop3Reply.TOO_MANY_BAD_LOGIN)
        elif self._bad_commands > self.config.max_bad_commands:
            self.close(Pop3Reply.TOO_MANY_BAD)

    @staticmethod
    def _check_arity(verb: Verb, rest: bytes) -> None:
        fewest, most = ARITY[verb]
        count = len(_args(rest))
        if count < fewest:
            raise CommandError(Pop3Reply.MISSING_ARGUMENT, verb=verb.value)
        if most is not None and count > most:
            raise CommandError(Pop3Reply.TOO_MANY_ARGUMENTS, verb=verb.value)

    # -- AUTHORIZATION commands (RFC 1939 §4, §7; RFC 5034) ------------------

    def _user(self, rest: bytes) -> None:
        self._candidate = rest.decode("utf-8", "replace")
        self._reply(Pop3Reply.OK)

    def _pass(self, rest: bytes) -> CredentialsReceived:
        if self._candidate is None:
            raise CommandError(Pop3Reply.NO_USERNAME)
        # RFC 1939 §7: the whole rest of the line is the password, spaces included.
        password = rest.decode("utf-8", "replace")
        return self._ask(Verb.PASS, CredentialsReceived(self._candidate, password))

    def _apop(self, rest: bytes) -> None:
        # RFC 1939 §7: no timestamp in our greeting, so no APOP.
        raise CommandError(Pop3Reply.APOP_UNSUPPORTED)

    def _auth(self, rest: bytes) -> CredentialsReceived | None:
        args = _args(rest)
        if not args:  # Dovecot: a bare AUTH lists the mechanisms
            self._reply(Pop3Reply.OK, stuff_lines(name.encode("ascii") for name in SASL_MECHANISMS))
            return None
        if args[0].upper() != MECHANISM:
            raise CommandError(Pop3Reply.AUTH_MECHANISM)
        if len(args) == 2:  # RFC 5034 §4: an initial response
            return self._sasl_response(args[1])
        self._sasl_continues = True
        self._reply(Pop3Reply.SASL_CONTINUE)
        return None

    def _sasl_response(self, text: str) -> CredentialsReceived | None:
        """The client's PLAIN message (RFC 4616): credentials for the agent, or -ERR."""
        if text == "*":
            self._reply(Pop3Reply.AUTH_ABORTED)  # RFC 5034 §4
            return None
        try:
            credentials = decode_plain(text)
        except Base64Error:
            credentials = None
        if credentials is None or not may_act_as(credentials, self.config.sasl_act_as):
            self._reply(Pop3Reply.AUTH_FAILED)  # RFC 4616 §2: authzid not allowed
            return None
        self._candidate = None
        event = CredentialsReceived(credentials.username, credentials.password, credentials.authzid)
        return self._ask(Verb.AUTH, event)

    def _ask(self, verb: Verb, event: CredentialsReceived) -> CredentialsReceived:
        self._pending, self._pending_verb = event, verb
        return event

    def _stls(self, rest: bytes) -> TlsRequested:
        """RFC 2595 §4; Dovecot's checks in its order.  Input sent after STLS
        in clear is dropped (the command injection of CVE-2011-0411)."""
        if self.tls is not None:
            raise CommandError(Pop3Reply.TLS_ACTIVE)
        if not self.config.starttls:
            raise CommandError(Pop3Reply.TLS_DISABLED)
        self._reply(Pop3Reply.TLS_BEGIN)
        self._lines = LineBuffer(MAX_SASL_LINE)
        return TlsRequested(self.config.tls_version)

    def _capa(self, rest: bytes) -> None:
        names: tuple[str, ...] = CAPABILITIES_TRANSACTION
        if self.state is Pop3State.AUTHORIZATION:
            config, clear = self.config, self.tls is None
            names = CAPABILITIES_AUTHORIZATION
            names += (CAPABILITY_STLS,) if clear and config.starttls else ()
            names += () if clear and config.disable_plaintext_auth else CAPABILITIES_LOGIN
        # RFC 2449 §5: the capability list is a multi-line response
        self._reply(Pop3Reply.OK, stuff_lines(name.encode("ascii") for name in names))

    def _quit(self, rest: bytes) -> UpdateRequested | None:
        if self.state is Pop3State.AUTHORIZATION:
            self._reply(Pop3Reply.LOGOUT)
            return None
        deleted = self._maildrop.deleted_uids()
        self._reply(Pop3Reply.LOGOUT_DELETED if deleted else Pop3Reply.LOGOUT)
        return UpdateRequested(deleted, tuple(self._retrieved))

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
        self._retrieved.setdefault(self._maildrop.uid(number))
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


#: Logins whose password crosses the wire as it is (RFC 2595 §2.2).
_PLAINTEXT_LOGIN = frozenset({Verb.USER, Verb.PASS, Verb.AUTH})


def _args(rest: bytes) -> list[str]:
    """The blank-separated arguments of a command, as text (RFC 1939 §3)."""
    return [word.decode("ascii", "replace") for word in rest.split()]


def _head(lines: list[bytes], body_lines: int) -> list[bytes]:
    """TOP: the header, the blank line, then `body_lines` body lines (RFC 1939 §7)."""
    if b"" not in lines:
        return lines
    blank = lines.index(b"")
    return lines[: blank + 1 + body_lines]
