"""The yardstick of `mailsim bench`: bare SimPy moving the same lines as the simulator.

`baseline_plan` turns a played world into journeys: each message crosses
the hops it took (submission, relay unless the mail is local, POP3), and
the protocol lines the trace held are shared among them.  `run_baseline`
moves those lines with one timeout and one `Store` put and get each, over
the same routes with the same delays: no protocol, no trace.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Generator, Sequence
from itertools import pairwise
from typing import TYPE_CHECKING, Any

import simpy

if TYPE_CHECKING:
    from simulator.scenario.models import Scenario
    from simulator.simulation import Simulation

#: The line the baseline moves: a typical SMTP command.
LINE = b"RCPT TO:<bob@org2.example>\r\n"


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
