"""The SMTP client state machine: sends prepared transactions, reports fates.

The client needs no decisions from its caller.  It waits for the greeting,
introduces itself (EHLO, falling back to HELO), authenticates with AUTH
PLAIN when given credentials, then runs each transaction one command at a
time (no pipelining) and says QUIT.  Every transaction gets exactly one
`TransactionResult`, whatever the server or the connection does.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from simulator.protocols.common import CRLF, NEED_DATA, LineBuffer, LineTooLong, NeedData
from simulator.protocols.smtp.auth import encode_plain
from simulator.protocols.smtp.commands import dot_stuff
from simulator.protocols.smtp.events import (
    ClientEvent,
    Envelope,
    RecipientResult,
    SessionClosed,
    TransactionResult,
)
from simulator.protocols.smtp.replies import Reply, SmtpReply, reply
from simulator.protocols.smtp.states import CLIENT_TRANSITIONS, ClientState

MAX_REPLY_LINE = 512  # RFC 5321 §4.5.3.1.5, octets incl. CRLF
MAX_REPLY_LINES = 100  # our bound on one multi-line reply from a hostile peer


@dataclass(frozen=True)
class SmtpClientConfig:
    """Who the client says it is, and its AUTH credentials if any."""

    helo_name: str
    username: str | None = None
    password: str | None = None


class SmtpClient:
    """One client side of an SMTP session, sans I/O."""

    def __init__(self, config: SmtpClientConfig, transactions: Sequence[tuple[Envelope, bytes]]):
        if any(not envelope.rcpt_to for envelope, _ in transactions):
            raise ValueError("every transaction needs at least one recipient")
        self.config = config
        self.transactions = list(transactions)
        self.state = ClientState.GREETING
        self.extensions: dict[str, str] = {}  # EHLO keyword -> parameters
        self._lines = LineBuffer(MAX_REPLY_LINE)
        self._reply_lines: list[str] = []
        self._out = bytearray()
        self._events: deque[ClientEvent] = deque()
        self._index = 0  # first unresolved transaction
        self._next_rcpt = 0
        self._accepted: list[str] = []
        self._auth_cancelled = False
        self._handlers: dict[ClientState, Callable[[Reply], None]] = {
            ClientState.GREETING: self._on_greeting, ClientState.EHLO: self._on_ehlo,
            ClientState.HELO: self._on_helo, ClientState.AUTH: self._on_auth,
            ClientState.MAIL: self._on_mail, ClientState.RCPT: self._on_rcpt,
            ClientState.DATA: self._on_data, ClientState.CONTENT: self._on_content,
            ClientState.RSET: self._on_rset, ClientState.QUIT: self._on_quit,
        }  # fmt: skip

    # ---- public API ----

    @property
    def closed(self) -> bool:
        """True once the session is over (SessionClosed is queued)."""
        return self.state is ClientState.CLOSED

    def add_transaction(self, envelope: Envelope, content: bytes) -> int:
        """Run one more transaction in this session, after those given; its index.

        Allowed until the client has decided to say QUIT: a caller adds one
        when the reply to an RCPT tells it to (say "452 too many recipients",
        RFC 5321 §4.5.3.1.10), while the current transaction goes on.
        """
        if not envelope.rcpt_to:
            raise ValueError("every transaction needs at least one recipient")
        if self.state in (ClientState.QUIT, ClientState.CLOSED):
            raise ValueError("the session is over: no transaction can be added")
        self.transactions.append((envelope, content))
        return len(self.transactions) - 1

    def receive_data(self, data: bytes) -> None:
        """Feed bytes from the server (b"" when it has closed); ignored once closed."""
        if not data:
            self.connection_lost()
        elif not self.closed:
            self._lines.feed(data)

    def next_event(self) -> ClientEvent | NeedData:
        """The next result, or NEED_DATA until more replies arrive."""
        while not self._events and not self.closed:
            answer = self._next_reply()
            if answer is None:
                break
            self._on_reply(answer)
        return self._events.popleft() if self._events else NEED_DATA

    def data_to_send(self) -> bytes:
        """Everything queued since the last call."""
        data = bytes(self._out)
        self._out.clear()
        return data

    def connection_lost(self) -> None:
        """The connection broke: resolve what is left, then close."""
        if not self.closed:
            self._end_session(reply(SmtpReply.CONNECTION_LOST), closing=None)

    # ---- reading replies (RFC 5321 §4.2.1) ----

    def _next_reply(self) -> Reply | None:
        while (line := self._lines.next_line()) is not None:
            if isinstance(line, LineTooLong):
                return self._protocol_error()
            text = line.decode("utf-8", "replace")
            self._reply_lines.append(text)
            if text[3:4] == "-" and len(self._reply_lines) < MAX_REPLY_LINES:
                continue
            lines, self._reply_lines = self._reply_lines, []
            try:
                return Reply.parse(lines)
            except ValueError:
                return self._protocol_error()
        return None

    def _protocol_error(self) -> None:
        """A garbage reply: the conversation cannot go on."""
        error = reply(SmtpReply.PROTOCOL_ERROR)
        self._end_session(error, closing=error)

    def _on_reply(self, answer: Reply) -> None:
        if self._unexpected(answer):
            self._protocol_error()
        elif answer.code == 421 and self.state is not ClientState.QUIT:
            self._end_session(answer, closing=answer)  # RFC 5321 §3.8
        else:
            self._handlers[self.state](answer)

    def _unexpected(self, answer: Reply) -> bool:
        """A reply of a class this command cannot get (RFC 5321 §4.3.2)."""
        intermediate = answer.code // 100 == 3
        if self.state is ClientState.DATA:
            return answer.code // 100 == 2
        if self.state is ClientState.AUTH:
            return intermediate and answer.code != 334  # RFC 4954 §4
        return intermediate

    # ---- moving on ----

    def _goto(self, state: ClientState) -> None:
        assert state in CLIENT_TRANSITIONS[self.state], (self.state, state)
        self.state = state

    def _send(self, line: str, state: ClientState) -> None:
        self._out += line.encode("utf-8") + CRLF
        self._goto(state)

    def _emit(self, event: ClientEvent) -> None:
        self._events.append(event)

    def _finish_transaction(self, answer: Reply) -> None:
        envelope, _ = self.transactions[self._index]
        self._emit(TransactionResult(self._index, envelope, answer, tuple(self._accepted)))
        self._index += 1
        self._next_rcpt = 0
        self._accepted = []

    def _resolve_rest(self, answer: Reply) -> None:
        while self._index < len(self.transactions):
            self._finish_transaction(answer)

    def _give_up(self, answer: Reply) -> None:
        """Resolve everything with `answer` and say QUIT politely."""
        self._resolve_rest(answer)
        self._send("QUIT", ClientState.QUIT)

    def _end_session(self, answer: Reply, closing: Reply | None) -> None:
        """Resolve everything with `answer`, report `closing`; no QUIT."""
        self._resolve_rest(answer)
        self._emit(SessionClosed(closing))
        self._goto(ClientState.CLOSED)

    # ---- the session ----

    def _on_greeting(self, answer: Reply) -> None:
        if answer.code // 100 != 2:
            self._give_up(answer)  # RFC 5321 §3.1: a 554 greeting awaits QUIT
            return
        self._send(f"EHLO {self.config.helo_name}", ClientState.EHLO)

    def _on_ehlo(self, answer: Reply) -> None:
        if answer.code // 100 == 2:
            self.extensions = _extensions(answer)
            self._after_hello()
        elif answer.is_permanent:
            self._send(f"HELO {self.config.helo_name}", ClientState.HELO)  # RFC 5321 §3.2
        else:
            self._give_up(answer)

    def _on_helo(self, answer: Reply) -> None:
        if answer.code // 100 == 2:
            self.extensions = {}
            self._after_hello()
        else:
            self._give_up(answer)

    def _after_hello(self) -> None:
        username, password = self.config.username, self.config.password
        mechanisms = self.extensions.get("AUTH", "").upper().split()
        if username is None or password is None or "PLAIN" not in mechanisms:
            self._next_transaction()
            return
        response = encode_plain(username, password)  # RFC 4954 §4: initial response
        self._send(f"AUTH PLAIN {response}", ClientState.AUTH)

    def _on_auth(self, answer: Reply) -> None:
        if answer.code // 100 == 2:
            self._next_transaction()
        elif answer.code == 334 and not self._auth_cancelled:
            self._auth_cancelled = True  # RFC 4954 §4: "*" cancels the exchange
            self._send("*", ClientState.AUTH)
        else:
            self._give_up(answer)

    def _on_quit(self, answer: Reply) -> None:
        self._emit(SessionClosed(answer))
        self._goto(ClientState.CLOSED)

    # ---- transactions ----

    def _next_transaction(self) -> None:
        if self._index >= len(self.transactions):
            self._send("QUIT", ClientState.QUIT)
            return
        envelope, content = self.transactions[self._index]
        line = f"MAIL FROM:<{envelope.mail_from}>"
        if "SIZE" in self.extensions:
            line += f" SIZE={len(content)}"  # RFC 1870 §3: the client's estimate
        self._send(line, ClientState.MAIL)

    def _send_rcpt(self) -> None:
        envelope, _ = self.transactions[self._index]
        self._send(f"RCPT TO:<{envelope.rcpt_to[self._next_rcpt]}>", ClientState.RCPT)

    def _ended_early(self, answer: Reply) -> None:
        self._finish_transaction(answer)
        self._send("RSET", ClientState.RSET)

    def _on_mail(self, answer: Reply) -> None:
        if answer.code // 100 == 2:
            self._send_rcpt()
        else:
            self._ended_early(answer)

    def _on_rcpt(self, answer: Reply) -> None:
        envelope, _ = self.transactions[self._index]
        recipient = envelope.rcpt_to[self._next_rcpt]
        self._emit(RecipientResult(self._index, recipient, answer))
        if answer.code // 100 == 2:
            self._accepted.append(recipient)
        self._next_rcpt += 1
        if self._next_rcpt < len(envelope.rcpt_to):
            self._send_rcpt()
        elif self._accepted:
            self._send("DATA", ClientState.DATA)
        else:
            self._ended_early(answer)

    def _on_data(self, answer: Reply) -> None:
        if answer.code // 100 != 3:
            self._ended_early(answer)
            return
        _, content = self.transactions[self._index]
        self._out += dot_stuff(content)  # RFC 5321 §4.5.2
        self._goto(ClientState.CONTENT)

    def _on_content(self, answer: Reply) -> None:
        self._finish_transaction(answer)  # RFC 5321 §6.1: 2yz hands over responsibility
        self._next_transaction()

    def _on_rset(self, answer: Reply) -> None:
        self._next_transaction()


def _extensions(answer: Reply) -> dict[str, str]:
    """EHLO keywords (upper-case) and their parameters (RFC 5321 §4.1.1.1)."""
    found: dict[str, str] = {}
    for line in answer.lines[1:]:
        keyword, _, params = line.strip().partition(" ")
        if keyword:
            found[keyword.upper()] = params.strip()
    return found
