"""The courier carries bytes as a SimPy process per packet would, event for event.

(And an `Inbox` keeps the events of the `simpy.Store` it stands for.)

A connection's bytes reach the peer's inbox by `Courier`: one timeout per
item, created by one urgent event per burst of sends, where the network
once started a process per item.  Arrivals at the same instant as other
events must keep exactly the order they had, so traces stay the same byte
for byte: checked on random schedules full of ties and zero delays, and on
whole worlds.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from functools import partial
from typing import Any

import pytest
import simpy
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator import catalog
from simulator.generate import generate_world, scenario_of
from simulator.net.connection import Endpoint
from simulator.net.courier import Courier, Inbox
from simulator.scenario import Scenario, load_scenario
from simulator.simulation import Simulation


class ProcessPerItem(Courier):
    """The reference: a SimPy process for every item, as the network used to carry bytes."""

    def carry(self, inbox: Inbox, item: bytes | Endpoint, delay: float) -> None:
        self.env.process(self._later(inbox, item, delay))

    def _later(
        self, inbox: Inbox, item: bytes | Endpoint, delay: float
    ) -> Generator[simpy.Event, Any, None]:
        yield self.env.timeout(delay)
        yield inbox.put(item)


class StoreInbox(simpy.Store):
    """The reference inbox: SimPy's own unbounded store."""

    def arrive(self, arrival: simpy.Event) -> None:
        self.put(arrival._value)


#: One sender's script: (wait before, [(inbox, delay) sent at once], start a helper?).
STEP = st.tuples(
    st.sampled_from([0.0, 0.5, 1.0]),
    st.lists(st.tuples(st.integers(0, 2), st.sampled_from([0.0, 0.5, 1.0])), max_size=3),
    st.booleans(),
)
SCRIPTS = st.lists(st.lists(STEP, max_size=6), min_size=1, max_size=4)


def happenings(
    script: list[list[Any]], courier_class: type[Courier], inbox_class: Any = Inbox
) -> list[tuple[Any, ...]]:
    """Play the senders' scripts; what every reader and helper saw, and when, in order.

    Reader 2 gives up on a read after 0.5 s; reader 0 has a second, impatient, getter.
    """
    env = simpy.Environment()
    courier = courier_class(env)
    inboxes = [inbox_class(env) for _ in range(3)]
    seen: list[tuple[Any, ...]] = []

    def reader(number: int) -> Generator[simpy.Event, Any, None]:
        while True:
            arrival = inboxes[number].get()
            if number == 2:
                yield arrival | env.timeout(0.5)
                if not arrival.triggered:
                    arrival.cancel()
                    seen.append((env.now, "gave up", number))
                    continue
            item = yield arrival
            seen.append((env.now, "read", number, item))

    def impatient() -> Generator[simpy.Event, Any, None]:
        for _ in range(3):
            arrival = inboxes[0].get()
            yield arrival | env.timeout(1.0)
            seen.append((env.now, "impatient", arrival.value if arrival.triggered else None))
            arrival.cancel()

    def helper(name: str) -> Generator[simpy.Event, Any, None]:
        seen.append((env.now, "helper", name))
        yield env.timeout(0.5)
        seen.append((env.now, "helper done", name))

    def sender(number: int, steps: list[Any]) -> Generator[simpy.Event, Any, None]:
        for index, (wait, sends, start_helper) in enumerate(steps):
            yield env.timeout(wait)
            for order, (inbox, delay) in enumerate(sends):
                courier.carry(inboxes[inbox], f"{number}.{index}.{order}".encode(), delay)
                if start_helper and order == 0:
                    env.process(helper(f"{number}.{index}"))
            seen.append((env.now, "sent", number, index))

    for number in range(3):
        env.process(reader(number))
    env.process(impatient())
    for number, steps in enumerate(script):
        env.process(sender(number, steps))
    env.run(until=20)
    return seen


@settings(max_examples=300, deadline=None)
@given(SCRIPTS)
def test_arrivals_keep_the_order_a_process_per_item_gives(script: list[list[Any]]) -> None:
    assert happenings(script, Courier) == happenings(script, ProcessPerItem)


@settings(max_examples=300, deadline=None)
@given(SCRIPTS)
def test_an_inbox_keeps_the_events_of_a_simpy_store(script: list[list[Any]]) -> None:
    assert happenings(script, Courier) == happenings(script, Courier, StoreInbox)


WORLDS: dict[str, Callable[[], Scenario]] = {
    **{path.stem: partial(load_scenario, path) for path in catalog.bundled()},
    "generated": lambda: scenario_of(generate_world(3, 4, 60, hours=0.25, seed=5)),
}


def jsonl(scenario: Scenario, process_per_item: bool) -> list[str]:
    simulation = Simulation(scenario, keep_trace=False)
    if process_per_item:
        simulation.world.ctx.network.courier = ProcessPerItem(simulation.world.env)
    lines: list[str] = []
    simulation.trace.subscribe(lambda record: lines.append(record.to_json()))
    simulation.run()
    return lines


@pytest.mark.parametrize("name", sorted(WORLDS))
def test_traces_are_byte_identical_to_a_process_per_packet(name: str) -> None:
    scenario = WORLDS[name]()
    assert jsonl(scenario, process_per_item=False) == jsonl(scenario, process_per_item=True)
