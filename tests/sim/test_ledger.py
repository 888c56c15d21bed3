"""No message is lost: a mixed world where every kind of fate happens at once."""

from __future__ import annotations

from simworld import (
    ALICE,
    BOB,
    add_host,
    assert_no_message_lost,
    fates_by_recipient,
    mail,
    run_world,
    two_providers,
)

from simulator.fates import Fate


def test_every_composed_message_ends_delivered_bounced_or_queued() -> None:
    scenario = two_providers(
        duration="20m",
        traffic=[
            mail("1s", BOB),
            mail("2s", "nobody@example.net"),
            mail("3s", "carol@nowhere.example"),
            mail("4s", "dave@example.com"),
            mail("5s", ALICE, sender=BOB),
            mail("6s", "nobody@example.org", sender=BOB),
        ],
    )
    add_host(scenario, "dead.example.com", "198.51.100.99")  # example.com's MX, no MTA
    scenario["dns"]["example.com"] = [
        {"type": "MX", "preference": 10, "exchange": "dead.example.com"}
    ]
    world = run_world(scenario)
    fates = assert_no_message_lost(world.trace)
    by_recipient = fates_by_recipient(world.trace)
    assert by_recipient[BOB].fate is Fate.DELIVERED
    assert by_recipient["nobody@example.net"].fate is Fate.BOUNCED
    assert by_recipient["carol@nowhere.example"].fate is Fate.BOUNCED
    assert by_recipient["dave@example.com"].fate is Fate.QUEUED
    assert by_recipient["nobody@example.org"].fate is Fate.BOUNCED
    user_mail = [f for f in fates if f.origin == "user"]
    bounces = [f for f in fates if f.origin == "bounce"]
    assert len(user_mail) == 6
    # One DSN to alice per remote failure (5.1.1 and 5.1.2), one to bob; all delivered.
    assert sorted(f.recipient for f in bounces) == [ALICE, ALICE, BOB]
    assert all(f.fate is Fate.DELIVERED for f in bounces)
