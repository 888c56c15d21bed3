"""The narration on screen: dim-cyan italics under a record, wrapped with a hanging indent."""

from __future__ import annotations

import textwrap

from rich.console import Console, ConsoleOptions, RenderResult
from rich.measure import Measurement
from rich.text import Text

NARRATION_STYLE = "italic dim cyan"
PREFIX = "  ↳ "
#: Narrow consoles still get this many cells of words per line.
MIN_WORDS_WIDTH = 20


def narration_text(text: str, width: int | None = None) -> Text:
    """`text` as a narration line: "  ↳ words", italic and dim cyan.

    Lines after the first are indented under the first word.  With `width`
    the words are wrapped to it now; without, they wrap to whatever width
    the text is printed at.
    """
    if width is None:
        return _NarrationText(text)
    return _wrapped(text, width)


def _wrapped(text: str, width: int) -> Text:
    indent = " " * len(PREFIX)
    lines = textwrap.wrap(
        text, width=max(width, len(PREFIX) + MIN_WORDS_WIDTH), initial_indent=PREFIX,
        subsequent_indent=indent, break_long_words=True, break_on_hyphens=False,
    )
    return Text("\n".join(lines) or PREFIX, style=NARRATION_STYLE)


class _NarrationText(Text):
    """A narration `Text` that wraps with its hanging indent wherever it is printed.

    Consoles join plain `Text`s before wrapping them; `__rich__` hands them
    a renderable that wraps at the width it is finally given instead.
    """

    def __init__(self, words: str) -> None:
        super().__init__(PREFIX + words, style=NARRATION_STYLE)
        self.words = words

    def __rich__(self) -> _Wrapping:
        return _Wrapping(self.words)


class _Wrapping:
    """Narration words, wrapped to the width of the console or container."""

    def __init__(self, words: str) -> None:
        self.words = words

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        yield _wrapped(self.words, options.max_width)

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        least = len(PREFIX) + MIN_WORDS_WIDTH
        return Measurement(least, max(least, len(PREFIX) + len(self.words)))
