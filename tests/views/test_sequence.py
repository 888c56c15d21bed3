"""The sequence diagram: lifelines, arrows and notes, summarised, at fixed widths."""

from __future__ import annotations

import io
from typing import Any

import pytest
from rich.cells import cell_len
from rich.console import Console, RenderableType
from rich.jupyter import JupyterMixin
from synthetic import payload

from simulator.simulation import Simulation
from simulator.trace import Kind, Trace, TraceRecord
from simulator.views.sequence import SequenceView
from simulator.views.steps import DNS, StepKind, sequence_steps

WIDTHS = (80, 100, 120, 160)
SCENARIOS = ("01-first-email", "02-unknown-user")
MESSAGE = "<1c5e9fb100889776@example.org>"


def render(view: RenderableType, width: int) -> list[str]:
    out = io.StringIO()
    Console(file=out, width=width, color_system=None).print(view)
    return out.getvalue().splitlines()


@pytest.fixture(scope="module")
def traces() -> dict[str, tuple[TraceRecord, ...]]:
    runs = {}
    for name in SCENARIOS:
        simulation = Simulation.load(name)
        simulation.run()
        runs[name] = simulation.trace.records
    return runs


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("name", SCENARIOS)
def test_no_line_is_wider_than_the_console(traces: Any, name: str, width: int) -> None:
    lines = render(SequenceView(traces[name]), width)
    assert lines
    assert max(cell_len(line) for line in lines) <= width


@pytest.mark.parametrize("width", WIDTHS)
def test_the_550_reply_is_an_arrow_back_to_the_sender(traces: Any, width: int) -> None:
    lines = render(SequenceView(traces["02-unknown-user"]), width)
    at = next(i for i, line in enumerate(lines) if "550 5.1.1" in line)
    arrow = next(line for line in lines[at:at + 4] if "◄" in line)
    # from mail.example.net (the rightmost column) back to mail.example.org
    assert arrow.rstrip().endswith("┤")
    assert arrow.index("◄") < arrow.rindex("┤")


def lines_after(records: Any, session: str, opener: str) -> tuple[str, int]:
    """The line that opens a multi-line unit, and how many lines follow it up to the "."."""
    texts = [r.text for r in records if r.kind is Kind.LINE and r.session == session]
    start = next(i for i, text in enumerate(texts) if text.startswith(opener))
    end = texts.index(".", start + 1)
    return texts[start], end - start - 1


@pytest.mark.parametrize("width", WIDTHS)
def test_first_email_reads_as_a_summary(traces: Any, width: int) -> None:
    records = traces["01-first-email"]
    text = "\n".join(render(SequenceView(records), width))
    _, submitted = lines_after(records, "s1", "354")
    _, relayed = lines_after(records, "s2", "354")
    _, handed = lines_after(records, "s3", "354 OK")  # LMTP to the MDA on the same host
    download = next(r.session for r in records if r.text == "+OK 828 octets")
    retr, retrieved = lines_after(records, str(download), "+OK 828 octets")
    capabilities = sum(1 for r in records if r.session == "s1" and r.text.startswith("250-"))
    for words in (
        "EHLO alice-pc",
        f"250-mail.example.org (+{capabilities} lines)",  # EHLO's reply, one arrow
        f"message ({submitted} lines)",  # the body alice's client sent after 354
        f"message ({relayed} lines)",  # the same body, with a Received: header, relayed
        f"↻ message ({handed} lines)",  # handed to the MDA on a loopback connection
        "→:24 LHLO mail.example.net",  # the loopback LMTP: one lifeline, the port apart
        "MX? example.net",
        "10 mail.example.net",
        "queued as F6B646BF40",
        "delivered to mailbox bob@example.net",
        f"{retr} + message ({retrieved} lines)",  # RETR
        "+OK (1 0000000100000001)",  # UIDL's listing: UID 1, UIDVALIDITY 1 (%08Xu%08Xv)
    ):
        assert words in text, words
    assert relayed == submitted + 3  # the Received: header added by mail.example.org
    assert handed == relayed + 3  # and the one mail.example.net added
    assert text.count("POP3 check: no new mail") == 3  # alice twice, bob once
    assert "Subject: Hello Bob" not in text


def test_header_names_every_column_in_order_of_appearance(traces: Any) -> None:
    view = SequenceView(traces["01-first-email"])
    assert view.hosts == ["alice-pc", "mail.example.org", DNS, "mail.example.net", "bob-pc"]
    header = "\n".join(render(view, 160)[:2])
    for host in view.hosts:
        assert host in header


def test_names_are_staggered_then_abbreviated_when_columns_are_narrow(traces: Any) -> None:
    staggered = render(SequenceView(traces["01-first-email"]), 80)[:2]
    assert "mail.example.org" in staggered[1] and "alice-pc" in staggered[0]
    abbreviated = render(SequenceView(traces["01-first-email"]), 50)[:2]
    assert "mail.e.org" in abbreviated[1]


def test_full_shows_every_line(traces: Any) -> None:
    text = "\n".join(render(SequenceView(traces["01-first-email"], full=True), 120))
    assert "Subject: Hello Bob" in text
    assert "message (" not in text
    assert "250-AUTH PLAIN" in text


def test_compact_off_keeps_empty_checks(traces: Any) -> None:
    text = "\n".join(render(SequenceView(traces["01-first-email"], compact=False), 120))
    assert "POP3 check" not in text
    assert "+OK 0 0" in text


def test_protocol_filter(traces: Any) -> None:
    view = SequenceView(traces["01-first-email"], protocols=["smtp"])
    assert DNS not in view.hosts
    assert all(not step.is_note for step in view.steps)
    assert {step.kind for step in view.steps} == {StepKind.COMMAND, StepKind.REPLY}


def test_one_protocol_may_be_given_as_a_string(traces: Any) -> None:
    view = SequenceView(traces["01-first-email"], protocols="dns")
    assert view.hosts == ["mail.example.org", DNS]


def test_session_filter(traces: Any) -> None:
    view = SequenceView(traces["01-first-email"], session="s2")
    assert view.hosts == ["mail.example.org", "mail.example.net"]


def test_hosts_pick_the_columns(traces: Any) -> None:
    view = SequenceView(traces["01-first-email"], hosts=["mail.example.org", "mail.example.net"])
    assert view.hosts == ["mail.example.org", "mail.example.net", DNS]
    assert all({s.source, s.target} <= {*view.hosts, None} for s in view.steps)


def test_message_filter_takes_whole_sessions_and_the_download(traces: Any) -> None:
    view = SequenceView(traces["01-first-email"], message=MESSAGE)
    labels = [step.label for step in view.steps]
    assert "220 mail.example.org ESMTP Postfix" in labels  # a reply of its session
    assert "RETR 1" in labels  # bob's download
    assert "MX? example.net" in labels  # the lookup made while it was queued
    assert "POP3 check: no new mail" not in labels  # alice's empty checks are not about it


def test_empty_view() -> None:
    view = SequenceView([])
    assert isinstance(view, JupyterMixin)
    assert render(view, 80) == ["(no steps to draw)"]


class Scribe:
    """A synthetic trace, one record at a given time."""

    def __init__(self) -> None:
        self.now = 0.0
        self.trace = Trace(clock=lambda: self.now)

    def at(self, time: float, kind: Kind, host: str, text: str = "", **data: Any) -> None:
        self.now = time
        keys = {k: data.pop(k) for k in ("peer", "protocol", "session", "message") if k in data}
        self.trace.emit(kind, host, text, payload(kind, **data), **keys)

    def line(self, time: float, sender: str, receiver: str, text: str, role: str,
             protocol: str = "smtp") -> None:
        self.at(time, Kind.LINE, sender, text, peer=receiver, protocol=protocol, session="s1",
                role=role)


def test_a_body_cut_short_and_a_long_listing() -> None:
    s = Scribe()
    s.line(1.0, "pc", "mx", "UIDL", "client", "pop3")
    s.line(1.1, "mx", "pc", "+OK", "server", "pop3")
    for number in range(1, 6):
        s.line(1.1, "mx", "pc", f"{number} 0000000{number}", "server", "pop3")
    s.line(1.1, "mx", "pc", ".", "server", "pop3")
    s.line(2.0, "pc", "mx", "RETR 1", "client", "pop3")
    s.line(2.1, "mx", "pc", "+OK 30 octets", "server", "pop3")
    s.line(2.1, "mx", "pc", "Subject: hi", "server", "pop3")
    labels = [step.label for step in sequence_steps(s.trace)]
    assert labels == [
        "UIDL",
        "+OK (1 00000001, 2 00000002, … 5 lines)",
        "RETR 1",
        "+OK 30 octets + message (1 line, cut short)",
    ]


def test_dns_failure_and_refused_connection() -> None:
    s = Scribe()
    s.at(1.0, Kind.DNS_QUERY, "mta", qname="nowhere.example", qtype="MX")
    s.at(1.1, Kind.DNS_ANSWER, "mta", qname="nowhere.example", qtype="MX", rcode="NXDOMAIN",
         answers=[])
    s.at(2.0, Kind.TCP_REFUSED, "mta", peer="mx", port=25, reason="timed out")
    steps = sequence_steps(s.trace)
    assert [(step.kind, step.label) for step in steps] == [
        (StepKind.QUERY, "MX? nowhere.example"),
        (StepKind.ANSWER, "NXDOMAIN"),
        (StepKind.REFUSED, "TCP connect :25 timed out"),
    ]
    assert steps[1].source == DNS and steps[1].target == "mta"


@pytest.mark.parametrize("width", WIDTHS)
def test_wide_characters_and_many_hosts_stay_in_width(width: int) -> None:
    s = Scribe()
    s.at(0.5, Kind.MAIL_COMPOSED, "pc", message="<1@x>", to=["b@y"], subject="日本語のメール" * 9,
         origin="user", **{"from": "a@x"})
    for number in range(40):
        s.line(1.0 + number, f"host{number}.example.org", f"host{number + 1}.example.org",
               f"HELO host{number}", "client")
    lines = render(SequenceView(s.trace), width)
    assert max(cell_len(line) for line in lines) <= width
