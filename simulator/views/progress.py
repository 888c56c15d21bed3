"""Progress: a bar for a long run, fed by the trace like any other sink.

A `RunProgress` is subscribed to a running simulation's trace.  It counts
what it sees -- the simulated time of the latest record, the messages the
users have sent, the copies delivered or bounced, the records -- and, once
the run has taken more than `delay` seconds of real time, shows a rich
progress bar: simulated time out of the duration, messages sent out of
the traffic, copies settled, and records per second.  On anything but a
terminal, and when nobody asks for it (the live transcript is printing),
it shows nothing at all.  The bar is transient: `close()` wipes it, so
what follows (the summary) starts on a clean line.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TextColumn

from simulator.trace import Kind, TraceRecord
from simulator.trace_data import MailComposed
from simulator.views.formatting import format_clock

#: Real seconds a run may take before the bar appears.
DELAY = 1.0
#: Real seconds between two redraws of the bar.
REFRESH = 0.1
#: Records between two looks at the clock (a look costs more than counting).
_CHECK_EVERY = 512


class RunProgress:
    """A trace sink that shows how far a long run has come, on a terminal only."""

    def __init__(
        self,
        console: Console,
        duration: float,
        messages: int,
        *,
        delay: float = DELAY,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.console = console
        self.duration = duration
        self.messages = messages
        self.enabled = console.is_terminal
        self.now = 0.0
        self.records = 0
        self.sent = 0
        self.delivered = 0
        self.bounced = 0
        self._delay = delay
        self._clock = clock
        self._started = clock()
        self._drawn = -REFRESH
        self._bar: Progress | None = None
        self._task: TaskID | None = None

    def __call__(self, record: TraceRecord) -> None:
        self.records += 1
        self.now = record.time
        kind = record.kind
        if kind is Kind.MAIL_COMPOSED and record.payload_as(MailComposed).origin == "user":
            self.sent += 1
        elif kind is Kind.MAIL_DELIVERED:
            self.delivered += 1
        elif kind is Kind.MAIL_BOUNCED:
            self.bounced += 1
        if self.enabled and self.records % _CHECK_EVERY == 0:
            self.refresh()

    def refresh(self) -> None:
        """Redraw the bar, if the run has been long enough and the last redraw is old."""
        if not self.enabled:
            return
        now = self._clock()
        if now - self._started < self._delay or now - self._drawn < REFRESH:
            return
        self._drawn = now
        if self._bar is None:
            self._bar = Progress(
                TextColumn("simulating"), BarColumn(), TextColumn("{task.description}"),
                console=self.console, transient=True, auto_refresh=False,
            )
            self._bar.start()
            self._task = self._bar.add_task("", total=self.duration or 1.0)
        assert self._task is not None
        self._bar.update(self._task, completed=min(self.now, self.duration),
                         description=self.describe(now - self._started))
        self._bar.refresh()

    def describe(self, elapsed: float) -> str:
        """ "+12:05.000 of +1:10:00.000 · 412/1,000 sent · 398 delivered · 9 bounced · ..." """
        rate = self.records / elapsed if elapsed > 0 else 0.0
        return (f"{format_clock(self.now)} of {format_clock(self.duration)} · "
                f"{self.sent:,}/{self.messages:,} sent · {self.delivered:,} delivered · "
                f"{self.bounced:,} bounced · {rate:,.0f} records/s")

    def close(self) -> None:
        """Take the bar off the screen (if it was ever shown)."""
        if self._bar is not None:
            self._bar.stop()
            self._bar = None
