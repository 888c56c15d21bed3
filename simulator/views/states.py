"""A protocol's state table, drawn for people: which command leads where.

The protocol machines keep their transitions in one literal table each
(`TRANSITIONS`); this view shows such a table as rows of "state, then the
commands that lead to each next state".  It takes the table as plain data,
so it needs nothing from the protocol packages.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import Enum

from rich import box
from rich.console import Console, ConsoleOptions, RenderResult
from rich.jupyter import JupyterMixin
from rich.table import Table
from rich.text import Text

Transitions = Mapping[Enum, Mapping[Enum, Enum]]

CAPTION = (
    "A command not listed for a state is refused as out of order. A command the "
    "server must decide on (MAIL, RCPT, PASS...) moves on only if its reply is positive."
)


class StateTableView(JupyterMixin):
    """One row per state: its commands, grouped by the state they lead to."""

    def __init__(self, title: str, transitions: Transitions) -> None:
        self.title = title
        self.transitions = transitions

    def rows(self) -> list[tuple[str, str]]:
        """(state, "CMD, CMD → NEXT; ...") for every state, in table order."""
        return [(state.name, _moves(state, moves)) for state, moves in self.transitions.items()]

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        table = Table(title=self.title, caption=CAPTION, box=box.SIMPLE_HEAD,
                      title_style="bold", header_style="bold", expand=False)
        table.add_column("State", style="cyan", no_wrap=True)
        table.add_column("Command → next state")
        for state, moves in self.rows():
            table.add_row(state, Text(moves or "(no commands: the session is over or waits)"))
        yield table


def _moves(state: Enum, moves: Mapping[Enum, Enum]) -> str:
    """"EHLO, HELO → READY; NOOP → stays" for one state's row."""
    by_target: dict[Enum, list[str]] = {}
    for command, target in moves.items():
        by_target.setdefault(target, []).append(str(command.value))
    parts = [
        f"{', '.join(commands)} → {'stays' if target is state else target.name}"
        for target, commands in by_target.items()
    ]
    return "; ".join(parts)
