"""Generated worlds: a scenario of any size, for benchmarks, tests and notebooks.

`generate_world(domains, users_per_domain, messages)` returns a scenario
dict that `simulator.scenario.validate_scenario` accepts, shaped like the
Internet a mail provider lives in:

    alice-pc.org1.example ─ 5..15 ms ─ access.org1.example ─ 2..5 ms ─┐
                                                                       backbone
                             mail.org1.example ─ 1..40 ms ────────────┘

Each domain ``orgN.example`` (RFC 2606 reserves ``.example``) has one mail
server (MTA and MDA), an access router and one PC per user (or one per
`users_per_host` users) with a mail client that checks POP3 every
`check_every`.  The traffic is spread at
random over `hours`; most messages go to one user of any domain, some to
two, and about one in fifty to a user who does not exist, so it bounces.
The run lasts past the last message long enough for the mail to be
delivered and fetched.  One seed, one world: the generator draws from its
own `random.Random(seed)`.

`world_yaml` writes the same world as a commented YAML file (what
`mailsim generate` prints) and `scenario_of` validates a world of any size,
beyond the `MAX_MESSAGES` a scenario file may hold.
"""

from __future__ import annotations

import json
import random
import re
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from simulator.scenario.models import Scenario

#: Local parts of the users, in order; the 21st user is alice2, and so on.
NAMES = (
    "alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy",
    "mallory", "niaj", "olivia", "peggy", "rupert", "sybil", "trent", "victor", "walter", "zoe",
)
#: One message in this many goes to a user who does not exist (and bounces).
UNKNOWN_EVERY = 50
#: One message in this many has a second recipient.
SECOND_RECIPIENT_EVERY = 10
#: Extra simulated time after the last message, for delivery and the last checks.
MIN_TAIL = 600.0  # seconds
# Links, one-way latency in whole ms and bandwidth, as real access and core networks.
PC_LATENCY_MS = (5, 15)  # DSL, cable or fibre to the provider's access router
PC_BANDWIDTHS = ("50Mbit", "100Mbit", "250Mbit")
ACCESS_LATENCY_MS = (2, 5)  # access router to the Internet core
ACCESS_BANDWIDTH = "10Gbit"
MAIL_LATENCY_MS = (1, 40)  # mail server to the core: next door, or across an ocean
MAIL_BANDWIDTH = "1Gbit"
BACKBONE = "backbone"
#: Users on one /24 of a domain's 10.N.0.0/16 addresses (hosts .10 to .249).
_PER_SUBNET = 240


def generate_world(
    domains: int,
    users_per_domain: int,
    messages: int,
    *,
    hours: float = 1.0,
    check_every: str | float = "5m",
    seed: int = 0,
    users_per_host: int = 1,
) -> dict[str, Any]:
    """A scenario dict: `domains` providers of `users_per_domain` users each, `messages` sent.

    `check_every` is how often every mail client polls POP3 ("5m", or
    seconds, written back as "5m").  `users_per_host` above 1 puts that
    many users' mail clients on one shared PC (``pc1.org1.example``...),
    so a world of many users stays within a scenario's `MAX_HOSTS`.  The
    dict holds strings as a scenario file would ("8ms", "1234.567s"), so
    `world_yaml` writes exactly what it holds.
    """
    if domains < 1 or users_per_domain < 1 or messages < 0 or not hours > 0 or users_per_host < 1:
        raise ValueError("need at least one domain, one user per domain and per host, "
                         "messages >= 0 and hours > 0")
    if domains > 250:
        raise ValueError("at most 250 domains (one 10.N.0.0/16 network each)")
    if not isinstance(check_every, str):
        from simulator.scenario.units import format_duration

        check_every = format_duration(float(check_every))
    rng = random.Random(seed)
    names = [f"org{number}.example" for number in range(1, domains + 1)]
    users = [_local_parts(users_per_domain) for _ in names]
    span = hours * 3600.0
    world: dict[str, Any] = {
        "name": f"Generated: {domains} domains x {users_per_domain} users, {messages} messages",
        "description": (
            f"{domains} mail providers joined by a backbone, {users_per_domain} users each with "
            f"a mail client checking POP3 every {check_every}"
            + (f" ({users_per_host} users to a PC)" if users_per_host > 1 else "")
            + f", {messages} messages spread over "
            f"{hours:g} h; about one in {UNKNOWN_EVERY} goes to an unknown user and bounces."
        ),
        "seed": seed,
        "duration": _seconds(span + max(MIN_TAIL, 2 * _duration(check_every))),
        "hosts": _hosts(rng, names, users, users_per_host),  # at most MAX_HOSTS (`_fits`)
        "dns": {name: [{"type": "MX", "preference": 10, "exchange": f"mail.{name}"}]
                for name in names},
        "domains": {
            name: {"mta": f"mail.{name}", "mda": f"mail.{name}", "users": {
                local: {"password": f"pw-{local}", "mua": pcs[index],
                        "check_every": check_every}
                for index, local in enumerate(locals_)
            }}
            for name, locals_ in zip(names, users, strict=True)
            for pcs in [_pcs(name, locals_, users_per_host)]
        },
        "traffic": _traffic(rng, names, users, messages, span),
    }
    _fits(world["hosts"], domains, users_per_domain)
    return world


def _fits(hosts: dict[str, Any], domains: int, users_per_domain: int) -> None:
    """ValueError unless the world has at most the hosts a scenario may have."""
    from simulator.scenario.limits import MAX_HOSTS

    if len(hosts) <= MAX_HOSTS:
        return
    pcs = (MAX_HOSTS - 1) // domains - 2  # the backbone; a mail server and a router each
    share = -(-users_per_domain // pcs)  # pcs >= 1: at most 250 domains
    raise ValueError(f"the world has {len(hosts):,} hosts, more than the {MAX_HOSTS:,} a "
                     f"scenario may have; {share} users to a PC (--users-per-host {share}) "
                     "would fit")


def _local_parts(count: int) -> list[str]:
    """alice, bob, ..., zoe, alice2, bob2, ..."""
    return [
        NAMES[index % len(NAMES)] + (str(index // len(NAMES) + 1) if index >= len(NAMES) else "")
        for index in range(count)
    ]


def _pcs(domain: str, locals_: list[str], users_per_host: int) -> list[str]:
    """The PC each user's mail client runs on: their own, or one shared by `users_per_host`."""
    if users_per_host == 1:
        return [f"{local}-pc.{domain}" for local in locals_]
    return [f"pc{index // users_per_host + 1}.{domain}" for index in range(len(locals_))]


def _hosts(
    rng: random.Random, names: list[str], users: list[list[str]], users_per_host: int
) -> dict[str, Any]:
    """The backbone, then per domain its mail server, access router and users' PCs."""
    hosts: dict[str, Any] = {BACKBONE: {"address": "10.0.0.1"}}
    for number, (name, locals_) in enumerate(zip(names, users, strict=True), start=1):
        hosts[f"mail.{name}"] = {
            "address": f"10.{number}.0.25", "roles": ["mta", "mda"],
            "links": [_link(rng, BACKBONE, MAIL_LATENCY_MS, MAIL_BANDWIDTH)],
        }
        access = f"access.{name}"
        hosts[access] = {
            "address": f"10.{number}.0.1",
            "links": [_link(rng, BACKBONE, ACCESS_LATENCY_MS, ACCESS_BANDWIDTH)],
        }
        for index, pc in enumerate(dict.fromkeys(_pcs(name, locals_, users_per_host))):
            subnet, host = divmod(index, _PER_SUBNET)
            hosts[pc] = {
                "address": f"10.{number}.{subnet + 1}.{host + 10}", "roles": ["mua"],
                "links": [_link(rng, access, PC_LATENCY_MS, rng.choice(PC_BANDWIDTHS))],
            }
    return hosts


def _link(rng: random.Random, to: str, latency_ms: tuple[int, int], bandwidth: str) -> dict:
    return {"to": to, "latency": f"{rng.randint(*latency_ms)}ms", "bandwidth": bandwidth}


def _traffic(
    rng: random.Random, names: list[str], users: list[list[str]], messages: int, span: float
) -> list[dict[str, Any]]:
    """`messages` submissions at random instants of `span` seconds, in time order."""
    everyone = [f"{local}@{name}" for name, locals_ in zip(names, users, strict=True)
                for local in locals_]
    times = sorted(round(rng.uniform(0.0, span), 3) for _ in range(messages))
    traffic = []
    for number, at in enumerate(times, start=1):
        sender = rng.choice(everyone)
        to = [rng.choice(everyone)]
        if rng.randrange(SECOND_RECIPIENT_EVERY) == 0:
            to.append(rng.choice(everyone))
        if rng.randrange(UNKNOWN_EVERY) == 0:
            to[0] = f"nobody{number}@{rng.choice(names)}"
        traffic.append({
            "at": _seconds(at), "from": sender, "to": to if len(to) > 1 else to[0],
            "subject": f"Message {number}",
            "body": f"Hello {to[0].partition('@')[0]},\n\nthis is message {number}.\n",
        })
    return traffic


def _seconds(seconds: float) -> str:
    """A duration as a scenario file writes it, to the millisecond: "1234.567s"."""
    return f"{seconds:.3f}".rstrip("0").rstrip(".") + "s"


def _duration(value: str | float) -> float:
    """Seconds of a duration given as "5m" or as a number."""
    if isinstance(value, int | float):
        return float(value)
    from simulator.scenario.units import parse_duration

    return parse_duration(value)


# -- the world as a file, and as a model of any size ------------------------------


def world_yaml(world: dict[str, Any]) -> str:
    """The world as a commented YAML scenario file (a generated world, as it holds)."""
    lines = [
        "# A generated world (mailsim generate): mail providers joined by a backbone.",
        "# Each provider orgN.example has a mail server (MTA and MDA), an access",
        "# router and PCs for its users (each user's mail client on one of them);",
        "# `mailsim run FILE --quiet` plays it, `--fidelity session` faster.",
        "",
        f"name: {_scalar(world['name'])}",
        f"description: {_scalar(world['description'])}",
        f"seed: {world['seed']}",
        f"duration: {world['duration']}        # the traffic, then time to deliver and fetch",
        "",
        "# Every host: its address, roles and links (each link declared at one end).",
        "hosts:",
    ]
    for name, host in world["hosts"].items():
        lines.append(f"  {name}:")
        lines.append(f"    address: {host['address']}")
        if host.get("roles"):
            lines.append(f"    roles: [{', '.join(host['roles'])}]")
        if host.get("links"):
            lines.append("    links:")
            lines.extend(f"      - {_flow(link)}" for link in host["links"])
    lines += ["", "# Which host takes mail for each domain (every host has an A record).", "dns:"]
    for owner, records in world["dns"].items():
        lines.append(f"  {owner}:")
        lines.extend(f"    - {_flow(record)}" for record in records)
    lines += ["", "# The mail domains, their servers and users.", "domains:"]
    for name, domain in world["domains"].items():
        lines += [f"  {name}:", f"    mta: {domain['mta']}", f"    mda: {domain['mda']}",
                  "    users:"]
        lines.extend(f"      {local}: {_flow(user)}" for local, user in domain["users"].items())
    lines += ["", "# Who sends what, and when.", "traffic:"]
    lines.extend(f"  - {_flow(message)}" for message in world["traffic"])
    return "\n".join(lines) + "\n"


def _flow(mapping: dict[str, Any]) -> str:
    """A YAML flow mapping: {to: backbone, latency: 8ms}."""
    return "{" + ", ".join(f"{key}: {_scalar(value)}" for key, value in mapping.items()) + "}"


def _scalar(value: Any) -> str:
    """A YAML scalar or flow list; strings in JSON quotes (valid YAML) unless plain."""
    if isinstance(value, list):
        return "[" + ", ".join(_scalar(item) for item in value) + "]"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    text = str(value)
    if _PLAIN.match(text) and text.lower() not in _YAML_WORDS:
        return text
    return json.dumps(text)


# Words, names, addresses, durations ("8ms", "1234.567s") and bandwidths ("1Gbit"),
# which YAML reads back as the same strings without quotes.
_PLAIN = re.compile(r"^(?:[A-Za-z][\w@.-]*|\d+(?:\.\d+)?(?:ms|s|m|h|d)|\d+[kMG]?bit)$")
_YAML_WORDS = frozenset({"true", "false", "yes", "no", "on", "off", "null", "y", "n"})


def scenario_of(world: dict[str, Any]) -> Scenario:
    """Validate a generated world of any size into a `Scenario`.

    A scenario file holds at most `MAX_MESSAGES` messages; a bigger world
    (a benchmark's) is validated in slices of that many, each slice with
    the whole rest of the world, and the slices joined.
    """
    from simulator.scenario import validate_scenario
    from simulator.scenario.limits import MAX_MESSAGES

    traffic = world["traffic"]
    if len(traffic) <= MAX_MESSAGES:
        return validate_scenario(world)
    slices = [
        validate_scenario({**world, "traffic": traffic[start:start + MAX_MESSAGES]}).traffic
        for start in range(0, len(traffic), MAX_MESSAGES)
    ]
    scenario = validate_scenario({**world, "traffic": []})
    return scenario.model_copy(update={"traffic": [entry for part in slices for entry in part]})
