"""Where the commands write: the trace file, exports, generated scenarios.

A command never writes over the scenario it reads; a file it cannot write
is a plain message and exit status 2.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from simulator.cli import EXIT_OK, EXIT_USAGE, UsageError, complain


@contextmanager
def trace_file(path: Path | None) -> Iterator[IO[str] | None]:
    """The --trace file opened for writing (or None), closed on leaving."""
    if path is None:
        yield None
        return
    with path.open("w", encoding="utf-8") as stream:
        yield stream


def refuse_overwriting(scenario: Path, output: Path | None) -> None:
    """Never write a trace or an export over the scenario file being read."""
    if output is not None and output.exists() and output.samefile(scenario):
        raise UsageError(f"mailsim: {output} is the scenario being run; "
                         "choose another file for the output")


def write_out(text: str, output: Path | None) -> int:
    """Write `text` to `output`, or to stdout; an exit status."""
    if output is None:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
        return EXIT_OK
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as error:
        complain(f"mailsim: cannot write {output}: {error.strerror or error}")
        return EXIT_USAGE
    return EXIT_OK
