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
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

from rich import box
from rich.cells import cell_len
from rich.console import Console, ConsoleOptions, Group, JustifyMethod, RenderResult
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

# "550 5.1.1 <bob@example.net>: " -- reply code, RFC 3463 code, address.
_REPLY_PREAMBLE = re.compile(r"^\d{3}[ -](?:[245]\.\d{1,3}\.\d{1,3} +)?(?:<[^>]*>: *)?")

class SummaryView(JupyterMixin):
    """A table of message fates with a one-line footer of counts."""

    def __init__(self, fates: Sequence[MessageFate]) -> None:
        self.fates: tuple[MessageFate, ...] = tuple(fates)

    def counts(self) -> Counter[Fate]:
        """How many copies met each fate."""
        return Counter(fate.fate for fate in self.fates)

    def footer(self) -> Text:
        """ "2 delivered · 1 bounced · 0 queued", plus in-flight copies if any."""
        counts = self.counts()
        shown = [Fate.DELIVERED, Fate.BOUNCED, Fate.QUEUED]
        if counts[Fate.IN_FLIGHT]:
            shown.append(Fate.IN_FLIGHT)
        parts = [(f"{counts[fate]} {fate.value}", FATE_STYLES[fate]) for fate in shown]
        footer = Text()
        for number, (words, style) in enumerate(parts):
            footer.append(" · " if number else "")
            footer.append(words, style)
        return footer

    def table(self, width: int) -> Table:
        """The table laid out for a console `width` cells wide."""
        subjects = {fate.message_id: fate.subject for fate in self.fates}
        columns = [_MESSAGE, *_COLUMNS[:-1]]
        rows = [
            [_message_cell(fate, subjects), *(column.cell(fate) for column in columns[1:])]
            for fate in self.fates
        ]
        if self._details_beside(columns, rows, width):
            columns.append(_COLUMNS[-1])
            for row, fate in zip(rows, self.fates, strict=True):
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

    def _details_beside(self, columns: list[_Column], rows: list[list[Text]], width: int) -> bool:
        """Whether the Status/Detail column gets `MIN_DETAIL_WIDTH` cells beside the others."""
        if not any(fate.detail or fate.status for fate in self.fates):
            return False
        naturals = _naturals(columns, rows)
        needed = sum(_tight(column, natural) for column, natural in zip(columns, naturals,
                                                                        strict=True))
        return width - _GAP * len(columns) - needed >= MIN_DETAIL_WIDTH

    def details(self) -> list[Text]:
        """One line per copy that has a status or reason, when no column holds them."""
        return [
            Text.assemble(f"{fate.recipient}: ", _detail_cell(fate))
            for fate in self.fates
            if fate.detail or fate.status
        ]

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        table = self.table(options.max_width)
        beside = table.columns[-1].header == _COLUMNS[-1].name
        below = [] if beside else self.details()
        yield Group(table, *below, self.footer())


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


def _naturals(columns: Sequence[_Column], rows: list[list[Text]]) -> list[int]:
    """The width each column would take with nothing wrapped."""
    return [
        max([cell_len(column.name)] + [cell_len(row[index].plain) for row in rows])
        for index, column in enumerate(columns)
    ]


def _tight(column: _Column, natural: int) -> int:
    """The width a column keeps before addresses have to wrap."""
    return min(natural, column.min_width) if column.shrinks_first else natural


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


def _empty_table() -> Table:
    """A table with the summary's title and box and no columns yet."""
    return Table(
        title=TITLE,
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
    return Text(fate.fate.value, FATE_STYLES[fate.fate])


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
    words = _REPLY_PREAMBLE.sub("", detail, count=1)
    return Text.assemble((fate.status, "bold"), " " if words else "", words)


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
_MESSAGE = _Column("Message", Text, min_width=10, shrinks_first=True)
_COLUMNS: Sequence[_Column] = (
    _Column("From", lambda fate: Text(fate.sender or "<>"), min_width=10, address=True),
    _Column("To", lambda fate: Text(fate.recipient), min_width=10, address=True),
    _Column("Fate", _fate_cell),
    _Column("Time", lambda fate: Text(format_duration(fate.elapsed)), justify="right"),
    _Column("Hops", _hops_cell, justify="right"),
    _Column("Status/Detail", _detail_cell, min_width=MIN_DETAIL_WIDTH, share=2,
            shrinks_first=True),
)
