"""The MTA: submission and AUTH, relay policy, trace headers, hop limit, the queue."""

from __future__ import annotations

import re
from collections.abc import Generator
from email.utils import parsedate_to_datetime
from typing import Any

import pytest
import simpy
from simworld import (
    ALICE,
    ALICE_PC_ADDRESS,
    BOB,
    NET_MTA,
    ORG_ADDRESS,
    ORG_MTA,
    SMTP_PORT,
    SUBMISSION_PORT,
    add_host,
    build,
    fates_by_recipient,
    headers,
    lines,
    mail,
    mailbox,
    one,
    raw_message,
    records,
    reply_to,
    run_world,
    smtp_session,
    status_of,
    two_providers,
)

from simulator.agents.context import EPOCH
from simulator.agents.mda import Account, Mda, MdaConfig
from simulator.agents.mta import Mta, MtaConfig
from simulator.agents.mua import Mua, MuaConfig
from simulator.agents.queue import RetryPolicy
from simulator.fates import Fate
from simulator.net.connection import EOF_MARK, Endpoint
from simulator.net.dns import MxRecord
from simulator.net.topology import Host, Link
from simulator.protocols.message import Draft
from simulator.protocols.smtp import Envelope
from simulator.trace import Kind
from simulator.world import World

PLAIN = raw_message(
    f"From: {ALICE}",
    f"To: {BOB}",
    "Subject: raw",
    "Date: Mon, 02 Mar 2026 09:00:00 +0000",
    "Message-ID: <raw.1@example.org>",
)


# ---- submission (port 587) ----


def test_submission_without_auth_gets_530_at_mail() -> None:
    world = build(two_providers())
    result = smtp_session(
        world, "alice-pc", ORG_MTA, SUBMISSION_PORT, Envelope(ALICE, (BOB,)), PLAIN
    )
    run_world(world)
    assert result.connected
    answer = result.replies[BOB]
    assert (answer.code, answer.enhanced) == (530, "5.7.0")  # RFC 6409 §4.3 / RFC 4954
    assert reply_to(world.trace, "MAIL FROM:") == "530 5.7.0 Authentication required"
    # PIPELINING (RFC 2920): RCPT and DATA went with MAIL; Postfix refuses them in turn
    assert reply_to(world.trace, "RCPT TO:") == "503 5.5.1 Error: need MAIL command"
    assert reply_to(world.trace, "DATA") == "503 5.5.1 Error: need RCPT command"
    assert lines(world.trace, host="alice-pc")[-2:] == ["RSET", "QUIT"]  # no content sent
    assert not records(world.trace, Kind.QUEUE_ENTER)


def test_submission_offers_auth_but_relay_port_does_not() -> None:
    world = build(two_providers())
    smtp_session(world, "alice-pc", ORG_MTA, SUBMISSION_PORT, Envelope(ALICE, (BOB,)), PLAIN)
    smtp_session(world, "stranger", NET_MTA, SMTP_PORT, Envelope(ALICE, (BOB,)), PLAIN)
    run_world(world)
    assert "250-AUTH PLAIN" in lines(world.trace, host=ORG_MTA, peer="alice-pc")
    assert not any("AUTH" in text for text in lines(world.trace, host=NET_MTA, peer="stranger"))


def test_wrong_password_gets_535_and_the_mua_reports_the_failure() -> None:
    world = build(two_providers())
    config = MuaConfig(
        address=ALICE,
        password="not-wonderland",
        submission_host=ORG_MTA,
        mailbox_host=ORG_MTA,
        check_every=3600.0,
    )
    Mua(world.ctx, "alice-pc", config).send_at(1.0, Draft(ALICE, (BOB,), "Hi", "Hello"))
    run_world(world)
    assert reply_to(world.trace, "AUTH PLAIN") == "535 5.7.8 Error: authentication failed"
    assert not any(t.startswith("MAIL FROM") for t in lines(world.trace, host="alice-pc"))
    bounced = one(records(world.trace, Kind.MAIL_BOUNCED))
    assert bounced.host == "alice-pc"
    assert (bounced.data["status"], bounced.data["bounce_id"]) == ("5.7.8", None)
    assert bounced.data["reply"].startswith("535 5.7.8")
    assert fates_by_recipient(world.trace)[BOB].fate is Fate.BOUNCED
    assert not records(world.trace, Kind.QUEUE_ENTER)


def test_authenticated_submission_is_stamped_esmtpa() -> None:
    world = run_world(two_providers(traffic=[mail("1s", BOB)]))
    stored = one(mailbox(world, NET_MTA, BOB))
    first_hop = headers(stored, "Received")[-1]
    assert first_hop.startswith(f"from alice-pc (alice-pc [{ALICE_PC_ADDRESS}])")
    assert f"by {ORG_MTA} (Postfix) with ESMTPA id " in first_hop  # RFC 3848


# ---- relay policy (port 25) ----


def test_unauthenticated_relay_is_denied_with_554_5_7_1() -> None:
    world = build(two_providers())
    result = smtp_session(
        world, "stranger", ORG_MTA, SMTP_PORT, Envelope("someone@example.com", (BOB,)), PLAIN
    )
    run_world(world)
    answer = result.replies[BOB]
    assert (answer.code, answer.enhanced) == (554, "5.7.1")
    assert reply_to(world.trace, "RCPT TO:") == f"554 5.7.1 <{BOB}>: Relay access denied"
    assert not records(world.trace, Kind.QUEUE_ENTER)


def test_port_25_accepts_mail_for_a_local_user_without_auth() -> None:
    world = build(two_providers())
    result = smtp_session(
        world, "stranger", NET_MTA, SMTP_PORT, Envelope("someone@example.com", (BOB,)), PLAIN
    )
    run_world(world)
    assert result.replies[BOB].code == 250
    assert reply_to(world.trace, "RCPT TO:") == "250 2.1.5 Ok"
    stored = one(mailbox(world, NET_MTA, BOB))
    assert headers(stored, "Return-Path") == ["<someone@example.com>"]
    assert "with ESMTP id" in headers(stored, "Received")[0]  # not ESMTPA: no AUTH


def test_unknown_local_user_gets_550_5_1_1_at_rcpt() -> None:
    world = build(two_providers())
    nobody = "nobody@example.net"
    result = smtp_session(
        world, "stranger", NET_MTA, SMTP_PORT, Envelope("someone@example.com", (nobody, BOB)), PLAIN
    )
    run_world(world)
    assert (result.replies[nobody].code, result.replies[nobody].enhanced) == (550, "5.1.1")
    answer = reply_to(world.trace, f"RCPT TO:<{nobody}>")
    assert answer.startswith(f"550 5.1.1 <{nobody}>: ") and "User unknown" in answer
    # The other recipient is still accepted and delivered.
    assert result.replies[BOB].code == 250
    assert len(mailbox(world, NET_MTA, BOB)) == 1
    assert set(world.mdas[NET_MTA].mailboxes) == {BOB}


# ---- trace headers ----


def test_each_mta_hop_prepends_one_received_header() -> None:
    world = run_world(two_providers(traffic=[mail("1s", BOB)]))
    stored = one(mailbox(world, NET_MTA, BOB))
    received = headers(stored, "Received")
    assert len(received) == 2
    last_hop, first_hop = received
    assert last_hop.startswith(f"from {ORG_MTA} ({ORG_MTA} [{ORG_ADDRESS}]) by {NET_MTA} ")
    assert f"by {ORG_MTA} " in first_hop
    assert all(f"for <{BOB}>;" in value for value in received)
    # The queue id in each header is that MTA's own "queued as" id.
    for host, value in ((NET_MTA, last_hop), (ORG_MTA, first_hop)):
        queue_id = one(records(world.trace, Kind.QUEUE_ENTER, host=host)).data["queue_id"]
        assert f" id {queue_id} " in value
    assert one(records(world.trace, Kind.MAIL_DELIVERED, recipient=BOB)).data["hops"] == 2


def test_submission_adds_message_id_and_date_when_missing() -> None:
    world = build(two_providers())
    bare = raw_message(f"To: {BOB}", "Subject: no id, no date")
    smtp_session(
        world,
        "alice-pc",
        ORG_MTA,
        SUBMISSION_PORT,
        Envelope(ALICE, (BOB,)),
        bare,
        at=2.0,
        username=ALICE,
        password="wonderland",
    )
    run_world(world)
    entered = one(records(world.trace, Kind.QUEUE_ENTER, host=ORG_MTA))
    stored = one(mailbox(world, NET_MTA, BOB))
    message_id = one(headers(stored, "Message-ID"))
    # Postfix style <YYYYMMDDhhmmss.QUEUEID@myhostname>, a valid RFC 5322 msg-id.
    match = re.fullmatch(r"<(\d{14})\.([0-9A-F]{10})@mail\.example\.org>", message_id)
    assert match is not None and match.group(2) == entered.data["queue_id"]
    assert entered.message == message_id
    date = parsedate_to_datetime(one(headers(stored, "Date")))
    assert abs((date - EPOCH).total_seconds() - entered.time) < 1.0
    assert headers(stored, "From") == [ALICE]  # From: taken from the envelope
    assert headers(stored, "Subject") == ["no id, no date"]


def test_submission_keeps_an_existing_message_id_and_date() -> None:
    world = build(two_providers())
    smtp_session(
        world,
        "alice-pc",
        ORG_MTA,
        SUBMISSION_PORT,
        Envelope(ALICE, (BOB,)),
        PLAIN,
        username=ALICE,
        password="wonderland",
    )
    run_world(world)
    stored = one(mailbox(world, NET_MTA, BOB))
    assert headers(stored, "Message-ID") == ["<raw.1@example.org>"]
    assert headers(stored, "Date") == ["Mon, 02 Mar 2026 09:00:00 +0000"]


def _with_received(count: int) -> bytes:
    hops = [
        f"Received: from relay{n}.example.com by relay{n + 1}.example.com; "
        "Mon, 02 Mar 2026 08:00:00 +0000"
        for n in range(count, 0, -1)
    ]
    return raw_message(
        *hops, f"From: {ALICE}", f"To: {BOB}", "Subject: loop", "Message-ID: <loop@example.org>"
    )


def test_fifty_received_headers_hit_the_hop_limit() -> None:
    world = build(two_providers())
    result = smtp_session(
        world,
        "stranger",
        NET_MTA,
        SMTP_PORT,
        Envelope("someone@example.com", (BOB,)),
        _with_received(50),
    )
    run_world(world)
    answer = result.replies[BOB]
    assert (answer.code, answer.enhanced) == (554, "5.4.0")  # Postfix hopcount_limit = 50
    assert reply_to(world.trace, "From: ") == "554 5.4.0 Error: too many hops"
    assert not records(world.trace, Kind.QUEUE_ENTER)
    assert mailbox(world, NET_MTA, BOB) == []


# ---- the queue: deferral, Postfix backoff, end-of-run report ----


def _dead_mx(scenario: dict, *, link: bool = True) -> dict:
    add_host(scenario, "dead.example.net", "203.0.113.99", link_to="router" if link else None)
    scenario["dns"]["example.net"] = [
        {"type": "MX", "preference": 10, "exchange": "dead.example.net"}
    ]
    return scenario


def test_connection_refused_defers_with_4_4_1_and_retries_with_postfix_backoff() -> None:
    world = run_world(_dead_mx(two_providers(duration="25m", traffic=[mail("1s", BOB)])))
    arrival = one(records(world.trace, Kind.QUEUE_ENTER, host=ORG_MTA)).time
    refused = records(world.trace, Kind.TCP_REFUSED, host=ORG_MTA)
    deferred = records(world.trace, Kind.MAIL_DEFERRED, host=ORG_MTA)
    mx_queries = records(world.trace, Kind.DNS_QUERY, host=ORG_MTA, qname="example.net")
    assert all(r.peer == "dead.example.net" and r.data["port"] == 25 for r in refused)
    assert all(r.data["reason"].lower() == "connection refused" for r in refused)
    assert [status_of(record) for record in deferred] == ["4.4.1"] * 3  # RFC 3463: no answer
    # The first attempt starts at arrival.  A deferred message may be tried again
    # after its age, clamped to [300 s, 4000 s] (Postfix qmgr_active.c), and is
    # taken up by the first scan of the deferred queue after that (every
    # queue_run_delay = 300 s from the start):
    #   deferred at ~1.1 s, age < 300 s: due at ~301 s  -> the scan at 600 s;
    #   deferred at ~600 s, age ~599 s: due at ~1199 s  -> the scan at 1200 s.
    assert len(mx_queries) == len(deferred) == len(refused) == 3
    assert mx_queries[0].time == pytest.approx(arrival)
    assert deferred[0].time + 300.0 < 600.0 == mx_queries[1].time
    age = deferred[1].time - arrival
    assert 598.0 < age < 600.0
    assert deferred[1].time + age < 1200.0 == mx_queries[2].time
    # Each attempt: MX and A lookups (10 ms each), then one RTT before the RST.
    rtt = refused[0].time - mx_queries[0].time - 0.020
    assert refused[1].time == pytest.approx(600.0 + 0.020 + rtt)
    # Still waiting at the end: reported, never lost.
    queued = one(records(world.trace, Kind.MAIL_QUEUED, host=ORG_MTA))
    assert queued.data["recipient"] == BOB
    assert "refused" in queued.data["reason"].lower()
    assert fates_by_recipient(world.trace)[BOB].fate is Fate.QUEUED
    assert not records(world.trace, Kind.MAIL_BOUNCED)
    assert list(world.mtas[ORG_MTA].queue.entries) == [queued.data["queue_id"]]


def test_queued_fate_carries_the_status_of_the_last_deferral() -> None:
    """fates.MessageFate.status: "the RFC 3463 enhanced status code when one is
    known (a bounce, or the last deferral of a queued message)".  The trace
    knows it: every mail.deferred record says status 4.4.1."""
    world = run_world(_dead_mx(two_providers(traffic=[mail("1s", BOB)])))
    deferred = records(world.trace, Kind.MAIL_DEFERRED, recipient=BOB)
    assert deferred and status_of(deferred[-1]) == "4.4.1"
    fate = fates_by_recipient(world.trace)[BOB]
    assert fate.fate is Fate.QUEUED
    assert fate.status == "4.4.1"


def test_unreachable_mx_defers_after_the_connect_timeout() -> None:
    world = run_world(_dead_mx(two_providers(traffic=[mail("1s", BOB)]), link=False))
    query = records(world.trace, Kind.DNS_QUERY, host=ORG_MTA, qname="example.net")[0]
    refused = records(world.trace, Kind.TCP_REFUSED, host=ORG_MTA)[0]
    assert refused.data["reason"].lower() == "connection timed out"
    assert refused.time == pytest.approx(query.time + 0.020 + 30.0)
    deferred = records(world.trace, Kind.MAIL_DEFERRED, host=ORG_MTA)[0]
    assert status_of(deferred) == "4.4.1"
    assert fates_by_recipient(world.trace)[BOB].fate is Fate.QUEUED


def test_deferral_reason_says_timed_out_when_the_connection_timed_out() -> None:
    """Postfix logs "connect to host[addr]:25: Connection timed out" for a
    silent host; the deferral (and the queue report) must not claim
    "Connection refused", which is what a host that answers with RST gives."""
    world = run_world(_dead_mx(two_providers(traffic=[mail("1s", BOB)]), link=False))
    deferred = records(world.trace, Kind.MAIL_DEFERRED, host=ORG_MTA)[0]
    assert "timed out" in deferred.data["reply"].lower()
    assert "refused" not in deferred.data["reply"].lower()


def _expiry_world(retry: RetryPolicy, duration: float) -> World:
    """alice-pc -- mail.example.org -- dead.example.net (MX of example.net, no MTA)."""
    world = World("expiry", 1, duration)
    hosts = {"alice-pc": "192.0.2.10", ORG_MTA: ORG_ADDRESS, "dead.example.net": "203.0.113.99"}
    for name, address in hosts.items():
        world.topology.add_host(Host(name, address))
        world.resolver.add_a(name, address)
    world.topology.add_link(Link("alice-pc", ORG_MTA, 0.005, 100e6))
    world.topology.add_link(Link(ORG_MTA, "dead.example.net", 0.010, 100e6))
    world.resolver.add_mx("example.org", MxRecord(10, ORG_MTA))
    world.resolver.add_mx("example.net", MxRecord(10, "dead.example.net"))
    mda = Mda(world.ctx, MdaConfig(ORG_MTA, {ALICE: Account("wonderland")}))
    mta = Mta(world.ctx, MtaConfig(ORG_MTA, frozenset({"example.org"}), retry=retry))
    mta.attach_mailstore("example.org", mda)
    world.mdas[ORG_MTA], world.mtas[ORG_MTA] = mda, mta
    config = MuaConfig(ALICE, "wonderland", ORG_MTA, ORG_MTA, check_every=86400.0)
    world.muas[ALICE] = Mua(world.ctx, "alice-pc", config)
    world.muas[ALICE].send_at(1.0, Draft(ALICE, (BOB,), "Hi", "Hello"))
    return world


def test_queue_lifetime_expiry_bounces_with_4_4_7() -> None:
    retry = RetryPolicy(minimal_backoff=60.0, maximal_backoff=60.0, queue_lifetime=300.0,
                        queue_run_delay=50.0)
    world = run_world(_expiry_world(retry, 600.0))
    arrival = records(world.trace, Kind.QUEUE_ENTER, host=ORG_MTA)[0].time
    deferred = records(world.trace, Kind.MAIL_DEFERRED, recipient=BOB)
    bounced = one(records(world.trace, Kind.MAIL_BOUNCED, recipient=BOB))
    # RFC 3463 X.4.7 "delivery time expired" -- which also says the code of the
    # actual problem should be returned instead when known (here 4.4.1).
    assert status_of(bounced) in ("4.4.7", status_of(deferred[-1]))
    assert status_of(deferred[-1]) == "4.4.1"
    assert "connect to dead.example.net" in bounced.data["reply"]  # the last error
    assert bounced.data["expired"] is True
    # Deferred at ~1 s, due 60 s later, taken up by the scan at 100 s (scans every
    # 50 s); then at 200 s and 300 s.  At 300 s the message is not quite 300 s old
    # (it arrived at ~1 s): deferred once more, and given up after the attempt at
    # the scan at 400 s, the first one past the lifetime -- never before.
    attempts = [r.time for r in records(world.trace, Kind.DNS_QUERY, host=ORG_MTA,
                                        qname="example.net")]
    assert attempts[1:] == [100.0, 200.0, 300.0, 400.0]
    assert len(deferred) == 5
    assert deferred[-2].time - arrival < 300.0 <= bounced.time - arrival < 300.0 + 101.0
    assert not records(world.trace, Kind.MAIL_QUEUED)
    assert world.mtas[ORG_MTA].queue.entries == {}
    dsn = one(mailbox(world, ORG_MTA, ALICE))
    assert f"Status: {status_of(bounced)}".encode() in dsn and b"Action: failed" in dsn
    fates = fates_by_recipient(world.trace)
    assert fates[BOB].fate is Fate.BOUNCED and fates[ALICE].fate is Fate.DELIVERED


def test_default_retry_policy_is_postfix() -> None:
    policy = MtaConfig(ORG_MTA, frozenset()).retry
    assert (policy.minimal_backoff, policy.maximal_backoff) == (300.0, 4000.0)
    assert policy.queue_lifetime == 5 * 86400.0
    assert policy.queue_run_delay == 300.0
    assert [policy.scan_time(policy.scan_after(t)) for t in (0.0, 299.9, 300.0, 301.1)] == [
        300.0, 300.0, 600.0, 600.0,
    ]
    assert [policy.delay(age) for age in (0.0, 299.0, 1000.0, 10_000.0)] == [
        300.0,
        300.0,
        1000.0,
        4000.0,
    ]


# ---- postmaster (RFC 5321 §4.5.1) ----


def test_bare_postmaster_is_accepted_and_reaches_the_first_user() -> None:
    world = build(two_providers())
    result = smtp_session(
        world, "stranger", NET_MTA, SMTP_PORT, Envelope("someone@example.com", ("Postmaster",)),
        PLAIN,
    )
    run_world(world)
    assert result.replies["Postmaster"].code == 250
    (delivered,) = records(world.trace, Kind.MAIL_DELIVERED)
    assert delivered.data["recipient"] == "postmaster@example.net"
    assert delivered.data["mailbox"] == BOB
    (copy,) = mailbox(world, NET_MTA, BOB)
    assert headers(copy, "Delivered-To") == [BOB]


def test_domain_postmaster_field_picks_who_reads_postmaster_mail() -> None:
    scenario = two_providers(traffic=[mail("1s", "POSTMASTER@example.org", sender=BOB)])
    org = scenario["domains"]["example.org"]
    org["users"]["carol"] = {"password": "c"}
    org["postmaster"] = "carol"
    world = run_world(scenario)
    fate = fates_by_recipient(world.trace)["POSTMASTER@example.org"]
    assert fate.fate is Fate.DELIVERED
    assert len(mailbox(world, ORG_MTA, "carol@example.org")) == 1
    assert mailbox(world, ORG_MTA, ALICE) == []


def test_mail_caught_mid_relay_at_the_end_is_queued_in_progress() -> None:
    full = run_world(two_providers(traffic=[mail("1s", BOB)]))
    relaying = [r for r in full.trace if r.kind is Kind.LINE and r.host == ORG_MTA
                and r.peer == NET_MTA]
    cut = relaying[0].time + 0.001  # the run ends while the relay session is open
    world = run_world(two_providers(duration=cut, traffic=[mail("1s", BOB)]))
    queued = one(records(world.trace, Kind.MAIL_QUEUED, recipient=BOB))
    assert queued.host == ORG_MTA
    assert queued.data["reason"] == "delivery in progress"
    assert fates_by_recipient(world.trace)[BOB].fate is Fate.QUEUED


def test_mail_without_helo_names_the_client_host_in_received() -> None:
    """Postfix (smtpd_helo_required = no) takes MAIL before HELO; Received: then names the host."""
    world = build(two_providers())

    def stranger() -> Generator[simpy.events.Event, Any, None]:
        yield world.env.timeout(1.0)
        endpoint = yield from world.ctx.network.connect("stranger", NET_MTA, SMTP_PORT)
        assert isinstance(endpoint, Endpoint)
        endpoint.send(b"MAIL FROM:<someone@example.com>\r\nRCPT TO:<" + BOB.encode()
                      + b">\r\nDATA\r\n" + PLAIN + b".\r\nQUIT\r\n")
        while (yield endpoint.recv()) != EOF_MARK:
            pass
        endpoint.close()

    world.env.process(stranger())
    run_world(world)
    stored = one(mailbox(world, NET_MTA, BOB))
    assert headers(stored, "Received")[0].startswith("from stranger (stranger [")
