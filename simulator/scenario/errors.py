r"""What a scenario mistake looks like: a `Problem` at a field path, gathered in a `ScenarioError`.

Field paths are written the way a student finds them in the file: dotted
mapping keys (kept verbatim, even when they contain dots), list indices in
brackets — ``hosts.mail.example.org.links[0].latency``.

Whatever a file holds, a problem is shown on one line: control characters,
line breaks and other invisible characters in file names, keys and values
are written as escapes (``\x1b``, ``\n``, ``\u2028``), long keys and values are
shortened.  Of a very broken file, only the first `MAX_PROBLEMS_SHOWN`
problems are worded and listed (`more_problems` says how many are left).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

Location = tuple[str | int, ...]
"""A raw field path: mapping keys as strings, list indices as ints."""

_MAX_SHOWN = 40  # characters of a value shown in a message
_MAX_KEY_SHOWN = 80  # characters of one key shown in a field path
MAX_PROBLEMS_SHOWN = 50  # problems worded and listed; the rest are counted
_MAX_INT_BITS = 64  # larger integers are described by their size, not written out
_DIGITS_PER_BIT = math.log10(2)
_NAMED_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


@dataclass(frozen=True)
class Problem:
    """One mistake in a scenario: where it is (field path or line) and what is wrong."""

    location: str
    message: str

    def __str__(self) -> str:
        text = f"{self.location}: {self.message}" if self.location else self.message
        return printable(text)


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
        path = printable(self.path)
        return "\n".join(f"{path}: {problem}" for problem in self.problems)


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


def more_problems(count: int | None) -> Problem:
    """The last line of a long list: how many problems were not listed (None: unknown)."""
    how_many = "more problems" if count is None else f"{count} more problems"
    return Problem("", f"... and {how_many}; fix the ones above first")


def format_location(location: Iterable[str | int]) -> str:
    """Write a raw path as ``hosts.alice-pc.links[0].latency``."""
    text = ""
    for part in location:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            part = shorten(str(part), _MAX_KEY_SHOWN)
            text += f".{part}" if text else part
    return text


def printable(text: str) -> str:
    r"""`text` with every invisible or line-breaking character written as an escape.

    Control characters (``\x1b`` would reach the terminal), line breaks
    (``\n``, ``\u2028``) and other characters `str.isprintable` refuses become
    ``\x..``, ``\u....`` or ``\U........``; the result is always one line.
    """
    if text.isprintable():
        return text
    return "".join(char if char.isprintable() else _escape(char) for char in text)


def _escape(char: str) -> str:
    code = ord(char)
    if char in _NAMED_ESCAPES:
        return _NAMED_ESCAPES[char]
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def shorten(text: str, limit: int = _MAX_SHOWN) -> str:
    """`text` cut to `limit` characters, ending in "..." if it was cut."""
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _digits(number: int) -> int:
    """How many decimal digits `number` (> 0) has, without writing it out."""
    digits = int((number.bit_length() - 1) * _DIGITS_PER_BIT) + 1
    return digits + 1 if number >= 10**digits else digits


def describe(value: Any) -> str:
    """Show a user's value briefly for a message: ``"fast"``, ``12``, ``a list``."""
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'"{shorten(value)}"'
    if isinstance(value, int) and value.bit_length() > _MAX_INT_BITS:
        return f"a number of {_digits(abs(value))} digits"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list | tuple):
        return "a list"
    return f"a {type(value).__name__}"
