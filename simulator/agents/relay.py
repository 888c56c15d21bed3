"""Relaying: finding the next hop by MX lookup and handing mail over SMTP.

For each destination domain the MTA asks DNS for MX records (RFC 5321
§5.1): with none, the domain's own address is its implicit MX.  Like
Postfix (smtp_addr.c), it then looks up the address of every exchanger
before trying any, and if one of them is this very host -- by name or by
address -- drops it together with every exchanger it is not preferred to.
What is left is tried best first, address by address, until one takes part
in an SMTP session on port 25; a session that breaks off before any
recipient got a reply of its own (a 421, a lost connection, a timeout, a
reply that makes no sense) moves on to the next one.  Encryption is
opportunistic, as Postfix's smtp_tls_security_level = may: STARTTLS when
the server offers it, in clear when it does not.  The result is one
`Outcome` per recipient: a server's reply, or the MTA's own verdict,
chosen by reply code and event type alone.
"""

from __future__ import annotations

import random
from collections.abc import Generator, MutableMapping
from dataclasses import dataclass
from typing import Any

import simpy

from simulator.agents.context import SimContext
from simulator.agents.transfer import Answer, transfer
from simulator.agents.verdicts import Outcome, Verdict
from simulator.net.connection import ConnectError
from simulator.net.dns import MxRecord, Rcode, order_exchangers
from simulator.protocols.smtp import SMTP_PORT, Envelope, Reply, SmtpClientConfig
from simulator.protocols.tls import TlsPolicy
from simulator.trace import Kind
from simulator.trace_data import Note

#: RFC 5321 §3.8: the server is closing the channel -- try the next exchanger.
SERVICE_CLOSING = 421


@dataclass(frozen=True, slots=True)
class Hop:
    """A message on its way to one destination domain."""

    sender: str
    recipients: tuple[str, ...]
    content: bytes
    message_id: str | None


@dataclass(frozen=True, slots=True)
class Target:
    """One address of one exchanger, with the exchanger's MX preference."""

    preference: int
    exchange: str
    address: str


@dataclass
class Exchangers:
    """The addresses worth trying for a domain, and what was learnt finding them."""

    targets: list[Target]
    unresolved: list[tuple[MxRecord, Outcome]]  # exchangers without an address
    own_preference: int | None  # this host's preference, if it is one of them


def relay(
    ctx: SimContext, hostname: str, hop: Hop, domain: str, rng: random.Random,
    sessions: MutableMapping[str, str] | None = None,
) -> Generator[simpy.events.Event, Any, dict[str, Outcome]]:
    """Deliver `hop` to the mail exchangers of `domain` (a SimPy sub-process).

    `sessions`, if given, learns the session id that carries each recipient.
    """
    answer = yield from ctx.network.resolve(hostname, domain, "MX")
    if answer.rcode == Rcode.NXDOMAIN:
        return _all(hop, Outcome.of_verdict(Verdict.HOST_NOT_FOUND, name=domain, qtype="MX"))
    records = [r for r in answer.records if isinstance(r, MxRecord)]
    if not records:
        ctx.trace.emit(Kind.NOTE, hostname, f"{domain} has no MX record: the domain itself "
                       "is the implicit MX (RFC 5321 §5.1)", Note())
        records = [MxRecord(0, domain)]
    found = yield from _exchangers(ctx, hostname, order_exchangers(records, rng))
    if not found.targets:
        return _all(hop, _nowhere_to_go(found, domain))
    failures: list[Outcome] = []
    for target in found.targets:
        outcomes = yield from _try_address(ctx, hostname, hop, target, sessions)
        if isinstance(outcomes, dict):
            return outcomes
        failures.append(outcomes)
    transient = [f for f in failures if f.is_transient]
    return _all(hop, (transient or failures)[-1])  # RFC 5321 §4.5.4.1: a soft failure defers


def _exchangers(
    ctx: SimContext, hostname: str, exchangers: list[MxRecord]
) -> Generator[simpy.events.Event, Any, Exchangers]:
    """Every address of every exchanger, then this host and all behind it dropped.

    RFC 5321 §5.1: a relay that finds itself among the exchangers discards
    its own record and every one with an equal or higher preference value.
    Postfix (smtp_addr.c) finds itself by address, so a name that is only
    an alias of this host counts as well.
    """
    targets: list[Target] = []
    unresolved: list[tuple[MxRecord, Outcome]] = []
    own: list[int] = [mx.preference for mx in exchangers if mx.exchange == hostname]
    for mx in exchangers:
        if mx.exchange == hostname:
            continue
        addresses = yield from _addresses(ctx, hostname, mx.exchange)
        if isinstance(addresses, Outcome):
            unresolved.append((mx, addresses))
            continue
        for address in addresses:
            if (ctx.network.host_at(address) or address) == hostname:
                own.append(mx.preference)  # another name for this very host
            else:
                targets.append(Target(mx.preference, mx.exchange, address))
    if not own:
        return Exchangers(targets, unresolved, None)
    mine = min(own)
    return Exchangers([t for t in targets if t.preference < mine], unresolved, mine)


def _addresses(
    ctx: SimContext, hostname: str, exchange: str
) -> Generator[simpy.events.Event, Any, list[str] | Outcome]:
    """The addresses of one exchanger: IPv4 first, then IPv6 (RFC 3596)."""
    for qtype in ("A", "AAAA"):
        answer = yield from ctx.network.resolve(hostname, exchange, qtype)
        addresses = [r for r in answer.records if isinstance(r, str)]
        if addresses:
            return addresses
    return Outcome.of_verdict(Verdict.HOST_NOT_FOUND, name=exchange, qtype="AAAA")


def _nowhere_to_go(found: Exchangers, domain: str) -> Outcome:
    """Why no exchanger is left to try (Postfix smtp_addr.c)."""
    if found.own_preference is None:
        return found.unresolved[-1][1]  # no exchanger has an address
    if any(mx.preference < found.own_preference for mx, _ in found.unresolved):
        return Outcome.of_verdict(Verdict.NO_PRIMARY_RELAY, domain=domain)  # try again later
    return Outcome.of_verdict(Verdict.LOOPS_BACK, domain=domain)  # we are the best MX


def _try_address(
    ctx: SimContext, hostname: str, hop: Hop, target: Target,
    sessions: MutableMapping[str, str] | None,
) -> Generator[simpy.events.Event, Any, dict[str, Outcome] | Outcome]:
    """One SMTP session with the exchanger at `target`.

    Returns the recipients' outcomes, or why the exchanger could not be used.
    """
    exchange, address = target.exchange, target.address
    destination = ctx.network.host_at(address) or address
    endpoint = yield from ctx.network.connect(hostname, destination, SMTP_PORT)
    where = {"host": exchange, "address": address}
    if isinstance(endpoint, ConnectError):
        return Outcome.of_verdict(Verdict.CONNECT_FAILED, port=str(SMTP_PORT),
                                  reason=endpoint.reason, **where)
    endpoint.message = hop.message_id
    if sessions is not None:
        sessions.update(dict.fromkeys(hop.recipients, endpoint.connection.session))
    envelope = Envelope(mail_from=hop.sender, rcpt_to=hop.recipients)
    # Postfix smtp_tls_security_level = may: STARTTLS when offered, in clear when not
    config = SmtpClientConfig(helo_name=hostname, tls=TlsPolicy.MAY)
    answers = yield from transfer(endpoint, config, envelope, hop.content)
    outcomes = {rcpt: _judge(answer, where) for rcpt, answer in answers.items()}
    if all(_broke_off(answer) for answer in answers.values()):
        return next(iter(outcomes.values()))  # nobody took anything: try the next one
    return outcomes


def _judge(answer: Answer, where: dict[str, str]) -> Outcome:
    """A server's reply as it stands, or the verdict on what cut the session short."""
    if isinstance(answer, Reply):
        return Outcome.of_reply(answer, where["host"])
    return Outcome.of_interruption(answer, **where)


def _broke_off(answer: Answer) -> bool:
    """Whether the session ended without a word on this recipient of its own."""
    return not isinstance(answer, Reply) or answer.code == SERVICE_CLOSING


def _all(hop: Hop, outcome: Outcome) -> dict[str, Outcome]:
    return dict.fromkeys(hop.recipients, outcome)
