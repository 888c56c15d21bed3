"""What every agent shares: the clock, the trace, the network, randomness."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import simpy

from simulator.net.connection import Network
from simulator.trace import Trace

#: Wall-clock instant of simulated time 0, used in Date: and Received: headers.
EPOCH = datetime(2026, 3, 2, 9, 0, 0, tzinfo=UTC)


@dataclass(frozen=True)
class SimContext:
    """The shared surroundings of all agents in one simulation."""

    env: simpy.Environment
    trace: Trace
    network: Network
    seed: int
    epoch: datetime = EPOCH

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
