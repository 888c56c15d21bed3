"""Dialogue: the trace as a conversation, one record per line.

Like Wireshark's "Follow stream" or a Postfix log: simulated time, who
talks to whom, the protocol, then the words.  Client lines and server
lines have different colours; long lines wrap under the text column.

The left columns shrink with the console: at 80 columns host names are
abbreviated (`mail.example.org` → `mail.e.org`) so the text keeps at
least `MIN_TEXT_WIDTH` cells; on a wide console they are shown in full.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from rich.cells import cell_len, set_cell_size
from rich.console import Console, ConsoleOptions, RenderResult
from rich.jupyter import JupyterMixin
from rich.segment import Segment
from rich.text import Text

from simulator.trace import Kind, TraceRecord
from simulator.views.collapse import Folder, folded
from simulator.views.describe import describe, record_category, record_style, record_tag
from simulator.views.formatting import abbreviate_host, format_clock

ARROW = " → "
TAG_WIDTH = 4
#: The text column never gets narrower than this while hosts are shown.
MIN_TEXT_WIDTH = 40
#: Host names longer than this are abbreviated even on a wide console.
HOST_CAP = 24
#: Below this many cells a host name says too little: drop the host columns.
MIN_HOST_WIDTH = 6
#: Below this many cells of text, the text goes under its prefix instead.
MIN_SIDE_TEXT = 20

_CLOCK_STYLE = "dim"
_HOST_STYLE = "bold"
_ARROW_STYLE = "dim"
_TAG_STYLE = "bold"


def format_record(record: TraceRecord) -> Text:
    """One record as one unwrapped line: time, hosts, protocol tag, words.

    Every kind of record has a line; host names are given in full.
    """
    line = Text.assemble((format_clock(record.time), _CLOCK_STYLE), " ", (record.host, _HOST_STYLE))
    if record.peer:
        line.append(ARROW, _ARROW_STYLE)
        line.append(record.peer, _HOST_STYLE)
    line.append(" ")
    line.append(record_tag(record), _TAG_STYLE)
    line.append(" ")
    line.append(describe(record), record_style(record))
    return line


@dataclass(frozen=True, slots=True)
class RecordFilter:
    """Which records a dialogue shows; None means "any".

    `protocols` matches a record's category ("smtp", "pop3", "dns", "tcp",
    "mail", "note", "sim") or its protocol field.  `message` keeps the
    records of one Message-ID, plus the bounce composed for it.
    """

    protocols: frozenset[str] | None = None
    session: str | None = None
    message: str | None = None

    @classmethod
    def of(
        cls,
        protocols: Iterable[str] | None = None,
        session: str | None = None,
        message: str | None = None,
    ) -> RecordFilter:
        """A filter from user-friendly arguments (any case, any iterable)."""
        wanted = None if protocols is None else frozenset(p.lower() for p in protocols)
        return cls(wanted, session, message)

    def __call__(self, record: TraceRecord) -> bool:
        """True if `record` is to be shown."""
        if self.session is not None and record.session != self.session:
            return False
        if self.message is not None and not self._concerns_message(record):
            return False
        return self.protocols is None or self._in_protocols(record)

    def _in_protocols(self, record: TraceRecord) -> bool:
        assert self.protocols is not None
        protocol = (record.protocol or "").lower()
        return record_category(record) in self.protocols or protocol in self.protocols

    def _concerns_message(self, record: TraceRecord) -> bool:
        related = (record.message, record.data.get("original"), record.data.get("bounce_id"))
        return self.message in related


@dataclass(frozen=True, slots=True)
class _Layout:
    """Widths of the left columns; `host_width` 0 means hosts are hidden."""

    clock_width: int
    host_width: int

    @property
    def prefix_width(self) -> int:
        """Cells before the text column."""
        hosts = 2 * self.host_width + len(ARROW) + 1 if self.host_width else 0
        return self.clock_width + 1 + hosts + TAG_WIDTH + 1


def _layout(max_width: int, clock_width: int, longest_host: int) -> _Layout:
    """The widest host columns that leave `MIN_TEXT_WIDTH` for the text."""
    fixed = clock_width + 1 + len(ARROW) + 1 + TAG_WIDTH + 1
    host_width = min(longest_host, HOST_CAP, (max_width - fixed - MIN_TEXT_WIDTH) // 2)
    readable = host_width >= min(MIN_HOST_WIDTH, longest_host)
    return _Layout(clock_width, host_width if readable else 0)


def _prefix(record: TraceRecord, layout: _Layout) -> Text:
    """The padded left columns of a record's first line."""
    prefix = Text(format_clock(record.time).rjust(layout.clock_width), _CLOCK_STYLE)
    prefix.append(" ")
    if layout.host_width:
        width = layout.host_width
        prefix.append(set_cell_size(abbreviate_host(record.host, width), width), _HOST_STYLE)
        if record.peer:
            prefix.append(ARROW, _ARROW_STYLE)
            prefix.append(set_cell_size(abbreviate_host(record.peer, width), width), _HOST_STYLE)
        else:
            prefix.append(" " * (len(ARROW) + width))
        prefix.append(" ")
    prefix.append(set_cell_size(record_tag(record), TAG_WIDTH), _TAG_STYLE)
    prefix.append(" ")
    return prefix


def _record_lines(
    console: Console, record: TraceRecord, layout: _Layout, width: int
) -> Iterator[Text]:
    """A record as lines of at most `width` cells, wrapped with a hanging indent."""
    body = Text(describe(record), record_style(record))
    first = _prefix(record, layout)
    indent = " " * layout.prefix_width
    text_width = width - layout.prefix_width
    if text_width < MIN_SIDE_TEXT:  # too narrow: the text goes under its prefix
        first.truncate(width)
        yield first
        first, indent, text_width = Text("  "), "  ", max(1, width - 2)
    wrapped = body.wrap(console, text_width, overflow="fold") if body.plain else [Text()]
    for number, line in enumerate(wrapped):
        line.rstrip()
        yield Text.assemble(first if number == 0 else indent, line)


class _RecordBlock:
    """Records laid out with given clock and host widths."""

    def __init__(self, records: Iterable[TraceRecord], clock_width: int, longest_host: int):
        self.records = records
        self.clock_width = clock_width
        self.longest_host = longest_host

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        width = options.max_width
        layout = _layout(width, self.clock_width, self.longest_host)
        for record in self.records:
            for line in _record_lines(console, record, layout, width):
                yield from line.render(console)
                yield Segment.line()


class DialogueView(JupyterMixin):
    """Many records as a dialogue, optionally filtered.

    `protocols` keeps only some categories (e.g. `{"smtp", "dns"}`),
    `session` one protocol session ("s1"), `message` one Message-ID.
    Long message bodies are folded unless `full` is set.
    """

    def __init__(
        self,
        records: Iterable[TraceRecord],
        *,
        protocols: Iterable[str] | None = None,
        session: str | None = None,
        message: str | None = None,
        full: bool = False,
    ) -> None:
        wanted = RecordFilter.of(protocols, session, message)
        shown = (record for record in records if wanted(record))
        self.records: list[TraceRecord] = list(shown if full else folded(shown))

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        last = max((record.time for record in self.records), default=0.0)
        hosts = [name for record in self.records for name in (record.host, record.peer) if name]
        longest = max(map(cell_len, hosts), default=0)
        yield _RecordBlock(self.records, len(format_clock(last)), longest)


class LivePrinter:
    """A trace sink printing each record as it is emitted.

    `trace.subscribe(LivePrinter(console))` follows a run live.  Columns
    stay put from line to line: the clock column is sized from the run's
    duration and the host columns from its host names (both announced by
    `sim.start`).  A run of lines sent at one instant is held back until
    it ends, so that a long message body can be folded (unless `full`).
    """

    def __init__(
        self,
        console: Console,
        *,
        protocols: Iterable[str] | None = None,
        session: str | None = None,
        message: str | None = None,
        full: bool = False,
    ) -> None:
        self.console = console
        self._wanted = RecordFilter.of(protocols, session, message)
        self._folder = Folder(full)
        self._clock_width = len(format_clock(0.0))
        self._longest_host = HOST_CAP

    def __call__(self, record: TraceRecord) -> None:
        """Print `record` if it passes the filter (a run of lines when it ends)."""
        if record.kind is Kind.SIM_START:
            self._start(record)
        self._widen_clock(record.time)
        if self._wanted(record):
            self._print(self._folder.push(record))

    def flush(self) -> None:
        """Print the run of lines held back, if any."""
        self._print(self._folder.flush())

    def _start(self, record: TraceRecord) -> None:
        duration = record.data.get("duration")
        if isinstance(duration, int | float):
            self._widen_clock(record.time + duration)
        hosts = record.data.get("hosts")
        if hosts:
            names = [record.host, *map(str, hosts)]
            self._longest_host = max(cell_len(name) for name in names)

    def _print(self, records: list[TraceRecord]) -> None:
        if records:
            self.console.print(_RecordBlock(records, self._clock_width, self._longest_host))

    def _widen_clock(self, seconds: float) -> None:
        self._clock_width = max(self._clock_width, len(format_clock(seconds)))
