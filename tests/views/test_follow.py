"""Following one message hop by hop, with the waiting time at each hop."""

from __future__ import annotations

import io
from typing import Any

import pytest
from rich.cells import cell_len
from rich.console import Console, RenderableType
from synthetic import payload

from simulator.simulation import Simulation
from simulator.trace import Kind, Trace, TraceRecord
from simulator.views.follow import FollowView, follow

WIDTHS = (80, 100, 120, 160)
MESSAGE = "<1c5e9fb100889776@example.org>"
BOUNCE = "<20260302090010.DF2DBBD520@mail.example.org>"


def render(view: RenderableType, width: int) -> str:
    out = io.StringIO()
    Console(file=out, width=width, color_system=None).print(view)
    return out.getvalue()


@pytest.fixture(scope="module")
def traces() -> dict[str, tuple[TraceRecord, ...]]:
    runs = {}
    for name in ("01-first-email", "02-unknown-user"):
        simulation = Simulation.load(name)
        simulation.run()
        runs[name] = simulation.trace.records
    return runs


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("name", ["01-first-email", "02-unknown-user"])
def test_fits_the_console(traces: Any, name: str, width: int) -> None:
    text = render(FollowView(traces[name], MESSAGE), width)
    assert max(cell_len(line) for line in text.splitlines()) <= width
    assert "queued as F6B646BF40" in " ".join(text.split())


def test_first_email_hops(traces: Any) -> None:
    journey = follow(traces["01-first-email"], MESSAGE)
    assert [(hop.host, hop.what.split(" ")[0]) for hop in journey.hops] == [
        ("alice-pc", "composed"),
        ("mail.example.org", "received"),  # submission, queued as F6B646BF40
        ("mail.example.org", "DNS"),  # MX example.net
        ("mail.example.org", "DNS"),  # A mail.example.net
        ("mail.example.net", "received"),  # relay, queued as 6B7FB7D5A8
        ("mail.example.net", "delivered"),
        ("mail.example.net", "relayed"),  # LMTP's status=sent, logged after the MDA saved it
        ("mail.example.org", "relayed"),  # logged once the session is over
        ("bob-pc", "downloaded"),
    ]
    assert "port 587 (submission)" in journey.hops[1].what
    assert "port 25 (relay), queued as 6B7FB7D5A8" in journey.hops[4].what


def test_first_email_waiting_times(traces: Any) -> None:
    """Checked by hand against the trace of 01-first-email.

    mail.example.org: queue.enter at 10.1541, mail.relayed at 10.6662;
    mail.example.net: queue.enter and mail.delivered both at 10.5432;
    bob's mailbox: delivered at 10.5432, fetched by bob-pc at 120.7001.
    Both SMTP clients pipeline MAIL, RCPT and DATA (RFC 2920), two round trips
    fewer each: submission 2 x 28 ms (8 + 5 + 1 ms each way), relay 2 x 82 ms
    (1 + 40 ms each way); so 10.2101 - 0.056, and 10.7632 / 10.8862 - 0.220.
    """
    waits = {hop.what.split(" ")[0]: (hop.waited, hop.waited_in)
             for hop in follow(traces["01-first-email"], MESSAGE).hops if hop.waited is not None}
    assert waits["relayed"][0] == pytest.approx(0.5121, abs=1e-3)
    assert waits["relayed"][1] == "queue"
    assert waits["delivered"][0] == pytest.approx(0.0, abs=1e-6)
    assert waits["downloaded"][0] == pytest.approx(110.1569, abs=1e-3)
    assert waits["downloaded"][1] == "mailbox"


def test_first_email_end_to_end(traces: Any) -> None:
    text = render(FollowView(traces["01-first-email"], MESSAGE), 120)
    # composed at 10.0, delivered at 10.5432, downloaded at 120.7001
    assert "End to end, bob@example.net: delivered after 0.543 s; downloaded after 1 m 51 s" in text
    assert "0.512 s" in text and "1 m 50 s" in text
    assert "DNS MX example.net → 10 mail.example.net" in text


def test_bounce_has_status_reply_and_its_own_id(traces: Any) -> None:
    journey = follow(traces["02-unknown-user"], MESSAGE)
    bounced = next(hop for hop in journey.hops if hop.tone == "mail.bounced")
    assert bounced.what.startswith("bounced 5.1.1: 550 5.1.1 <bbo@example.net>")
    assert BOUNCE in bounced.what
    # queue.enter at 10.1211, mail.bounced at 10.6331 (pipelining, RFC 2920: two
    # round trips fewer at submission, 2 x 22 ms; and at the relay, 2 x 82 ms)
    assert bounced.waited == pytest.approx(0.512, abs=1e-3)
    fetched = journey.hops[-1]
    assert fetched.what == "the bounce is downloaded by alice@example.org"
    # the bounce reached alice's mailbox at 10.6331; her client took it at 120.1544
    assert fetched.waited == pytest.approx(109.5213, abs=1e-3)
    text = render(FollowView(traces["02-unknown-user"], MESSAGE), 160)
    assert "End to end, bbo@example.net: bounced (5.1.1) after 0.633 s" in text


def test_unknown_message(traces: Any) -> None:
    text = render(FollowView(traces["01-first-email"], "<nope@example.org>"), 80)
    assert text.strip() == "No record of <nope@example.org> in the trace."


class Scribe:
    def __init__(self) -> None:
        self.now = 0.0
        self.trace = Trace(clock=lambda: self.now)

    def at(self, time: float, kind: Kind, host: str, **data: Any) -> None:
        self.now = time
        self.trace.emit(kind, host, "", payload(kind, **data), message="<m@x>")


def two_recipients(second: Kind) -> Trace:
    """One message for a@y and b@y: a@y delivered, b@y as `second` says."""
    s = Scribe()
    s.at(1.0, Kind.MAIL_COMPOSED, "pc", to=["a@y", "b@y"], subject="Hi", origin="user",
         **{"from": "me@x"})
    s.at(2.0, Kind.QUEUE_ENTER, "mx", queue_id="Q1", to=["a@y", "b@y"], **{"from": "me@x"})
    s.at(3.0, Kind.MAIL_DELIVERED, "mx", queue_id="Q1", recipient="a@y", mailbox="a@y", hops=1)
    if second is Kind.MAIL_DELIVERED:
        s.at(3.0, Kind.MAIL_DELIVERED, "mx", queue_id="Q1", recipient="b@y", mailbox="b@y",
             hops=1)
    else:
        s.at(3.0, Kind.MAIL_DEFERRED, "mx", queue_id="Q1", recipient="b@y", attempt=1,
             reply="452 4.2.2 Mailbox full", status="4.2.2")
    return s.trace


def test_recipients_that_part_get_a_table_each() -> None:
    text = render(FollowView(two_recipients(Kind.MAIL_DEFERRED), "<m@x>"), 100)
    assert "→ a@y" in text and "→ b@y" in text
    assert "deferred, attempt 1: 452 4.2.2 Mailbox full" in text
    assert "End to end, b@y: in flight" in text


def test_recipients_that_travel_together_share_a_table() -> None:
    text = render(FollowView(two_recipients(Kind.MAIL_DELIVERED), "<m@x>"), 100)
    assert "→" not in text
    assert "a@y: delivered into the mailbox a@y" in text
    assert "b@y: delivered into the mailbox b@y" in text
    assert "End to end, b@y: delivered after 2.000 s" in text
