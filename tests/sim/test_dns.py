"""DNS: MX order, equal preferences, implicit MX, NXDOMAIN -- in the resolver and in a world."""

from __future__ import annotations

import random

from simworld import (
    ALICE,
    BOB,
    NET_MTA,
    ORG_ADDRESS,
    ORG_MTA,
    add_host,
    build,
    fates_by_recipient,
    mail,
    mailbox,
    one,
    records,
    run_world,
    status_of,
    two_providers,
)

from simulator.fates import Fate
from simulator.net.dns import MxRecord, Rcode, Resolver, order_exchangers
from simulator.trace import Kind


def _resolver() -> Resolver:
    resolver = Resolver()
    resolver.add_mx("example.net", MxRecord(30, "c.example.net"))
    resolver.add_mx("example.net", MxRecord(10, "a.example.net"))
    resolver.add_mx("example.net", MxRecord(20, "b.example.net"))
    return resolver


def test_mx_answer_is_sorted_by_preference() -> None:
    answer = _resolver().query("example.net", "MX")
    assert answer.rcode is Rcode.NOERROR
    assert answer.answers == ("10 a.example.net", "20 b.example.net", "30 c.example.net")


def test_mx_order_lowest_preference_first() -> None:
    answer = _resolver().query("Example.NET.", "MX")
    exchangers = order_exchangers(
        [r for r in answer.records if isinstance(r, MxRecord)], random.Random(0)
    )
    assert [mx.preference for mx in exchangers] == [10, 20, 30]
    assert [mx.exchange for mx in exchangers] == ["a.example.net", "b.example.net", "c.example.net"]


def test_equal_preferences_all_appear_in_both_orders() -> None:
    records_ = [
        MxRecord(20, "backup.example.net"),
        MxRecord(10, "mx1.example.net"),
        MxRecord(10, "mx2.example.net"),
    ]
    orders = set()
    for seed in range(40):
        names = [mx.exchange for mx in order_exchangers(records_, random.Random(seed))]
        assert sorted(names[:2]) == ["mx1.example.net", "mx2.example.net"]
        assert names[2] == "backup.example.net"
        orders.add(tuple(names[:2]))
    # RFC 5321 §5.1: equal preferences are tried in random order.
    assert len(orders) == 2


def test_name_with_only_an_a_record_has_an_empty_mx_answer() -> None:
    resolver = Resolver()
    resolver.add_a("example.net", "203.0.113.25")
    answer = resolver.query("example.net", "MX")
    assert (answer.rcode, answer.answers) == (Rcode.NOERROR, ())  # NODATA, not NXDOMAIN
    assert resolver.query("example.net", "A").answers == ("203.0.113.25",)


def test_unknown_name_is_nxdomain() -> None:
    resolver = _resolver()
    answer = resolver.query("nowhere.example", "MX")
    assert (answer.rcode, answer.answers) == (Rcode.NXDOMAIN, ())
    assert resolver.query("nowhere.example", "A").rcode is Rcode.NXDOMAIN


# ---- in a world ----


def test_relay_tries_the_lowest_preference_first_then_falls_back() -> None:
    scenario = two_providers(traffic=[mail("1s", BOB)])
    add_host(scenario, "dead.example.net", "203.0.113.99")  # up, but runs no MTA
    scenario["dns"]["example.net"] = [
        {"type": "MX", "preference": 20, "exchange": NET_MTA},
        {"type": "MX", "preference": 10, "exchange": "dead.example.net"},
    ]
    world = run_world(scenario)
    answer = one(records(world.trace, Kind.DNS_ANSWER, host=ORG_MTA, qname="example.net"))
    assert answer.data["answers"] == ["10 dead.example.net", f"20 {NET_MTA}"]
    attempts = [
        r
        for r in world.trace
        if r.kind in (Kind.TCP_CONNECT, Kind.TCP_REFUSED) and r.host == ORG_MTA
    ]
    assert [(r.kind, r.peer) for r in attempts] == [
        (Kind.TCP_REFUSED, "dead.example.net"),
        (Kind.TCP_CONNECT, NET_MTA),
    ]
    assert fates_by_recipient(world.trace)[BOB].fate is Fate.DELIVERED
    assert len(mailbox(world, NET_MTA, BOB)) == 1


def test_equal_preference_exchangers_both_listed_and_mail_gets_through() -> None:
    scenario = two_providers(traffic=[mail("1s", BOB)])
    add_host(scenario, "dead.example.net", "203.0.113.99")
    scenario["dns"]["example.net"] = [
        {"type": "MX", "preference": 10, "exchange": "dead.example.net"},
        {"type": "MX", "preference": 10, "exchange": NET_MTA},
    ]
    world = run_world(scenario)
    answer = one(records(world.trace, Kind.DNS_ANSWER, host=ORG_MTA, qname="example.net"))
    assert sorted(answer.data["answers"]) == ["10 dead.example.net", f"10 {NET_MTA}"]
    assert fates_by_recipient(world.trace)[BOB].fate is Fate.DELIVERED


def test_no_mx_uses_the_domain_a_record_and_says_so() -> None:
    scenario = two_providers(traffic=[mail("1s", BOB)])
    scenario["dns"]["example.net"] = [{"type": "A", "address": "203.0.113.25"}]  # NET_MTA's
    world = run_world(scenario)
    answer = one(
        records(world.trace, Kind.DNS_ANSWER, host=ORG_MTA, qname="example.net", qtype="MX")
    )
    assert (answer.data["rcode"], answer.data["answers"]) == ("NOERROR", [])
    note = one(records(world.trace, Kind.NOTE, host=ORG_MTA))
    assert "example.net has no MX record" in note.text and "implicit MX" in note.text
    a_query = one(records(world.trace, Kind.DNS_QUERY, host=ORG_MTA, qtype="A"))
    assert a_query.data["qname"] == "example.net"  # the implicit MX is the domain itself
    assert one(records(world.trace, Kind.TCP_CONNECT, host=ORG_MTA)).peer == NET_MTA
    assert fates_by_recipient(world.trace)[BOB].fate is Fate.DELIVERED


def test_nxdomain_bounces_with_5_1_2() -> None:
    """RFC 3463 X.1.2 "bad destination system address" (FACTS); Postfix itself
    reports 5.4.4 "unable to route" for a domain that does not exist."""
    world = run_world(two_providers(traffic=[mail("1s", "someone@nowhere.example")]))
    answer = one(records(world.trace, Kind.DNS_ANSWER, host=ORG_MTA, qname="nowhere.example"))
    assert answer.data["rcode"] == "NXDOMAIN"
    bounced = one(records(world.trace, Kind.MAIL_BOUNCED, recipient="someone@nowhere.example"))
    assert status_of(bounced) in ("5.1.2", "5.4.4")
    assert "nowhere.example" in bounced.data["reply"]
    assert bounced.data["bounce_id"] is not None
    # Permanent: no SMTP connection is ever tried, no retry, and the DSN reaches alice
    # (over LMTP, port 24, to the MDA on the same host).
    connects = records(world.trace, Kind.TCP_CONNECT, host=ORG_MTA)
    assert [r.data["port"] for r in connects] == [24]
    assert not records(world.trace, Kind.MAIL_DEFERRED)
    fates = fates_by_recipient(world.trace)
    assert fates["someone@nowhere.example"].fate is Fate.BOUNCED
    assert fates[ALICE].fate is Fate.DELIVERED and fates[ALICE].origin == "bounce"


def test_relay_discards_mx_records_at_or_above_its_own_preference() -> None:
    """RFC 5321 §5.1: an MTA listed as MX must drop itself and every record
    with an equal or higher preference value; with nothing left, Postfix
    bounces "mail for example.net loops back to myself" (5.4.6)."""
    scenario = two_providers(traffic=[mail("1s", BOB)])
    scenario["dns"]["example.net"] = [
        {"type": "MX", "preference": 10, "exchange": ORG_MTA},  # us, though not final
        {"type": "MX", "preference": 20, "exchange": NET_MTA},
    ]
    world = run_world(scenario)
    assert not records(world.trace, Kind.TCP_CONNECT, host=ORG_MTA, peer=NET_MTA)
    fate = fates_by_recipient(world.trace)[BOB]
    assert fate.fate is Fate.BOUNCED
    assert fate.status in ("5.4.0", "5.4.6")
    assert "loop" in fate.detail.lower()


def test_an_mx_name_that_is_our_own_address_loops_back() -> None:
    """The MX is another name for this very host: Postfix compares addresses
    and bounces "loops back to myself" (5.4.6) instead of talking to itself."""
    scenario = two_providers(traffic=[mail("1s", BOB)])
    scenario["dns"]["example.net"] = [{"type": "MX", "preference": 10, "exchange": "mx.alias"}]
    scenario["dns"]["mx.alias"] = [{"type": "A", "address": ORG_ADDRESS}]
    world = run_world(scenario)
    assert not records(world.trace, Kind.TCP_CONNECT, host=ORG_MTA, port=25)
    fate = fates_by_recipient(world.trace)[BOB]
    assert (fate.fate, fate.status) == (Fate.BOUNCED, "5.4.6")
    assert fate.detail == "mail for example.net loops back to myself"


def test_exchanger_whose_address_nobody_answers_at_is_deferred_not_bounced() -> None:
    """The MX name resolves (A 198.51.100.99) but no host has that address:
    the connection times out, a transient failure (4.4.1, deferred), as
    Postfix logs "connect to ...: Connection timed out".  It is not a
    "Host or domain name not found" 5.1.2: the name was found."""
    scenario = two_providers(traffic=[mail("1s", BOB)])
    scenario["dns"]["example.net"] = [
        {"type": "MX", "preference": 10, "exchange": "mx.example.net"}
    ]
    scenario["dns"]["mx.example.net"] = [{"type": "A", "address": "198.51.100.99"}]
    world = run_world(scenario)
    refused = records(world.trace, Kind.TCP_REFUSED, host=ORG_MTA)[0]
    assert refused.data["reason"].lower() == "connection timed out"
    deferred = records(world.trace, Kind.MAIL_DEFERRED, recipient=BOB)[0]
    assert status_of(deferred) == "4.4.1"
    assert "198.51.100.99" in deferred.data["reply"]
    assert fates_by_recipient(world.trace)[BOB].fate is Fate.QUEUED
    assert not records(world.trace, Kind.MAIL_BOUNCED)


def test_an_ipv6_only_exchanger_is_found_by_aaaa_and_stamped_as_an_ipv6_literal() -> None:
    scenario = two_providers(traffic=[mail("1s", BOB)])
    scenario["hosts"][NET_MTA]["address"] = "2001:db8::25"
    scenario["hosts"][ORG_MTA]["address"] = "2001:db8::26"
    world = run_world(scenario)
    answers = [(r.data["qtype"], r.data["answers"])
               for r in records(world.trace, Kind.DNS_ANSWER, qname=NET_MTA)]
    assert answers == [("A", []), ("AAAA", ["2001:db8::25"])]  # RFC 3596
    assert fates_by_recipient(world.trace)[BOB].fate is Fate.DELIVERED
    (copy,) = mailbox(world, NET_MTA, BOB)
    top = " ".join(copy.decode().split("\r\n", 4)[2:4])  # under Return-Path, Delivered-To
    assert f"({ORG_MTA} [IPv6:2001:db8::26])" in top  # RFC 5321 §4.1.3


def test_an_exchanger_with_two_addresses_is_tried_at_the_second_when_the_first_is_dead() -> None:
    scenario = two_providers(traffic=[mail("1s", BOB)])
    net_address = scenario["hosts"][NET_MTA]["address"]
    scenario["dns"]["example.net"] = [{"type": "MX", "preference": 10, "exchange": "mx.multi"}]
    scenario["dns"]["mx.multi"] = [{"type": "A", "address": "198.51.100.99"},  # nobody there
                                   {"type": "A", "address": net_address}]
    world = run_world(scenario)
    (timed_out,) = records(world.trace, Kind.TCP_REFUSED, host=ORG_MTA)
    assert timed_out.data["reason"] == "Connection timed out"
    assert records(world.trace, Kind.TCP_CONNECT, host=ORG_MTA, peer=NET_MTA)
    assert fates_by_recipient(world.trace)[BOB].fate is Fate.DELIVERED


def _backup_of_example_net_by_ip_alias(scenario: dict) -> dict:
    """mail.example.org is example.net's backup MX, but DNS names it only
    `backup.example.net`, an A record with its address; the primary is up
    but runs no MTA (connection refused: a temporary failure)."""
    add_host(scenario, "dead.example.net", "203.0.113.99")
    scenario["dns"]["example.net"] = [
        {"type": "MX", "preference": 10, "exchange": "dead.example.net"},
        {"type": "MX", "preference": 20, "exchange": "backup.example.net"},
    ]
    scenario["dns"]["backup.example.net"] = [{"type": "A", "address": ORG_ADDRESS}]
    return scenario


def test_a_backup_mx_known_by_an_ip_alias_defers_when_the_primary_fails() -> None:
    """RFC 5321 §5.1 (and Postfix smtp_addr.c): drop this host's own address
    and every MX at or above its preference *before* trying.  The primary's
    temporary failure is then all that is left: a deferral (4.4.1), not a
    5.4.6 "loops back to myself" bounce."""
    world = run_world(_backup_of_example_net_by_ip_alias(
        two_providers(traffic=[mail("1s", BOB)])))
    assert not records(world.trace, Kind.TCP_CONNECT, host=ORG_MTA, peer=ORG_MTA)
    assert not records(world.trace, Kind.MAIL_BOUNCED)
    deferred = records(world.trace, Kind.MAIL_DEFERRED, recipient=BOB)
    assert deferred and {status_of(r) for r in deferred} == {"4.4.1"}
    fate = fates_by_recipient(world.trace)[BOB]
    assert (fate.fate, fate.status) == (Fate.QUEUED, "4.4.1")


def test_a_backup_mx_known_by_an_ip_alias_relays_to_a_working_primary() -> None:
    scenario = _backup_of_example_net_by_ip_alias(two_providers(traffic=[mail("1s", BOB)]))
    scenario["dns"]["example.net"][0]["exchange"] = NET_MTA
    world = run_world(scenario)
    assert fates_by_recipient(world.trace)[BOB].fate is Fate.DELIVERED


def test_a_better_mx_without_an_address_leaves_a_backup_unable_to_find_the_primary() -> None:
    """Postfix smtp_addr.c: when this host is the best MX *that resolved*
    but a better one did not, it says "unable to find primary relay" (4.4.4)
    and defers, rather than bounce as a loop."""
    scenario = two_providers(traffic=[mail("1s", BOB)])
    scenario["dns"]["example.net"] = [
        {"type": "MX", "preference": 20, "exchange": "backup.example.net"},
    ]
    scenario["dns"]["backup.example.net"] = [{"type": "A", "address": ORG_ADDRESS}]
    world = build(scenario)
    world.resolver.add_mx("example.net", MxRecord(10, "lost.example.net"))  # no address at all
    run_world(world)
    assert not records(world.trace, Kind.MAIL_BOUNCED)
    deferred = records(world.trace, Kind.MAIL_DEFERRED, recipient=BOB)
    assert deferred and {status_of(r) for r in deferred} == {"4.4.4"}
    assert "unable to find primary relay for example.net" in deferred[0].data["reply"]
