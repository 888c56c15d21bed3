"""What every agent shares: the clock, the trace, the network, randomness."""

from __future__ import annotations

import random
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import simpy
from simpy.events import URGENT

from simulator.mailstore import Spool
from simulator.net.connection import Network
from simulator.trace import Trace

#: Wall-clock instant of simulated time 0, used in Date: and Received: headers.
EPOCH = datetime(2026, 3, 2, 9, 0, 0, tzinfo=UTC)


class ProcessTable:
    """The SimPy processes of one simulation that are still alive, by name.

    Every agent starts its processes through `SimContext.start`, so the
    simulation holds a handle on each one (a fault can interrupt it) and can
    tell which process the next event belongs to.  A finished process
    leaves the table.
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
        if isinstance(process, DueProcess):
            return process.name
        return self._alive.get(process) if isinstance(process, simpy.Process) else None

    def alive(self) -> list[tuple[str, simpy.Process]]:
        """Every live process with its name, oldest first."""
        return [(name, process) for process, name in self._alive.items()]


class DueProcess:
    """A process due to start at a later instant: a name, a recipe and one timer.

    A scenario's traffic is known at the start, and a SimPy process with its
    generator and its name for each message, waiting minutes or hours for
    its turn, would hold about a kilobyte a message until then; this holds
    a timer and the recipe.  The events are those of a process that opens
    by sleeping until `at`, in the same order: a start event at once
    (urgent, as SimPy starts a process), the timer when that start is
    handled, and the process itself when the timer fires, started urgent
    and so next, before anything else due at that instant.
    """

    __slots__ = ("_argument", "_ctx", "_run", "at", "name")

    def __init__(
        self, ctx: SimContext, at: float, name: str,
        run: Callable[[Any], Generator[simpy.events.Event, Any, Any]], argument: Any,
    ) -> None:
        self._ctx, self.name, self.at = ctx, name, at
        self._run, self._argument = run, argument
        ctx.env.schedule(_Started(ctx.env, self._arm), URGENT)

    def _arm(self, _event: simpy.events.Event) -> None:
        env = self._ctx.env
        env.timeout(max(0.0, self.at - env.now)).callbacks.append(self._fire)

    def _fire(self, _event: simpy.events.Event) -> None:
        self._ctx.start(self.name, self._run(self._argument))


class _Started(simpy.events.Event):
    """An event that has happened as it is made (SimPy's `Initialize` without a process)."""

    def __init__(self, env: simpy.Environment, callback: Callable[[simpy.events.Event], None]
                 ) -> None:
        super().__init__(env)
        self.callbacks.append(callback)
        self._ok, self._value = True, None


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
    #: The hosts' disks, where mail clients keep what they download (`LocalFolder`).
    disk: Spool = field(default_factory=Spool)

    def start(
        self, name: str, generator: Generator[simpy.events.Event, Any, Any]
    ) -> simpy.Process:
        """Run `generator` as a SimPy process named `name`, and keep its handle."""
        process = self.env.process(generator)
        self.processes.add(name, process)
        return process

    def start_at(
        self, at: float, name: str,
        run: Callable[[Any], Generator[simpy.events.Event, Any, Any]], argument: Any,
    ) -> None:
        """Start `run(argument)` as a process named `name` at time `at` (now if past).

        The same events, in the same order, as `start` of a generator that
        opens with a timeout until `at`, without the process meanwhile.
        """
        DueProcess(self, at, name, run, argument)

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
