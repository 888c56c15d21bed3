"""The live printer: paced to simulated time, with words from a narrator."""

from __future__ import annotations

import io
from functools import cache

import pytest
from rich.console import Console

from simulator.simulation import Simulation
from simulator.trace import Kind, TraceRecord
from simulator.views import LivePrinter


@cache
def records(name: str) -> tuple[TraceRecord, ...]:
    simulation = Simulation.load(name)
    simulation.run()
    return simulation.trace.records


def play(name: str, **options: object) -> str:
    console = Console(file=io.StringIO(), width=100, force_terminal=False)
    printer = LivePrinter(console, **options)  # type: ignore[arg-type]
    for record in records(name):
        printer(record)
    return console.file.getvalue()  # type: ignore[attr-defined]


def test_speed_paces_the_output_with_the_sleep_given() -> None:
    naps: list[float] = []
    out = play("01-first-email", speed=10.0, sleep=naps.append)
    end = records("01-first-email")[-1]
    assert end.kind is Kind.SIM_END
    assert sum(naps) == pytest.approx(end.time / 10.0)  # from the start to the last line
    assert all(nap > 0 for nap in naps)
    assert naps[0] == pytest.approx(1.0)  # the first message is composed 10 s in
    assert out == play("01-first-email")  # the same lines, only later


def test_no_speed_no_sleep() -> None:
    naps: list[float] = []
    play("01-first-email", sleep=naps.append)
    assert naps == []


@pytest.mark.parametrize("speed", [0, -1.0])
def test_speed_must_be_positive(speed: float) -> None:
    with pytest.raises(ValueError, match="speed"):
        LivePrinter(Console(file=io.StringIO()), speed=speed)


class CountingNarrator:
    """Explains the EHLO commands; remembers every record it was asked about."""

    def __init__(self) -> None:
        self.seen: list[int] = []

    def explain(self, record: TraceRecord) -> str | None:
        self.seen.append(record.seq)
        return "The client greets the server." if record.text.startswith("EHLO") else None


def test_a_narrator_reads_every_record_and_speaks_under_the_shown_ones() -> None:
    narrator = CountingNarrator()
    out = play("01-first-email", narrator=narrator)
    assert narrator.seen == [record.seq for record in records("01-first-email")]
    lines = out.splitlines()
    ehlo = [i for i, line in enumerate(lines) if " EHLO " in line]
    assert len(ehlo) == 2
    assert all(lines[i + 1].strip() == "↳ The client greets the server." for i in ehlo)
