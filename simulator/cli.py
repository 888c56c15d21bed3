"""The `mailsim` command line: run, validate and list scenarios; schema; state tables.

`mailsim` alone runs the bundled default scenario.  Every face here only
reads the trace: the dialogue is printed by a trace sink as records are
emitted, and the summary is computed from the finished trace.  Mistakes in
a scenario file end with a plain message and exit status 2.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from rich.console import Console

from simulator import __version__, catalog
from simulator.protocols import pop3, smtp
from simulator.scenario import ScenarioError, load_scenario, scenario_json_schema
from simulator.simulation import Simulation
from simulator.trace import JsonlWriter
from simulator.views import LivePrinter, SummaryView
from simulator.views.states import StateTableView

#: The state tables `mailsim explain` can draw.
STATE_TABLES = {
    "smtp": ("SMTP server (RFC 5321)", smtp.TRANSITIONS),
    "pop3": ("POP3 server (RFC 1939)", pop3.TRANSITIONS),
}

EXIT_OK = 0
EXIT_USAGE = 2  # bad scenario file or bad arguments, like argparse itself


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of `mailsim` and `python -m simulator`."""
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command is None:
        args = parser.parse_args(["run"])
    try:
        status: int = args.handler(args)
    except ScenarioError as error:
        _complain(str(error))
        return EXIT_USAGE
    return status


def _complain(text: str) -> None:
    """Tell the user what went wrong, on stderr, one unwrapped line per problem."""
    sys.stderr.write(text.rstrip("\n") + "\n")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mailsim",
        description="Simulate how e-mail really works: MUA, MTA and MDA over SMTP and POP3.",
        epilog="With no command, runs the default scenario (mailsim run).",
    )
    parser.add_argument("--version", action="version", version=f"mailsim {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    run = commands.add_parser("run", help="run a scenario and show its dialogues")
    run.add_argument(
        "scenario", nargs="?", default=catalog.DEFAULT_SCENARIO,
        help=f"a scenario file or bundled name (default: {catalog.DEFAULT_SCENARIO})",
    )
    run.add_argument("--seed", type=_seed, help="override the scenario's random seed (>= 0)")
    run.add_argument("--trace", metavar="FILE", type=Path,
                     help="also write the trace as JSON lines to FILE")
    run.add_argument("--quiet", "-q", action="store_true",
                     help="print only the summary, not every protocol line")
    run.add_argument("--full", action="store_true",
                     help="show every line of message bodies instead of folding them")
    run.set_defaults(handler=_run)

    validate = commands.add_parser("validate", help="check scenario files without running them")
    validate.add_argument("files", nargs="+", metavar="FILE")
    validate.set_defaults(handler=_validate)

    listing = commands.add_parser("list", help="list the bundled scenarios")
    listing.set_defaults(handler=_list)

    schema = commands.add_parser("schema", help="print the JSON Schema of scenario files")
    schema.set_defaults(handler=_schema)

    explain = commands.add_parser("explain", help="draw a protocol server's state table")
    explain.add_argument("protocol", choices=sorted(STATE_TABLES))
    explain.set_defaults(handler=_explain)
    return parser


def _seed(text: str) -> int:
    """A --seed value: a whole number, zero or more, like the scenario's own."""
    try:
        seed = int(text)
    except ValueError:
        seed = -1
    if seed < 0:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 0, got {text!r}")
    return seed


def _run(args: argparse.Namespace) -> int:
    simulation = Simulation.load(args.scenario, args.seed)
    console = Console(highlight=False)
    if not args.quiet:
        simulation.trace.subscribe(LivePrinter(console, full=args.full))
    if args.trace is None:
        simulation.run()
    else:
        try:
            with args.trace.open("w", encoding="utf-8") as stream:
                simulation.trace.subscribe(JsonlWriter(stream))
                simulation.run()
        except OSError as error:
            _complain(f"mailsim: cannot write {args.trace}: {error.strerror}")
            return EXIT_USAGE
    console.print()
    console.print(SummaryView(simulation.fates()))
    return EXIT_OK


def _validate(args: argparse.Namespace) -> int:
    console = Console(highlight=False)
    failed = False
    for name in args.files:
        try:
            scenario = load_scenario(catalog.resolve(name))
        except ScenarioError as error:
            _complain(str(error))
            failed = True
            continue
        console.print(f"{name}: OK ({scenario.name})", markup=False)
    return EXIT_USAGE if failed else EXIT_OK


def _list(args: argparse.Namespace) -> int:
    console = Console(highlight=False)
    files = catalog.bundled()
    if not files:
        console.print("No bundled scenarios found.")
    for path in files:
        console.print(f"{path.stem:<24} {catalog.title_of(path)}", markup=False)
    return EXIT_OK


def _explain(args: argparse.Namespace) -> int:
    title, transitions = STATE_TABLES[args.protocol]
    Console(highlight=False).print(StateTableView(title, transitions))
    return EXIT_OK


def _schema(args: argparse.Namespace) -> int:
    sys.stdout.write(json.dumps(scenario_json_schema(), indent=2) + "\n")
    return EXIT_OK
