"""Transcript: which records a dialogue shows, and in which order, as they stream in.

A run writes hundreds of records; a reader needs the story.  A
`Transcript` takes records one at a time, in trace order, and hands back
the records to show, in four steps:

1. **Runs.**  The lines one host sends in one session at one instant (a
   multi-line reply, a message body) form a run, held until it ends.
2. **Sessions.**  Some sessions can only be judged once more of them is
   known.  Their records are held back, and everything after them waits
   behind them, so the output never leaves time order:

   - a POP3 check that finds nothing (only USER, PASS, CAPA, STAT, LIST,
     UIDL, NOOP, QUIT and no `-ERR`) becomes one line, "bob@example.net
     checked mail.example.net: no new mail", once the session closes a
     few round trips later;
   - following one message, the records of a session that carry no
     message (TCP connect, greeting, EHLO, POP3 login) are kept once the
     session shows that message, and dropped if it closes without it.

   A session is held at most `HOLD_LIMIT` simulated seconds; then it is
   shown as it is, so a stuck session never stops the output.  What is
   known of each session is kept in a `sessions.SessionNotes`.
3. **Shape.**  Message bodies are shown once and long ones folded
   (`collapse.BodyMemory`); lines a lesson highlights always stay.
4. **Instants.**  The records of one instant are regrouped so that the
   lines of one session stay together, in order of first appearance.

`full=True` skips the collapsing of empty checks and the shaping of
bodies; filtering and grouping still apply.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from simulator.trace import Kind, TraceRecord
from simulator.views.collapse import BodyMemory, Runs, run_message
from simulator.views.describe import Highlights, record_category
from simulator.views.scope import named_messages
from simulator.views.sessions import SessionNotes, Verdict, group_sessions

#: Simulated seconds a session may be held back before it is shown as it is.
HOLD_LIMIT = 10.0

Unit = list[TraceRecord]


@dataclass(frozen=True, slots=True)
class RecordFilter:
    """Which records a dialogue shows; None means "any".

    `protocols` matches a record's category ("smtp", "pop3", "dns", "tcp",
    "mail", "note", "sim") or its protocol field; `host` either end of a
    record; `session` one session id ("s3").  `message` keeps the records
    of one Message-ID and of the bounce composed for it: called on one
    record, the filter sees only that record; a `Transcript` (and so every
    dialogue view) also keeps the TCP and untagged records of the sessions
    that carry the message.
    """

    protocols: frozenset[str] | None = None
    session: str | None = None
    message: str | None = None
    host: str | None = None

    @classmethod
    def of(
        cls,
        protocols: Iterable[str] | None = None,
        session: str | None = None,
        message: str | None = None,
        host: str | None = None,
    ) -> RecordFilter:
        """A filter from user-friendly arguments (any case, any iterable)."""
        wanted = None if protocols is None else frozenset(p.lower() for p in protocols)
        return cls(wanted, session, message, host)

    def __call__(self, record: TraceRecord) -> bool:
        """True if `record` is to be shown, judged on this record alone."""
        if self.message is not None and not self._concerns_message(record):
            return False
        return self.admits(record)

    def admits(self, record: TraceRecord) -> bool:
        """True if `record` passes the protocol, host and session filters."""
        if self.session is not None and record.session != self.session:
            return False
        if self.host is not None and self.host.lower() not in _ends(record):
            return False
        return self.protocols is None or self._in_protocols(record)

    def _in_protocols(self, record: TraceRecord) -> bool:
        assert self.protocols is not None
        protocol = (record.protocol or "").lower()
        return record_category(record) in self.protocols or protocol in self.protocols

    def _concerns_message(self, record: TraceRecord) -> bool:
        return self.message in named_messages(record)


def _ends(record: TraceRecord) -> tuple[str, ...]:
    return tuple(name.lower() for name in (record.host, record.peer) if name)


class _Follow:
    """The Message-IDs that concern a followed message: itself and its bounces."""

    def __init__(self, message: str) -> None:
        self.related = {message}

    def concerns(self, unit: Unit, message: str | None) -> bool:
        head = unit[0]
        _, original, bounce = named_messages(head)
        if not {message, original, bounce} & self.related:
            return False
        if bounce is not None:
            self.related.add(bounce)
        if head.kind is Kind.MAIL_COMPOSED and head.message:
            self.related.add(head.message)
        return True


@dataclass(eq=False, slots=True)
class _Entry:
    """A unit waiting to be shown."""

    unit: Unit
    session: SessionNotes | None
    admitted: bool
    mine: bool


class Transcript:
    """Trace records in, the records a dialogue shows out (see the module docstring).

    `push` takes one record and returns those now ready, `flush` the rest
    at the end.  A `sim.end` record flushes by itself.
    """

    def __init__(
        self,
        wanted: RecordFilter | None = None,
        *,
        full: bool = False,
        highlights: Iterable[str] | Highlights = (),
    ) -> None:
        self.wanted = wanted or RecordFilter()
        self.full = full
        self.highlights = Highlights.of(highlights)
        self._follow = _Follow(self.wanted.message) if self.wanted.message else None
        self._runs = Runs()
        self._sessions: dict[str, SessionNotes] = {}
        self._queue: deque[_Entry] = deque()
        self._memory = BodyMemory()
        self._instant: list[TraceRecord] = []
        self._now = 0.0

    def push(self, record: TraceRecord) -> list[TraceRecord]:
        """Take one record; the records ready to be shown, in order."""
        self._now = max(self._now, record.time)
        units = self._runs.push(record)
        return self._take_and_show(units, force=record.kind is Kind.SIM_END)

    def flush(self) -> list[TraceRecord]:
        """Everything still held back: sessions undecided are shown as they are."""
        return self._take_and_show(self._runs.flush(), force=True)

    def _take_and_show(self, units: Sequence[Unit], force: bool) -> list[TraceRecord]:
        for unit in units:
            self._take(unit)
        shaped = [record for unit in self._release(force) for record in self._shape(unit)]
        return self._by_instant(shaped, force)

    def _take(self, unit: Unit) -> None:
        head = unit[0]
        message = run_message(unit)
        mine = self._follow is None or self._follow.concerns(unit, message)
        admitted = self.wanted.admits(head)
        if head.session is None:
            if admitted and mine:
                self._queue.append(_Entry(unit, None, admitted, mine))
            return
        notes = self._sessions.get(head.session)
        if notes is None:
            notes = self._sessions[head.session] = SessionNotes(head.session, head.time, head.seq)
        notes.observe(unit, self.highlights)
        notes.mine = notes.mine or (mine and self._follow is not None)
        if notes.closes >= 2:  # nothing more comes: forget it (its entries keep their notes)
            del self._sessions[head.session]
        if self._follow is not None and not mine and message is not None:
            return  # another message's lines in a session that also carries ours
        self._queue.append(_Entry(unit, notes, admitted, mine))

    def _release(self, force: bool) -> list[Unit]:
        """The units at the front of the queue whose sessions are judged."""
        ready: list[Unit] = []
        follow, collapse = self._follow is not None, not self.full
        while self._queue:
            notes = self._queue[0].session
            if notes is not None:
                expired = force or self._now - notes.start > HOLD_LIMIT
                if notes.decide(follow, collapse, expired) is Verdict.UNDECIDED:
                    break
            ready.extend(self._resolve(self._queue.popleft()))
        return ready

    def _resolve(self, entry: _Entry) -> list[Unit]:
        notes, unit = entry.session, entry.unit
        if notes is None or notes.verdict is Verdict.SHOW:
            return [unit] if entry.admitted else []
        if notes.verdict is Verdict.COLLAPSE:
            if unit[0].seq != notes.first_seq:
                return []
            summary = notes.summary(unit[0])
            return [[summary]] if self.wanted.admits(summary) else []
        keep = entry.admitted and entry.mine and self._follow is not None
        return [unit] if keep else []  # DROP: only what names the message itself

    def _shape(self, unit: Unit) -> Unit:
        if self.full or unit[0].kind is not Kind.LINE or len(unit) < 3:
            return unit
        return self._memory.shape(unit, self.highlights or None)

    def _by_instant(self, records: list[TraceRecord], flush: bool) -> list[TraceRecord]:
        """Records of past instants, each instant grouped by session."""
        ready: list[TraceRecord] = []
        for record in records:
            if self._instant and record.time != self._instant[0].time:
                ready.extend(group_sessions(self._instant))
                self._instant = []
            self._instant.append(record)
        if flush:
            ready.extend(group_sessions(self._instant))
            self._instant = []
        return ready


def transcript_of(
    records: Iterable[TraceRecord],
    wanted: RecordFilter | None = None,
    *,
    full: bool = False,
    highlights: Iterable[str] | Highlights = (),
) -> list[TraceRecord]:
    """The records a dialogue shows of a whole trace."""
    transcript = Transcript(wanted, full=full, highlights=highlights)
    shown = [record for each in records for record in transcript.push(each)]
    return shown + transcript.flush()
