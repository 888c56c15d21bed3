"""The SMTP server state machine (RFC 5321, AUTH per RFC 4954, STARTTLS per RFC 3207).

The server answers everything that needs no policy by itself and hands
the agent one decision at a time (MAIL, RCPT, the message, AUTH), which
the agent answers with `respond()`.  Every answer, the machine's own or the
agent's, goes through `_answer()`, where it is counted, changes the session
and moves the state; `_move()` is the only code that applies `TRANSITIONS`
(the one input that moves without a reply of its own is an AUTH initial
response, RFC 4954 §4).  Every text comes from `REPLIES`.

Error limits follow Postfix smtpd: each 4yz/5yz answer is an error, and a
message accepted for delivery forgives them.  From smtpd_soft_error_limit
errors on, Postfix sleeps smtpd_error_sleep_time before each reply; this
machine cannot sleep, so it adds that time to `reply_delay` for the agent
to honour.  At smtpd_hard_error_limit it says 421 and closes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from simulator.protocols.common import (
    CRLF,
    NEED_DATA,
    Line,
    LineBuffer,
    LineTooLong,
    NeedData,
)
from simulator.protocols.smtp.auth import MECHANISM, plain_response
from simulator.protocols.smtp.commands import (
    UNIMPLEMENTED,
    Command,
    CommandRefused,
    ContentReader,
    Verb,
    check_mail_params,
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
from simulator.protocols.smtp.replies import REPLIES, Reply, SmtpReply, ehlo_reply, reply
from simulator.protocols.smtp.server_config import SmtpServerConfig, SmtpUsageError
from simulator.protocols.smtp.starttls import ehlo_offers, starttls_refusal
from simulator.protocols.smtp.states import ENDS_ON_ANY_REPLY, TRANSITIONS, ServerState, known_verbs
from simulator.protocols.tls import TlsRequested, TlsVersion

MAX_COMMAND_LINE = 512  # RFC 5321 §4.5.3.1.4, octets incl. CRLF
MAX_AUTH_LINE = 12288  # RFC 4954 §4: AUTH lines may be this long
LINE_LENGTH_LIMIT = 2048  # Postfix line_length_limit: longer content lines come in pieces

#: What a handler gives back: the machine's reply, a decision for the agent,
#: or None when the command has already been dealt with.
Outcome = Reply | ServerEvent | None


class SmtpServer:
    """One server side of an SMTP session, sans I/O."""

    #: The dialect: its state table and its reply texts (LMTP has its own, RFC 2033).
    transitions: Mapping[ServerState, Mapping[Verb, ServerState]] = TRANSITIONS
    replies: Mapping[Any, tuple[int, str | None, str]] = REPLIES
    known: frozenset[Verb] = known_verbs(TRANSITIONS)  # worked out once for the class
    handlers: Mapping[Verb, str] = {  # each command's method, by name (a subclass may override)
        Verb.HELO: "_hello", Verb.EHLO: "_hello", Verb.MAIL: "_mail", Verb.RCPT: "_rcpt",
        Verb.DATA: "_data", Verb.RSET: "_rset", Verb.NOOP: "_noop", Verb.VRFY: "_vrfy",
        Verb.QUIT: "_quit", Verb.AUTH: "_auth", Verb.STARTTLS: "_starttls",
    }  # fmt: skip
    #: What an answer that moves the state does to the session, by input: a method's name.
    effects: Mapping[Verb, str] = {
        Verb.HELO: "_introduced", Verb.EHLO: "_introduced", Verb.RSET: "_reset",
        Verb.MAIL: "_sender_accepted", Verb.RCPT: "_recipient_accepted",
        Verb.DATA: "_content_begins", Verb.DATA_END: "_transaction_over",
        Verb.AUTH_RESPONSE: "_sasl_over", Verb.STARTTLS: "_tls_starts",
    }  # fmt: skip

    def __init__(self, config: SmtpServerConfig) -> None:
        self.config = config
        self.state = ServerState.CONNECTED
        self.helo_name: str | None = None
        self.esmtp = False
        self.authenticated_user: str | None = None
        self.envelope: Envelope | None = None
        self.error_count = 0
        self.tls: TlsVersion | None = None  # the TLS version once the session is encrypted
        self._tls_requested = False  # 220 to STARTTLS queued: the handshake comes next
        #: Seconds the agent should wait before sending `data_to_send()`
        #: (Postfix smtpd_error_sleep_time per reply past the soft limit).
        self.reply_delay = 0.0
        self._lines = LineBuffer(MAX_AUTH_LINE)
        self._out = bytearray()
        self._pending: tuple[Verb, ServerEvent] | None = None  # (input, decision asked)
        self._refusing = False  # RFC 5321 §3.1: after a 554 greeting
        self._content: ContentReader | None = None

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

    def next_event(self) -> ServerEvent | TlsRequested | NeedData:
        """Process buffered input until a decision (or, after the 220 to
        STARTTLS, the handshake: `TlsRequested`) is needed or bytes run out."""
        if self._pending is not None:
            raise SmtpUsageError("respond() to the pending event first")
        while self.state not in (ServerState.CONNECTED, ServerState.CLOSED):
            if self._tls_requested:
                self._tls_requested = False
                return TlsRequested(self.config.tls_version)
            if not self._step():
                break
            if self._pending is not None:
                return self._pending[1]
        return NEED_DATA

    def tls_established(self, version: TlsVersion) -> None:
        """The handshake is over (after STARTTLS, or first thing on port 465)."""
        self.tls = version

    def respond(self, reply: Reply) -> None:
        """Answer the pending decision; a positive reply advances the state."""
        pending, self._pending = self._pending, None
        if pending is None:
            raise SmtpUsageError("no decision is pending")
        verb, event = pending
        self._answer(verb, reply, event)

    def close(self, reply: Reply) -> None:
        """Queue a last reply (e.g. 421) and end the session."""
        self._pending = None
        self._send(reply)
        self._hang_up()

    def reply_for(self, key: SmtpReply, **fields: str) -> Reply:
        """The reply `key` in this server's words (its dialect's table)."""
        return reply(key, table=self.replies, **fields)

    def data_to_send(self) -> bytes:
        """Everything queued since the last call; `reply_delay` starts again at 0."""
        data = bytes(self._out)
        self._out.clear()
        self.reply_delay = 0.0
        return data

    # ---- engine ----

    def _step(self) -> bool:
        """Take one line (or content piece) of input; False if none is complete."""
        if self.state is ServerState.DATA:
            if self._content is not None and self._content.take_plain_lines(self._lines):
                return True
            piece = self._lines.next_piece(LINE_LENGTH_LIMIT)
            if piece is not None:
                self._content_piece(piece)
            return piece is not None
        line = self._lines.next_framed()
        if line is not None:
            (self._sasl_line if self.state is ServerState.AUTH else self._command_line)(line)
        return line is not None

    def _conclude(self, verb: Verb | None, outcome: Outcome, subject: object = None) -> None:
        """Send the machine's reply to an input, or hand its decision to the agent."""
        if isinstance(outcome, Reply):
            self._answer(verb, outcome, subject)
        elif outcome is not None and verb is not None:
            self._pending = (verb, outcome)

    def _answer(self, verb: Verb | None, answer: Reply, subject: object) -> None:
        """Send `answer` to input `verb`; the one place the state moves."""
        self._send(answer)
        if answer.code == 421:  # RFC 5321 §3.8: 421 closes the channel
            self._hang_up()
            return
        moves = answer.is_positive or verb in ENDS_ON_ANY_REPLY
        if verb is not None and moves:
            effect = self.effects.get(verb)
            if effect is not None:
                getattr(self, effect)(subject, answer)
            self._move(verb)
        if answer.code >= 400:
            self._count_error()

    def _move(self, verb: Verb) -> None:
        self.state = self.transitions[self.state][verb]

    def _hang_up(self) -> None:
        self.state = ServerState.CLOSED

    def _count_error(self) -> None:
        """Postfix smtpd: every error counts; at the hard limit, 421 and close."""
        self.error_count += 1
        if self.error_count >= self.config.smtpd_hard_error_limit:
            self._send(self.reply_for(SmtpReply.TOO_MANY_ERRORS, hostname=self.config.hostname))
            self._hang_up()

    def _greeting(self) -> Reply:
        config = self.config
        return self.reply_for(SmtpReply.GREETING, hostname=config.hostname,
                              software=config.software)

    def _send(self, answer: Reply) -> None:
        if self.error_count >= self.config.smtpd_soft_error_limit:
            self.reply_delay += self.config.smtpd_error_sleep_time  # Postfix smtpd_chat.c
        self._out += answer.to_bytes()

    # ---- commands ----

    def _command_line(self, line: Line | LineTooLong) -> None:
        if isinstance(line, LineTooLong):
            self._conclude(None, self.reply_for(SmtpReply.LINE_TOO_LONG))
            return
        command = parse_command(line.content.decode("ascii", "replace"))
        try:
            verb = self._admit(command, len(line.content) + len(CRLF))
            outcome = getattr(self, self.handlers[verb])(command)
        except CommandRefused as refusal:
            outcome = self.reply_for(refusal.reply, **refusal.fields)
        self._conclude(command.verb, outcome, command)

    def _admit(self, command: Command, length: int) -> Verb:
        """The verb of a command that may run now; else `CommandRefused`."""
        verb = command.verb
        limit = MAX_AUTH_LINE if verb is Verb.AUTH else MAX_COMMAND_LINE
        if length > limit:
            raise CommandRefused(SmtpReply.LINE_TOO_LONG)
        if self._refusing and verb is not Verb.QUIT:
            raise CommandRefused(SmtpReply.NO_SERVICE)
        if verb is None or verb not in self.known:  # e.g. LHLO to SMTP, EHLO to LMTP
            raise CommandRefused(SmtpReply.UNKNOWN_COMMAND)
        if verb in UNIMPLEMENTED:
            raise CommandRefused(SmtpReply.NOT_IMPLEMENTED)
        if self.helo_name is None and self._needs_helo(verb):
            raise CommandRefused(SmtpReply.NEED_HELO)
        if verb not in self.transitions[self.state]:
            raise CommandRefused(self._sequence_error(verb))
        return verb

    def _needs_helo(self, verb: Verb) -> bool:
        """AUTH always does (Postfix smtpd_sasl_proto.c); MAIL if smtpd_helo_required."""
        return verb is Verb.AUTH or (verb is Verb.MAIL and self.config.smtpd_helo_required)

    def _sequence_error(self, verb: Verb) -> SmtpReply:
        """Postfix's 503 texts for a command in the wrong state (smtpd.c)."""
        if verb is Verb.MAIL:
            return SmtpReply.NESTED_MAIL
        if verb is Verb.RCPT:
            return SmtpReply.NEED_MAIL
        if verb is Verb.DATA:  # Postfix smtpd.c data_cmd()
            in_mail = self.state is ServerState.MAIL
            return SmtpReply.NO_VALID_RECIPIENTS if in_mail else SmtpReply.NEED_RCPT
        if verb is Verb.AUTH and not self.config.offer_auth:
            return SmtpReply.AUTH_NOT_ENABLED
        return SmtpReply.MAIL_IN_PROGRESS

    def _hello(self, command: Command) -> Reply:
        assert command.verb is not None
        if not command.argument:
            raise CommandRefused(SmtpReply.HELO_SYNTAX, {"verb": command.verb.value})
        config = self.config
        if command.verb is Verb.HELO:
            return self.reply_for(SmtpReply.HELO_OK, hostname=config.hostname)
        auth, starttls = ehlo_offers(config, self.tls)
        return ehlo_reply(config.hostname, config.max_message_size, auth, starttls)

    def _rset(self, command: Command) -> Reply:
        if command.argument:
            raise CommandRefused(SmtpReply.RSET_SYNTAX)
        return self.reply_for(SmtpReply.OK)

    def _noop(self, command: Command) -> Reply:
        return self.reply_for(SmtpReply.OK)  # RFC 5321 §4.1.1.9: any argument is ignored

    def _vrfy(self, command: Command) -> Reply:
        if not command.argument:
            raise CommandRefused(SmtpReply.VRFY_SYNTAX)
        return self.reply_for(SmtpReply.VRFY_CANNOT)  # RFC 5321 §3.5.3

    def _quit(self, command: Command) -> Reply:
        return self.reply_for(SmtpReply.BYE)

    def _starttls(self, command: Command) -> Reply:
        refusal = starttls_refusal(command.argument, self.tls, self.config.starttls)
        if refusal is not None:
            raise CommandRefused(refusal)
        return self.reply_for(SmtpReply.TLS_READY)

    # ---- the mail transaction ----

    def _mail(self, command: Command) -> MailFromReceived:
        if self.config.auth_required and self.authenticated_user is None:
            raise CommandRefused(SmtpReply.AUTH_REQUIRED)  # RFC 6409 §4.3
        strict = self.config.strict_rfc821_envelopes
        parsed = parse_path_argument(command.argument, "FROM", sender=True, strict=strict)
        size = check_mail_params(parsed.params, self.esmtp, self.config.max_message_size)
        return MailFromReceived(parsed.path, size)

    def _rcpt(self, command: Command) -> RcptToReceived:
        strict = self.config.strict_rfc821_envelopes
        parsed = parse_path_argument(command.argument, "TO", sender=False, strict=strict)
        if parsed.params:
            param = next(iter(parsed.params))
            raise CommandRefused(SmtpReply.UNKNOWN_PARAMETER, {"param": param})
        envelope = self.envelope
        if envelope is not None and len(envelope.rcpt_to) >= self.config.max_recipients:
            raise CommandRefused(SmtpReply.TOO_MANY_RECIPIENTS)  # RFC 5321 §4.5.3.1.10
        return RcptToReceived(parsed.path)

    def _data(self, command: Command) -> Reply:
        if command.argument:
            raise CommandRefused(SmtpReply.DATA_SYNTAX)
        return self.reply_for(SmtpReply.START_DATA)

    def _content_piece(self, piece: Line) -> None:
        content = self._content
        assert content is not None  # set when DATA moved the state here
        if not content.take(piece):
            return
        outcome: Outcome = self.reply_for(SmtpReply.LOCAL_ERROR)  # no envelope: cannot happen
        if content.too_big:  # RFC 1870 §6.3 / RFC 5321 §4.5.3.1.10
            outcome = self.reply_for(SmtpReply.MESSAGE_TOO_BIG)
        elif self.envelope is not None:
            outcome = MessageReceived(self.envelope, bytes(content.content))
        self._conclude(Verb.DATA_END, outcome)

    # ---- AUTH PLAIN (RFC 4954, RFC 4616) ----

    def _auth(self, command: Command) -> Outcome:
        if not self.config.offer_auth:
            raise CommandRefused(SmtpReply.AUTH_NOT_ENABLED)
        if self.config.tls_auth_only and self.tls is None:
            raise CommandRefused(SmtpReply.TLS_REQUIRED)  # Postfix smtpd_tls_auth_only
        if self.authenticated_user is not None:
            raise CommandRefused(SmtpReply.ALREADY_AUTHENTICATED)
        mechanism, _, initial = command.argument.partition(" ")
        if not mechanism:
            raise CommandRefused(SmtpReply.AUTH_SYNTAX)
        if mechanism.upper() != MECHANISM:
            raise CommandRefused(SmtpReply.AUTH_MECHANISM)
        if not initial.strip():
            return self.reply_for(SmtpReply.AUTH_CONTINUE)  # the empty challenge moves to AUTH
        # RFC 4954 §4: an initial response answers the empty challenge at once
        self._move(Verb.AUTH)
        self._sasl_response(initial.strip())
        return None

    def _sasl_line(self, line: Line | LineTooLong) -> None:
        if isinstance(line, LineTooLong):
            self._conclude(Verb.AUTH_RESPONSE, self.reply_for(SmtpReply.AUTH_BAD_BASE64))
        else:
            self._sasl_response(line.content.decode("ascii", "replace").strip())

    def _sasl_response(self, text: str) -> None:
        outcome = plain_response(text, self.config.sasl_act_as)
        if isinstance(outcome, SmtpReply):
            self._conclude(Verb.AUTH_RESPONSE, self.reply_for(outcome))
            return
        event = AuthReceived(MECHANISM, outcome.authzid, outcome.username, outcome.password)
        self._conclude(Verb.AUTH_RESPONSE, event)

    # ---- what answers that move the state do to the session ----

    def _introduced(self, command: Command, answer: Reply) -> None:
        self.helo_name = command.argument
        self.esmtp = command.verb is not Verb.HELO  # EHLO, or LMTP's LHLO
        self.envelope = None  # RFC 5321 §4.1.4: HELO/EHLO reset a transaction

    def _reset(self, command: Command, answer: Reply) -> None:
        self.envelope = None

    def _tls_starts(self, command: Command, answer: Reply) -> None:
        """RFC 3207 §4.2: forget it all; drop what came in clear after STARTTLS (CVE-2011-0411)."""
        self.helo_name = self.authenticated_user = self.envelope = None
        self.esmtp, self._lines = False, LineBuffer(MAX_AUTH_LINE)
        self._tls_requested = True

    def _sender_accepted(self, event: MailFromReceived, answer: Reply) -> None:
        self.envelope = Envelope(event.reverse_path, ())

    def _recipient_accepted(self, event: RcptToReceived, answer: Reply) -> None:
        if self.envelope is not None:
            rcpt_to = (*self.envelope.rcpt_to, event.forward_path)
            self.envelope = replace(self.envelope, rcpt_to=rcpt_to)

    def _content_begins(self, command: Command, answer: Reply) -> None:
        self._content = ContentReader(self.config.max_message_size)

    def _transaction_over(self, event: MessageReceived | None, answer: Reply) -> None:
        self.envelope = None  # RFC 5321 §4.1.1.4: any reply ends the transaction
        self._content = None
        if answer.code < 300:
            self.error_count = 0  # Postfix: a received message forgives earlier errors

    def _sasl_over(self, event: AuthReceived | None, answer: Reply) -> None:
        if event is not None and answer.code < 300:
            self.authenticated_user = event.authzid or event.username
