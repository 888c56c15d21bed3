"""The progress bar of a long run: shown on a terminal after a second, never elsewhere."""

from __future__ import annotations

import io

import pytest
from rich.console import Console
from synthetic import payload

from simulator.cli import main
from simulator.trace import Kind, Trace
from simulator.views.progress import RunProgress


class Clock:
    """A wall clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def console(terminal: bool) -> Console:
    return Console(file=io.StringIO(), width=160, force_terminal=terminal,
                   color_system=None, force_interactive=terminal)


def feed(progress: RunProgress, clock: Clock, records: int, seconds: float) -> None:
    """`records` records over `seconds` of real time and 60 s of simulated time."""
    now = [0.0]
    trace = Trace(clock=lambda: now[0], keep=False)
    trace.subscribe(progress)
    for number in range(records):
        now[0] = 60.0 * number / records
        clock.now += seconds / records
        if number % 100 == 0:
            trace.emit(Kind.MAIL_COMPOSED, "pc", "", payload(Kind.MAIL_COMPOSED, to=["bob@x"]),
                       message=f"<{number}@x>")
        elif number % 100 == 50:
            trace.emit(Kind.MAIL_DELIVERED, "mx", "",
                       payload(Kind.MAIL_DELIVERED, recipient="bob@x"), message=f"<{number}@x>")
        else:
            trace.emit(Kind.LINE, "pc", "NOOP", payload(Kind.LINE), peer="mx", protocol="smtp")


def test_nothing_is_shown_when_the_output_is_not_a_terminal() -> None:
    clock = Clock()
    out = console(terminal=False)
    progress = RunProgress(out, 120.0, 100, clock=clock)
    feed(progress, clock, 20_000, seconds=5.0)
    progress.refresh()
    progress.close()
    assert out.file.getvalue() == ""  # type: ignore[attr-defined]
    assert progress.sent == 200 and progress.delivered == 200


def test_a_short_run_shows_nothing_even_on_a_terminal() -> None:
    clock = Clock()
    out = console(terminal=True)
    progress = RunProgress(out, 120.0, 100, clock=clock)
    feed(progress, clock, 20_000, seconds=0.5)
    progress.refresh()
    progress.close()
    assert "simulating" not in out.file.getvalue()  # type: ignore[attr-defined]


def test_a_long_run_shows_time_messages_and_rate_on_a_terminal() -> None:
    clock = Clock()
    out = console(terminal=True)
    progress = RunProgress(out, 120.0, 400, clock=clock)
    feed(progress, clock, 20_000, seconds=4.0)
    progress.refresh()
    shown = out.file.getvalue()  # type: ignore[attr-defined]
    progress.close()
    assert "simulating" in shown
    assert "of +02:00.000" in shown
    assert "200/400 sent" in shown
    assert "200 delivered" in shown
    assert "records/s" in shown


def test_the_description_counts_and_rates() -> None:
    progress = RunProgress(console(terminal=False), 3600.0, 1000)
    progress.now, progress.records, progress.sent = 1800.0, 5000, 400
    progress.delivered, progress.bounced = 380, 7
    assert progress.describe(2.0) == (
        "+30:00.000 of +1:00:00.000 · 400/1,000 sent · 380 delivered · 7 bounced · "
        "2,500 records/s"
    )


@pytest.mark.parametrize("argv", [["run", "--quiet"], ["run", "--view", "summary"]])
def test_mailsim_run_prints_no_bar_when_not_on_a_terminal(argv: list[str], capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "simulating" not in out
    assert "1 delivered" in out
