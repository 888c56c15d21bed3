"""Fixtures of tests/sim; the builders themselves live in `simworld`.

`simworld` has a unique module name so test modules can import it directly
(a bare ``import conftest`` is ambiguous once other test folders have one).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from simworld import run_world, two_providers

from simulator.world import World


@pytest.fixture
def world_dict() -> dict[str, Any]:
    """A fresh two-provider scenario dict to tweak (see `simworld`)."""
    return two_providers()


@pytest.fixture
def make_world() -> Callable[..., dict[str, Any]]:
    """The `two_providers` builder itself, for tests that pass options."""
    return two_providers


@pytest.fixture
def run() -> Callable[[dict[str, Any] | World], World]:
    """Build and run a world, checking that no message was lost."""
    return run_world
