"""A protocol's state table, drawn for people: which command leads where.

The protocol machines keep their transitions in one literal table each
(`TRANSITIONS` for a server, `CLIENT_TRANSITIONS` for a client); this view
shows such a table as rows of "state, then the inputs that lead to each
next state" -- commands for a server, what the awaited reply meant for a
client (`heading=CLIENT_HEADING`), with the protocol's own footer under it.
Inputs that move on even when they fail (IMAP's SELECT and EXAMINE, RFC
9051 §6.3.2) show as "failed ... → STATE".  It takes the tables as plain
data, so it needs nothing from the protocol packages.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import Enum
from typing import Generic, TypeVar

from rich import box
from rich.console import Console, ConsoleOptions, RenderResult
from rich.jupyter import JupyterMixin
from rich.table import Table
from rich.text import Text

State = TypeVar("State", bound=Enum)
Input = TypeVar("Input", bound=Enum)
#: A protocol's table: state -> input (a command, a reply's meaning) -> next state.
Transitions = Mapping[State, Mapping[Input, State]]

HEADING = "Command → next state"
#: For a client's table: its states are the replies it awaits.
CLIENT_HEADING = "Reply → next state"


class StateTableView(JupyterMixin, Generic[State, Input]):
    """One row per state: its commands, grouped by the state they lead to."""

    def __init__(
        self, title: str, transitions: Transitions[State, Input], *, heading: str = HEADING,
        caption: str = "", after_failure: Mapping[Input, State] | None = None,
    ) -> None:
        self.title = title
        self.transitions = transitions
        self.heading = heading
        self.caption = caption
        self.after_failure = after_failure or {}

    def rows(self) -> list[tuple[str, str]]:
        """(state, "CMD, CMD → NEXT; ...") for every state, in table order."""
        return [(state.name, "; ".join(filter(None, (
                    _moves(state, moves), _failures(state, moves, self.after_failure)))))
                for state, moves in self.transitions.items()]

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        table = Table(title=self.title, caption=self.caption or None, box=box.SIMPLE_HEAD,
                      title_style="bold", header_style="bold", expand=False,
                      caption_justify="left")
        table.add_column("State", style="cyan", no_wrap=True)
        table.add_column(self.heading)
        for state, moves in self.rows():
            table.add_row(state, Text(moves or "(no commands: the session is over or waits)"))
        yield table


def _moves(state: State, moves: Mapping[Input, State]) -> str:
    """"EHLO, HELO → READY; NOOP → stays" for one state's row."""
    by_target: dict[State, list[str]] = {}
    for command, target in moves.items():
        by_target.setdefault(target, []).append(str(command.value))
    parts = [
        f"{', '.join(commands)} → {'stays' if target is state else target.name}"
        for target, commands in by_target.items()
    ]
    return "; ".join(parts)


def failed_moves(state: State, moves: Mapping[Input, State],
                 after_failure: Mapping[Input, State]) -> dict[State, list[str]]:
    """The inputs of `moves` that lead elsewhere when they fail, by where they lead."""
    by_target: dict[State, list[str]] = {}
    for command, target in after_failure.items():
        if command in moves and target is not state:
            by_target.setdefault(target, []).append(str(command.value))
    return by_target


def _failures(state: State, moves: Mapping[Input, State],
              after_failure: Mapping[Input, State]) -> str:
    """"failed SELECT, EXAMINE → AUTHENTICATED" for one state's row."""
    return "; ".join(f"failed {', '.join(commands)} → {target.name}"
                     for target, commands in failed_moves(state, moves, after_failure).items())
