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
from collections.abc import Callable, Generator, Iterable, Sequence
from dataclasses import asdict, dataclass
from importlib import metadata
from itertools import pairwise
from typing import TYPE_CHECKING, Any

import simpy

if TYPE_CHECKING:
    from simulator.scenario.models import Scenario
    from simulator.simulation import Simulation
    from simulator.trace import TraceRecord

#: The generated worlds: domains, users per domain, hours of traffic at least, POP3 interval.
DOMAINS, USERS, HOURS, CHECK_EVERY = 5, 20, 1.0, "5m"
#: Messages an hour at most: a bigger world gets more hours, not a busier one.
BUSIEST = 10_000
#: Pieces a run is played in; each hands back (and so drops) its records.
SLICES = 200
#: A case faster than this (CPU seconds) is run again, at most `MAX_RUNS` times in all.
SHORT_RUN = 0.25
MAX_RUNS = 50
#: Imported before the clock starts, as SimPy is for the baseline: a case times its run.
RUN_MODULES = ("simulator.scenario.builder", "simulator.simulation")
#: The line the baseline moves: a typical SMTP command.
LINE = b"RCPT TO:<bob@org2.example>\r\n"


@dataclass(frozen=True, slots=True)
class Case:
    """One benchmark case: a bundled scenario by name, or a generated world by size."""

    name: str
    bundled: str | None = None
    messages: int = 0
    hours: float = HOURS

    @classmethod
    def scenario(cls, name: str) -> Case:
        return cls(name, bundled=name)

    @classmethod
    def generated(cls, messages: int, name: str | None = None) -> Case:
        """A generated world: `HOURS` of traffic, more when that is over `BUSIEST` an hour."""
        hours = max(HOURS, messages / BUSIEST)
        label = f"generated {messages:,}" + (f" ({hours:g} h)" if hours != HOURS else "")
        return cls(name or label, messages=messages, hours=hours)


def quick_cases() -> list[Case]:
    """The bundled scenarios and the 1,000-message world."""
    return [*_bundled_cases(), Case.generated(1_000)]


def full_cases() -> list[Case]:
    """`quick_cases` and the 10,000- and 100,000-message worlds."""
    return [*quick_cases(), Case.generated(10_000), Case.generated(100_000)]


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
    baseline_events: int
    baseline_cpu: float
    baseline_wall: float
    runs: int = 1  # a short case is run several times, its times averaged

    @property
    def ratio(self) -> float:
        """Simulator CPU time over bare SimPy's, for the same messages."""
        return self.cpu / self.baseline_cpu if self.baseline_cpu > 0 else float("inf")

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
    cases: Iterable[Case], on_result: Callable[[Result], None] | None = None
) -> list[Result]:
    """Measure each case in a child process; `on_result` hears of each as it ends."""
    results = []
    for case in cases:
        result = measure_in_child(case)
        results.append(result)
        if on_result is not None:
            on_result(result)
    return results


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
    noise.
    """
    scenario = case_scenario(case)
    for module in RUN_MODULES:
        importlib.import_module(module)
    simulation, counter, cpu, wall = _run_simulator(scenario)
    runs = 1 if cpu >= SHORT_RUN else min(MAX_RUNS, max(2, int(SHORT_RUN / max(cpu, 1e-4))))
    for _ in range(runs - 1):
        _, _, more_cpu, more_wall = _run_simulator(scenario)
        cpu, wall = cpu + more_cpu, wall + more_wall
    events = next(simulation.world.env._eid)  # SimPy's event counter, read once at the end
    plan = baseline_plan(simulation, scenario, counter.lines)
    baseline = [run_baseline(plan) for _ in range(runs)]
    return Result(
        case=case.name, messages=len(scenario.traffic), events=events, records=counter.records,
        lines=counter.lines, cpu=cpu / runs, wall=wall / runs, peak_mb=peak_memory_mb(),
        baseline_events=baseline[0][0], baseline_cpu=sum(b[1] for b in baseline) / runs,
        baseline_wall=sum(b[2] for b in baseline) / runs, runs=runs,
    )


def _run_simulator(scenario: Scenario) -> tuple[Simulation, RecordCounter, float, float]:
    """Build and play the scenario with a streamed trace: (simulation, counts, CPU, wall)."""
    from simulator.simulation import Simulation

    gc.collect()
    cpu, wall = time.process_time(), time.perf_counter()
    simulation = Simulation(scenario, keep_trace=False)
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

    return scenario_of(generate_world(DOMAINS, USERS, case.messages, hours=case.hours,
                                      check_every=CHECK_EVERY))


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


# -- the baseline: bare SimPy moving the same lines -------------------------------

#: A message's journey for the baseline: when it is sent, then (one-way delay, lines) per hop.
Journey = tuple[float, list[tuple[float, int]]]


def baseline_plan(simulation: Simulation, scenario: Scenario, lines: int) -> list[Journey]:
    """Each message's hops (submission, relay unless the mail is local, POP3) sharing its lines.

    The trace's `lines` are spread evenly over the messages and over the
    hops of each; a hop's delay is the simulator's own transit time of
    one line over that route.
    """
    messages = scenario.traffic
    if not messages:
        return []
    topology = simulation.world.topology
    share, extra = divmod(lines, len(messages))
    plan = []
    for index, message in enumerate(messages):
        recipient = scenario.user(message.to[0])
        sender = scenario.user(message.sender)
        path = [sender.mua if sender else None, _mta_of(scenario, message.sender),
                _mta_of(scenario, message.to[0]), recipient.mua if recipient else None]
        hosts = [host for host, before in zip(path, [None, *path], strict=False)
                 if host is not None and host != before]  # local mail is not relayed
        hops = list(pairwise(hosts)) or [(hosts[0], hosts[0])]
        count = share + (index < extra)
        plan.append((message.at, [
            (topology.transit_time(a, b, len(LINE)) or 0.0,
             count // len(hops) + (number < count % len(hops)))
            for number, (a, b) in enumerate(hops)
        ]))
    return plan


def _mta_of(scenario: Scenario, address: str) -> str | None:
    domain = scenario.domain_of(address)
    return domain.mta if domain is not None else None


def run_baseline(plan: Sequence[Journey]) -> tuple[int, float, float]:
    """Play the plan in bare SimPy: (events scheduled, CPU seconds, wall seconds)."""
    gc.collect()
    cpu, wall = time.process_time(), time.perf_counter()
    env = simpy.Environment()
    for at, hops in plan:
        env.process(_journey(env, at, hops))
    env.run()
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    return next(env._eid), cpu, wall


def _journey(
    env: simpy.Environment, at: float, hops: list[tuple[float, int]]
) -> Generator[simpy.Event, Any, None]:
    yield env.timeout(at)
    for delay, lines in hops:
        wire = simpy.Store(env)
        env.process(_read(wire, lines))
        for _ in range(lines):
            yield env.timeout(delay)
            yield wire.put(LINE)


def _read(wire: simpy.Store, lines: int) -> Generator[simpy.Event, Any, None]:
    for _ in range(lines):
        yield wire.get()


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
#: Cells of a table that shows every column in full; narrower consoles fold the cells.
TABLE_WIDTH = 132


def row(result: Result) -> list[str]:
    """One table row: counts in full, times to the millisecond, rates per CPU second."""
    return [
        result.case, f"{result.messages:,}", f"{result.events:,}", f"{result.records:,}",
        f"{result.cpu:.3f}", f"{result.wall:.3f}", f"{result.messages_per_s:,.0f}",
        f"{result.records_per_s:,.0f}", f"{result.peak_mb:.0f}",
        f"{result.baseline_cpu:.3f}", f"{result.ratio:.1f}",
    ]


def results_table(results: Sequence[Result], about: dict[str, Any]) -> Any:
    """A rich table of the results, the machine in its caption."""
    from rich import box
    from rich.table import Table

    table = Table(title="mailsim bench", caption=_caption(about), caption_justify="left",
                  box=box.SIMPLE_HEAD, pad_edge=False, header_style="bold",
                  title_style="bold")
    for name in COLUMNS:
        table.add_column(name, justify="left" if name == "Case" else "right", overflow="fold",
                         no_wrap=name == "Case")
    for result in results:
        table.add_row(*row(result))
    return table


def _caption(about: dict[str, Any]) -> str:
    load = f", load {about['load']}" if about.get("load") is not None else ""
    return (f"{about['cpu']} ({about['cpus']} CPUs{load}), {about['python']}, "
            f"SimPy {about['simpy']}.  Rates are per CPU second; SimPy CPU s is bare SimPy "
            "moving the same lines, and the ratio the simulator's CPU time over it; peak MB is "
            "the case process's peak resident memory.")


def write_json(path: str | os.PathLike[str], results: Sequence[Result],
               about: dict[str, Any]) -> None:
    """The figures as JSON, for comparing runs."""
    document = {"machine": about, "cases": [result.as_json() for result in results]}
    with open(path, "w", encoding="utf-8") as stream:
        json.dump(document, stream, indent=2)
        stream.write("\n")


def report(cases: Sequence[Case], console: Any, json_path: str | None = None) -> list[Result]:
    """Run the cases, telling each as it ends, then print the table (and write the JSON)."""
    about = machine()
    console.print(f"{len(cases)} cases, each in a process of its own; the simulator, then "
                  "bare SimPy moving the same lines.", style="dim")
    results = run_cases(cases, lambda result: console.print(
        f"  {result.case}: {result.cpu:.2f} s CPU, {result.ratio:.1f} times the baseline",
        style="dim",
    ))
    console.print(results_table(results, about))
    if json_path is not None:
        write_json(json_path, results, about)
    return results
