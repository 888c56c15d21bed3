"""The dialogue view: records as lines, at 80 and 120 columns."""

from __future__ import annotations

import io
import re
from typing import Any

import pytest
from rich.console import Console, RenderableType
from rich.jupyter import JupyterMixin
from rich.style import Style
from synthetic import payload

from simulator.trace import Kind, Trace, TraceRecord
from simulator.views import (
    DialogueView,
    LivePrinter,
    abbreviate_host,
    format_clock,
    format_record,
)

MUA, MSA, MX = "alice-pc", "mail.example.org", "mail.example.net"
M1 = "<1.alice@example.org>"
DSN = "<b1.mail@example.net>"
CAPABILITIES = "250 SIZE 10240000 PIPELINING 8BITMIME ENHANCEDSTATUSCODES SMTPUTF8 DSN CHUNKING"
LONG_HEADER = "X-Long: " + " ".join(f"word{n:02d}" for n in range(40))
REJECTED = "550 5.1.1 <nobody@example.net>: Recipient address rejected: User unknown"
CLOCK = re.compile(r"^ *\+(\d+:)?\d\d:\d\d\.\d{3} ")


class Scribe:
    """Writes a synthetic trace, one record at a given simulated time."""

    def __init__(self) -> None:
        self.now = 0.0
        self.trace = Trace(clock=lambda: self.now)

    def at(self, time: float, kind: Kind, host: str, text: str = "", **fields: Any) -> None:
        self.now = time
        keywords = {
            k: fields.pop(k) for k in ("peer", "protocol", "session", "message") if k in fields
        }
        self.trace.emit(kind, host, text, payload(kind, **fields), **keywords)

    def line(self, time: float, sender: str, receiver: str, text: str, **fields: Any) -> None:
        role = "server" if sender in (MSA, MX) else "client"
        fields = {"protocol": "smtp", "session": "s1", "port": 587, **fields}
        self.at(time, Kind.LINE, sender, text, peer=receiver, role=role, **fields)


def session_trace() -> Trace:
    """Alice sends one message: SMTP, DNS, relay, delivery, a bounce, POP3."""
    s = Scribe()
    s.at(0.0, Kind.SIM_START, "sim", "two-domains", seed=7, duration=600)
    to = ["bob@example.net", "nobody@example.net"]
    sender = {"from": "alice@example.org"}
    s.at(0.2, Kind.MAIL_COMPOSED, MUA, message=M1, to=to, subject="Hello", origin="user", **sender)
    s.at(0.25, Kind.TCP_CONNECT, MUA, peer=MSA, protocol="smtp", session="s1", port=587)
    s.line(0.254, MSA, MUA, "220 mail.example.org ESMTP Postfix")
    s.line(0.256, MUA, MSA, "EHLO alice-pc")
    s.line(0.258, MSA, MUA, CAPABILITIES)
    s.line(0.26, MUA, MSA, "MAIL FROM:<alice@example.org>", message=M1)
    s.line(0.27, MUA, MSA, LONG_HEADER, message=M1)
    s.at(0.3, Kind.QUEUE_ENTER, MSA, message=M1, queue_id="4F2A1B3C9D", to=to)
    s.at(0.31, Kind.DNS_QUERY, MSA, qname="example.net", qtype="MX")
    s.at(
        0.32,
        Kind.DNS_ANSWER,
        MSA,
        qname="example.net",
        qtype="MX",
        rcode="NOERROR",
        answers=["10 mail.example.net"],
    )
    s.at(
        0.6,
        Kind.MAIL_RELAYED,
        MSA,
        message=M1,
        queue_id="4F2A1B3C9D",
        recipient="bob@example.net",
        relay=MX,
        reply="250 2.0.0 Ok: queued as 7B3C",
    )
    s.at(
        0.9,
        Kind.MAIL_DELIVERED,
        MX,
        message=M1,
        recipient="bob@example.net",
        mailbox="bob@example.net",
        hops=2,
    )
    s.at(
        0.95,
        Kind.MAIL_BOUNCED,
        MX,
        message=M1,
        recipient="nobody@example.net",
        status="5.1.1",
        reply=REJECTED,
        bounce_id=DSN,
    )
    s.at(
        0.96,
        Kind.MAIL_COMPOSED,
        MX,
        message=DSN,
        to=["alice@example.org"],
        subject="Undelivered Mail Returned to Sender",
        origin="bounce",
        original=M1,
    )
    s.at(1.0, Kind.NOTE, "narrator", "Bob checks his mail.")
    s.line(2.0, MX, "bob-pc", "+OK POP3 server ready", protocol="pop3", session="s2", port=110)
    s.line(2.01, "bob-pc", MX, "USER bob", protocol="pop3", session="s2", port=110)
    return s.trace


@pytest.fixture(scope="module")
def trace() -> Trace:
    return session_trace()


def render(renderable: RenderableType, width: int) -> str:
    console = Console(file=io.StringIO(), width=width, color_system=None, force_terminal=False)
    console.print(renderable)
    return console.file.getvalue()  # type: ignore[attr-defined]


def colour_console(width: int = 120) -> Console:
    return Console(file=io.StringIO(), width=width, force_terminal=True, color_system="truecolor")


def styles_of(renderable: RenderableType, text: str) -> list[Style]:
    """The styles of the rendered segments that contain `text`."""
    console = colour_console()
    return [seg.style for seg in console.render(renderable) if text in seg.text and seg.style]


def one(trace: Trace, kind: Kind, index: int = 0) -> TraceRecord:
    return trace.of_kind(kind)[index]


@pytest.mark.parametrize(
    ("seconds", "clock"),
    [
        (0.0, "+00:00.000"),
        (1.25, "+00:01.250"),
        (61.5, "+01:01.500"),
        (59.9996, "+01:00.000"),
        (3599.999, "+59:59.999"),
        (3725.25, "+1:02:05.250"),
        (36000.0, "+10:00:00.000"),
    ],
)
def test_format_clock(seconds: float, clock: str) -> None:
    assert format_clock(seconds) == clock


@pytest.mark.parametrize(
    ("name", "width", "short"),
    [
        ("alice-pc", 10, "alice-pc"),
        ("mail.example.org", 16, "mail.example.org"),
        ("mail.example.org", 10, "mail.e.org"),
        ("mx1.mail.provider.com", 12, "mx1.m.p.com"),
        ("mail.example.org", 9, "mail….org"),
        ("averyveryverylonghostname", 10, "avery…name"),
        ("mail.example.net:24", 13, "mail.e.net:24"),  # a loopback server's end keeps its port
        ("mail.example.net:24", 10, "mai…net:24"),
    ],
)
def test_abbreviate_host(name: str, width: int, short: str) -> None:
    assert abbreviate_host(name, width) == short
    assert len(short) <= width


def test_format_record_reads_like_follow_stream(trace: Trace) -> None:
    ehlo = next(r for r in trace if r.text == "EHLO alice-pc")
    assert format_record(ehlo).plain == "+00:00.256 alice-pc → mail.example.org SMTP EHLO alice-pc"


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        (Kind.DNS_QUERY, "+00:00.310 mail.example.org DNS query example.net MX"),
        (Kind.TCP_CONNECT, "alice-pc → mail.example.org TCP connect to port 587"),
        (
            Kind.MAIL_RELAYED,
            "MAIL 4F2A1B3C9D: to=<bob@example.net>, relay=mail.example.net, "
            "status=sent (250 2.0.0 Ok: queued as 7B3C)",
        ),
        (Kind.MAIL_DELIVERED, "7B3C: to=<bob@example.net>, status=delivered (hops=2)"),
        (Kind.QUEUE_ENTER, "to=<bob@example.net>, <nobody@example.net>"),
        (Kind.MAIL_BOUNCED, f"to=<nobody@example.net>, status=bounced ({REJECTED})"),
        (Kind.NOTE, "NOTE Bob checks his mail."),
    ],
)
def test_format_record_of_each_kind(trace: Trace, kind: Kind, expected: str) -> None:
    assert expected in format_record(one(trace, kind)).plain


def test_every_kind_of_record_has_a_line() -> None:
    s = Scribe()
    for kind in Kind:
        s.at(1.0, kind, "host.example", "some text", peer="peer.example", message=M1)
    lines = [format_record(record) for record in s.trace]
    assert all(
        line is not None and line.plain.startswith("+00:01.000 host.example") for line in lines
    )


def test_delivery_into_another_mailbox_names_it() -> None:
    s = Scribe()
    s.at(
        1.0,
        Kind.MAIL_DELIVERED,
        MX,
        message=M1,
        recipient="bob@example.net",
        mailbox="robert@example.net",
        hops=1,
    )
    assert (
        "to=<bob@example.net>, mailbox=robert@example.net, status=delivered (hops=1)"
        in format_record(s.trace.records[0]).plain
    )


def test_control_characters_are_made_visible() -> None:
    s = Scribe()
    s.line(0.0, MUA, MSA, "EHLO \x1b[31mevil\x00")
    out = render(DialogueView(s.trace), 80)
    assert "EHLO ␛[31mevil␀" in out
    assert "\x1b" not in out


@pytest.mark.parametrize("width", [80, 120])
def test_no_line_exceeds_the_width(trace: Trace, width: int) -> None:
    lines = render(DialogueView(trace), width).splitlines()
    assert max(len(line) for line in lines) <= width
    assert len(lines) > len(trace)  # some records wrapped


def test_text_column_keeps_forty_cells_at_80_columns(trace: Trace) -> None:
    out = render(DialogueView(trace), 80)
    first = next(line for line in out.splitlines() if "EHLO alice-pc" in line)
    assert first.index("EHLO alice-pc") <= 80 - 40
    assert "alice-pc   → mail.e.org SMTP EHLO alice-pc" in first


def test_hosts_are_shown_in_full_at_120_columns(trace: Trace) -> None:
    out = render(DialogueView(trace), 120)
    assert "mail.example.org → alice-pc         SMTP 220 mail.example.org ESMTP Postfix" in out
    assert "…" not in out


def test_every_record_starts_a_line_with_its_clock(trace: Trace) -> None:
    lines = render(DialogueView(trace), 80).splitlines()
    starts = [line for line in lines if CLOCK.match(line)]
    assert len(starts) == len(trace)
    assert starts[0].startswith("+00:00.000 sim")


@pytest.mark.parametrize("width", [80, 120])
def test_long_lines_wrap_under_the_text_column(trace: Trace, width: int) -> None:
    lines = render(DialogueView(trace), width).splitlines()
    at = next(i for i, line in enumerate(lines) if "X-Long:" in line)
    column = lines[at].index("X-Long:")
    follow = lines[at + 1 : at + 3]
    assert all(line[:column].strip() == "" and line[column] != " " for line in follow)
    words = " ".join(line[column:].strip() for line in lines[at : at + 4])
    assert words.startswith(LONG_HEADER[:60])


def test_hour_long_runs_widen_the_clock_column() -> None:
    s = Scribe()
    s.at(1.0, Kind.NOTE, "narrator", "first")
    s.at(3725.25, Kind.NOTE, "narrator", "an hour later")
    lines = render(DialogueView(s.trace), 80).splitlines()
    assert lines[0].startswith("  +00:01.000 narrator")
    assert lines[1].startswith("+1:02:05.250 narrator")


def test_narrow_console_puts_text_under_its_prefix(trace: Trace) -> None:
    lines = render(DialogueView(trace), 30).splitlines()
    assert max(len(line) for line in lines) <= 30
    at = next(i for i, line in enumerate(lines) if line.startswith("+00:00.256"))
    assert lines[at + 1] == "  EHLO alice-pc"


def test_filter_by_protocol(trace: Trace) -> None:
    out = render(DialogueView(trace, protocols={"DNS"}), 120)
    assert len(out.splitlines()) == 2
    assert "query example.net MX" in out
    assert "answer example.net MX NOERROR: 10 mail.example.net" in out


def test_filter_by_protocol_keeps_tcp_of_that_protocol(trace: Trace) -> None:
    view = DialogueView(trace, protocols=["smtp"])
    assert {r.kind for r in view.records} == {Kind.LINE, Kind.TCP_CONNECT}
    assert all(r.protocol == "smtp" for r in view.records)


def test_filter_by_session(trace: Trace) -> None:
    out = render(DialogueView(trace, session="s2"), 120)
    assert [line.split(" POP3 ", 1)[1] for line in out.splitlines()] == [
        "+OK POP3 server ready",
        "USER bob",
    ]


def test_filter_by_message_follows_it_and_its_bounce(trace: Trace) -> None:
    view = DialogueView(trace, message=M1)
    kinds = [r.kind for r in view.records]
    assert Kind.MAIL_DELIVERED in kinds and Kind.MAIL_BOUNCED in kinds
    assert any(r.message == DSN for r in view.records)  # the bounce, composed for M1
    assert all(r.session != "s2" for r in view.records)
    assert "MAIL FROM:<alice@example.org>" in render(view, 120)


def test_filters_combine(trace: Trace) -> None:
    view = DialogueView(trace, protocols={"smtp"}, message=M1)
    assert [r.text for r in view.records if r.kind is Kind.LINE] == [
        "220 mail.example.org ESMTP Postfix",  # session s1 carries M1: all of it is shown
        "EHLO alice-pc",
        CAPABILITIES,
        "MAIL FROM:<alice@example.org>",
        LONG_HEADER,
    ]
    assert all(r.session == "s1" for r in view.records)


def test_client_and_server_lines_have_different_colours(trace: Trace) -> None:
    view = DialogueView(trace)
    (client,) = styles_of(view, "EHLO alice-pc")
    (server,) = styles_of(view, "220 mail.example.org ESMTP")
    assert (client.color and client.color.name) == "cyan"
    assert (server.color and server.color.name) == "green"


@pytest.mark.parametrize(
    ("text", "colour", "attribute"),
    [
        ("status=delivered", "green", "bold"),
        ("status=bounced", "red", "bold"),
        ("relay=mail.example.net", "yellow", None),
        ("query example.net MX", None, "dim"),
        ("Bob checks his mail.", None, "italic"),
    ],
)
def test_record_kinds_have_their_colours(
    trace: Trace, text: str, colour: str | None, attribute: str | None
) -> None:
    (style,) = styles_of(DialogueView(trace), text)
    assert (style.color.name if style.color else None) == colour
    assert attribute is None or getattr(style, attribute) is True


def test_colour_output_carries_escape_codes(trace: Trace) -> None:
    console = colour_console(80)
    console.print(DialogueView(trace))
    assert "\x1b[" in console.file.getvalue()  # type: ignore[attr-defined]


def test_live_printer_prints_records_as_emitted() -> None:
    console = Console(file=io.StringIO(), width=80, color_system=None)
    s = Scribe()
    printer = LivePrinter(console)
    s.trace.subscribe(printer)
    s.at(0.0, Kind.SIM_START, "sim", "demo", seed=1, duration=7200)
    s.line(0.5, MUA, MSA, "EHLO alice-pc")
    printer.flush()  # a line is held back until its run of lines ends
    assert console.file.getvalue().splitlines()[-1] == (  # type: ignore[attr-defined]
        "  +00:00.500 alice-pc  → mail….org SMTP EHLO alice-pc"
    )
    s.line(3725.0, MSA, MUA, LONG_HEADER)
    printer.flush()
    lines = console.file.getvalue().splitlines()  # type: ignore[attr-defined]
    assert lines[3].startswith("+1:02:05.000 mail….org → alice-pc  SMTP X-Long: word00")
    assert max(len(line) for line in lines) <= 80


def test_live_printer_filters() -> None:
    console = Console(file=io.StringIO(), width=120, color_system=None)
    trace = Trace(clock=lambda: 0.0)
    printer = LivePrinter(console, protocols={"dns"})
    trace.subscribe(printer)
    for record in session_trace():
        trace.emit(
            record.kind,
            record.host,
            record.text,
            record.payload,
            peer=record.peer,
            protocol=record.protocol,
            session=record.session,
            message=record.message,
        )
    printer.flush()  # one instant (the clock stands still) is held until it ends
    out = console.file.getvalue()  # type: ignore[attr-defined]
    assert [line.split(" DNS  ")[1].split()[0] for line in out.splitlines()] == ["query", "answer"]


def test_view_renders_in_jupyter(trace: Trace) -> None:
    view = DialogueView(trace, session="s2")
    assert isinstance(view, JupyterMixin)
    bundle = view._repr_mimebundle_(include=[], exclude=[])
    assert "USER bob" in bundle["text/plain"]


def test_short_host_names_keep_their_columns() -> None:
    console = Console(file=io.StringIO(), width=100, color_system=None)
    printer = LivePrinter(console)
    s = Scribe()
    s.trace.subscribe(printer)
    s.at(0.0, Kind.SIM_START, "mailsim", "tiny", seed=1, duration=60, hosts=["pc", "mx1"])
    s.line(0.5, "pc", "mx1", "EHLO pc")
    s.at(0.6, Kind.NOTE, "mx1", "done")
    printer.flush()
    out = console.file.getvalue().splitlines()  # type: ignore[attr-defined]
    assert out[0].startswith("+00:00.000 mailsim")
    assert "pc      → mx1     SMTP EHLO pc" in out[-2]


def test_a_loopback_lmtp_session_tells_the_server_end_by_its_port() -> None:
    scribe = Scribe()
    scribe.at(1.0, Kind.LINE, MX, "220 mail.example.net Dovecot ready.", peer=MX,
              protocol="lmtp", session="s9", role="server", port=24)
    scribe.at(1.0, Kind.LINE, MX, "LHLO mail.example.net", peer=MX, protocol="lmtp",
              session="s9", role="client", port=24)
    assert [format_record(r).plain.split(" LMTP ")[0][11:] for r in scribe.trace] == [
        "mail.example.net:24 → mail.example.net", "mail.example.net → mail.example.net:24"]
