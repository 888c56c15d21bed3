"""The queue manager: every destination at once, the deferred-queue scan, the final report."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from simworld import (
    ALICE,
    BOB,
    NET_MTA,
    ORG_MTA,
    add_host,
    assert_one_final_record_each,
    build,
    fates_by_recipient,
    mail,
    one,
    records,
    run_world,
    two_providers,
    with_user,
)

from simulator import catalog
from simulator.fates import Fate
from simulator.scenario import validate_scenario
from simulator.simulation import Simulation
from simulator.trace import Kind

CAROL = "carol@example.org"
DAVE = "dave@example.com"  # example.com's only MX runs no MTA


def _with_dead_example_com(scenario: dict, *, link: bool = True) -> dict:
    add_host(scenario, "dead.example.com", "198.51.100.99", link_to="router" if link else None)
    scenario["dns"]["example.com"] = [
        {"type": "MX", "preference": 10, "exchange": "dead.example.com"}
    ]
    return scenario


# ---- the end-of-run report ----


def test_a_local_copy_delivered_before_the_end_is_not_reported_queued_too() -> None:
    # The bundled first e-mail, sent half a second before the end to alice
    # herself and to bob: alice's copy is in her mailbox, bob's is on its way.
    data = yaml.safe_load(Path(catalog.resolve("01-first-email")).read_text())
    data["traffic"][0].update({"to": [ALICE, BOB]})
    data["traffic"][0]["at"] = validate_scenario(data).duration - 0.5  # 299.5 s of 5 min
    simulation = Simulation(validate_scenario(data))
    simulation.run()
    trace = simulation.trace
    assert_one_final_record_each(trace)
    fates = fates_by_recipient(trace)
    assert fates[ALICE].fate is Fate.DELIVERED
    assert fates[BOB].fate is Fate.QUEUED
    queued = one(records(trace, Kind.MAIL_QUEUED))
    assert (queued.host, queued.data["recipient"]) == ("mail.example.org", BOB)
    assert queued.data["reason"] == "delivery in progress"


# ---- each destination at once (Postfix qmgr: one delivery agent per destination) ----


def test_a_local_delivery_does_not_wait_for_a_remote_smtp_session() -> None:
    world = run_world(with_user(two_providers(traffic=[mail("1s", [BOB, CAROL])]), CAROL))
    entered = one(records(world.trace, Kind.QUEUE_ENTER, host=ORG_MTA))
    local = one(records(world.trace, Kind.MAIL_DELIVERED, recipient=CAROL))
    relayed = one(records(world.trace, Kind.MAIL_RELAYED, recipient=BOB, host=ORG_MTA))
    assert local.time == entered.time  # handed to the mailbox at once
    assert local.time < relayed.time
    assert fates_by_recipient(world.trace)[BOB].fate is Fate.DELIVERED


def test_two_remote_destinations_are_worked_at_the_same_time() -> None:
    # dead.example.com is cut off: connecting to it takes smtp_connect_timeout (30 s).
    scenario = _with_dead_example_com(two_providers(traffic=[mail("1s", [DAVE, BOB])]), link=False)
    world = run_world(scenario)
    entered = one(records(world.trace, Kind.QUEUE_ENTER, host=ORG_MTA))
    timed_out = records(world.trace, Kind.TCP_REFUSED, host=ORG_MTA, peer="dead.example.com")[0]
    delivered = one(records(world.trace, Kind.MAIL_DELIVERED, recipient=BOB))
    assert delivered.time < timed_out.time
    assert delivered.time - entered.time < 1.0
    assert fates_by_recipient(world.trace)[DAVE].fate is Fate.QUEUED


def test_at_most_twenty_deliveries_to_one_destination_at_once() -> None:
    # Postfix default_destination_concurrency_limit = 20: 25 messages for a
    # silent exchanger; the last 5 wait until the first sessions give up.
    traffic = [mail("1s", DAVE, subject=f"m{n}") for n in range(25)]
    world = run_world(_with_dead_example_com(two_providers(traffic=traffic), link=False))
    lookups = records(world.trace, Kind.DNS_QUERY, host=ORG_MTA, qname="example.com")
    first_round = [r for r in lookups if r.time < 30.0]
    assert len(first_round) == 20
    assert len(lookups) == 25
    timeouts = records(world.trace, Kind.TCP_REFUSED, host=ORG_MTA)
    assert all(later.time >= min(t.time for t in timeouts) for later in lookups[20:])


# ---- the deferred queue is scanned every queue_run_delay ----


def _dead_example_net(duration: str) -> dict:
    scenario = two_providers(duration=duration, traffic=[mail("1s", BOB)])
    add_host(scenario, "dead.example.net", "203.0.113.99")
    scenario["dns"]["example.net"] = [
        {"type": "MX", "preference": 10, "exchange": "dead.example.net"}
    ]
    return scenario


def test_deferred_mail_is_retried_at_the_first_queue_scan_after_its_backoff() -> None:
    # Postfix: next try = deferral + the message's age, clamped to [300 s, 4000 s];
    # the deferred queue is scanned every queue_run_delay = 300 s from the start,
    # so each retry waits for the first scan at or after that time.
    #   arrival 1.0x  deferred at ~1.1,   due ~301    -> scan at 600
    #   600           deferred at ~600.0, age ~599,  due ~1199  -> scan at 1200
    #   1200          age ~1199, due ~2399           -> scan at 2400
    #   2400          age ~2399, due ~4799           -> scan at 4800
    #   4800          age ~4799 > 4000, due ~8800    -> scan at 9000
    #   9000          due ~13000                     -> scan at 13200
    world = run_world(_dead_example_net("4h"))
    arrival = one(records(world.trace, Kind.QUEUE_ENTER, host=ORG_MTA)).time
    lookups = records(world.trace, Kind.DNS_QUERY, host=ORG_MTA, qname="example.net")
    assert lookups[0].time == pytest.approx(arrival)
    assert [r.time for r in lookups[1:]] == [600.0, 1200.0, 2400.0, 4800.0, 9000.0, 13200.0]
    deferred = records(world.trace, Kind.MAIL_DEFERRED, recipient=BOB)
    assert len(deferred) == 7
    assert fates_by_recipient(world.trace)[BOB].fate is Fate.QUEUED


def test_the_queue_scanner_sleeps_while_nothing_is_deferred() -> None:
    world = build(two_providers(duration="2h"))  # no traffic; mail checks every hour
    simulation = Simulation.of_world(world)
    simulation.run(until=1.0)
    assert simulation.peek().time == 3600.0
    assert any(name.startswith(f"qmgr {NET_MTA}") and "scan" in name
               for name, _ in world.ctx.processes.alive())
