"""What every agent shares: the clock, the trace, the network, randomness."""

from __future__ import annotations

import random
from collections.abc import Generator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import simpy

from simulator.fidelity import Fidelity
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
        """The name a live process was started under; None for anything else."""
        return self._alive.get(process) if isinstance(process, simpy.Process) else None

    def alive(self) -> list[tuple[str, simpy.Process]]:
        """Every live process with its name, oldest first."""
        return [(name, process) for process, name in self._alive.items()]


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

    def start(
        self, name: str, generator: Generator[simpy.events.Event, Any, Any]
    ) -> simpy.Process:
        """Run `generator` as a SimPy process named `name`, and keep its handle."""
        process = self.env.process(generator)
        self.processes.add(name, process)
        return process

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
