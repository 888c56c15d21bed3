"""The `mailsim` command line: its commands, options and exit statuses.

`mailsim` alone runs the bundled default scenario.  This module only reads
the command line and dispatches; `simulator.faces` holds what each command
does with a `Simulation`.  Mistakes in a scenario file end with a plain
message and exit status 2; Ctrl-C ends a run cleanly with status 130 (and
`serve`, whose normal end it is, with 0).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from simulator import __version__

EXIT_OK = 0
EXIT_USAGE = 2  # bad scenario file or bad arguments, like argparse itself
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as shells report Ctrl-C
MAX_SEED = 2**63 - 1  # as a scenario's seed: a signed 64-bit integer

#: What `--view` can show after (or instead of) the live transcript.
VIEWS = ("transcript", "sequence", "follow", "summary", "topology")
#: Most bench cases measured at once (each a process of its own).
MAX_JOBS = 64
#: `simulator.fidelity.Fidelity`'s values, written out (importing it loads the trace module).
FIDELITIES = ("dialogue", "session")
#: The bundled scenario `mailsim` runs when none is named: `catalog.DEFAULT_SCENARIO`,
#: written out here because importing the catalog loads the scenario models (slow --help).
DEFAULT_SCENARIO = "01-first-email"
#: The protocol machines whose state tables `mailsim explain` can draw.
PROTOCOLS = (
    "smtp", "lmtp", "pop3", "imap", "smtp-client", "lmtp-client", "pop3-client", "imap-client",
)
#: What `--protocol` (and the stepper's `f`) keep: a line's protocol (the webmail's are
#: `https`), or a record's category (`tls`: every handshake; `mail`: what mail does).
FILTER_PROTOCOLS = ("smtp", "lmtp", "pop3", "imap", "https", "tls", "dns", "tcp", "mail")
EXPORT_FORMATS = ("txt", "svg", "html", "mermaid")
#: The first real port `mailsim serve` listens on: `serve.DEFAULT_PORT_BASE`, written
#: out here so that --help does not load the server.
SERVE_PORT_BASE = 2500


class UsageError(Exception):
    """A command line that names something that does not exist: exit 2, one line."""


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of `mailsim` and `python -m simulator`."""
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command is None:
        args = parser.parse_args(["run"])
    try:
        status: int = args.handler(args)
    except UsageError as error:
        complain(str(error))
        return EXIT_USAGE
    except KeyboardInterrupt:
        complain("mailsim: interrupted")
        return EXIT_INTERRUPTED
    return status


def complain(text: str) -> None:
    """Tell the user what went wrong, on stderr, one unwrapped line per problem."""
    sys.stderr.write(text.rstrip("\n") + "\n")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mailsim",
        description="Simulate how e-mail really works: MUA, MTA and MDA over SMTP, LMTP, POP3 "
                    "and IMAP, with TLS modelled.",
        epilog="With no command, runs the default scenario (mailsim run).",
    )
    parser.add_argument("--version", action="version", version=f"mailsim {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    _add_run(commands)
    _add_step(commands)
    _add_serve(commands)
    _add_export(commands)
    _add_generate(commands)
    _add_bench(commands)

    show = commands.add_parser("show", help="show a scenario's lesson and where its file is")
    show.add_argument("scenario", help="a scenario file or bundled name")
    show.set_defaults(handler=_lazy("show"))

    validate = commands.add_parser("validate", help="check scenario files without running them")
    validate.add_argument("files", nargs="+", metavar="FILE")
    validate.set_defaults(handler=_lazy("validate"))

    listing = commands.add_parser("list", help="list the bundled scenarios and their lessons")
    listing.set_defaults(handler=_lazy("listing"))

    schema = commands.add_parser("schema", help="print the JSON Schema of scenario files")
    schema.set_defaults(handler=_lazy("schema"))

    explain = commands.add_parser("explain", help="draw a protocol machine's state table")
    explain.add_argument("protocol", choices=PROTOCOLS)
    explain.add_argument("--format", choices=("table", "mermaid"), default="table",
                         help="a table for the terminal, or a Mermaid stateDiagram-v2")
    explain.set_defaults(handler=_lazy("explain"))
    return parser


def _scenario_argument(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "scenario", nargs="?", default=DEFAULT_SCENARIO,
        help=f"a scenario file or bundled name (default: {DEFAULT_SCENARIO})",
    )
    command.add_argument("--seed", type=_seed, help="override the scenario's random seed (>= 0)")


def _filter_arguments(command: argparse.ArgumentParser) -> None:
    group = command.add_argument_group("filters (what the transcript shows)")
    group.add_argument("--protocol", action="append", metavar="NAME",
                       choices=FILTER_PROTOCOLS,
                       help=f"only this protocol: {', '.join(FILTER_PROTOCOLS[:-1])} or "
                            f"{FILTER_PROTOCOLS[-1]} (repeatable; a TLS handshake shows with "
                            "the protocol it protects, and with tls)")
    group.add_argument("--host", metavar="NAME", help="only what this host sends or receives")
    group.add_argument("--message", metavar="ID", help="only this Message-ID, both sides")
    group.add_argument("--session", metavar="ID", help="only this session (s1, s2, ...)")


def _add_run(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    run = commands.add_parser("run", help="run a scenario and show its dialogues")
    _scenario_argument(run)
    run.add_argument("--trace", metavar="FILE", type=Path,
                     help="also write the trace as JSON lines to FILE")
    run.add_argument("--quiet", "-q", action="store_true",
                     help="print only the summary, not every protocol line")
    run.add_argument("--full", action="store_true",
                     help="show every line: whole bodies at every hop, empty mailbox checks")
    run.add_argument("--explain", action="store_true",
                     help="explain each step in plain words under it")
    run.add_argument("--view", action="append", choices=VIEWS, metavar="VIEW",
                     help=f"what to show: {', '.join(VIEWS)} (repeatable; "
                          "default: transcript and summary)")
    run.add_argument("--speed", type=_speed, metavar="N",
                     help="pace the transcript: N simulated seconds per real second")
    run.add_argument("--until", type=_time, metavar="TIME",
                     help="stop at this simulated time (e.g. 90s, 5m) instead of the end")
    run.add_argument("--eavesdropper", metavar="NAME",
                     help="after the run, show what this eavesdropper of the scenario saw: "
                          "plain lines, passwords, and only sizes of encrypted ones")
    run.add_argument("--fidelity", choices=FIDELITIES, default="dialogue",
                     help="dialogue (default): every protocol line; session: each session "
                          "played whole, only what happens to the mail is shown -- the same "
                          "fates and delivery times, faster, for big worlds")
    _filter_arguments(run)
    run.set_defaults(handler=_lazy("run"))


def _add_step(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    step = commands.add_parser(
        "step", help="step through a scenario one happening at a time",
        description="Step through a scenario: Enter for the next happening, ? for help. "
                    "Reads commands line by line when input is not a terminal.",
    )
    _scenario_argument(step)
    step.add_argument("--explain", action="store_true",
                      help="start with explanations on (e toggles them)")
    step.set_defaults(handler=_lazy("step"))


def _add_serve(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    serve = commands.add_parser(
        "serve", help="serve a scenario's mail servers to real mail programs, in real time",
        description="Run a scenario in real time and open a loopback port for every service "
                    "of every simulated mail server (SMTP 25, submission 587, LMTP 24, POP3 110, "
                    "IMAP 143; with TLS set up also SMTPS 465, POP3S 995 and IMAPS 993, with "
                    "real TLS and a throw-away certificate named in the banner; a webmail's "
                    "HTTPS 443 too), so that real mail programs -- telnet, swaks, curl, "
                    "openssl s_client, Thunderbird, Python's smtplib, poplib, imaplib and "
                    "http.client -- can talk to them. Serves until "
                    "Ctrl-C or --for; the run ends when serving stops.",
    )
    _scenario_argument(serve)
    serve.add_argument("--port-base", type=_port, default=SERVE_PORT_BASE, metavar="PORT",
                       help="first real port: the services get PORT, PORT+1, ... (hosts by "
                            f"name, then services by port; default: {SERVE_PORT_BASE}); "
                            "0 lets the system pick free ports")
    serve.add_argument("--ports-json", type=Path, metavar="FILE",
                       help="write the port table to FILE as JSON once every port is open")
    serve.add_argument("--bind", default="127.0.0.1", metavar="ADDRESS",
                       help="the address to listen on (default: 127.0.0.1); only a loopback "
                            "address unless --allow-remote")
    serve.add_argument("--allow-remote", action="store_true",
                       help="allow a --bind address that other machines can reach")
    serve.add_argument("--speed", type=_speed, default=1.0, metavar="N",
                       help="N simulated seconds per real second (default: 1, real time)")
    serve.add_argument("--for", dest="serve_for", type=_time, metavar="TIME",
                       help="stop after this much real time (e.g. 30s, 5m) instead of at Ctrl-C")
    serve.add_argument("--trace", metavar="FILE", type=Path,
                       help="also write the trace as JSON lines to FILE")
    serve.add_argument("--quiet", "-q", action="store_true",
                       help="print only the port table and the summary, not every line")
    serve.set_defaults(handler=_lazy("serve"))


def _add_export(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    export = commands.add_parser("export", help="export a view for slides: svg, html, txt, mermaid")
    _scenario_argument(export)
    export.add_argument("--format", choices=EXPORT_FORMATS, default="txt",
                        help="svg, html or txt of any view; mermaid of the sequence view")
    export.add_argument("--view", choices=VIEWS, default="sequence",
                        help=f"which view: {', '.join(VIEWS)} (default: sequence)")
    export.add_argument("--width", type=int, default=100, metavar="COLUMNS",
                        help="terminal width to lay the view out for (default: 100)")
    export.add_argument("-o", "--output", type=Path, metavar="FILE",
                        help="write to FILE instead of standard output")
    _filter_arguments(export)
    export.set_defaults(handler=_lazy("export"))


def _add_generate(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    generate = commands.add_parser(
        "generate", help="write a generated world: providers, users and their traffic",
        description="Write a scenario file of mail providers joined by a backbone, each with "
                    "a mail server and users whose clients check POP3, and traffic spread "
                    "over the hours; a few messages go to unknown users and bounce.",
    )
    generate.add_argument("--domains", type=_count("MAX_DOMAINS"), default=5, metavar="N",
                          help="mail domains, one provider each (default: 5)")
    generate.add_argument("--users", type=_count("MAX_USERS_PER_DOMAIN"), default=20, metavar="N",
                          help="users per domain, each with a mail client (default: 20)")
    generate.add_argument("--users-per-host", type=_count("MAX_USERS_PER_DOMAIN"), default=1,
                          metavar="N", help="users whose mail clients share one PC (default: 1, "
                          "a PC each); more keeps a big world within the 1000 hosts a "
                          "scenario may have")
    generate.add_argument("--messages", type=_count("MAX_MESSAGES"), default=1000, metavar="N",
                          help="messages sent (default: 1000)")
    generate.add_argument("--hours", type=_hours, default=1.0, metavar="H",
                          help="simulated hours the traffic is spread over (default: 1)")
    generate.add_argument("--check-every", type=_interval, default=300.0, metavar="TIME",
                          help="how often each mail client checks POP3 (default: 5m)")
    generate.add_argument("--seed", type=_seed, default=0,
                          help="seed of the generator and of the scenario (default: 0)")
    generate.add_argument("-o", "--output", type=Path, metavar="FILE",
                          help="write to FILE instead of standard output")
    generate.set_defaults(handler=_lazy("generate"))


def _add_bench(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    bench = commands.add_parser(
        "bench", help="measure the simulator's speed against bare SimPy",
        description="Run the bundled scenarios, generated worlds of 1,000 to 100,000 "
                    "messages and an ISP's day at session fidelity, each in a process of its "
                    "own, and the same lines moved by bare SimPy; print CPU and wall time, "
                    "rates, peak memory and the ratio.",
    )
    bench.add_argument("--quick", action="store_true",
                       help="only the bundled scenarios and the 1,000-message world "
                            "(at both fidelities)")
    bench.add_argument("--jobs", type=_jobs, default=2, metavar="N",
                       help="cases measured at once, each in a process of its own (default: "
                            "2; 1 gives the steadiest figures on a busy machine)")
    bench.add_argument("--json", type=Path, metavar="FILE",
                       help="also write the figures and the machine to FILE as JSON")
    bench.set_defaults(handler=_lazy("bench"))


def _lazy(name: str) -> object:
    """The handler `faces.<name>`, imported on first use so `--help` stays quick.

    A `ScenarioError` (a scenario file with mistakes) becomes a `UsageError`
    here, where the scenario package is loaded anyway: `main` need not
    import it to catch it.
    """

    def handler(args: argparse.Namespace) -> int:
        from simulator import faces
        from simulator.scenario.errors import ScenarioError

        try:
            result: int = getattr(faces, name)(args)
        except ScenarioError as error:
            raise UsageError(str(error)) from None
        return result

    return handler


def _seed(text: str) -> int:
    """A --seed value: a whole number from 0 to 2**63 - 1, like the scenario's own."""
    try:
        seed = int(text) if len(text) <= 20 else -1
    except ValueError:
        seed = -1
    if not 0 <= seed <= MAX_SEED:
        raise argparse.ArgumentTypeError(
            f"expected a whole number from 0 to {MAX_SEED}, got {text[:40]!r}"
        )
    return seed


def _jobs(text: str) -> int:
    """The type of --jobs: a whole number from 1 to `MAX_JOBS`."""
    number = int(text) if text.isdigit() and len(text) <= 3 else 0
    if not 1 <= number <= MAX_JOBS:
        raise argparse.ArgumentTypeError(f"expected a whole number from 1 to {MAX_JOBS}, "
                                         f"got {text[:40]!r}")
    return number


def _count(limit: str) -> Callable[[str], int]:
    """The type of a --domains, --users or --messages value: a whole number from 1
    to the scenario limit named `limit` (checked before anything is generated)."""

    def count(text: str) -> int:
        from simulator.scenario import limits

        most: int = getattr(limits, limit)
        number = int(text) if text.isdigit() and len(text) <= 12 else 0
        if not 1 <= number <= most:
            raise argparse.ArgumentTypeError(
                f"expected a whole number from 1 to {most}, got {text[:40]!r}"
            )
        return number

    return count


def _interval(text: str) -> float:
    """A --check-every value: a time longer than zero."""
    seconds = _time(text)
    if seconds <= 0:
        raise argparse.ArgumentTypeError(f"expected a time longer than 0s, got {text!r}")
    return seconds


def _hours(text: str) -> float:
    """A --hours value: a positive number of hours, at most a simulated year."""
    try:
        hours = float(text)
    except ValueError:
        hours = 0.0
    if not 0 < hours <= 365 * 24:
        raise argparse.ArgumentTypeError(f"expected a number of hours > 0 such as 1 or 0.5, "
                                         f"got {text!r}")
    return hours


def _speed(text: str) -> float:
    """A --speed value: a positive number of simulated seconds per real second."""
    try:
        speed = float(text)
    except ValueError:
        speed = 0.0
    if not 0 < speed < 1e9:
        raise argparse.ArgumentTypeError(f"expected a number > 0 such as 1 or 60, got {text!r}")
    return speed


def _port(text: str) -> int:
    """A --port-base value: a TCP port from 1 to 65535, or 0 for ports the system picks."""
    try:
        port = int(text) if len(text) <= 5 else -1
    except ValueError:
        port = -1
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"expected a port from 1 to 65535, or 0, got {text!r}")
    return port


def _time(text: str) -> float:
    """A --until or --for value: a time written like a scenario's durations."""
    from simulator.scenario.units import parse_duration

    try:
        return parse_duration(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f'expected a time such as "90s", "5m" or "2h", got {text!r}'
        ) from None
