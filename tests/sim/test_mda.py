"""The MDA: final delivery headers and the POP3 service (RFC 1939)."""

from __future__ import annotations

from simworld import (
    ALICE,
    BOB,
    NET_MTA,
    build,
    fates_by_recipient,
    lines,
    mail,
    mailbox,
    one,
    records,
    run_world,
    two_providers,
)

from simulator.agents.mua import Mua, MuaConfig
from simulator.fates import Fate
from simulator.trace import Kind, TraceRecord


def _bob(**settings: object) -> dict:
    scenario = two_providers(traffic=[mail("1s", BOB)])
    scenario["domains"]["example.net"]["users"]["bob"].update(settings)
    return scenario


def test_final_delivery_puts_return_path_and_delivered_to_on_top() -> None:
    world = run_world(_bob())
    stored = one(mailbox(world, NET_MTA, BOB))
    first, second, third = stored.split(b"\r\n")[:3]
    assert first == f"Return-Path: <{ALICE}>".encode()  # RFC 5321 §4.4: the reverse-path
    assert second == f"Delivered-To: {BOB}".encode()
    assert third.startswith(b"Received: from mail.example.org ")
    delivered = one(records(world.trace, Kind.MAIL_DELIVERED))
    assert (delivered.host, delivered.data["mailbox"]) == (NET_MTA, BOB)
    assert delivered.message == one(records(world.trace, Kind.MAIL_COMPOSED)).message


def test_pop3_download_deletes_only_at_quit() -> None:
    world = build(_bob(check_every="2m"))
    box = world.mdas[NET_MTA].mailboxes[BOB]
    seen_at_quit: list[int] = []

    def watch(record: TraceRecord) -> None:
        if record.kind is Kind.LINE and record.host == "bob-pc" and record.text == "QUIT":
            seen_at_quit.append(len(box.messages))

    world.trace.subscribe(watch)
    run_world(world)
    client = lines(world.trace, host="bob-pc", protocol="pop3")
    assert client.index("RETR 1") < client.index("DELE 1") < client.index("QUIT")
    # DELE only marks (RFC 1939 §6): the message is still there when QUIT is sent.
    assert seen_at_quit[0] == 1
    assert box.messages == []
    assert len(world.muas[BOB].inbox) == 1
    assert world.muas[BOB].inbox[0].startswith(f"Return-Path: <{ALICE}>".encode())
    fetched = one(records(world.trace, Kind.MAIL_FETCHED))
    assert fetched.message == one(records(world.trace, Kind.MAIL_COMPOSED)).message
    assert fetched.data["user"] == BOB
    # The second check (at 240 s) finds an empty maildrop.
    assert lines(world.trace, host=NET_MTA, protocol="pop3").count("+OK 0 0") == 1
    assert fates_by_recipient(world.trace)[BOB].fate is Fate.DELIVERED


def test_keep_on_server_keeps_mail_and_does_not_fetch_it_twice() -> None:
    world = run_world(_bob(check_every="2m", keep_on_server=True))
    sessions = {r.session for r in records(world.trace, Kind.TCP_CONNECT, host="bob-pc")}
    assert len(sessions) == 2  # checks at 120 s and 240 s
    client = lines(world.trace, host="bob-pc", protocol="pop3")
    assert client.count("RETR 1") == 1
    assert not any(text.startswith("DELE") for text in client)
    assert len(mailbox(world, NET_MTA, BOB)) == 1
    assert len(records(world.trace, Kind.MAIL_FETCHED)) == 1
    assert len(world.muas[BOB].inbox) == 1


def test_wrong_pop3_password_downloads_nothing() -> None:
    scenario = _bob()
    del scenario["domains"]["example.net"]["users"]["bob"]["mua"]
    world = build(scenario)
    config = MuaConfig(
        address=BOB,
        password="not-builder",
        submission_host=NET_MTA,
        mailbox_host=NET_MTA,
        check_every=120.0,
    )
    mua = Mua(world.ctx, "bob-pc", config)
    run_world(world)
    notes = records(world.trace, Kind.NOTE, host="bob-pc", protocol="pop3")
    assert len(notes) == 2 and all("login failed" in n.text for n in notes)
    server = lines(world.trace, host=NET_MTA, protocol="pop3")
    assert "-ERR [AUTH] Authentication failed." in server  # RFC 3206 §5
    client = lines(world.trace, host="bob-pc", protocol="pop3")
    assert not any(text.startswith(("STAT", "RETR", "DELE")) for text in client)
    assert client[-1] == "QUIT"
    assert not records(world.trace, Kind.MAIL_FETCHED)
    assert mua.inbox == []
    assert len(mailbox(world, NET_MTA, BOB)) == 1
    assert not world.mdas[NET_MTA].mailboxes[BOB].pop3_locked
