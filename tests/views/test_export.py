"""Exports: Mermaid sequence and state diagrams, and views as SVG, HTML or text."""

from __future__ import annotations

import re
from enum import Enum
from typing import Any

import pytest

from simulator.protocols import pop3, smtp
from simulator.simulation import Simulation
from simulator.trace import TraceRecord
from simulator.views.export import (
    mermaid_text,
    participant_id,
    record_console,
    sequence_mermaid,
    states_mermaid,
)
from simulator.views.sequence import SequenceView
from simulator.views.topology import TopologyView

PARTICIPANT = re.compile(r"^    participant (H_\w+) as (\S+)$")
ARROW = re.compile(r"^    (H_\w+)(->>|-->>|-x)(H_\w+): (\S.*)$")
NOTE = re.compile(r"^    Note over (H_\w+)(?:,(H_\w+))?: (\S.*)$")
EDGE = re.compile(r"^    (\[\*\]|\w+) --> (\[\*\]|\w+)(?: : (\S.*))?$")
ENTITY = re.compile(r"#\w+;")
DECODED = {"#lt;": "<", "#gt;": ">", "#59;": ";", "#35;": "#", "#58;": ":", "#37;": "%",
           "#amp;": "&", "#quot;": '"'}
TABLES = [
    ("SMTP server (RFC 5321)", smtp.TRANSITIONS),
    ("POP3 server (RFC 1939)", pop3.TRANSITIONS),
]


def decode(label: str) -> str:
    return ENTITY.sub(lambda match: DECODED[match.group(0)], label)


@pytest.fixture(scope="module")
def traces() -> dict[str, tuple[TraceRecord, ...]]:
    runs = {}
    for name in ("01-first-email", "02-unknown-user"):
        simulation = Simulation.load(name)
        simulation.run()
        runs[name] = simulation.trace.records
    return runs


@pytest.mark.parametrize("name", ["01-first-email", "02-unknown-user"])
def test_sequence_structure(traces: Any, name: str) -> None:
    lines = sequence_mermaid(traces[name]).splitlines()
    assert lines[0] == "sequenceDiagram"
    declared = {}
    body = []
    for line in lines[1:]:
        match = PARTICIPANT.match(line)
        if match:
            assert not body, "participants come first"
            declared[match.group(1)] = match.group(2)
        else:
            body.append(line)
    assert declared == {participant_id(host): host for host in SequenceView(traces[name]).hosts}
    for line in body:
        match = ARROW.match(line) or NOTE.match(line)
        assert match, line
        ends = [group for group in match.groups()[:-1] if group and group.startswith("H_")]
        assert set(ends) <= set(declared), line
        label = match.groups()[-1]
        assert not set(ENTITY.sub("", label)) & set("#;<>%\n"), label


def test_sequence_arrows_and_notes(traces: Any) -> None:
    text = sequence_mermaid(traces["02-unknown-user"])
    org, net = participant_id("mail.example.org"), participant_id("mail.example.net")
    rejected = next(line for line in text.splitlines() if "550 5.1.1" in line)
    # Both clients pipeline MAIL, RCPT and DATA (RFC 2920), two round trips fewer
    # each: submission 2 x 22 ms (alice-pc 10 ms + mail.example.org 1 ms, each way),
    # so queued at 10.165 - 0.044 = 10.121; the relay another 2 x 82 ms
    # (1 ms + 40 ms each way) but one of them only before RCPT: RCPT arrives at
    # 10.513 - 0.044 - 0.082 = 10.387, its 550 41 ms later at 10.428.
    assert rejected.startswith(f"    {net}-->>{org}: +00:10.428 550 5.1.1 #lt;bbo@example.net#gt;")
    assert f"    {org}->>{net}: +00:10.387 RCPT TO:#lt;bbo@example.net#gt;" in text
    assert f"    Note over {org}: +00:10.121 queued as F6B646BF40" in text
    assert f"    {org}->>H_DNS: +00:10.121 MX? example.net" in text


def test_sequence_filters_and_times(traces: Any) -> None:
    text = sequence_mermaid(traces["01-first-email"], ["mail.example.org", "mail.example.net"],
                            protocols=["smtp"], times=False)
    assert text.splitlines()[1:3] == [
        "    participant H_mail_example_org as mail.example.org",
        "    participant H_mail_example_net as mail.example.net",
    ]
    assert "    H_mail_example_org->>H_mail_example_net: EHLO mail.example.org" in text
    assert "H_alice_pc" not in text and "H_DNS" not in text and "Note" not in text


def test_mermaid_text_codes_what_labels_cannot_hold() -> None:
    assert mermaid_text("a;b #1 <x> 100% & \"q\"") == (
        "a#59;b #35;1 #lt;x#gt; 100#37; #amp; #quot;q#quot;"
    )
    assert mermaid_text("MAIL FROM:<a@b>") == "MAIL FROM:#lt;a@b#gt;"
    assert mermaid_text("a:b", colon=True) == "a#58;b"
    assert mermaid_text("two\r\nlines\x1b") == "two lines␛"


def test_participant_ids_are_safe_and_unique() -> None:
    assert participant_id("end") == "H_end"
    assert participant_id("alice-pc") == "H_alice_pc"
    assert participant_id("a.b", ["H_a_b"]) == "H_a_b_2"


@pytest.mark.parametrize(("title", "table"), TABLES)
def test_state_diagram_has_every_transition(title: str, table: Any) -> None:
    text = states_mermaid(title, table)
    lines = text.splitlines()
    assert lines[:2] == ["stateDiagram-v2", f"    accTitle: {title}"]
    edges: dict[tuple[str, str], set[str]] = {}
    for line in lines[2:]:
        if line.strip().startswith("note "):
            continue
        match = EDGE.match(line)
        assert match, line
        label = match.group(3) or ""
        assert not set(ENTITY.sub("", label)) & set("#;:<>%"), line
        edges[(match.group(1), match.group(2))] = {c.strip() for c in decode(label).split(",")}
    for state, moves in table.items():
        for command, target in moves.items():
            assert str(command.value) in edges[(state.name, target.name)], (state, command)
    first = next(iter(table))
    assert ("[*]", first.name) in edges
    assert ("CLOSED", "[*]") in edges


def test_smtp_state_without_commands_gets_a_note() -> None:
    text = states_mermaid("SMTP", smtp.TRANSITIONS)
    assert "    note right of CONNECTED : no command leaves this state" in text
    assert "    DATA --> READY : #lt;CRLF#gt;.#lt;CRLF#gt;" in text


def test_state_ids_avoid_keywords() -> None:
    class Odd(Enum):
        DEFAULT = "default"
        END_NOTE = "x"

    class Go(Enum):
        GO = "go: now"

    table = {Odd.DEFAULT: {Go.GO: Odd.END_NOTE}, Odd.END_NOTE: {}}
    text = states_mermaid("a title; #1", table)
    assert "    accTitle: a title#59; #35;1" in text
    assert "    S_DEFAULT --> END_NOTE : go#58; now" in text
    assert "    END_NOTE --> [*]" in text


def test_record_console_formats(traces: Any) -> None:
    view = SequenceView(traces["01-first-email"])
    text = record_console(view, 80, "txt")
    assert "\x1b" not in text
    assert max(len(line) for line in text.splitlines()) <= 80
    assert "EHLO alice-pc" in text
    svg = record_console(view, 100, "svg", title="01-first-email")
    assert svg.startswith("<svg") and "01-first-email" in svg
    html = record_console(TopologyView(Simulation.load("01-first-email").scenario), 80, "html")
    assert html.lstrip().lower().startswith("<!doctype html>")
    assert "alice-pc" in html


def test_record_console_rejects_unknown_formats(traces: Any) -> None:
    with pytest.raises(ValueError, match="expected one of svg, html, txt"):
        record_console(SequenceView(traces["01-first-email"]), 80, "png")


def test_the_export_text_has_no_trailing_blanks() -> None:
    import simulator
    from simulator.views import FollowView, record_console

    text = record_console(FollowView(simulator.run("01-first-email").trace,
                                     "<1c5e9fb100889776@example.org>"), 80, "txt")
    assert "Hello Bob" in text and all(line == line.rstrip() for line in text.splitlines())
