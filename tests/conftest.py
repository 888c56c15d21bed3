"""Fixtures shared by the test modules."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from test_serve import SPEED, hourly_bob

from simulator import catalog
from simulator.scenario import load_scenario
from simulator.serve import Server
from simulator.simulation import Simulation


@pytest.fixture
def server() -> Iterator[Server]:
    """01-first-email served in a thread on free loopback ports, bob checking hourly."""
    scenario = hourly_bob(load_scenario(catalog.resolve("01-first-email")))
    served = Server(Simulation(scenario), port_base=0, speed=SPEED)
    served.serve_in_thread()
    try:
        yield served
    finally:
        served.close()
