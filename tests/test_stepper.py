"""`mailsim step`: the stepper driven by scripted input, asserting on what it prints."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from rich.console import Console

from simulator import catalog
from simulator.scenario import load_scenario
from simulator.simulation import Simulation
from simulator.stepper import Breakpoint, Stepper
from simulator.trace import Kind

REPO = Path(__file__).resolve().parents[1]


def stepper(name: str = "01-first-email", width: int = 100, **options: object) -> Stepper:
    scenario = load_scenario(catalog.resolve(name))
    console = Console(file=io.StringIO(), width=width, highlight=False)
    return Stepper(lambda: Simulation(scenario), console, **options)  # type: ignore[arg-type]


def drive(machine: Stepper, *commands: str) -> str:
    machine.run(commands, echo=True)
    stream = machine.console.file
    assert isinstance(stream, io.StringIO)
    return stream.getvalue()


def test_enter_and_n_step_one_happening_each() -> None:
    machine = stepper()
    out = drive(machine, "", "n", "n")
    assert machine.steps == 3
    assert 'simulation "First e-mail" starts' in out or "First e-mail" in out
    assert "step 3" in out
    assert "connect to port 587" in out


def test_n_with_a_count_and_the_status_line() -> None:
    machine = stepper()
    out = drive(machine, "n 10")
    assert machine.steps == 10
    assert "step 10" in out and "next:" in out
    assert "EHLO alice-pc" in out


def test_next_names_a_happening_not_a_listening_socket() -> None:
    """At the start the next events only start the servers' accept loops: the status
    line says so, in words, and peeking leaves the trace as a run without it."""
    machine = stepper()
    out = drive(machine, "n", "n", "n")
    nexts = [line.split("next: ", 1)[1] for line in out.splitlines() if "next: " in line]
    assert nexts[:3] == ["+00:00.000 (servers start listening)",
                         "+00:00.000 (servers start listening)",
                         "+00:10.028 Thunderbird alice@example.org: send"]
    assert not any("mail.example.org:24" in text for text in nexts)
    fresh = Simulation.load("01-first-email")
    for _ in range(3):
        fresh.step()
    assert [r.to_json() for r in machine.simulation.trace] == [r.to_json() for r in fresh.trace]


def test_back_equals_a_fresh_run_to_that_point() -> None:
    machine = stepper()
    drive(machine, "n 15", "b", "b")
    assert machine.steps == 13
    fresh = Simulation.load("01-first-email")
    for _ in range(13):
        fresh.step()
    assert [r.to_json() for r in machine.simulation.trace] == [r.to_json() for r in fresh.trace]
    assert machine.simulation.now == fresh.now


def test_back_at_the_start_says_so() -> None:
    out = drive(stepper(), "b")
    assert "already at the start" in out


def test_filter_shows_only_one_protocol_and_steps_to_the_next_shown() -> None:
    machine = stepper()
    out = drive(machine, "f dns", "n")
    tail = out.split("filter: dns", 1)[1]
    assert "query example.net MX" in tail
    assert "EHLO" not in tail  # the SMTP lines before it were played, not shown
    assert machine.steps > 10


def test_filter_https_keeps_the_browsers_requests() -> None:
    out = drive(stepper("webmail"), "f https", "n")
    tail = out.split("filter: https", 1)[1]
    assert "TLS handshake with" in tail or "GET /" in tail
    assert "EHLO" not in tail


def test_filter_off_and_a_bad_filter() -> None:
    out = drive(stepper(), "f pop9", "f host=alice-pc", "n", "f off")
    assert "unknown filter 'pop9'" in out
    assert "filter: host=alice-pc" in out and "filter: off" in out


def test_continue_stops_at_a_breakpoint() -> None:
    machine = stepper("02-unknown-user")
    out = drive(machine, "break code=5xx", "c")
    assert "breakpoints: code=5xx" in out
    assert "breakpoint code=5xx" in out
    # The step that hit it: the server answered the pipelined RCPT and DATA
    # at once (RFC 2920), the 550 to RCPT, then the 554 to DATA.
    hit, last = machine.simulation.trace.records[-2:]
    assert last.kind is Kind.LINE and last.text.startswith("554 5.5.1")
    assert hit.kind is Kind.LINE and hit.text.startswith("550 5.1.1")


def test_continue_without_breakpoints_runs_to_the_end() -> None:
    machine = stepper()
    out = drive(machine, "c", "n")
    assert machine.simulation.finished
    assert "the simulation has ended" in out


def test_breakpoints_on_kinds_and_hosts() -> None:
    machine = stepper("02-unknown-user")
    drive(machine, "break bounce", "c")
    assert machine.simulation.trace.records[-1].kind is Kind.MAIL_BOUNCED
    machine = stepper()
    drive(machine, "break host=bob-pc delivered", "c")
    records = machine.simulation.trace.records  # the step that filed bob's copy (over LMTP)
    assert Kind.MAIL_DELIVERED in {r.kind for r in records if r.time == records[-1].time}
    assert not any("bob-pc" in (r.host, r.peer) for r in records)
    assert "unknown breakpoint 'sometimes'" in drive(stepper(), "break sometimes")


@pytest.mark.parametrize(("word", "code", "hit"), [
    ("code=5xx", "550 5.1.1 ...", True), ("code=550", "550 x", True),
    ("code=550", "554 x", False), ("code=4xx", "250 ok", False),
])
def test_a_code_breakpoint_matches_server_replies(word: str, code: str, hit: bool) -> None:
    from simulator.trace import TraceRecord
    from simulator.trace_data import ProtocolLine

    line = ProtocolLine(role="server", port=25)
    record = TraceRecord(1, 0.0, Kind.LINE, "mx", code, peer="c", protocol="smtp",
                         payload=line)
    assert Breakpoint.parse(word).matches(record) is hit


def test_run_to_a_time() -> None:
    machine = stepper()
    out = drive(machine, "t 11s")
    assert machine.simulation.now == pytest.approx(11.0)
    assert "queued as" in out
    assert "not a time" in drive(stepper(), "t soon")


def test_inspect_queue_mailbox_and_message() -> None:
    machine = stepper()
    out = drive(machine, "t 10.5s", "i queue mail.example.org")
    queued = machine.simulation.queue("mail.example.org")
    assert queued and queued[0].queue_id in out
    message_id = queued[0].message_id or ""
    out = drive(machine, "t 12s", "i mailbox bob@example.net", f"i message {message_id}")
    assert "Hello Bob" in out
    assert "Received" in out
    assert "runs no MTA" in drive(stepper(), "i queue alice-pc")


def test_explanations_toggle() -> None:
    machine = stepper()
    quiet = drive(machine, "t 10.3s")
    loud = drive(stepper(explain=True), "t 10.3s")
    assert len(loud.splitlines()) > len(quiet.splitlines())
    assert "explanations on" in drive(stepper(), "e")


def test_help_and_unknown_commands() -> None:
    out = drive(stepper(), "?", "zap")
    assert "i queue HOST" in out and "break" in out
    assert "unknown command 'zap'" in out


def test_q_stops_reading_commands() -> None:
    machine = stepper()
    drive(machine, "n", "q", "n", "n")
    assert machine.steps == 1


def test_scripted_from_a_pipe_exits_0() -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO), "COLUMNS": "100"}
    done = subprocess.run(
        [sys.executable, "-m", "simulator", "step", "01-first-email"],
        input="n\nn\ni queue mail.example.org\nq\n", cwd=REPO, env=env,
        capture_output=True, text=True, timeout=60, check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "step> i queue mail.example.org" in done.stdout
    assert "Mail queue is empty" in done.stdout
    assert "Traceback" not in done.stderr


def test_a_code_breakpoint_survives_short_server_lines_and_may_never_hit() -> None:
    machine = stepper()  # scenario 01: no 4xx/5xx at all, and POP3 sends "." lines
    out = drive(machine, "break code=5xx", "c")
    assert machine.simulation.finished and "breakpoint code=5xx" not in out
    assert "zip()" not in out


@pytest.mark.parametrize("word", ["bounce=xyz", "code=5a0", "code=55", "host="])
def test_a_malformed_breakpoint_is_refused(word: str) -> None:
    assert "unknown breakpoint" in drive(stepper(), f"break {word}")


def test_time_after_the_end_and_arguments_to_e_are_refused() -> None:
    out = drive(stepper(), "c", "t 10m", "e now")
    assert out.count("the simulation has ended") == 1
    assert "e takes no argument" in out
