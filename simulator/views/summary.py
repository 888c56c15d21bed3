"""Summary: one row per message and recipient, saying what became of it.

The table answers the first question after a run -- "did everyone get
their mail?" -- with the fate, the end-to-end time, the number of hops
(Received: headers) and, for a bounce or a stuck message, the status
code and the server's words.  A footer counts the fates.
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

#: Under this console width the details go under the table, not in a column.
_WIDE = 100

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
        columns = [_MESSAGE, *(_COLUMNS if width >= _WIDE else _COLUMNS[:-1])]
        subjects = {fate.message_id: fate.subject for fate in self.fates}
        rows = [
            [_message_cell(fate, subjects), *(column.cell(fate) for column in columns[1:])]
            for fate in self.fates
        ]
        table = _empty_table()
        widths = _column_widths(columns, rows, width)
        for column, column_width in zip(columns, widths, strict=True):
            table.add_column(
                column.name,
                justify=column.justify,
                width=column_width,
                no_wrap=True,
                overflow="ellipsis",
            )
        for row in rows:
            table.add_row(*row)
        return table

    def details(self) -> list[Text]:
        """One line per copy that has a status or reason, for narrow consoles."""
        return [
            Text.assemble(f"{fate.recipient}: ", _detail_cell(fate))
            for fate in self.fates
            if fate.detail or fate.status
        ]

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        width = options.max_width
        below = self.details() if width < _WIDE else []
        yield Group(self.table(width), *below, self.footer())


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


def _column_widths(columns: Sequence[_Column], rows: list[list[Text]], width: int) -> list[int]:
    """Widths that fit the table in `width` cells, two cells between columns."""
    naturals = [
        max([cell_len(column.name)] + [cell_len(row[index].plain) for row in rows])
        for index, column in enumerate(columns)
    ]
    minimums = [
        min(column.min_width or natural, natural)
        for column, natural in zip(columns, naturals, strict=True)
    ]
    shares = [column.share for column in columns]
    return fit_widths(naturals, minimums, width - 2 * (len(columns) - 1), shares)


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
    """One summary column; `min_width` None means it never shrinks."""

    name: str
    cell: Callable[[MessageFate], Text]
    min_width: int | None = None
    justify: JustifyMethod = "left"
    share: int = 1


#: The first column: its cells also need the other rows (a bounce names its original).
_MESSAGE = _Column("Message", Text, min_width=10)
_COLUMNS: Sequence[_Column] = (
    _Column("From", lambda fate: Text(fate.sender or "<>"), min_width=10),
    _Column("To", lambda fate: Text(fate.recipient), min_width=10),
    _Column("Fate", _fate_cell),
    _Column("Time", lambda fate: Text(format_duration(fate.elapsed)), justify="right"),
    _Column("Hops", _hops_cell, justify="right"),
    _Column("Status/Detail", _detail_cell, min_width=12, share=2),
)
