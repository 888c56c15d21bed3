"""What a narrator remembers between records: small, and forgotten when done.

A protocol line means little alone: "250" says one thing after MAIL FROM and
another after the final dot.  `NarrationContext` keeps, per session, the
commands still waiting for a reply and where the data stream is (header,
body, a report); and across sessions the last MX answers and the queue ids
each MTA gave its messages.  A session's memory goes when its connection
closes, a queue entry's when it leaves the queue.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from enum import Enum, auto

#: Remember at most this many MX answers (a long run asks about many domains).
MAX_MX_ANSWERS = 256


class Stream(Enum):
    """Where a session is in a message's text (SMTP DATA, a POP3 RETR)."""

    NONE = auto()  # not inside a message
    HEADER = auto()  # the header section (RFC 5322 §2.1)
    BODY = auto()  # after the empty line


@dataclass(frozen=True, slots=True)
class Command:
    """A client command waiting for its reply: its verb and its argument."""

    verb: str
    arg: str = ""


@dataclass(slots=True)
class MessageText:
    """What has been seen so far of one message going by, line by line."""

    stream: Stream = Stream.NONE
    received_seen: int = 0  # Received: fields so far
    is_report: bool = False  # a multipart/report (a DSN)
    in_part_header: bool = False  # inside a MIME part's own header (of a report)

    def start(self) -> None:
        """A new message begins with its header section."""
        self.stream = Stream.HEADER
        self.received_seen = 0
        self.is_report = False
        self.in_part_header = False

    def stop(self) -> None:
        """The message has ended (its final dot)."""
        self.stream = Stream.NONE


@dataclass(slots=True)
class Session:
    """One connection's dialogue state, as the narrator follows it."""

    port: int | None = None
    pending: deque[Command] = field(default_factory=deque)  # commands not yet answered
    replied_lines: int = 0  # lines of a multi-line reply seen so far
    greeted: bool = False  # the server's greeting has been seen
    challenged: bool = False  # SMTP AUTH: the server waits for the client's credentials
    mail_from: str | None = None  # envelope sender of the open transaction
    text: MessageText = field(default_factory=MessageText)
    multiline: str | None = None  # POP3: the verb whose multi-line answer is coming
    logged_in: bool = False  # POP3: in the TRANSACTION state
    marked: int = 0  # POP3: messages marked with DELE
    accepted: list[str] = field(default_factory=list)  # LMTP: RCPTs accepted, in order

    def answered(self) -> Command | None:
        """The command the reply being read answers, if any."""
        return self.pending[0] if self.pending else None

    def close_reply(self) -> Command | None:
        """The last line of a reply: its command is answered."""
        return self.pending.popleft() if self.pending else None


@dataclass(frozen=True, slots=True)
class QueueEntry:
    """A message in an MTA's queue, as the trace announced it."""

    sender: str  # the envelope sender; "" for a bounce
    arrived: float  # simulated time it entered the queue


@dataclass(slots=True)
class NarrationContext:
    """Everything a narrator carries from one record to the next.

    Feed it every record of a trace, in order; records skipped leave it
    less sure (it then says less), never wrong about the protocol.
    """

    sessions: dict[str, Session] = field(default_factory=dict)
    #: (asking host, domain) -> the MX records of the last answer, best first.
    mx_answers: dict[tuple[str, str], tuple[tuple[int, str], ...]] = field(default_factory=dict)
    #: queue id -> the queue entry, until it leaves the queue.
    queue: dict[str, QueueEntry] = field(default_factory=dict)
    #: host -> the queue id of the last message it queued (for "queued as").
    last_queued: dict[str, str] = field(default_factory=dict)
    #: MDA host -> the envelope sender of the message LMTP hands it now.
    lmtp_senders: dict[str, str] = field(default_factory=dict)

    def session(self, name: str | None) -> Session:
        """The state of session `name`, made on first use."""
        key = name or ""
        state = self.sessions.get(key)
        if state is None:
            state = self.sessions[key] = Session()
        return state

    def forget_session(self, name: str | None) -> None:
        """A connection has closed: its dialogue is over."""
        self.sessions.pop(name or "", None)

    def remember_mx(self, host: str, domain: str, records: tuple[tuple[int, str], ...]) -> None:
        """Keep an MX answer, dropping the oldest beyond `MAX_MX_ANSWERS`."""
        self.mx_answers.pop((host, domain), None)
        self.mx_answers[(host, domain)] = records
        if len(self.mx_answers) > MAX_MX_ANSWERS:
            del self.mx_answers[next(iter(self.mx_answers))]

    def is_exchanger(self, host: str, name: str) -> bool:
        """Whether `name` was among the MX hosts `host` was last told of."""
        return any(
            asker == host and any(exchange == name for _, exchange in records)
            for (asker, _), records in self.mx_answers.items()
        )
