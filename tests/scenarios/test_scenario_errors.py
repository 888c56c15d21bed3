"""Every kind of scenario mistake gives a clear message at the exact field path."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from simulator.scenario import (
    Host,
    Problem,
    Scenario,
    ScenarioError,
    load_scenario,
    validate_scenario,
)

BASE = """\
name: Errors
duration: 10m
hosts:
  alice-pc:
    address: 192.0.2.10
    roles: [mua]
    links:
      - {to: mail.example.org, latency: 5ms}
  mail.example.org:
    address: 198.51.100.25
    roles: [mta, mda]
  router:
    address: 192.0.2.1
dns:
  example.org:
    - {type: MX, preference: 10, exchange: mail.example.org}
domains:
  example.org:
    mta: mail.example.org
    mda: mail.example.org
    users:
      alice: {password: wonderland, mua: alice-pc}
      bob: {password: builder}
traffic:
  - at: 5s
    from: alice@example.org
    to: [bob@example.org]
"""


def edit(old: str, new: str) -> str:
    """BASE with one change: the YAML text of a broken scenario."""
    assert old in BASE, old
    return BASE.replace(old, new, 1)


LINK = "{to: mail.example.org, latency: 5ms}"
MX = "{type: MX, preference: 10, exchange: mail.example.org}"

# (YAML text, expected location, expected message fragment)
MISTAKES = [
    pytest.param(
        edit("latency: 5ms", "latency: fast"),
        "hosts.alice-pc.links[0].latency",
        'expected a duration such as "250ms", "5m" or "2h", got "fast"',
        id="bad-duration",
    ),
    pytest.param(
        edit("latency: 5ms", "latency: -5ms"),
        "hosts.alice-pc.links[0].latency",
        'got "-5ms"',
        id="negative-duration",
    ),
    pytest.param(
        edit(LINK, "{to: mail.example.org, latency: 5ms, bandwidth: 10MB}"),
        "hosts.alice-pc.links[0].bandwidth",
        'expected a bandwidth such as "100Mbit" or "56kbit", got "10MB"',
        id="bad-bandwidth",
    ),
    pytest.param(
        edit("latency: 5ms", "latency: 5ms, colour: red"),
        "hosts.alice-pc.links[0].colour",
        "unknown field 'colour' (expected one of: to, latency, bandwidth)",
        id="unknown-field",
    ),
    pytest.param(
        edit("latency: 5ms", "latncy: 5ms"),
        "hosts.alice-pc.links[0].latncy",
        "did you mean 'latency'?",
        id="misspelt-field",
    ),
    pytest.param(
        edit("name: Errors\n", ""),
        "name",
        "missing required field",
        id="missing-field",
    ),
    pytest.param(
        edit("{to: mail.example.org", "{to: mail.example.com"),
        "hosts.alice-pc.links[0].to",
        "unknown host 'mail.example.com' (did you mean 'mail.example.org'?)",
        id="link-to-unknown-host",
    ),
    pytest.param(
        edit("{to: mail.example.org", "{to: alice-pc"),
        "hosts.alice-pc.links[0].to",
        "link from 'alice-pc' to itself",
        id="link-to-self",
    ),
    pytest.param(
        edit("roles: [mta, mda]", "roles: [mta, mda]\n    links: [{to: alice-pc, latency: 1ms}]"),
        "hosts.mail.example.org.links[0].to",
        "already declared at hosts.alice-pc.links[0]",
        id="duplicate-link",
    ),
    pytest.param(
        edit("192.0.2.1\n", "192.0.2.10\n"),
        "hosts.router.address",
        "address 192.0.2.10 is already used by host 'alice-pc'",
        id="duplicate-address",
    ),
    pytest.param(
        edit("192.0.2.1\n", "192.0.2.300\n"),
        "hosts.router.address",
        'expected an IPv4 or IPv6 address such as "192.0.2.10", got "192.0.2.300"',
        id="bad-ip-address",
    ),
    pytest.param(
        edit("mta: mail.example.org", "mta: router"),
        "domains.example.org.mta",
        "host 'router' does not have role mta",
        id="mta-without-role",
    ),
    pytest.param(
        edit("mua: alice-pc}", "mua: alice-laptop}"),
        "domains.example.org.users.alice.mua",
        "unknown host 'alice-laptop'",
        id="user-mua-unknown",
    ),
    pytest.param(
        edit("mua: alice-pc}", "mua: router}"),
        "domains.example.org.users.alice.mua",
        "host 'router' does not have role mua",
        id="user-mua-without-role",
    ),
    pytest.param(
        edit("from: alice@", "from: carol@"),
        "traffic[0].from",
        "domain example.org has no user 'carol'",
        id="sender-unknown-user",
    ),
    pytest.param(
        edit("from: alice@example.org", "from: alice@example.com"),
        "traffic[0].from",
        "'alice@example.com' is not in any domain",
        id="sender-unknown-domain",
    ),
    pytest.param(
        edit("from: alice@", "from: bob@"),
        "traffic[0].from",
        "user bob@example.org has no mail client",
        id="sender-without-mua",
    ),
    pytest.param(
        edit("to: [bob@example.org]", "to: [bob@example.org, bob.example.org]"),
        "traffic[0].to[1]",
        'got "bob.example.org": it needs exactly one "@"',
        id="bad-recipient",
    ),
    pytest.param(
        edit("to: [bob@example.org]", "to: []"),
        "traffic[0].to",
        "must not be empty",
        id="no-recipient",
    ),
    pytest.param(
        edit("exchange: mail.example.org", "exchange: mx.example.org"),
        "dns.example.org[0].exchange",
        "MX exchange 'mx.example.org' does not resolve: it is not a host in 'hosts' "
        "and has no A record in 'dns'",
        id="mx-does-not-resolve",
    ),
    pytest.param(
        edit("type: MX", "type: MXX"),
        "dns.example.org[0]",
        'unknown type "MXX" (expected one of: MX, A, TXT)',
        id="unknown-record-type",
    ),
    pytest.param(
        edit("preference: 10", "preference: 70000"),
        "dns.example.org[0].preference",
        "must be at most 65535, got 70000",
        id="mx-preference-range",
    ),
    pytest.param(
        edit(MX, "{type: A, address: '2001:db8::1'}"),
        "dns.example.org[0].address",
        "an A record holds an IPv4 address",
        id="a-record-ipv6",
    ),
    pytest.param(
        edit("at: 5s", "at: 15m"),
        "traffic[0].at",
        "the simulation stops at 10m",
        id="traffic-after-duration",
    ),
    pytest.param(
        edit("duration: 10m", "duration: 10m\nseed: abc"),
        "seed",
        'expected an integer, got "abc"',
        id="string-for-seed",
    ),
    pytest.param(
        edit("roles: [mua]", "roles: [mau]"),
        "hosts.alice-pc.roles[0]",
        'expected mta, mda, mua or webmail, got "mau"',
        id="unknown-role",
    ),
    pytest.param(
        edit("password: wonderland", "password: ''"),
        "domains.example.org.users.alice.password",
        "must not be empty",
        id="empty-password",
    ),
    pytest.param(
        edit("{password: builder}", "builder"),
        "domains.example.org.users.bob",
        'expected a mapping (key: value lines), got "builder"',
        id="string-for-mapping",
    ),
    pytest.param(
        edit("  alice-pc:", "  alice pc:"),
        "hosts.alice pc",
        'expected a name such as "mail.example.org"',
        id="bad-host-name",
    ),
    pytest.param(
        edit("  router:", "  Router.:\n    address: 192.0.2.2\n  router:"),
        "hosts",
        "'Router.' and 'router' are the same name",
        id="same-name-two-spellings",
    ),
    pytest.param(
        edit("roles: [mua]", "roles: [mua"),
        "line 7, column 10",
        "YAML syntax error",
        id="yaml-syntax-error",
    ),
    pytest.param(
        edit("  router:", "  router:\n    address: 192.0.2.2\n  router:"),
        "line 14, column 3",
        'duplicate key "router" (first on line 12)',
        id="duplicate-host-key",
    ),
    pytest.param("", "", "the file is empty", id="empty-file"),
    pytest.param("# just a comment\n", "", "the file is empty", id="only-comments"),
    pytest.param(
        "- name: x\n",
        "",
        "as a mapping at the top level, got a list",
        id="top-level-list",
    ),
    pytest.param(None, "", "file not found", id="missing-file"),
    pytest.param(b"name: caf\xe9\n", "line 1", "not UTF-8 text", id="not-utf8"),
    pytest.param(
        edit("bob: {password: builder}", "bob: {password: builder, quota: lots}"),
        "domains.example.org.users.bob.quota",
        'expected a size such as "2MB", "500kB" or a number of bytes, got "lots"',
        id="quota-not-a-size",
    ),
    pytest.param(
        edit("    mda: mail.example.org\n", "    mda: mail.example.org\n    quota: 0\n"),
        "domains.example.org.quota",
        "must be between 1 byte and 1TB, got 0",
        id="quota-zero",
    ),
    pytest.param(
        edit("    mda: mail.example.org\n",
             "    mda: mail.example.org\n    quota_full_tempfail: sometimes\n"),
        "domains.example.org.quota_full_tempfail",
        'expected true or false, got "sometimes"',
        id="tempfail-not-a-boolean",
    ),
    pytest.param(
        edit("to: [bob@example.org]", "to: [bob@example.org]\n    subject: \"Hi\\nBcc: x@y\""),
        "traffic[0].subject",
        "must be one line without line breaks",
        id="subject-with-line-break",
    ),
    pytest.param(
        edit("alice: {password: wonderland, mua: alice-pc}",
             "alice: {password: wonderland, mua: alice-pc, client: \"A\\nB\"}"),
        "domains.example.org.users.alice.client",
        "must be one line without line breaks",
        id="client-with-line-break",
    ),
    pytest.param(
        edit("at: 5s", "at: 10m"),
        "traffic[0].at",
        "10m is too late: the simulation stops at 10m",
        id="traffic-at-the-very-end",
    ),
    pytest.param(
        edit("    mda: mail.example.org\n", "    mda: mail.example.org\n    postmaster: carol\n"),
        "domains.example.org.postmaster",
        "'carol' is not a user of example.org",
        id="postmaster-not-a-user",
    ),
    pytest.param(
        edit("      bob: {password: builder}", "      bob: {password: builder}\n"
             "      Bob: {password: other}"),
        "domains.example.org.users.Bob",
        "'Bob' and 'bob' differ only in case",
        id="users-differing-in-case",
    ),
    pytest.param(
        edit("      bob: {password: builder}", '      "x>y": {password: builder}'),
        "domains.example.org.users.x>y",
        'expected a user name such as "alice" or "j.doe"',
        id="user-name-smtp-cannot-carry",
    ),
    pytest.param(
        edit("to: [bob@example.org]", "to: [a..b@example.org]"),
        "traffic[0].to[0]",
        "dots between words",
        id="recipient-with-two-dots",
    ),
]


def load_text(tmp_path: Path, text: str | bytes | None) -> ScenarioError:
    """Write `text` to a file (None: no file), load it and return the error."""
    path = tmp_path / "bad.yaml"
    if isinstance(text, bytes):
        path.write_bytes(text)
    elif text is not None:
        path.write_text(text, encoding="utf-8")
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    return caught.value


def assert_readable(err: ScenarioError) -> None:
    """No traces of Python or pydantic in what the student reads."""
    text = str(err)
    for noise in ("Traceback", "pydantic", "https://", "type=", "Value error", "Input should"):
        assert noise not in text


def test_base_is_valid(tmp_path: Path) -> None:
    path = tmp_path / "good.yaml"
    path.write_text(BASE, encoding="utf-8")
    assert load_scenario(path).name == "Errors"


@pytest.mark.parametrize(("text", "location", "fragment"), MISTAKES)
def test_mistake_is_reported(
    tmp_path: Path, text: str | bytes | None, location: str, fragment: str
) -> None:
    err = load_text(tmp_path, text)
    assert err.path == str(tmp_path / "bad.yaml")
    assert [p for p in err.problems if p.location == location and fragment in p.message], (
        f"no problem at {location!r} mentioning {fragment!r} in:\n{err}"
    )
    assert_readable(err)


def test_message_format_is_file_path_message(tmp_path: Path) -> None:
    err = load_text(tmp_path, edit("latency: 5ms", "latency: fast"))
    assert str(err) == (
        f"{tmp_path / 'bad.yaml'}: hosts.alice-pc.links[0].latency: "
        'expected a duration such as "250ms", "5m" or "2h", got "fast"'
    )


def test_every_problem_reported_one_per_line(tmp_path: Path) -> None:
    text = edit("latency: 5ms", "latency: fast").replace("192.0.2.1\n", "300.1.1.1\n")
    err = load_text(tmp_path, text.replace("name: Errors\n", ""))
    assert [p.location for p in err.problems] == [
        "name",
        "hosts.alice-pc.links[0].latency",
        "hosts.router.address",
    ]
    assert len(str(err).splitlines()) == 3


def test_all_cross_reference_problems_at_once(tmp_path: Path) -> None:
    text = edit("mta: mail.example.org", "mta: router").replace("at: 5s", "at: 1h")
    err = load_text(tmp_path, text)
    assert [p.location for p in err.problems] == ["domains.example.org.mta", "traffic[0].at"]


def test_directory_is_not_a_file(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError) as caught:
        load_scenario(tmp_path)
    assert caught.value.problems == [Problem("", "is a directory, not a scenario file")]


def test_validate_scenario_names_its_source() -> None:
    with pytest.raises(ScenarioError) as caught:
        validate_scenario({"name": "x", "hosts": {"a": {"address": "1.2.3.4", "rolez": []}}})
    assert str(caught.value).startswith("<python>: hosts.a.rolez: unknown field 'rolez'")
    assert_readable(caught.value)


def test_validate_scenario_rejects_non_mapping() -> None:
    with pytest.raises(ScenarioError) as caught:
        validate_scenario(["not", "a", "mapping"], source="lesson")  # type: ignore[arg-type]
    assert str(caught.value).startswith("lesson: expected the scenario's fields")


def test_python_construction_checks_references() -> None:
    with pytest.raises(ValidationError) as caught:
        Scenario(
            name="x",
            hosts={
                "a": Host(address="192.0.2.1", links=[{"to": "b", "latency": 1}]),
            },
        )
    assert "hosts.a.links[0].to: unknown host 'b'" in str(caught.value)
