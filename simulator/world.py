"""A built simulation: one SimPy environment, one trace, hosts and agents.

`scenario.builder.build_world` fills a `World` from a scenario; a
`simulation.Simulation` plays it and closes the books.
"""

from __future__ import annotations

import simpy

from simulator.agents.browser import Browser
from simulator.agents.context import SimContext
from simulator.agents.mda import Mda
from simulator.agents.mta import Mta
from simulator.agents.mua import Mua
from simulator.agents.webmail import Webmail
from simulator.fidelity import Fidelity, omitted_kinds
from simulator.net.connection import Network
from simulator.net.dns import Resolver
from simulator.net.topology import Topology
from simulator.trace import Trace

#: What runs on a user's device: a mail client, or a browser showing webmail.
Client = Mua | Browser


class World:
    """Everything one simulation run needs, wired together."""

    def __init__(
        self, name: str, seed: int, duration: float, *, keep_trace: bool = True,
        fidelity: Fidelity = Fidelity.DIALOGUE,
    ) -> None:
        self.name = name
        self.duration = duration
        self.fidelity = fidelity
        self.env = simpy.Environment()
        self.trace = Trace(lambda: self.env.now, keep=keep_trace, omit=omitted_kinds(fidelity))
        self.topology = Topology()
        self.resolver = Resolver()
        network = Network(self.env, self.trace, self.topology, self.resolver,
                          by_flight=fidelity is Fidelity.SESSION)
        self.ctx = SimContext(self.env, self.trace, network, seed, fidelity=fidelity)
        self.mtas: dict[str, Mta] = {}
        self.mdas: dict[str, Mda] = {}
        self.muas: dict[str, Client] = {}  # each user's first device: it sends their traffic
        self.other_devices: list[Client] = []  # the clients on users' further devices
        self.webmails: dict[str, Webmail] = {}  # by web server host

    @property
    def seed(self) -> int:
        """The seed every random stream of this run derives from."""
        return self.ctx.seed
