"""The SMTP server state machine (RFC 5321, AUTH per RFC 4954).

The server answers everything that needs no policy by itself and hands
the agent one decision at a time (MAIL, RCPT, the message, AUTH), which
the agent answers with `respond()`.  States move only along `TRANSITIONS`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace

from simulator.protocols.common import (
    CRLF,
    NEED_DATA,
    LineBuffer,
    LineTooLong,
    NeedData,
    unstuff_line,
)
from simulator.protocols.smtp.auth import Base64Error, decode_plain
from simulator.protocols.smtp.commands import (
    UNIMPLEMENTED,
    ArgumentError,
    Command,
    Verb,
    parse_command,
    parse_path_argument,
)
from simulator.protocols.smtp.events import (
    AuthReceived,
    Envelope,
    MailFromReceived,
    MessageReceived,
    RcptToReceived,
    ServerEvent,
)
from simulator.protocols.smtp.replies import Reply, SmtpReply, reply
from simulator.protocols.smtp.states import TRANSITIONS, ServerState

MAX_COMMAND_LINE = 512  # RFC 5321 §4.5.3.1.4, octets incl. CRLF
MAX_TEXT_LINE = 1000  # RFC 5321 §4.5.3.1.6, octets incl. CRLF
MAX_AUTH_LINE = 12288  # RFC 4954 §4: AUTH lines may be this long
BODY_TYPES = frozenset({"7BIT", "8BITMIME"})  # RFC 6152 §2


@dataclass(frozen=True)
class SmtpServerConfig:
    """What a server offers; defaults are Postfix's (mail_params.h)."""

    hostname: str
    software: str = "Postfix"
    offer_auth: bool = False
    auth_required: bool = False  # RFC 6409 §4.3: 530 before AUTH
    max_message_size: int = 10240000  # Postfix message_size_limit (0 = none)
    max_recipients: int = 1000  # Postfix smtpd_recipient_limit


class SmtpUsageError(RuntimeError):
    """The agent called the server out of order (a bug, not bad input)."""


@dataclass
class _MessageBuffer:
    """Lines between DATA and the final dot, with the limits checked."""

    limit: int
    content: bytearray = field(default_factory=bytearray)
    too_big: bool = False
    too_long: bool = False

    def add(self, line: bytes | LineTooLong) -> None:
        if isinstance(line, LineTooLong) or len(line) + len(CRLF) > MAX_TEXT_LINE:
            self.too_long = True
        if self.too_big or self.too_long:
            return
        self.content += unstuff_line(line) + CRLF
        if 0 < self.limit < len(self.content):
            self.too_big = True
            self.content.clear()

    def refusal(self) -> SmtpReply | None:
        if self.too_big:
            return SmtpReply.MESSAGE_TOO_BIG  # RFC 1870 §6.3 / RFC 5321 §4.5.3.1.10
        if self.too_long:
            return SmtpReply.LINE_TOO_LONG
        return None


class SmtpServer:
    """One server side of an SMTP session, sans I/O."""

    def __init__(self, config: SmtpServerConfig) -> None:
        self.config = config
        self.state = ServerState.CONNECTED
        self.helo_name: str | None = None
        self.esmtp = False
        self.authenticated_user: str | None = None
        self.envelope: Envelope | None = None
        self._lines = LineBuffer(MAX_AUTH_LINE)
        self._out = bytearray()
        self._pending: ServerEvent | None = None
        self._refusing = False  # RFC 5321 §3.1: after a 554 greeting
        self._message: _MessageBuffer | None = None
        self._handlers: dict[Verb, Callable[[Command], ServerEvent | None]] = {
            Verb.HELO: self._hello, Verb.EHLO: self._hello, Verb.MAIL: self._mail,
            Verb.RCPT: self._rcpt, Verb.DATA: self._data, Verb.RSET: self._rset,
            Verb.NOOP: self._noop, Verb.VRFY: self._vrfy, Verb.QUIT: self._quit,
            Verb.AUTH: self._auth,
        }  # fmt: skip

    # ---- public API ----

    @property
    def closed(self) -> bool:
        """True once QUIT, a 421 or close() ended the session."""
        return self.state is ServerState.CLOSED

    def greet(self, reply: Reply | None = None) -> None:
        """Queue the greeting: 220 by default; 554 refuses service, 421 closes."""
        if self.state is not ServerState.CONNECTED:
            raise SmtpUsageError("greet() twice")
        greeting = reply or self._greeting()
        self._send(greeting)
        self._refusing = not greeting.is_positive
        self.state = ServerState.CLOSED if greeting.code == 421 else ServerState.GREETED

    def receive_data(self, data: bytes) -> None:
        """Feed bytes from the client; ignored once closed."""
        if not self.closed:
            self._lines.feed(data)

    def next_event(self) -> ServerEvent | NeedData:
        """Process buffered lines until a decision is needed or bytes run out."""
        if self._pending is not None:
            raise SmtpUsageError("respond() to the pending event first")
        while self.state not in (ServerState.CONNECTED, ServerState.CLOSED):
            line = self._lines.next_line()
            if line is None:
                break
            event = self._handle_line(line)
            if event is not None:
                self._pending = event
                return event
        return NEED_DATA

    def respond(self, reply: Reply) -> None:
        """Answer the pending decision; a positive reply advances the state."""
        event, self._pending = self._pending, None
        if event is None:
            raise SmtpUsageError("no decision is pending")
        self._send(reply)
        self._apply(event, reply)
        if reply.code == 421:  # RFC 5321 §3.8: 421 closes the channel
            self.state = ServerState.CLOSED

    def close(self, reply: Reply) -> None:
        """Queue a last reply (e.g. 421) and end the session."""
        self._pending = None
        self._send(reply)
        self.state = ServerState.CLOSED

    def data_to_send(self) -> bytes:
        """Everything queued since the last call."""
        data = bytes(self._out)
        self._out.clear()
        return data

    # ---- engine ----

    def _send(self, reply: Reply) -> None:
        self._out += reply.to_bytes()

    def _greeting(self) -> Reply:
        config = self.config
        return reply(SmtpReply.GREETING, hostname=config.hostname, software=config.software)

    def _answer(self, key: SmtpReply, **fields: str) -> None:
        self._send(reply(key, **fields))

    def _advance(self, verb: Verb) -> None:
        self.state = TRANSITIONS[self.state][verb]

    def _apply(self, event: ServerEvent, answer: Reply) -> None:
        if isinstance(event, MailFromReceived):
            if answer.is_positive:
                self.envelope = Envelope(event.reverse_path, ())
                self._advance(Verb.MAIL)
        elif isinstance(event, RcptToReceived):
            if answer.is_positive and self.envelope is not None:
                rcpt_to = (*self.envelope.rcpt_to, event.forward_path)
                self.envelope = replace(self.envelope, rcpt_to=rcpt_to)
                self._advance(Verb.RCPT)
        elif isinstance(event, MessageReceived):
            self.envelope = None  # RFC 5321 §4.1.1.4: any reply ends the transaction
            self._advance(Verb.DATA_END)
        else:
            if 200 <= answer.code < 300:
                self.authenticated_user = event.username
            self._advance(Verb.AUTH_RESPONSE)

    def _handle_line(self, line: bytes | LineTooLong) -> ServerEvent | None:
        if self.state is ServerState.DATA:
            return self._data_line(line)
        if self.state is ServerState.AUTH:
            return self._auth_line(line)
        return self._command_line(line)

    def _command_line(self, line: bytes | LineTooLong) -> ServerEvent | None:
        if isinstance(line, LineTooLong):
            self._answer(SmtpReply.LINE_TOO_LONG)
            return None
        command = parse_command(line.decode("ascii", "replace"))
        limit = MAX_AUTH_LINE if command.verb is Verb.AUTH else MAX_COMMAND_LINE
        if len(line) + len(CRLF) > limit:
            self._answer(SmtpReply.LINE_TOO_LONG)
            return None
        refusal = self._refusal(command.verb)
        if refusal is not None:
            self._answer(refusal)
            return None
        assert command.verb is not None  # _refusal() rejects unknown verbs
        try:
            return self._handlers[command.verb](command)
        except ArgumentError as error:
            self._answer(error.reply, **error.fields)
            return None

    def _refusal(self, verb: Verb | None) -> SmtpReply | None:
        """The reply refusing `verb` before its arguments are looked at."""
        if self._refusing and verb is not Verb.QUIT:
            return SmtpReply.NO_SERVICE
        if verb is None:
            return SmtpReply.UNKNOWN_COMMAND
        if verb in UNIMPLEMENTED:
            return SmtpReply.NOT_IMPLEMENTED
        if verb not in TRANSITIONS[self.state]:
            return self._sequence_error(verb)
        return None

    def _sequence_error(self, verb: Verb) -> SmtpReply:
        """Postfix's 503 texts for a command in the wrong state (smtpd.c)."""
        if verb is Verb.AUTH and not self.config.offer_auth:
            return SmtpReply.AUTH_NOT_ENABLED
        if self.state is ServerState.GREETED:
            return SmtpReply.NEED_HELO
        if verb is Verb.MAIL:
            return SmtpReply.NESTED_MAIL
        if verb is Verb.RCPT:
            return SmtpReply.NEED_MAIL
        if verb is Verb.DATA:  # Postfix smtpd.c data_cmd()
            in_mail = self.state is ServerState.MAIL
            return SmtpReply.NO_VALID_RECIPIENTS if in_mail else SmtpReply.NEED_RCPT
        return SmtpReply.MAIL_IN_PROGRESS

    # ---- commands answered by the machine itself ----

    def _hello(self, command: Command) -> None:
        assert command.verb is not None
        if not command.argument:
            raise ArgumentError(SmtpReply.HELO_SYNTAX, {"verb": command.verb.value})
        self.helo_name = command.argument
        self.esmtp = command.verb is Verb.EHLO
        self.envelope = None  # RFC 5321 §4.1.4: EHLO resets a transaction
        self._advance(command.verb)
        self._send(self._ehlo_reply() if self.esmtp else self._helo_reply())

    def _helo_reply(self) -> Reply:
        return reply(SmtpReply.HELO_OK, hostname=self.config.hostname)

    def _ehlo_reply(self) -> Reply:
        """RFC 5321 §4.1.1.1: greeting line, then one extension per line."""
        extensions = [f"SIZE {self.config.max_message_size}"]  # RFC 1870
        if self.config.offer_auth:
            extensions.append("AUTH PLAIN")  # RFC 4954
        extensions += ["ENHANCEDSTATUSCODES", "8BITMIME"]  # RFC 2034, RFC 6152
        first = self._helo_reply()
        return Reply(first.code, first.enhanced, first.lines + tuple(extensions))

    def _rset(self, command: Command) -> None:
        if command.argument:
            raise ArgumentError(SmtpReply.SYNTAX, {"usage": "RSET"})
        self.envelope = None
        self._advance(Verb.RSET)
        self._answer(SmtpReply.OK)

    def _noop(self, command: Command) -> None:
        self._advance(Verb.NOOP)  # RFC 5321 §4.1.1.9: any argument is ignored
        self._answer(SmtpReply.OK)

    def _vrfy(self, command: Command) -> None:
        if not command.argument:
            raise ArgumentError(SmtpReply.SYNTAX, {"usage": "VRFY address"})
        self._advance(Verb.VRFY)
        self._answer(SmtpReply.VRFY_CANNOT)  # RFC 5321 §3.5.3

    def _quit(self, command: Command) -> None:
        self._answer(SmtpReply.BYE)
        self._advance(Verb.QUIT)

    # ---- the mail transaction ----

    def _mail(self, command: Command) -> MailFromReceived:
        if self.config.auth_required and self.authenticated_user is None:
            raise ArgumentError(SmtpReply.AUTH_REQUIRED)  # RFC 6409 §4.3
        parsed = parse_path_argument(command.argument, "FROM", sender=True)
        size = self._mail_params(parsed.params)
        return MailFromReceived(parsed.path, size)

    def _mail_params(self, params: dict[str, str | None]) -> int | None:
        """Check MAIL's ESMTP parameters; return the SIZE= value, if any."""
        size = None
        for key, value in params.items():
            if not self.esmtp or key not in ("SIZE", "BODY"):
                raise ArgumentError(SmtpReply.UNKNOWN_PARAMETER, {"param": key})
            if key == "BODY" and (value or "").upper() not in BODY_TYPES:
                raise ArgumentError(SmtpReply.BAD_BODY)
            if key == "SIZE":
                size = self._size_param(value)
        return size

    def _size_param(self, value: str | None) -> int:
        """RFC 1870 §3: SIZE=digits; over the limit is 552 at MAIL (§6.1)."""
        if value is None or not value.isdigit() or not value.isascii():
            raise ArgumentError(SmtpReply.BAD_SIZE)
        size = int(value)
        if 0 < self.config.max_message_size < size:
            raise ArgumentError(SmtpReply.MESSAGE_TOO_BIG)
        return size

    def _rcpt(self, command: Command) -> RcptToReceived:
        parsed = parse_path_argument(command.argument, "TO", sender=False)
        if parsed.params:
            raise ArgumentError(SmtpReply.UNKNOWN_PARAMETER, {"param": next(iter(parsed.params))})
        envelope = self.envelope
        if envelope is not None and len(envelope.rcpt_to) >= self.config.max_recipients:
            raise ArgumentError(SmtpReply.TOO_MANY_RECIPIENTS)  # RFC 5321 §4.5.3.1.10
        return RcptToReceived(parsed.path)

    def _data(self, command: Command) -> None:
        if command.argument:
            raise ArgumentError(SmtpReply.SYNTAX, {"usage": "DATA"})
        self._advance(Verb.DATA)
        self._message = _MessageBuffer(self.config.max_message_size)
        self._answer(SmtpReply.START_DATA)

    def _data_line(self, line: bytes | LineTooLong) -> MessageReceived | None:
        message = self._message
        assert message is not None
        if line != b".":
            message.add(line)
            return None
        self._message = None
        refusal = message.refusal()
        if refusal is None and self.envelope is not None:
            return MessageReceived(self.envelope, bytes(message.content))
        self._answer(refusal or SmtpReply.LOCAL_ERROR)
        self.envelope = None
        self._advance(Verb.DATA_END)
        return None

    # ---- AUTH PLAIN (RFC 4954, RFC 4616) ----

    def _auth(self, command: Command) -> AuthReceived | None:
        if not self.config.offer_auth:
            raise ArgumentError(SmtpReply.AUTH_NOT_ENABLED)
        if self.authenticated_user is not None:
            raise ArgumentError(SmtpReply.ALREADY_AUTHENTICATED)
        mechanism, _, initial = command.argument.partition(" ")
        if not mechanism:
            raise ArgumentError(SmtpReply.SYNTAX, {"usage": "AUTH mechanism"})
        if mechanism.upper() != "PLAIN":
            raise ArgumentError(SmtpReply.AUTH_MECHANISM)
        self._advance(Verb.AUTH)
        if not initial.strip():
            self._answer(SmtpReply.AUTH_CONTINUE)
            return None
        return self._auth_response(initial.strip())

    def _auth_line(self, line: bytes | LineTooLong) -> AuthReceived | None:
        if isinstance(line, LineTooLong):
            return self._auth_finish(SmtpReply.AUTH_BAD_BASE64)
        return self._auth_response(line.decode("ascii", "replace").strip())

    def _auth_response(self, text: str) -> AuthReceived | None:
        if text == "*":
            return self._auth_finish(SmtpReply.AUTH_ABORTED)  # RFC 4954 §4
        try:
            credentials = decode_plain(text)
        except Base64Error:
            return self._auth_finish(SmtpReply.AUTH_BAD_BASE64)
        if credentials is None:
            return self._auth_finish(SmtpReply.AUTH_FAILED)
        return AuthReceived(
            "PLAIN", credentials.authzid, credentials.username, credentials.password
        )

    def _auth_finish(self, key: SmtpReply) -> None:
        self._answer(key)
        self._advance(Verb.AUTH_RESPONSE)
