"""Hostile scenario files: every bound holds, and every answer is one readable line per problem.

Deep nesting, huge numbers, alias bombs, endless durations, far-future
traffic, control characters and unknown bundled names each once crashed
or hung `mailsim`; here each gets its one-line message and exit status 2.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest
import yaml

from simulator.cli import main
from simulator.scenario import ScenarioError, limits, load_scenario, validate_scenario
from simulator.scenario.limits import (
    MAX_BODY,
    MAX_CHECKS,
    MAX_DEPTH,
    MAX_FILE_BYTES,
    MAX_HOSTS,
    MAX_MESSAGES,
    MAX_RECIPIENTS,
    MAX_TITLE,
    MAX_USERS_PER_DOMAIN,
    MAX_VALUES,
)
from simulator.scenario.safe_yaml import FastLoader, read_yaml
from simulator.trace import Kind, TraceRecord
from simulator.trace_data import Note, TcpConnect

BASE = """\
name: Limits
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
domains:
  example.org:
    mta: mail.example.org
    mda: mail.example.org
    users:
      alice: {password: wonderland, mua: alice-pc, check_every: 2m}
      bob: {password: builder}
traffic:
  - at: 5s
    from: alice@example.org
    to: [bob@example.org]
    subject: Hi
"""

LOADERS = [
    pytest.param(True, id="libyaml", marks=pytest.mark.skipif(
        FastLoader is None, reason="PyYAML built without libyaml")),
    pytest.param(False, id="pure-python"),
]


def edit(old: str, new: str) -> str:
    """BASE with one change."""
    assert old in BASE, old
    return BASE.replace(old, new, 1)


def write(tmp_path: Path, text: str | bytes, name: str = "bad.yaml") -> Path:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def error_of(tmp_path: Path, text: str | bytes) -> ScenarioError:
    with pytest.raises(ScenarioError) as caught:
        load_scenario(write(tmp_path, text))
    assert_one_line_each(caught.value)
    return caught.value


def assert_one_line_each(err: ScenarioError) -> None:
    """One printable line per problem, each naming the file."""
    lines = str(err).split("\n")
    assert len(lines) == len(str(err).splitlines())
    assert all(line.isprintable() for line in lines), lines
    assert len(lines) <= 51
    assert "Traceback" not in str(err)


def problem(err: ScenarioError, location: str, fragment: str) -> None:
    found = [p for p in err.problems if p.location == location and fragment in p.message]
    assert found, f"no problem at {location!r} mentioning {fragment!r} in:\n{err}"


def validate_cli(path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    status = main(["validate", str(path)])
    return status, capsys.readouterr().err


# --- 7: deep nesting ---------------------------------------------------------------


@pytest.mark.parametrize("fast", LOADERS)
@pytest.mark.parametrize("opening", ["[", "{a: "])
def test_deep_nesting_is_refused(fast: bool, opening: str) -> None:
    closing = "]" if opening == "[" else "}"
    text = "name: " + opening * 500 + "x" + closing * 500 + "\n"
    with pytest.raises(yaml.MarkedYAMLError) as caught:
        read_yaml(text, fast=fast)
    assert f"nested more than {MAX_DEPTH} levels deep" in str(caught.value.problem)


def test_deep_nesting_is_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, "name: " + "[" * 500 + "]" * 500 + "\n")
    status, err = validate_cli(path, capsys)
    assert status == 2
    nested = "lists and mappings are nested more than 20 levels deep"
    assert err == f"{path}: line 1, column 26: {nested}\n"


def test_nesting_up_to_the_limit_is_fine() -> None:
    lists = MAX_DEPTH - 1  # inside the top-level mapping
    expected: Any = []
    for _ in range(lists - 1):
        expected = [expected]
    assert read_yaml("a: " + "[" * lists + "]" * lists) == {"a": expected}
    with pytest.raises(yaml.MarkedYAMLError):
        read_yaml("a: " + "[" * (lists + 1) + "]" * (lists + 1))


# --- 8: numbers too long or too large --------------------------------------------------


@pytest.mark.parametrize(
    ("old", "new", "where", "fragment"),
    [
        ("duration: 10m", "duration: 10m\nseed: " + "9" * 5000, "line 3, column 7",
         "is longer than 100 characters"),
        ("duration: 10m", "duration: 0x" + "f" * 5000, "line 2, column 11",
         "is longer than 100 characters"),
        ("latency: 5ms", "latency: 1.0e+400", "line 8, column 41",
         'number "1.0e+400" is too large'),
        ("latency: 5ms", "latency: !!int abc", "line 8, column 41", '"abc" is not a number'),
    ],
    ids=["5000-digit-seed", "huge-hex", "float-overflow", "int-tag-on-text"],
)
def test_numbers_too_long_or_too_large_are_refused(
    tmp_path: Path, old: str, new: str, where: str, fragment: str
) -> None:
    problem(error_of(tmp_path, edit(old, new)), where, fragment)


def test_an_integer_too_big_for_a_float_is_a_duration_out_of_range() -> None:
    data = yaml.safe_load(BASE)
    data["duration"] = 10**400
    with pytest.raises(ScenarioError) as caught:
        validate_scenario(data)
    assert str(caught.value) == (
        "<python>: duration: must be at most 365d (a simulated year), "
        "got a number of 401 digits"
    )


def test_a_long_integer_is_described_not_printed(tmp_path: Path) -> None:
    err = error_of(tmp_path, edit("duration: 10m", "duration: 10m\nseed: " + "9" * 60))
    problem(err, "seed", "must be at most 9223372036854775807, got a number of 60 digits")


# --- 9: alias bombs --------------------------------------------------------------------


def alias_bomb(levels: int) -> str:
    lines = ['lol0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for level in range(1, levels + 1):
        lines.append(f"lol{level}: &a{level} [" + ", ".join([f"*a{level - 1}"] * 9) + "]")
    return "name: bomb\n" + "\n".join(lines) + "\nhosts: {}\n"


@pytest.mark.parametrize("fast", LOADERS)
@pytest.mark.parametrize("levels", [7, 9, 30])
def test_an_alias_bomb_is_refused_before_it_is_built(fast: bool, levels: int) -> None:
    with pytest.raises(yaml.MarkedYAMLError) as caught:
        read_yaml(alias_bomb(levels), fast=fast)
    assert f"more than {MAX_VALUES} values once expanded" in str(caught.value.problem)


def test_an_alias_bomb_of_text_is_refused(tmp_path: Path) -> None:
    text = "name: &a " + "x" * 900_000 + "\nhosts: [" + ", ".join(["*a"] * 5) + "]\n"
    err = error_of(tmp_path, text)
    assert "alias *a makes the scenario too big: more than 4000000 characters" in str(err)


def test_an_alias_inside_its_own_anchor_is_refused(tmp_path: Path) -> None:
    err = error_of(tmp_path, edit("roles: [mua]", "roles: &r [*r]"))
    problem(err, "line 6, column 16", "alias *r is inside its own anchor &r")


def test_ordinary_anchors_aliases_and_merge_keys_still_work(tmp_path: Path) -> None:
    text = edit(
        "      alice: {password: wonderland, mua: alice-pc, check_every: 2m}\n"
        "      bob: {password: builder}",
        "      alice: &user {password: wonderland, mua: alice-pc, check_every: 2m}\n"
        "      bob: {<<: *user, password: builder}",
    )
    scenario = load_scenario(write(tmp_path, text, "good.yaml"))
    assert scenario.user("bob@example.org").mua == "alice-pc"
    assert scenario.user("bob@example.org").password == "builder"


# --- 10 and 11: durations, times and counts -------------------------------------------------


@pytest.mark.parametrize(
    ("old", "new", "location"),
    [
        ("duration: 10m", "duration: 100000000d", "duration"),
        ("duration: 10m", 'duration: "' + "9" * 400 + 's"', "duration"),
        ("duration: 10m", "duration: .inf", "duration"),
        ("duration: 10m", "duration: 366d", "duration"),
        ("latency: 5ms", "latency: 1000000h", "hosts.alice-pc.links[0].latency"),
        ("at: 5s", "at: 400d", "traffic[0].at"),
        ("check_every: 2m", "check_every: 1.0e+20", "domains.example.org.users.alice.check_every"),
    ],
    ids=["100000000d", "400-digit-string", "inf", "366d", "latency", "at", "check_every"],
)
def test_every_duration_is_at_most_a_year(
    tmp_path: Path, old: str, new: str, location: str
) -> None:
    problem(error_of(tmp_path, edit(old, new)), location, "must be at most 365d")


def test_a_year_is_allowed_but_polling_is_bounded(tmp_path: Path) -> None:
    text = edit("duration: 10m", "duration: 365d").replace("check_every: 2m", "check_every: 10s")
    problem(
        error_of(tmp_path, text), "domains.example.org.users.alice.check_every",
        f"checking every 10s for 365d is more than {MAX_CHECKS} POP3 checks in one run: "
        "check every 32s or more",
    )
    load_scenario(write(tmp_path, text.replace("check_every: 10s", "check_every: 32s"), "ok.yaml"))


@pytest.mark.parametrize(
    ("bandwidth", "fragment"),
    [("0.5bit", "between 1bit and 1000Gbit"), ("2000Gbit", "between 1bit and 1000Gbit"),
     ("1e400", "between 1bit and 1000Gbit"), (".nan", "expected a bandwidth")],
)
def test_bandwidth_is_bounded(tmp_path: Path, bandwidth: str, fragment: str) -> None:
    text = edit("latency: 5ms}", f"latency: 5ms, bandwidth: {bandwidth}}}")
    if bandwidth == "1e400":
        text = text.replace("1e400", '"' + "1" + "0" * 400 + 'bit"')
    problem(error_of(tmp_path, text), "hosts.alice-pc.links[0].bandwidth", fragment)


def _data() -> dict[str, Any]:
    data = yaml.safe_load(BASE)
    assert isinstance(data, dict)
    return data


def _too_many_hosts(data: dict[str, Any]) -> None:
    data["hosts"].update({f"h{n}": {"address": f"10.0.{n // 250}.{n % 250}"}
                          for n in range(MAX_HOSTS - 1)})


def _too_many_recipients(data: dict[str, Any]) -> None:
    data["traffic"][0]["to"] = [f"u{n}@example.org" for n in range(MAX_RECIPIENTS + 1)]


def _too_many_messages(data: dict[str, Any]) -> None:
    data["traffic"] = data["traffic"] * (MAX_MESSAGES + 1)


def _too_many_users(data: dict[str, Any]) -> None:
    users = data["domains"]["example.org"]["users"]
    users.update({f"u{n}": {"password": "p"} for n in range(MAX_USERS_PER_DOMAIN - 1)})


@pytest.mark.parametrize(
    ("change", "location", "limit"),
    [
        (_too_many_hosts, "hosts", MAX_HOSTS),
        (_too_many_recipients, "traffic[0].to", MAX_RECIPIENTS),
        (_too_many_messages, "traffic", MAX_MESSAGES),
        (_too_many_users, "domains.example.org.users", MAX_USERS_PER_DOMAIN),
    ],
    ids=["hosts", "recipients", "messages", "users"],
)
def test_counts_are_bounded(change: Any, location: str, limit: int) -> None:
    data = _data()
    change(data)
    with pytest.raises(ScenarioError) as caught:
        validate_scenario(data)
    problem(caught.value, location, f"must have at most {limit} entries, got {limit + 1}")


@pytest.mark.parametrize(
    ("field", "value", "location", "fragment"),
    [
        ("name", "x" * (MAX_TITLE + 1), "name", f"at most {MAX_TITLE} characters long"),
        ("body", "x" * (MAX_BODY + 1), "traffic[0].body", f"at most {MAX_BODY} characters long"),
        ("name", "a\x1b[2Jb", "name", "must not contain control characters (found U+001B"),
        ("subject", "Hi\u2028Bcc: x", "traffic[0].subject", "must be one line"),
        ("subject", "\u202egnp.exe", "traffic[0].subject", "found U+202E"),
        ("body", "a\x00b", "traffic[0].body", "other than line breaks and tabs (found U+0000"),
        ("password", "p\x00w", "domains.example.org.users.alice.password", "found U+0000"),
    ],
    ids=["long-name", "long-body", "escape-in-name", "line-separator", "bidi-override",
         "nul-in-body", "nul-in-password"],
)
def test_texts_are_bounded_and_visible(
    field: str, value: str, location: str, fragment: str
) -> None:
    data = _data()
    if field == "name":
        data["name"] = value
    elif field == "password":
        data["domains"]["example.org"]["users"]["alice"]["password"] = value
    else:
        data["traffic"][0][field] = value
    with pytest.raises(ScenarioError) as caught:
        validate_scenario(data)
    problem(caught.value, location, fragment)
    assert_one_line_each(caught.value)


def test_traffic_far_in_the_future_is_refused_not_crashed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = edit("duration: 10m", "duration: 3000001d").replace("at: 5s", "at: 3000000d")
    path = write(tmp_path, text, "future.yaml")
    assert main(["run", str(path), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert f"{path}: duration: must be at most 365d (a simulated year), got \"3000001d\"" in err
    assert f"{path}: traffic[0].at: must be at most 365d" in err


def test_the_latest_times_allowed_run_to_the_end(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = (
        edit("duration: 10m", "duration: 365d")
        .replace("at: 5s", "at: 31535999.999s")
        .replace("check_every: 2m", "check_every: 365d")
        .replace("{password: builder}", "{password: builder, mua: alice-pc, check_every: 365d}")
    )
    path = write(tmp_path, text, "year.yaml")
    trace = tmp_path / "year.jsonl"
    assert main(["run", str(path), "--quiet", "--trace", str(trace)]) == 0
    records = [json.loads(line, parse_constant=_no_constants) for line in trace.open()]
    assert records[-1]["kind"] == Kind.SIM_END.value
    assert max(record["time"] for record in records) <= 365 * 86400
    capsys.readouterr()


def test_the_longest_latency_allowed_runs(tmp_path: Path) -> None:
    text = edit("duration: 10m", "duration: 365d").replace("latency: 5ms", "latency: 365d")
    text = text.replace("check_every: 2m", "check_every: 365d")
    path = write(tmp_path, text, "slow.yaml")
    assert main(["run", str(path), "--quiet"]) == 0


def _no_constants(name: str) -> None:
    raise AssertionError(f"{name} in a JSON trace")


@pytest.mark.parametrize("number", [math.nan, math.inf, -math.inf])
def test_a_trace_record_never_writes_nan_or_infinity(number: float) -> None:
    with pytest.raises(ValueError, match="JSON"):
        connect = TcpConnect(port=25, rtt=number)
        TraceRecord(0, 0.0, Kind.TCP_CONNECT, "h", payload=connect).to_json()
    with pytest.raises(ValueError, match="JSON"):
        TraceRecord(0, number, Kind.NOTE, "h", payload=Note()).to_json()


# --- 12: one line per problem, whatever the file holds ------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (b'name: "ab\x01c"\n', 'line 1, column 10: YAML syntax error: invisible character U+0001'),
        (b"name: x\nhosts:\n  \"a\\nb\": {address: 192.0.2.1}\n",
         'hosts.a\\nb: expected a name such as "mail.example.org" or "alice-pc", got "a\\nb"'),
        (b"name: x\nhosts:\n  \"a\\x1b[31mred\": {address: 192.0.2.1}\n",
         'hosts.a\\x1b[31mred: expected a name'),
        (b"name: x\nhosts:\n  a:\n    address: \"\\x1b]0;pwned\\x07\"\n",
         'got "\\x1b]0;pwned\\x07"'),
        (b"name: x\nhosts: {a: {address: 192.0.2.1, \"\\u2028\": 1}}\n", "unknown field '\\u2028'"),
        (b"name: \"\\ud83d\"\nhosts: {}\n", "\\ud83d is half of a UTF-16 surrogate pair"),
        (b"name: x\r\nhosts: {a: {address: \"\\r\\x85\"}}\r\n", 'got "\\r\\x85"'),
    ],
    ids=["raw-control-character", "newline-in-key", "escape-in-key", "escape-in-value",
         "line-separator-key", "surrogate", "carriage-return"],
)
def test_invisible_characters_are_escaped_on_one_line(
    tmp_path: Path, text: bytes, expected: str
) -> None:
    err = error_of(tmp_path, text)
    assert expected in str(err)


def test_a_file_name_with_a_line_break_stays_on_one_line(tmp_path: Path) -> None:
    path = write(tmp_path, "name: [\n", "bad\nname\x1b.yaml")
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    assert str(caught.value).startswith(f"{tmp_path}/bad\\nname\\x1b.yaml: line 2, column 1: ")
    assert_one_line_each(caught.value)


@pytest.mark.parametrize(
    "tag", ["!!python/object:os.system", "!!python/name:os.system", "!!binary", "!!set",
            "!!omap", "!!pairs", "!local"],
)
def test_only_plain_yaml_tags_are_allowed(tmp_path: Path, tag: str) -> None:
    err = error_of(tmp_path, edit("roles: [mua]", f"roles: {tag} [mua]"))
    problem(err, "line 6, column 12", f"YAML tag {tag} is not allowed")


def test_dates_stay_text(tmp_path: Path) -> None:
    scenario = load_scenario(write(tmp_path, edit("name: Limits", "name: 2026-03-02"), "d.yaml"))
    assert scenario.name == "2026-03-02"


def test_negative_zero_is_zero(tmp_path: Path) -> None:
    scenario = load_scenario(write(tmp_path, edit("latency: 5ms", "latency: -0.0"), "z.yaml"))
    assert math.copysign(1.0, scenario.hosts["alice-pc"].links[0].latency) == 1.0


def test_a_file_too_large_is_refused_unread(tmp_path: Path) -> None:
    err = error_of(tmp_path, BASE + "#" * MAX_FILE_BYTES)
    assert err.problems[0].message == (
        f"file too large: a scenario file may hold at most {MAX_FILE_BYTES} bytes"
    )


def test_a_very_broken_file_lists_the_first_problems(tmp_path: Path) -> None:
    err = error_of(tmp_path, BASE + "".join(f"extra{n}: 1\n" for n in range(500)))
    lines = str(err).splitlines()
    assert len(lines) == 51
    more = "... and 450 more problems; fix the ones above first"
    assert lines[-1] == f"{tmp_path / 'bad.yaml'}: {more}"


# --- 15: a bundled scenario's name that does not exist --------------------------------------


@pytest.mark.parametrize("command", ["run", "validate"])
def test_an_unknown_bundled_name_lists_the_bundled_scenarios(
    command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([command, "01-first-mail"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(
        "01-first-mail: file not found, and no bundled scenario has that name "
        "(did you mean '01-first-email'? bundled: 01-first-email, 02-unknown-user"
    )
    assert len(err.splitlines()) == 1


def test_a_missing_path_is_just_not_found(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["validate", str(tmp_path / "03-missing.yaml")]) == 2
    assert capsys.readouterr().err == f"{tmp_path / '03-missing.yaml'}: file not found\n"


# --- both YAML parsers agree ----------------------------------------------------------------


@pytest.mark.skipif(FastLoader is None, reason="PyYAML built without libyaml")
@pytest.mark.parametrize(
    "text",
    [BASE, "a: [1, 2\n", "a: 1\na: 2\n", "a: *nope\n", "a: b: c\n", "- a\nb: c\n", '"\\ud800"'],
)
def test_both_parsers_give_the_same_data_or_the_same_message(text: str) -> None:
    def outcome(fast: bool) -> str:
        try:
            return repr(read_yaml(text, fast=fast))
        except yaml.YAMLError as err:
            return str(err)

    assert outcome(True) == outcome(False)


# --- the README tells the same numbers -------------------------------------------------------


def test_the_readme_lists_every_limit() -> None:
    readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    section = readme.split("### Limits", 1)[1].split("\n#", 1)[0]
    numbers = {name: value for name, value in vars(limits).items() if name.startswith("MAX_")}
    assert numbers
    for name, value in numbers.items():
        shown = "365d" if name == "MAX_DURATION" else f"{value:,}"
        assert shown in section, f"README's limits table does not show {name} = {shown}"
