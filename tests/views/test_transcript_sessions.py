"""Sessions in the dialogue: empty mail checks in one line, turns grouped and marked."""

from __future__ import annotations

import io
import re
from functools import cache
from typing import Any

from rich.console import Console, RenderableType
from synthetic import payload

from simulator.simulation import Simulation
from simulator.trace import Kind, Trace, TraceRecord
from simulator.views import DialogueView, LivePrinter
from simulator.views.transcript import HOLD_LIMIT, Transcript, group_sessions

CLOCK = re.compile(r"^ *\+(?:(\d+):)?(\d\d):(\d\d\.\d{3}) ")
ALICE_EMPTY = "alice@example.org checked mail.example.org: no new mail"
BOB_EMPTY = "bob@example.net checked mail.example.net: no new mail"


@cache
def records(name: str) -> tuple[TraceRecord, ...]:
    simulation = Simulation.load(name)
    simulation.run()
    return simulation.trace.records


def console(width: int = 100) -> Console:
    return Console(file=io.StringIO(), width=width, force_terminal=False)


def render(renderable: RenderableType, width: int = 100) -> str:
    screen = console(width)
    screen.print(renderable)
    return screen.file.getvalue()  # type: ignore[attr-defined]


def live(name: str, width: int = 100, **options: Any) -> str:
    screen = console(width)
    printer = LivePrinter(screen, **options)
    for record in records(name):
        printer(record)
    return screen.file.getvalue()  # type: ignore[attr-defined]


def seconds(line: str) -> float | None:
    match = CLOCK.match(line)
    if match is None:
        return None
    hours, minutes, rest = match.groups()
    return int(hours or 0) * 3600 + int(minutes) * 60 + float(rest)


class Scribe:
    """A synthetic trace written record by record at given times."""

    def __init__(self) -> None:
        self.now = 0.0
        self.trace = Trace(clock=lambda: self.now)

    def at(self, time: float, kind: Kind, host: str, text: str = "", **fields: Any) -> None:
        self.now = time
        keys = {k: fields.pop(k) for k in ("peer", "protocol", "session", "message") if k in fields}
        self.trace.emit(kind, host, text, payload(kind, **fields), **keys)

    def pop3(self, time: float, session: str, lines: list[tuple[str, str]]) -> None:
        """A POP3 session from pc to mx: connect, lines ("C"/"S", text), both closes."""
        self.at(time, Kind.TCP_CONNECT, "pc", peer="mx", protocol="tcp", session=session,
                port=110)
        for step, (who, text) in enumerate(lines, start=1):
            sender, receiver = ("pc", "mx") if who == "C" else ("mx", "pc")
            role = "client" if who == "C" else "server"
            self.at(time + step * 0.01, Kind.LINE, sender, text, peer=receiver, protocol="pop3",
                    session=session, role=role, port=110)
        end = time + (len(lines) + 1) * 0.01
        self.at(end, Kind.TCP_CLOSE, "mx", "close", peer="pc", protocol="tcp", session=session)
        self.at(end + 0.01, Kind.TCP_CLOSE, "pc", "close", peer="mx", protocol="tcp",
                session=session)


EMPTY_CHECK = [("S", "+OK ready"), ("C", "USER ann@x"), ("S", "+OK"), ("C", "PASS p"),
               ("S", "+OK Logged in."), ("C", "STAT"), ("S", "+OK 0 0"), ("C", "QUIT"),
               ("S", "+OK Logging out.")]


def test_empty_checks_are_one_line_each() -> None:
    out = render(DialogueView(records("01-first-email")))
    assert out.count(ALICE_EMPTY) == 2  # at 2 and 4 minutes
    assert out.count(BOB_EMPTY) == 1  # at 4 minutes; at 2 minutes bob downloads his mail
    assert "+OK 0 0" not in out
    assert "+OK 1 828" in out and "RETR 1" in out


def test_full_shows_the_empty_checks() -> None:
    out = render(DialogueView(records("01-first-email"), full=True))
    assert "no new mail" not in out
    assert out.count("+OK 0 0") == 3


def test_the_summary_line_stands_where_the_session_began() -> None:
    lines = render(DialogueView(records("01-first-email")), 120).splitlines()
    (line,) = [line for line in lines if BOB_EMPTY in line]
    assert line.startswith("+04:00.100 bob-pc") and " POP3 " in line


def test_a_check_that_fails_is_not_collapsed() -> None:
    s = Scribe()
    s.pop3(1.0, "s1", [("S", "+OK ready"), ("C", "USER ann@x"), ("S", "+OK"), ("C", "PASS no"),
                       ("S", "-ERR [AUTH] Authentication failed."), ("C", "QUIT"),
                       ("S", "+OK Logging out.")])
    out = render(DialogueView(s.trace))
    assert "-ERR [AUTH] Authentication failed." in out
    assert "no new mail" not in out


def test_a_highlighted_line_keeps_the_check_whole() -> None:
    s = Scribe()
    s.pop3(1.0, "s1", EMPTY_CHECK)
    assert "no new mail" in render(DialogueView(s.trace))
    out = render(DialogueView(s.trace, highlights=["+ok 0 0"]))
    assert "+OK 0 0" in out and "no new mail" not in out


def test_the_live_printer_holds_a_check_and_what_follows_it_in_order() -> None:
    screen = console()
    printer = LivePrinter(screen)
    s = Scribe()
    s.trace.subscribe(printer)
    s.at(0.0, Kind.SIM_START, "mailsim", "demo", seed=1, duration=60, hosts=["pc", "mx"])
    s.pop3(1.0, "s1", EMPTY_CHECK[:6])  # closes after STAT
    s.at(1.2, Kind.DNS_QUERY, "mx", qname="example.net", qtype="MX")
    s.at(2.0, Kind.NOTE, "mx", "later")
    printer.flush()
    lines = screen.file.getvalue().splitlines()  # type: ignore[attr-defined]
    assert [line.split(maxsplit=1)[0] for line in lines] == [
        "+00:00.000", "+00:01.000", "+00:01.200", "+00:02.000",
    ]
    assert "ann@x checked mx: no new mail" in lines[1]


def test_nothing_waits_behind_a_check_for_long() -> None:
    transcript = Transcript()
    s = Scribe()
    shown: list[TraceRecord] = []
    s.trace.subscribe(lambda record: shown.extend(transcript.push(record)))
    s.at(1.0, Kind.TCP_CONNECT, "pc", peer="mx", protocol="tcp", session="s1", port=110)
    s.at(1.01, Kind.LINE, "mx", "+OK ready", peer="pc", protocol="pop3", session="s1",
         role="server")
    s.at(2.0, Kind.NOTE, "mx", "meanwhile")
    assert shown == []  # the session may still turn out empty
    s.at(1.0 + HOLD_LIMIT + 1, Kind.NOTE, "mx", "much later")
    assert [r.text for r in shown] == ["", "+OK ready", "meanwhile"]  # shown as it is


def test_the_live_output_never_goes_back_in_time() -> None:
    for name in ("01-first-email", "02-unknown-user"):
        times = [t for line in live(name).splitlines() if (t := seconds(line)) is not None]
        assert times == sorted(times)


def test_live_and_stored_dialogues_agree() -> None:
    for name in ("01-first-email", "02-unknown-user"):
        assert live(name) == render(DialogueView(records(name)))


def interleaved() -> Trace:
    """Two SMTP sessions whose lines alternate within one instant."""
    s = Scribe()
    s.at(1.0, Kind.TCP_CONNECT, "a", peer="b", protocol="tcp", session="s3", port=25)
    s.at(1.0, Kind.TCP_CONNECT, "c", peer="d", protocol="tcp", session="s4", port=25)
    for session, server, client in [("s3", "b", "a"), ("s4", "d", "c")] * 2:
        s.at(1.5, Kind.LINE, server, f"250-{session} {len(s.trace)}", peer=client,
             protocol="smtp", session=session, role="server")
    return s.trace


def test_sessions_are_grouped_within_an_instant() -> None:
    instant = [record for record in interleaved() if record.time == 1.5]
    assert [r.session for r in instant] == ["s3", "s4", "s3", "s4"]
    grouped = group_sessions(instant)
    assert [r.text for r in grouped] == ["250-s3 2", "250-s3 4", "250-s4 3", "250-s4 5"]


def test_a_rule_names_the_session_that_speaks_next() -> None:
    lines = render(DialogueView(interleaved()), 80).splitlines()
    texts = [line.split(" SMTP ")[-1].split(" TCP ")[-1].strip() for line in lines]
    assert texts == [
        "connect to port 25, rtt 2.0 ms",
        "── s4 c → d (port 25) ──",
        "connect to port 25, rtt 2.0 ms",
        "── s3 a → b (smtp) ──",
        "250-s3 2",
        "250-s3 4",
        "── s4 c → d (smtp) ──",
        "250-s4 3",
        "250-s4 5",
    ]


def test_one_session_at_a_time_needs_no_rule() -> None:
    out = render(DialogueView(records("01-first-email")))
    # Only the LMTP hand-off gets one: it runs while the relay's session, which
    # brought the message, has yet to say QUIT.
    rules = [line for line in out.splitlines() if line.startswith("── ")]
    assert rules == ["── s3 mail.example.net → mail.example.net (port 24) ──"]


def test_the_default_run_tells_its_story_in_a_screenful_or_two() -> None:
    out = live("01-first-email", 100)
    lines = out.splitlines()
    # was 201 before bodies were shown once and empty checks folded; the LMTP
    # hand-off to the MDA added 18, the MTA's status=sent line for it 1, and
    # Dovecot's longer UIDL (%08Xu%08Xv) wraps the download line: 1
    assert len(lines) <= 142
    for step in ("AUTH PLAIN", "Subject: Hello Bob", "query example.net MX", "RCPT TO:",
                 "status=delivered", "RETR 1", 'downloaded "Hello Bob"'):
        assert step in out
