"""The scenario fields of mail clients: profiles, overrides, devices, webmail hosts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from simulator.cli import EXIT_USAGE, main
from simulator.profiles import DEFAULT_PROFILE, PROFILES, Access, Place
from simulator.protocols.tls import ConnectionSecurity
from simulator.scenario import ScenarioError, load_scenario
from simulator.scenario.clients import client_devices
from simulator.scenario.models import Scenario, User

BASE = """\
name: Clients
duration: 10m
hosts:
  bob-laptop: {address: 192.0.2.10, roles: [mua], links: [{to: mail.example.org, latency: 5ms}]}
  bob-phone: {address: 192.0.2.11, roles: [mua], links: [{to: mail.example.org, latency: 9ms}]}
  web.example.org:
    address: 198.51.100.80
    roles: [webmail]
    links: [{to: mail.example.org, latency: 1ms}]
  mail.example.org:
    address: 198.51.100.25
    roles: [mta, mda]
    tls: {version: "1.3"}
domains:
  example.org:
    mta: mail.example.org
    mda: mail.example.org
    webmail: web.example.org
    users:
      bob:
        password: builder
        profile: thunderbird
        devices:
          - {host: bob-laptop}
          - {host: bob-phone, profile: outlook, check_every: 15m}
      carol: {password: secret, mua: bob-laptop}
"""
BOB = "domains.example.org.users.bob"


def mistake(old: str, new: str, location: str, fragment: str, id: str,
            also: tuple[str, str] = ("", "")) -> object:
    """One mistake: `old` becomes `new` (and `also`'s first text its second, if given)."""
    return pytest.param(old, new, location, fragment, also, id=id)

MISTAKES = [
    mistake("profile: thunderbird", "profile: thunderbolt", f"{BOB}.profile",
                 "unknown profile 'thunderbolt' (known: pop3, thunderbird", id="unknown-profile"),
    mistake("{host: bob-laptop}", "{host: bob-tablet}", f"{BOB}.devices[0].host",
                 "unknown host 'bob-tablet'", id="device-unknown-host"),
    mistake("{host: bob-laptop}", "{host: web.example.org}", f"{BOB}.devices[0].host",
                 "does not have role mua", id="device-without-role-mua"),
    mistake("{host: bob-phone,", "{host: bob-laptop,", f"{BOB}.devices[1].host",
                 "listed twice", id="device-twice"),
    mistake("{host: bob-laptop}", "{host: bob-laptop, idle: sometimes}",
                 f"{BOB}.devices[0].idle", "true or false", id="device-idle-not-bool"),
    mistake("{host: bob-laptop}", "{hots: bob-laptop}", f"{BOB}.devices[0].hots",
                 "unknown", id="device-unknown-key"),
    mistake("profile: outlook,", "profile: outlook-pop3, idle: true,",
                 f"{BOB}.devices[1].idle", "POP3 has no IDLE", id="pop3-idle"),
    mistake("profile: outlook,", "profile: pop3, save_sent: true,",
                 f"{BOB}.devices[1].save_sent", "only IMAP can APPEND", id="pop3-save-sent"),
    mistake("        profile: thunderbird\n", "        profile: thunderbird\n"
                 "        mua: bob-laptop\n", f"{BOB}.devices", "not both", id="mua-and-devices"),
    mistake("    webmail: web.example.org\n", "", f"{BOB}.devices[1].profile",
                 "give the domain a 'webmail' host", id="webmail-without-host",
                 also=("profile: outlook", "profile: roundcube")),
    mistake("    webmail: web.example.org\n", "", f"{BOB}.profile",
                 "give the domain a 'webmail' host", id="user-webmail-without-host",
                 also=("profile: thunderbird", "profile: roundcube")),
    mistake("{host: bob-laptop}", "{host: bob-laptop, profile: roundcube, idle: true}",
                 f"{BOB}.devices[0].idle", "means nothing there", id="webmail-idle"),
    mistake("{host: bob-laptop}", "{host: bob-laptop, keep_on_server: true}",
                 f"{BOB}.devices[0].keep_on_server", "keep_on_server is POP3's",
                 id="imap-keep-on-server"),
    mistake("        devices:\n          - {host: bob-laptop}\n          - {host: bob-phone, "
                 "profile: outlook, check_every: 15m}\n", "        devices: []\n",
                 f"{BOB}.devices", "give at least one device", id="no-devices",
                 also=("duration: 10m\n", "duration: 10m\ntraffic: [{at: 1m, from: "
                       "bob@example.org, to: [carol@example.org], subject: Hi, body: Hi}]\n")),
    mistake('    tls: {version: "1.3"}\n', "", f"{BOB}.profile",
                 "on 993 with TLS, but mail.example.org has no 'tls' block",
                 id="tls-client-plain-server"),
    mistake("webmail: web.example.org", "webmail: bob-phone",
                 "domains.example.org.webmail", "does not have role webmail",
                 id="webmail-host-role"),
    mistake("check_every: 15m", "check_every: 1s", f"{BOB}.devices[1].check_every",
                 "IMAP checks in one run", id="device-polls-too-often",
                 also=("duration: 10m", "duration: 365d")),
]


def load_scenario_text(tmp_path: Path, text: str) -> Scenario:
    path = tmp_path / "clients.yaml"
    path.write_text(text, encoding="utf-8")
    return load_scenario(path)


def user(scenario: Scenario, address: str) -> User:
    found = scenario.user(address)
    assert found is not None
    return found


def test_a_user_habit_is_reported_once_where_it_is_written(tmp_path: Path) -> None:
    text = BASE.replace("    webmail: web.example.org\n", "").replace(
        "profile: outlook,", "profile: roundcube,").replace("profile: thunderbird",
                                                            "profile: roundcube")
    with pytest.raises(ScenarioError) as caught:
        load_scenario_text(tmp_path, text)
    webmail = [p.location for p in caught.value.problems if "'webmail' host" in p.message]
    assert webmail == [f"{BOB}.profile", f"{BOB}.devices[1].profile"]


@pytest.mark.parametrize(("old", "new", "location", "fragment", "also"), MISTAKES)
def test_mistake_is_reported_at_its_field(
    tmp_path: Path, old: str, new: str, location: str, fragment: str, also: tuple[str, str],
) -> None:
    assert old in BASE
    text = BASE.replace(old, new, 1)
    if also[0]:
        text = text.replace(*also)
    with pytest.raises(ScenarioError) as caught:
        load_scenario_text(tmp_path, text)
    err = caught.value
    found = [p for p in err.problems if p.location == location and fragment in p.message]
    assert found, f"no problem at {location!r} mentioning {fragment!r} in:\n{err}"


def test_profiles_and_overrides_settle_per_device(tmp_path: Path) -> None:
    scenario = load_scenario_text(tmp_path, BASE)
    laptop, phone = client_devices(user(scenario, "bob@example.org"))
    assert laptop.host == "bob-laptop" and laptop.settings == PROFILES["thunderbird"]
    assert phone.settings.name == "outlook" and phone.settings.check_every == 900.0
    assert phone.settings.client == "Microsoft Outlook" and not phone.settings.idle
    (carol,) = client_devices(user(scenario, "carol@example.org"))
    assert carol.settings == PROFILES[DEFAULT_PROFILE]  # no profile: the plain POP3 client
    assert carol.settings.access is Access.POP3 and carol.settings.mailbox_port == 110


def test_a_user_override_applies_to_every_device_and_a_device_override_wins(
    tmp_path: Path,
) -> None:
    text = BASE.replace("        profile: thunderbird\n",
                        "        profile: thunderbird\n        mailbox_security: starttls\n"
                        "        check_every: 2m\n")
    laptop, phone = client_devices(user(load_scenario_text(tmp_path, text), "bob@example.org"))
    assert laptop.settings.mailbox_security is ConnectionSecurity.STARTTLS
    assert laptop.settings.mailbox_port == 143 and laptop.settings.check_every == 120.0
    assert phone.settings.mailbox_security is ConnectionSecurity.STARTTLS
    assert phone.settings.check_every == 900.0


def test_every_profile_names_its_ports_and_a_source() -> None:
    for profile in PROFILES.values():
        assert profile.source
        assert profile.submission_port in (587, 465)
        expected = {Access.IMAP: (143, 993), Access.POP3: (110, 995)}[profile.access]
        assert profile.mailbox_port in expected
        if profile.place is Place.WEBMAIL:
            assert profile.access is Access.IMAP and profile.save_sent
    assert PROFILES["thunderbird"].idle and not PROFILES["outlook"].idle
    assert PROFILES["roundcube"].check_every == 60.0


def test_the_cli_exits_2_naming_file_and_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(BASE.replace("{host: bob-laptop}", "{host: nowhere}"), encoding="utf-8")
    assert main(["validate", str(path)]) == EXIT_USAGE
    assert f"{path}: {BOB}.devices[0].host: unknown host 'nowhere'" in capsys.readouterr().err


def test_the_json_schema_has_profiles_and_devices(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema"]) == 0
    schema = json.loads(capsys.readouterr().out)
    definitions = schema["$defs"]
    user = definitions["User"]["properties"]
    assert {"profile", "devices", "idle", "save_sent", "check_every"} <= set(user)
    assert {"host", "profile", "idle"} <= set(definitions["Device"]["properties"])
    assert "webmail" in definitions["Domain"]["properties"]
    assert "thunderbird" in json.dumps(user["profile"])
