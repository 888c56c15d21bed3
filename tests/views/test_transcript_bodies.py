"""Message bodies in the dialogue: shown once, folded when long, highlights kept."""

from __future__ import annotations

import io
import re
from functools import cache

from rich.console import Console, RenderableType

from simulator.simulation import Simulation
from simulator.trace import Kind, Trace, TraceRecord
from simulator.trace_data import ProtocolLine
from simulator.views import DialogueView
from simulator.views.collapse import BodyMemory, fold, payload_of, run_message

BODY_LINE = "this is my first e-mail through the simulator."
NEW_RECEIVED_ON_RELAY = "by mail.example.org (Postfix) with ESMTPA id"
NEW_RECEIVED_ON_DOWNLOAD = "by mail.example.net (Postfix) with ESMTP id"
AS_ABOVE = re.compile(r"\[… body as above \(\d+ lines\)\]")


@cache
def records(name: str) -> tuple[TraceRecord, ...]:
    simulation = Simulation.load(name)
    simulation.run()
    return simulation.trace.records


def render(renderable: RenderableType, width: int = 100) -> str:
    console = Console(file=io.StringIO(), width=width, force_terminal=False)
    console.print(renderable)
    return console.file.getvalue()  # type: ignore[attr-defined]


def unwrapped(out: str) -> str:
    """The rendered text with wrapped lines joined: one space between words."""
    return " ".join(out.split())


def run_of(texts: list[str], *, role: str = "client", message: str | None = "<m1@x>",
           session: str = "s1", time: float = 1.0) -> list[TraceRecord]:
    trace = Trace(clock=lambda: time)
    for text in texts:
        trace.emit(Kind.LINE, "a", text, ProtocolLine(role=role, port=25), peer="b",
                   protocol="smtp", session=session, message=message)
    return list(trace)


HEADERS = ["From: a@x", "To: b@y", "Subject: Hi", "Message-ID: <m1@x>"]


def test_the_body_is_shown_once_then_as_above() -> None:
    out = render(DialogueView(records("01-first-email")))
    assert out.count(BODY_LINE) == 1  # at submission only
    assert out.count("Subject: Hello Bob") == 1
    # relay (Received is new), hand-off to the MDA over LMTP (the relay's Received is
    # new) and download (Return-Path and Delivered-To are new)
    assert len(AS_ABOVE.findall(out)) == 3
    text = unwrapped(out)
    assert NEW_RECEIVED_ON_RELAY in text
    assert NEW_RECEIVED_ON_DOWNLOAD in text
    assert "Return-Path: <alice@example.org>" in text
    assert "Delivered-To: bob@example.net" in text


def test_each_hop_shows_only_the_headers_it_adds() -> None:
    lines = render(DialogueView(records("01-first-email")), 160).splitlines()
    # the relay's content: 10.722 before both clients pipelined MAIL, RCPT and
    # DATA (RFC 2920), now two round trips earlier at each hop:
    # 10.722 - 2 x 0.028 (submission) - 2 x 0.082 (relay) = 10.502
    relay = [line for line in lines if "+00:10.502" in line]
    last_two = [line.split(" SMTP ", 1)[1].strip() for line in relay][-2:]
    assert AS_ABOVE.fullmatch(last_two[0]) and last_two[1] == "."
    assert sum(1 for line in relay if "Received:" in line) == 1  # only the one it adds
    handoff = [line.split(" LMTP ", 1)[1] for line in lines if " LMTP " in line]
    assert sum(1 for text in handoff if text.startswith("Received:")) == 1  # mail.example.net's
    download = [line.split(" POP3 ", 1)[1] for line in lines if "+02:00.650" in line]
    assert download == [
        "+OK 828 octets", "Return-Path: <alice@example.org>", "Delivered-To: bob@example.net",
        "[… body as above (22 lines)]", ".",
    ]  # every Received: was shown at an earlier hop


def test_full_shows_every_copy() -> None:
    out = render(DialogueView(records("01-first-email"), full=True))
    assert out.count(BODY_LINE) == 4  # submission, relay, LMTP hand-off, download
    assert "as above" not in out


def test_the_message_is_known_by_its_id_not_its_text() -> None:
    first = run_of([*HEADERS, "", "same words", "."], message="<m1@x>")
    other = run_of([*HEADERS[:3], "Message-ID: <m2@x>", "", "same words", "."],
                   message="<m2@x>")
    memory = BodyMemory()
    assert memory.shape(first) == first
    assert memory.shape(other) == other  # another message, though the body is the same
    again = memory.shape(run_of(["Received: by relay", *HEADERS, "", "same words", "."]))
    assert [r.text for r in again] == [
        "Received: by relay", "[… body as above (6 lines)]", ".",
    ]


def test_an_untagged_download_is_known_by_its_message_id_field() -> None:
    pop3 = run_of(["+OK 99 octets", "Return-Path: <a@x>", *HEADERS, "", "same words", "."],
                  role="server", message=None)
    assert payload_of(pop3) is not None
    assert run_message(pop3) == "<m1@x>"
    memory = BodyMemory()
    memory.shape(run_of([*HEADERS, "", "same words", "."]))
    shown = [r.text for r in memory.shape(pop3)]
    assert shown == ["+OK 99 octets", "Return-Path: <a@x>",
                     "[… body as above (6 lines)]", "."]


def test_a_multiline_reply_is_no_message() -> None:
    uidl = run_of(["+OK", "1 00000001", "."], role="server", message=None)
    assert payload_of(uidl) is None
    assert run_message(uidl) is None


def test_highlighted_lines_stay_in_a_folded_body() -> None:
    body = [f"line {n}" for n in range(50)]
    body[20] = "the MAGIC word"
    run = run_of([*HEADERS, "", *body, "."])
    shown = [r.text for r in fold(run, keep=lambda text: "magic" in text.lower())]
    assert "the MAGIC word" in shown
    markers = [r for r in fold(run, keep=lambda t: "magic" in t.lower()) if r.data.get("elided")]
    assert [m.data["elided"] for m in markers] == [20, 29]  # the rest, counted
    assert sum(m.data["elided"] for m in markers) + len(shown) - len(markers) == len(run)
    assert "mailsim run --full shows them" in markers[0].text


def test_highlights_survive_as_above_too() -> None:
    out = render(DialogueView(records("01-first-email"), highlights=["Received:"]), 160)
    download = [line for line in out.splitlines() if "+02:00.650" in line]
    assert sum(1 for line in download if "Received:" in line) == 2
    assert sum(1 for line in download if "(Postfix) with ESMTP" in line) == 2  # whole fields


def test_a_highlighted_field_keeps_its_continuation_lines() -> None:
    body = [f"line {n}" for n in range(50)]
    body[10:12] = ["X-Note: the MAGIC word", "\tgoes on here"]
    run = run_of([*HEADERS, "", *body, "."])
    shown = [r.text for r in fold(run, keep=lambda text: "magic" in text.lower())]
    assert shown[shown.index("X-Note: the MAGIC word") + 1] == "\tgoes on here"


def test_highlighted_lines_stand_out() -> None:
    view = DialogueView(records("02-unknown-user"), highlights=["550 5.1.1"])
    console = Console(file=io.StringIO(), width=160, force_terminal=True, color_system="truecolor")
    styles = [seg.style for seg in console.render(view) if "550 5.1.1" in seg.text and seg.style]
    assert styles and all(s.bold and s.reverse and s.color and s.color.name == "yellow"
                          for s in styles)


def test_the_bounce_keeps_its_status_fields_when_folded() -> None:
    out = render(DialogueView(records("02-unknown-user")), 160)
    assert "more lines not shown" in out  # the DSN is long: it is folded
    for field in ("Final-Recipient: rfc822; bbo@example.net", "Action: failed",
                  "Status: 5.1.1", "Diagnostic-Code: smtp; 550 5.1.1 <bbo@example.net>:"):
        assert field in out
    assert "rejected: User unknown in virtual mailbox table" in out  # its continuation line


def test_a_long_plain_body_folds_to_headers_one_marker_and_the_dot() -> None:
    body = [f"line {n}" for n in range(50)]
    run = run_of([*HEADERS, "", *body, "."])
    assert len(fold(run)) == len(HEADERS) + 1 + 2
