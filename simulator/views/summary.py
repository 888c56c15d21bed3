"""Summary: one row per message and recipient, saying what became of it.

The table answers the first question after a run -- "did everyone get
their mail?" -- with the fate, the end-to-end time, the number of hops
(Received: headers) and, for a bounce or a stuck message, the status
code and the server's words.  A footer counts the fates.

Nothing is ever cut short: a cell too narrow wraps.  Subjects and reasons
give way first; addresses keep their full width while they can, and when
they cannot they break after "@" and before ".".  When the reasons would
get less than `MIN_DETAIL_WIDTH` cells beside the other columns, they go
under the table, one line per copy.

A big run is summarised instead of listed: past `MAX_ROWS` copies the
view shows how many copies met each fate with their typical and slowest
end-to-end times, what went wrong grouped by status code (with one
reason each), and the `WORST_ROWS` copies a teacher would look at first:
those not delivered, then the slowest delivered.
"""

from __future__ import annotations

import heapq
import math
import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

from rich import box
from rich.cells import cell_len
from rich.console import (
    Console,
    ConsoleOptions,
    Group,
    JustifyMethod,
    RenderableType,
    RenderResult,
)
from rich.jupyter import JupyterMixin
from rich.table import Table
from rich.text import Text

from simulator.fates import Fate, MessageFate, message_fates
from simulator.trace import TraceRecord
from simulator.views.formatting import format_duration, short_message_id, visible

TITLE = "Messages"

FATE_STYLES: Mapping[Fate, str] = {
    Fate.DELIVERED: "green",
    Fate.BOUNCED: "red",
    Fate.QUEUED: "yellow",
    Fate.IN_FLIGHT: "magenta",
}

#: The Status/Detail column needs this many cells, or the details go under the table.
MIN_DETAIL_WIDTH = 30
#: Cells between two columns.
_GAP = 2
#: More copies than this are summarised, not listed.
MAX_ROWS = 200
#: How many rows the summary of a big run lists: the copies not delivered, then the slowest.
WORST_ROWS = 10

# "550 5.1.1 <bob@example.net>: " -- reply code, RFC 3463 code, address.
_REPLY_CODE = re.compile(r"\d{3}[ -]")
_ADDRESS_PREFIX = re.compile(r"<[^>]*>: *")

class SummaryView(JupyterMixin):
    """A table of message fates with a one-line footer of counts.

    With more than `max_rows` copies, the table gives way to a summary
    (`summarised`): counts and times per fate, problems per status code,
    and the worst copies.
    """

    def __init__(self, fates: Sequence[MessageFate], *, max_rows: int = MAX_ROWS) -> None:
        self.fates: tuple[MessageFate, ...] = tuple(fates)
        self.max_rows = max_rows

    @property
    def summarised(self) -> bool:
        """Whether there are too many copies to list them all."""
        return len(self.fates) > self.max_rows

    def counts(self) -> Counter[Fate]:
        """How many copies met each fate."""
        return Counter(fate.fate for fate in self.fates)

    def footer(self) -> Text:
        """ "2 delivered · 1 bounced · 0 queued", plus in-flight copies if any."""
        counts = self.counts()
        shown = [Fate.DELIVERED, Fate.BOUNCED, Fate.QUEUED]
        if counts[Fate.IN_FLIGHT]:
            shown.append(Fate.IN_FLIGHT)
        parts = [(f"{counts[fate]:,} {fate.value}", FATE_STYLES[fate]) for fate in shown]
        footer = Text()
        for number, (words, style) in enumerate(parts):
            footer.append(" · " if number else "")
            footer.append(words, style)
        return footer

    def table(self, width: int, fates: Sequence[MessageFate] | None = None) -> Table:
        """The table of `fates` (default: all) laid out for a console `width` cells wide."""
        subjects = {fate.message_id: fate.subject for fate in self.fates}
        listed = self.fates if fates is None else fates
        columns = [_MESSAGE, *_COLUMNS[:-1]]
        rows = [
            [_message_cell(fate, subjects), *(column.cell(fate) for column in columns[1:])]
            for fate in listed
        ]
        if _details_beside(listed, columns, rows, width):
            columns.append(_COLUMNS[-1])
            for row, fate in zip(rows, listed, strict=True):
                row.append(_COLUMNS[-1].cell(fate))
        table = _empty_table()
        widths = _column_widths(columns, rows, width)
        for column, column_width in zip(columns, widths, strict=True):
            table.add_column(
                column.name, justify=column.justify, width=column_width, overflow="fold"
            )
        for row in rows:
            table.add_row(*(
                _wrap_address(cell, column_width) if column.address else cell
                for cell, column, column_width in zip(row, columns, widths, strict=True)
            ))
        return table

    def details(self, fates: Sequence[MessageFate] | None = None) -> list[Text]:
        """One line per copy that has a status or reason, when no column holds them."""
        return [
            Text.assemble(f"{fate.recipient}: ", _detail_cell(fate))
            for fate in (self.fates if fates is None else fates)
            if fate.detail or fate.status
        ]

    def worst(self, count: int = WORST_ROWS) -> list[MessageFate]:
        """The copies to look at first, at most `count`.

        Every copy still in flight (lost: a bug), then the first copy of
        each other problem (fate and status code, the most common first),
        then the slowest deliveries.
        """
        picked = [fate for fate in self.fates if fate.fate is Fate.IN_FLIGHT][:count]
        picked += list(self._problems()[1].values())[: count - len(picked)]
        delivered = (fate for fate in self.fates if fate.elapsed is not None
                     and fate.fate is Fate.DELIVERED)
        slowest = heapq.nlargest(count - len(picked), delivered,
                                 key=lambda fate: fate.elapsed or 0.0)
        return picked + slowest

    def _problems(self) -> tuple[Counter[tuple[Fate, str]], dict[tuple[Fate, str], MessageFate]]:
        """Copies queued or bounced, counted by (fate, status), and the first of each group."""
        groups: Counter[tuple[Fate, str]] = Counter()
        first: dict[tuple[Fate, str], MessageFate] = {}
        for fate in self.fates:
            if fate.fate in (Fate.QUEUED, Fate.BOUNCED):
                key = (fate.fate, fate.status or "")
                groups[key] += 1
                first.setdefault(key, fate)
        return groups, {key: first[key] for key, _ in groups.most_common()}

    def fate_table(self) -> Table:
        """Per fate: how many copies, their share, and the median, 95th-percentile and
        slowest end-to-end times."""
        table = _empty_table(f"{TITLE}: {len(self.fates):,} copies, summarised")
        for name in ("Fate", "Copies", "Share", "Median", "95 %", "Slowest"):
            table.add_column(name, justify="left" if name == "Fate" else "right")
        times: dict[Fate, list[float]] = {fate: [] for fate in Fate}
        for copy in self.fates:
            if copy.elapsed is not None:
                times[copy.fate].append(copy.elapsed)
        for fate, copies in self.counts().most_common():
            spans = sorted(times[fate])
            table.add_row(_fate_cell_of(fate), f"{copies:,}", f"{copies / len(self.fates):.1%}",
                          *(format_duration(_percentile(spans, p)) for p in (0.5, 0.95, 1.0)))
        return table

    def status_table(self) -> Table | None:
        """Copies queued or bounced, grouped by fate and status code, with one reason each."""
        groups, first = self._problems()
        if not groups:
            return None
        table = _empty_table("Not delivered, by status")
        for name in ("Status", "Fate", "Copies", "For example"):
            table.add_column(name, justify="right" if name == "Copies" else "left",
                             ratio=1 if name == "For example" else None, overflow="fold")
        for (fate, status), example in first.items():
            table.add_row(status or "—", _fate_cell_of(fate), f"{groups[fate, status]:,}",
                          Text.assemble(f"{example.recipient}: ", _detail_cell(example)))
        return table

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        if self.summarised:
            yield from self._summary(options.max_width)
            return
        table = self.table(options.max_width)
        beside = table.columns[-1].header == _COLUMNS[-1].name
        below = [] if beside else self.details()
        yield Group(table, *below, self.footer())

    def _summary(self, width: int) -> RenderResult:
        worst = self.worst()
        table = self.table(width, worst)
        table.title = f"The {len(worst)} copies to look at first"
        beside = table.columns[-1].header == _COLUMNS[-1].name
        problems = self.status_table()
        parts: list[RenderableType] = [self.fate_table(), Text()]
        parts += [problems, Text(), table] if problems else [table]
        yield Group(*parts, *([] if beside else self.details(worst)), self.footer())


def summary_of(records: Iterable[TraceRecord]) -> SummaryView:
    """The summary of a trace (or any stream of records)."""
    return SummaryView(message_fates(records))


def fit_widths(
    naturals: Sequence[int],
    minimums: Sequence[int],
    available: int,
    shares: Sequence[int] | None = None,
) -> list[int]:
    """Column widths summing to at most `available`, shrinking the widest first.

    A column's width counts divided by its share, so a column with share 2
    keeps about twice the room of its neighbours.  No column goes below its
    minimum, so the sum stays above `available` if the minimums do not fit.
    """
    weights = shares or [1] * len(naturals)
    widths = [min(natural, max(available, 1)) for natural in naturals]
    while sum(widths) > available:
        shrinkable = [i for i, width in enumerate(widths) if width > minimums[i]]
        if not shrinkable:
            break
        widest = max(shrinkable, key=lambda i: widths[i] / weights[i])
        widths[widest] -= 1
    return widths


def _details_beside(
    fates: Sequence[MessageFate], columns: list[_Column], rows: list[list[Text]], width: int
) -> bool:
    """Whether the Status/Detail column gets `MIN_DETAIL_WIDTH` cells beside the others."""
    if not any(fate.detail or fate.status for fate in fates):
        return False
    naturals = _naturals(columns, rows)
    needed = sum(_tight(column, natural) for column, natural in zip(columns, naturals,
                                                                    strict=True))
    return width - _GAP * len(columns) - needed >= MIN_DETAIL_WIDTH


def _percentile(ordered: Sequence[float], share: float) -> float | None:
    """The nearest-rank percentile of sorted values (None if there are none)."""
    if not ordered:
        return None
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def _naturals(columns: Sequence[_Column], rows: list[list[Text]]) -> list[int]:
    """The width each column would take with nothing wrapped."""
    return [
        max([cell_len(column.name)] + [cell_len(row[index].plain) for row in rows])
        for index, column in enumerate(columns)
    ]


def _tight(column: _Column, natural: int) -> int:
    """The width a column keeps before addresses have to wrap."""
    if column.shrinks_first and column.min_width is not None:
        return min(natural, column.min_width)
    return natural


def _column_widths(columns: Sequence[_Column], rows: list[list[Text]], width: int) -> list[int]:
    """Widths that fit the table in `width` cells, two cells between columns.

    Subjects and reasons shrink first (they wrap between words); only if
    that is not enough do addresses shrink too (they wrap at "@" and ".").
    """
    available = width - _GAP * (len(columns) - 1)
    naturals = _naturals(columns, rows)
    shares = [column.share for column in columns]
    tight = [_tight(column, natural) for column, natural in zip(columns, naturals, strict=True)]
    widths = fit_widths(naturals, tight, available, shares)
    if sum(widths) <= available:
        return widths
    smallest = [
        min(column.min_width, natural) if column.min_width else natural
        for column, natural in zip(columns, naturals, strict=True)
    ]
    return fit_widths(widths, smallest, available, shares)


def _wrap_address(cell: Text, width: int) -> Text:
    """An address cell broken into lines of `width` cells after "@" and before "."."""
    if cell_len(cell.plain) <= width or width < 1:
        return cell
    pieces = re.findall(r"[^@.]*@|\.?[^@.]+|\.", cell.plain)
    lines: list[str] = []
    for piece in pieces:
        if lines and cell_len(lines[-1]) + cell_len(piece) <= width:
            lines[-1] += piece
        else:
            lines.append(piece)
    return Text("\n".join(lines), cell.style)


def _empty_table(title: str = TITLE) -> Table:
    """A table with the summary's title and box and no columns yet."""
    return Table(
        title=title,
        box=box.SIMPLE_HEAD,
        show_edge=False,
        pad_edge=False,
        padding=(0, 1, 0, 0),
        header_style="bold",
        title_style="bold",
    )


def _message_cell(fate: MessageFate, subjects: Mapping[str, str]) -> Text:
    """The subject; for a bounce, the subject of the message it returns."""
    if fate.origin == "bounce":
        original = fate.original or ""
        if original not in subjects:
            return Text.assemble(("bounce of ", "italic"), short_message_id(fate.message_id))
        about = subjects[original]
        what = f"“{visible(about)}”" if about else f"({short_message_id(original)})"
        return Text.assemble(("bounce of ", "italic"), what)
    if fate.subject:
        return Text(visible(fate.subject))
    return Text(f"({short_message_id(fate.message_id) or 'no id'})", "italic")


def _fate_cell(fate: MessageFate) -> Text:
    """The fate in its colour."""
    return _fate_cell_of(fate.fate)


def _fate_cell_of(fate: Fate) -> Text:
    return Text(fate.value, FATE_STYLES[fate])


def _hops_cell(fate: MessageFate) -> Text:
    """The number of Received: headers of the stored copy, or a dash."""
    return Text("—" if fate.hops is None else str(fate.hops))


def _detail_cell(fate: MessageFate) -> Text:
    """The status code in bold, then the words of the reply or the queue reason.

    "550 5.1.1 <bob@x>: Recipient address rejected: ..." becomes
    "5.1.1 Recipient address rejected: ...", so a narrow column still
    shows what went wrong.
    """
    detail = visible(fate.detail)
    if not fate.status:
        return Text(detail)
    words = _reply_words(detail, fate.status)
    return Text.assemble((fate.status, "bold"), " " if words else "", words)


def _reply_words(detail: str, status: str) -> str:
    """A reply's words after its reply code, its `status` code and an address."""
    code = _REPLY_CODE.match(detail)
    if code is None:
        return detail
    words = detail[code.end():]
    if words == status or words.startswith(f"{status} "):
        words = words[len(status):].lstrip(" ")
    address = _ADDRESS_PREFIX.match(words)
    return words[address.end():] if address else words


@dataclass(frozen=True, slots=True)
class _Column:
    """One summary column; `min_width` None means it never shrinks.

    A column that `shrinks_first` (its words wrap well) gives way before
    the addresses; an `address` column wraps at "@" and ".".
    """

    name: str
    cell: Callable[[MessageFate], Text]
    min_width: int | None = None
    justify: JustifyMethod = "left"
    share: int = 1
    shrinks_first: bool = False
    address: bool = False


#: The first column: its cells also need the other rows (a bounce names its original).
_MESSAGE = _Column("Message", lambda fate: Text(fate.subject), min_width=10, shrinks_first=True)
_COLUMNS: Sequence[_Column] = (
    _Column("From", lambda fate: Text(fate.sender or "<>"), min_width=10, address=True),
    _Column("To", lambda fate: Text(fate.recipient), min_width=10, address=True),
    _Column("Fate", _fate_cell),
    _Column("Time", lambda fate: Text(format_duration(fate.elapsed)), justify="right"),
    _Column("Hops", _hops_cell, justify="right"),
    _Column("Status/Detail", _detail_cell, min_width=MIN_DETAIL_WIDTH, share=2,
            shrinks_first=True),
)
