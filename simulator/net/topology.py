"""Hosts, links and routing over multi-link paths.

A route is the chain of working links with the lowest total latency.  It
is found once per (source, target) pair, by a bidirectional Dijkstra
search (the algorithm networkx's `bidirectional_dijkstra` uses, so routes
-- and equal-latency ties -- come out as they always have), and kept with
the two figures a transfer needs: the bottleneck bandwidth and the summed
latency.  Sending bytes is then one dictionary look-up.  Any change to
the topology forgets every route: a host or link added, a link marked
down or up (`set_link_up`), or a link's latency or bandwidth changed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from heapq import heappop, heappush
from itertools import count, pairwise
from typing import Any


@dataclass(frozen=True, slots=True)
class Host:
    """A machine on the simulated Internet."""

    name: str
    address: str


@dataclass(slots=True)
class Link:
    """A cable between two hosts: one-way latency (s) and bandwidth (bit/s).

    Changing a field of a link that is part of a `Topology` (``link.up =
    False``) makes the topology forget its routes.
    """

    a: str
    b: str
    latency: float
    bandwidth: float
    up: bool = True
    _topology: Topology | None = field(default=None, init=False, repr=False, compare=False)

    def __setattr__(self, name: str, value: Any) -> None:
        object.__setattr__(self, name, value)
        topology = getattr(self, "_topology", None)  # not yet set inside __init__
        if topology is not None and name != "_topology":
            topology.forget_routes()


@dataclass(frozen=True, slots=True)
class Route:
    """The links from one host to another, with what a transfer over them needs."""

    links: tuple[Link, ...]
    bottleneck: float  # bit/s of the slowest link
    latency: float  # seconds: the links' latencies added up, in order


class Topology:
    """Hosts joined by links; routes follow the lowest total latency."""

    def __init__(self) -> None:
        self.hosts: dict[str, Host] = {}
        # host -> neighbour -> link, both ways, in the order the links were added.
        self._adjacent: dict[str, dict[str, Link]] = {}
        self._routes: dict[tuple[str, str], Route | None] = {}
        #: Counts the changes to the topology: equal generations, equal routes.
        self.generation = 0
        #: Called at every change (the network wakes who waits for one).
        self.on_change: list[Callable[[], None]] = []

    def add_host(self, host: Host) -> None:
        """Add a host."""
        self.hosts[host.name] = host
        self._adjacent.setdefault(host.name, {})
        self.forget_routes()

    def add_link(self, link: Link) -> None:
        """Join two known hosts with a link (a second link between them replaces the first)."""
        self._adjacent.setdefault(link.a, {})[link.b] = link
        self._adjacent.setdefault(link.b, {})[link.a] = link
        link._topology = self
        self.forget_routes()

    def link(self, a: str, b: str) -> Link:
        """The link between two adjacent hosts (KeyError if there is none)."""
        return self._adjacent[a][b]

    def set_link_up(self, a: str, b: str, up: bool) -> None:
        """Mark the link between `a` and `b` working (`up`) or down; routes are found anew."""
        self.link(a, b).up = up

    def forget_routes(self) -> None:
        """Drop every route found so far; the next transfer looks again."""
        self._routes.clear()
        self.generation += 1
        for listener in self.on_change:
            listener()

    def route(self, source: str, target: str) -> list[Link] | None:
        """The links from `source` to `target` over working links, or None."""
        found = self._route(source, target)
        return None if found is None else list(found.links)

    def path(self, source: str, target: str) -> list[str] | None:
        """The hosts the route from `source` to `target` crosses, both ends included."""
        found = self._route(source, target)
        if found is None:
            return None
        hosts = [source]
        for link in found.links:
            hosts.append(link.b if link.a == hosts[-1] else link.a)
        return hosts

    def transit_time(self, source: str, target: str, size: int) -> float | None:
        """Seconds for `size` bytes to go from `source` to `target`, or None.

        TCP cuts data into small segments that cross the links one behind
        the other, so the bytes are serialised once, at the speed of the
        slowest link (the bottleneck), and every link adds its latency.  A
        host talking to itself (loopback) takes no time.
        """
        try:
            found = self._routes[source, target]
        except KeyError:
            found = self._route(source, target)
        if found is None:
            return None
        if not found.links:
            return 0.0
        return size * 8 / found.bottleneck + found.latency

    def _route(self, source: str, target: str) -> Route | None:
        key = (source, target)
        if key not in self._routes:
            names = _shortest_path(self._adjacent, source, target)
            self._routes[key] = None if names is None else _route_along(self._adjacent, names)
        return self._routes[key]


def _route_along(adjacent: dict[str, dict[str, Link]], names: list[str]) -> Route:
    links = tuple(adjacent[a][b] for a, b in pairwise(names))
    if not links:
        return Route((), 0.0, 0.0)
    return Route(links, min(link.bandwidth for link in links), sum(link.latency for link in links))


def _shortest_path(
    adjacent: dict[str, dict[str, Link]], source: str, target: str
) -> list[str] | None:
    """Host names from `source` to `target` over working links, by lowest total latency.

    Bidirectional Dijkstra: a search forward from the source and one
    backward from the target take turns, each settling its nearest host,
    until a host is settled by both.  Ties are broken as networkx breaks
    them (the first path found at the lowest distance stays), because
    neighbours are visited in the order their links were added and the
    heaps order equal distances by when they were pushed.
    """
    if source not in adjacent or target not in adjacent:
        return None
    if source == target:
        return [source]
    settled: list[dict[str, float]] = [{}, {}]
    preds: list[dict[str, str | None]] = [{source: None}, {target: None}]
    seen: list[dict[str, float]] = [{source: 0}, {target: 0}]
    pushes = count()
    fringe: list[list[tuple[float, int, str]]] = [[(0, next(pushes), source)],
                                                 [(0, next(pushes), target)]]
    best: float | None = None
    meet = ""
    direction = 1
    while fringe[0] and fringe[1]:
        direction = 1 - direction
        distance, _, host = heappop(fringe[direction])
        if host in settled[direction]:
            continue
        settled[direction][host] = distance
        if host in settled[1 - direction]:
            return _joined(preds, meet)
        for neighbour, link in adjacent[host].items():
            if not link.up:
                continue
            length = distance + link.latency
            if neighbour in settled[direction]:
                continue  # latencies are never negative: no shorter path can appear
            if neighbour not in seen[direction] or length < seen[direction][neighbour]:
                seen[direction][neighbour] = length
                heappush(fringe[direction], (length, next(pushes), neighbour))
                preds[direction][neighbour] = host
                if neighbour in seen[1 - direction]:
                    through = length + seen[1 - direction][neighbour]
                    if best is None or best > through:
                        best, meet = through, neighbour
    return None


def _joined(preds: list[dict[str, str | None]], meet: str) -> list[str]:
    """The path source -> meet (forward predecessors) -> target (backward ones)."""
    forward: list[str] = []
    host: str | None = meet
    while host is not None:
        forward.append(host)
        host = preds[0][host]
    forward.reverse()
    host = preds[1][meet]
    while host is not None:
        forward.append(host)
        host = preds[1][host]
    return forward
