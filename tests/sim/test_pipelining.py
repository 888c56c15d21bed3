"""PIPELINING on the trace: from the EHLO reply to 354 in one round trip.

Both servers of 01-first-email offer PIPELINING (RFC 2920), so each SMTP
client sends MAIL FROM, RCPT TO and DATA as one group and reads the three
replies in order: one round trip where one command at a time took three.
The times are checked by hand from the scenario's link latencies.  Both
also offer 8BITMIME (RFC 6152): an 8-bit body goes with BODY=8BITMIME.
"""

from __future__ import annotations

import pytest
from simworld import BOB, NET_MTA, ORG_MTA, lines, mail, mailbox, run_world, two_providers

from simulator.simulation import Simulation
from simulator.trace import Kind, TraceRecord


@pytest.fixture(scope="module")
def first_email() -> list[TraceRecord]:
    simulation = Simulation.load("01-first-email")
    simulation.run()
    return [r for r in simulation.trace.records if r.kind is Kind.LINE and r.protocol == "smtp"]


def mail_to_354(smtp: list[TraceRecord], client: str, server: str) -> list[TraceRecord]:
    """The lines after the EHLO reply (the AUTH reply at submission), up to the 354."""
    said = [r for r in smtp if {r.host, r.peer} == {client, server}]
    start = next(i for i, r in enumerate(said) if r.text.startswith("MAIL FROM:"))
    end = next(i for i, r in enumerate(said) if r.text.startswith("354 "))
    assert said[start - 1].host == server  # nothing else between the reply and MAIL
    return said[start : end + 1]


def turns(said: list[TraceRecord], client: str) -> str:
    """Who speaks, line by line: C for the client, S for the server."""
    return "".join("C" if r.host == client else "S" for r in said)


@pytest.mark.parametrize(
    ("client", "server", "round_trip"),
    [
        # alice-pc -> isp-a 8 ms -> backbone 5 ms -> mail.example.org 1 ms, each way
        pytest.param("alice-pc", ORG_MTA, 2 * (0.008 + 0.005 + 0.001), id="submission"),
        # mail.example.org -> backbone 1 ms -> mail.example.net 40 ms, each way
        pytest.param(ORG_MTA, NET_MTA, 2 * (0.001 + 0.040), id="relay"),
    ],
)  # fmt: skip
def test_mail_rcpt_and_data_take_one_round_trip(
    first_email: list[TraceRecord], client: str, server: str, round_trip: float
) -> None:
    dialogue = mail_to_354(first_email, client, server)
    assert [r.text.split(":")[0].split(" ")[0] for r in dialogue] == [
        "MAIL", "RCPT", "DATA", "250", "250", "354",
    ]  # fmt: skip
    # One at a time it would read C S C S C S: three round trips, not one.
    assert turns(dialogue, client) == "CCCSSS"
    assert len({r.time for r in dialogue if r.host == client}) == 1  # one flight
    first_reply = dialogue[3]
    assert first_reply.time - dialogue[0].time == pytest.approx(round_trip / 2, abs=1e-3)
    assert dialogue[-1].time == first_reply.time  # the 354 comes with the other replies


def test_the_relay_delivers_two_round_trips_sooner(first_email: list[TraceRecord]) -> None:
    """End to end 0.543 s: 0.763 s one command at a time, less 2 x 28 ms and 2 x 82 ms."""
    queued = next(r for r in first_email if r.host == NET_MTA and "queued as" in r.text)
    assert queued.time - 10.0 == pytest.approx(0.763 - 2 * 0.028 - 2 * 0.082, abs=1e-3)


def test_an_8bit_message_travels_with_body_8bitmime_on_both_hops() -> None:
    """RFC 6152: both servers offer 8BITMIME; the 8-bit body arrives intact."""
    letter = mail("1s", BOB) | {"body": "Grüße aus Köln.\n"}
    world = run_world(two_providers(traffic=[letter, mail("2s", BOB)]))
    mails = [t for t in lines(world.trace, protocol="smtp") if t.startswith("MAIL FROM:")]
    assert len(mails) == 4  # submission and relay of each message
    assert sum(t.endswith(" BODY=8BITMIME") for t in mails) == 2  # the 8-bit one, twice
    # Dovecot's LMTP offers 8BITMIME too (no SIZE): the hand-off to the MDA says so
    handed = [t for t in lines(world.trace, protocol="lmtp") if t.startswith("MAIL FROM:")]
    assert handed == ["MAIL FROM:<alice@example.org> BODY=8BITMIME",
                      "MAIL FROM:<alice@example.org>"]
    eight_bit, seven_bit = mailbox(world, NET_MTA, BOB)
    assert "Grüße aus Köln.".encode() in eight_bit and seven_bit.isascii()
