"""What each `mailsim` command does: drive a `Simulation` and show its trace.

`cli` reads the command line and calls one function here per command.
They print rich renderables from `simulator.views` and never reach into
agents: what is shown comes from the trace, the scenario model, or the
simulation's inspectors.
"""

from __future__ import annotations

import argparse
import gc
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, TypedDict

from rich.console import Console, RenderableType

from simulator import catalog, views  # a view's module is loaded when the view is named
from simulator.cli import EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE, UsageError, complain
from simulator.outputs import refuse_overwriting, trace_file, write_out
from simulator.scenario.errors import ScenarioError
from simulator.scenario.loader import load_scenario, scenario_json_schema, validate_scenario

if TYPE_CHECKING:
    from simulator.fates import FateLedger
    from simulator.scenario.models import Scenario
    from simulator.simulation import Simulation
    from simulator.views import LivePrinter
    from simulator.views.progress import RunProgress

#: Fewer columns than this make a cramped export; more make a tiny one.
EXPORT_WIDTHS = range(40, 401)
#: The views that read the whole trace after a run; for the others it is only streamed.
TRACE_VIEWS = frozenset({"sequence", "follow"})
#: Pieces of simulated time a run is played in (see `_play`).
RUN_SLICES = 500


def run(args: argparse.Namespace) -> int:
    """`mailsim run`: the lesson, the live transcript, then the chosen views.

    The trace is kept only for the views that read it whole after the run
    (`TRACE_VIEWS`); otherwise it is streamed -- to the printer, the
    `--trace` file and the fate ledger of the summary -- and nothing grows
    with simulated time but the state of the world.  A long run shows a
    progress bar on a terminal when no transcript is printing.
    """
    with _loading():
        from simulator.fates import FateLedger
        from simulator.lessons import LessonView
        from simulator.simulation import Simulation
        from simulator.trace import JsonlWriter

    path = catalog.resolve(args.scenario)
    scenario = load_scenario(path)
    refuse_overwriting(path, args.trace)
    shown = args.view or ["transcript", "summary"]
    _check_run(scenario, args, shown)
    keep = not TRACE_VIEWS.isdisjoint(shown) or args.eavesdropper is not None
    simulation = Simulation(scenario, args.seed, keep_trace=keep, fidelity=args.fidelity)
    ledger = FateLedger()
    simulation.trace.subscribe(ledger.feed)
    console = Console(highlight=False)
    live = "transcript" in shown and not args.quiet
    if live and scenario.lesson is not None and args.fidelity == "dialogue":
        console.print(LessonView(scenario, path, brief=True))  # it points at protocol lines
    if live:
        printer = _printer(console, args, scenario, speed=args.speed)
        simulation.trace.subscribe(printer)
    progress = None if live else views.RunProgress(console, simulation.duration,
                                                   len(scenario.traffic))
    if progress is not None:
        simulation.trace.subscribe(progress)
    try:
        with trace_file(args.trace) as stream:
            if stream is not None:
                simulation.trace.subscribe(JsonlWriter(stream))
            status = _play(simulation, args.until, progress)
    except OSError as error:
        if args.trace is None:
            raise  # not the trace file's fault: no disguise as one
        complain(f"mailsim: cannot write {args.trace}: {error.strerror or error}")
        return EXIT_USAGE
    finally:
        if progress is not None:
            progress.close()
    if live:
        printer.flush()
    for view in shown:
        if view != "transcript":
            console.print()
            console.print(_view(simulation, view, args, ledger))
    if args.eavesdropper is not None:
        from simulator.views.eavesdrop import EavesdropView

        console.print()
        console.print(EavesdropView(simulation.trace, args.eavesdropper))
    return status


def _check_run(scenario: Scenario, args: argparse.Namespace, shown: list[str]) -> None:
    """`--eavesdropper` names one of the scenario's; nothing needs lines at session fidelity."""
    names, name = [tap.name for tap in scenario.eavesdroppers], args.eavesdropper
    if name is not None and name.lower().rstrip(".") not in names:
        known = ", ".join(names) if names else "none: add an 'eavesdroppers' list to the file"
        raise UsageError(f"mailsim: the scenario has no eavesdropper {name!r} "
                         f"(its eavesdroppers: {known})")
    wanted = ["--view sequence"] * ("sequence" in shown) + ["--eavesdropper"] * (name is not None)
    wanted += ["--session"] * (args.session is not None) + [
        f"--protocol {protocol}" for protocol in args.protocol or () if protocol != "mail"]
    if args.fidelity == "session" and wanted:
        verb = "needs" if len(wanted) == 1 else "need"  # "--view sequence needs", "... need"
        raise UsageError(f"mailsim: {' and '.join(wanted)} {verb} the protocol lines, and a "
                         "session-fidelity run records none: use --fidelity dialogue")


def _play(simulation: Simulation, until: float | None, progress: RunProgress | None = None) -> int:
    """Run to the end (or to `until`) and close the books, even after Ctrl-C.

    The run goes in `RUN_SLICES` pieces: each hands back its records, which
    are dropped at once (the sinks have them), and lets the progress bar
    redraw even when records are few.
    """
    limit = simulation.duration if until is None else min(until, simulation.duration)
    try:
        for piece in range(1, RUN_SLICES):
            simulation.run(limit * piece / RUN_SLICES)
            if progress is not None:
                progress.refresh()
        simulation.run(until)
    except KeyboardInterrupt:
        simulation.finish()
        complain(f"mailsim: interrupted at {simulation.now:.3f} s of simulated time; "
                 "the trace says what was still queued")
        return EXIT_INTERRUPTED
    simulation.finish()
    return EXIT_OK


def step(args: argparse.Namespace) -> int:
    """`mailsim step`: the interactive (or scripted) stepper."""
    with _loading():
        from simulator.lessons import LessonView
        from simulator.simulation import Simulation
        from simulator.stepper import Stepper, command_lines

    path = catalog.resolve(args.scenario)
    scenario = load_scenario(path)
    console = Console(highlight=False)
    if scenario.lesson is not None:
        console.print(LessonView(scenario, path, brief=True))
    highlights = scenario.lesson.highlight if scenario.lesson else ()
    stepper = Stepper(lambda: Simulation(scenario, args.seed), console,
                      explain=args.explain, highlights=highlights)
    interactive = sys.stdin.isatty()
    if interactive:
        console.print("Enter steps, ? shows every command, q quits.", style="dim")
    stepper.run(command_lines(console, interactive, sys.stdin), echo=not interactive)
    return EXIT_OK


def serve(args: argparse.Namespace) -> int:
    """`mailsim serve`: the port table, the live transcript until Ctrl-C or --for, the summary."""
    with _loading():
        from simulator.fates import FateLedger
        from simulator.serve import ServeError, Server, check_bind, write_ports_json
        from simulator.simulation import Simulation
        from simulator.trace import JsonlWriter
        from simulator.views import LivePrinter, SummaryView

    try:
        warning = check_bind(args.bind, args.allow_remote)
        path = catalog.resolve(args.scenario)
        scenario = load_scenario(path)
        for output in (args.trace, args.ports_json):
            refuse_overwriting(path, output)
        simulation = Simulation(scenario, args.seed, keep_trace=False)
        ledger, console = FateLedger(), Console(highlight=False)
        simulation.trace.subscribe(ledger.feed)
        if warning is not None:
            complain(warning)
        server = Server(simulation, port_base=args.port_base, bind=args.bind, speed=args.speed,
                        allow_remote=args.allow_remote)
        with trace_file(args.trace) as stream, server:
            if stream is not None:
                simulation.trace.subscribe(JsonlWriter(stream))
            if args.ports_json is not None:
                write_ports_json(args.ports_json, server.ports)
            pace = "in real time" if args.speed == 1 else f"{args.speed:g}x faster than real time"
            console.print(server.banner(f"{scenario.name}, served {pace} (Ctrl-C stops)"),
                          markup=False, soft_wrap=True)  # a path is copied whole
            if not args.quiet:
                printer = LivePrinter(console, highlights=scenario.lesson.highlight
                                      if scenario.lesson else ())
                simulation.trace.subscribe(printer)
                server.on_quiet = printer.flush
            server.serve_until_stopped(args.serve_for)
    except ServeError as error:
        raise UsageError(str(error)) from None
    except OSError as error:
        if error.filename is None:
            complain(f"mailsim: cannot serve: {error.strerror or error}")
        else:
            complain(f"mailsim: cannot write {error.filename}: {error.strerror or error}")
        return EXIT_USAGE
    if server.on_quiet is not None:
        server.on_quiet()  # what the transcript still held
    console.print()
    console.print(SummaryView(ledger.fates()))
    return EXIT_OK


def export(args: argparse.Namespace) -> int:
    """`mailsim export`: a view as SVG, HTML, text or Mermaid, for slides."""
    with _loading():
        from simulator.simulation import Simulation
        from simulator.views import record_console, sequence_mermaid

    if args.width not in EXPORT_WIDTHS:
        raise UsageError(f"mailsim: --width must be between {EXPORT_WIDTHS.start} and "
                         f"{EXPORT_WIDTHS.stop - 1} columns, got {args.width}")
    path = catalog.resolve(args.scenario)
    scenario = load_scenario(path)
    refuse_overwriting(path, args.output)
    simulation = Simulation(scenario, args.seed)
    simulation.run()
    if args.format == "mermaid":
        if args.view != "sequence":
            raise UsageError("mailsim: --format mermaid draws the sequence view only")
        text = sequence_mermaid(simulation.trace, **_filters(args))
    else:
        text = record_console(_view(simulation, args.view, args), args.width, args.format)
    return write_out(text, args.output)


def generate(args: argparse.Namespace) -> int:
    """`mailsim generate`: a generated world as a commented scenario file."""
    from simulator.generate import generate_world, world_yaml
    from simulator.scenario.limits import MAX_FILE_BYTES

    try:
        world = generate_world(args.domains, args.users, args.messages, hours=args.hours,
                               check_every=args.check_every, seed=args.seed,
                               users_per_host=args.users_per_host)
    except ValueError as error:
        raise UsageError(f"mailsim: {error}") from None
    validate_scenario(world, source="<generated world>")
    text = world_yaml(world)
    size = len(text.encode("utf-8"))
    if size > MAX_FILE_BYTES:
        fits = args.messages * MAX_FILE_BYTES // size
        raise UsageError(f"mailsim: the generated file takes {size:,} bytes, more than the "
                         f"{MAX_FILE_BYTES:,} bytes a scenario file may hold; about {fits} "
                         "messages would fit")
    return write_out(text, args.output)


def bench(args: argparse.Namespace) -> int:
    """`mailsim bench`: the benchmark cases, their table, and the JSON if asked for."""
    from simulator import bench as benchmark

    cases = benchmark.quick_cases() if args.quick else benchmark.full_cases()
    try:
        width = None if sys.stdout.isatty() else benchmark.TABLE_WIDTH
        benchmark.report(cases, Console(highlight=False, width=width), args.json, args.jobs)
    except OSError as error:
        complain(f"mailsim: cannot write {args.json}: {error.strerror or error}")
        return EXIT_USAGE
    return EXIT_OK


def show(args: argparse.Namespace) -> int:
    """`mailsim show`: a scenario's lesson and where its file is."""
    from simulator.lessons import LessonView

    path = catalog.resolve(args.scenario)
    Console(highlight=False).print(LessonView(load_scenario(path), path))
    return EXIT_OK


def validate(args: argparse.Namespace) -> int:
    """`mailsim validate`: check files, one line per problem, exit 2 if any."""
    failed = False
    for name in args.files:
        try:
            scenario = load_scenario(catalog.resolve(name))
        except ScenarioError as error:
            complain(str(error))
            failed = True
            continue
        sys.stdout.write(f"{name}: OK ({scenario.name})\n")  # one line, never wrapped
    return EXIT_USAGE if failed else EXIT_OK


def listing(args: argparse.Namespace) -> int:
    """`mailsim list`: the bundled scenarios with their lesson titles."""
    from simulator.lessons import lesson_title

    console = Console(highlight=False)
    files = catalog.bundled()
    if not files:
        console.print("No bundled scenarios found.")
    for path in files:
        console.print(f"{path.stem:<24} {lesson_title(path)}", markup=False)
    if files:
        console.print("\nmailsim show NAME tells a scenario's lesson; mailsim step NAME "
                      "walks through it.", style="dim")
    return EXIT_OK


def schema(args: argparse.Namespace) -> int:
    """`mailsim schema`: the JSON Schema of scenario files."""
    sys.stdout.write(json.dumps(scenario_json_schema(), indent=2) + "\n")
    return EXIT_OK


def explain(args: argparse.Namespace) -> int:
    """`mailsim explain`: a protocol machine's state table, as a table or Mermaid."""
    from simulator.protocols.tables import STATE_TABLES
    from simulator.views import states_mermaid
    from simulator.views.states import CLIENT_HEADING, HEADING, StateTableView

    table = STATE_TABLES[args.protocol]
    if args.format == "mermaid":
        sys.stdout.write(states_mermaid(table.title, table.transitions, table.after_failure))
    else:
        Console(highlight=False).print(StateTableView(
            table.title, table.transitions, heading=CLIENT_HEADING if table.client else HEADING,
            caption=table.footer, after_failure=table.after_failure))
    return EXIT_OK


@contextmanager
def _loading() -> Iterator[None]:
    """Import a command's simulation machinery with the cycle collector paused, then freeze it.

    Its objects (modules, classes, functions) live as long as the process:
    collecting while they load finds no garbage and costs about a tenth of
    a short run; frozen, later collections skip them.
    """
    if "simulator.simulation" in sys.modules or not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        gc.enable()


class _Filters(TypedDict):
    """The transcript filters of the command line, as view keywords."""

    protocols: list[str] | None
    host: str | None
    message: str | None
    session: str | None


def _filters(args: argparse.Namespace) -> _Filters:
    """The transcript filters given on the command line, as view keywords."""
    return {
        "protocols": args.protocol, "host": args.host,
        "message": _message_id(args.message), "session": args.session,
    }


def _message_id(text: str | None) -> str | None:
    """A Message-ID as the trace writes it, with angle brackets."""
    return text if text is None or text.startswith("<") else f"<{text}>"


def _printer(
    console: Console, args: argparse.Namespace, scenario: Scenario, speed: float | None
) -> LivePrinter:
    highlights = scenario.lesson.highlight if scenario.lesson else ()
    narrator = None
    if args.explain:
        from simulator.narration import Narrator

        narrator = Narrator()
    return views.LivePrinter(console, full=args.full, highlights=highlights, speed=speed,
                       narrator=narrator, **_filters(args))


def _view(
    simulation: Simulation, name: str, args: argparse.Namespace,
    ledger: FateLedger | None = None,
) -> RenderableType:
    """One of the views `--view` names, of a finished (or stopped) simulation.

    The summary reads the fates from `ledger` when the run kept one (its
    trace may not be kept), else from the trace.
    """
    records = simulation.trace
    if name == "summary":
        return views.SummaryView(simulation.fates() if ledger is None else ledger.fates())
    if name == "sequence":
        return views.SequenceView(records, **_filters(args))
    if name == "topology":
        return views.TopologyView(simulation.scenario)
    if name == "follow":
        return views.FollowView(records, _followed(simulation, args.message))
    return views.DialogueView(records, full=args.full, **_filters(args))


def _followed(simulation: Simulation, message: str | None) -> str:
    """The Message-ID to follow: the one asked for, or the first one written."""
    if message is not None:
        return _message_id(message) or ""
    composed = simulation.trace.select("mail.composed")
    if not composed:
        raise UsageError("mailsim: nothing was sent in this run, so there is no message to "
                         "follow")
    return composed[0].message or ""
