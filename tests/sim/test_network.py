"""The simulated network: transit times, routing, TCP connections, line order."""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import pytest
import simpy
from simworld import build, one, records, run_world

from simulator.net.connection import CONNECT_TIMEOUT, EOF_MARK, SEGMENT_OVERHEAD, Endpoint
from simulator.net.topology import Host, Link, Topology
from simulator.simulation import Simulation
from simulator.trace import Kind
from simulator.world import World


def _chain() -> Topology:
    """a --(5 ms, 10 Mbit/s)-- b --(20 ms, 1 Mbit/s)-- c"""
    topology = Topology()
    for name in "abc":
        topology.add_host(Host(name, f"10.0.0.{ord(name)}"))
    topology.add_link(Link("a", "b", 0.005, 10e6))
    topology.add_link(Link("b", "c", 0.020, 1e6))
    return topology


def test_transit_time_is_bottleneck_serialisation_plus_every_latency() -> None:
    # 1250 bytes = 10 000 bits: 10 ms on the 1 Mbit/s bottleneck, + 5 ms + 20 ms latency.
    assert _chain().transit_time("a", "c", 1250) == pytest.approx(0.035, abs=1e-12)
    assert _chain().transit_time("c", "a", 1250) == pytest.approx(0.035, abs=1e-12)


def test_transit_time_of_one_link() -> None:
    # 125 000 bytes = 1 Mbit on a 10 Mbit/s link: 100 ms, plus 5 ms latency.
    assert _chain().transit_time("a", "b", 125_000) == pytest.approx(0.105, abs=1e-12)


def test_loopback_takes_no_time_and_isolated_host_is_unreachable() -> None:
    topology = _chain()
    topology.add_host(Host("island", "10.0.0.99"))
    assert topology.transit_time("a", "a", 10_000) == 0
    assert topology.transit_time("a", "island", 10) is None
    assert topology.route("island", "a") is None


def _triangle() -> Topology:
    """a-b 1 ms, b-c 1 ms (slow links), a-c 10 ms direct (fast link)."""
    topology = Topology()
    for name in "abc":
        topology.add_host(Host(name, f"10.0.1.{ord(name)}"))
    topology.add_link(Link("a", "b", 0.001, 1e6))
    topology.add_link(Link("b", "c", 0.001, 1e6))
    topology.add_link(Link("a", "c", 0.010, 10e9))
    return topology


def test_route_takes_the_lowest_total_latency() -> None:
    topology = _triangle()
    route = topology.route("a", "c")
    assert route is not None
    assert [(link.a, link.b) for link in route] == [("a", "b"), ("b", "c")]
    # 100 bytes = 800 bits: 0.8 ms on the 1 Mbit/s links, plus 1 ms latency each.
    assert topology.transit_time("a", "c", 100) == pytest.approx(0.0028, abs=1e-12)


def test_route_avoids_a_link_that_is_down() -> None:
    topology = _triangle()
    topology.link("a", "b").up = False
    route = topology.route("a", "c")
    assert route is not None
    assert [(link.a, link.b) for link in route] == [("a", "c")]
    assert topology.transit_time("a", "c", 0) == pytest.approx(0.010)


def test_scenario_units_reach_the_links() -> None:
    world = build(_pair_scenario())
    # "10ms" and "8Mbit": 1000 bytes = 8000 bits take 1 ms, plus 10 ms.
    assert world.topology.transit_time("client", "server", 1000) == pytest.approx(0.011)


# ---- TCP over a two-host world ----

LATENCY = 0.010  # s, one way
BANDWIDTH = 8e6  # bit/s
# A bare segment (40 octets = 320 bits) each way: 40 µs serialisation + 10 ms.
ONE_WAY = SEGMENT_OVERHEAD * 8 / BANDWIDTH + LATENCY
RTT = 2 * ONE_WAY
START = 1.0


def _pair_scenario() -> dict[str, Any]:
    return {
        "name": "pair",
        "duration": "2m",
        "hosts": {
            "client": {
                "address": "10.0.0.1",
                "links": [{"to": "server", "latency": "10ms", "bandwidth": "8Mbit"}],
            },
            "server": {"address": "10.0.0.2"},
            "island": {"address": "10.0.0.3"},
        },
    }


def _connect_at(world: World, server: str, port: int, out: dict[str, Any]) -> None:
    def process() -> Generator[simpy.events.Event, Any, None]:
        yield world.env.timeout(START)
        endpoint = yield from world.ctx.network.connect("client", server, port)
        out["endpoint"], out["time"] = endpoint, world.env.now

    world.env.process(process())


def test_rtt_constant_matches_hand_computation() -> None:
    assert pytest.approx(0.02008, abs=1e-12) == RTT


def test_connect_costs_one_round_trip() -> None:
    world = build(_pair_scenario())
    listener = world.ctx.network.listen("server", 7, "echo")
    accepted: dict[str, float] = {}

    def server() -> Generator[simpy.events.Event, Any, None]:
        yield listener.backlog.get()
        accepted["time"] = world.env.now

    world.env.process(server())
    out: dict[str, Any] = {}
    _connect_at(world, "server", 7, out)
    Simulation.of_world(world).run()
    record = one(records(world.trace, Kind.TCP_CONNECT))
    assert record.time == pytest.approx(START + RTT, abs=1e-9)
    assert record.data["rtt"] == pytest.approx(RTT, abs=1e-9)
    assert (record.host, record.peer, record.data["port"]) == ("client", "server", 7)
    assert isinstance(out["endpoint"], Endpoint) and out["time"] == pytest.approx(START + RTT)
    # The server accepts when the client's ACK arrives: half a round trip later.
    assert accepted["time"] == pytest.approx(START + RTT + ONE_WAY, abs=1e-9)


def test_connect_to_a_closed_port_is_refused_after_one_round_trip() -> None:
    world = build(_pair_scenario())
    out: dict[str, Any] = {}
    _connect_at(world, "server", 25, out)
    Simulation.of_world(world).run()
    refused = one(records(world.trace, Kind.TCP_REFUSED))
    assert refused.time == pytest.approx(START + RTT, abs=1e-9)
    assert refused.data["reason"].lower() == "connection refused"  # a reset (RST)
    assert (refused.host, refused.peer, refused.data["port"]) == ("client", "server", 25)
    assert not isinstance(out["endpoint"], Endpoint)
    assert not records(world.trace, Kind.TCP_CONNECT)


def test_connect_to_an_unreachable_host_times_out_after_30_seconds() -> None:
    assert CONNECT_TIMEOUT == 30.0  # Postfix smtp_connect_timeout
    world = build(_pair_scenario())
    world.ctx.network.listen("island", 25, "smtp")  # listening, but no route to it
    out: dict[str, Any] = {}
    _connect_at(world, "island", 25, out)
    Simulation.of_world(world).run()
    refused = one(records(world.trace, Kind.TCP_REFUSED))
    assert refused.time == pytest.approx(START + 30.0)
    assert refused.data["reason"].lower() == "connection timed out"
    assert not isinstance(out["endpoint"], Endpoint) and out["time"] == pytest.approx(START + 30.0)


def test_bytes_arrive_in_order_and_the_network_reads_no_lines() -> None:
    world = build(_pair_scenario())
    listener = world.ctx.network.listen("server", 7, "echo")
    big = b"A" * 9998 + b"\r\n"  # 10 000 bytes: 10 ms of serialisation at 8 Mbit/s
    small = b"B\r\n"
    arrivals: list[tuple[float, bytes]] = []
    sent_at: dict[str, float] = {}

    def server() -> Generator[simpy.events.Event, Any, None]:
        endpoint = yield listener.backlog.get()
        while True:
            data = yield endpoint.recv()
            arrivals.append((world.env.now, data))
            if data == EOF_MARK:
                return

    def client() -> Generator[simpy.events.Event, Any, None]:
        yield world.env.timeout(START)
        endpoint = yield from world.ctx.network.connect("client", "server", 7)
        assert isinstance(endpoint, Endpoint)
        sent_at["t"] = world.env.now
        endpoint.send(big)
        endpoint.send(small)  # much quicker alone, must not overtake `big`
        endpoint.send(b"C1\r\nC2\r\n")
        endpoint.close()

    world.env.process(server())
    world.env.process(client())
    Simulation.of_world(world).run()
    assert [data for _, data in arrivals] == [big, small, b"C1\r\nC2\r\n", EOF_MARK]
    times = [time for time, _ in arrivals]
    assert times == sorted(times)
    assert times[0] == pytest.approx(sent_at["t"] + 10_000 * 8 / BANDWIDTH + LATENCY)
    assert records(world.trace, Kind.LINE) == []  # lines are the session layer's to record
    close = one(records(world.trace, Kind.TCP_CLOSE, host="client"))
    assert close.time == pytest.approx(sent_at["t"])


def test_a_message_slower_than_the_idle_timeout_still_arrives() -> None:
    # 6000 lines of 72 octets over 9600 bit/s take about 6 minutes: longer than
    # the server's 5-minute idle timeout, but the bytes keep arriving.
    scenario = {
        "name": "slow link",
        "duration": "1h",
        "hosts": {
            "pc": {"address": "192.0.2.10", "roles": ["mua"],
                   "links": [{"to": "mx", "latency": "5ms", "bandwidth": "9600bit"}]},
            "mx": {"address": "192.0.2.25", "roles": ["mta", "mda"]},
        },
        "domains": {"a.example": {"mta": "mx", "mda": "mx", "users": {
            "ann": {"password": "p", "mua": "pc", "check_every": "1h"},
            "ben": {"password": "p"},
        }}},
        "traffic": [{"at": "1s", "from": "ann@a.example", "to": ["ben@a.example"],
                     "body": ("x" * 70 + "\n") * 6000}],
    }
    world = run_world(scenario)
    (delivered,) = records(world.trace, Kind.MAIL_DELIVERED)
    assert delivered.time > 300
    assert not [r for r in world.trace if "timeout" in r.text]
