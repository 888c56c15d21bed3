"""Dialogue: the trace as a conversation, one record per line.

Like Wireshark's "Follow stream" or a Postfix log: simulated time, who
talks to whom, the protocol, then the words.  Client lines and server
lines have different colours; long lines wrap under the text column.
What is shown -- filters, empty mail checks as one line, each body once,
sessions grouped within an instant -- is decided by a `Transcript`.
Lines a lesson highlights stand out.  When two sessions take turns, a
dim rule names the session that speaks next.

The left columns shrink with the console: host names are abbreviated
(`mail.example.org` → `mail.e.org`) so that the text gets
`PREFERRED_TEXT_WIDTH` cells, down to `MIN_TEXT_WIDTH` at 80 columns; on
a wide console they are shown in full.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Protocol

from rich.cells import cell_len, set_cell_size
from rich.console import Console, ConsoleOptions, RenderResult
from rich.jupyter import JupyterMixin
from rich.segment import Segment
from rich.text import Text

from simulator.trace import Kind, TraceRecord
from simulator.trace_data import ElidedLines, SessionSummary, SimStart
from simulator.views.describe import (
    HIGHLIGHT_STYLE,
    Highlights,
    describe,
    record_style,
    record_tag,
)
from simulator.views.formatting import abbreviate_host, format_clock, record_ends
from simulator.views.sessions import SessionMarkers, SessionRule
from simulator.views.transcript import RecordFilter, Transcript, transcript_of

__all__ = ["DialogueView", "LivePrinter", "RecordFilter", "SessionRule", "format_record"]

ARROW = " → "
TAG_WIDTH = 4
#: The text column never gets narrower than this while hosts are shown.
MIN_TEXT_WIDTH = 40
#: Host names shrink to `SHORT_HOST` cells to give the text this much room.
PREFERRED_TEXT_WIDTH = 60
SHORT_HOST = 10
#: Host names longer than this are abbreviated even on a wide console.
HOST_CAP = 24
#: Below this many cells a host name says too little: drop the host columns.
MIN_HOST_WIDTH = 6
#: Below this many cells of text, the text goes under its prefix instead.
MIN_SIDE_TEXT = 20
#: A folded header's leading tab (RFC 5322 §2.2.3) indents its line by this much.
TAB_SIZE = 4

_CLOCK_STYLE = "dim"
_HOST_STYLE = "bold"
_ARROW_STYLE = "dim"
_TAG_STYLE = "bold"
_RULE_STYLE = "dim"
_NARRATION_STYLE = "italic dim cyan"
_NARRATION_PREFIX = "↳ "


def format_record(record: TraceRecord) -> Text:
    """One record as one unwrapped line: time, hosts, protocol tag, words.

    Every kind of record has a line; host names are given in full.
    """
    host, peer = record_ends(record)
    line = Text.assemble((format_clock(record.time), _CLOCK_STYLE), " ", (host, _HOST_STYLE))
    if peer:
        line.append(ARROW, _ARROW_STYLE)
        line.append(peer, _HOST_STYLE)
    line.append(" ")
    line.append(record_tag(record), _TAG_STYLE)
    line.append(" ")
    line.append(describe(record), record_style(record))
    return line


@dataclass(frozen=True, slots=True)
class _Layout:
    """Widths of the left columns; `host_width` 0 means hosts are hidden.

    Without `peers` (a session-fidelity trace: no line goes from one host
    to another) one host column takes the room of two and the arrow.
    """

    clock_width: int
    host_width: int
    peers: bool = True

    @property
    def prefix_width(self) -> int:
        """Cells before the text column."""
        ends = 2 * self.host_width + len(ARROW) if self.peers else self.host_width
        return self.clock_width + 1 + (ends + 1 if self.host_width else 0) + TAG_WIDTH + 1


def host_column(max_width: int, clock_width: int, longest_host: int, peers: bool = True) -> int:
    """Cells for each host name beside a clock: enough to leave the text
    `PREFERRED_TEXT_WIDTH`, or at least `MIN_TEXT_WIDTH`; 0 hides the hosts.
    `peers`: two host columns (host and peer) share the room, else one.

    The eavesdropper's table sizes its host names with it too, so one host
    reads the same in both at one console width (`abbreviate_host`).
    """
    fixed = clock_width + 1 + (len(ARROW) if peers else 0) + 1 + TAG_WIDTH + 1
    columns = 2 if peers else 1
    widest = min(longest_host, HOST_CAP)
    host_width = min(widest, (max_width - fixed - PREFERRED_TEXT_WIDTH) // columns)
    if host_width < min(SHORT_HOST, widest):
        host_width = min(widest, (max_width - fixed - MIN_TEXT_WIDTH) // columns)
    return host_width if host_width >= min(MIN_HOST_WIDTH, longest_host) else 0


def _layout(max_width: int, clock_width: int, longest_host: int, peers: bool) -> _Layout:
    """The left columns of a dialogue at `max_width` cells."""
    return _Layout(clock_width, host_column(max_width, clock_width, longest_host, peers), peers)


def _prefix(record: TraceRecord, layout: _Layout) -> Text:
    """The padded left columns of a record's first line."""
    prefix = Text(format_clock(record.time).rjust(layout.clock_width), _CLOCK_STYLE)
    prefix.append(" ")
    if layout.host_width:
        width = layout.host_width
        host, peer = record_ends(record)
        prefix.append(set_cell_size(abbreviate_host(host, width), width), _HOST_STYLE)
        if peer and layout.peers:
            prefix.append(ARROW, _ARROW_STYLE)
            prefix.append(set_cell_size(abbreviate_host(peer, width), width), _HOST_STYLE)
        elif layout.peers:
            prefix.append(" " * (len(ARROW) + width))
        prefix.append(" ")
    prefix.append(set_cell_size(record_tag(record), TAG_WIDTH), _TAG_STYLE)
    prefix.append(" ")
    return prefix


def _record_lines(
    console: Console, record: TraceRecord, layout: _Layout, width: int, highlights: Highlights
) -> Iterator[Text]:
    """A record as lines of at most `width` cells, wrapped with a hanging indent."""
    words = describe(record)
    body = Text(words, HIGHLIGHT_STYLE if highlights(words) else record_style(record))
    first = _prefix(record, layout)
    indent = " " * layout.prefix_width
    text_width = width - layout.prefix_width
    if text_width < MIN_SIDE_TEXT:  # too narrow: the text goes under its prefix
        first.truncate(width)
        yield first
        first, indent, text_width = Text("  "), "  ", max(1, width - 2)
    wrapped = (
        body.wrap(console, text_width, overflow="fold", tab_size=TAB_SIZE)
        if body.plain else [Text()]
    )
    for number, line in enumerate(wrapped):
        line.rstrip()
        yield Text.assemble(first if number == 0 else indent, line)


Shown = TraceRecord | SessionRule


class _RecordBlock:
    """Records (and session rules) laid out with given clock and host widths."""

    def __init__(
        self,
        items: Iterable[Shown],
        clock_width: int,
        longest_host: int,
        highlights: Highlights,
        notes: Callable[[TraceRecord], str | None] | None = None,
        peers: bool = True,
    ):
        self.items = items
        self.clock_width = clock_width
        self.longest_host = longest_host
        self.highlights = highlights
        self.notes = notes
        self.peers = peers

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        width = options.max_width
        layout = _layout(width, self.clock_width, self.longest_host, self.peers)
        for item in self.items:
            for line in self._lines(console, item, layout, width):
                yield from line.render(console)
                yield Segment.line()

    def _lines(self, console: Console, item: Shown, layout: _Layout, width: int) -> Iterator[Text]:
        if isinstance(item, SessionRule):
            rule = Text(item.text(), _RULE_STYLE)
            rule.truncate(width, overflow="ellipsis")
            yield rule
            return
        yield from _record_lines(console, item, layout, width, self.highlights)
        note = self.notes(item) if self.notes else None
        if note:  # under the text column, wrapped there
            indent = layout.prefix_width if width - layout.prefix_width >= MIN_SIDE_TEXT else 2
            words = Text(_NARRATION_PREFIX + note, _NARRATION_STYLE)
            for line in words.wrap(console, max(1, width - indent), overflow="fold"):
                yield Text.assemble(" " * indent, line)


class DialogueView(JupyterMixin):
    """Many records as a dialogue, as a `Transcript` shows them.

    `protocols` keeps only some categories (e.g. `{"smtp", "dns"}`),
    `host` the records at either end of one host, `session` one session
    ("s1"), `message` one Message-ID with its bounce and the sessions that
    carry them.  `highlights` are case-insensitive substrings ("550 5.1.1",
    "Status:"): lines containing one stand out and are never folded away.
    Empty mail checks are one line and bodies are shown once, folded when
    long, unless `full` is set.
    """

    def __init__(
        self,
        records: Iterable[TraceRecord],
        *,
        protocols: Iterable[str] | None = None,
        host: str | None = None,
        session: str | None = None,
        message: str | None = None,
        full: bool = False,
        highlights: Sequence[str] = (),
    ) -> None:
        self.highlights = Highlights.of(highlights)
        wanted = RecordFilter.of(protocols, session, message, host)
        records = list(records)
        self.records: list[TraceRecord] = transcript_of(
            records, wanted, full=full, highlights=self.highlights
        )
        self.peers = not _session_fidelity(records[:1])

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        last = max((record.time for record in self.records), default=0.0)
        hosts = [name for record in self.records for name in (record.host, record.peer) if name]
        longest = max(map(cell_len, hosts), default=0)
        items = SessionMarkers().mark(self.records)
        yield _RecordBlock(items, len(format_clock(last)), longest, self.highlights,
                           peers=self.peers)


class Explains(Protocol):
    """A narrator: explains records in plain words, reading them in trace order."""

    def explain(self, record: TraceRecord) -> str | None: ...


class LivePrinter:
    """A trace sink printing each record as it is emitted.

    `trace.subscribe(LivePrinter(console))` follows a run live.  Columns
    stay put from line to line: the clock column is sized from the run's
    duration and the host columns from its host names (both announced by
    `sim.start`).  What is shown is decided by a `Transcript` (see its
    docstring): a run of lines is held until it ends, an instant until the
    next one, and a POP3 check until it is known to be empty or not -- a
    few round trips, never more than `transcript.HOLD_LIMIT` simulated
    seconds.  Held records come out in time order, behind what waits for
    them.

    The filters and `full` and `highlights` are those of `DialogueView`.
    `speed` paces the output: N simulated seconds per wall-clock second,
    by calling `sleep` (`time.sleep`) between instants; None prints at
    once.  `narrator`, if given, is asked about every record in trace
    order; its words go under the records that are shown.
    """

    def __init__(
        self,
        console: Console,
        *,
        protocols: Iterable[str] | None = None,
        host: str | None = None,
        session: str | None = None,
        message: str | None = None,
        full: bool = False,
        highlights: Sequence[str] = (),
        speed: float | None = None,
        sleep: Callable[[float], object] = time.sleep,
        narrator: Explains | None = None,
    ) -> None:
        if speed is not None and not speed > 0:
            raise ValueError(f"speed must be positive, got {speed!r}")
        self.console = console
        self.highlights = Highlights.of(highlights)
        self._transcript = Transcript(
            RecordFilter.of(protocols, session, message, host), full=full,
            highlights=self.highlights,
        )
        self._markers = SessionMarkers()
        self._speed, self._sleep = speed, sleep
        self._paced: float | None = None  # the simulated time printed last
        self._narrator = narrator
        self._notes: dict[int, str] = {}
        self._clock_width = len(format_clock(0.0))
        self._longest_host = HOST_CAP
        self._peers = True  # see `_Layout`

    def __call__(self, record: TraceRecord) -> None:
        """Take one record; print what the transcript says is ready."""
        if record.kind is Kind.SIM_START:
            self.lay_out(record)
        self._widen_clock(record.time)
        if self._narrator is not None:
            words = self._narrator.explain(record)
            if words:
                self._notes[record.seq] = words
        self._print(self._transcript.push(record))

    def flush(self) -> None:
        """Print everything held back."""
        self._print(self._transcript.flush())

    def lay_out(self, record: TraceRecord) -> None:
        """Size the columns from a `sim.start` record (without printing it)."""
        self._paced = record.time
        start = record.payload_as(SimStart)
        self._widen_clock(record.time + start.duration)
        self._peers = not _session_fidelity([record])
        if start.hosts:
            names = [record.host, *start.hosts]
            self._longest_host = max(cell_len(name) for name in names)

    def _print(self, records: list[TraceRecord]) -> None:
        if not records:
            return
        for instant in self._instants(records):
            self._pace(instant[0].time)
            items = self._markers.mark(instant)
            self.console.print(_RecordBlock(
                items, self._clock_width, self._longest_host, self.highlights, self._note,
                self._peers,
            ))
        last = max(record.seq for record in records)
        self._notes = {seq: words for seq, words in self._notes.items() if seq > last}

    def _instants(self, records: list[TraceRecord]) -> list[list[TraceRecord]]:
        """`records` in one batch, or one batch per instant when paced."""
        if self._speed is None:
            return [records]
        batches: list[list[TraceRecord]] = []
        for record in records:
            if batches and batches[-1][0].time == record.time:
                batches[-1].append(record)
            else:
                batches.append([record])
        return batches

    def _pace(self, now: float) -> None:
        """Sleep for the simulated time since the last instant printed, over `speed`."""
        if self._speed is None:
            return
        if self._paced is not None and now > self._paced:
            self._sleep((now - self._paced) / self._speed)
        self._paced = now if self._paced is None else max(self._paced, now)

    def _note(self, record: TraceRecord) -> str | None:
        if isinstance(record.payload, ElidedLines | SessionSummary):
            return None
        return self._notes.get(record.seq)

    def _widen_clock(self, seconds: float) -> None:
        self._clock_width = max(self._clock_width, len(format_clock(seconds)))


def _session_fidelity(first: list[TraceRecord]) -> bool:
    """Whether a trace beginning with `first` is a session-fidelity one (no lines, no peers)."""
    return bool(first) and first[0].kind is Kind.SIM_START and (
        first[0].payload_as(SimStart).fidelity == "session")
