"""Cross-reference checks of the security parts: where the eavesdroppers are.

Like `checks`, each check yields ``(location, message)`` pairs at the
field path a student finds in the file.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from simulator.scenario.errors import Location

if TYPE_CHECKING:
    from simulator.scenario.models import Scenario

Finding = tuple[Location, str]

def security_problems(scenario: Scenario) -> Iterator[Finding]:
    """Eavesdroppers named twice, or placed on a host or link that does not exist.

    A client that asks for TLS its server does not offer is no mistake of
    the file: it is what happens to real clients (its mail stays in the
    Outbox, or its connection to 465/995 is refused), so it is run.
    """
    yield from _eavesdropper_problems(scenario)


def _eavesdropper_problems(scenario: Scenario) -> Iterator[Finding]:
    links = {frozenset((entry.a, entry.b)) for entry in scenario.links()}
    seen: set[str] = set()
    for index, tap in enumerate(scenario.eavesdroppers):
        if tap.name in seen:
            yield ("eavesdroppers", index, "name"), f"the name '{tap.name}' is used twice"
        seen.add(tap.name)
        if tap.host is not None and tap.host not in scenario.hosts:
            yield ("eavesdroppers", index, "host"), f"unknown host '{tap.host}'"
        if tap.link is None:
            continue
        unknown = [name for name in tap.link if name not in scenario.hosts]
        if unknown:
            yield ("eavesdroppers", index, "link"), f"unknown host '{unknown[0]}'"
        elif frozenset(tap.link) not in links:
            yield (("eavesdroppers", index, "link"),
                   f"no link joins '{tap.link[0]}' and '{tap.link[1]}'")
