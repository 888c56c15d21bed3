"""Lessons: what a scenario teaches, shown before a run and by `mailsim show`.

A scenario file may carry a `lesson:` block: a one-line title, what the
scenario shows, what to look for, questions for students, and the
transcript lines to highlight.  `LessonView` shows it as one panel (in a
terminal or in Jupyter), with the file it comes from; `brief=True` keeps
only what to look for and the highlights, for the lines printed before a
run.
`lesson_title` gives the one line `mailsim list` shows for a file.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

from rich.columns import Columns
from rich.console import Console, ConsoleOptions, Group, RenderableType, RenderResult
from rich.jupyter import JupyterMixin
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from simulator import catalog
from simulator.scenario import ScenarioError, load_scenario
from simulator.scenario.models import Lesson, Scenario

BORDER_STYLE = "cyan"
HEADING_STYLE = "bold cyan"
PATTERN_STYLE = "bold black on yellow"
HINT_STYLE = "dim"


class LessonView(JupyterMixin):
    """A scenario's lesson as one panel: title, what it shows, what to look for,
    questions, the patterns the transcript highlights, and where the file is.

    A scenario without a lesson shows its name and description.
    """

    def __init__(
        self, scenario: Scenario, path: str | Path | None = None, *, brief: bool = False
    ) -> None:
        self.scenario = scenario
        self.path = Path(path) if path is not None else None
        self.brief = brief

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        lesson = self.scenario.lesson
        title = lesson.title if lesson else self.scenario.name
        parts = list(self._lesson_parts(lesson) if lesson else self._plain_parts())
        parts.extend(self._footer(lesson))
        yield Panel(
            Group(*parts), title=Text(title, style="bold"), title_align="left",
            border_style=BORDER_STYLE, padding=(0, 1),
        )

    def _lesson_parts(self, lesson: Lesson) -> Iterator[RenderableType]:
        if self.brief:  # before a run: only what to watch for, in a few lines
            if lesson.look_for:
                yield Text("What to look for", style=HEADING_STYLE)
                yield _items(lesson.look_for, numbered=False)
            if lesson.highlight:
                yield Text.assemble(("Highlighted: ", HEADING_STYLE),
                                    "  ".join(lesson.highlight))
            return
        yield Text("What it shows", style=HEADING_STYLE)
        yield Text(lesson.shows.rstrip())
        if lesson.look_for:
            yield from _section("What to look for", [_items(lesson.look_for, numbered=False)])
        if lesson.questions:
            yield from _section("Questions", [_items(lesson.questions, numbered=True)])
        if lesson.highlight:
            yield from _section("Highlighted in the transcript", [_patterns(lesson.highlight)])

    def _plain_parts(self) -> Iterator[RenderableType]:
        description = self.scenario.description.rstrip()
        yield Text(description or "This scenario has no lesson block.")

    def _footer(self, lesson: Lesson | None) -> Iterator[RenderableType]:
        if self.brief:
            if self.path is not None:
                yield Text(f"mailsim show {self.path.stem}: the whole lesson, with questions "
                           "for the class.", style=HINT_STYLE)
            return
        yield Text()
        if self.path is not None:
            yield Text.assemble(("File: ", HINT_STYLE), (str(self.path), ""), overflow="fold")
        name = self.path.stem if self.path is not None else None
        if name is None:
            return
        yield Text(f"Run it with mailsim run {name}, or step through it with "
                   f"mailsim step {name}.", style=HINT_STYLE)


def _section(heading: str, body: Sequence[RenderableType]) -> Iterator[RenderableType]:
    """A heading, then its body, with an empty line before."""
    yield Text()
    yield Text(heading, style=HEADING_STYLE)
    yield from body


def _items(items: Iterable[str], *, numbered: bool) -> Table:
    """A list with a hanging indent: "•" or "1." in its own column."""
    table = Table.grid(padding=(0, 1))
    table.add_column(no_wrap=True, justify="right")
    table.add_column(overflow="fold")
    for number, item in enumerate(items, start=1):
        table.add_row(f"{number}." if numbered else "•", Text(_one_paragraph(item)))
    return table


def _one_paragraph(text: str) -> str:
    """A list entry's lines joined, so the console wraps it to its own width."""
    return " ".join(line.strip() for line in text.strip().splitlines() if line.strip())


def _patterns(patterns: Iterable[str]) -> Columns:
    """The highlight patterns, each marked and never split across lines."""
    marked = [Text(f" {pattern} ", style=PATTERN_STYLE, no_wrap=True) for pattern in patterns]
    return Columns(marked, padding=(0, 2))


def lesson_title(path: str | Path) -> str:
    """The one line `mailsim list` shows: the lesson's title, else the scenario's name.

    A file that does not load shows what `catalog.title_of` can read of it.
    """
    try:
        scenario = load_scenario(path)
    except ScenarioError:
        return catalog.title_of(Path(path))
    return scenario.lesson.title if scenario.lesson else scenario.name
