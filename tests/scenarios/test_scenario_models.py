"""Scenario models: a valid file loads, units parse, defaults apply, Python == YAML."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import TypeAdapter, ValidationError

from simulator.scenario import (
    ARecord,
    Bandwidth,
    Domain,
    Duration,
    Host,
    Link,
    MxRecord,
    Role,
    Scenario,
    Submission,
    TxtRecord,
    User,
    format_bandwidth,
    format_duration,
    load_scenario,
    scenario_json_schema,
    validate_scenario,
)

FIRST_EMAIL = """\
name: First e-mail
description: |
  alice@example.org writes to bob@example.net.
seed: 1
duration: 10m
hosts:
  alice-pc:
    address: 192.0.2.10
    roles: [mua]
    links:
      - to: isp-a
        latency: 5ms
        bandwidth: 100Mbit
  isp-a:
    address: 192.0.2.1
    links:
      - {to: mail.example.org, latency: 2ms}
      - {to: Mail.Example.NET., latency: 40ms, bandwidth: 1Gbit}
      - {to: bob-pc, latency: 5ms}
  mail.example.org:
    address: 198.51.100.25
    roles: [mta, mda]
  mail.example.net:
    address: 203.0.113.25
    roles: [mta, mda]
  bob-pc:
    address: 203.0.113.10
    roles: [mua]
dns:
  example.org:
    - {type: MX, preference: 10, exchange: mail.example.org}
  example.net:
    - {type: MX, preference: 10, exchange: mail.example.net}
  www.example.org:
    - {type: A, address: 198.51.100.80}
  example.org.:
    - {type: TXT, text: "v=spf1 mx -all"}
domains:
  example.org:
    mta: mail.example.org
    mda: mail.example.org
    users:
      alice:
        password: wonderland
        mua: alice-pc
        check_every: 2m
        keep_on_server: true
  example.net:
    mta: mail.example.net
    mda: mail.example.net
    users:
      bob: {password: builder, mua: bob-pc}
traffic:
  - at: 5s
    from: alice@example.org
    to: [bob@example.net]
    subject: Hello Bob
    body: |
      Hi Bob
"""


@pytest.fixture
def first_email(tmp_path: Path) -> Scenario:
    """The first bundled scenario, loaded from a YAML file."""
    path = tmp_path / "first-email.yaml"
    path.write_text(FIRST_EMAIL, encoding="utf-8")
    return load_scenario(path)


def test_valid_scenario_loads(first_email: Scenario) -> None:
    assert first_email.name == "First e-mail"
    assert list(first_email.hosts) == [
        "alice-pc",
        "isp-a",
        "mail.example.org",
        "mail.example.net",
        "bob-pc",
    ]
    assert first_email.duration == 600.0
    assert first_email.hosts["isp-a"].links[1] == Link(
        to="mail.example.net", latency=0.040, bandwidth=1e9
    )
    assert first_email.hosts["mail.example.org"].roles == [Role.MTA, Role.MDA]


def test_dns_owner_spellings_merge(first_email: Scenario) -> None:
    assert first_email.dns["example.org"] == [
        MxRecord(preference=10, exchange="mail.example.org"),
        TxtRecord(text="v=spf1 mx -all"),
    ]
    assert first_email.dns["www.example.org"] == [ARecord(address="198.51.100.80")]


def test_accessors(first_email: Scenario) -> None:
    users = first_email.users()
    assert [(entry.address, entry.domain) for entry in users] == [
        ("alice@example.org", "example.org"),
        ("bob@example.net", "example.net"),
    ]
    assert first_email.user("alice@Example.ORG") is users[0].user
    assert first_email.user("carol@example.org") is None
    assert first_email.domain_of("bob@example.net") is first_email.domains["example.net"]
    assert first_email.domain_of("x@nowhere.test") is None
    assert [(link.a, link.b) for link in first_email.links()][:2] == [
        ("alice-pc", "isp-a"),
        ("isp-a", "mail.example.org"),
    ]
    assert first_email.hosts_with_role("mua") == ["alice-pc", "bob-pc"]


def test_traffic_reads_from_alias(first_email: Scenario) -> None:
    message = first_email.traffic[0]
    assert (message.at, message.sender) == (5.0, "alice@example.org")
    assert message.to == ["bob@example.net"]
    assert message.body == "Hi Bob\n"
    assert message.model_dump(by_alias=True)["from"] == "alice@example.org"


DURATIONS = [
    ("250ms", 0.25),
    ("1.5s", 1.5),
    ("20s", 20.0),
    ("5m", 300.0),
    ("2h", 7200.0),
    ("4d", 345600.0),
    ("500us", 0.0005),
    (" 10 m ", 600.0),
    ("7", 7.0),
    (12, 12.0),
    (0.5, 0.5),
    (0, 0.0),
    ("365d", 365 * 86400.0),
    (-0.0, 0.0),
]


@pytest.mark.parametrize(("text", "seconds"), DURATIONS)
def test_duration_parses(text: object, seconds: float) -> None:
    assert TypeAdapter(Duration).validate_python(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["fast", "-5s", "5 minutes", "1e3x", "", -1, True, None, "5M"])
def test_duration_rejects(text: object) -> None:
    with pytest.raises(ValidationError) as caught:
        TypeAdapter(Duration).validate_python(text)
    assert 'expected a duration such as "250ms", "5m" or "2h"' in str(caught.value)


@pytest.mark.parametrize(
    "text", ["366d", "8761h", 365 * 86400 + 1, 10**400, float("inf"), "9" * 400 + "s"]
)
def test_duration_is_at_most_a_year(text: object) -> None:
    with pytest.raises(ValidationError) as caught:
        TypeAdapter(Duration).validate_python(text)
    assert "must be at most 365d (a simulated year)" in str(caught.value)


BANDWIDTHS = [
    ("56kbit", 56e3),
    ("10Mbit", 10e6),
    ("1Gbit", 1e9),
    ("9600bit", 9600.0),
    ("100Mbit/s", 100e6),
    ("100Mbitps", 100e6),
    ("100Mbps", 100e6),
    ("2.5Gbit", 2.5e9),
    ("64Kbit", 64e3),
    (1_000_000, 1e6),
    (1.5e6, 1.5e6),
]


@pytest.mark.parametrize(("text", "bits"), BANDWIDTHS)
def test_bandwidth_parses(text: object, bits: float) -> None:
    assert TypeAdapter(Bandwidth).validate_python(text) == pytest.approx(bits)


@pytest.mark.parametrize("text", ["fast", "10MB", "10mbit", "0bit", 0, -5, "Mbit", None])
def test_bandwidth_rejects(text: object) -> None:
    with pytest.raises(ValidationError) as caught:
        TypeAdapter(Bandwidth).validate_python(text)
    assert 'expected a bandwidth such as "100Mbit" or "56kbit"' in str(caught.value)


@pytest.mark.parametrize("text", ["0.5bit", 0.5, "1001Gbit", 1e13, float("inf"), 10**400])
def test_bandwidth_is_between_1bit_and_1000gbit(text: object) -> None:
    with pytest.raises(ValidationError) as caught:
        TypeAdapter(Bandwidth).validate_python(text)
    assert "must be between 1bit and 1000Gbit" in str(caught.value)


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (600.0, "10m"),
        (0.25, "250ms"),
        (90.0, "90s"),
        (1.5, "1.5s"),
        (0, "0s"),
        (0.0005, "500us"),
        (7200.0, "2h"),
    ],
)
def test_format_duration(seconds: float, text: str) -> None:
    assert format_duration(seconds) == text


def test_format_bandwidth() -> None:
    assert [format_bandwidth(b) for b in (1e8, 56e3, 9600.0, 2.5e9)] == [
        "100Mbit",
        "56kbit",
        "9.6kbit",
        "2.5Gbit",
    ]


def test_defaults_applied() -> None:
    scenario = validate_scenario(
        {
            "name": "Defaults",
            "hosts": {
                "pc": {
                    "address": "192.0.2.1",
                    "roles": ["mua"],
                    "links": [{"to": "mx", "latency": 0}],
                },
                "mx": {"address": "2001:DB8::25", "roles": ["mta", "mda"]},
            },
            "domains": {
                "example.org": {
                    "mta": "mx",
                    "mda": "mx",
                    "users": {
                        "al": {"password": "p"},
                        "bo": {"password": "q", "mua": "pc"},
                    },
                }
            },
            "traffic": [{"at": 1, "from": "bo@example.org", "to": "x@example.net"}],
        }
    )
    user = scenario.users()[0].user
    assert (scenario.seed, scenario.duration) == (1, 3600.0)
    assert (scenario.description, scenario.dns, scenario.hosts["mx"].links) == ("", {}, [])
    assert scenario.hosts["pc"].links[0].bandwidth == 100e6
    assert scenario.hosts["mx"].address == "2001:db8::25"
    assert (user.mua, user.client, user.check_every, user.keep_on_server) == (
        None,
        "POP3 client",
        300.0,
        False,
    )
    assert scenario.traffic[0].to == ["x@example.net"]
    assert (scenario.traffic[0].subject, scenario.traffic[0].body) == ("", "")


def _built_in_python() -> Scenario:
    return Scenario(
        name="First e-mail",
        description="alice@example.org writes to bob@example.net.\n",
        duration="10m",
        hosts={
            "alice-pc": Host(
                address="192.0.2.10",
                roles=[Role.MUA],
                links=[Link(to="isp-a", latency="5ms", bandwidth="100Mbit")],
            ),
            "isp-a": Host(
                address="192.0.2.1",
                links=[
                    Link(to="mail.example.org", latency=0.002),
                    Link(to="mail.example.net", latency="40ms", bandwidth=1e9),
                    Link(to="bob-pc", latency="5ms"),
                ],
            ),
            "mail.example.org": Host(address="198.51.100.25", roles=["mta", "mda"]),
            "mail.example.net": Host(address="203.0.113.25", roles=["mta", "mda"]),
            "bob-pc": Host(address="203.0.113.10", roles=["mua"]),
        },
        dns={
            "example.org": [
                MxRecord(preference=10, exchange="mail.example.org"),
                TxtRecord(text="v=spf1 mx -all"),
            ],
            "example.net": [MxRecord(preference=10, exchange="mail.example.net")],
            "www.example.org": [ARecord(address="198.51.100.80")],
        },
        domains={
            "example.org": Domain(
                mta="mail.example.org",
                mda="mail.example.org",
                users={
                    "alice": User(
                        password="wonderland", mua="alice-pc", check_every="2m", keep_on_server=True
                    ),
                },
            ),
            "example.net": Domain(
                mta="mail.example.net",
                mda="mail.example.net",
                users={"bob": User(password="builder", mua="bob-pc")},
            ),
        },
        traffic=[
            Submission(
                at="5s",
                sender="alice@example.org",
                to=["bob@example.net"],
                subject="Hello Bob",
                body="Hi Bob\n",
            )
        ],
    )


def test_python_equals_yaml(first_email: Scenario) -> None:
    assert _built_in_python() == first_email


def test_dump_and_validate_round_trip(first_email: Scenario) -> None:
    dumped = json.loads(first_email.model_dump_json(by_alias=True))
    assert validate_scenario(dumped) == first_email


def test_models_are_frozen(first_email: Scenario) -> None:
    with pytest.raises(ValidationError):
        first_email.seed = 2  # type: ignore[misc]
    assert first_email.seed == 1


def test_json_schema() -> None:
    schema = scenario_json_schema()
    assert isinstance(schema, dict)
    assert "hosts" in schema["properties"]
    assert schema["required"] == ["name", "hosts"]
    assert "latency" in schema["$defs"]["Link"]["required"]
    assert "One-way" in schema["$defs"]["Link"]["properties"]["latency"]["description"]
    assert "from" in schema["$defs"]["Submission"]["properties"]
    assert "?P<" not in json.dumps(schema)  # patterns must be ECMA-262, not Python
