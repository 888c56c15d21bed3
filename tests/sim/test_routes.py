"""Routes: found once per pair of hosts, forgotten when the topology changes, never different.

The topology keeps each route it finds; adding a host or a link, marking
a link down or up, or changing a link forgets them all.  Cached or not,
the routes -- and so the traces -- are the same, byte for byte, as those
networkx's bidirectional Dijkstra gives (the reference, when installed).
"""

from __future__ import annotations

import random
from itertools import pairwise

import pytest

import simulator.world
from simulator import catalog
from simulator.generate import generate_world, scenario_of
from simulator.net.topology import Host, Link, Topology
from simulator.scenario import Scenario, load_scenario
from simulator.simulation import Simulation


def square() -> Topology:
    """a-b-c-d-a, every link 1 ms: two equal routes from a to c."""
    topology = Topology()
    for name in "abcd":
        topology.add_host(Host(name, f"10.0.0.{ord(name)}"))
    for a, b in pairwise("abcda"):
        topology.add_link(Link(a, b, 0.001, 1e9))
    return topology


def hosts_on(route: list[Link] | None) -> list[tuple[str, str]] | None:
    return None if route is None else [(link.a, link.b) for link in route]


class CountingTopology(Topology):
    """Counts the route searches, to see what the cache spares."""

    searches = 0

    def _route(self, source: str, target: str):  # type: ignore[no-untyped-def]
        if (source, target) not in self._routes:
            self.searches += 1
        return super()._route(source, target)


def counting_square() -> CountingTopology:
    topology = CountingTopology()
    for name in "abcd":
        topology.add_host(Host(name, f"10.0.0.{ord(name)}"))
    for a, b in pairwise("abcda"):
        topology.add_link(Link(a, b, 0.001, 1e9))
    return topology


def test_a_route_is_searched_once_per_pair() -> None:
    topology = counting_square()
    for _ in range(5):
        topology.transit_time("a", "c", 1000)
        topology.transit_time("c", "a", 1000)
    assert topology.searches == 2


@pytest.mark.parametrize(
    "change",
    [
        lambda t: t.set_link_up("a", "b", False),
        lambda t: setattr(t.link("a", "b"), "up", False),
        lambda t: setattr(t.link("b", "a"), "latency", 0.5),
        lambda t: t.add_link(Link("a", "c", 0.0005, 1e6)),
        lambda t: t.add_host(Host("e", "10.0.0.101")),
    ],
    ids=["set_link_up", "link.up", "latency", "add_link", "add_host"],
)
def test_any_change_forgets_the_routes(change) -> None:  # type: ignore[no-untyped-def]
    topology = counting_square()
    topology.transit_time("a", "c", 100)
    change(topology)
    topology.transit_time("a", "c", 100)
    assert topology.searches == 2


def test_a_link_down_reroutes_and_up_restores() -> None:
    topology = square()
    first = hosts_on(topology.route("a", "c"))
    assert first == [("a", "b"), ("b", "c")]
    topology.set_link_up("a", "b", False)
    assert hosts_on(topology.route("a", "c")) == [("d", "a"), ("c", "d")]
    topology.set_link_up("c", "d", False)
    assert topology.route("a", "c") is None
    assert topology.transit_time("a", "c", 10) is None
    topology.set_link_up("a", "b", True)
    topology.set_link_up("c", "d", True)
    assert hosts_on(topology.route("a", "c")) == first


def test_transit_time_is_bottleneck_plus_latencies() -> None:
    topology = square()
    topology.set_link_up("d", "a", False)
    topology.link("b", "c").bandwidth = 1e6
    assert topology.transit_time("a", "c", 1000) == 1000 * 8 / 1e6 + (0 + 0.001 + 0.001)
    assert topology.transit_time("a", "a", 1000) == 0.0
    assert topology.route("a", "a") == []


def test_unknown_hosts_have_no_route() -> None:
    topology = square()
    assert topology.route("a", "nowhere") is None
    assert topology.route("nowhere", "a") is None
    with pytest.raises(KeyError):
        topology.link("a", "c")


def test_the_route_handed_out_is_a_copy() -> None:
    topology = square()
    topology.route("a", "c").clear()  # type: ignore[union-attr]
    assert len(topology.route("a", "c") or []) == 2


# -- the same routes as networkx's bidirectional Dijkstra -------------------------


class NetworkxTopology(Topology):
    """Also keeps a networkx graph, and asks it on every send: the old way."""

    def __init__(self) -> None:
        super().__init__()
        self.graph = pytest.importorskip("networkx").Graph()

    def add_host(self, host: Host) -> None:
        super().add_host(host)
        self.graph.add_node(host.name)

    def add_link(self, link: Link) -> None:
        super().add_link(link)
        self.graph.add_edge(link.a, link.b, link=link)

    def networkx_route(self, source: str, target: str) -> list[str] | None:
        nx = pytest.importorskip("networkx")
        graph = self.graph
        usable = nx.subgraph_view(graph, filter_edge=lambda a, b: graph.edges[a, b]["link"].up)
        try:
            return list(nx.shortest_path(
                usable, source, target, weight=lambda a, b, e: e["link"].latency
            ))
        except (nx.NetworkXNoPath, nx.NodeNotFound):
            return None

    def transit_time(self, source: str, target: str, size: int) -> float | None:
        names = self.networkx_route(source, target)
        if names is None:
            return None
        links = [self.link(a, b) for a, b in pairwise(names)]
        if not links:
            return 0.0
        return size * 8 / min(link.bandwidth for link in links) + sum(
            link.latency for link in links
        )


def random_topology(rng: random.Random, size: int) -> NetworkxTopology:
    """A random graph with whole-millisecond latencies: ties are common."""
    topology = NetworkxTopology()
    names = [f"h{index}" for index in range(size)]
    for name in names:
        topology.add_host(Host(name, name))
    for _ in range(size * 2):
        a, b = rng.sample(names, 2)
        link = Link(a, b, rng.choice([0.001, 0.002, 0.003, 0.005]), 1e6)
        link.up = rng.random() > 0.15
        topology.add_link(link)
    return topology


def names_on(route: list[Link] | None, source: str) -> list[str] | None:
    if route is None:
        return None
    names = [source]
    for link in route:
        names.append(link.b if link.a == names[-1] else link.a)
    return names


@pytest.mark.parametrize("seed", range(40))
def test_routes_and_ties_are_those_of_networkx(seed: int) -> None:
    rng = random.Random(seed)
    topology = random_topology(rng, rng.randint(3, 14))
    names = list(topology.hosts)
    for source in names:
        for target in names:
            expected = topology.networkx_route(source, target)
            assert names_on(topology.route(source, target), source) == expected


# -- traces: byte for byte the same, cached or not --------------------------------


class ForgetfulTopology(Topology):
    """Searches the route again for every send, as before routes were kept."""

    def transit_time(self, source: str, target: str, size: int) -> float | None:
        self.forget_routes()
        return super().transit_time(source, target, size)


def jsonl(scenario: Scenario, seed: int | None = None) -> str:
    simulation = Simulation(scenario, seed, keep_trace=False)
    lines: list[str] = []
    simulation.trace.subscribe(lambda record: lines.append(record.to_json()))
    simulation.run()
    return "\n".join(lines)


def meshed_world(seed: int) -> Scenario:
    """A generated world with extra links: cycles, so some routes tie."""
    world = generate_world(3, 3, 30, hours=0.25, seed=seed)
    hosts = world["hosts"]
    hosts["mail.org1.example"]["links"].append({"to": "access.org2.example", "latency": "7ms"})
    hosts["access.org1.example"]["links"].append({"to": "access.org3.example", "latency": "3ms"})
    hosts["mail.org3.example"]["links"].append({"to": "access.org1.example", "latency": "10ms"})
    return scenario_of(world)


SCENARIOS = {
    **{path.stem: (lambda path=path: load_scenario(path)) for path in catalog.bundled()},
    "meshed-0": lambda: meshed_world(0),
    "meshed-1": lambda: meshed_world(1),
}


@pytest.mark.parametrize("name", sorted(SCENARIOS))
@pytest.mark.parametrize("reference", [ForgetfulTopology, NetworkxTopology],
                         ids=["uncached", "networkx"])
def test_traces_are_byte_identical_with_kept_routes(
    name: str, reference: type[Topology], monkeypatch: pytest.MonkeyPatch
) -> None:
    scenario = SCENARIOS[name]()
    kept = jsonl(scenario)
    if reference is NetworkxTopology:
        pytest.importorskip("networkx")
    monkeypatch.setattr(simulator.world, "Topology", reference)
    assert jsonl(scenario) == kept
