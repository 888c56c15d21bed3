"""Sessions no reply ends: the relay's verdicts come from event types, never made-up replies.

A fake exchanger, flaky.example.net, listens on port 25 and misbehaves: it
hangs up after the greeting, falls silent, or answers with garbage.  The
sending MTA reports each case as Postfix does (smtp_trouble.c): a deferral
with its own verdict -- "lost connection with ...", "conversation with ...
timed out" -- shown in a DSN with the `X-Postfix` diagnostic type, and no
SMTP reply appears that the server did not send.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from dataclasses import replace
from email import message_from_bytes
from typing import Any

import pytest
import simpy
from simworld import (
    ALICE,
    BOB,
    NET_MTA,
    ORG_MTA,
    SMTP_PORT,
    add_host,
    build,
    fates_by_recipient,
    mail,
    mailbox,
    one,
    records,
    run_world,
    status_of,
    two_providers,
)

from simulator.agents.queue import RetryPolicy
from simulator.agents.recording import Wire
from simulator.agents.transfer import SMTP_CLIENT_TIMEOUT
from simulator.fates import Fate
from simulator.net.connection import EOF_MARK
from simulator.trace import Kind
from simulator.world import World

FLAKY = "flaky.example.net"
FLAKY_ADDRESS = "203.0.113.99"
WHERE = f"{FLAKY}[{FLAKY_ADDRESS}]"
GREETING = b"220 flaky.example.net ESMTP\r\n"

Behaviour = Callable[[Wire], Generator[simpy.events.Event, Any, None]]


def hang_up_after_ehlo(wire: Wire) -> Generator[simpy.events.Event, Any, None]:
    wire.send(GREETING)
    yield wire.recv()  # EHLO
    wire.close()


def fall_silent(wire: Wire) -> Generator[simpy.events.Event, Any, None]:
    wire.send(GREETING)
    while (yield wire.recv()) != EOF_MARK:
        pass
    wire.close()


def talk_garbage(wire: Wire) -> Generator[simpy.events.Event, Any, None]:
    wire.send(b"hello there\r\n")
    while (yield wire.recv()) != EOF_MARK:
        pass
    wire.close()


def flaky_world(behaviour: Behaviour, *, backup: bool = False, duration: str = "30m") -> World:
    """example.net's best (or only) MX is the fake exchanger."""
    scenario = two_providers(traffic=[mail("1s", BOB)], duration=duration)
    add_host(scenario, FLAKY, FLAKY_ADDRESS)
    mx = [{"type": "MX", "preference": 5, "exchange": FLAKY}]
    if backup:
        mx.append({"type": "MX", "preference": 10, "exchange": NET_MTA})
    scenario["dns"]["example.net"] = mx  # the host's own A record comes with it
    world = build(scenario)
    listener = world.ctx.network.listen(FLAKY, SMTP_PORT, "smtp")

    def accept() -> Generator[simpy.events.Event, Any, None]:
        while True:
            endpoint = yield listener.backlog.get()
            world.env.process(behaviour(Wire(endpoint)))

    world.env.process(accept())
    return world


def relay_lines(world: World) -> list[str]:
    return [r.text for r in records(world.trace, Kind.LINE, host=FLAKY)]


@pytest.mark.parametrize(
    ("behaviour", "status", "reply"),
    [
        (hang_up_after_ehlo, "4.4.2", f"lost connection with {WHERE}"),
        (fall_silent, "4.4.2", f"conversation with {WHERE} timed out"),
        (talk_garbage, "4.5.0",
         f"protocol error talking to {WHERE}: malformed reply: hello there"),
    ],
)  # fmt: skip
def test_a_session_cut_short_defers_with_the_mtas_own_verdict(
    behaviour: Behaviour, status: str, reply: str
) -> None:
    world = run_world(flaky_world(behaviour))
    deferred = records(world.trace, Kind.MAIL_DEFERRED, recipient=BOB)[0]
    assert (status_of(deferred), deferred.data["reply"]) == (status, reply)
    assert fates_by_recipient(world.trace)[BOB].fate is Fate.QUEUED
    # What the server said is all the trace shows: no 421 it never sent.
    said = relay_lines(world)
    assert said and all(text in ("220 flaky.example.net ESMTP", "hello there") for text in said)
    assert not any(r.text.startswith("421") for r in records(world.trace, Kind.LINE))


def test_a_silent_server_is_given_up_after_the_client_timeout() -> None:
    world = run_world(flaky_world(fall_silent))
    greeting = records(world.trace, Kind.LINE, host=FLAKY)[0]
    deferred = records(world.trace, Kind.MAIL_DEFERRED, recipient=BOB)[0]
    # The EHLO answers the greeting one transit later; then 300 s of silence.
    assert deferred.time - greeting.time == pytest.approx(SMTP_CLIENT_TIMEOUT, abs=0.1)


def test_a_lost_connection_moves_on_to_the_next_exchanger() -> None:
    world = run_world(flaky_world(hang_up_after_ehlo, backup=True))
    assert not records(world.trace, Kind.MAIL_DEFERRED)
    relayed = one(records(world.trace, Kind.MAIL_RELAYED, recipient=BOB, host=ORG_MTA))
    assert relayed.data["relay"] == NET_MTA
    assert fates_by_recipient(world.trace)[BOB].fate is Fate.DELIVERED


def test_an_expired_lost_connection_bounces_with_an_x_postfix_diagnostic() -> None:
    world = flaky_world(hang_up_after_ehlo, duration="20m")
    mta = world.mtas[ORG_MTA]
    mta.config = replace(mta.config, retry=RetryPolicy(
        minimal_backoff=60.0, maximal_backoff=60.0, queue_lifetime=300.0, queue_run_delay=50.0,
    ))  # fmt: skip
    run_world(world)
    bounced = one(records(world.trace, Kind.MAIL_BOUNCED, recipient=BOB))
    assert (status_of(bounced), bounced.data["reply"]) == ("4.4.2", f"lost connection with {WHERE}")
    dsn = message_from_bytes(one(mailbox(world, ORG_MTA, ALICE)))
    status_part = " ".join(dsn.get_payload()[1].as_string().split())  # type: ignore[index]
    assert f"Diagnostic-Code: X-Postfix; lost connection with {WHERE}" in status_part
    assert "Status: 4.4.2" in status_part
    assert "Remote-MTA" not in status_part  # no server answered


def test_mail_that_would_loop_back_bounces_with_5_4_6_as_an_mta_verdict() -> None:
    """Postfix smtp_addr.c: the best MX is this very host -- no server is asked."""
    scenario = two_providers(traffic=[mail("1s", BOB)])
    scenario["dns"]["example.net"] = [{"type": "MX", "preference": 10, "exchange": ORG_MTA}]
    world = run_world(scenario)
    bounced = one(records(world.trace, Kind.MAIL_BOUNCED, recipient=BOB))
    assert (status_of(bounced), bounced.data["reply"]) == (
        "5.4.6", "mail for example.net loops back to myself",
    )  # fmt: skip
    dsn = message_from_bytes(one(mailbox(world, ORG_MTA, ALICE)))
    status_part = " ".join(dsn.get_payload()[1].as_string().split())  # type: ignore[index]
    assert "Diagnostic-Code: X-Postfix; mail for example.net loops back to myself" in status_part
