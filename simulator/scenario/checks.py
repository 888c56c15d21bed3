"""Cross-reference checks: does every name a scenario uses refer to something declared?

Each check walks one part of a field-valid `Scenario` and yields
``(location, message)`` pairs; `cross_reference_problems` gathers them so
a student sees every mistake at once, each at its own field path (up to
`MAX_FINDINGS`: a file broken everywhere is not worth hinting at in full).
Besides names, one check bounds the work a run does: how often each mail
client polls its mailbox over the run's `duration`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from itertools import chain, islice
from typing import TYPE_CHECKING

from simulator.protocols.addresses import mailbox_key
from simulator.scenario.clients import client_devices, client_problems
from simulator.scenario.errors import (
    MAX_PROBLEMS_SHOWN,
    Location,
    format_location,
    more_problems,
)
from simulator.scenario.limits import MAX_CHECKS
from simulator.scenario.security_checks import security_problems
from simulator.scenario.units import format_duration

if TYPE_CHECKING:
    from simulator.scenario.models import Scenario

Finding = tuple[Location, str]
_MAX_LISTED = 8
MAX_FINDINGS = MAX_PROBLEMS_SHOWN


def cross_reference_problems(scenario: Scenario) -> list[Finding]:
    """The broken references in `scenario` (the first `MAX_FINDINGS`), in file order."""
    everything = chain(
        _link_problems(scenario),
        _address_problems(scenario),
        _mx_problems(scenario),
        _domain_problems(scenario),
        _traffic_problems(scenario),
        client_problems(scenario),
        _polling_problems(scenario),
        security_problems(scenario),
    )
    found = list(islice(everything, MAX_FINDINGS + 1))
    if len(found) > MAX_FINDINGS:
        found[-1] = ((), more_problems(None).message)
    return found


def _known(kind: str, name: str, names: Iterable[str]) -> str:
    """Hint at the names that exist: a close match, else a short list."""
    import difflib  # only when a name is wrong

    names = list(names)
    close = difflib.get_close_matches(name, names, n=1)
    if close:
        return f"did you mean '{close[0]}'?"
    if not names:
        return f"there are no {kind}s"
    shown = ", ".join(names[:_MAX_LISTED]) + (", ..." if len(names) > _MAX_LISTED else "")
    return f"known {kind}s: {shown}"


def _unknown_host(name: str, scenario: Scenario) -> str:
    return f"unknown host '{name}' ({_known('host', name, scenario.hosts)})"


def _link_problems(scenario: Scenario) -> Iterator[Finding]:
    declared: dict[tuple[str, str], Location] = {}
    for name, host in scenario.hosts.items():
        for index, link in enumerate(host.links):
            location: Location = ("hosts", name, "links", index, "to")
            ends = (min(name, link.to), max(name, link.to))
            if link.to not in scenario.hosts:
                yield location, _unknown_host(link.to, scenario)
            elif link.to == name:
                yield location, f"link from '{name}' to itself; a link joins two different hosts"
            elif ends in declared:
                first = format_location(declared[ends])
                yield (
                    location,
                    (
                        f"the link between '{name}' and '{link.to}' is already declared at "
                        f"{first}; declare each link at one end only"
                    ),
                )
            else:
                declared[ends] = location[:-1]


def _address_problems(scenario: Scenario) -> Iterator[Finding]:
    owner: dict[str, str] = {}
    for name, host in scenario.hosts.items():
        if host.address in owner:
            yield (
                ("hosts", name, "address"),
                (
                    f"address {host.address} is already used by host '{owner[host.address]}'; "
                    "each host needs its own address"
                ),
            )
        owner.setdefault(host.address, name)


def _mx_problems(scenario: Scenario) -> Iterator[Finding]:
    with_address = {
        owner for owner, records in scenario.dns.items() if any(r.type == "A" for r in records)
    }
    resolvable = [*scenario.hosts, *sorted(with_address - scenario.hosts.keys())]
    known = set(resolvable)
    for owner, records in scenario.dns.items():
        for index, record in enumerate(records):
            if record.type == "MX" and record.exchange not in known:
                yield (
                    ("dns", owner, index, "exchange"),
                    (
                        f"MX exchange '{record.exchange}' does not resolve: it is not a host "
                        f"in 'hosts' and has no A record in 'dns' "
                        f"({_known('name', record.exchange, resolvable)})"
                    ),
                )


def _role_problem(scenario: Scenario, name: str, role: str) -> str | None:
    """Why host `name` cannot play `role`, or None if it can."""
    host = scenario.hosts.get(name)
    if host is None:
        return _unknown_host(name, scenario)
    if host.has_role(role):
        return None
    roles = f"its roles: {', '.join(host.roles)}" if host.roles else "it has no roles"
    return f"host '{name}' does not have role {role} ({roles})"


def _domain_problems(scenario: Scenario) -> Iterator[Finding]:
    for domain_name, domain in scenario.domains.items():
        for role, host_name in (("mta", domain.mta), ("mda", domain.mda)):
            problem = _role_problem(scenario, host_name, role)
            if problem:
                yield ("domains", domain_name, role), problem
        if domain.postmaster is not None and domain.postmaster not in domain.users:
            hint = _known("user", domain.postmaster, domain.users)
            yield (
                ("domains", domain_name, "postmaster"),
                f"'{domain.postmaster}' is not a user of {domain_name} ({hint})",
            )
        seen: dict[str, str] = {}
        for local in domain.users:
            first = seen.setdefault(mailbox_key(f"{local}@{domain_name}"), local)
            if first != local:
                yield (
                    ("domains", domain_name, "users", local),
                    f"'{local}' and '{first}' differ only in case: mail servers treat them "
                    "as one mailbox; keep one of them",
                )
        for local, user in domain.users.items():
            problem = user.mua and _role_problem(scenario, user.mua, "mua")
            if problem:
                yield ("domains", domain_name, "users", local, "mua"), problem


def _sender_problem(scenario: Scenario, sender: str) -> str | None:
    """Why `sender` cannot send mail, or None if they can."""
    local, _, domain_name = sender.rpartition("@")
    domain = scenario.domains.get(domain_name)
    if domain is None:
        hint = _known("domain", domain_name, scenario.domains)
        return f"'{sender}' is not in any domain of 'domains' ({hint})"
    user = domain.users.get(local)
    if user is None:
        return f"domain {domain_name} has no user '{local}' ({_known('user', local, domain.users)})"
    if not user.has_client:
        return (
            f"user {sender} has no mail client to send from: "
            f"give domains.{domain_name}.users.{local} a 'mua' host or 'devices'"
        )
    return None


def _traffic_problems(scenario: Scenario) -> Iterator[Finding]:
    for index, message in enumerate(scenario.traffic):
        problem = _sender_problem(scenario, message.sender)
        if problem:
            yield ("traffic", index, "from"), problem
        if message.at >= scenario.duration:
            yield (
                ("traffic", index, "at"),
                (
                    f"{format_duration(message.at)} is too late: the simulation stops at "
                    f"{format_duration(scenario.duration)} (see 'duration')"
                ),
            )


def _polling_problems(scenario: Scenario) -> Iterator[Finding]:
    """A client may check its mailbox at most `MAX_CHECKS` times in one run."""
    for address, domain_name, user in scenario.users():
        local = address.rpartition("@")[0]
        for device in client_devices(user):
            every = device.settings.check_every
            if scenario.duration / every <= MAX_CHECKS:
                continue
            fewest = format_duration(math.ceil(scenario.duration / MAX_CHECKS))
            at = device.location[:-1] if device.location == ("mua",) else device.location
            yield (
                ("domains", domain_name, "users", local, *at, "check_every"),
                (
                    f"checking every {format_duration(every)} for "
                    f"{format_duration(scenario.duration)} is more than {MAX_CHECKS} "
                    f"{device.settings.access.value.upper()} checks in one run: "
                    f"check every {fewest} or more, or shorten 'duration'"
                ),
            )
