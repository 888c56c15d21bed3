"""Random valid worlds: the trace never contradicts itself or the real world (hypothesis).

Each example is a scenario dict, checked by `validate_scenario` and played
to its end by `Simulation.run`:

- 2-6 mail domains of 1-8 users each, some with a mail client, one MTA+MDA
  host per domain, every host joined to one core router by a link of
  random latency and bandwidth;
- MX set-ups: plain, implicit (an A record only), a backup or best MX
  that is another domain's MTA (by name or by an IP alias), a primary MX
  that runs no MTA (refusing, or cut off so connections time out), a
  domain whose only MX runs no MTA, and a domain that does not exist
  (NXDOMAIN);
- traffic to real users (in any case), their postmaster, unknown users,
  those dead or missing domains, with duplicates; some of it sent in the
  last minute of a run lasting from two minutes to six days.

For every world: each composed (message, recipient) ends in exactly one
final record; no mailbox holds two copies of one message, none is
downloaded twice; a bounce is never bounced; every stored copy has as
many `Received:` headers as its delivery record says hops; `seq` counts
up by one and time never goes back.  `MAILSIM_WORLDS` sets how many worlds
are tried (default 300).
"""

from __future__ import annotations

import os
from collections import Counter
from itertools import pairwise
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from simworld import assert_books_closed

from simulator.scenario import Scenario, validate_scenario
from simulator.simulation import Simulation
from simulator.trace import Kind, TraceRecord

WORLDS = int(os.environ.get("MAILSIM_WORLDS", "300"))

DOMAINS = ["example.org", "example.net", "example.com", "example.edu", "uni.example",
           "shop.example"]
USERS = ["alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "postmaster"]
NO_SUCH_DOMAIN = "nowhere.example"  # in no zone at all: NXDOMAIN
DEAD_DOMAIN = "lost.example"  # its only MX runs no MTA
CORE = "core"
MINUTE, HOUR, DAY = 60.0, 3600.0, 86400.0
DURATIONS = [2 * MINUTE, 10 * MINUTE, HOUR, DAY, 6 * DAY]  # 6 days > the 5-day queue lifetime
LATENCIES = ["1ms", "5ms", "20ms", "80ms", "250ms"]
BANDWIDTHS = ["56kbit", "1Mbit", "100Mbit", "1Gbit"]
MX_SETUPS = ["mx", "implicit", "backup", "alias-backup", "alias-primary", "dead-primary",
             "cut-primary", "dead-primary-alias-backup"]


class Addresses:
    """Hands out host addresses, one block per kind of host."""

    def __init__(self) -> None:
        self.used: Counter[str] = Counter()

    def next(self, block: str) -> str:
        self.used[block] += 1
        return f"{block}.{self.used[block] + 1}"


def _host(address: str, roles: list[str], link: dict[str, str] | None) -> dict[str, Any]:
    return {"address": address, "roles": roles, "links": [link] if link else []}


@st.composite
def links(draw: st.DrawFn) -> dict[str, str]:
    return {"to": CORE, "latency": draw(st.sampled_from(LATENCIES)),
            "bandwidth": draw(st.sampled_from(BANDWIDTHS))}


@st.composite
def domain_users(draw: st.DrawFn, duration: float) -> dict[str, dict[str, Any]]:
    """1-8 users; some have a mail client that checks a few times per run."""
    names = draw(st.lists(st.sampled_from(USERS), min_size=1, max_size=8, unique=True))
    users = {}
    for name in names:
        user: dict[str, Any] = {"password": f"{name}-pw"}
        if draw(st.booleans()):
            user["mua"] = "pc"  # placeholder, named once the host exists
            user["check_every"] = max(MINUTE, duration / draw(st.integers(1, 4)))
            user["keep_on_server"] = draw(st.booleans())
        users[name] = user
    return users


def _mx(setup: str, domain: str, mta: str, other: str, dead: str) -> list[dict[str, Any]]:
    """The DNS records of `domain` for one MX set-up."""
    primary = {"type": "MX", "preference": 10, "exchange": mta}
    if setup == "mx":
        return [primary]
    if setup == "backup":
        return [primary, {"type": "MX", "preference": 20, "exchange": other}]
    if setup == "alias-backup":
        return [primary, {"type": "MX", "preference": 20, "exchange": f"backup.{domain}"}]
    if setup == "alias-primary":  # the best MX is another domain's MTA, by an IP alias
        return [{"type": "MX", "preference": 10, "exchange": f"backup.{domain}"},
                {"type": "MX", "preference": 20, "exchange": mta}]
    dead_primary = {"type": "MX", "preference": 10, "exchange": dead}
    if setup == "dead-primary-alias-backup":  # the backup MX does not relay for the domain
        return [dead_primary, {"type": "MX", "preference": 20, "exchange": f"backup.{domain}"}]
    return [dead_primary, {"type": "MX", "preference": 20, "exchange": mta}]


@st.composite
def worlds(draw: st.DrawFn) -> dict[str, Any]:
    """A random valid scenario, as the dict a YAML file would give."""
    duration = draw(st.sampled_from(DURATIONS))
    names = draw(st.permutations(DOMAINS))[: draw(st.integers(2, 6))]
    addresses = Addresses()
    hosts: dict[str, Any] = {CORE: {"address": "203.0.113.1"}}
    for name in names:
        hosts[f"mail.{name}"] = _host(addresses.next("198.51.100"), ["mta", "mda"], draw(links()))
    domains = {name: draw(domain(name, duration, hosts, addresses)) for name in names}
    dns: dict[str, Any] = {}
    for index, name in enumerate(names):
        other = f"mail.{names[(index + 1) % len(names)]}"
        dns.update(draw(mx_setup(name, other, hosts, addresses)))
    hosts[f"mx.{DEAD_DOMAIN}"] = _host(addresses.next("203.0.113"), [], draw(links()))
    dns[DEAD_DOMAIN] = [{"type": "MX", "preference": 10, "exchange": f"mx.{DEAD_DOMAIN}"}]
    senders = [f"{local}@{name}" for name, settings_ in domains.items()
               for local, user in settings_["users"].items() if "mua" in user]
    if not senders:  # somebody must write: give the first user a client
        local, user = next(iter(domains[names[0]]["users"].items()))
        user.update(mua=f"{local}-pc.{names[0]}", check_every=duration)
        hosts[user["mua"]] = _host(addresses.next("192.0.2"), ["mua"], draw(links()))
        senders = [f"{local}@{names[0]}"]
    traffic = draw(st.lists(submissions(senders, domains, duration), min_size=1, max_size=5))
    return {"name": "random world", "seed": draw(st.integers(0, 2**31)), "duration": duration,
            "hosts": hosts, "dns": dns, "domains": domains, "traffic": traffic}


@st.composite
def domain(
    draw: st.DrawFn, name: str, duration: float, hosts: dict[str, Any], addresses: Addresses
) -> dict[str, Any]:
    """A mail domain served by mail.<name>: its users, their clients' hosts, its postmaster."""
    users = draw(domain_users(duration))
    for local, user in users.items():
        if "mua" in user:
            user["mua"] = f"{local}-pc.{name}"
            hosts[user["mua"]] = _host(addresses.next("192.0.2"), ["mua"], draw(links()))
    settings_: dict[str, Any] = {"mta": f"mail.{name}", "mda": f"mail.{name}", "users": users}
    if draw(st.booleans()):
        settings_["postmaster"] = draw(st.sampled_from(sorted(users)))
    return settings_


@st.composite
def mx_setup(
    draw: st.DrawFn, name: str, other: str, hosts: dict[str, Any], addresses: Addresses
) -> dict[str, list[dict[str, Any]]]:
    """The DNS records of domain `name` (and of its helpers), for a random MX set-up."""
    setup = draw(st.sampled_from(MX_SETUPS))
    mta, dead = f"mail.{name}", f"dead.{name}"
    if setup == "implicit":
        return {name: [{"type": "A", "address": hosts[mta]["address"]}]}
    zones = {name: _mx(setup, name, mta, other, dead)}
    if setup.startswith(("dead-primary", "cut-primary")):
        link = None if setup == "cut-primary" else draw(links())  # cut off: connections time out
        hosts[dead] = _host(addresses.next("203.0.113"), [], link)
    if "alias" in setup:
        zones[f"backup.{name}"] = [{"type": "A", "address": hosts[other]["address"]}]
    return zones


def _spelt(draw: st.DrawFn, local: str, domain: str) -> str:
    """An address in some mix of cases: the domain part is case-insensitive, and
    these servers look mailboxes up without regard to case."""
    local = draw(st.sampled_from([local, local.upper(), local.capitalize()]))
    domain = draw(st.sampled_from([domain, domain.upper()]))
    return f"{local}@{domain}"


@st.composite
def recipient(draw: st.DrawFn, domains: dict[str, Any]) -> str:
    name = draw(st.sampled_from(sorted(domains)))
    kind = draw(st.sampled_from(["user", "user", "user", "postmaster", "unknown", "nxdomain",
                                 "dead"]))
    if kind == "user":
        return _spelt(draw, draw(st.sampled_from(sorted(domains[name]["users"]))), name)
    if kind == "postmaster":
        return _spelt(draw, "postmaster", name)
    if kind == "unknown":
        return f"ghost@{name}"
    return f"someone@{NO_SUCH_DOMAIN if kind == 'nxdomain' else DEAD_DOMAIN}"


@st.composite
def submissions(
    draw: st.DrawFn, senders: list[str], domains: dict[str, Any], duration: float
) -> dict[str, Any]:
    to = draw(st.lists(recipient(domains), min_size=1, max_size=4))
    if draw(st.booleans()):
        to.append(draw(st.sampled_from(to)))  # the same address twice
    end_ms = int(duration * 1000)
    near_end = draw(st.booleans())  # then still on its way when the run ends, at some step
    at = end_ms - draw(st.integers(1, 60_000)) if near_end else draw(st.integers(0, end_ms - 1))
    return {"at": f"{max(at, 0)}ms", "from": draw(st.sampled_from(senders)), "to": to,
            "subject": "random", "body": "Hello.\n.a dotted line\n"}


def play(data: dict[str, Any]) -> tuple[Scenario, Simulation]:
    scenario = validate_scenario(data, source="<hypothesis>")
    simulation = Simulation(scenario)
    simulation.run()
    return scenario, simulation


# ---- the checks ----


def assert_time_and_seq_in_order(records: tuple[TraceRecord, ...]) -> None:
    assert [r.seq for r in records] == list(range(len(records)))
    assert all(a.time <= b.time for a, b in pairwise(records))


def assert_one_copy_per_mailbox(records: tuple[TraceRecord, ...]) -> None:
    """One stored copy per message and mailbox, downloaded at most once per user."""
    stored = Counter((r.message, r.data["mailbox"]) for r in records
                     if r.kind is Kind.MAIL_DELIVERED and "duplicate_of" not in r.data)
    assert [key for key, count in stored.items() if count > 1] == []
    fetched = Counter((r.message, r.data["user"]) for r in records if r.kind is Kind.MAIL_FETCHED)
    assert [key for key, count in fetched.items() if count > 1] == []


def assert_no_bounce_is_bounced(records: tuple[TraceRecord, ...]) -> None:
    dsns = {r.message for r in records
            if r.kind is Kind.MAIL_COMPOSED and r.data["origin"] == "bounce"}
    assert all(r.data["from"] == "" for r in records
               if r.kind is Kind.MAIL_COMPOSED and r.message in dsns)
    originals = {r.data["original"] for r in records
                 if r.kind is Kind.MAIL_COMPOSED and r.message in dsns}
    assert not originals & dsns  # no DSN reports on a DSN
    assert all(r.data["bounce_id"] is None for r in records
               if r.kind is Kind.MAIL_BOUNCED and r.message in dsns)


def assert_received_headers_count_the_hops(simulation: Simulation) -> None:
    """Each stored copy -- in its mailbox, or downloaded -- has `hops` Received: headers."""
    for record in simulation.trace.of_kind(Kind.MAIL_DELIVERED):
        if "duplicate_of" in record.data:
            continue
        copies = [c for c in simulation.message(record.message or "")
                  if c.place in ("mailbox", "client") and c.holder == record.data["mailbox"]]
        assert copies, f"the copy delivered to {record.data['mailbox']} is nowhere"
        assert {len(c.values("Received")) for c in copies} == {record.data["hops"]}


@given(worlds())
@settings(max_examples=WORLDS, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
def test_random_worlds_keep_the_books(data: dict[str, Any]) -> None:
    scenario, simulation = play(data)
    records = simulation.trace.records
    composed = [r for r in records if r.kind is Kind.MAIL_COMPOSED]
    assert sum(1 for r in composed if r.data["origin"] == "user") == len(scenario.traffic)
    assert_books_closed(records)
    assert_time_and_seq_in_order(records)
    assert_one_copy_per_mailbox(records)
    assert_no_bounce_is_bounced(records)
    assert_received_headers_count_the_hops(simulation)
