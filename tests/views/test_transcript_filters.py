"""Filters: one message with both sides of its dialogues, one host, one session."""

from __future__ import annotations

import io
from functools import cache

from rich.console import Console, RenderableType

from simulator.simulation import Simulation
from simulator.trace import Kind, TraceRecord
from simulator.views import DialogueView, LivePrinter, RecordFilter


@cache
def records(name: str) -> tuple[TraceRecord, ...]:
    simulation = Simulation.load(name)
    simulation.run()
    return simulation.trace.records


def composed(name: str, origin: str = "user") -> str:
    (record,) = [r for r in records(name)
                 if r.kind is Kind.MAIL_COMPOSED and r.data["origin"] == origin]
    assert record.message
    return record.message


def render(renderable: RenderableType, width: int = 160) -> str:
    console = Console(file=io.StringIO(), width=width, force_terminal=False)
    console.print(renderable)
    return console.file.getvalue()  # type: ignore[attr-defined]


def test_server_replies_carry_the_message_they_answer() -> None:
    message = composed("02-unknown-user")
    (rejection,) = [r for r in records("02-unknown-user") if r.text.startswith("550 5.1.1")]
    assert rejection.data["role"] == "server"
    assert rejection.message == message


def test_following_a_message_shows_both_sides_and_its_bounce() -> None:
    view = DialogueView(records("02-unknown-user"), message=composed("02-unknown-user"))
    out = render(view)
    assert "RCPT TO:<bbo@example.net>" in out
    assert "550 5.1.1 <bbo@example.net>: Recipient address rejected" in out  # the server's side
    assert "220 mail.example.net ESMTP Postfix" in out  # the session's untagged lines too
    assert "connect to port 25" in out and "close" in out  # and its TCP records
    assert "composed: bounce of" in out  # the bounce composed for it ...
    assert "to=<alice@example.org>, status=delivered" in out  # ... delivered by the MDA
    assert "LHLO mail.example.org" in out  # ... after the hand-off over LMTP
    assert "RETR 1" in out and "Status: 5.1.1" in out  # ... and downloaded
    assert "no new mail" not in out  # the empty check at 4 minutes is another story


def test_following_a_message_leaves_other_sessions_out() -> None:
    message = composed("01-first-email")
    view = DialogueView(records("01-first-email"), message=message)
    sessions = {r.session for r in view.records if r.session}
    # submission, relay, the LMTP hand-off to the MDA, bob's download (s4: alice's check)
    assert sessions == {"s1", "s2", "s3", "s5"}
    assert all(r.message in (None, message) for r in view.records)


def test_the_live_printer_follows_a_message_like_the_view() -> None:
    message = composed("02-unknown-user")
    console = Console(file=io.StringIO(), width=160, force_terminal=False)
    printer = LivePrinter(console, message=message)
    for record in records("02-unknown-user"):
        printer(record)
    live = console.file.getvalue()  # type: ignore[attr-defined]
    assert live == render(DialogueView(records("02-unknown-user"), message=message))


def test_a_host_filter_matches_either_end() -> None:
    view = DialogueView(records("01-first-email"), host="bob-pc")
    assert view.records
    assert all("bob-pc" in (r.host, r.peer) for r in view.records)
    out = render(view)
    assert "+OK Dovecot ready." in out  # the server's lines to bob-pc
    assert 'downloaded "Hello Bob"' in out


def test_a_session_filter_keeps_one_dialogue() -> None:
    view = DialogueView(records("02-unknown-user"), session="s2")
    assert {r.session for r in view.records} == {"s2"}
    assert "550 5.1.1" in render(view)


def test_protocol_and_host_filters_combine() -> None:
    view = DialogueView(records("01-first-email"), protocols=["dns"], host="mail.example.org")
    assert [r.kind for r in view.records] == [Kind.DNS_QUERY, Kind.DNS_ANSWER] * 2


def test_a_filter_judges_one_record() -> None:
    record = next(r for r in records("01-first-email") if r.text == "EHLO alice-pc")
    assert RecordFilter(host="MAIL.example.org")(record)
    assert not RecordFilter(host="bob-pc")(record)
    assert RecordFilter.of(protocols=["SMTP"], host="alice-pc")(record)
    assert not RecordFilter(message="<other@x>")(record)
