"""The IMAP server engine: one session from greeting to LOGOUT (RFC 9051).

Bytes go in with `receive_data()`; `next_event()` assembles whole commands
(a line, or lines joined by literals: "+ OK" is sent before a synchronizing
literal, RFC 9051 §7.5; none before ``{n+}``, RFC 7888), answers them, and
returns the events the agent may want.  The state moves along
`states.TRANSITIONS` in `_advance`, the only place it changes.  Commands on
mailboxes live in `mailboxes.py` and `selected.py`; this module keeps what
needs the connection: login, SASL, STARTTLS, ENABLE, IDLE, LOGOUT, limits.

Hostile input never raises: a syntax error is BAD, a refusal NO; like
Dovecot the server hangs up with ``* BYE`` after too many bad commands in
a row (3 before login, 20 after), on a literal larger than a command may
be, and an over-long line is answered BAD and skipped.
"""

from __future__ import annotations

from collections.abc import Callable

from simulator.protocols.common import CRLF, NEED_DATA, LineBuffer, LineTooLong
from simulator.protocols.imap import mailboxes, selected
from simulator.protocols.imap.connection import ConnectionCommands
from simulator.protocols.imap.events import ImapServerEvent, LoggedIn
from simulator.protocols.imap.replies import REPLIES, CommandFailed, ImapReply, reply_line
from simulator.protocols.imap.session import (
    Completion,
    ImapServerConfig,
    Session,
    done,
    mailbox_name,
)
from simulator.protocols.imap.states import (
    AFTER_FAILURE,
    TRANSITIONS,
    Command,
    ImapState,
    parse_command,
)
from simulator.protocols.imap.store import ImapMailbox
from simulator.protocols.imap.wire import (
    Atom,
    LiteralSize,
    Token,
    WireSyntaxError,
    literal_announced,
    printable,
    tokenize,
)
from simulator.protocols.sasl import MECHANISM

_Handler = Callable[[Session, str, list[Token]], Completion | None]
_SESSION_COMMANDS: dict[Command, _Handler] = {
    Command.SELECT: mailboxes.select, Command.EXAMINE: mailboxes.examine,
    Command.CREATE: mailboxes.create, Command.DELETE: mailboxes.delete,
    Command.RENAME: mailboxes.rename, Command.SUBSCRIBE: mailboxes.subscribe,
    Command.UNSUBSCRIBE: mailboxes.unsubscribe, Command.LIST: mailboxes.list_mailboxes,
    Command.NAMESPACE: mailboxes.namespace, Command.STATUS: mailboxes.status,
    Command.APPEND: mailboxes.append, Command.CLOSE: selected.close,
    Command.UNSELECT: selected.unselect, Command.EXPUNGE: selected.expunge,
    Command.UID_EXPUNGE: selected.uid_expunge, Command.SEARCH: selected.search,
    Command.UID_SEARCH: selected.uid_search, Command.FETCH: selected.fetch,
    Command.UID_FETCH: selected.uid_fetch, Command.STORE: selected.store,
    Command.UID_STORE: selected.uid_store, Command.COPY: selected.copy,
    Command.UID_COPY: selected.uid_copy, Command.MOVE: selected.move,
    Command.UID_MOVE: selected.uid_move,
}
#: RFC 9051 §7.5.1: no EXPUNGE response while answering these.
_NO_EXPUNGE_DURING = frozenset({Command.FETCH, Command.STORE, Command.SEARCH})
_TAG_SPECIALS = frozenset('(){ %*"\\+')
#: What the server implements (RFC 9051 §7.2.2); rev1 too, for IMAP4rev1 clients.
CAPABILITIES = ("IMAP4rev1", "IMAP4rev2", "SASL-IR", "ENABLE", "IDLE", "LITERAL+")
CAPABILITIES_AFTER_LOGIN = (
    *CAPABILITIES, "NAMESPACE", "UNSELECT", "UIDPLUS", "ESEARCH", "MOVE", "SPECIAL-USE",
    "LIST-EXTENDED", "LIST-STATUS", "CHILDREN",
)


class ImapServer(ConnectionCommands):
    """A sans-I/O IMAP4rev2 server session; the agent decides logins and runs TLS."""

    def __init__(self, config: ImapServerConfig) -> None:
        self.config = config
        self.state = ImapState.NOT_AUTHENTICATED
        self.username: str | None = None
        self.tls = None  # the TLS version once the session is encrypted
        self.session = Session(config)
        self._lines = LineBuffer(config.max_line_length)
        self._command = bytearray()  # the command read so far, literals included
        self._literal: int | None = None  # octets of a literal still to read
        self._discard = False  # the literal being read is thrown away
        self._skip_line = False  # the rest of a refused command follows
        self._sasl_tag: str | None = None  # "+ " sent: the next line is a SASL response
        self._idle_tag: str | None = None  # idling: the next line must be DONE
        self._pending: tuple[str, Command] | None = None  # credentials with the agent
        self._tls_wait = False  # STARTTLS accepted, handshake not done
        self._greeting_due = False  # greet() was called, the greeting not yet sent
        self._bad_commands = 0  # in a row, as Dovecot counts them
        self._commands: dict[Command, _Handler] = {
            Command.CAPABILITY: self._capability, Command.NOOP: self._noop,
            Command.LOGOUT: self._logout, Command.STARTTLS: self._starttls,
            Command.LOGIN: self._login, Command.AUTHENTICATE: self._authenticate,
            Command.ENABLE: self._enable, Command.IDLE: self._idle, **_SESSION_COMMANDS,
        }

    @property
    def closed(self) -> bool:
        """True once no further command will be read; send what is left, then hang up."""
        return self.state is ImapState.LOGOUT

    @property
    def idling(self) -> bool:
        """Whether the client is in IDLE: `notify()` pushes changes at once."""
        return self._idle_tag is not None

    @property
    def timeout(self) -> float:
        """Seconds of silence before autologout (RFC 9051 §5.4; Dovecot 30 min)."""
        return self.config.autologout

    # -- the agent's side -------------------------------------------------

    def greet(self) -> None:
        """Queue the greeting (RFC 9051 §7.1.1), capabilities included as Dovecot does.

        They are written when the greeting is sent: on port 993 the handshake
        comes first (RFC 8314 §3), so they say what holds inside TLS.
        """
        self._greeting_due = True

    def receive_data(self, data: bytes) -> None:
        """Take bytes from the client; b"" (end of input) ends the session silently."""
        if self.closed:
            return
        if not data:
            self._end()
            return
        self._lines.feed(data)

    def next_event(self) -> ImapServerEvent:
        """Answer buffered commands until there is an event for the agent, or more data."""
        if self._pending is not None:
            raise RuntimeError("answer CredentialsReceived with login() or reject_login() first")
        events = self.session.events
        while not events and not self.closed and not self._tls_wait and self._pending is None:
            if not self._step():
                break
        return events.popleft() if events else NEED_DATA

    def data_to_send(self) -> bytes:
        """The bytes queued for the client since the last call."""
        if self._greeting_due:
            self._greeting_due = False
            greeting = reply_line(ImapReply.GREETING, "*", software=self.config.software,
                                  capabilities=self._capabilities())
            self.session.out[:0] = greeting
        data = bytes(self.session.out)
        self.session.out.clear()
        return data

    def login(self, mailbox: ImapMailbox) -> None:
        """Accept the credentials: the session works on `mailbox` from now on."""
        tag, command = self._take_pending()
        self.session.mailbox = mailbox
        self.session.events.append(LoggedIn(self.username or ""))
        self._finish(tag, command, done(ImapReply.LOGGED_IN, capabilities=self._capabilities(True)))

    def reject_login(self, reply: ImapReply = ImapReply.AUTH_FAILED) -> None:
        """Refuse the credentials (``NO [AUTHENTICATIONFAILED]`` unless told otherwise)."""
        tag, command = self._take_pending()
        self.username = None
        self._finish(tag, command, CommandFailed(reply))

    def notify(self) -> None:
        """The mailbox changed (another session, a delivery): while the client
        IDLEs, tell it now (RFC 9051 §6.3.13); otherwise after its next command."""
        if self.idling and not self.closed:
            self.session.sync(expunge_allowed=True)
            self._check_mailbox_gone()

    def timed_out(self) -> None:
        """The client was silent for `timeout` seconds: autologout."""
        self.close(ImapReply.BYE_AUTOLOGOUT)

    def close(self, reply: ImapReply | None = ImapReply.BYE_SHUTDOWN) -> None:
        """End the session with ``* BYE`` (RFC 9051 §7.1.5); nothing is expunged."""
        if not self.closed and reply is not None:
            self._send(reply)
        self._end()

    # -- the engine -------------------------------------------------------

    def _end(self) -> None:
        self._pending = None
        self._idle_tag = self._sasl_tag = None
        self.state = ImapState.LOGOUT

    def _send(self, reply: ImapReply, tag: str = "*", **fields: object) -> None:
        self.session.out += reply_line(reply, tag, **fields)

    def _capabilities(self, after_login: bool = False) -> str:
        if after_login or self.state is not ImapState.NOT_AUTHENTICATED:
            return " ".join(CAPABILITIES_AFTER_LOGIN) + f" APPENDLIMIT={self.config.append_limit}"
        names = list(CAPABILITIES)
        if self.config.tls_available and self.tls is None:
            names.append("STARTTLS")
        if self.config.require_tls and self.tls is None:
            names.append("LOGINDISABLED")  # Dovecot then lists no AUTH= mechanism
        else:
            names.append("AUTH=" + MECHANISM)
        return " ".join(names)

    def _advance(self, command: Command, ok: bool) -> None:
        """The one place the state moves along `TRANSITIONS`."""
        if ok:
            self.state = TRANSITIONS[self.state][command]
        elif command in AFTER_FAILURE and self.session.view is None:
            self.state = AFTER_FAILURE[command]

    def _take_pending(self) -> tuple[str, Command]:
        if self._pending is None:
            raise RuntimeError("no CredentialsReceived is waiting for an answer")
        pending, self._pending = self._pending, None
        return pending

    def _step(self) -> bool:
        """Read one line or literal and act on it; False when more data is needed."""
        if self._literal is not None:
            chunk = self._lines.take(self._literal)
            if chunk is None:
                return False
            self._literal = None
            if self._discard:
                self._discard, self._skip_line = False, True
            else:
                self._command += chunk
            return True
        line = self._lines.next_framed()
        if line is None:
            return False
        if isinstance(line, LineTooLong):
            self._too_long()
        elif self._skip_line:
            self._skip_line = False
            announced = literal_announced(line.content)
            if announced is not None:
                self._refuse_literal(announced)
        elif self._idle_tag is not None:
            self._idle_line(line.content)
        elif self._sasl_tag is not None:
            self._sasl_line(line.content)
        else:
            self._command += line.content
            announced = literal_announced(line.content)
            if announced is None:
                command = bytes(self._command)
                self._command.clear()
                self._execute(command)
            else:
                self._literal_announced(announced)
        return True

    def _too_long(self) -> None:
        """An over-long line is skipped with BAD; IDLE or SASL takes it as a bad answer."""
        self._command.clear()
        self._skip_line = False
        if self._idle_tag is not None:
            self._idle_line(b"")
        elif self._sasl_tag is not None:
            self._sasl_line(b"")
        else:
            self._reject("*", ImapReply.LINE_TOO_LONG)

    def _literal_announced(self, announced: LiteralSize) -> None:
        """A line ended in ``{n}``: check the size, ask for the octets (RFC 9051 §7.5)."""
        prefix = bytes(self._command[: self._command.rfind(b"{")])
        refusal, message_literal = self._append_refusal(prefix, announced.size)
        if message_literal:
            too_large = announced.size > self.config.append_limit
        else:
            too_large = len(self._command) + announced.size > self.config.max_line_length
        if too_large and (announced.non_synchronizing or not message_literal):
            self.close(ImapReply.BYE_LITERAL_TOO_LARGE)  # imap-parser.c, then disconnect
            return
        if refusal is not None:
            self._command.clear()
            self._finish(_tag_of(prefix), Command.APPEND, refusal)
            self._refuse_literal(announced)
            return
        self._command += CRLF
        if not announced.non_synchronizing:
            self._send(ImapReply.CONTINUE_LITERAL)
        self._literal = announced.size

    def _refuse_literal(self, announced: LiteralSize) -> None:
        """A refused command's literal: a synchronizing one never comes."""
        if announced.non_synchronizing:
            self._literal, self._discard = announced.size, True

    def _append_refusal(self, prefix: bytes, size: int) -> tuple[CommandFailed | None, bool]:
        """For APPEND's message literal: the NO to send instead of "+ OK", if any."""
        try:
            tokens = tokenize(prefix)
        except WireSyntaxError:
            return None, False
        if len(tokens) < 3 or not isinstance(tokens[1], Atom) or tokens[1].upper() != "APPEND":
            return None, False
        if Command.APPEND not in TRANSITIONS[self.state]:
            return CommandFailed(ImapReply.BAD_PRE_LOGIN), True
        try:
            return mailboxes.append_refusal(self.session, mailbox_name(tokens[2]), size), True
        except CommandFailed as failure:
            return failure, True

    def _execute(self, line: bytes) -> None:
        """Tokenize one whole command, check it may run now, and run it."""
        try:
            tokens = tokenize(line)
        except WireSyntaxError as error:
            tag = _tag_of(line)
            word = line.split(b" ")[1] if line.count(b" ") else b""
            self._reject(tag, ImapReply.BAD_ARGUMENTS, command=printable(word).upper(),
                         detail=str(error))
            return
        first = tokens[0] if tokens and not line.startswith(b" ") else None
        if not isinstance(first, Atom) or not _valid_tag(first.value):
            self._reject("*", ImapReply.BAD_PRE_LOGIN)  # Dovecot does not echo a bad tag
            return
        tag = first.value
        verb = tokens[1] if len(tokens) > 1 else None
        if not isinstance(verb, Atom):
            self._reject(tag, ImapReply.MISSING_COMMAND)
            return
        name = verb.value
        third = tokens[2] if len(tokens) > 2 else None
        after = third.value if isinstance(third, Atom) else None
        command = parse_command(name, after)
        if command is None:
            self._unknown(tag, name)
            return
        args = tokens[3:] if command.value.startswith("UID ") else tokens[2:]
        if command not in TRANSITIONS[self.state]:
            reply, name = self._wrong_state(command)
            self._reject(tag, reply, command=name)
            return
        self._run(tag, command, args)

    def _unknown(self, tag: str, name: str) -> None:
        if self.state is not ImapState.NOT_AUTHENTICATED:
            self._reject(tag, ImapReply.UNKNOWN_COMMAND, command=printable(name).upper())
        elif tag.upper() == "LOGIN":  # imap-login's hint for "LOGIN user pass"
            self._reject(tag, ImapReply.LOGIN_WRONG_WAY)
        else:
            self._reject(tag, ImapReply.BAD_PRE_LOGIN)

    def _wrong_state(self, command: Command) -> tuple[ImapReply, str]:
        """Dovecot's answer to a command the state does not allow."""
        if self.state is ImapState.NOT_AUTHENTICATED:
            return ImapReply.BAD_PRE_LOGIN, ""  # imap-login does not know it at all
        if command in TRANSITIONS[ImapState.SELECTED]:
            return ImapReply.NO_MAILBOX_SELECTED, ""
        return ImapReply.UNKNOWN_COMMAND, command.value  # imap does not know LOGIN etc.

    def _run(self, tag: str, command: Command, args: list[Token]) -> None:
        try:
            outcome: Completion | CommandFailed | None = self._commands[command](
                self.session, tag, args)
        except CommandFailed as failure:
            outcome = failure
        if outcome is not None:
            self._finish(tag, command, outcome)

    def _finish(self, tag: str, command: Command, outcome: Completion | CommandFailed) -> None:
        """Sync the selected folder, send the tagged reply, move the state."""
        self.session.sync(expunge_allowed=command not in _NO_EXPUNGE_DURING)
        if isinstance(outcome, Completion):
            self._bad_commands = 0
            self._send(outcome.reply, tag, **outcome.fields)
            self._advance(command, ok=True)
        else:
            fields = dict(outcome.fields)
            if outcome.reply is ImapReply.BAD_ARGUMENTS:
                fields["command"] = command.value
            self._reject(tag, outcome.reply, **fields)
            self._advance(command, ok=False)
        self._check_mailbox_gone()

    def _reject(self, tag: str, reply: ImapReply, **fields: object) -> None:
        """Send a NO or BAD; bad commands in a row end the session (Dovecot)."""
        if not REPLIES[reply].startswith(("BAD", "* BAD")):
            self._send(reply, tag, **fields)
            return
        self._bad_commands += 1
        pre_login = self.state is ImapState.NOT_AUTHENTICATED
        limit = self.config.login_max_bad_commands if pre_login else self.config.max_bad_commands
        if not (pre_login and self._bad_commands >= limit):  # imap-login: BYE instead of BAD
            self._send(reply, tag, **fields)
        if self._bad_commands >= limit:
            self.close(ImapReply.BYE_TOO_MANY_BAD)

    def _check_mailbox_gone(self) -> None:
        if self.session.mailbox_gone and not self.closed:
            self.close(ImapReply.BYE_MAILBOX_GONE)


def _valid_tag(text: str) -> bool:
    """RFC 9051 §9 tag: ASTRING-CHARs except "+"."""
    return bool(text) and not any(c in _TAG_SPECIALS or c > "~" for c in text)


def _tag_of(line: bytes) -> str:
    """The tag of a line that did not tokenize, if it has a valid one, else "*"."""
    word = line.split(b" ", 1)[0]
    text = printable(word, limit=64)
    return text if _valid_tag(text) and "?" not in text else "*"
