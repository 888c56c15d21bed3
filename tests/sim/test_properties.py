"""Invariants of whole runs, over random traffic in a small world (hypothesis).

The world: two providers, each with an MTA+MDA host, one user with a mail
client and one without, joined by a router; plus a domain that does not
exist at all (no MX, no A: NXDOMAIN).  Random traffic sends 1-4 messages at
random times to random mixes of real users, unknown users of real domains
and users of the missing domain.

For every example:
- no message is ever lost: each (message, recipient) composed ends
  delivered, bounced or queued, never "in flight";
- each copy ends the way the mail system says it must (a real user gets
  it, one Received: header per MTA; anyone else bounces);
- the same seed gives the identical trace.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from simworld import assert_books_closed

from simulator.fates import Fate, MessageFate, message_fates
from simulator.scenario import Scenario, validate_scenario
from simulator.simulation import Simulation
from simulator.trace import Kind, TraceRecord

SENDERS = ["alice@example.org", "bob@example.net"]  # the users with a mail client
REAL_USERS = [*SENDERS, "carol@example.org", "dave@example.net"]
UNKNOWN_USERS = ["ghost@example.org", "ghost@example.net"]
NO_SUCH_DOMAIN = ["someone@nowhere.example"]  # no MX, no A: NXDOMAIN
RECIPIENTS = REAL_USERS + UNKNOWN_USERS + NO_SUCH_DOMAIN
DURATION = 900.0  # seconds: traffic ends by 4 min, clients check every 2 min

PROPERTY_SETTINGS = settings(
    max_examples=15,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)

latencies = st.sampled_from(["1ms", "5ms", "20ms", "80ms"])
submissions = st.fixed_dictionaries({
    "at": st.integers(min_value=0, max_value=240_000).map(lambda ms: f"{ms}ms"),
    "from": st.sampled_from(SENDERS),
    "to": st.lists(st.sampled_from(RECIPIENTS), min_size=1, max_size=3, unique=True),
    "subject": st.text(alphabet="abcdefghij XYZ?!", max_size=12),
    "body": st.sampled_from(["Hi.\n", ".leading dot\n..two dots\n.\n", "", "line\r\nline\n"]),
})


def world(seed: int, latency: list[str], traffic: list[dict[str, Any]]) -> Scenario:
    """The small world with the given seed, link latencies and traffic."""
    def host(address: str, roles: list[str], latency: str) -> dict[str, Any]:
        return {"address": address, "roles": roles,
                "links": [{"to": "router", "latency": latency}]}

    def provider(host: str, users: dict[str, Any]) -> dict[str, Any]:
        return {"mta": host, "mda": host, "users": users}

    data: dict[str, Any] = {
        "name": "random traffic",
        "seed": seed,
        "duration": DURATION,
        "hosts": {
            "router": {"address": "203.0.113.1"},
            "alice-pc": host("192.0.2.10", ["mua"], latency[0]),
            "bob-pc": host("203.0.113.140", ["mua"], latency[1]),
            "mail.example.org": host("198.51.100.25", ["mta", "mda"], latency[2]),
            "mail.example.net": host("203.0.113.25", ["mta", "mda"], latency[3]),
        },
        "dns": {
            "example.org": [{"type": "MX", "preference": 10, "exchange": "mail.example.org"}],
            "example.net": [{"type": "MX", "preference": 10, "exchange": "mail.example.net"}],
        },
        "domains": {
            "example.org": provider("mail.example.org", {
                "alice": {"password": "wonderland", "mua": "alice-pc", "check_every": "2m"},
                "carol": {"password": "c"},
            }),
            "example.net": provider("mail.example.net", {
                "bob": {"password": "builder", "mua": "bob-pc", "check_every": "2m"},
                "dave": {"password": "d"},
            }),
        },
        "traffic": traffic,
    }
    return validate_scenario(data, source="<hypothesis>")


@st.composite
def worlds(draw: st.DrawFn) -> Scenario:
    """A small random world with random traffic."""
    return world(
        draw(st.integers(min_value=0, max_value=2**31)),
        draw(st.lists(latencies, min_size=4, max_size=4)),
        draw(st.lists(submissions, min_size=1, max_size=4)),
    )


def run(scenario: Scenario) -> tuple[TraceRecord, ...]:
    return Simulation(scenario).run()


def domain(address: str) -> str:
    return address.rpartition("@")[2]


def assert_nothing_lost(scenario: Scenario, records: tuple[TraceRecord, ...]) -> None:
    composed = [r for r in records if r.kind is Kind.MAIL_COMPOSED]
    assert sum(1 for r in composed if r.data["origin"] == "user") == len(scenario.traffic)
    assert_books_closed(records)


@given(worlds())
@PROPERTY_SETTINGS
def test_no_message_is_ever_lost(scenario: Scenario) -> None:
    assert_nothing_lost(scenario, run(scenario))


@pytest.mark.parametrize(
    "to",
    [
        ["carol@example.org", "carol@example.org"],
        ["bob@example.net", "bob@example.net"],
        # Two spellings of one mailbox: one copy, a delivery record for each.
        ["carol@example.org", "Carol@example.org"],
        ["bob@example.net", "Bob@example.net"],
    ],
)
def test_a_recipient_named_twice_is_not_lost(to: list[str]) -> None:
    scenario = world(1, ["5ms"] * 4, [{"at": "1s", "from": "alice@example.org", "to": to}])
    records = run(scenario)
    assert_nothing_lost(scenario, records)
    assert {f.fate for f in message_fates(records)} == {Fate.DELIVERED}
    # Postfix's duplicate filter: one copy in the mailbox, however it is spelt.
    stored = [r for r in records if r.kind is Kind.MAIL_DELIVERED and "duplicate_of" not in r.data]
    assert len(stored) == 1


def expected_end(fate: MessageFate) -> tuple[Fate, int | None]:
    """How a copy must end in this fault-free world, and its Received: count.

    The count is left out (None) for bounces, which are not user mail, and
    for copies that bounce.
    """
    if fate.origin == "bounce":
        return Fate.DELIVERED, None  # the DSN goes back to a real sender
    if fate.recipient not in REAL_USERS:
        return Fate.BOUNCED, None
    same_provider = domain(fate.sender) == domain(fate.recipient)
    return Fate.DELIVERED, 1 if same_provider else 2  # one Received: per MTA


@given(worlds())
@PROPERTY_SETTINGS
def test_every_copy_ends_as_the_mail_system_says(scenario: Scenario) -> None:
    records = run(scenario)
    fates = message_fates(records)
    expected = [expected_end(f) for f in fates]
    assert [f.fate for f in fates] == [fate for fate, _ in expected]
    assert [f.hops for f, (_, hops) in zip(fates, expected, strict=True) if hops is not None] == [
        hops for _, hops in expected if hops is not None
    ]
    bounced_user_mail = {
        (f.message_id, f.recipient) for f in fates
        if f.origin == "user" and f.fate is Fate.BOUNCED
    }
    remote = {
        (r.message, r.data["recipient"]) for r in records
        if r.kind is Kind.MAIL_BOUNCED and r.data.get("bounce_id")
    }
    # A recipient refused at submission is reported to the user by the client;
    # any later failure comes back as a DSN sent from <> to the sender.
    dsns = [r for r in records if r.kind is Kind.MAIL_COMPOSED and r.data["origin"] == "bounce"]
    assert {r.data["original"] for r in dsns} == {message for message, _ in remote}
    assert all(r.data["from"] == "" for r in dsns)
    assert remote <= bounced_user_mail


@given(worlds())
@PROPERTY_SETTINGS
def test_the_same_seed_gives_the_same_trace(scenario: Scenario) -> None:
    first = [record.to_json() for record in run(scenario)]
    second = [record.to_json() for record in run(scenario)]
    assert first == second


@pytest.mark.parametrize("to", ["postmaster@example.net", "Postmaster@example.org"])
def test_mail_to_the_postmaster_of_a_served_domain_is_never_refused(to: str) -> None:
    # RFC 5321 §4.5.1: a server MUST accept "postmaster" (case-insensitive) at
    # every domain it serves; without a postmaster user, the domain's first
    # user reads it (domains.X.postmaster).
    scenario = world(1, ["5ms"] * 4, [{"at": "1s", "from": "bob@example.net", "to": [to]}])
    records = run(scenario)
    assert_nothing_lost(scenario, records)
    (fate,) = [f for f in message_fates(records) if f.origin == "user"]
    assert fate.fate is Fate.DELIVERED, fate.detail
