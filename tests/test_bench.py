"""Performance: quick start-up, and `mailsim bench` measuring the simulator against bare SimPy.

Speed is measured by the benchmark, never asserted here: these tests check
what the benchmark reports (its columns, positive figures) on tiny cases,
and what start-up imports.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

import simulator.simulation
from simulator import bench, catalog, cli
from simulator.baseline import baseline_plan
from simulator.cli import main
from simulator.simulation import Simulation

HEAVY = ("pydantic", "rich", "networkx", "yaml", "simpy", "email", "simulator.scenario")


def modules_loaded_by(code: str) -> list[str]:
    """The heavy modules a fresh interpreter holds after running `code`."""
    probe = f"{code}\nimport sys\nprint(' '.join(m for m in {HEAVY!r} if m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          check=True)
    return done.stdout.split()


def test_import_simulator_loads_nothing_heavy() -> None:
    assert modules_loaded_by("import simulator") == []


def test_help_loads_nothing_heavy() -> None:
    code = "import simulator.cli as cli\ncli._parser().format_help()"
    assert modules_loaded_by(code) == []


def loaded_after(argv: list[str], names: tuple[str, ...]) -> list[str]:
    """Which of `names` a fresh interpreter holds after `mailsim ARGV` (its output dropped)."""
    code = ("import io, sys\nsys.stdout = io.StringIO()\nimport simulator.cli as cli\n"
            f"cli.main({argv!r})\n"
            f"print(' '.join(m for m in {names!r} if m in sys.modules), file=sys.__stdout__)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)
    return done.stdout.split()


UNSHOWN = ("simulator.narration", "simulator.views.sequence", "simulator.views.follow",
           "simulator.views.export", "rich.progress", "simulator.scenario.messages")


def test_a_run_loads_only_what_it_shows() -> None:
    assert loaded_after([], UNSHOWN) == []
    assert loaded_after(["run", "--explain"], UNSHOWN) == ["simulator.narration"]


def test_validating_a_scenario_loads_no_simulation() -> None:
    assert loaded_after(["validate", "01-first-email"], ("simulator.world", "simpy")) == []


def test_the_default_scenario_is_the_catalog_one() -> None:
    assert cli.DEFAULT_SCENARIO == catalog.DEFAULT_SCENARIO


# -- mailsim bench on tiny cases ---------------------------------------------------

TINY = [bench.Case.scenario("01-first-email"), bench.Case.generated(20),
        bench.Case.generated(20, "session")]


@pytest.fixture(scope="module")
def tiny_results() -> list[bench.Result]:
    return bench.run_cases(TINY, jobs=2)


def test_each_case_reports_positive_figures(tiny_results: list[bench.Result]) -> None:
    assert [result.case for result in tiny_results] == [
        "01-first-email", "generated 20", "generated 20, session"]
    for result in tiny_results[:2]:
        assert result.messages > 0 and result.events > 0 and result.records > result.lines > 0
        assert result.cpu > 0 and result.wall > 0 and result.peak_mb > 0
        assert result.baseline_cpu > 0 and result.baseline_events > 0
        assert result.ratio is not None and result.ratio > 0
        assert result.messages_per_s > 0 and result.records_per_s > 0
    assert tiny_results[1].messages == 20


def test_a_session_fidelity_case_has_no_lines_and_no_baseline(
    tiny_results: list[bench.Result],
) -> None:
    dialogue, session = tiny_results[1], tiny_results[2]
    assert session.messages == dialogue.messages == 20
    assert session.lines == 0 and 0 < session.records < dialogue.records
    assert session.events < dialogue.events
    assert session.ratio is None and session.baseline_cpu == session.baseline_events == 0


def test_the_table_has_every_column_and_the_machine(tiny_results: list[bench.Result]) -> None:
    console = Console(file=io.StringIO(), width=bench.TABLE_WIDTH, color_system=None)
    console.print(bench.results_table(tiny_results, bench.machine(), bench.TABLE_WIDTH))
    out = console.file.getvalue()  # type: ignore[attr-defined]
    header = next(line for line in out.splitlines() if "Case" in line)
    assert header.split() == [word for column in bench.COLUMNS for word in column.split()]
    row = next(line for line in out.splitlines() if line.strip().startswith("generated 20 "))
    figures = [float(cell.replace(",", "")) for cell in row.split()[2:]]
    assert len(figures) == len(bench.COLUMNS) - 1
    assert all(figure > 0 for figure in figures)
    session = next(line for line in out.splitlines() if "generated 20, session" in line)
    assert session.split()[-2:] == ["-", "-"]  # no baseline, no ratio
    assert "Python" in out and "SimPy" in out and "…" not in out


def test_a_narrow_console_gets_the_main_columns_whole(tiny_results: list[bench.Result]) -> None:
    console = Console(file=io.StringIO(), width=80, color_system=None)
    console.print(bench.results_table(tiny_results, bench.machine(), 80))
    out = console.file.getvalue()  # type: ignore[attr-defined]
    header = next(line for line in out.splitlines() if "Case" in line)
    assert header.split() == [word for column in bench.NARROW_COLUMNS for word in column.split()]
    assert "…" not in out and max(len(line) for line in out.splitlines()) <= 80


def test_the_baseline_moves_the_simulators_lines_over_its_routes() -> None:
    scenario = bench.case_scenario(bench.Case.generated(10))
    simulation, counter, _, _ = bench._run_simulator(scenario, "dialogue")
    plan = baseline_plan(simulation, scenario, counter.lines)
    assert len(plan) == 10
    assert sum(lines for _, hops in plan for _, lines in hops) == counter.lines
    assert all(delay > 0 for _, hops in plan for delay, _ in hops)
    assert [at for at, _ in plan] == [message.at for message in scenario.traffic]


def test_mailsim_bench_quick_prints_the_table_and_writes_json(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(bench, "quick_cases", lambda: TINY[:1])
    path = tmp_path / "bench.json"
    assert main(["bench", "--quick", "--json", str(path)]) == 0
    assert "01-first-email" in capsys.readouterr().out
    document = json.loads(path.read_text(encoding="utf-8"))
    assert document["machine"]["simpy"]
    assert document["cases"][0]["case"] == "01-first-email"
    assert document["cases"][0]["ratio"] > 0


# -- a run streams its trace when no view needs it whole -----------------------------


@pytest.mark.parametrize(("views", "kept"), [([], False), (["--view", "summary"], False),
                                             (["--view", "sequence"], True)])
def test_mailsim_run_keeps_the_trace_only_for_views_that_read_it_whole(
    views: list[str], kept: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    made: list[Simulation] = []

    class Watched(Simulation):
        def __init__(self, *args: Any, **keywords: Any) -> None:
            super().__init__(*args, **keywords)
            made.append(self)

    monkeypatch.setattr(simulator.simulation, "Simulation", Watched)  # `run` imports it then
    trace = tmp_path / "trace.jsonl"
    argv = ["run", "02-unknown-user", "--quiet", "--trace", str(trace), *views]
    assert main(argv) == 0
    simulation = made[0]
    assert len(simulation.trace) == len(trace.read_text(encoding="utf-8").splitlines())
    assert bool(simulation.trace.records) is kept
    assert simulation._fresh == []  # the records each slice handed back were dropped
    if "sequence" not in views:
        assert "1 delivered · 1 bounced · 0 queued" in capsys.readouterr().out


def test_a_big_world_gets_more_hours_not_more_traffic_an_hour() -> None:
    assert bench.Case.generated(1_000).hours == bench.HOURS
    big = bench.Case.generated(100_000)
    assert big.hours == 100_000 / bench.BUSIEST and big.name == "generated 100,000 (10 h)"
    assert [case.messages for case in bench.full_cases()][-3:-1] == [10_000, 100_000]


def test_the_isp_day_is_ten_thousand_mailboxes_in_a_hundred_domains_at_session_fidelity() -> None:
    day = bench.full_cases()[-1]
    assert day == bench.Case.isp_day()
    assert (day.domains, day.users, day.hours, day.fidelity) == (100, 100, 24.0, "session")
    scenario = bench.case_scenario(bench.Case.isp_day(messages=3))
    assert sum(len(domain.users) for domain in scenario.domains.values()) == 10_000
    assert len(scenario.hosts) <= 1000 and len(scenario.traffic) == 3


def test_the_biggest_cases_start_first_and_results_keep_the_cases_order(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    started: list[str] = []

    def fake(case: bench.Case) -> bench.Result:
        started.append(case.name)
        return bench.Result(case.name, case.messages, 1, 1, 0, 1.0, 1.0, 1.0, 0, 0.0, 0.0)

    monkeypatch.setattr(bench, "measure_in_child", fake)
    cases = [bench.Case.scenario("01-first-email"), bench.Case.generated(100),
             bench.Case.generated(10)]
    results = bench.run_cases(cases, jobs=1)
    assert started == ["generated 100", "generated 10", "01-first-email"]
    assert [result.case for result in results] == [case.name for case in cases]
