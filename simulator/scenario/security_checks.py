"""Cross-reference checks of the security parts: TLS a client asks for, eavesdroppers' places.

Like `checks`, each check yields ``(location, message)`` pairs at the
field path a student finds in the file.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from simulator.scenario.errors import Location
from simulator.scenario.security import Security

if TYPE_CHECKING:
    from simulator.scenario.models import Scenario

Finding = tuple[Location, str]

#: What a client's setting needs of its server's `tls:` block, and the port it uses.
_NEEDS = {Security.STARTTLS: "starttls", Security.TLS: "implicit"}


def security_problems(scenario: Scenario) -> Iterator[Finding]:
    """Clients that ask for TLS their server does not offer; badly placed eavesdroppers."""
    yield from _client_problems(scenario)
    yield from _eavesdropper_problems(scenario)


def _client_problems(scenario: Scenario) -> Iterator[Finding]:
    for address, domain_name, user in scenario.users():
        domain = scenario.domains[domain_name]
        local = address.rpartition("@")[0]
        settings = (("submission_security", user.submission_security, domain.mta),
                    ("mailbox_security", user.mailbox_security, domain.mda))
        for field, security, server in settings:
            problem = _tls_problem(scenario, security, server)
            if problem:
                yield ("domains", domain_name, "users", local, field), problem


def _tls_problem(scenario: Scenario, security: Security, server: str) -> str | None:
    """Why `server` cannot give a client with setting `security` what it asks for."""
    host = scenario.hosts.get(server)
    if security is Security.NONE or host is None:
        return None  # a missing host is reported where it is named
    if host.tls is None:
        return (f"'{security.value}' needs TLS on {server}, which has none: "
                f"give hosts.{server} a 'tls' block")
    if not getattr(host.tls, _NEEDS[security]):
        return (f"'{security.value}' needs hosts.{server}.tls.{_NEEDS[security]}: true")
    return None


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
