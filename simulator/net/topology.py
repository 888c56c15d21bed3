"""Hosts, links and routing over multi-link paths."""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise

import networkx as nx


@dataclass(frozen=True, slots=True)
class Host:
    """A machine on the simulated Internet."""

    name: str
    address: str


@dataclass(slots=True)
class Link:
    """A cable between two hosts: one-way latency (s) and bandwidth (bit/s)."""

    a: str
    b: str
    latency: float
    bandwidth: float
    up: bool = True


class Topology:
    """Hosts joined by links; routes follow the lowest total latency."""

    def __init__(self) -> None:
        self._graph = nx.Graph()
        self.hosts: dict[str, Host] = {}

    def add_host(self, host: Host) -> None:
        """Add a host."""
        self.hosts[host.name] = host
        self._graph.add_node(host.name)

    def add_link(self, link: Link) -> None:
        """Join two known hosts with a link."""
        self._graph.add_edge(link.a, link.b, link=link)

    def link(self, a: str, b: str) -> Link:
        """The link between two adjacent hosts."""
        link: Link = self._graph.edges[a, b]["link"]
        return link

    def route(self, source: str, target: str) -> list[Link] | None:
        """The links from `source` to `target` over working links, or None."""
        if source == target:
            return []
        usable = nx.subgraph_view(
            self._graph, filter_edge=lambda a, b: self._graph.edges[a, b]["link"].up
        )
        try:
            names = nx.shortest_path(
                usable, source, target, weight=lambda a, b, e: e["link"].latency
            )
        except (nx.NetworkXNoPath, nx.NodeNotFound):
            return None
        return [self.link(a, b) for a, b in pairwise(names)]

    def transit_time(self, source: str, target: str, size: int) -> float | None:
        """Seconds for `size` bytes to go from `source` to `target`, or None.

        TCP cuts data into small segments that cross the links one behind
        the other, so the bytes are serialised once, at the speed of the
        slowest link (the bottleneck), and every link adds its latency.  A
        host talking to itself (loopback) takes no time.
        """
        links = self.route(source, target)
        if links is None:
            return None
        if not links:
            return 0.0
        bottleneck = min(link.bandwidth for link in links)
        return size * 8 / bottleneck + sum(link.latency for link in links)
