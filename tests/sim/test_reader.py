"""A session's patience: one watchdog per session, as exact as a timeout per read.

`Reader` gives up on a silent peer at the very instant, and in the very
order among simultaneous events, that a SimPy timeout started with each
read would: checked on hand-made cases (silence, bytes still on the wire
either way at the deadline, a watchdog left over from an earlier read) and
on random two-sided dialogues full of ties.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from typing import Any

import simpy
from hypothesis import given, settings
from hypothesis import strategies as st
from simworld import NET_MTA, ORG_MTA, SMTP_PORT, build, records, two_providers

from simulator.agents.mta import SERVER_TIMEOUT
from simulator.agents.reader import Reader
from simulator.net.connection import EOF_MARK, Endpoint, Network
from simulator.net.dns import Resolver
from simulator.net.topology import Host, Link, Topology
from simulator.simulation import Simulation
from simulator.trace import Kind, Trace

#: The link: 0.5 s of latency and 80 bytes a second, so every time is a sum of halves and
#: quarters, exact in binary: ties abound.  A SYN takes 1 s: both sides start when the
#: server accepts, after a round trip and a half.
LATENCY, BANDWIDTH = 0.5, 640.0
STARTS = 3.0

Read = Callable[[Endpoint, float], Generator[simpy.Event, Any, bytes | None]]
#: A step of one side: ("wait", seconds), ("send", bytes) or ("read", 0).
Step = tuple[str, float]


def timeout_per_read(
    endpoint: Endpoint, patience: float
) -> Generator[simpy.Event, Any, bytes | None]:
    """The reference: bytes or a fresh timeout at every wait, as the sessions once read."""
    env = endpoint.network.env
    arrival = endpoint.recv()
    yield arrival | env.timeout(patience)
    while not arrival.triggered and (endpoint.receiving() or endpoint.peer.receiving()):
        yield arrival | env.timeout(patience)
    if not arrival.triggered:
        arrival.cancel()
        return None
    return arrival.value


def with_reader(readers: dict[int, Reader]) -> Read:
    """Reads by one `Reader` per endpoint, kept in `readers`."""

    def read(endpoint: Endpoint, patience: float) -> Generator[simpy.Event, Any, bytes | None]:
        reader = readers.setdefault(id(endpoint), Reader(endpoint, patience))
        return (yield from reader.read())

    return read


def dialogue(scripts: tuple[list[Step], list[Step]], patience: tuple[float, float],
             read: Read) -> list[tuple[Any, ...]]:
    """Play both sides' scripts on one connection; what each saw, when, in order."""
    env = simpy.Environment()
    topology = Topology()
    topology.add_host(Host("a", "192.0.2.1"))
    topology.add_host(Host("b", "192.0.2.2"))
    topology.add_link(Link("a", "b", LATENCY, BANDWIDTH))
    network = Network(env, Trace(lambda: env.now), topology, Resolver())
    listener = network.listen("b", 7, "test")
    seen: list[tuple[Any, ...]] = []

    def side(name: int, endpoint: Endpoint, steps: list[Step]) -> Generator[simpy.Event, Any, None]:
        for index, (action, amount) in enumerate(steps):
            if action == "wait":
                yield env.timeout(amount)
            elif action == "send":
                endpoint.send(b"x" * int(amount))
            else:
                data = yield from read(endpoint, patience[name])
                seen.append((env.now, name, index, data))

    def start() -> Generator[simpy.Event, Any, None]:
        client = yield from network.connect("a", "b", 7)
        assert isinstance(client, Endpoint)
        server = yield listener.backlog.get()
        env.process(side(0, client, scripts[0]))
        env.process(side(1, server, scripts[1]))

    env.process(start())
    env.run(until=1000)
    return seen


def times_of(seen: list[tuple[Any, ...]], name: int) -> list[tuple[float, bytes | None]]:
    return [(time, data) for time, who, _, data in seen if who == name]


STEP = st.one_of(
    st.tuples(st.just("wait"), st.sampled_from([0.0, 0.5, 1.0, 2.0])),
    st.tuples(st.just("send"), st.sampled_from([20.0, 40.0, 80.0, 200.0])),
    st.tuples(st.just("read"), st.just(0.0)),
)
SCRIPT = st.lists(STEP, max_size=8)
PATIENCE = st.sampled_from([1.0, 2.0])


@settings(max_examples=300, deadline=None)
@given(st.tuples(SCRIPT, SCRIPT), st.tuples(PATIENCE, PATIENCE))
def test_a_watchdog_acts_as_a_timeout_per_read_event_for_event(
    scripts: tuple[list[Step], list[Step]], patience: tuple[float, float]
) -> None:
    expected = dialogue(scripts, patience, timeout_per_read)
    assert dialogue(scripts, patience, with_reader({})) == expected


def test_silence_ends_the_wait_at_the_deadline_exactly() -> None:
    seen = dialogue(([("read", 0)], []), (300.0, 300.0), with_reader({}))
    assert times_of(seen, 0) == [(STARTS + 300.0, None)]


def test_our_bytes_still_on_the_wire_at_the_deadline_put_it_off_once() -> None:
    # 440 bytes take 6 s to arrive, past the 4 s deadline: the side waits 4 s
    # more from the deadline and gives up then, not 4 s after they arrived.
    seen = dialogue(([("send", 440), ("read", 0)], []), (4.0, 4.0), with_reader({}))
    assert times_of(seen, 0) == [(STARTS + 8.0, None)]


def test_the_peers_bytes_still_on_the_wire_at_the_deadline_are_waited_for() -> None:
    seen = dialogue(([("read", 0)], [("send", 440)]), (4.0, 4.0), with_reader({}))
    assert times_of(seen, 0) == [(STARTS + 6.0, b"x" * 440)]


def test_a_watchdog_set_for_an_earlier_read_waits_for_the_current_deadline() -> None:
    # The first read ends when the server's 40 bytes arrive, after 1 s; the
    # second gives up 4 s after that, not when the first read's deadline passes.
    seen = dialogue(([("read", 0), ("read", 0)], [("send", 40)]), (4.0, 4.0), with_reader({}))
    assert times_of(seen, 0) == [(STARTS + 1.0, b"x" * 40),
                                 (STARTS + 1.0 + 4.0, None)]


def test_smtpd_says_421_to_a_silent_client_when_its_timeout_is_up() -> None:
    world = build(two_providers(duration="30m"))
    network = world.ctx.network

    def silent_client() -> Generator[simpy.Event, Any, None]:
        endpoint = yield from network.connect(NET_MTA, ORG_MTA, SMTP_PORT)
        assert isinstance(endpoint, Endpoint)
        yield endpoint.recv()  # the greeting
        endpoint.send(b"EHLO mail.example.net\r\n")
        while (yield endpoint.recv()) != EOF_MARK:
            pass

    world.env.process(silent_client())
    Simulation.of_world(world).run()
    said = records(world.trace, Kind.LINE, host=ORG_MTA)
    assert said[-1].text.startswith("421 4.4.2 ")
    assert said[-1].time == said[-2].time + SERVER_TIMEOUT  # from the last line of its EHLO reply
