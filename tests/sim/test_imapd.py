"""The MDA's IMAP service: shared mailboxes, IDLE push, TLS, hostile clients.

Each test plays scripted clients over the simulated network: a script is
a list of (bytes to send, bytes to wait for in the answers).
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass, field
from typing import Any

import simpy
from simworld import BOB, NET_MTA, build, mail, records, run_world, two_providers

from simulator.agents.reader import Reader
from simulator.agents.recording import Wire
from simulator.agents.tls import handshake
from simulator.net.connection import EOF_MARK, Endpoint
from simulator.trace import Kind, TraceRecord
from simulator.world import World

#: A step that runs the client's side of a TLS handshake (after STARTTLS).
HANDSHAKE = (b"", b"")
LOGIN = (b"a1 LOGIN bob@example.net builder\r\n", b"a1 OK")
SELECT = (b"a2 SELECT INBOX\r\n", b"a2 OK")
IDLE = (b"a3 IDLE\r\n", b"+ idling")
# bob-pc -5ms- router -20ms- mail.example.net
BOB_TO_NET_RTT = 2 * (0.005 + 0.020)


@dataclass
class Script:
    """What one scripted client got: every chunk with the time it arrived."""

    received: list[tuple[float, bytes]] = field(default_factory=list)
    finished: bool = False

    def text(self) -> bytes:
        return b"".join(chunk for _, chunk in self.received)

    def arrival(self, needle: bytes) -> float:
        """When the chunk holding `needle` arrived."""
        return next(when for when, chunk in self.received if needle in chunk)


def client(
    world: World, port: int, steps: list[tuple[bytes, bytes]], *, at: float = 1.0,
    host: str = "bob-pc", implicit_tls: bool = False, greeting: bytes = b"* OK",
) -> Script:
    """A scripted client of mail.example.net's `port`, starting at `at` seconds."""
    script = Script()
    env = world.env

    def talk() -> Generator[simpy.events.Event, Any, None]:
        yield env.timeout(at)
        endpoint = yield from world.ctx.network.connect(host, NET_MTA, port)
        assert isinstance(endpoint, Endpoint)
        wire = Wire(endpoint)
        if implicit_tls:
            yield from handshake(wire, Reader(endpoint, 60.0), None, True)
        buffer = b""
        for send, expect in [(b"", greeting), *steps]:
            if (send, expect) == HANDSHAKE:
                yield from handshake(wire, Reader(endpoint, 60.0), None, False)
                continue
            wire.send(send)
            while expect not in buffer:
                data = yield wire.recv()
                if data == EOF_MARK:
                    wire.close()
                    return
                buffer += data
                script.received.append((env.now, data))
            buffer = buffer[buffer.index(expect) + len(expect):]
        script.finished = True
        wire.close()

    env.process(talk())
    return script


def with_tls(scenario: dict[str, Any], **tls: Any) -> dict[str, Any]:
    scenario["hosts"][NET_MTA]["tls"] = tls
    return scenario


def lines(world: World, host: str = NET_MTA) -> list[TraceRecord]:
    return records(world.trace, Kind.LINE, host=host, protocol="imap")


def test_idle_is_told_of_a_delivery_within_a_round_trip() -> None:
    world = build(two_providers(traffic=[mail("20s", BOB)]))
    idler = client(world, 143, [LOGIN, SELECT, IDLE, (b"", b"* 1 EXISTS"),
                                (b"DONE\r\n", b"a3 OK"), (b"a4 LOGOUT\r\n", b"a4 OK")])
    world = run_world(world)
    assert idler.finished
    (delivered,) = records(world.trace, Kind.MAIL_DELIVERED, host=NET_MTA)
    pushed = next(r for r in lines(world) if r.text == "* 1 EXISTS")
    assert pushed.time == delivered.time  # sent at once, not at the next command
    assert idler.arrival(b"* 1 EXISTS") - delivered.time <= BOB_TO_NET_RTT


def test_pop3_deletion_reaches_an_idling_imap_session_as_expunge() -> None:
    world = build(two_providers(traffic=[mail("1s", BOB)]))
    idler = client(world, 143, [LOGIN, SELECT, IDLE, (b"", b"* 1 EXPUNGE"),
                                (b"DONE\r\n", b"a3 OK")], at=10.0)
    client(world, 110, [(b"USER bob@example.net\r\n", b"+OK"), (b"PASS builder\r\n", b"+OK"),
                        (b"DELE 1\r\n", b"+OK"), (b"QUIT\r\n", b"+OK")],
           at=20.0, host="stranger", greeting=b"+OK")
    world = run_world(world)
    assert idler.finished
    assert b"* 1 EXISTS" in idler.text() and b"* 1 EXPUNGE" in idler.text()
    assert not world.mdas[NET_MTA].mailboxes[BOB].messages


def test_seen_set_over_imap_does_not_hide_mail_from_pop3() -> None:
    world = build(two_providers(traffic=[mail("1s", BOB)]))
    client(world, 143, [LOGIN, SELECT, (b"a3 STORE 1 +FLAGS (\\Seen)\r\n", b"a3 OK"),
                        (b"a4 LOGOUT\r\n", b"a4 OK")], at=10.0)
    pop3 = client(world, 110, [(b"USER bob@example.net\r\n", b"+OK"),
                               (b"PASS builder\r\n", b"+OK"), (b"LIST\r\n", b"\r\n.\r\n"),
                               (b"QUIT\r\n", b"+OK")], at=20.0, greeting=b"+OK")
    world = run_world(world)
    assert b"+OK 1 messages" in pop3.text()
    (message,) = world.mdas[NET_MTA].mailboxes[BOB].messages
    assert "\\Seen" in message.flags


def test_an_imap_store_is_pushed_to_another_idling_session() -> None:
    world = build(two_providers(traffic=[mail("1s", BOB)]))
    phone = client(world, 143, [LOGIN, SELECT, IDLE, (b"", b"FETCH (FLAGS (\\Flagged))")],
                   at=10.0)
    client(world, 143, [LOGIN, SELECT, (b"a3 STORE 1 +FLAGS (\\Flagged)\r\n", b"a3 OK")],
           at=20.0, host="stranger")
    run_world(world)
    assert phone.finished
    assert phone.arrival(b"* 1 FETCH (FLAGS (\\Flagged))") < 21.0


def test_starttls_on_143_encrypts_what_follows() -> None:
    world = build(with_tls(two_providers(), require_for_auth=True))
    script = client(world, 143, [(b"a0 STARTTLS\r\n", b"a0 OK"), HANDSHAKE,
                                 (b"a1 CAPABILITY\r\n", b"a1 OK"), LOGIN,
                                 (b"a2 LOGOUT\r\n", b"a2 OK")])
    world = run_world(world)
    assert script.finished
    said = lines(world)
    assert "STARTTLS" in said[0].text and "LOGINDISABLED" in said[0].text
    assert [r.data.get("encrypted", False) for r in said[:2]] == [False, False]
    assert all(r.data.get("encrypted") for r in said[2:])
    capability = next(r.text for r in said if r.text.startswith("* CAPABILITY"))
    assert "LOGINDISABLED" not in capability and "AUTH=PLAIN" in capability
    (done,) = records(world.trace, Kind.TLS_HANDSHAKE)
    assert (done.host, done.data["port"], done.data.get("implicit")) == ("bob-pc", 143, None)


def test_imaps_on_993_greets_after_the_handshake() -> None:
    world = build(with_tls(two_providers()))
    script = client(world, 993, [LOGIN, (b"a2 LOGOUT\r\n", b"a2 OK")], implicit_tls=True)
    world = run_world(world)
    assert script.finished
    said = lines(world) + lines(world, "bob-pc")
    assert said and all(r.data.get("encrypted") for r in said)
    assert "STARTTLS" not in said[0].text and "AUTH=PLAIN" in said[0].text
    (done,) = records(world.trace, Kind.TLS_HANDSHAKE)
    assert (done.data["port"], done.data["implicit"]) == (993, True)


def test_required_tls_disables_login_in_clear() -> None:
    world = build(with_tls(two_providers(), require_for_auth=True))
    script = client(world, 143, [(b"a1 LOGIN bob@example.net builder\r\n", b"a1 NO")])
    world = run_world(world)
    assert script.finished
    assert b"a1 NO [PRIVACYREQUIRED]" in script.text()
    assert not any(r.text.startswith("a1 OK") for r in lines(world))


def test_hostile_bytes_get_bad_or_no_and_the_session_survives() -> None:
    world = build(two_providers(traffic=[mail("1s", BOB)]))
    script = client(world, 143, [
        (b"\x00\xff\x16garbage\r\n", b"BAD"), LOGIN,
        (b"a2 FETCH 1 BODY[]\r\n", b"a2 BAD"),  # no folder selected yet
        (b"a3 SELECT {4000000}\r\n", b"BAD"),  # a literal larger than a command may be
    ])
    again = client(world, 143, [
        LOGIN, (b"x y z\r\n", b"BAD"), (b'a2 SELECT "unterminated\r\n', b"a2 BAD"),
        (b"a3 STORE 1 +FLAGS (\\Seen\r\n", b"a3 BAD"), SELECT,
        (b"a4 FETCH 99 FLAGS\r\n", b"a4 "), (b"a5 NOOP\r\n", b"a5 OK"),
        (b"a6 LOGOUT\r\n", b"a6 OK"),
    ], at=20.0, host="stranger")
    world = run_world(world)
    assert again.finished
    assert b"* BYE" in script.text()
    assert world.mdas[NET_MTA].mailboxes[BOB].messages  # nothing lost on the way
    assert b"a4 BAD" in again.text() or b"a4 NO" in again.text()
