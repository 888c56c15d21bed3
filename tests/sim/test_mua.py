"""The MUA: composing, submitting with AUTH PLAIN, the Outbox."""

from __future__ import annotations

import base64
import re
from datetime import timedelta
from email.utils import format_datetime, parsedate_to_datetime

import pytest
from simworld import (
    ALICE,
    BOB,
    NET_MTA,
    ORG_MTA,
    fates_by_recipient,
    headers,
    lines,
    mail,
    mailbox,
    one,
    records,
    reply_to,
    run_world,
    two_providers,
)

from simulator.agents.context import EPOCH
from simulator.fates import Fate
from simulator.trace import Kind


def test_composed_message_has_the_rfc_5322_headers() -> None:
    world = run_world(two_providers(traffic=[mail("7s", BOB, subject="Hello Bob")]))
    composed = one(records(world.trace, Kind.MAIL_COMPOSED))
    assert composed.time == 7.0 and composed.host == "alice-pc"
    assert (composed.data["from"], composed.data["to"]) == (ALICE, [BOB])
    stored = one(mailbox(world, NET_MTA, BOB))
    message_id = one(headers(stored, "Message-ID"))
    assert message_id == composed.message
    assert re.fullmatch(r"<[^<>@\s]+@example\.org>", message_id)  # RFC 5322 §3.6.4 msg-id
    assert headers(stored, "From") == [ALICE]
    assert headers(stored, "To") == [BOB]
    assert headers(stored, "Subject") == ["Hello Bob"]
    assert headers(stored, "Date") == [format_datetime(EPOCH + timedelta(seconds=7))]
    assert parsedate_to_datetime(headers(stored, "Date")[0]) == EPOCH + timedelta(seconds=7)
    assert headers(stored, "User-Agent") == ["POP3 client"]


def test_message_ids_are_unique() -> None:
    traffic = [mail(f"{second}s", BOB) for second in (1, 2, 3)]
    world = run_world(two_providers(traffic=traffic))
    ids = [r.message for r in records(world.trace, Kind.MAIL_COMPOSED)]
    assert len(ids) == len(set(ids)) == 3


def test_submission_uses_port_587_and_auth_plain() -> None:
    world = run_world(two_providers(traffic=[mail("1s", BOB)]))
    connect = records(world.trace, Kind.TCP_CONNECT, host="alice-pc")[0]
    assert (connect.peer, connect.data["port"]) == (ORG_MTA, 587)
    # RFC 4616: authzid NUL authcid NUL passwd, base64 (RFC 4954 initial response).
    expected = base64.b64encode(b"\0alice@example.org\0wonderland").decode()
    assert f"AUTH PLAIN {expected}" in lines(world.trace, host="alice-pc")
    assert reply_to(world.trace, "AUTH PLAIN") == "235 2.7.0 Authentication successful"
    assert fates_by_recipient(world.trace)[BOB].fate is Fate.DELIVERED


def test_recipient_refused_at_submission_is_reported_by_the_mua() -> None:
    nobody = "nobody@example.org"  # alice's own domain: her MTA knows he does not exist
    world = run_world(two_providers(traffic=[mail("1s", [BOB, nobody])]))
    bounced = one(records(world.trace, Kind.MAIL_BOUNCED))
    assert bounced.host == "alice-pc" and bounced.data["recipient"] == nobody
    assert (bounced.data["status"], bounced.data["bounce_id"]) == ("5.1.1", None)
    fates = fates_by_recipient(world.trace)
    assert fates[nobody].fate is Fate.BOUNCED
    assert fates[BOB].fate is Fate.DELIVERED
    assert not records(world.trace, Kind.MAIL_COMPOSED, host=ORG_MTA)  # no DSN needed
    assert world.muas[ALICE].outbox == []


def test_unreachable_submission_server_leaves_the_message_in_the_outbox() -> None:
    scenario = two_providers(traffic=[mail("10s", BOB)])
    scenario["hosts"]["alice-pc"]["links"] = []  # cable unplugged
    world = run_world(scenario)
    composed = one(records(world.trace, Kind.MAIL_COMPOSED))
    refused = records(world.trace, Kind.TCP_REFUSED, host="alice-pc")[0]
    assert (refused.peer, refused.data["port"]) == (ORG_MTA, 587)
    assert refused.time == pytest.approx(10.0 + 30.0)  # the connect timeout
    outbox = world.muas[ALICE].outbox
    assert [(u.message_id, u.recipients) for u in outbox] == [(composed.message, (BOB,))]
    queued = one(records(world.trace, Kind.MAIL_QUEUED))
    assert (queued.host, queued.message, queued.data["recipient"]) == (
        "alice-pc",
        composed.message,
        BOB,
    )
    assert queued.data["queue_id"] == "outbox"
    assert queued.time == 300.0  # reported when the run ends
    assert fates_by_recipient(world.trace)[BOB].fate is Fate.QUEUED
    assert not records(world.trace, Kind.QUEUE_ENTER)


def test_message_being_submitted_when_the_run_ends_is_not_lost() -> None:
    """World.run promises that every message ends delivered, bounced or
    visibly queued.  A message composed a moment before the end, whose
    submission is still under way, is in neither the MTA queue nor the
    Outbox: it must still be reported (e.g. mail.queued from the Outbox)."""
    world = run_world(two_providers(traffic=[mail("299.99s", BOB)]))  # run ends at 300 s
    assert fates_by_recipient(world.trace)[BOB].fate is Fate.QUEUED


def test_mail_checks_keep_a_fixed_beat() -> None:
    scenario = two_providers(duration="7m", traffic=[mail("1s", "bob@example.net")])
    scenario["domains"]["example.net"]["users"]["bob"]["check_every"] = "2m"
    world = run_world(scenario)
    checks = records(world.trace, Kind.TCP_CONNECT, host="bob-pc")
    # each check starts on the 2-minute beat, one round trip before its connect record
    starts = [round(r.time - r.data["rtt"], 6) for r in checks]
    assert starts == [120.0, 240.0, 360.0]
