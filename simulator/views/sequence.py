"""Sequence diagram: one lifeline per host, one arrow per command or reply.

Like Wireshark's "Flow graph" or a UML sequence diagram: hosts side by
side, time running down, each step an arrow from the host that spoke to
the host that listened, with the simulated time on the left.  A short
label rides on its arrow (`├─ EHLO alice-pc ──►│`); a longer one goes on
the rows above it.  Queue, relay and delivery records are notes (`◆`) on
the lifeline of the host where they happened.  What is summarised (bodies,
multi-line replies, empty POP3 checks, DNS) is told in `views.steps`.

Only the hosts that take part in the shown steps get a column.  The
columns share the console's width: on a narrow console host names are
abbreviated (`mail.example.org` → `mail.e.org`), staggered on two header
rows if need be, and labels wrap.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass

from rich.cells import cell_len
from rich.console import Console, ConsoleOptions, RenderResult
from rich.jupyter import JupyterMixin
from rich.text import Text

from simulator.trace import TraceRecord
from simulator.views.formatting import abbreviate_host, format_clock
from simulator.views.steps import DNS, Step, StepKind, drawable, lifelines, sequence_steps

#: Cells between two lifelines, at least and at most.
MIN_SPACING = 3
MAX_SPACING = 40
#: A label with less room than this to the right of its arrow starts further left.
MIN_LABEL_ROOM = 24

LIFELINE = "│"
NOTE_MARK = "◆"
#: Marks a line on a loopback connection: the LMTP hand-off to an MDA on the MTA's host.
LOOP_MARK = "↻"

_LIFELINE_STYLE = "dim"
_CLOCK_STYLE = "dim"
_HOST_STYLE = "bold"
_ARROW_STYLES: Mapping[StepKind, str] = {
    StepKind.COMMAND: "cyan",
    StepKind.REPLY: "green",
    StepKind.CONNECT: "blue",
    StepKind.REFUSED: "red",
    StepKind.QUERY: "dim",
    StepKind.ANSWER: "dim",
}
_NOTE_STYLES: Mapping[str, str] = {
    "mail.composed": "magenta",
    "mail.delivered": "bold green",
    "mail.bounced": "bold red",
    "mail.deferred": "yellow",
    "mail.queued": "bold yellow",
    "mail.fetched": "green",
    "note": "italic",
}
_DEFAULT_NOTE_STYLE = "yellow"


def step_style(step: Step) -> str:
    """The colour of a step: client, server, DNS, TCP, or the note's kind."""
    if step.is_note:
        return _NOTE_STYLES.get(step.tone, _DEFAULT_NOTE_STYLE)
    return _ARROW_STYLES.get(step.kind, "")


class SequenceView(JupyterMixin):
    """A sequence diagram of trace records, summarised (see `views.steps`).

    `hosts` picks the columns and their order (default: every host that
    takes part, in order of appearance); the filters are the dialogue's.
    `full` draws every protocol line, `compact=False` keeps empty POP3
    checks line by line.
    """

    def __init__(
        self,
        records: Iterable[TraceRecord],
        hosts: Iterable[str] | None = None,
        *,
        protocols: Iterable[str] | None = None,
        host: str | None = None,
        message: str | None = None,
        session: str | None = None,
        full: bool = False,
        compact: bool = True,
    ) -> None:
        steps = sequence_steps(
            records, protocols=protocols, host=host, message=message, session=session,
            full=full, compact=compact,
        )
        self.hosts: list[str] = lifelines(steps, hosts)
        self.steps: list[Step] = drawable(steps, self.hosts)

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        if not self.steps:
            yield Text("(no steps to draw)", "dim italic")
            return
        last = max(step.time for step in self.steps)
        layout = _Layout.fit(self.hosts, options.max_width, len(format_clock(last)))
        yield from layout.header()
        for step in self.steps:
            yield from layout.step_rows(console, step)


@dataclass(frozen=True, slots=True)
class _Layout:
    """Where each lifeline stands on a console `width` cells wide."""

    hosts: tuple[str, ...]
    width: int
    clock_width: int
    spacing: int

    @classmethod
    def fit(cls, hosts: list[str], width: int, clock_width: int) -> _Layout:
        area = width - clock_width - 1
        spacing = max(MIN_SPACING, min(MAX_SPACING, area // max(1, len(hosts))))
        return cls(tuple(hosts), width, clock_width, spacing)

    @property
    def gutter(self) -> int:
        """Cells left of the first column: the clock and a space."""
        return self.clock_width + 1

    def x(self, host: str) -> int:
        """The cell of a host's lifeline."""
        return self.gutter + self.hosts.index(host) * self.spacing + self.spacing // 2

    def row(self) -> _Row:
        """An empty row: lifelines only."""
        return _Row(self.width, [self.x(host) for host in self.hosts])

    def header(self) -> Iterator[Text]:
        """The host names, centred over their lifelines, on one or two rows."""
        room = self.spacing - 1
        fits = all(cell_len(host) <= room for host in self.hosts)
        if fits or len(self.hosts) == 1:
            yield self._names(range(len(self.hosts)), room, lifelines=False)
            return
        staggered = 2 * self.spacing - 1
        yield self._names(range(0, len(self.hosts), 2), staggered, lifelines=False)
        yield self._names(range(1, len(self.hosts), 2), staggered, lifelines=True)

    def _names(self, indexes: Iterable[int], room: int, *, lifelines: bool) -> Text:
        row = self.row() if lifelines else _Row(self.width, [])
        for index in indexes:
            host = self.hosts[index]
            name = host if host == DNS else abbreviate_host(host, max(1, room))
            centre = self.x(host)
            start = max(0, min(centre - cell_len(name) // 2, self.width - cell_len(name)))
            row.clear(centre - room // 2, centre + room - room // 2)
            row.put(start, name, "dim bold" if host == DNS else _HOST_STYLE)
        return row.text()

    def step_rows(self, console: Console, step: Step) -> Iterator[Text]:
        """The rows of one step, the first with the clock."""
        rows = self._note(console, step) if step.is_note else self._arrow(console, step)
        for number, row in enumerate(rows):
            if number == 0:
                row.put(0, format_clock(step.time).rjust(self.clock_width), _CLOCK_STYLE)
            yield row.text()

    def _arrow(self, console: Console, step: Step) -> list[_Row]:
        assert step.target is not None
        if step.target == step.source:  # no arrow to draw: a note with the loop mark
            return self._note(console, step, LOOP_MARK)
        source, target = self.x(step.source), self.x(step.target)
        style = step_style(step)
        arrow = self.row()
        arrow.arrow(source, target, style)
        low, high = sorted((source, target))
        inner = high - low - 1
        if cell_len(step.label) + 5 <= inner:  # "─ label ─►": rides on its arrow
            start = low + 2 if target > source else high - 2 - cell_len(step.label) - 1
            arrow.put(start, f" {step.label} ", style)
            return [arrow]
        rows = self._label_rows(console, step.label, low + 2, style)
        return [*rows, arrow]

    def _label_rows(self, console: Console, label: str, start: int, style: str) -> list[_Row]:
        """`label` on rows of its own from cell `start`, moved left and wrapped if need be.

        A label that does not fit right of `start` moves left just enough to
        fit on one row; one longer than the whole diagram wraps, with at
        least `MIN_LABEL_ROOM` cells per row.
        """
        length = cell_len(label)
        if length > self.width - start:
            if length <= self.width - self.gutter:
                start = self.width - length
            else:
                start = max(self.gutter, min(start, self.width - MIN_LABEL_ROOM))
        rows = []
        for line in _wrap(console, label, self.width - start):
            row = self.row()
            row.put(start, line, style)
            rows.append(row)
        return rows

    def _note(self, console: Console, step: Step, mark_char: str = NOTE_MARK) -> list[_Row]:
        style = step_style(step)
        if step.source not in self.hosts:  # narration: across the whole diagram
            return self._label_rows(console, step.label, self.gutter, style)
        mark = self.x(step.source)
        right, left = self.width - (mark + 2), mark - 1 - self.gutter
        length = cell_len(step.label)
        if length <= right or right >= left:
            lines = _wrap(console, step.label, max(1, right))
            starts = [mark + 2] * len(lines)
        else:
            lines = _wrap(console, step.label, max(1, left))
            starts = [mark - 1 - cell_len(line) for line in lines]
        rows = []
        for line, start in zip(lines, starts, strict=True):
            row = self.row()
            row.put(start, line, style)
            rows.append(row)
        rows[0].put(mark, mark_char, style)
        return rows


def _wrap(console: Console, label: str, width: int) -> list[str]:
    """`label` wrapped to `width` cells, long words folded."""
    lines = Text(label).wrap(console, max(1, width), overflow="fold")
    return [line.plain.rstrip() for line in lines] or [""]


class _Row:
    """One row of cells: lifelines underneath, text and arrows on top."""

    def __init__(self, width: int, lifelines: Iterable[int]) -> None:
        self.cells = [" "] * width
        self.styles: list[str] = [""] * width
        for x in lifelines:
            self._set(x, LIFELINE, _LIFELINE_STYLE)

    def _set(self, x: int, char: str, style: str) -> None:
        if 0 <= x < len(self.cells):
            self.cells[x] = char
            self.styles[x] = style

    def put(self, x: int, text: str, style: str) -> None:
        """Write `text` from cell `x`, cropped at the right edge; wide characters take two."""
        for char in text:
            width = cell_len(char)
            if width == 0:
                continue
            if x + width > len(self.cells):
                break
            self._set(x, char, style)
            if width == 2:
                self._set(x + 1, "", style)
            x += width

    def clear(self, start: int, end: int) -> None:
        """Blank the cells from `start` up to `end`."""
        for x in range(max(0, start), min(end, len(self.cells))):
            self._set(x, " ", "")

    def arrow(self, source: int, target: int, style: str) -> None:
        """`├────►│` from `source` to `target` (or `│◄────┤` leftwards)."""
        low, high = sorted((source, target))
        for x in range(low + 1, high):
            self._set(x, "─", style)
        if target > source:
            self._set(source, "├", style)
            self._set(target - 1, "►", style)
        else:
            self._set(source, "┤", style)
            self._set(target + 1, "◄", style)

    def text(self) -> Text:
        """The row as styled text, without trailing blanks."""
        end = len(self.cells)
        while end and self.cells[end - 1] == " ":
            end -= 1
        text = Text(no_wrap=True, overflow="crop")
        start = 0
        for x in range(1, end + 1):
            if x == end or self.styles[x] != self.styles[start]:
                text.append("".join(self.cells[start:x]), self.styles[start] or None)
                start = x
        return text
