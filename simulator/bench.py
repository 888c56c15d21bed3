"""`mailsim bench`: how fast the simulator runs, measured against bare SimPy.

Each case is a scenario played to its end with a streamed trace
(`keep_trace=False`; a sink counts the records, nothing is kept): the
bundled scenarios, and generated worlds (`simulator.generate`: 5 domains of
20 users whose clients check POP3 every 5 minutes, the messages spread
over one simulated hour) of 1,000, 10,000 and 100,000 messages.  The
biggest world has ten hours: at most `BUSIEST` messages an hour, so its
cost per message compares with the others'.  (All 100,000 in one hour
cost more per message: every wait for a peer leaves its patience timer,
minutes long, in SimPy's queue, so the queue and the garbage collector's
work grow with the traffic of the last minutes.)  The worlds are built in
memory by `generate_world`, so the 1 MB limit of a scenario file (about
6,700 generated messages) does not bound them.

The yardstick, in the same run: a bare SimPy model of the same world
(`baseline_plan`) that moves as many one-way lines per message as the
simulator's trace holds line records, over the same routes with the same
delays -- one timeout and one `Store` put and get per line, no protocol, no
trace.  The *overhead ratio* is the simulator's CPU time over the
baseline's, for the same messages.

Each case runs in a child process of its own (`python -c`), so one case's
memory does not colour the next: *peak memory* is the child's peak
resident set (`ru_maxrss`), the interpreter and its imports (about 60 MB)
included.  Times are CPU seconds of the child (`time.process_time`), which
a busy machine disturbs less than wall time; both are shown.
"""

from __future__ import annotations

import gc
import importlib
import json
import os
import platform
import resource
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from importlib import metadata
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from simulator.scenario.models import Scenario
    from simulator.simulation import Simulation
    from simulator.trace import TraceRecord

#: The generated worlds: domains, users per domain, hours of traffic at least, POP3 interval.
DOMAINS, USERS, HOURS, CHECK_EVERY = 5, 20, 1.0, "5m"
#: The ISP day: 10,000 mailboxes in 100 domains, 20 users to a shared PC (a scenario holds
#: at most 1,000 hosts), clients checking every 10 minutes (Thunderbird's default), 24 hours.
ISP_DOMAINS, ISP_USERS, ISP_USERS_PER_HOST, ISP_CHECK_EVERY = 100, 100, 20, "10m"
#: Messages of the ISP day the bench plays: 5 % of the goal's million (see the README).
ISP_MESSAGES = 50_000
#: Messages an hour at most: a bigger world gets more hours, not a busier one.
BUSIEST = 10_000
#: Pieces a run is played in; each hands back (and so drops) its records.
SLICES = 200
#: A case faster than this (CPU seconds) is run again, at most `MAX_RUNS` times in all.
SHORT_RUN = 0.25
MAX_RUNS = 50
#: Imported before the clock starts, as SimPy is for the baseline: a case times its run.
RUN_MODULES = ("simulator.scenario.builder", "simulator.simulation")


@dataclass(frozen=True, slots=True)
class Case:
    """One benchmark case: a bundled scenario by name, or a generated world by size."""

    name: str
    bundled: str | None = None
    messages: int = 0
    hours: float = HOURS
    fidelity: str = "dialogue"
    domains: int = DOMAINS
    users: int = USERS  # per domain
    users_per_host: int = 1
    check_every: str = CHECK_EVERY

    @classmethod
    def scenario(cls, name: str) -> Case:
        return cls(name, bundled=name)

    @classmethod
    def generated(cls, messages: int, fidelity: str = "dialogue") -> Case:
        """A generated world: `HOURS` of traffic, more when that is over `BUSIEST` an hour."""
        hours = max(HOURS, messages / BUSIEST)
        label = (f"generated {messages:,}" + (f" ({hours:g} h)" if hours != HOURS else "")
                 + (f", {fidelity}" if fidelity != "dialogue" else ""))
        return cls(label, messages=messages, hours=hours, fidelity=fidelity)

    @classmethod
    def isp_day(cls, messages: int = ISP_MESSAGES) -> Case:
        """The ISP day at session fidelity: `messages` over 24 hours among 10,000 mailboxes."""
        return cls("ISP day, session", messages=messages,
                   hours=24.0, fidelity="session", domains=ISP_DOMAINS, users=ISP_USERS,
                   users_per_host=ISP_USERS_PER_HOST, check_every=ISP_CHECK_EVERY)


def quick_cases() -> list[Case]:
    """The bundled scenarios and the 1,000-message world, at both fidelities."""
    return [*_bundled_cases(), Case.generated(1_000), Case.generated(1_000, "session")]


def full_cases() -> list[Case]:
    """`quick_cases`, the 10,000- and 100,000-message worlds and the ISP day."""
    return [*quick_cases(), Case.generated(10_000), Case.generated(100_000), Case.isp_day()]


def _bundled_cases() -> list[Case]:
    from simulator import catalog

    return [Case.scenario(path.stem) for path in catalog.bundled()]


@dataclass(frozen=True, slots=True)
class Result:
    """What one case measured."""

    case: str
    messages: int
    events: int  # SimPy events the simulator scheduled
    records: int  # trace records
    lines: int  # of which protocol lines
    cpu: float  # seconds: building the world and running it
    wall: float
    peak_mb: float  # peak resident set of the case's process
    baseline_events: int  # 0, with the times, at session fidelity: no lines to move
    baseline_cpu: float
    baseline_wall: float
    runs: int = 1  # a short case is run several times, its times averaged

    @property
    def ratio(self) -> float | None:
        """Simulator CPU time over bare SimPy's, for the same messages (None: no baseline)."""
        return self.cpu / self.baseline_cpu if self.baseline_cpu > 0 else None

    @property
    def messages_per_s(self) -> float:
        return self.messages / self.cpu if self.cpu > 0 else 0.0

    @property
    def records_per_s(self) -> float:
        return self.records / self.cpu if self.cpu > 0 else 0.0

    def as_json(self) -> dict[str, Any]:
        return {**asdict(self), "ratio": self.ratio, "messages_per_s": self.messages_per_s,
                "records_per_s": self.records_per_s}


# -- running the cases, each in a process of its own ------------------------------


def run_cases(
    cases: Sequence[Case], on_result: Callable[[Result], None] | None = None, jobs: int = 1
) -> list[Result]:
    """Measure each case in a child process, `jobs` at a time; results in the cases' order.

    `on_result` hears of each case as it ends.  The biggest cases start
    first, so that with two jobs the longest one is not left for last.
    """
    from concurrent.futures import ThreadPoolExecutor, as_completed

    order = sorted(range(len(cases)), key=lambda index: -cases[index].messages)
    results: dict[int, Result] = {}
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        started = {pool.submit(measure_in_child, cases[index]): index for index in order}
        for future in as_completed(started):
            result = results[started[future]] = future.result()
            if on_result is not None:
                on_result(result)
    return [results[index] for index in range(len(cases))]


def measure_in_child(case: Case) -> Result:
    """Run `measure(case)` in a fresh interpreter and read its result back."""
    code = "import sys; from simulator.bench import child_main; child_main(sys.argv[1])"
    spec = json.dumps(asdict(case))
    done = subprocess.run([sys.executable, "-c", code, spec], capture_output=True, text=True,
                          check=False)
    if done.returncode != 0:
        raise RuntimeError(f"bench case {case.name!r} failed:\n{done.stderr.strip()}")
    return Result(**json.loads(done.stdout.strip().splitlines()[-1]))


def child_main(spec: str) -> None:
    """The child's side: measure one case, print its result as one JSON line."""
    result = measure(Case(**json.loads(spec)))
    sys.stdout.write(json.dumps(asdict(result)) + "\n")


def measure(case: Case) -> Result:
    """Run the simulator on the case, then the bare SimPy baseline on the same world.

    A case that runs in less than `SHORT_RUN` CPU seconds is run again,
    `runs` times in all, and the times are averaged: one tiny run is mostly
    noise.  A session-fidelity case has no baseline: its trace holds no
    lines for bare SimPy to move.
    """
    from simulator.baseline import baseline_plan, run_baseline

    scenario = case_scenario(case)
    for module in RUN_MODULES:
        importlib.import_module(module)
    simulation, counter, cpu, wall = _run_simulator(scenario, case.fidelity)
    runs = 1 if cpu >= SHORT_RUN else min(MAX_RUNS, max(2, int(SHORT_RUN / max(cpu, 1e-4))))
    for _ in range(runs - 1):
        _, _, more_cpu, more_wall = _run_simulator(scenario, case.fidelity)
        cpu, wall = cpu + more_cpu, wall + more_wall
    events = next(simulation.world.env._eid)  # SimPy's event counter, read once at the end
    baseline = (0, 0.0, 0.0)
    if case.fidelity == "dialogue":
        plan = baseline_plan(simulation, scenario, counter.lines)
        moved = [run_baseline(plan) for _ in range(runs)]
        baseline = (moved[0][0], sum(b[1] for b in moved) / runs, sum(b[2] for b in moved) / runs)
    return Result(
        case=case.name, messages=len(scenario.traffic), events=events, records=counter.records,
        lines=counter.lines, cpu=cpu / runs, wall=wall / runs, peak_mb=peak_memory_mb(),
        baseline_events=baseline[0], baseline_cpu=baseline[1], baseline_wall=baseline[2],
        runs=runs,
    )


def _run_simulator(
    scenario: Scenario, fidelity: str
) -> tuple[Simulation, RecordCounter, float, float]:
    """Build and play the scenario with a streamed trace: (simulation, counts, CPU, wall)."""
    from simulator.simulation import Simulation

    gc.collect()
    cpu, wall = time.process_time(), time.perf_counter()
    simulation = Simulation(scenario, keep_trace=False, fidelity=fidelity)
    counter = RecordCounter()
    simulation.trace.subscribe(counter)
    play(simulation)
    return simulation, counter, time.process_time() - cpu, time.perf_counter() - wall


def case_scenario(case: Case) -> Scenario:
    """The scenario model of a case."""
    if case.bundled is not None:
        from simulator import catalog
        from simulator.scenario import load_scenario

        return load_scenario(catalog.resolve(case.bundled))
    from simulator.generate import generate_world, scenario_of

    return scenario_of(generate_world(case.domains, case.users, case.messages, hours=case.hours,
                                      check_every=case.check_every,
                                      users_per_host=case.users_per_host))


def play(simulation: Simulation) -> None:
    """Run to the end in `SLICES` pieces, dropping the records each piece hands back."""
    step = simulation.duration / SLICES
    for piece in range(1, SLICES):
        simulation.run(piece * step)
    simulation.run()


class RecordCounter:
    """A trace sink that counts records, and protocol lines among them."""

    def __init__(self) -> None:
        self.records = 0
        self.lines = 0

    def __call__(self, record: TraceRecord) -> None:
        self.records += 1
        if record.kind == "line":
            self.lines += 1


def peak_memory_mb() -> float:
    """This process's peak resident set, in MB (ru_maxrss: kB on Linux, bytes on macOS)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 1e6 if sys.platform == "darwin" else peak / 1e3


# -- the machine, the table, the file -------------------------------------------


def machine() -> dict[str, Any]:
    """What the figures were measured on."""
    return {
        "cpu": _cpu_model(),
        "cpus": os.cpu_count(),
        "load": round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else None,
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "simpy": metadata.version("simpy"),
        "platform": platform.platform(terse=True),
    }


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            for line in info:
                if line.startswith("model name"):
                    return line.partition(":")[2].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown"


COLUMNS = ("Case", "Messages", "Events", "Records", "CPU s", "Wall s", "Msg/s", "Records/s",
           "Peak MB", "SimPy CPU s", "Ratio")
#: Cells of a table that shows every column in full (the widest case, "generated 100,000
#: (10 h)", takes 134); a narrower console gets `NARROW_COLUMNS`.
TABLE_WIDTH = 140


def row(result: Result) -> list[str]:
    """One table row: counts in full, times to the millisecond, rates per CPU second."""
    return [
        result.case, f"{result.messages:,}", f"{result.events:,}", f"{result.records:,}",
        f"{result.cpu:.3f}", f"{result.wall:.3f}", f"{result.messages_per_s:,.0f}",
        f"{result.records_per_s:,.0f}", f"{result.peak_mb:.0f}",
        f"{result.baseline_cpu:.3f}" if result.ratio is not None else "-",
        f"{result.ratio:.1f}" if result.ratio is not None else "-",
    ]


#: The columns a console narrower than `TABLE_WIDTH` shows (`--json` keeps them all).
NARROW_COLUMNS = ("Case", "Messages", "CPU s", "Msg/s", "Peak MB", "Ratio")


def results_table(
    results: Sequence[Result], about: dict[str, Any], width: int = TABLE_WIDTH
) -> Any:
    """A rich table of the results, the machine in its caption.

    Numbers are never folded: a console narrower than `TABLE_WIDTH` gets
    the `NARROW_COLUMNS` only.
    """
    from rich import box
    from rich.table import Table

    shown = COLUMNS if width >= TABLE_WIDTH else NARROW_COLUMNS
    table = Table(title="mailsim bench", caption=_caption(about), caption_justify="left",
                  box=box.SIMPLE_HEAD, pad_edge=False, header_style="bold",
                  title_style="bold")
    for name in shown:
        table.add_column(name, justify="left" if name == "Case" else "right", no_wrap=True)
    for result in results:
        cells = dict(zip(COLUMNS, row(result), strict=True))
        table.add_row(*(cells[name] for name in shown))
    return table


def _caption(about: dict[str, Any]) -> str:
    load = f", load {about['load']}" if about.get("load") is not None else ""
    jobs = f", {about['jobs']} cases at a time" if about.get("jobs", 1) > 1 else ""
    return (f"{about['cpu']} ({about['cpus']} CPUs{load}{jobs}), {about['python']}, "
            f"SimPy {about['simpy']}.  Rates are per CPU second; SimPy CPU s is bare SimPy "
            "moving the same lines, and the ratio the simulator's CPU time over it (none at "
            "session fidelity, which records no lines); peak MB is the case process's peak "
            "resident memory.")


def write_json(path: str | os.PathLike[str], results: Sequence[Result],
               about: dict[str, Any]) -> None:
    """The figures as JSON, for comparing runs."""
    document = {"machine": about, "cases": [result.as_json() for result in results]}
    with open(path, "w", encoding="utf-8") as stream:
        json.dump(document, stream, indent=2)
        stream.write("\n")


def report(
    cases: Sequence[Case], console: Any, json_path: str | None = None, jobs: int = 1
) -> list[Result]:
    """Run the cases, telling each as it ends, then print the table (and write the JSON)."""
    about = {**machine(), "jobs": jobs}
    console.print(f"{len(cases)} cases, each in a process of its own, {jobs} at a time; the "
                  "simulator, then bare SimPy moving the same lines.", style="dim")
    results = run_cases(cases, lambda result: console.print(
        f"  {result.case}: {result.cpu:.2f} s CPU"
        + (f", {result.ratio:.1f} times the baseline" if result.ratio is not None else ""),
        style="dim",
    ), jobs)
    console.print(results_table(results, about, console.width))
    if json_path is not None:
        write_json(json_path, results, about)
    return results
