"""`452 4.5.3 Error: too many recipients`: the rest go in a further transaction.

A server may take fewer recipients per transaction than a message has
(Postfix smtpd_recipient_limit; RFC 5321 §4.5.3.1.10 says the reply is
452).  A real client -- Postfix's smtp, a desktop MUA -- delivers to the
accepted ones and sends the others in a new transaction right away; it
neither leaves them in the Outbox nor waits for the next queue run.
"""

from __future__ import annotations

from dataclasses import replace

from simworld import (
    ALICE,
    BOB,
    NET_MTA,
    ORG_MTA,
    build,
    fates_by_recipient,
    lines,
    mail,
    records,
    run_world,
    smtp_answers,
    status_of,
    two_providers,
)

from simulator.fates import Fate
from simulator.trace import Kind
from simulator.world import World

DAVE = "dave@example.net"
ERIN = "erin@example.net"


def _world(to: list[str], host: str, limit: int) -> World:
    scenario = two_providers(traffic=[mail("1s", to)])
    users = scenario["domains"]["example.net"]["users"]
    users["dave"] = {"password": "d"}
    users["erin"] = {"password": "e"}
    world = build(scenario)
    mta = world.mtas[host]
    mta.config = replace(mta.config, recipient_limit=limit)
    return world


def _replies_to(world: World, client: str, command: str) -> list[str]:
    """The server's replies to the lines `client` sent that start with `command`.

    The client pipelines (RFC 2920): replies are matched in command order.
    """
    said = records(world.trace, Kind.LINE)
    answers = smtp_answers(said)
    return [answers[line.seq].text for line in said
            if line.host == client and line.text.startswith(command)]  # fmt: skip


def _mail_froms(world: World, client: str, server: str) -> list[str]:
    return [t for t in lines(world.trace, host=client, peer=server) if t.startswith("MAIL FROM")]


def test_the_mua_submits_the_refused_recipients_in_a_second_transaction() -> None:
    world = run_world(_world([BOB, DAVE], ORG_MTA, limit=1))
    assert _replies_to(world, "alice-pc", f"RCPT TO:<{DAVE}>") == [
        "452 4.5.3 Error: too many recipients",  # smtpd_recipient_limit = 1
        "250 2.1.5 Ok",  # in the second transaction
    ]
    sessions = {r.session for r in records(world.trace, Kind.TCP_CONNECT, host="alice-pc")}
    assert len(sessions) == 1  # the same connection, a new MAIL FROM
    assert len(_mail_froms(world, "alice-pc", ORG_MTA)) == 2
    assert world.muas[ALICE].outbox == []
    assert not records(world.trace, Kind.MAIL_QUEUED)
    fates = fates_by_recipient(world.trace)
    assert (fates[BOB].fate, fates[DAVE].fate) == (Fate.DELIVERED, Fate.DELIVERED)


def test_the_relay_sends_the_refused_recipients_in_a_second_transaction() -> None:
    world = run_world(_world([BOB, DAVE, ERIN], NET_MTA, limit=2))
    assert _replies_to(world, ORG_MTA, f"RCPT TO:<{ERIN}>") == [
        "452 4.5.3 Error: too many recipients",
        "250 2.1.5 Ok",
    ]
    assert len(_mail_froms(world, ORG_MTA, NET_MTA)) == 2
    assert not records(world.trace, Kind.MAIL_DEFERRED)  # not left for the next queue run
    fates = fates_by_recipient(world.trace)
    assert [fates[r].fate for r in (BOB, DAVE, ERIN)] == [Fate.DELIVERED] * 3
    assert fates[ERIN].ended_at is not None and fates[ERIN].ended_at < 5.0


def test_one_recipient_per_transaction_still_reaches_everyone() -> None:
    world = run_world(_world([BOB, DAVE, ERIN], NET_MTA, limit=1))
    assert len(_mail_froms(world, ORG_MTA, NET_MTA)) == 3
    fates = fates_by_recipient(world.trace)
    assert [fates[r].fate for r in (BOB, DAVE, ERIN)] == [Fate.DELIVERED] * 3


def test_a_server_that_takes_no_recipient_at_all_defers_without_looping() -> None:
    world = run_world(_world([BOB, DAVE], NET_MTA, limit=0))
    assert len(_mail_froms(world, ORG_MTA, NET_MTA)) == 1  # no progress: no second try now
    deferred = records(world.trace, Kind.MAIL_DEFERRED, host=ORG_MTA)
    assert sorted(r.data["recipient"] for r in deferred) == [BOB, DAVE]
    assert {status_of(r) for r in deferred} == {"4.5.3"}
    fates = fates_by_recipient(world.trace)
    assert (fates[BOB].fate, fates[DAVE].fate) == (Fate.QUEUED, Fate.QUEUED)
