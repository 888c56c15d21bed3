"""The scenario fields of TLS and eavesdroppers: defaults, and mistakes at their field paths."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from simulator.cli import EXIT_USAGE, main
from simulator.scenario import ScenarioError, load_scenario

BASE = """\
name: Security
duration: 10m
hosts:
  alice-pc:
    address: 192.0.2.10
    roles: [mua]
    links:
      - {to: cafe-ap, latency: 5ms}
  cafe-ap:
    address: 192.0.2.1
    links:
      - {to: mail.example.org, latency: 5ms}
  mail.example.org:
    address: 198.51.100.25
    roles: [mta, mda]
    tls: {version: "1.3"}
domains:
  example.org:
    mta: mail.example.org
    mda: mail.example.org
    users:
      alice: {password: wonderland, mua: alice-pc, mailbox_security: tls}
eavesdroppers:
  - {name: cafe-wifi, link: [alice-pc, cafe-ap]}
"""

TAP = "{name: cafe-wifi, link: [alice-pc, cafe-ap]}"

MISTAKES = [
    pytest.param('tls: {version: "1.3"}', 'tls: {version: "1.1"}',
                 "hosts.mail.example.org.tls.version", 'expected 1.2 or 1.3, got "1.1"',
                 id="tls-version"),
    pytest.param('tls: {version: "1.3"}', "tls: {starttls: maybe}",
                 "hosts.mail.example.org.tls.starttls", "true or false", id="tls-bool"),
    pytest.param('tls: {version: "1.3"}', "tls: {ssl: yes}", "hosts.mail.example.org.tls.ssl",
                 "unknown", id="tls-unknown-key"),
    pytest.param("mailbox_security: tls", "mailbox_security: ssl",
                 "domains.example.org.users.alice.mailbox_security",
                 'expected none, starttls or tls, got "ssl"',
                 id="security-value"),
    pytest.param(TAP, "{name: cafe-wifi, link: [alice-pc, nowhere]}", "eavesdroppers[0].link",
                 "unknown host 'nowhere'", id="tap-unknown-host"),
    pytest.param(TAP, "{name: cafe-wifi, link: [alice-pc, mail.example.org]}",
                 "eavesdroppers[0].link", "no link joins 'alice-pc' and 'mail.example.org'",
                 id="tap-no-such-link"),
    pytest.param(TAP, "{name: cafe-wifi, link: [alice-pc]}", "eavesdroppers[0].link",
                 "at least 2", id="tap-one-end"),
    pytest.param(TAP, "{name: cafe-wifi, host: ghost}", "eavesdroppers[0].host",
                 "unknown host 'ghost'", id="tap-unknown-tapped-host"),
    pytest.param(TAP, "{name: cafe-wifi, host: cafe-ap, link: [alice-pc, cafe-ap]}",
                 "eavesdroppers[0]", "exactly one of them", id="tap-both"),
    pytest.param(TAP, "{name: cafe-wifi}", "eavesdroppers[0]", "exactly one of them",
                 id="tap-neither"),
    pytest.param(TAP, TAP + "\n  - " + TAP, "eavesdroppers[1].name", "used twice",
                 id="tap-twice"),
]


@pytest.mark.parametrize(("old", "new", "location", "fragment"), MISTAKES)
def test_mistake_is_reported_at_its_field(
    tmp_path: Path, old: str, new: str, location: str, fragment: str
) -> None:
    assert old in BASE
    path = tmp_path / "bad.yaml"
    path.write_text(BASE.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    err = caught.value
    assert err.path == str(path)
    found = [p for p in err.problems if p.location == location and fragment in p.message]
    assert found, f"no problem at {location!r} mentioning {fragment!r} in:\n{err}"


def test_the_cli_exits_2_naming_file_and_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(BASE.replace("mailbox_security: tls", "mailbox_security: ssl"),
                    encoding="utf-8")
    assert main(["validate", str(path)]) == EXIT_USAGE
    err = capsys.readouterr().err
    assert f"{path}: domains.example.org.users.alice.mailbox_security:" in err


def test_defaults_leave_tls_off(tmp_path: Path) -> None:
    path = tmp_path / "good.yaml"
    path.write_text(BASE, encoding="utf-8")
    scenario = load_scenario(path)
    tls = scenario.hosts["mail.example.org"].tls
    assert tls is not None and (tls.starttls, tls.implicit, tls.require_for_auth) == (
        True, True, False)
    assert scenario.hosts["alice-pc"].tls is None
    alice = scenario.user("alice@example.org")
    assert alice is not None and alice.submission_security.value == "none"
    assert scenario.eavesdroppers[0].link == ["alice-pc", "cafe-ap"]


def test_an_unknown_eavesdropper_on_the_command_line_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "good.yaml"
    path.write_text(BASE, encoding="utf-8")
    assert main(["run", str(path), "-q", "--eavesdropper", "nsa"]) == EXIT_USAGE
    assert "no eavesdropper 'nsa' (its eavesdroppers: cafe-wifi)" in capsys.readouterr().err


def test_the_json_schema_has_the_new_fields(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema"]) == 0
    schema = json.loads(capsys.readouterr().out)
    assert "eavesdroppers" in schema["properties"]
    definitions = schema["$defs"]
    assert {"version", "starttls", "implicit", "require_for_auth"} <= set(
        definitions["HostTls"]["properties"])
    assert {"submission_security", "mailbox_security"} <= set(definitions["User"]["properties"])
    assert {"name", "link", "host"} <= set(definitions["Eavesdropper"]["properties"])
