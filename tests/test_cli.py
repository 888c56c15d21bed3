"""The `mailsim` command line: every command, its exit status and its output.

Most tests call `simulator.cli.main` in this process; the ones about
tracebacks, terminal widths and `python -m simulator` run a subprocess.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from simulator import __version__, catalog
from simulator.cli import EXIT_USAGE, main
from simulator.trace import Kind, read_jsonl

REPO = Path(__file__).resolve().parents[1]
PROTOCOL_LINE = "EHLO "  # a client line every bundled run prints

BROKEN = """\
name: Broken
hosts:
  alice-pc:
    address: 192.0.2.10
    links:
      - {to: mail.example.org, latency: fast}
  mail.example.org:
    address: 198.51.100.25
"""
BROKEN_PROBLEM = (
    'hosts.alice-pc.links[0].latency: expected a duration such as "250ms", "5m" or "2h", '
    'got "fast"'
)

Capsys = pytest.CaptureFixture[str]


def cli(argv: list[str], capsys: Capsys) -> tuple[int, str, str]:
    status = main(argv)
    out, err = capsys.readouterr()
    return status, out, err


def python_m(*args: str, columns: int = 80) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO), "COLUMNS": str(columns)}
    env.pop("FORCE_COLOR", None)
    return subprocess.run(
        [sys.executable, "-m", "simulator", *args],
        cwd=REPO, env=env, capture_output=True, text=True, encoding="utf-8",
        timeout=60, check=False,
    )


@pytest.fixture(autouse=True)
def wide_console(monkeypatch: pytest.MonkeyPatch) -> None:
    """A wide console, so long temporary paths in the summary are not wrapped."""
    monkeypatch.setenv("COLUMNS", "500")


@pytest.fixture
def broken(tmp_path: Path) -> Path:
    path = tmp_path / "broken.yaml"
    path.write_text(BROKEN, encoding="utf-8")
    return path


# --- run ----------------------------------------------------------------------


def test_no_arguments_runs_the_default_scenario(capsys: Capsys) -> None:
    status, out, err = cli([], capsys)
    assert status == 0
    assert err == ""
    assert "First e-mail" in out  # the name of 01-first-email
    assert PROTOCOL_LINE in out
    assert "1 delivered" in out


@pytest.mark.parametrize(
    ("name", "summary"),
    [("01-first-email", "1 delivered · 0 bounced"), ("02-unknown-user", "1 delivered · 1 bounced")],
)
def test_run_a_bundled_scenario_by_name(name: str, summary: str, capsys: Capsys) -> None:
    status, out, _ = cli(["run", name], capsys)
    assert status == 0
    assert summary in out


def test_run_a_scenario_by_path(tmp_path: Path, capsys: Capsys) -> None:
    copy = tmp_path / "my-scenario.yaml"
    copy.write_bytes(catalog.resolve("02-unknown-user").read_bytes())
    status, out, _ = cli(["run", str(copy)], capsys)
    assert status == 0
    assert "Unknown user" in out
    assert "550 5.1.1" in out
    assert "bounced" in out


def test_quiet_prints_the_summary_but_no_protocol_lines(capsys: Capsys) -> None:
    status, out, _ = cli(["run", "01-first-email", "--quiet"], capsys)
    assert status == 0
    assert "delivered" in out
    assert "Hello Bob" in out
    for protocol_text in (PROTOCOL_LINE, "RCPT TO", "SMTP", "POP3", "220 mail.example"):
        assert protocol_text not in out


def test_trace_writes_jsonl_that_reads_back(tmp_path: Path, capsys: Capsys) -> None:
    out_file = tmp_path / "trace.jsonl"
    status, out, _ = cli(["run", "-q", "--trace", str(out_file)], capsys)
    assert status == 0
    assert "delivered" in out
    with out_file.open(encoding="utf-8") as stream:
        records = list(read_jsonl(stream))
    assert records[0].kind is Kind.SIM_START
    assert records[-1].kind is Kind.SIM_END
    assert [r.seq for r in records] == list(range(len(records)))
    assert any(r.kind is Kind.MAIL_DELIVERED for r in records)
    raw_lines = out_file.read_text(encoding="utf-8").splitlines()
    assert len(raw_lines) == len(records)
    assert all(json.loads(line)["kind"] for line in raw_lines)


def test_seed_overrides_the_scenarios_seed(tmp_path: Path, capsys: Capsys) -> None:
    out_file = tmp_path / "trace.jsonl"
    status, _, _ = cli(["run", "01-first-email", "-q", "--seed", "7", "--trace", str(out_file)],
                       capsys)
    assert status == 0
    with out_file.open(encoding="utf-8") as stream:
        start = next(read_jsonl(stream))
    assert start.kind is Kind.SIM_START
    assert start.data["seed"] == 7


def test_seed_must_be_a_number(capsys: Capsys) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["run", "--seed", "seven"])
    assert exit_info.value.code == EXIT_USAGE
    assert "--seed" in capsys.readouterr().err


def test_a_missing_scenario_file_exits_2_with_a_clear_message(
    tmp_path: Path, capsys: Capsys
) -> None:
    missing = tmp_path / "nope.yaml"
    status, out, err = cli(["run", str(missing)], capsys)
    assert status == EXIT_USAGE
    assert out == ""
    assert f"{missing}: file not found" in err


def test_a_missing_scenario_file_shows_no_traceback() -> None:
    done = python_m("run", "no-such-scenario")
    assert done.returncode == EXIT_USAGE
    assert "no-such-scenario: file not found" in done.stderr
    assert "Traceback" not in done.stderr + done.stdout


def test_running_a_broken_file_exits_2_without_running(broken: Path, capsys: Capsys) -> None:
    status, out, err = cli(["run", str(broken)], capsys)
    assert status == EXIT_USAGE
    assert "sim" not in out.lower()
    assert "hosts.alice-pc.links[0].latency" in err


def test_an_unwritable_trace_path_exits_2(tmp_path: Path, capsys: Capsys) -> None:
    target = tmp_path / "no-such-dir" / "trace.jsonl"
    status, _, err = cli(["run", "-q", "--trace", str(target)], capsys)
    assert status == EXIT_USAGE
    assert "cannot write" in err
    assert "trace.jsonl" in err


def test_a_directory_as_trace_path_exits_2(tmp_path: Path, capsys: Capsys) -> None:
    status, _, err = cli(["run", "-q", "--trace", str(tmp_path)], capsys)
    assert status == EXIT_USAGE
    assert "cannot write" in err


@pytest.mark.parametrize("name", ["run[/].jsonl", "[bold]run.jsonl"])
def test_an_unwritable_trace_path_is_named_verbatim(
    name: str, tmp_path: Path, capsys: Capsys
) -> None:
    # Square brackets are legal in file names; they are not rich markup.  (Printed
    # through rich with markup on, "[/]" raised MarkupError and "[bold]" vanished.)
    target = tmp_path / "no-such-dir" / name
    status, _, err = cli(["run", "-q", "--trace", str(target)], capsys)
    assert status == EXIT_USAGE
    assert f"cannot write {target}" in err


# --- validate -------------------------------------------------------------------


def test_validate_good_files_prints_ok(capsys: Capsys) -> None:
    files = [str(path) for path in catalog.bundled()]
    status, out, err = cli(["validate", *files], capsys)
    assert status == 0
    assert err == ""
    assert out.splitlines() == [
        f"{files[0]}: OK (First e-mail)",
        f"{files[1]}: OK (Unknown user)",
        f"{files[2]}: OK (Eavesdropper (IMAP))",
        f"{files[3]}: OK (Eavesdropper)",
        f"{files[4]}: OK (Mailbox full)",
        f"{files[5]}: OK (POP3 vs IMAP)",
        f"{files[6]}: OK (Separate MDA)",
        f"{files[7]}: OK (Webmail)",
    ]


def test_validate_accepts_bundled_names(capsys: Capsys) -> None:
    status, out, _ = cli(["validate", "02-unknown-user"], capsys)
    assert status == 0
    assert out.strip() == "02-unknown-user: OK (Unknown user)"


def test_validate_a_broken_file_names_file_field_and_problem(
    broken: Path, capsys: Capsys
) -> None:
    good = str(catalog.bundled()[0])
    status, out, err = cli(["validate", str(broken), good], capsys)
    assert status == EXIT_USAGE
    assert f"{good}: OK" in out  # the other files are still checked
    assert str(broken) not in out
    assert f"{broken}: {BROKEN_PROBLEM}" in " ".join(err.split())


def test_validate_prints_one_line_per_problem(
    broken: Path, capsys: Capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    # README: "mailsim prints one line per problem ... Each line names the file,
    # the path to the field and what was expected".  Not hard-wrapped at the
    # console width (80 here), which would split it in logs and pipes.
    monkeypatch.setenv("COLUMNS", "80")
    status, _, err = cli(["validate", str(broken)], capsys)
    assert status == EXIT_USAGE
    assert err.splitlines() == [f"{broken}: {BROKEN_PROBLEM}"]


def test_validate_a_broken_file_shows_no_traceback(broken: Path) -> None:
    done = python_m("validate", str(broken), columns=200)
    assert done.returncode == EXIT_USAGE
    assert done.stdout == ""
    assert f"{broken}: {BROKEN_PROBLEM}" in done.stderr.splitlines()
    assert "Traceback" not in done.stderr


def test_validate_needs_a_file(capsys: Capsys) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["validate"])
    assert exit_info.value.code == EXIT_USAGE
    assert "FILE" in capsys.readouterr().err


# --- list, schema, help, version ---------------------------------------------------


def test_list_names_both_bundled_scenarios(capsys: Capsys) -> None:
    status, out, _ = cli(["list"], capsys)
    assert status == 0
    rows = [line.split(None, 1) for line in out.splitlines()[:2]]
    assert rows == [
        ["01-first-email", "First e-mail: submission, MX, relay, delivery, POP3"],
        ["02-unknown-user", "Unknown user: 550 5.1.1 at RCPT, then a bounce"],
    ]


def test_schema_prints_a_json_schema(capsys: Capsys) -> None:
    status, out, _ = cli(["schema"], capsys)
    assert status == 0
    schema = json.loads(out)
    assert schema["$schema"].startswith("https://json-schema.org/")
    assert {"name", "hosts", "dns", "domains", "traffic"} <= schema["properties"].keys()
    assert {"name", "hosts"} <= set(schema["required"])


@pytest.mark.parametrize("argv", [["--help"], ["-h"], ["run", "--help"], ["validate", "--help"]])
def test_help_exits_0_with_usage(argv: list[str], capsys: Capsys) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: mailsim")


def test_help_lists_every_command(capsys: Capsys) -> None:
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    for command in ("run", "validate", "list", "schema"):
        assert command in out


def test_version(capsys: Capsys) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.strip() == f"mailsim {__version__}"


def test_an_unknown_command_exits_2(capsys: Capsys) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["fly"])
    assert exit_info.value.code == EXIT_USAGE
    assert "invalid choice" in capsys.readouterr().err


# --- rendering in a terminal of a given width ----------------------------------------


@pytest.mark.parametrize("width", [80, 120])
@pytest.mark.parametrize("argv", [[], ["run", "02-unknown-user"]], ids=["default", "bounce"])
def test_no_output_line_is_wider_than_the_terminal(argv: list[str], width: int) -> None:
    done = python_m(*argv, columns=width)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert "delivered" in done.stdout
    assert PROTOCOL_LINE in done.stdout
    assert "\x1b[" not in done.stdout  # no colour codes when not writing to a terminal
    too_wide = [line for line in lines if len(line) > width]
    assert too_wide == []
    assert max(len(line) for line in lines) > width - 10  # the width is used, too


def test_seed_must_not_be_negative(capsys: Capsys) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["run", "--seed", "-5"])
    assert exit_info.value.code == EXIT_USAGE
    assert "expected a whole number from 0 to 9223372036854775807, got '-5'" in (
        capsys.readouterr().err
    )


@pytest.mark.parametrize("seed", ["9223372036854775808", "1" * 5000, "1e3"])
def test_seed_must_fit_in_64_bits(seed: str, capsys: Capsys) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["run", "--seed", seed])
    assert exit_info.value.code == EXIT_USAGE
    err = capsys.readouterr().err
    assert "expected a whole number from 0 to" in err and len(err) < 400


def test_a_trace_that_cannot_be_written_during_the_run_exits_2(capsys: Capsys) -> None:
    status, _, err = cli(["run", "-q", "--trace", "/dev/full"], capsys)
    assert status == EXIT_USAGE
    assert err.strip() == "mailsim: cannot write /dev/full: No space left on device"


# --- Ctrl-C, outputs that would overwrite the input --------------------------------


def test_ctrl_c_closes_the_books_and_exits_130(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Capsys
) -> None:
    from simulator.simulation import Simulation

    original = Simulation.run

    def interrupted_run(self: Simulation, until: float | None = None) -> list[object]:
        original(self, 10.5)  # the message is in mail.example.org's queue
        raise KeyboardInterrupt

    monkeypatch.setattr(Simulation, "run", interrupted_run)
    out = tmp_path / "t.jsonl"
    status, _, err = cli(["run", "-q", "--trace", str(out)], capsys)
    assert status == 130
    assert len(err.strip().splitlines()) == 1 and "interrupted at 10.5" in err
    records = list(read_jsonl(out.open(encoding="utf-8")))
    assert records[-1].kind is Kind.SIM_END and records[-1].data["interrupted"] is True
    assert [r.data["recipient"] for r in records if r.kind is Kind.MAIL_QUEUED] == [
        "bob@example.net"
    ]


def test_a_real_sigint_stops_cleanly(tmp_path: Path) -> None:
    import signal
    import time

    scenario = tmp_path / "long.yaml"
    text = (catalog.resolve("01-first-email")).read_text(encoding="utf-8")
    scenario.write_text(text.replace("duration: 5m", "duration: 100d"), encoding="utf-8")
    trace = tmp_path / "t.jsonl"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    child = subprocess.Popen(
        [sys.executable, "-m", "simulator", "run", str(scenario), "-q", "--trace", str(trace)],
        cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    deadline = time.monotonic() + 30
    while (not trace.exists() or trace.stat().st_size < 50_000) and time.monotonic() < deadline:
        time.sleep(0.05)
    child.send_signal(signal.SIGINT)
    _, err = child.communicate(timeout=60)
    assert child.returncode == 130
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1
    last = trace.read_text(encoding="utf-8").splitlines()[-1]
    assert json.loads(last)["kind"] == "sim.end"


def test_a_trace_over_the_scenario_file_is_refused(tmp_path: Path, capsys: Capsys) -> None:
    scenario = tmp_path / "same.yaml"
    original = catalog.resolve("01-first-email").read_text(encoding="utf-8")
    scenario.write_text(original, encoding="utf-8")
    status, out, err = cli(["run", str(scenario), "--trace", str(scenario)], capsys)
    assert status == EXIT_USAGE
    assert len(err.strip().splitlines()) == 1 and "is the scenario being run" in err
    assert scenario.read_text(encoding="utf-8") == original
    assert out == ""


# --- views, filters, time limits, exports, lessons -----------------------------------


def test_until_stops_early_and_reports_what_waits(tmp_path: Path, capsys: Capsys) -> None:
    out = tmp_path / "t.jsonl"
    status, shown, _ = cli(["run", "--until", "10.5s", "-q", "--trace", str(out)], capsys)
    assert status == 0
    records = list(read_jsonl(out.open(encoding="utf-8")))
    assert records[-1].data["interrupted"] is True
    assert "queued" in shown


@pytest.mark.parametrize("view", ["sequence", "follow", "summary", "topology"])
def test_each_view_can_be_chosen(view: str, capsys: Capsys) -> None:
    status, out, _ = cli(["run", "02-unknown-user", "--view", view], capsys)
    assert status == 0
    assert "SMTP EHLO" not in out  # no live transcript, only the view asked for
    expected = {"sequence": "550", "follow": "bounced", "summary": "bounced",
                "topology": "mail.example.net"}[view]
    assert expected in out


def test_filters_keep_one_protocol(capsys: Capsys) -> None:
    status, out, _ = cli(["run", "--protocol", "dns", "--view", "transcript"], capsys)
    assert status == 0
    assert "example.net MX" in out and PROTOCOL_LINE not in out


def test_the_webmails_https_and_the_tls_handshakes_can_be_kept(capsys: Capsys) -> None:
    def timed(protocol: str) -> str:
        """The transcript's lines (not the lesson's box) when keeping `protocol`."""
        status, out, _ = cli(["run", "webmail", "--protocol", protocol], capsys)
        assert status == 0
        return "\n".join(line for line in out.splitlines() if line.startswith("+"))

    https = timed("https")
    assert "_action=refresh" in https and "TLS  TLS handshake" in https
    assert not re.search(r" (SMTP|IMAP|LMTP) ", https)  # no line of another protocol
    handshakes = timed("tls").splitlines()
    assert len(handshakes) == 8 and all(" TLS  TLS handshake" in line for line in handshakes)


def test_explain_adds_narration(capsys: Capsys) -> None:
    _, plain, _ = cli(["run"], capsys)
    _, explained, _ = cli(["run", "--explain"], capsys)
    assert len(explained.splitlines()) > len(plain.splitlines())


@pytest.mark.parametrize("fmt", ["txt", "svg", "html", "mermaid"])
def test_export_writes_each_format(fmt: str, tmp_path: Path, capsys: Capsys) -> None:
    target = tmp_path / f"out.{fmt}"
    status, _, err = cli(["export", "02-unknown-user", "--format", fmt, "-o", str(target)],
                         capsys)
    assert status == 0, err
    text = target.read_text(encoding="utf-8")
    first = {"txt": "", "svg": "<svg", "html": "<!DOCTYPE html>", "mermaid": "sequenceDiagram"}
    assert text.lstrip().startswith(first[fmt])
    assert "550" in text


def test_export_mermaid_only_draws_sequences(capsys: Capsys) -> None:
    status, _, err = cli(["export", "--format", "mermaid", "--view", "summary"], capsys)
    assert status == EXIT_USAGE and "sequence view only" in err


@pytest.mark.parametrize("machine", ["smtp", "pop3", "lmtp", "smtp-client", "pop3-client",
                                     "lmtp-client"])
def test_explain_draws_a_mermaid_state_diagram(machine: str, capsys: Capsys) -> None:
    status, out, _ = cli(["explain", machine, "--format", "mermaid"], capsys)
    assert status == 0 and out.startswith("stateDiagram-v2")
    assert ("CLIENT" in out.upper()) is machine.endswith("client")


@pytest.mark.parametrize("machine", ["smtp-client", "pop3-client", "lmtp-client"])
def test_explain_draws_the_client_tables(machine: str, capsys: Capsys) -> None:
    status, out, _ = cli(["explain", machine], capsys)
    assert status == 0 and "client" in out and "Reply → next state" in out


def test_explain_lmtp_draws_lhlo_and_the_replies_after_the_dot(capsys: Capsys) -> None:
    status, server, _ = cli(["explain", "lmtp"], capsys)
    assert status == 0 and "LMTP server (RFC 2033)" in server
    assert "LHLO" in server and "EHLO" not in server and "AUTH" not in server
    status, client, _ = cli(["explain", "lmtp-client"], capsys)
    assert "DELIVERY_REPLIES" in client and "HELO" not in client.replace("LHLO", "")


def test_show_prints_the_lesson_and_the_file(capsys: Capsys) -> None:
    status, out, _ = cli(["show", "02-unknown-user"], capsys)
    assert status == 0
    assert "02-unknown-user.yaml" in out and "?" in out


def test_list_points_to_show_and_step(capsys: Capsys) -> None:
    status, out, _ = cli(["list"], capsys)
    assert status == 0
    assert "mailsim show NAME" in out and "mailsim step NAME" in out
