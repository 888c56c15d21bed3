"""The SMTP client state machine: sends prepared transactions, reports fates.

The client needs no decisions from its caller.  It waits for the greeting,
introduces itself (EHLO, falling back to HELO), authenticates with AUTH
PLAIN when given credentials, then runs each transaction and says QUIT.
When the server offers PIPELINING (RFC 2920) it sends MAIL, every RCPT and
DATA as one group and reads the replies in order, as Postfix's smtp
client does; otherwise one command at a time.  Content with 8-bit octets
goes with BODY=8BITMIME when the server offers 8BITMIME (RFC 6152).  Every
transaction gets exactly one `TransactionResult`, whatever the server or
the connection does.

The engine is small: a reply is matched with the oldest command in flight,
checked (`_unexpected`), read by the handler of the current state, which
does the bookkeeping and names the `ClientInput` it amounts to, and `_move`
-- the one place the state changes -- follows `CLIENT_TRANSITIONS` and
sends the new state's command, with the rest of its group when
pipelining, unless that command went out with an earlier group.
When no reply will come (the server closed, the caller timed out, the
connection broke, the server's bytes made no sense) the client says so with
that event; it never makes up a reply the server did not send.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from simulator.protocols.common import (
    CRLF,
    NEED_DATA,
    ClientEnding,
    ConnectionClosed,
    Interruption,
    LineBuffer,
    LineTooLong,
    LocalProtocolError,
    NeedData,
    RemoteProtocolError,
    TlsUnavailable,
)
from simulator.protocols.smtp.auth import encode_plain
from simulator.protocols.smtp.client_states import (
    CLIENT_TRANSITIONS,
    COMMANDS,
    IN_CLEAR,
    PIPELINED_AFTER,
    ClientInput,
    ClientState,
    Violation,
    ehlo_extensions,
    mail_parameters,
)
from simulator.protocols.smtp.commands import dot_stuff
from simulator.protocols.smtp.events import (
    ClientEvent,
    Envelope,
    RecipientResult,
    SessionClosed,
    TransactionResult,
)
from simulator.protocols.smtp.replies import Reply
from simulator.protocols.tls import TlsPolicy, TlsRequested, TlsVersion

MAX_REPLY_LINE = 512  # RFC 5321 §4.5.3.1.5, octets incl. CRLF
MAX_REPLY_LINES = 100  # our bound on one multi-line reply from a hostile peer
CLOSING_CODE = 421  # RFC 5321 §3.8: the server is closing the transmission channel

@dataclass(frozen=True)
class SmtpClientConfig:
    """Who the client says it is, and its AUTH credentials if any."""

    helo_name: str
    username: str | None = None
    password: str | None = None
    tls: TlsPolicy = TlsPolicy.NONE  # STARTTLS (RFC 3207): never, when offered, or required


class SmtpClient(ClientEnding):
    """One client side of an SMTP session, sans I/O."""

    #: The dialect: the table the client moves along and what each state sends
    #: (LMTP has its own, RFC 2033).
    transitions: Mapping[ClientState, Mapping[ClientInput, ClientState]] = CLIENT_TRANSITIONS
    commands: Mapping[ClientState, str] = COMMANDS
    #: The method that reads the reply to each state's command, by name.
    readers: Mapping[ClientState, str] = {
        ClientState.GREETING: "_on_greeting", ClientState.EHLO: "_on_ehlo",
        ClientState.HELO: "_on_helo", ClientState.AUTH: "_on_auth",
        ClientState.AUTH_CANCEL: "_on_auth", ClientState.MAIL: "_on_mail",
        ClientState.STARTTLS: "_on_starttls", ClientState.RCPT: "_on_rcpt",
        ClientState.DATA: "_on_data", ClientState.CONTENT: "_on_content",
        ClientState.REST_OF_GROUP: "_on_rest_of_group",
        ClientState.LONE_DOT: "_on_rset",  # any reply
        ClientState.RSET: "_on_rset", ClientState.QUIT: "_on_quit",
    }  # fmt: skip

    def __init__(self, config: SmtpClientConfig, transactions: Sequence[tuple[Envelope, bytes]]):
        if any(not envelope.rcpt_to for envelope, _ in transactions):
            raise LocalProtocolError("every transaction needs at least one recipient")
        self.config = config
        self.transactions = list(transactions)
        self.state = ClientState.GREETING
        self.extensions: dict[str, str] = {}  # EHLO keyword -> parameters
        self.tls: TlsVersion | None = None  # the TLS version once the session is encrypted
        self._lines = LineBuffer(MAX_REPLY_LINE)
        self._reply_lines: list[str] = []
        self._out = bytearray()
        # What was sent and not answered yet, oldest first: each reply answers
        # the first (RFC 2920 §3.1: replies come in the order of the commands).
        self._in_flight: deque[ClientState] = deque()
        self._events: deque[ClientEvent | TlsRequested] = deque()
        self._end_of_input = False
        self._index = 0  # first unresolved transaction
        self._next_rcpt = 0
        self._accepted: list[str] = []

    # ---- public API ----

    @property
    def closed(self) -> bool:
        """True once the session is over (its last event is queued)."""
        return self.state is ClientState.CLOSED

    def add_transaction(self, envelope: Envelope, content: bytes) -> int:
        """Run one more transaction in this session, after those given; its index.

        Allowed until the client has decided to say QUIT: a caller adds one
        when the reply to an RCPT tells it to (say "452 too many recipients",
        RFC 5321 §4.5.3.1.10), while the current transaction goes on.
        """
        if not envelope.rcpt_to:
            raise LocalProtocolError("every transaction needs at least one recipient")
        if self.state in (ClientState.QUIT, ClientState.CLOSED):
            raise LocalProtocolError("the session is over: no transaction can be added")
        self.transactions.append((envelope, content))
        return len(self.transactions) - 1

    def tls_established(self, version: TlsVersion) -> None:
        """The handshake is over: after STARTTLS, EHLO again (RFC 3207 §4.2)."""
        self.tls = version
        if self.state is ClientState.TLS_HANDSHAKE:
            self.extensions = {}
            self._move(ClientInput.TLS_ESTABLISHED)

    def next_event(self) -> ClientEvent | TlsRequested | NeedData:
        """The next result, or NEED_DATA until more replies arrive."""
        while not self._events and not self.closed:
            answer = self._next_reply()
            if answer is not None:
                self._on_reply(answer)
            elif self._end_of_input and not self.closed:
                self._cut_off(ConnectionClosed())  # the server closed without a word
            else:
                break
        return self._events.popleft() if self._events else NEED_DATA

    def data_to_send(self) -> bytes:
        """Everything queued since the last call."""
        data = bytes(self._out)
        self._out.clear()
        return data

    # ---- reading replies (RFC 5321 §4.2.1) ----

    def _next_reply(self) -> Reply | None:
        while not self.closed and (line := self._lines.next_line()) is not None:
            if isinstance(line, LineTooLong):
                self._violation(Violation.TOO_LONG, length=line.length)
                return None
            text = line.decode("utf-8", "replace")
            self._reply_lines.append(text)
            if text[3:4] == "-":
                if len(self._reply_lines) >= MAX_REPLY_LINES:
                    self._violation(Violation.TOO_MANY_LINES, count=MAX_REPLY_LINES)
                    return None
                continue
            lines, self._reply_lines = self._reply_lines, []
            try:
                return Reply.parse(lines)
            except ValueError:
                self._violation(Violation.MALFORMED, line=_printable(text))
        return None

    def _violation(self, violation: Violation, **fields: object) -> None:
        """The server broke the protocol: the conversation cannot go on."""
        self._cut_off(RemoteProtocolError(violation.value.format(**fields)))

    def _on_reply(self, answer: Reply) -> None:
        answered = self._in_flight.popleft() if self._in_flight else self.state
        if self._unexpected(answer, answered):
            self._violation(Violation.UNEXPECTED, code=answer.code, state=answered.value)
        elif answer.code == CLOSING_CODE and self.state is not ClientState.QUIT:
            self._resolve_rest(answer)  # RFC 5321 §3.8: 421 ends the session
            self._events.append(SessionClosed(answer))
            self._move(ClientInput.CLOSING)
        else:
            self._move(getattr(self, self.readers[self.state])(answer))

    @staticmethod
    def _unexpected(answer: Reply, answered: ClientState) -> bool:
        """A reply of a class the command `answered` cannot get (RFC 5321 §4.3.2)."""
        intermediate = answer.code // 100 == 3
        if answered is ClientState.TLS_HANDSHAKE:
            return True  # nothing may come in clear before the handshake
        if answered is ClientState.DATA:
            return answer.code // 100 == 2
        if answered is ClientState.AUTH:
            return intermediate and answer.code != 334  # RFC 4954 §4
        return intermediate

    # ---- moving on: the one place the state changes ----

    def _move(self, given: ClientInput) -> None:
        """Follow `CLIENT_TRANSITIONS`; send the new state's command unless it is out.

        While commands are in flight, the state entered is the one whose
        command comes next in their group (or REST_OF_GROUP): nothing is sent.
        """
        self.state = self.transitions[self.state][given]
        if self.state is ClientState.CLOSED:
            self._in_flight.clear()
        elif not self._in_flight:
            self._send_group()

    def _send_group(self) -> None:
        """Send the command of the state entered and, when pipelining, the rest of its group."""
        group = [self.state]
        if "PIPELINING" in self.extensions:  # RFC 2920 §3.1
            group += self._pipelined_after()
        recipient = self._next_rcpt
        for state in group:
            self._send(state, recipient)
            if state is ClientState.RCPT:
                recipient += 1

    def _pipelined_after(self) -> list[ClientState]:
        """The states whose commands follow the current one in its group (RCPT: one each)."""
        after: list[ClientState] = []
        for state in PIPELINED_AFTER.get(self.state, ()):
            if state is ClientState.RCPT:
                envelope, _ = self.transactions[self._index]
                after += [state] * len(envelope.rcpt_to)
            else:
                after.append(state)
        return after

    def _send(self, state: ClientState, recipient: int) -> None:
        """Queue the command of `state` (for RCPT: to recipient number `recipient`)."""
        if state is ClientState.CONTENT:
            _, content = self.transactions[self._index]
            self._out += dot_stuff(content)  # RFC 5321 §4.5.2
        elif state in self.commands:
            line = self.commands[state].format(**self._command_fields(state, recipient))
            self._out += line.encode("utf-8") + CRLF
        else:
            return
        self._in_flight.append(state)

    def _command_fields(self, state: ClientState, recipient: int) -> dict[str, object]:
        """What the command of `state` needs to be written."""
        fields: dict[str, object] = {"helo_name": self.config.helo_name}
        if state is ClientState.AUTH:
            username, password = self.config.username or "", self.config.password or ""
            fields["response"] = encode_plain(username, password)  # RFC 4954 §4
        elif state is ClientState.MAIL:
            envelope, content = self.transactions[self._index]
            fields.update(sender=envelope.mail_from, **mail_parameters(content, self.extensions))
        elif state is ClientState.RCPT:
            envelope, _ = self.transactions[self._index]
            fields["recipient"] = envelope.rcpt_to[recipient]
        return fields

    def _cut_off(self, interruption: Interruption) -> None:
        """No reply will come: resolve what is left with `interruption`, report it."""
        self._resolve_rest(interruption)
        self._events.append(interruption)
        self._reply_lines = []
        self._move(ClientInput.CUT_OFF)

    def _finish_transaction(self, outcome: Reply | Interruption) -> None:
        envelope, _ = self.transactions[self._index]
        self._events.append(TransactionResult(self._index, envelope, outcome,
                                              tuple(self._accepted)))
        self._index += 1
        self._next_rcpt = 0
        self._accepted = []

    def _resolve_rest(self, outcome: Reply | Interruption) -> None:
        while self._index < len(self.transactions):
            self._finish_transaction(outcome)

    def _mail_or_done(self) -> ClientInput:
        """After the greeting dance: a transaction to start, or QUIT."""
        more = self._index < len(self.transactions)
        return ClientInput.SEND_MAIL if more else ClientInput.NOTHING_TO_SEND

    def _more_or_done(self) -> ClientInput:
        """After a transaction: the next one, or QUIT."""
        more = self._index < len(self.transactions)
        return ClientInput.MORE_MAIL if more else ClientInput.NO_MORE_MAIL

    # ---- reading each reply: bookkeeping, then what it means ----

    def _on_greeting(self, answer: Reply) -> ClientInput:
        if answer.code // 100 == 2:
            return ClientInput.ACCEPTED
        self._resolve_rest(answer)  # RFC 5321 §3.1: a 554 greeting awaits QUIT
        return ClientInput.REFUSED

    def _on_ehlo(self, answer: Reply) -> ClientInput:
        if answer.code // 100 == 2:
            self.extensions = ehlo_extensions(answer.lines)
            return self._after_hello()
        if answer.is_permanent:
            return ClientInput.REFUSED_PERMANENTLY  # RFC 5321 §3.2: try HELO
        self._resolve_rest(answer)
        return ClientInput.REFUSED_TEMPORARILY

    def _on_helo(self, answer: Reply) -> ClientInput:
        if answer.code // 100 == 2:
            self.extensions = {}
            return self._after_hello()
        self._resolve_rest(answer)
        return ClientInput.REFUSED

    def _after_hello(self, in_clear: bool = False) -> ClientInput:
        """What comes after EHLO: STARTTLS, AUTH, MAIL or QUIT (`in_clear`: STARTTLS failed)."""
        config = self.config
        if self.tls is None and config.tls is not TlsPolicy.NONE and not in_clear:
            if "STARTTLS" in self.extensions:
                return ClientInput.START_TLS
            if config.tls is TlsPolicy.REQUIRE:  # Postfix smtp_tls_security_level = encrypt
                self._resolve_rest(TlsUnavailable())
                return ClientInput.TLS_NOT_OFFERED
        mechanisms = self.extensions.get("AUTH", "").upper().split()
        if config.username is not None and config.password is not None and "PLAIN" in mechanisms:
            return ClientInput.AUTHENTICATE
        return self._mail_or_done()

    def _on_auth(self, answer: Reply) -> ClientInput:
        if answer.code // 100 == 2:
            return self._mail_or_done()
        if answer.code == 334:
            return ClientInput.CHALLENGE  # PLAIN needs no challenge: cancel with "*"
        self._resolve_rest(answer)
        return ClientInput.REFUSED

    def _on_starttls(self, answer: Reply) -> ClientInput:
        if answer.code // 100 == 2:  # drop what came in clear after the 220 (CVE-2011-1575)
            self._lines = LineBuffer(MAX_REPLY_LINE)
            self._events.append(TlsRequested())
            return ClientInput.ACCEPTED
        if self.config.tls is TlsPolicy.MAY:
            return IN_CLEAR[self._after_hello(in_clear=True)]
        self._resolve_rest(answer)
        return ClientInput.REFUSED

    def _on_quit(self, answer: Reply) -> ClientInput:
        self._events.append(SessionClosed(answer))
        return ClientInput.ANY

    def _on_mail(self, answer: Reply) -> ClientInput:
        if answer.code // 100 == 2:
            return ClientInput.ACCEPTED
        self._finish_transaction(answer)
        if self._in_flight:  # its RCPTs and DATA are sent: their replies are owed
            return ClientInput.REFUSED_IN_GROUP
        return ClientInput.REFUSED

    def _on_rcpt(self, answer: Reply) -> ClientInput:
        envelope, _ = self.transactions[self._index]
        recipient = envelope.rcpt_to[self._next_rcpt]
        self._events.append(RecipientResult(self._index, recipient, answer))
        if answer.code // 100 == 2:
            self._accepted.append(recipient)
        self._next_rcpt += 1
        if self._next_rcpt < len(envelope.rcpt_to):
            return ClientInput.NEXT_RECIPIENT
        if self._accepted:
            return ClientInput.SOME_ACCEPTED
        self._finish_transaction(answer)
        if self._in_flight:  # DATA is sent: its reply is owed (RFC 2920 §3.1)
            return ClientInput.NONE_ACCEPTED_IN_GROUP
        return ClientInput.NONE_ACCEPTED

    def _on_data(self, answer: Reply) -> ClientInput:
        if answer.code // 100 == 3:
            return ClientInput.GO_AHEAD
        self._finish_transaction(answer)
        return ClientInput.REFUSED

    def _on_content(self, answer: Reply) -> ClientInput:
        self._finish_transaction(answer)  # RFC 5321 §6.1: 2yz hands over responsibility
        return self._more_or_done()

    def _on_rest_of_group(self, answer: Reply) -> ClientInput:
        """A reply to a command of a group whose transaction is over: dropped.

        The last one answers DATA.  RFC 2920 §3.1: a client "cannot assume
        that the DATA command will be rejected just because none of the RCPT
        TO commands worked"; on 354 it sends a single dot.
        """
        if self._in_flight:
            return ClientInput.REPLY_OWED
        return ClientInput.GO_AHEAD if answer.code // 100 == 3 else ClientInput.REFUSED

    def _on_rset(self, answer: Reply) -> ClientInput:
        """After RSET, or a lone dot (any reply to it ends the transaction, RFC 5321 §4.1.1.4)."""
        return self._more_or_done()


def _printable(text: str, limit: int = 60) -> str:
    """A server's line made safe to quote in one line of our own."""
    return "".join(c if " " <= c <= "~" else "?" for c in text[:limit])
