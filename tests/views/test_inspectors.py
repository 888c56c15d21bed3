"""Inspector views: a queue like mailq, a mailbox, the copies of a message."""

from __future__ import annotations

import io

import pytest
from rich.cells import cell_len
from rich.console import Console, RenderableType

from simulator.inspect import MailboxEntry, QueueEntry
from simulator.simulation import Simulation
from simulator.views.inspectors import MailboxView, MessageView, QueueView

WIDTHS = (80, 100, 120, 160)
MESSAGE = "<1c5e9fb100889776@example.org>"
BOUNCE = "<20260302090010.DF2DBBD520@mail.example.org>"


def render(view: RenderableType, width: int = 80) -> list[str]:
    out = io.StringIO()
    Console(file=out, width=width, color_system=None).print(view)
    lines = out.getvalue().splitlines()
    assert max(cell_len(line) for line in lines) <= width
    return [line.rstrip() for line in lines]


@pytest.fixture(scope="module")
def mid_relay() -> Simulation:
    """01-first-email while mail.example.org relays the message to mail.example.net."""
    simulation = Simulation.load("01-first-email")
    simulation.run(until=10.5)
    return simulation


@pytest.fixture(scope="module")
def stored() -> Simulation:
    """01-first-email once the message rests in bob's mailbox, before his client checks."""
    simulation = Simulation.load("01-first-email")
    simulation.run(until=100)
    return simulation


@pytest.mark.parametrize("width", WIDTHS)
def test_queue_like_mailq(mid_relay: Simulation, width: int) -> None:
    lines = render(QueueView("mail.example.org", mid_relay.queue("mail.example.org"),
                             mid_relay.now), width)
    assert lines == [
        "mailq on mail.example.org at +00:10.500",
        "-Queue ID- --Size-- ----Arrival Time---- -Sender/Recipient-------",
        # alice-pc pipelines MAIL, RCPT and DATA (RFC 2920): two round trips of
        # 2 x (8 + 5 + 1) ms fewer than one command at a time, 10.210 - 0.056
        "F6B646BF40*     575 +00:10.154           alice@example.org",
        " " * 41 + "bob@example.net",
        "",
        "-- 0 Kbytes in 1 Request.",
    ]


def test_empty_queue(mid_relay: Simulation) -> None:
    lines = render(QueueView("mail.example.net", mid_relay.queue("mail.example.net"), 10.5))
    assert lines[1:] == ["Mail queue is empty"]


def test_deferred_bounce_in_queue() -> None:
    waiting = QueueEntry(
        queue_id="DF2DBBD520", arrived_at=3700.25, size=2090, sender="",
        recipients=("alice@example.org",), attempts=2, active=False,
        reason="connect to mail.example.org[198.51.100.25]:25: Connection timed out",
        message_id="<b@x>",
    )
    other = QueueEntry("A1B2C3D4E5", 3800.0, 1000, "carol@example.net",
                       ("dave@example.org", "erin@example.org"), 0, False, "", None)
    lines = render(QueueView("mail.example.net", [waiting, other], 4000.0), 100)
    assert lines[2] == "DF2DBBD520     2090 +1:01:40.250         MAILER-DAEMON"
    assert lines[3].endswith(f"({waiting.reason})")
    assert lines[3].index("(") + len(waiting.reason) == 76  # showq pads reasons to column 76
    assert lines[4] == " " * 41 + "alice@example.org"
    assert lines[6].startswith("A1B2C3D4E5 ")
    assert lines[-1] == "-- 3 Kbytes in 2 Requests."  # (2090 + 1000) // 1024, as showq counts


@pytest.mark.parametrize("width", WIDTHS)
def test_mailbox(stored: Simulation, width: int) -> None:
    lines = render(MailboxView("bob@example.net", stored.mailbox("bob@example.net")), width)
    assert lines[0] == "Mailbox of bob@example.net"
    assert lines[3].split() == ["1", "0000000100000001", "alice@example.org", "Hello", "Bob", "828"]
    assert lines[-1] == "1 message, 828 octets"


def test_empty_mailbox(stored: Simulation) -> None:
    entries: list[MailboxEntry] = list(stored.mailbox("alice@example.org"))
    assert render(MailboxView("alice@example.org", entries)) == [
        "The mailbox of alice@example.org is empty."
    ]


@pytest.mark.parametrize("width", WIDTHS)
def test_received_chain_is_numbered_bottom_up(stored: Simulation, width: int) -> None:
    lines = render(MessageView(stored.message(MESSAGE)), width)
    assert lines[0] == "In the mailbox bob@example.net on mail.example.net"
    second = next(i for i, line in enumerate(lines) if line.startswith("2  Received:"))
    first = next(i for i, line in enumerate(lines) if line.startswith("1  Received:"))
    assert second < first  # the newest hop is on top
    assert "from mail.example.org" in lines[second]
    assert "from alice-pc" in lines[first]


def test_envelope_beside_from(stored: Simulation) -> None:
    lines = render(MessageView(stored.message(MESSAGE)), 100)
    assert lines[1].split("  ")[0] == "Envelope sender (MAIL FROM)"
    assert lines[3].split() == ["<alice@example.org>", "alice@example.org"]


def test_bounce_has_the_null_sender() -> None:
    simulation = Simulation.load("02-unknown-user")
    simulation.run(until=100)
    text = "\n".join(render(MessageView(simulation.message(BOUNCE)), 120))
    assert "<> (null sender: a bounce)" in text
    assert "MAILER-DAEMON@mail.example.org (Mail Delivery System)" in text
    assert "1  Received:        by mail.example.org (Postfix) id DF2DBBD520" in text


def test_no_copies() -> None:
    assert render(MessageView([])) == ["No copy of this message is left anywhere."]
