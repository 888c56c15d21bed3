"""Mail client profiles in a small world: IMAP polling and IDLE, POP3 leave-a-copy, webmail.

Built on `two_providers()`: alice@example.org sends, bob@example.net
reads on one or two devices with the habits of a profile.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from simworld import BOB, NET_MTA, add_host, build, mail, records, run_world, two_providers

from simulator.agents.imap_client import ImapReader
from simulator.trace import Kind
from simulator.world import World


def bob_reads_with(bob: dict[str, Any], *, duration: str = "10m", webmail: bool = False,
                   traffic: tuple[str, ...] = ("1m",)) -> World:
    scenario = two_providers(duration=duration,
                             traffic=[mail(at, BOB, subject=f"Hi {at}") for at in traffic])
    add_host(scenario, "bob-phone", "203.0.113.141", roles=("mua",))
    net = scenario["domains"]["example.net"]
    net["users"]["bob"] = {"password": "builder", **bob}
    if webmail:
        add_host(scenario, "webmail.example.net", "203.0.113.80", roles=("webmail",),
                 link_to=NET_MTA, latency="1ms")
        net["webmail"] = "webmail.example.net"
    return run_world(scenario)


def imap_lines(world: World, host: str) -> list[str]:
    sessions = {r.session for r in records(world.trace, Kind.TCP_CONNECT, host=host)}
    return [r.text for r in world.trace.of_kind(Kind.LINE) if r.session in sessions]


def test_a_polling_imap_client_checks_on_its_beat_and_never_idles() -> None:
    world = bob_reads_with({"mua": "bob-pc", "profile": "outlook", "check_every": "4m",
                            "mailbox_security": "none", "submission_security": "none"})
    connects = records(world.trace, Kind.TCP_CONNECT, host="bob-pc")
    # the checks, and at 5:00 a session of its own to mark read what bob opened
    assert [r.time for r in connects] == pytest.approx([0.0, 240.0, 300.0, 480.0], abs=1.0)
    assert {r.data["port"] for r in connects} == {143}
    said = imap_lines(world, "bob-pc")
    assert not any(text.endswith(" IDLE") for text in said)
    assert sum(text.endswith(" LOGOUT") for text in said) == 4
    assert "A0004 UID STORE 1 +FLAGS (\\Seen)" in said
    (got,) = records(world.trace, Kind.MAIL_FETCHED, host="bob-pc")
    assert got.time == pytest.approx(240.0, abs=1.0) and got.protocol == "imap"


def test_an_idle_client_renews_its_idle_within_29_minutes() -> None:
    world = bob_reads_with({"mua": "bob-pc", "profile": "thunderbird", "check_every": "1h",
                            "mailbox_security": "none", "submission_security": "none"},
                           duration="1h", traffic=())
    (connect,) = records(world.trace, Kind.TCP_CONNECT, host="bob-pc")
    dones = [r.time for r in world.trace.of_kind(Kind.LINE)
             if r.session == connect.session and r.text == "DONE"]
    assert dones and dones[0] == pytest.approx(29 * 60, abs=1.0)  # RFC 2177 §3
    said = imap_lines(world, "bob-pc")
    assert said.count("+ idling") == 3  # at start, after 29 min, after 58 min


def test_pop3_leave_a_copy_lets_both_devices_download_it() -> None:
    world = bob_reads_with({"profile": "pop3", "keep_on_server": True, "devices": [
        {"host": "bob-pc", "check_every": "2m"}, {"host": "bob-phone", "check_every": "3m"}]})
    hosts = [r.host for r in records(world.trace, Kind.MAIL_FETCHED)]
    assert hosts == ["bob-pc", "bob-phone"]
    assert "DELE 1" not in imap_lines(world, "bob-pc")
    assert len(world.muas[BOB].inbox) == 1 and len(world.other_devices[0].inbox) == 1


def test_a_webmail_user_reads_in_the_browser_and_nothing_else_leaves_the_device() -> None:
    world = bob_reads_with({"mua": "bob-pc", "profile": "roundcube", "check_every": "2m"},
                           webmail=True)
    ports = {r.data["port"] for r in records(world.trace, Kind.TCP_CONNECT, host="bob-pc")}
    assert ports == {443}
    (got,) = records(world.trace, Kind.MAIL_FETCHED)
    assert got.host == "webmail.example.net" and got.data["via"] == "bob-pc"
    assert got.time == pytest.approx(120.0, abs=1.0)
    (page,) = world.muas[BOB].inbox
    assert b"Subject: Hi 1m" in page


def test_a_sent_copy_that_cannot_be_saved_is_told_not_lost() -> None:
    scenario = two_providers(duration="2m")
    scenario["domains"]["example.net"]["users"]["bob"].update(
        profile="outlook", mailbox_security="none", submission_security="none")
    world = build(scenario)
    reader = world.muas[BOB].reader
    assert isinstance(reader, ImapReader)
    reader.account = replace(reader.account, mailbox_host="bob-pc")  # nothing listens there
    reader.save_sent(b"Subject: Hi\r\n\r\nHello.\r\n")
    run_world(world)
    notes = [r.text for r in records(world.trace, Kind.NOTE, host="bob-pc")]
    assert "Microsoft Outlook: could not save a copy in Sent" in notes
    assert any(n.startswith("Microsoft Outlook: cannot reach the incoming server on 143")
               for n in notes)


def test_a_webmail_has_no_outbox_what_it_did_not_send_is_an_error_in_the_page() -> None:
    scenario = two_providers(duration="2m", traffic=[mail("30s", "alice@example.org",
                                                          sender=BOB)])
    add_host(scenario, "webmail.example.net", "203.0.113.80", roles=("webmail",),
             link_to=NET_MTA, latency="1ms")
    net = scenario["domains"]["example.net"]
    net["webmail"] = "webmail.example.net"
    # the MSA offers no STARTTLS, and this webmail will not submit without it
    net["users"]["bob"].update(profile="roundcube", submission_security="starttls")
    world = run_world(scenario)
    (left,) = records(world.trace, Kind.MAIL_QUEUED, host="webmail.example.net")
    assert left.text == ("Roundcube Webmail: not sent, the page showed an error "
                         "for <alice@example.org>")


def test_two_browsers_of_one_webmail_user_each_list_and_show_the_mail() -> None:
    world = bob_reads_with({"profile": "roundcube", "devices": [{"host": "bob-pc"},
                                                                {"host": "bob-phone"}]},
                           webmail=True, duration="3m")
    got = records(world.trace, Kind.MAIL_FETCHED)
    assert sorted(r.data["via"] for r in got) == ["bob-pc", "bob-phone"]
    cookies = {line.text for line in world.trace.of_kind(Kind.LINE)
               if line.text.startswith("Cookie: ")}
    assert len(cookies) == 2  # a session of its own for each browser


def test_a_webmail_user_sends_through_the_webmail_and_keeps_a_copy_in_sent() -> None:
    scenario = two_providers(duration="5m", traffic=[mail("30s", "alice@example.org",
                                                          sender=BOB, subject="From the web")])
    add_host(scenario, "webmail.example.net", "203.0.113.80", roles=("webmail",),
             link_to=NET_MTA, latency="1ms")
    net = scenario["domains"]["example.net"]
    net["webmail"] = "webmail.example.net"
    net["users"]["bob"].update(profile="roundcube")
    world = run_world(scenario)
    (composed,) = records(world.trace, Kind.MAIL_COMPOSED)
    assert composed.host == "webmail.example.net"
    assert world.muas[BOB].outbox == []
    mailbox = world.mdas[NET_MTA].mailboxes[BOB]
    sent_folder = mailbox.folder("Sent")
    assert sent_folder is not None
    (sent,) = sent_folder.messages
    assert sent.message_id == composed.message and "\\Seen" in sent.flags


def test_an_imap_client_with_starttls_logs_in_only_inside_tls() -> None:
    scenario = two_providers(duration="2m", traffic=[mail("30s", BOB)])
    scenario["hosts"][NET_MTA]["tls"] = {"version": "1.2", "require_for_auth": True}
    scenario["domains"]["example.net"]["users"]["bob"].update(
        profile="thunderbird", mailbox_security="starttls")
    world = run_world(scenario)
    (connect,) = records(world.trace, Kind.TCP_CONNECT, host="bob-pc")
    assert connect.data["port"] == 143
    said = [r for r in world.trace.of_kind(Kind.LINE) if r.session == connect.session]
    login = next(r for r in said if " AUTHENTICATE PLAIN" in r.text)  # Thunderbird: SASL PLAIN
    assert login.data["encrypted"] and not said[1].data.get("encrypted", False)
    assert said[1].text == "A0001 STARTTLS"
    (got,) = records(world.trace, Kind.MAIL_FETCHED, host="bob-pc")
    assert got.time - 30.0 < 1.0  # IDLE inside TLS pushes as well
