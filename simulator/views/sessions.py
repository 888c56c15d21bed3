"""Sessions as a dialogue sees them: judged, grouped, and marked when they take turns.

A dialogue learns about a session (a TCP connection and the protocol
spoken over it) only from its records, one at a time:

- `SessionNotes` gathers what a transcript needs to judge a session: who
  is client and server, the protocol, the POP3 user, whether it carries a
  followed message, whether it did more than log in and look, whether it
  has closed.  Its `Verdict` says whether its records are shown, dropped
  or collapsed into one line, or are still to be decided.
- `group_sessions` keeps the lines of each session together within one
  instant.
- `SessionMarkers` puts a `SessionRule` ("── s3 a → b (smtp) ──") where
  the dialogue switches between sessions that are open at the same time.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from enum import Enum

from simulator.trace import Kind, TraceRecord
from simulator.trace_data import ProtocolLine, SessionSummary, TcpClose, TcpConnect, TlsHandshake
from simulator.views.describe import Highlights

#: POP3 commands (RFC 1939, RFC 2449 CAPA) that only log in and look.
QUIET_POP3 = frozenset(
    {"USER", "PASS", "APOP", "CAPA", "STLS", "STAT", "LIST", "UIDL", "NOOP", "QUIT"}
)


class Verdict(Enum):
    """What becomes of a session's records."""

    UNDECIDED = "undecided"
    SHOW = "show"
    DROP = "drop"
    COLLAPSE = "collapse"


@dataclass(eq=False)
class SessionNotes:
    """What a transcript has learnt about one session from its records so far."""

    name: str
    start: float
    first_seq: int
    client: str | None = None
    server: str | None = None
    protocol: str | None = None
    user: str | None = None
    mine: bool = False  # carries the followed message
    busy: bool = False  # did more than log in and look
    ended: bool = False
    closes: int = 0  # both ends have closed at two
    verdict: Verdict = Verdict.UNDECIDED

    def observe(self, unit: Sequence[TraceRecord], highlights: Highlights) -> None:
        """Learn from the records of one unit (a run of lines, or one record)."""
        for record in unit:
            if record.kind is Kind.TCP_CONNECT:
                self.client, self.server = record.host, record.peer
            elif record.kind is Kind.TCP_CLOSE:
                self.ended = True
                self.closes += 1
            elif record.kind is Kind.LINE:
                self._line(record)
            self.busy = self.busy or highlights(record.text)

    def _line(self, record: TraceRecord) -> None:
        self.protocol = self.protocol or (record.protocol or "").lower() or None
        client = record.role == "client"
        if self.client is None:
            ends = (record.host, record.peer)
            self.client, self.server = ends if client else ends[::-1]
        if client:
            verb, _, rest = record.text.partition(" ")
            if verb.upper() == "USER":
                self.user = rest.strip()
            self.busy = self.busy or verb.upper() not in QUIET_POP3
        elif record.text.startswith("-ERR"):
            self.busy = True

    def decide(self, follow: bool, collapse: bool, forced: bool) -> Verdict:
        """Settle the verdict if what is known allows it (or `forced`)."""
        if self.verdict is Verdict.UNDECIDED:
            self.verdict = self._judge(follow, collapse, forced or self.ended)
        return self.verdict

    def _judge(self, follow: bool, collapse: bool, final: bool) -> Verdict:
        if follow and not self.mine:
            return Verdict.DROP if final else Verdict.UNDECIDED
        if not collapse:
            return Verdict.SHOW
        if self.protocol is None:  # no line yet: is it POP3?
            return Verdict.SHOW if final else Verdict.UNDECIDED
        if self.protocol != "pop3" or self.busy:
            return Verdict.SHOW
        if self.ended:
            return Verdict.COLLAPSE
        return Verdict.SHOW if final else Verdict.UNDECIDED

    def summary(self, anchor: TraceRecord) -> TraceRecord:
        """The one line an empty POP3 check becomes, at its first record's place."""
        client, server = self.client or anchor.host, self.server or anchor.peer
        text = f"{self.user or client} checked {server}: no new mail"
        summary = SessionSummary(role="client", port=_port(anchor), summary="empty check")
        return replace(
            anchor, kind=Kind.LINE, host=client, peer=server, protocol=self.protocol, text=text,
            message=None, payload=summary,
        )


def _port(record: TraceRecord) -> int:
    """The server port of a session's record (its connect, a line, its close)."""
    payload = record.payload
    if isinstance(payload, TcpConnect | TcpClose | ProtocolLine | TlsHandshake):
        return payload.port
    raise TypeError(f"a {record.kind.value} record names no port")



def group_sessions(records: Sequence[TraceRecord]) -> list[TraceRecord]:
    """`records` with the records of each session moved up to its first one.

    Records without a session keep their places; so does the order of
    records within a session.
    """
    groups: list[list[TraceRecord]] = []
    of_session: dict[str, list[TraceRecord]] = {}
    for record in records:
        group = of_session.get(record.session) if record.session is not None else None
        if group is None:
            group = []
            groups.append(group)
            if record.session is not None:
                of_session[record.session] = group
        group.append(record)
    return [record for group in groups for record in group]



@dataclass(frozen=True, slots=True)
class SessionRule:
    """A dim line naming the session that speaks next, when sessions take turns."""

    session: str
    client: str
    server: str
    protocol: str

    def text(self) -> str:
        """ "── s3 mail.example.org → mail.example.net (smtp) ──"."""
        return f"── {self.session} {self.client} → {self.server} ({self.protocol}) ──"


class SessionMarkers:
    """Puts a `SessionRule` where the dialogue switches between open sessions.

    A session is open from its first record shown to its first close (or
    its one-line summary).  One session at a time needs no rule: its TCP
    connect line introduces it.
    """

    def __init__(self) -> None:
        self._open: set[str] = set()
        self._last: str | None = None
        self._protocols: dict[str, str] = {}

    def mark(self, records: Iterable[TraceRecord]) -> list[TraceRecord | SessionRule]:
        """`records` with a rule before each turn of a session."""
        shown: list[TraceRecord | SessionRule] = []
        for record in records:
            session = record.session
            if session is not None:
                if record.kind is Kind.LINE and record.protocol:
                    self._protocols.setdefault(session, record.protocol.lower())
                if record.kind is Kind.TCP_CLOSE or isinstance(record.payload, SessionSummary):
                    self._open.discard(session)
                else:
                    if session != self._last and self._open - {session}:
                        shown.append(self._rule(record, session))
                    self._last = session
                    self._open.add(session)
            shown.append(record)
        return shown

    def _rule(self, record: TraceRecord, session: str) -> SessionRule:
        client, server = record.host, record.peer or "?"
        if record.role == "server":
            client, server = server, client
        protocol = self._protocols.get(session) or f"port {_port(record)}"
        return SessionRule(session, client, server, protocol)
