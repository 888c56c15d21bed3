"""The bundled `eavesdropper` scenario: its lesson, asserted on the trace.

The same message reaches alice twice in a café whose Wi-Fi is tapped: over
plain POP3 (RFC 1939) from her old provider, over POP3S (RFC 8314) from
example.org.  The eavesdropper reads the password only on the plain session.
"""

from __future__ import annotations

import io

import pytest
from rich.console import Console

from simulator.fates import Fate, message_fates
from simulator.narration import Narrator
from simulator.simulation import Simulation
from simulator.trace import Kind, TraceRecord
from simulator.views.dialogue import DialogueView
from simulator.views.eavesdrop import EavesdropView, eavesdropped, secrets

OLD, NEW = "alice@oldmail.example", "alice@example.org"


@pytest.fixture(scope="module")
def records() -> tuple[TraceRecord, ...]:
    simulation = Simulation.load("eavesdropper")
    simulation.run()
    return simulation.trace.records


def first_session(records: tuple[TraceRecord, ...], port: int) -> str:
    return next(r.session or "" for r in records
                if r.kind is Kind.TCP_CONNECT and r.data["port"] == port)


def test_both_copies_arrive_and_are_fetched(records: tuple[TraceRecord, ...]) -> None:
    fates = {fate.recipient: fate.fate for fate in message_fates(records)}
    assert fates == {OLD: Fate.DELIVERED, NEW: Fate.DELIVERED}
    users = {r.data["user"] for r in records if r.kind is Kind.MAIL_FETCHED}
    assert users == {OLD, NEW}


def test_the_cafe_eavesdropper_reads_the_password_only_on_plain_pop3(
    records: tuple[TraceRecord, ...],
) -> None:
    seen = eavesdropped(records, "cafe-wifi")
    plain, secure = first_session(records, 110), first_session(records, 995)
    plain_texts = [s.text for s in seen if s.session == plain]
    assert "PASS sunshine" in plain_texts and f"USER {OLD}" in plain_texts
    assert "the meeting is at 10 in room 4." in plain_texts  # the message itself
    on_secure = [s for s in seen if s.session == secure]
    assert on_secure[0].text == "TCP connection to port 995"
    assert on_secure[1].text.startswith("TLS handshake: TLSv1.3, TLS_AES_256_GCM_SHA384")
    payload = [s for s in on_secure[2:] if s.text != "connection closed"]
    assert payload and not any(s.readable for s in payload)
    assert all(s.octets > 22 for s in payload)  # every record carries its overhead
    assert secrets(seen) == [f"user name {OLD!r}", "password 'sunshine'"]
    assert not any("wonderland" in s.text for s in seen)


def test_the_cafe_eavesdropper_sees_no_relaying(records: tuple[TraceRecord, ...]) -> None:
    """The tapped link is alice's: sessions between the providers do not cross it."""
    seen = eavesdropped(records, "cafe-wifi")
    assert {s.sender for s in seen} <= {"alice-laptop", "mail.example.org",
                                        "mail.oldmail.example"}


def test_relaying_is_opportunistic(records: tuple[TraceRecord, ...]) -> None:
    """example.org offers STARTTLS, oldmail.example does not (Postfix "may")."""
    relay = {r.peer: r.session for r in records
             if r.kind is Kind.TCP_CONNECT and r.data["port"] == 25}
    texts = {peer: [r.text for r in records if r.kind is Kind.LINE and r.session == session]
             for peer, session in relay.items()}
    assert "STARTTLS" in texts["mail.example.org"]
    assert "STARTTLS" not in texts["mail.oldmail.example"]
    seen = eavesdropped(records, "backbone-tap")
    readable = {s.text for s in seen if s.session == relay["mail.oldmail.example"]}
    assert "the meeting is at 10 in room 4." in readable
    hidden = [s for s in seen if s.session == relay["mail.example.org"] and not s.readable]
    assert hidden and "STARTTLS" in {s.text for s in seen
                                     if s.session == relay["mail.example.org"]}


def test_bobs_submission_on_465_uses_tls_1_2(records: tuple[TraceRecord, ...]) -> None:
    done = next(r for r in records if r.kind is Kind.TLS_HANDSHAKE and r.data["port"] == 465)
    assert (done.host, done.data["version"], done.data["round_trips"]) == (
        "bob-pc", "TLSv1.2", 2)
    assert done.data["implicit"] is True


def test_the_view_shows_lines_sizes_and_the_passwords(records: tuple[TraceRecord, ...]) -> None:
    out = io.StringIO()
    Console(file=out, width=120, color_system=None).print(EavesdropView(records, "cafe-wifi"))
    text = out.getvalue()
    assert "What cafe-wifi sees on link alice-laptop -- cafe-ap" in text
    assert "PASS sunshine" in text
    assert "TLS application data," in text and "bytes" in text
    assert "Read in clear: user name 'alice@oldmail.example'; password 'sunshine'." in text
    missing = io.StringIO()
    Console(file=missing, width=80, color_system=None).print(EavesdropView(records, "nsa"))
    assert "No eavesdropper called 'nsa'" in missing.getvalue()


def test_the_narration_says_what_tls_hides(records: tuple[TraceRecord, ...]) -> None:
    narrator = Narrator()
    words = {record.seq: narrator.explain(record) or "" for record in records}
    handshake = next(r for r in records if r.kind is Kind.TLS_HANDSHAKE and r.data["port"] == 995)
    assert "one round trip" in words[handshake.seq]
    assert "only the sizes and times of TLS records" in words[handshake.seq]
    plain_pass = next(r for r in records if r.kind is Kind.LINE and r.text == "PASS sunshine")
    secure_pass = next(r for r in records if r.kind is Kind.LINE and r.text == "PASS wonderland")
    assert "anyone on the path can read it" in words[plain_pass.seq]
    assert "inside TLS: only the server reads it" in words[secure_pass.seq]
    tap = next(r for r in records if r.kind is Kind.TAP)
    assert "--eavesdropper cafe-wifi" in words[tap.seq]


def test_the_python_api_shows_the_eavesdropper() -> None:
    simulation = Simulation.load("eavesdropper")
    simulation.run()
    out = io.StringIO()
    Console(file=out, width=120, color_system=None).print(simulation.eavesdrop("backbone-tap"))
    assert "What backbone-tap sees on host backbone" in out.getvalue()


@pytest.mark.parametrize("width", [80, 120])
def test_a_host_reads_the_same_in_the_transcript_and_the_eavesdropper_view(
    records: tuple[TraceRecord, ...], width: int
) -> None:
    def shown(view: object) -> str:
        out = io.StringIO()
        Console(file=out, width=width, color_system=None).print(view)
        return out.getvalue()

    eavesdropper = shown(EavesdropView(records, "backbone-tap"))
    transcript = shown(DialogueView(records))
    for form in ("mail.oldmail.example ", "mail.o.example ", "mail.…mple "):
        assert (form in eavesdropper) == (form in transcript), form
