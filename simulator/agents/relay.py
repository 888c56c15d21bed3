"""Relaying: finding the next hop by MX lookup and handing mail over SMTP.

For each destination domain the MTA asks DNS for MX records (RFC 5321
§5.1): with none, the domain's own address is its implicit MX.  If this
MTA is itself one of the exchangers, only the ones it prefers to itself are
tried.  Exchangers are tried best first until one takes part in an SMTP
session on port 25; a session that breaks off (421, lost connection) moves
on to the next one, as Postfix does.  The result is one `Outcome` per
recipient.
"""

from __future__ import annotations

import random
from collections.abc import Generator
from dataclasses import dataclass
from typing import Any

import simpy

from simulator.agents.context import SimContext
from simulator.agents.transfer import transfer
from simulator.agents.verdicts import VERDICTS, Outcome, Verdict
from simulator.net.connection import ConnectError
from simulator.net.dns import MxRecord, Rcode, order_exchangers
from simulator.protocols.smtp import SMTP_PORT, Envelope, SmtpClientConfig, SmtpReply, reply
from simulator.trace import Kind

#: Replies the SMTP client makes up itself when a session breaks off.
_BROKEN_SESSION = {str(reply(SmtpReply.CONNECTION_LOST)), str(reply(SmtpReply.PROTOCOL_ERROR))}


@dataclass(frozen=True, slots=True)
class Hop:
    """A message on its way to one destination domain."""

    sender: str
    recipients: tuple[str, ...]
    content: bytes
    message_id: str | None


def relay(
    ctx: SimContext, hostname: str, hop: Hop, domain: str, rng: random.Random
) -> Generator[simpy.events.Event, Any, dict[str, Outcome]]:
    """Deliver `hop` to the mail exchangers of `domain` (a SimPy sub-process)."""
    answer = yield from ctx.network.resolve(hostname, domain, "MX")
    if answer.rcode == Rcode.NXDOMAIN:
        return _all(hop, Outcome.of_verdict(Verdict.HOST_NOT_FOUND, name=domain, qtype="MX"))
    records = [r for r in answer.records if isinstance(r, MxRecord)]
    if not records:
        ctx.trace.emit(Kind.NOTE, hostname, f"{domain} has no MX record: the domain itself "
                       "is the implicit MX (RFC 5321 §5.1)")
        records = [MxRecord(0, domain)]
    exchangers = _worth_trying(order_exchangers(records, rng), hostname)
    if not exchangers:
        return _all(hop, Outcome.of_verdict(Verdict.LOOPS_BACK, domain=domain))
    failures: list[Outcome] = []
    for mx in exchangers:
        outcomes = yield from _try_exchanger(ctx, hostname, hop, mx.exchange)
        if isinstance(outcomes, dict):
            return outcomes
        if outcomes.status == VERDICTS[Verdict.LOOPS_BACK][0]:
            return _all(hop, Outcome.of_verdict(Verdict.LOOPS_BACK, domain=domain))
        failures.append(outcomes)
    transient = [f for f in failures if f.is_transient]
    return _all(hop, (transient or failures)[-1])


def _worth_trying(exchangers: list[MxRecord], hostname: str) -> list[MxRecord]:
    """Drop this host and every exchanger it is preferred to (RFC 5321 §5.1)."""
    own = [mx.preference for mx in exchangers if mx.exchange == hostname]
    if not own:
        return exchangers
    return [mx for mx in exchangers if mx.preference < min(own)]


def _try_exchanger(
    ctx: SimContext, hostname: str, hop: Hop, exchange: str
) -> Generator[simpy.events.Event, Any, dict[str, Outcome] | Outcome]:
    """One exchanger, at each of its addresses in turn, as Postfix does.

    Returns the recipients' outcomes, or why the exchanger could not be used.
    """
    for qtype in ("A", "AAAA"):  # IPv4 first, then IPv6 (RFC 3596)
        answer = yield from ctx.network.resolve(hostname, exchange, qtype)
        addresses = [r for r in answer.records if isinstance(r, str)]
        if addresses:
            break
    else:
        return Outcome.of_verdict(Verdict.HOST_NOT_FOUND, name=exchange, qtype=qtype)
    failure = Outcome.of_verdict(Verdict.LOOPS_BACK, domain=exchange)
    for address in addresses:
        if (ctx.network.host_at(address) or address) == hostname:
            return failure  # another name for this very host
        outcomes = yield from _try_address(ctx, hostname, hop, exchange, address)
        if isinstance(outcomes, dict):
            return outcomes
        failure = outcomes
    return failure


def _try_address(
    ctx: SimContext, hostname: str, hop: Hop, exchange: str, address: str
) -> Generator[simpy.events.Event, Any, dict[str, Outcome] | Outcome]:
    """One SMTP session with the exchanger at `address`."""
    target = ctx.network.host_at(address) or address
    endpoint = yield from ctx.network.connect(hostname, target, SMTP_PORT)
    where = {"host": exchange, "address": address}
    if isinstance(endpoint, ConnectError):
        return Outcome.of_verdict(Verdict.CONNECT_FAILED, port=str(SMTP_PORT),
                                  reason=endpoint.reason, **where)
    endpoint.message = hop.message_id
    envelope = Envelope(mail_from=hop.sender, rcpt_to=hop.recipients)
    replies = yield from transfer(endpoint, SmtpClientConfig(helo_name=hostname), envelope,
                                  hop.content)
    lost = Outcome.of_verdict(Verdict.LOST_CONNECTION, **where)
    if all(str(r) in _BROKEN_SESSION for r in replies.values()):
        return lost
    if all(r.code == 421 for r in replies.values()):  # the server closed: try the next one
        return Outcome.of_reply(next(iter(replies.values())), exchange)
    return {
        rcpt: lost if str(answer) in _BROKEN_SESSION else Outcome.of_reply(answer, exchange)
        for rcpt, answer in replies.items()
    }


def _all(hop: Hop, outcome: Outcome) -> dict[str, Outcome]:
    return dict.fromkeys(hop.recipients, outcome)
