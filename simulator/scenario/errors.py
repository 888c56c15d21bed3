"""What a scenario mistake looks like: a `Problem` at a field path, gathered in a `ScenarioError`.

Field paths are written the way a student finds them in the file: dotted
mapping keys (kept verbatim, even when they contain dots), list indices in
brackets — ``hosts.mail.example.org.links[0].latency``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

Location = tuple[str | int, ...]
"""A raw field path: mapping keys as strings, list indices as ints."""

_MAX_SHOWN = 40


@dataclass(frozen=True)
class Problem:
    """One mistake in a scenario: where it is (field path or line) and what is wrong."""

    location: str
    message: str

    def __str__(self) -> str:
        return f"{self.location}: {self.message}" if self.location else self.message


class ScenarioError(Exception):
    """A scenario that cannot be loaded; `str()` gives one line per problem.

    ``.path`` is the file (or a label such as ``"<python>"``) and
    ``.problems`` lists every `Problem` found.
    """

    def __init__(self, path: str | Path, problems: Sequence[Problem]) -> None:
        self.path = str(path)
        self.problems = list(problems)
        super().__init__(str(self))

    def __str__(self) -> str:
        return "\n".join(f"{self.path}: {problem}" for problem in self.problems)


class CrossReferenceError(ValueError):
    """Raised by the scenario's model validator: several problems, each at its own path.

    It is a `ValueError` so pydantic reports it as a validation error; the
    loader unpacks ``.problems`` into separate `Problem` entries.
    """

    def __init__(self, problems: Iterable[tuple[Location, str]]) -> None:
        self.problems = list(problems)
        super().__init__(
            "; ".join(f"{format_location(loc)}: {message}" for loc, message in self.problems)
        )


def format_location(location: Iterable[str | int]) -> str:
    """Write a raw path as ``hosts.alice-pc.links[0].latency``."""
    text = ""
    for part in location:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text


def describe(value: Any) -> str:
    """Show a user's value briefly for a message: ``"fast"``, ``12``, ``a list``."""
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        shown = value if len(value) <= _MAX_SHOWN else value[: _MAX_SHOWN - 3] + "..."
        return f'"{shown}"'
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list | tuple):
        return "a list"
    return f"a {type(value).__name__}"
