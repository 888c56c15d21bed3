"""What every agent shares: the clock, the trace, the network, randomness, the disk."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from heapq import heapify, heappop, heappush
from typing import TYPE_CHECKING, Any, cast

import simpy
from simpy.events import NORMAL, URGENT

from simulator.fidelity import Fidelity
from simulator.mailstore import Spool
from simulator.net.connection import Network
from simulator.trace import Trace

if TYPE_CHECKING:
    from simulator.agents.mda import Mda

#: Wall-clock instant of simulated time 0, used in Date: and Received: headers.
EPOCH = datetime(2026, 3, 2, 9, 0, 0, tzinfo=UTC)


class ProcessTable:
    """The SimPy processes of one simulation that are still alive, by name.

    Every agent starts its processes through `SimContext.start`, so the
    simulation holds a handle on each one (a fault can interrupt it) and can
    tell which process the next event belongs to.  A finished process
    leaves the table; one due later (`SimContext.start_at`) is not in it
    until it starts, but the table still names it.
    """

    def __init__(self) -> None:
        self._alive: dict[simpy.Process, str] = {}

    def add(self, name: str, process: simpy.Process) -> None:
        """Keep `process` under `name` until it ends."""
        self._alive[process] = name

        def forget(_event: simpy.events.Event) -> None:
            self._alive.pop(process, None)

        process.callbacks.append(forget)

    def name_of(self, process: object) -> str | None:
        """The name a live process was started under, or a due one will be; None for
        anything else."""
        if isinstance(process, DueProcesses):
            return process.name
        return self._alive.get(process) if isinstance(process, simpy.Process) else None

    def alive(self) -> list[tuple[str, simpy.Process]]:
        """Every live process with its name, oldest first."""
        return [(name, process) for process, name in self._alive.items()]


#: What makes a process's generator from one argument (a draft, say).
Recipe = Callable[[Any], Generator[simpy.events.Event, Any, Any]]


class DueProcesses:
    """Processes due to start later, each when and where SimPy would have started it.

    A scenario's traffic is known at the start, and a process per message
    (a generator, a name, a start event, a timeout), waiting minutes or
    hours for its turn, holds about a kilobyte a message until then.  Here
    each waits as one tuple, behind one timer, and SimPy's queue sees the
    events of processes that open by sleeping until their time, in the
    same order, ties included.  Processes made one after another, with no
    event in between, have their start events side by side in the queue
    and start in one go: here that is one event, which gives each the
    event number its timeout would have taken.  The timer stands in SimPy's
    queue at the place (time, event number) of the earliest, as
    `agents.reader`'s watchdog does; when it comes up, that process starts
    (urgent, so next, as its timeout would have resumed it) and the timer
    moves on to the next place.
    """

    __slots__ = ("_ctx", "_due", "_last", "_made")

    def __init__(self, ctx: SimContext, at: float, name: str, run: Recipe, argument: Any
                 ) -> None:
        env = ctx.env
        self._ctx = ctx
        self._made: list[tuple[float, str, Recipe, Any]] | None = [(at, name, run, argument)]
        self._due: list[tuple[float, int, str, Recipe, Any]] = []  # a heap: time, number
        self._last = next(env._eid)  # the number the first start event takes
        started = simpy.Event(env)
        started._ok, started._value = True, None  # it happens as it is made (Initialize)
        started.callbacks.append(self._start)
        heappush(env._queue, (env.now, URGENT, self._last, started))

    def add(self, at: float, name: str, run: Recipe, argument: Any) -> bool:
        """Take one more if none of SimPy's events came between; False otherwise."""
        if self._made is None or next(self._ctx.env._eid) != self._last + 1:
            return False
        self._last += 1
        self._made.append((at, name, run, argument))
        return True

    @property
    def name(self) -> str | None:
        """The name of the process that starts next, for the stepper."""
        if self._made:
            return self._made[0][1]
        return self._due[0][2] if self._due else None

    def _start(self, _event: simpy.events.Event) -> None:
        env, due = self._ctx.env, cast(list[Any], self._made or [])
        self._made, now = None, env.now
        for index, (at, name, run, argument) in enumerate(due):  # in place: one list at a time
            due[index] = (now + max(0.0, at - now), next(env._eid), name, run, argument)
        heapify(due)
        self._due = due
        self._arm()

    def _arm(self) -> None:
        if self._due:
            timer = simpy.Event(self._ctx.env)
            timer._ok, timer._value = True, None
            timer.callbacks.append(self._fire)
            at, number, *_ = self._due[0]
            heappush(self._ctx.env._queue, (at, NORMAL, number, timer))

    def _fire(self, _event: simpy.events.Event) -> None:
        _at, _number, name, run, argument = heappop(self._due)
        self._ctx.start(name, run(argument))
        self._arm()


class Agenda:
    """Where `SimContext.start_at` keeps the batch still open to more processes."""

    __slots__ = ("_open",)

    def __init__(self) -> None:
        self._open: DueProcesses | None = None

    def add(self, ctx: SimContext, at: float, name: str, run: Recipe, argument: Any) -> None:
        """Start `run(argument)` as process `name` at `at`: in the open batch, or a new one."""
        if self._open is None or not self._open.add(at, name, run, argument):
            self._open = DueProcesses(ctx, at, name, run, argument)


@dataclass(frozen=True)
class SimContext:
    """The shared surroundings of all agents in one simulation."""

    env: simpy.Environment
    trace: Trace
    network: Network
    seed: int
    epoch: datetime = EPOCH
    processes: ProcessTable = field(default_factory=ProcessTable)
    #: (session id, recipient) pairs a receiving SMTP server has taken
    #: responsibility for (RFC 5321 §6.1: its 250 after the final dot).  The
    #: client may not have read that reply when a run ends; its end-of-run
    #: report then leaves the copy to the receiver's, so it is counted once.
    handovers: set[tuple[str, str]] = field(default_factory=set)
    fidelity: Fidelity = Fidelity.DIALOGUE
    #: The mailbox servers by host name (an MDA enters itself), for the
    #: session-fidelity shortcut that skips a check which cannot find anything.
    mailstores: dict[str, Mda] = field(default_factory=dict)
    #: How many POP3 clients read each mailbox, by (MDA host, address): a mailbox two
    #: of them share has its POP3 lock contended, so their checks are all played.
    pop3_readers: Counter[tuple[str, str]] = field(default_factory=Counter)
    #: The hosts' disks, where mail clients keep what they download (`LocalFolder`).
    disk: Spool = field(default_factory=Spool)
    agenda: Agenda = field(default_factory=Agenda)

    def start(
        self, name: str, generator: Generator[simpy.events.Event, Any, Any]
    ) -> simpy.Process:
        """Run `generator` as a SimPy process named `name`, and keep its handle."""
        process = self.env.process(generator)
        self.processes.add(name, process)
        return process

    def start_at(self, at: float, name: str, run: Recipe, argument: Any) -> None:
        """Start `run(argument)` as a process named `name` at time `at` (now if past).

        The same events, in the same order, as `start` of a generator that
        opens with a timeout until `at`, without the process meanwhile.
        """
        self.agenda.add(self, at, name, run, argument)

    def rng(self, name: str) -> random.Random:
        """A random stream of its own for `name`, derived from the seed.

        Seeding with a string is stable across runs and platforms, so one
        scenario and one seed always give the same trace.
        """
        return random.Random(f"{self.seed}/{name}")

    def clock(self) -> datetime:
        """The simulated wall-clock time now."""
        return self.datetime_at(self.env.now)

    def datetime_at(self, seconds: float) -> datetime:
        """The wall-clock time `seconds` into the simulation."""
        return self.epoch + timedelta(seconds=seconds)
