"""Folding long payloads: a message body need not fill the projector.

When a client sends a message after DATA, or a server answers RETR, many
protocol lines leave one host at one instant.  Such a run is shown with its
header section in full (that is where `Received:` and `Message-ID:` live),
then one line saying how many lines were left out, then its last line (the
"." that ends the data).  `--full` shows everything.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import replace

from simulator.trace import Kind, TraceRecord

#: Runs up to this many lines are shown whole: replies, and short messages.
SHORT_RUN = 30
#: At most this many header lines are shown from a longer run.
MAX_HEAD = 30
#: Folding fewer lines than this would hide more than it saves.
MIN_LEFT_OUT = 4
#: Lines kept from a longer run that has no blank line (no header section).
PLAIN_HEAD = 6


def run_key(record: TraceRecord) -> tuple[object, ...] | None:
    """Records with equal keys belong to one run; None never runs."""
    if record.kind is not Kind.LINE:
        return None
    return (record.session, record.host, record.time)


def fold(run: list[TraceRecord]) -> list[TraceRecord]:
    """A run of lines, with its middle replaced by one "left out" line."""
    if len(run) <= SHORT_RUN:
        return run
    texts = [record.text for record in run]
    head = texts.index("") + 1 if "" in texts[:MAX_HEAD] else PLAIN_HEAD
    left_out = len(run) - head - 1
    if left_out < MIN_LEFT_OUT:
        return run
    marker = replace(
        run[head], text=f"[… {left_out} more lines not shown; mailsim run --full shows them]",
        data={**run[head].data, "elided": left_out},
    )
    return [*run[:head], marker, run[-1]]


class Folder:
    """Folds runs of lines in a stream: records go in one at a time.

    A line is held back while its run may go on; `push` returns what can
    be shown now, and `flush` what is still held at the end.
    """

    def __init__(self, full: bool = False) -> None:
        self.full = full
        self._run: list[TraceRecord] = []

    def push(self, record: TraceRecord) -> list[TraceRecord]:
        """Take one record; the records ready to be shown, in order."""
        key = run_key(record)
        if self._run and key == run_key(self._run[0]):
            self._run.append(record)
            return []
        ready = self.flush()
        if key is None:
            return [*ready, record]
        self._run = [record]
        return ready

    def flush(self) -> list[TraceRecord]:
        """The run held back, folded unless `full`."""
        run, self._run = self._run, []
        return run if self.full else fold(run)


def folded(records: Iterable[TraceRecord]) -> Iterator[TraceRecord]:
    """`records` with every long run of lines folded."""
    folder = Folder()
    for record in records:
        yield from folder.push(record)
    yield from folder.flush()
