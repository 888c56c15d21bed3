"""The terminal stepper: `mailsim step SCENARIO`, Packet Tracer's simulation mode for mail.

The user moves through a `Simulation` one *happening* at a time (the
records one SimPy event wrote), runs on to a breakpoint or a simulated
time, steps back (by replaying the same scenario and seed from the start,
which gives the same trace), filters what is shown, inspects queues,
mailboxes and messages, and can have every happening explained in plain
words.  Commands come one per line, from the keyboard or from a pipe, so a
session can be scripted:

    printf 'n\\nn\\ni queue mail.example.org\\nq\\n' | mailsim step 01-first-email
"""

from __future__ import annotations

import shlex
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace

from rich.console import Console
from rich.text import Text

from simulator.cli import FILTER_PROTOCOLS
from simulator.narration import Narrator
from simulator.scenario.units import parse_duration
from simulator.simulation import Simulation
from simulator.trace import Kind, TraceRecord
from simulator.views import LivePrinter, RecordFilter, format_clock
from simulator.views.inspectors import MailboxView, MessageView, QueueView

HELP = """\
Enter, n      next happening              n 10      ten happenings
c             continue to the next breakpoint (or the end)
t 5m          run on to a simulated time (90s, 5m, 2h)
b             one step back (replays the scenario from the start)
f smtp        show only one protocol (smtp, lmtp, pop3, imap, https, tls, dns, tcp, mail)
f host=NAME   show only what one host sends or receives
f msg=ID      show only one message (its Message-ID, with or without <>)
f off         show everything again
break bounce|delivered|deferred|code=5xx|code=550|host=NAME
              stop `c` there; `break` lists them, `break off` clears them
i queue HOST        the MTA's queue now, like mailq
i mailbox ADDRESS   the messages in a mailbox now
i message ID        a message's headers now, wherever it is
e             explanations on / off
?             this help
q             quit"""

#: Breakpoints on kinds of happening, by the word the user types.
BREAK_KINDS = {
    "bounce": Kind.MAIL_BOUNCED,
    "delivered": Kind.MAIL_DELIVERED,
    "deferred": Kind.MAIL_DEFERRED,
}


@dataclass(frozen=True, slots=True)
class Breakpoint:
    """A condition on one record at which `c` stops."""

    word: str  # as the user typed it, e.g. "code=5xx"

    def matches(self, record: TraceRecord) -> bool:
        """Whether `record` is a happening this breakpoint stops at."""
        key, _, value = self.word.partition("=")
        if key in BREAK_KINDS:
            return record.kind is BREAK_KINDS[key]
        if key == "host":
            return value in (record.host, record.peer)
        if key == "code":
            return _is_reply(record) and _code_matches(record.text[:3], value)
        return False

    @classmethod
    def parse(cls, word: str) -> Breakpoint:
        """A breakpoint from its word; ValueError with a hint if unknown."""
        key, sep, value = word.partition("=")
        code_ok = (key == "code" and len(value) == 3 and value[0] in "2345"
                   and all(c.isdigit() or c in "xX" for c in value))
        if (key in BREAK_KINDS and not sep) or (key == "host" and value) or code_ok:
            return cls(word)
        raise ValueError(f"unknown breakpoint {word!r}: try bounce, delivered, deferred, "
                         "code=5xx, code=550 or host=NAME")


def _is_reply(record: TraceRecord) -> bool:
    """An SMTP server's reply line (not POP3, not message content relayed by a client)."""
    return record.protocol == "smtp" and record.role == "server"


def _code_matches(code: str, pattern: str) -> bool:
    """Whether a reply's three digits fit a pattern such as "5xx" or "550"."""
    if len(code) != 3 or not code.isdigit():
        return False
    return all(want in ("x", "X", got) for want, got in zip(pattern, code, strict=True))


@dataclass
class StepperState:
    """What the user has set: filter, breakpoints, narration."""

    shown: RecordFilter = field(default_factory=RecordFilter)
    filter_words: str = "off"
    breakpoints: list[Breakpoint] = field(default_factory=list)
    explain: bool = False


class Stepper:
    """Drives one `Simulation` from a stream of command lines, printing to `console`."""

    def __init__(
        self,
        make: Callable[[], Simulation],
        console: Console,
        *,
        explain: bool = False,
        highlights: Iterable[str] = (),
    ) -> None:
        self._make = make
        self.console = console
        self.state = StepperState(explain=explain)
        self._highlights = tuple(highlights)
        self._begin(make())

    def _begin(self, simulation: Simulation) -> None:
        self.simulation = simulation
        #: Where each step left the simulation: (trace records, simulated time).
        self.history: list[tuple[int, float]] = []
        self._narrator = Narrator()
        self._printer = LivePrinter(self.console, highlights=self._highlights,
                                    narrator=_Switched(self._narrator, self.state))

    @property
    def steps(self) -> int:
        """How many steps (happenings, or runs to a time) have been played."""
        return len(self.history)

    def _play_step(self) -> list[TraceRecord]:
        records = self.simulation.step()
        self._mark()
        return records

    def _mark(self) -> None:
        self.history.append((len(self.simulation.trace), self.simulation.now))

    # -- the command loop ----------------------------------------------------

    def run(self, commands: Iterable[str], echo: bool = False) -> None:
        """Carry out `commands` (one per line) until `q` or the end of the input."""
        self._status()
        for line in commands:
            if echo:
                self.console.print(Text(f"step> {line}", style="bold"))
            if not self.command(line.strip()):
                return

    def command(self, line: str) -> bool:
        """Carry out one command line; False when the user quits."""
        try:
            words = shlex.split(line)
        except ValueError as error:
            return self._say(f"cannot read that command: {error}")
        verb, args = (words[0], words[1:]) if words else ("n", [])
        if verb in ("q", "quit", "exit"):
            return False
        handler = self._handlers().get(verb)
        if handler is None:
            return self._say(f"unknown command {verb!r}; type ? for help")
        try:
            handler(args)
        except ValueError as error:
            self._say(str(error))
            return True
        self._status()
        return True

    def _handlers(self) -> dict[str, Callable[[list[str]], None]]:
        return {
            "n": self._next, "next": self._next, "c": self._continue, "t": self._to_time,
            "b": self._back, "f": self._filter, "break": self._break, "i": self._inspect,
            "e": self._toggle_explain, "?": self._help, "help": self._help,
        }

    # -- moving in time -------------------------------------------------------

    def _next(self, args: list[str]) -> None:
        count = _count(args)
        for _ in range(count):
            if not self._advance():
                break

    def _advance(self) -> bool:
        """Play happenings up to the next one that the filter shows; False at the end."""
        while not self.simulation.finished:
            if self._show(self._play_step()):
                return True
        self._say("the simulation has ended; b steps back, q quits")
        return False

    def _continue(self, args: list[str]) -> None:
        if args:
            raise ValueError("c takes no argument; use break to set where it stops")
        while not self.simulation.finished:
            records = self._play_step()
            self._show(records)
            hit = next((b for b in self.state.breakpoints for r in records if b.matches(r)), None)
            if hit is not None:
                self._say(f"breakpoint {hit.word}")
                return

    def _to_time(self, args: list[str]) -> None:
        if len(args) != 1:
            raise ValueError("t needs one time, e.g. t 5m or t 90s")
        target = _duration(args[0])
        if self.simulation.finished:
            raise ValueError("the simulation has ended; b steps back, q quits")
        if target <= self.simulation.now:
            raise ValueError(f"{args[0]} is not ahead of now ({format_clock(self.simulation.now)})")
        self._show(self.simulation.run(until=target))
        self._mark()

    def _back(self, args: list[str]) -> None:
        if args:
            raise ValueError("b takes no argument")
        if self.steps <= 1:
            raise ValueError("already at the start")
        kept = self.history[:-1]
        self._begin(self._make())
        simulation = self.simulation
        count, now = kept[-1]
        while len(simulation.trace) < count:
            simulation.step()
        simulation.run(until=now)  # the clock, as a run to a time left it
        self.history = kept
        previous = kept[-2][0] if len(kept) > 1 else 0
        replayed = simulation.trace.records
        self._printer.lay_out(replayed[0])
        for record in replayed[:previous]:
            self._narrator.explain(record)
        self._say(f"back to step {self.steps} (replayed from the start)")
        self._show(list(replayed[previous:count]), force=True)

    # -- what is shown --------------------------------------------------------

    def _show(self, records: list[TraceRecord], force: bool = False) -> bool:
        """Print the records the filter lets through; True if any was."""
        shown = False
        for record in records:
            if force or self.state.shown(record):
                self._printer(record)  # prints it, with its explanation when they are on
                shown = True
            elif record.kind is Kind.SIM_START:
                self._printer.lay_out(record)
                self._narrator.explain(record)
            else:
                self._narrator.explain(record)  # hidden, but the narrator reads every record
        self._printer.flush()
        return shown

    def _filter(self, args: list[str]) -> None:
        if not args:
            raise ValueError("f needs smtp, pop3, imap, dns, tcp, mail, host=NAME, msg=ID or off")
        shown = RecordFilter()
        for word in args:
            shown = _with_filter(shown, word)
        self.state.shown = shown
        self.state.filter_words = " ".join(args)
        self._say(f"filter: {self.state.filter_words}")

    def _break(self, args: list[str]) -> None:
        if args == ["off"]:
            self.state.breakpoints.clear()
        else:
            self.state.breakpoints += [Breakpoint.parse(word) for word in args]
        words = ", ".join(b.word for b in self.state.breakpoints) or "none"
        self._say(f"breakpoints: {words}")

    def _inspect(self, args: list[str]) -> None:
        if len(args) != 2 or args[0] not in ("queue", "mailbox", "message"):
            raise ValueError("i needs: queue HOST, mailbox ADDRESS or message ID")
        what, name = args
        view: QueueView | MailboxView | MessageView
        try:
            if what == "queue":
                view = QueueView(name, self.simulation.queue(name), self.simulation.now)
            elif what == "mailbox":
                view = MailboxView(name, self.simulation.mailbox(name))
            else:
                view = MessageView(self.simulation.message(name))
        except KeyError as error:
            raise ValueError(str(error.args[0])) from None
        self.console.print(view)

    def _toggle_explain(self, args: list[str]) -> None:
        if args:
            raise ValueError("e takes no argument: it turns explanations on or off")
        self.state.explain = not self.state.explain
        self._say("explanations " + ("on" if self.state.explain else "off"))

    def _help(self, args: list[str]) -> None:
        self.console.print(HELP, markup=False, highlight=False)

    def _status(self) -> None:
        simulation = self.simulation
        upcoming = simulation.peek()
        if simulation.finished:
            nxt = "the end: nothing more happens"
        elif upcoming.time is None:
            nxt = "the end of the run (closing the books)"
        else:
            nxt = f"{format_clock(upcoming.time)} {upcoming.process or 'data in transit'}"
        status = Text.assemble(
            ("─ ", "dim"), (format_clock(simulation.now), "bold"),
            (f"  step {self.steps}", ""), ("  filter: ", "dim"), self.state.filter_words,
            ("  next: ", "dim"), nxt, style="cyan",
        )
        self.console.print(status, no_wrap=True, overflow="ellipsis")  # one line, always

    def _say(self, text: str) -> bool:
        self.console.print(Text(text, style="yellow"))
        return True


class _Switched:
    """The narrator as the printer sees it: it reads every record, speaks only when on."""

    def __init__(self, narrator: Narrator, state: StepperState) -> None:
        self._narrator = narrator
        self._state = state

    def explain(self, record: TraceRecord) -> str | None:
        words = self._narrator.explain(record)
        return words if self._state.explain else None


def _with_filter(shown: RecordFilter, word: str) -> RecordFilter:
    """`shown` narrowed by one filter word (or reset by `off`)."""
    key, sep, value = word.partition("=")
    if word == "off":
        return RecordFilter()
    if sep and key == "host" and value:
        return replace(shown, host=value)
    if sep and key in ("msg", "message") and value:
        return replace(shown, message=value if value.startswith("<") else f"<{value}>")
    if not sep and word in FILTER_PROTOCOLS:
        return replace(shown, protocols=(shown.protocols or frozenset()) | {word})
    raise ValueError(f"unknown filter {word!r}: try {', '.join(FILTER_PROTOCOLS)}, "
                     "host=NAME, msg=ID or off")


def _count(args: list[str]) -> int:
    if not args:
        return 1
    if len(args) == 1 and args[0].isdigit() and int(args[0]) > 0:
        return int(args[0])
    raise ValueError("n takes a number of happenings, e.g. n 10")


def _duration(text: str) -> float:
    try:
        return parse_duration(text)
    except ValueError as error:  # pydantic's error is a ValueError with our wording
        raise ValueError(f"not a time: {text!r} (try 90s, 5m or 2h)") from error


def command_lines(console: Console, interactive: bool, stream: Iterable[str]) -> Iterator[str]:
    """The user's commands: prompted on a terminal, else read from `stream` line by line."""
    if not interactive:
        yield from (line.rstrip("\r\n") for line in stream)
        return
    while True:
        try:
            yield console.input("[bold]step>[/bold] ")
        except EOFError:
            return
