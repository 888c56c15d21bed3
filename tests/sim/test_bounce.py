"""Bounces: the DSN's form (RFC 3464 / 6522), the null sender, no bounce of a bounce."""

from __future__ import annotations

from email import message_from_bytes
from email.message import Message

from simworld import (
    ALICE,
    BOB,
    NET_MTA,
    ORG_MTA,
    SUBMISSION_PORT,
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
    two_providers,
)

from simulator.fates import Fate, message_fates
from simulator.protocols.smtp import Envelope
from simulator.trace import Kind
from simulator.world import World

NOBODY = "nobody@example.net"


def _unknown_user_world() -> World:
    return run_world(two_providers(traffic=[mail("1s", NOBODY, subject="Lunch?")]))


def _parts(dsn: bytes) -> tuple[Message, list[Message]]:
    report = message_from_bytes(dsn)
    payload = report.get_payload()
    assert isinstance(payload, list)
    return report, payload


def test_dsn_is_a_multipart_report_of_delivery_status() -> None:
    world = _unknown_user_world()
    report, parts = _parts(one(mailbox(world, ORG_MTA, ALICE)))
    assert report.get_content_type() == "multipart/report"
    assert report.get_param("report-type") == "delivery-status"
    assert [p.get_content_type() for p in parts] == [
        "text/plain",
        "message/delivery-status",
        "text/rfc822-headers",
    ]
    assert report["To"] == ALICE
    assert report["From"].startswith(f"MAILER-DAEMON@{ORG_MTA}")
    assert report["Auto-Submitted"] == "auto-replied"  # RFC 3834 §5


def test_dsn_status_part_names_the_recipient_and_5_1_1() -> None:
    world = _unknown_user_world()
    _, parts = _parts(one(mailbox(world, ORG_MTA, ALICE)))
    status_text = parts[1].as_string()
    assert f"Reporting-MTA: dns; {ORG_MTA}" in status_text
    assert f"Final-Recipient: rfc822; {NOBODY}" in status_text
    assert "Action: failed" in status_text
    assert "Status: 5.1.1" in status_text
    assert f"Remote-MTA: dns; {NET_MTA}" in status_text
    assert "Diagnostic-Code: smtp; 550 5.1.1" in status_text


def test_dsn_carries_the_original_message_id_in_its_headers_part() -> None:
    world = _unknown_user_world()
    composed = one(records(world.trace, Kind.MAIL_COMPOSED, host="alice-pc"))
    _, parts = _parts(one(mailbox(world, ORG_MTA, ALICE)))
    original_headers = parts[2].get_payload()
    assert f"Message-ID: {composed.message}" in original_headers
    assert "Subject: Lunch?" in original_headers
    assert "Hello." not in original_headers  # headers only, not the body


def test_dsn_is_sent_with_the_null_sender_and_linked_in_the_trace() -> None:
    world = _unknown_user_world()
    original = one(records(world.trace, Kind.MAIL_COMPOSED, host="alice-pc")).message
    bounced = one(records(world.trace, Kind.MAIL_BOUNCED, recipient=NOBODY))
    assert bounced.message == original and bounced.data["status"] == "5.1.1"
    dsn_id = bounced.data["bounce_id"]
    dsn_composed = one(records(world.trace, Kind.MAIL_COMPOSED, message=dsn_id))
    assert dsn_composed.data["origin"] == "bounce"
    assert dsn_composed.data["original"] == original
    assert dsn_composed.data["to"] == [ALICE]
    entered = one(records(world.trace, Kind.QUEUE_ENTER, message=dsn_id))
    assert entered.data["from"] == ""  # RFC 5321 §4.5.5: MAIL FROM:<>
    stored = one(mailbox(world, ORG_MTA, ALICE))
    assert headers(stored, "Return-Path") == ["<>"]
    assert headers(stored, "Message-ID") == [dsn_id]
    fates = fates_by_recipient(world.trace)
    assert fates[NOBODY].fate is Fate.BOUNCED and fates[ALICE].fate is Fate.DELIVERED


def test_relayed_dsn_says_mail_from_null() -> None:
    """alice submits with bob@example.net as return path: the DSN crosses to mail.example.net."""
    world = build(two_providers())
    smtp_session(
        world,
        "alice-pc",
        ORG_MTA,
        SUBMISSION_PORT,
        Envelope(BOB, (NOBODY,)),
        raw_message(
            f"From: {BOB}", f"To: {NOBODY}", "Subject: x", "Message-ID: <relayed.1@example.net>"
        ),
        username=ALICE,
        password="wonderland",
    )
    run_world(world)
    sent = lines(world.trace, host=ORG_MTA, peer=NET_MTA)
    null_sender = [text for text in sent if text.startswith("MAIL FROM:<>")]
    assert len(null_sender) == 1
    assert reply_to(world.trace, "MAIL FROM:<>") == "250 2.1.0 Ok"
    dsn_entry = one(records(world.trace, Kind.QUEUE_ENTER, host=NET_MTA))
    assert dsn_entry.data["from"] == ""
    stored = one(mailbox(world, NET_MTA, BOB))
    assert headers(stored, "Return-Path") == ["<>"]
    assert "<relayed.1@example.net>" in stored.decode()
    dsn_id = one(records(world.trace, Kind.MAIL_BOUNCED)).data["bounce_id"]
    assert fates_by_recipient(world.trace)[BOB].message_id == dsn_id
    assert fates_by_recipient(world.trace)[BOB].fate is Fate.DELIVERED


def _double_bounce_world(return_path: str) -> World:
    world = build(two_providers())
    smtp_session(
        world,
        "alice-pc",
        ORG_MTA,
        SUBMISSION_PORT,
        Envelope(return_path, (NOBODY,)),
        raw_message(
            f"From: {return_path}",
            f"To: {NOBODY}",
            "Subject: x",
            "Message-ID: <doomed.1@example.org>",
        ),
        username=ALICE,
        password="wonderland",
    )
    return run_world(world)


def _assert_one_dsn_then_discarded(world: World, return_path: str) -> None:
    dsns = records(world.trace, Kind.MAIL_COMPOSED)
    assert len(dsns) == 1 and dsns[0].data["origin"] == "bounce"  # never a bounce of a bounce
    first = one(records(world.trace, Kind.MAIL_BOUNCED, recipient=NOBODY))
    assert first.data["bounce_id"] == dsns[0].message
    discarded = one(records(world.trace, Kind.MAIL_BOUNCED, recipient=return_path))
    assert discarded.message == dsns[0].message
    assert discarded.data["bounce_id"] is None
    assert discarded.data["status"] == "5.1.1"
    assert all(f.fate is Fate.BOUNCED for f in message_fates(world.trace))
    assert all(mta.queue.entries == {} for mta in world.mtas.values())


def test_bounce_to_an_unknown_local_sender_is_discarded() -> None:
    world = _double_bounce_world("ghost@example.org")
    _assert_one_dsn_then_discarded(world, "ghost@example.org")
    assert mailbox(world, ORG_MTA, ALICE) == []


def test_bounce_refused_by_the_remote_sender_domain_is_discarded() -> None:
    world = _double_bounce_world("ghost@example.net")
    _assert_one_dsn_then_discarded(world, "ghost@example.net")
    # The DSN went out with MAIL FROM:<> and was refused at RCPT.
    sent = lines(world.trace, host=ORG_MTA, peer=NET_MTA)
    assert any(text.startswith("MAIL FROM:<>") for text in sent)
    assert reply_to(world.trace, "RCPT TO:<ghost@example.net>").startswith("550 5.1.1 ")
