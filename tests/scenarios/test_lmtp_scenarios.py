"""The lessons of `separate-mda` and `mailbox-full`, read from the trace.

The facts were checked by hand against each scenario's lesson block,
RFC 2033 (LMTP: LHLO, one reply per accepted recipient after the dot),
RFC 3463 (X.2.2 mailbox full) and RFC 3464 (the DSN's Diagnostic-Code and
Remote-MTA), and Dovecot's words for its replies.
"""

from __future__ import annotations

import pytest

from simulator.fates import Fate, message_fates
from simulator.mailstore import SEEN
from simulator.simulation import Simulation
from simulator.trace import Kind, TraceRecord
from simulator.world import World

ALICE, BOB, CAROL, DAVE = ("alice@example.org", "bob@example.net", "carol@example.net",
                           "dave@example.com")
MX, STORE = "mx.example.net", "mda.example.net"
QUOTA_TEXT = "Quota exceeded (mailbox for user is full)"


def run(name: str) -> tuple[World, list[TraceRecord]]:
    simulation = Simulation.load(name)
    simulation.run()
    return simulation.world, list(simulation.trace.records)


@pytest.fixture(scope="module")
def separate() -> tuple[World, list[TraceRecord]]:
    return run("separate-mda")


@pytest.fixture(scope="module")
def full() -> tuple[World, list[TraceRecord]]:
    return run("mailbox-full")


def of(records: list[TraceRecord], kind: Kind, **where: object) -> list[TraceRecord]:
    return [r for r in records if r.kind is kind
            and all(getattr(r, k, None) == v or r.data.get(k) == v for k, v in where.items())]


def session_lines(records: list[TraceRecord], session: str | None) -> list[str]:
    return [r.text for r in records if r.kind is Kind.LINE and r.session == session]


def after_the_dot(lines: list[str]) -> list[str]:
    """The server's lines between an LMTP session's final "." and its QUIT."""
    dot = lines.index(".")
    return lines[dot + 1:lines.index("QUIT", dot)]


# --- separate-mda -----------------------------------------------------------------


def test_the_mta_hands_the_message_to_the_mda_host_over_lmtp(separate) -> None:
    _, records = separate
    (connect,) = of(records, Kind.TCP_CONNECT, host=MX, peer=STORE)
    assert connect.data["port"] == 24  # Dovecot's inet_listener lmtp, not 25 (RFC 2033 §5)
    assert connect.data["rtt"] == pytest.approx(0.0004, abs=1e-5)  # the LAN: 200 us each way
    lines = session_lines(records, connect.session)
    assert lines[:6] == [
        "220 mda.example.net Dovecot ready.", "LHLO mx.example.net", "250-mda.example.net",
        "250-8BITMIME", "250-ENHANCEDSTATUSCODES", "250 PIPELINING",
    ]
    assert "RCPT TO:<bob@example.net>" in lines and "RCPT TO:<carol@example.net>" in lines
    replies = after_the_dot(lines)  # RFC 2033 §4.2: one per recipient, in RCPT order
    assert [reply.split()[:3] for reply in replies] == [
        ["250", "2.0.0", "<bob@example.net>"], ["250", "2.0.0", "<carol@example.net>"],
    ]
    assert all(reply.endswith(" Saved") for reply in replies)


def test_the_mda_host_records_the_deliveries_and_the_mta_only_its_queue(separate) -> None:
    _, records = separate
    delivered = {r.data["recipient"]: r.host for r in of(records, Kind.MAIL_DELIVERED)}
    assert delivered[BOB] == delivered[CAROL] == STORE
    assert not of(records, Kind.MAIL_DELIVERED, host=MX)
    relayed = {r.data["recipient"]: r.data["relay"]
               for r in of(records, Kind.MAIL_RELAYED, host=MX)}
    # bob's answer by SMTP; bob and carol by LMTP, logged as Postfix lmtp(8) does
    assert relayed == {ALICE: relayed[ALICE], BOB: f"{STORE}:24", CAROL: f"{STORE}:24"}
    assert relayed[ALICE] != f"{STORE}:24"
    assert [r.data["reason"] for r in of(records, Kind.QUEUE_LEAVE, host=MX)] == ["done", "done"]


def test_recipients_are_checked_at_rcpt_without_asking_the_mda(separate) -> None:
    _, records = separate
    (lmtp,) = of(records, Kind.TCP_CONNECT, host=MX, peer=STORE)
    relay_rcpt_ok = [r for r in records if r.kind is Kind.LINE and r.host == MX
                     and r.data["port"] == 25 and r.text == "250 2.1.5 Ok"]
    assert len(relay_rcpt_ok) == 2 and all(r.time < lmtp.time for r in relay_rcpt_ok)


def test_bob_reads_his_mail_from_the_mda_host(separate) -> None:
    world, records = separate
    checks = of(records, Kind.TCP_CONNECT, host="bob-pc", port=110)
    assert checks and {r.peer for r in checks} == {STORE}
    assert len(world.muas[BOB].inbox) == 1
    assert [SEEN in m.flags for m in world.mdas[STORE].mailboxes[CAROL].messages] == [False]


def test_where_mta_and_mda_share_a_host_lmtp_is_a_loopback_connection(separate) -> None:
    _, records = separate
    (loop,) = of(records, Kind.TCP_CONNECT, host="mail.example.org", peer="mail.example.org")
    assert loop.data["port"] == 24 and loop.data["rtt"] == 0.0
    (saved,) = after_the_dot(session_lines(records, loop.session))
    assert saved.startswith("250 2.0.0 <alice@example.org> ")
    fates = message_fates(records)
    assert [f.fate for f in fates] == [Fate.DELIVERED] * 3


# --- mailbox-full -------------------------------------------------------------------


def test_the_second_message_does_not_fit_and_each_mda_says_so(full) -> None:
    _, records = full
    replies = [r for r in records if r.kind is Kind.LINE and r.protocol == "lmtp"
               and r.data["role"] == "server"]
    refused = [(r.host, r.text) for r in replies if QUOTA_TEXT in r.text]
    assert refused[:2] == [
        ("mail.example.net", f"552 5.2.2 <carol@example.net> {QUOTA_TEXT}"),  # the default
        ("mail.example.com", f"452 4.2.2 <dave@example.com> {QUOTA_TEXT}"),  # tempfail
    ]
    assert set(refused[2:]) == {refused[1]}  # and again at each retry, until dave made room
    notes = [r.text for r in of(records, Kind.NOTE) if "is full" in r.text]
    assert notes[0].startswith("mailbox carol@example.net is full: ")
    assert "of 1024 bytes used" in notes[0]


def test_a_permanent_refusal_bounces_at_once_with_the_mdas_words(full) -> None:
    world, records = full
    (bounced,) = of(records, Kind.MAIL_BOUNCED, recipient=CAROL)
    assert bounced.host == "mail.example.net" and bounced.data["status"] == "5.2.2"
    assert 60 < bounced.time < 61  # the second message left alice at 1m
    dsn = next(m for m in world.muas[ALICE].inbox if b"multipart/report" in m).decode()
    lines = dsn.replace("\r\n ", " ").split("\r\n")  # header fields unfolded
    assert f"Diagnostic-Code: lmtp; 552 5.2.2 <carol@example.net> {QUOTA_TEXT}" in lines
    assert "Remote-MTA: dns; mail.example.net" in lines  # as Postfix's lmtp writes it
    assert "Status: 5.2.2" in lines and "Action: failed" in lines


def test_a_temporary_refusal_waits_until_the_mailbox_has_room(full) -> None:
    _, records = full
    deferred = of(records, Kind.MAIL_DEFERRED, recipient=DAVE)
    assert {r.host for r in deferred} == {"mail.example.com"}
    assert {r.data["status"] for r in deferred} == {"4.2.2"}
    assert len(deferred) >= 2  # tried again at the queue scans (Postfix queue_run_delay)
    first_check = next(r for r in of(records, Kind.MAIL_FETCHED) if r.host == "dave-pc")
    slides = [r for r in of(records, Kind.MAIL_DELIVERED, recipient=DAVE)][-1]
    assert deferred[-1].time < first_check.time < slides.time  # room made, then delivered
    assert not of(records, Kind.MAIL_BOUNCED, recipient=DAVE)
    fates = {(f.subject, f.recipient): f for f in message_fates(records)}
    assert fates["Slides", CAROL].fate is Fate.BOUNCED and fates["Slides", CAROL].status == "5.2.2"
    assert fates["Slides", DAVE].fate is Fate.DELIVERED
    assert fates["Agenda", CAROL].fate is fates["Agenda", DAVE].fate is Fate.DELIVERED

