"""TLS in the simulated world: handshakes on real paths, encrypted lines, policies."""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import pytest
import simpy
from simworld import (
    ALICE,
    BOB,
    NET_MTA,
    ORG_MTA,
    build,
    fates_by_recipient,
    mail,
    one,
    records,
    run_world,
    two_providers,
    with_user,
)

from simulator.agents.recording import Wire
from simulator.fates import Fate
from simulator.net.connection import EOF_MARK, Endpoint
from simulator.trace import Kind, TraceRecord
from simulator.world import World

# two_providers(): alice-pc -5ms- router -1ms- mail.example.org, router -20ms- mail.example.net
ALICE_TO_ORG_RTT = 2 * (0.005 + 0.001)
ORG_TO_NET_RTT = 2 * (0.001 + 0.020)


def with_tls(scenario: dict[str, Any], host: str, **tls: Any) -> dict[str, Any]:
    scenario["hosts"][host]["tls"] = tls
    return scenario


def session_lines(world: World, session: str) -> list[TraceRecord]:
    return records(world.trace, Kind.LINE, session=session)


def handshake(world: World, port: int) -> TraceRecord:
    """The first handshake on `port`."""
    return next(r for r in records(world.trace, Kind.TLS_HANDSHAKE) if r.data["port"] == port)


@pytest.mark.parametrize(("version", "round_trips"), [("1.3", 1), ("1.2", 2)])
def test_starttls_handshake_costs_its_round_trips(version: str, round_trips: int) -> None:
    scenario = with_tls(two_providers(traffic=[mail("1s", BOB)]), ORG_MTA, version=version)
    world = run_world(with_user(scenario, ALICE, submission_security="starttls"))
    done = handshake(world, 587)
    assert done.host == "alice-pc" and done.peer == ORG_MTA
    assert done.data["round_trips"] == round_trips
    assert done.data["version"] == f"TLSv{version}"
    # recorded at the ServerHello: one round trip (and the flights' serialisation) in
    assert done.data["seconds"] == pytest.approx(ALICE_TO_ORG_RTT, abs=0.002)
    ready = one([r for r in session_lines(world, done.session or "")
                 if r.text == "220 2.0.0 Ready to start TLS"])
    assert done.time - ready.time == pytest.approx(
        ALICE_TO_ORG_RTT / 2 + done.data["seconds"], abs=1e-5)


def test_lines_after_the_handshake_are_encrypted_and_ehlo_comes_again() -> None:
    scenario = with_tls(two_providers(traffic=[mail("1s", BOB)]), ORG_MTA)
    world = run_world(with_user(scenario, ALICE, submission_security="starttls"))
    done = handshake(world, 587)
    lines = session_lines(world, done.session or "")
    before = [r for r in lines if r.seq < done.seq]
    after = [r for r in lines if r.seq > done.seq]
    assert not any(r.data.get("encrypted") for r in before)
    assert all(r.data["encrypted"] for r in after)
    assert [r.text for r in before][-2:] == ["STARTTLS", "220 2.0.0 Ready to start TLS"]
    assert after[0].text == "EHLO alice-pc"  # RFC 3207 §4.2
    assert any(r.text.startswith("AUTH PLAIN") for r in after)
    assert not any(r.text.startswith("AUTH PLAIN") for r in before)
    assert fates_by_recipient(world.trace)[BOB].fate is Fate.DELIVERED


@pytest.mark.parametrize("version", ["1.3", "1.2"])
def test_implicit_tls_on_465_and_995_comes_before_the_greeting(version: str) -> None:
    """RFC 8314 §3: TLS first -- in TLS 1.2 too, where the server finishes first and greets."""
    scenario = with_tls(two_providers(traffic=[mail("1s", BOB)]), ORG_MTA, version=version)
    scenario["domains"]["example.net"]["users"]["bob"]["mua"] = None
    world = run_world(with_user(scenario, ALICE, submission_security="tls", mailbox_security="tls",
                            check_every="30s"))
    for port in (465, 995):
        done = handshake(world, port)
        assert done.data["implicit"] is True
        first = session_lines(world, done.session or "")[0]
        assert first.seq > done.seq and first.data["encrypted"] is True
    assert fates_by_recipient(world.trace)[BOB].fate is Fate.DELIVERED


def test_submission_refuses_auth_before_starttls() -> None:
    """Postfix smtpd_tls_auth_only: a client that does not upgrade gets 530 to AUTH."""
    scenario = with_tls(two_providers(traffic=[mail("1s", BOB)]), ORG_MTA,
                        require_for_auth=True)
    world = run_world(scenario)  # alice's client: submission_security none
    texts = [r.text for r in records(world.trace, Kind.LINE, host="alice-pc")]
    assert "250-AUTH PLAIN" not in texts  # not offered in clear
    assert not records(world.trace, Kind.TLS_HANDSHAKE)


def raw_client(world: World, port: int, sends: list[bytes]) -> None:
    """The stranger says each of `sends` to mail.example.org, reading one answer after each."""

    def talk() -> Generator[simpy.events.Event, Any, None]:
        yield world.env.timeout(1)
        endpoint = yield from world.ctx.network.connect("stranger", ORG_MTA, port)
        assert isinstance(endpoint, Endpoint)
        wire = Wire(endpoint)
        yield wire.recv()  # the greeting
        for data in sends:
            wire.send(data)
            if (yield wire.recv()) == EOF_MARK:
                break
        wire.close()

    world.env.process(talk())


def test_auth_before_starttls_gets_530() -> None:
    world = build(with_tls(two_providers(), ORG_MTA, require_for_auth=True))
    raw_client(world, 587, [b"EHLO x\r\n", b"AUTH PLAIN AGEAYg==\r\n", b"QUIT\r\n"])
    world = run_world(world)
    said = [r.text for r in records(world.trace, Kind.LINE, host=ORG_MTA)]
    assert "530 5.7.0 Must issue a STARTTLS command first" in said


def test_a_client_that_sends_no_handshake_after_starttls_is_hung_up_on() -> None:
    world = build(with_tls(two_providers(), ORG_MTA))
    raw_client(world, 25, [b"EHLO x\r\n", b"STARTTLS\r\n", b"MAIL FROM:<a@b>\r\n"])
    world = run_world(world)
    said = [r.text for r in records(world.trace, Kind.LINE, host=ORG_MTA)]
    assert said[-1] == "220 2.0.0 Ready to start TLS"  # nothing after: the garble ends it
    assert not records(world.trace, Kind.TLS_HANDSHAKE)
    closes = records(world.trace, Kind.TCP_CLOSE, host=ORG_MTA)
    assert closes and closes[0].time < 2.0


def test_a_client_requiring_starttls_keeps_mail_when_none_is_offered() -> None:
    world = run_world(with_user(two_providers(traffic=[mail("1s", BOB)]), ALICE,
                            submission_security="starttls"))
    queued = one(records(world.trace, Kind.MAIL_QUEUED))
    assert queued.data["reason"] == "the server offers no encryption (STARTTLS)"
    assert not any(r.text.startswith("AUTH") for r in records(world.trace, Kind.LINE))


def relay_session(world: World) -> list[TraceRecord]:
    connect = one([r for r in records(world.trace, Kind.TCP_CONNECT)
                   if r.host == ORG_MTA and r.data["port"] == 25])
    return session_lines(world, connect.session or "")


def test_the_relay_uses_starttls_when_offered() -> None:
    """Postfix smtp_tls_security_level = may: opportunistic encryption."""
    world = run_world(with_tls(two_providers(traffic=[mail("1s", BOB)]), NET_MTA, version="1.2"))
    lines = relay_session(world)
    assert "STARTTLS" in [r.text for r in lines]
    done = one(records(world.trace, Kind.TLS_HANDSHAKE))
    assert (done.host, done.peer, done.data["round_trips"]) == (ORG_MTA, NET_MTA, 2)
    assert done.data["seconds"] == pytest.approx(ORG_TO_NET_RTT, abs=0.002)  # to the ServerHello
    data_lines = [r for r in lines if r.text.startswith("MAIL FROM:")]
    assert data_lines and all(r.data["encrypted"] for r in data_lines)
    stored = world.mdas[NET_MTA].mailboxes[BOB].messages[0].content
    assert b"with ESMTPS id" in stored  # RFC 3848
    assert b"(using TLSv1.2 with cipher ECDHE-RSA-AES256-GCM-SHA384" in stored


def test_the_relay_sends_in_clear_when_starttls_is_not_offered() -> None:
    world = run_world(with_tls(two_providers(traffic=[mail("1s", BOB)]), NET_MTA,
                               starttls=False))
    lines = relay_session(world)
    assert "STARTTLS" not in [r.text for r in lines]
    assert not any(r.data.get("encrypted") for r in lines)
    assert fates_by_recipient(world.trace)[BOB].fate is Fate.DELIVERED


def test_pop3_stls_and_plaintext_refusal() -> None:
    scenario = with_tls(two_providers(traffic=[mail("1s", ALICE, sender=BOB)]), ORG_MTA,
                        require_for_auth=True)
    plain = run_world(with_user(scenario, ALICE, check_every="30s"))
    refusal = ("-ERR [AUTH] Plaintext authentication disallowed on non-secure (SSL/TLS) "
               "connections.")
    assert refusal in [r.text for r in records(plain.trace, Kind.LINE, protocol="pop3")]
    assert not records(plain.trace, Kind.MAIL_FETCHED)
    secure = run_world(with_user(scenario, ALICE, check_every="30s", mailbox_security="starttls"))
    texts = [r.text for r in records(secure.trace, Kind.LINE, protocol="pop3")]
    assert texts[:3] == ["+OK Dovecot ready.", "STLS", "+OK Begin TLS negotiation now."]
    assert one(records(secure.trace, Kind.MAIL_FETCHED)).data["user"] == ALICE


def test_without_eavesdroppers_connections_record_no_path() -> None:
    world = run_world(two_providers(traffic=[mail("1s", BOB)]))
    assert all("path" not in r.data for r in records(world.trace, Kind.TCP_CONNECT))
    scenario = two_providers(traffic=[mail("1s", BOB)],
                             eavesdroppers=[{"name": "spy", "host": "router"}])
    world = run_world(scenario)
    first = records(world.trace, Kind.TCP_CONNECT)[0]
    assert first.data["path"] == ["alice-pc", "router", ORG_MTA]
    tap = one(records(world.trace, Kind.TAP))
    assert (tap.time, tap.text) == (0.0, "spy listens on host router")
