"""Narration: the plain words under each record, checked against the bundled scenarios.

Each key step a student must understand gets words that are true to RFC
5321 / 1939 / 3463 / 3464 and to Postfix; body lines get none; the words
only depend on the trace, so the same trace always reads the same.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from rich.console import Console
from rich.text import Text

from simulator import catalog
from simulator.narration import NarrationContext, Narrator, narrate, narration_text
from simulator.scenario import validate_scenario
from simulator.simulation import Simulation
from simulator.trace import Kind, TraceRecord
from simulator.trace_data import DnsAnswer, ProtocolLine

Explained = list[tuple[TraceRecord, str | None]]


def run(source: str | Path | dict[str, Any]) -> Simulation:
    if isinstance(source, dict):
        simulation = Simulation(validate_scenario(source, source="<test>"))
    else:
        simulation = Simulation.load(source)
    simulation.run()
    simulation.finish()
    return simulation


def explained(simulation: Simulation) -> Explained:
    narrator = Narrator()
    return [(record, narrator.explain(record)) for record in simulation.trace]


@pytest.fixture(scope="module")
def first_email() -> Explained:
    return explained(run("01-first-email"))


@pytest.fixture(scope="module")
def unknown_user() -> Explained:
    return explained(run("02-unknown-user"))


def words_for(records: Explained, kind: Kind, start: str = "", **data: Any) -> list[str]:
    """The narration of records of `kind` whose text starts with `start` and data match."""
    return [
        words or ""
        for record, words in records
        if record.kind is kind and record.text.startswith(start)
        and all(record.data.get(key) == value for key, value in data.items())
    ]


def the(items: list[str]) -> str:
    assert items, "no such record"
    return items[0]


# -- DNS ------------------------------------------------------------------------------


def test_mx_answer_names_the_lowest_preference_and_its_host(unknown_user: Explained) -> None:
    words = the(words_for(unknown_user, Kind.DNS_ANSWER, qtype="MX"))
    assert "lowest" in words and "10" in words and "mail.example.net" in words
    assert "where the mail goes" in words


def mx_answer(*answers: str, rcode: str = "NOERROR") -> TraceRecord:
    data = DnsAnswer(qname="example.net", qtype="MX", rcode=rcode, answers=answers)
    return TraceRecord(0, 1.0, Kind.DNS_ANSWER, "mail.example.org", protocol="dns", payload=data)


def test_several_mx_records_read_lowest_first_whatever_their_order() -> None:
    words = narrate(mx_answer("20 backup.example.net", "10 mail.example.net"),
                    NarrationContext())
    assert words is not None
    assert "the lowest, 10, is mail.example.net" in words
    assert "backup.example.net (20) only if it cannot be reached" in words


def test_equal_preferences_are_picked_at_random() -> None:
    words = narrate(mx_answer("10 a.example.net", "10 b.example.net"), NarrationContext())
    assert words is not None and "random" in words and "a.example.net and b.example.net" in words


def test_no_mx_means_the_implicit_mx_and_nxdomain_bounces() -> None:
    assert "implicit MX" in (narrate(mx_answer(), NarrationContext()) or "")
    assert "permanent" in (narrate(mx_answer(rcode="NXDOMAIN"), NarrationContext()) or "")


def test_the_address_lookup_follows_the_mx_just_found(unknown_user: Explained) -> None:
    assert "the mail exchanger it picked" in the(words_for(unknown_user, Kind.DNS_QUERY,
                                                           qtype="A"))
    assert "port 25" in the(words_for(unknown_user, Kind.DNS_ANSWER, qtype="A"))


# -- SMTP --------------------------------------------------------------------------------


def test_tcp_connect_tells_the_port_and_the_round_trip(unknown_user: Explained) -> None:
    words = the(words_for(unknown_user, Kind.TCP_CONNECT, port=587))
    assert "submission" in words and "RFC 6409" in words
    assert "round trip, 22.0 ms" in words


def test_ehlo_extensions_are_explained_one_by_one(first_email: Explained) -> None:
    assert "largest message" in the(words_for(first_email, Kind.LINE, "250-SIZE"))
    assert "RFC 4954" in the(words_for(first_email, Kind.LINE, "250-AUTH"))
    assert "RFC 6152" in the(words_for(first_email, Kind.LINE, "250 8BITMIME"))


def test_auth_plain_is_readable_by_anyone_on_the_path(first_email: Explained) -> None:
    words = the(words_for(first_email, Kind.LINE, "AUTH PLAIN"))
    assert "base64" in words and "not encrypted" in words
    assert "alice@example.org" in words and "wonderland" in words  # decoded, as a sniffer would


def test_mail_from_is_the_envelope_sender_not_the_from_header(first_email: Explained) -> None:
    assert "envelope sender" in the(words_for(first_email, Kind.LINE, "MAIL FROM:"))
    assert "envelope sender too" in the(words_for(first_email, Kind.LINE, "From: alice"))


def test_data_354_and_the_final_dot(first_email: Explained) -> None:
    assert "single dot" in the(words_for(first_email, Kind.LINE, "354 "))
    final_dots = [w or "" for r, w in first_email if r.text == "." and r.protocol == "smtp"]
    assert "<CRLF>.<CRLF>" in the(final_dots)
    assert "dot-stuffing" in the(words_for(first_email, Kind.LINE, "..A line"))


def test_received_header_is_prepended_by_the_relaying_mta(first_email: Explained) -> None:
    relayed = [w for r, w in first_email if r.text.startswith("Received:") and r.data.get(
        "port") == 25]
    assert relayed[0] and "mail.example.org put this trace header on top" in relayed[0]


def test_queued_reply_hands_ownership_over(unknown_user: Explained) -> None:
    words = the(words_for(unknown_user, Kind.LINE, "250 2.0.0 Ok: queued as"))
    assert "F6B646BF40" in words  # from the queue record, not parsed out of the reply
    assert "owns it and must not lose it" in words and "RFC 5321 §6.1" in words


def test_550_at_rcpt_is_permanent_no_retry_and_a_bounce(unknown_user: Explained) -> None:
    words = the(words_for(unknown_user, Kind.LINE, "550 5.1.1"))
    assert "permanent (5yz)" in words and "will not retry" in words
    assert "bounce to the sender, alice@example.org" in words
    assert "bad destination mailbox address" in words  # RFC 3463 X.1.1


def test_bounce_record_says_permanent_and_who_gets_the_dsn(unknown_user: Explained) -> None:
    words = the(words_for(unknown_user, Kind.MAIL_BOUNCED))
    assert words.startswith("550 5.1.1") and "permanent (5yz)" in words
    assert "will not retry" in words and "RFC 3464" in words and "alice@example.org" in words
    composed = the(words_for(unknown_user, Kind.MAIL_COMPOSED, origin="bounce"))
    assert "null sender <>" in composed


def test_delivery_adds_return_path_and_delivered_to(first_email: Explained) -> None:
    words = the(words_for(first_email, Kind.MAIL_DELIVERED))
    assert "Return-Path: <alice@example.org>" in words
    assert "Delivered-To: bob@example.net" in words and "2 Received: headers" in words


def test_the_dsn_fields_are_explained(unknown_user: Explained) -> None:
    assert "bounce" in the(words_for(unknown_user, Kind.LINE, "Return-Path: <>"))
    assert "delivery status notification" in the(words_for(unknown_user, Kind.LINE,
                                                           "Content-Type: multipart/report"))
    assert "failed for good" in the(words_for(unknown_user, Kind.LINE, "Action: failed"))
    assert "bad destination mailbox address" in the(words_for(unknown_user, Kind.LINE,
                                                              "Status: 5.1.1"))


def line(text: str, role: str, port: int = 25, session: str = "s1") -> TraceRecord:
    host, peer = ("a.example", "b.example") if role == "client" else ("b.example", "a.example")
    return TraceRecord(0, 0.0, Kind.LINE, host, text, peer=peer, protocol="smtp",
                       session=session, payload=ProtocolLine(role=role, port=port))


def dialogue(*lines: tuple[str, str], port: int = 25) -> list[str | None]:
    narrator = Narrator()
    return [narrator.explain(line(text, role, port)) for role, text in lines]


def test_a_4yz_to_rcpt_keeps_the_message_for_a_later_retry() -> None:
    said = dialogue(("server", "220 b.example ESMTP"), ("client", "MAIL FROM:<x@a.example>"),
                    ("server", "250 2.1.0 Ok"), ("client", "RCPT TO:<y@b.example>"),
                    ("server", "450 4.2.0 <y@b.example>: Recipient address rejected: "
                               "Greylisted"))
    assert said[-1] is not None
    assert "temporary (4yz)" in said[-1] and "tries again later" in said[-1]


def test_a_refusal_at_submission_is_told_to_the_user_not_bounced() -> None:
    said = dialogue(("server", "220 b.example ESMTP"), ("client", "MAIL FROM:<x@a.example>"),
                    ("server", "530 5.7.0 Authentication required"), port=587)
    assert said[-1] is not None and "tells its user" in said[-1]


def test_a_bounce_that_fails_is_discarded_never_bounced() -> None:
    said = dialogue(("server", "220 b.example ESMTP"), ("client", "MAIL FROM:<>"),
                    ("server", "250 2.1.0 Ok"), ("client", "RCPT TO:<y@b.example>"),
                    ("server", "550 5.1.1 <y@b.example>: User unknown"))
    assert said[1] is not None and "null sender" in said[1]
    assert said[-1] is not None and "never bounced" in said[-1]


def test_pipelined_commands_are_answered_in_order() -> None:
    said = dialogue(("server", "220 b.example ESMTP"), ("client", "MAIL FROM:<x@a.example>"),
                    ("client", "RCPT TO:<y@b.example>"), ("client", "DATA"),
                    ("server", "250 2.1.0 Ok"), ("server", "250 2.1.5 Ok"),
                    ("server", "354 End data with <CR><LF>.<CR><LF>"))
    assert "envelope sender is accepted" in (said[4] or "")
    assert "will take mail for <y@b.example>" in (said[5] or "")
    assert "go ahead" in (said[6] or "")


def dead_mx_scenario() -> dict[str, Any]:
    """02-unknown-user with example.net's MX on a host where nothing listens on port 25."""
    data = yaml.safe_load(catalog.resolve("02-unknown-user").read_text(encoding="utf-8"))
    data["duration"] = "20m"
    data["hosts"]["dead.example.net"] = {
        "address": "203.0.113.99", "links": [{"to": "backbone", "latency": "5ms"}]}
    data["dns"]["example.net"] = [{"type": "MX", "preference": 10,
                                   "exchange": "dead.example.net"}]
    return data


def test_a_deferral_says_the_mta_will_retry_on_postfix_backoff() -> None:
    said = explained(run(dead_mx_scenario()))
    refused = the(words_for(said, Kind.TCP_REFUSED))
    assert "temporary failure" in refused and "defers" in refused
    deferrals = words_for(said, Kind.MAIL_DEFERRED)
    assert len(deferrals) >= 2
    first, second = deferrals[:2]
    assert "4.4.1 (no answer from host) is a temporary failure (4yz)" in first
    assert "tries again later" in first and "minimal_backoff_time" in first
    assert "at least 5 min" in first and "here 5 min" in first  # young: the 300 s minimum
    assert "queue_run_delay" in first
    assert "attempt 2" in second
    assert "never silently lost" in the(words_for(said, Kind.MAIL_QUEUED))


# -- POP3 --------------------------------------------------------------------------------


def test_pop3_login_stat_and_retr(unknown_user: Explained) -> None:
    assert "AUTHORIZATION" in the(words_for(unknown_user, Kind.LINE, "+OK Dovecot"))
    assert "anyone on the path" in the(words_for(unknown_user, Kind.LINE, "PASS "))
    assert "TRANSACTION" in the(words_for(unknown_user, Kind.LINE, "+OK Logged in"))
    assert "holds 1 message, 2090 octets" in the(words_for(unknown_user, Kind.LINE, "+OK 1 "))
    assert "in full" in the(words_for(unknown_user, Kind.LINE, "RETR 1"))


def test_pop3_dele_and_quit_explain_the_update_state(unknown_user: Explained) -> None:
    dele = the(words_for(unknown_user, Kind.LINE, "DELE 1"))
    assert "Nothing is deleted yet" in dele and "UPDATE" in dele and "QUIT" in dele
    after_quit = words_for(unknown_user, Kind.LINE, "+OK Logging out")
    assert "removes the 1 message marked with DELE" in after_quit[0]
    assert "nothing would have been deleted" in after_quit[0]
    assert "nothing was marked" in after_quit[1]  # the second check found an empty mailbox


def test_pop3_err_reads_the_response_code() -> None:
    narrator = Narrator()
    for text, role in (("+OK Dovecot ready.", "server"), ("USER a", "client"),
                       ("+OK", "server"), ("PASS b", "client")):
        narrator.explain(TraceRecord(0, 0.0, Kind.LINE, "h", text, protocol="pop3",
                                     session="p", payload=ProtocolLine(role=role, port=110)))
    words = narrator.explain(TraceRecord(
        0, 0.0, Kind.LINE, "h", "-ERR [IN-USE] Mailbox is locked by another session.",
        protocol="pop3", session="p", payload=ProtocolLine(role="server", port=110)))
    assert words is not None and "one session at a time" in words


# -- what stays silent, robustness, determinism ------------------------------------------------


def test_body_lines_and_closes_need_no_words(unknown_user: Explained) -> None:
    assert words_for(unknown_user, Kind.LINE, "Hi Bob, are you free") == [""]
    assert set(words_for(unknown_user, Kind.TCP_CLOSE)) == {""}
    assert words_for(unknown_user, Kind.SIM_END) == [""]


def test_sessions_are_forgotten_when_their_connections_close() -> None:
    narrator = Narrator()
    for record in run("02-unknown-user").trace:
        narrator.explain(record)
    assert narrator.context.sessions == {}


@pytest.mark.parametrize("path", catalog.bundled(), ids=lambda p: p.stem)
def test_every_record_of_every_bundled_scenario_narrates_deterministically(path: Path) -> None:
    trace = run(path).trace
    once = Narrator().explain_all(trace)
    assert once == Narrator().explain_all(trace)
    assert once == Narrator().explain_all(run(path).trace)
    assert all(words.strip() and "{" not in words and "?" not in words.split()
               for _, words in once)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["client", "server"]),
                          st.sampled_from(["smtp", "pop3"]), st.text(max_size=60)),
                max_size=30))
def test_hostile_lines_never_make_the_narrator_raise(lines: list[tuple[str, str, str]]) -> None:
    narrator = Narrator()
    for role, protocol, text in lines:
        words = narrator.explain(TraceRecord(0, 0.0, Kind.LINE, "h", text, peer="p",
                                             protocol=protocol, session="s",
                                             payload=ProtocolLine(role=role, port=25)))
        assert words is None or isinstance(words, str)


# -- on screen ----------------------------------------------------------------------------------


def test_narration_text_is_dim_cyan_italic_with_an_arrow() -> None:
    text = narration_text("250 2.0.0: done.")
    assert isinstance(text, Text)
    assert text.plain.startswith("  ↳ ") and "italic" in str(text.style)


@pytest.mark.parametrize("width", [50, 80, 120])
def test_narration_text_wraps_under_its_first_word(unknown_user: Explained, width: int) -> None:
    words = the(words_for(unknown_user, Kind.LINE, "550 5.1.1"))
    console = Console(file=io.StringIO(), width=width, color_system=None)
    console.print(narration_text(words))
    lines = console.file.getvalue().splitlines()  # type: ignore[attr-defined]
    assert len(lines) >= 2 and lines[0].startswith("  ↳ ")
    assert all(len(text) <= width for text in lines)
    assert all(text.startswith("    ") and not text.startswith("     ") for text in lines[1:])
    assert " ".join(text.strip() for text in lines).removeprefix("↳ ") == words


# -- LMTP (RFC 2033) -------------------------------------------------------------------


def test_lmtp_replies_after_the_dot_are_read_one_per_recipient() -> None:
    separate = explained(run("separate-mda"))
    assert "LHLO, LMTP's EHLO" in the(words_for(separate, Kind.LINE, "LHLO mx.example.net"))
    saved = words_for(separate, Kind.LINE, "250 2.0.0 <")
    assert "saved the message in the mailbox of <bob@example.net>" in saved[0]
    assert "saved the message in the mailbox of <carol@example.net>" in saved[1]
    assert all("RFC 2033 §4.2" in words for words in saved)


def test_a_full_mailbox_is_explained_permanent_or_temporary() -> None:
    full = explained(run("mailbox-full"))
    permanent = the(words_for(full, Kind.LINE, "552 5.2.2"))
    assert "bounces the message to <alice@example.org> now" in permanent
    assert "RFC 3463 calls a full mailbox (X.2.2) a transient condition" in permanent
    temporary = the(words_for(full, Kind.LINE, "452 4.2.2"))
    assert "quota_full_tempfail" in temporary and "tries again" in temporary
