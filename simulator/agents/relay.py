"""Relaying: finding the next hop by MX lookup and handing mail over SMTP.

For each destination domain the MTA asks DNS for MX records, tries the
exchangers best first (RFC 5321 §5.1), and speaks SMTP on port 25 to the
first one that answers.  What comes back is one reply per recipient; the
queue manager decides from its class (2yz, 4yz, 5yz) what happens next.
Failures that never reached an SMTP server (no such domain, nobody
listening) are expressed as replies too, the way Postfix logs them.
"""

from __future__ import annotations

import random
from collections.abc import Generator, Sequence
from dataclasses import dataclass
from typing import Any

import simpy

from simulator.agents.context import SimContext
from simulator.agents.transfer import transfer
from simulator.net.dns import Rcode
from simulator.protocols.smtp import Envelope, Reply, SmtpClientConfig, SmtpReply, reply
from simulator.trace import Kind

SMTP_PORT = 25  # RFC 5321: relay between MTAs


@dataclass(frozen=True, slots=True)
class Outcome:
    """What became of one recipient in one delivery attempt."""

    reply: Reply
    relay: str | None = None  # the host that answered, when one did


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
    network = ctx.network
    answer = yield from network.resolve(hostname, domain, "MX")
    exchangers = network.resolver.mail_exchangers(domain, rng)
    if answer.rcode == Rcode.NXDOMAIN or not exchangers:
        return _all(hop, Outcome(reply(SmtpReply.HOST_NOT_FOUND, name=domain)))
    if not answer.answers:  # no MX: the implicit MX is the domain's A record
        ctx.trace.emit(Kind.NOTE, hostname, f"{domain} has no MX record: using its A record")
    failure = reply(SmtpReply.CONNECT_FAILED, host=domain, reason="no usable mail exchanger")
    for mx in exchangers:
        if mx.exchange == hostname:
            continue  # never relay to ourselves
        target = yield from _address_of(ctx, hostname, mx.exchange)
        if target is None:
            failure = reply(SmtpReply.HOST_NOT_FOUND, name=mx.exchange)
            continue
        endpoint = yield from network.connect(hostname, target, SMTP_PORT)
        if endpoint is None:
            failure = reply(SmtpReply.CONNECT_FAILED, host=target, reason="Connection refused")
            continue
        endpoint.message = hop.message_id
        replies = yield from transfer(
            endpoint, SmtpClientConfig(helo_name=hostname), _envelope(hop), hop.content
        )
        return {rcpt: Outcome(answer, target) for rcpt, answer in replies.items()}
    return _all(hop, Outcome(failure))


def _address_of(
    ctx: SimContext, asker: str, name: str
) -> Generator[simpy.events.Event, Any, str | None]:
    """Resolve `name` to a host on the network, or None."""
    answer = yield from ctx.network.resolve(asker, name, "A")
    for address in answer.answers:
        host = ctx.network.host_at(address)
        if host is not None:
            return host
    return None


def _envelope(hop: Hop) -> Envelope:
    return Envelope(mail_from=hop.sender, rcpt_to=hop.recipients)


def _all(hop: Hop, outcome: Outcome) -> dict[str, Outcome]:
    return {rcpt: outcome for rcpt in hop.recipients}


def group_by_domain(recipients: Sequence[str]) -> dict[str, tuple[str, ...]]:
    """Recipients grouped by domain, in order of first appearance."""
    groups: dict[str, list[str]] = {}
    for rcpt in recipients:
        groups.setdefault(rcpt.rpartition("@")[2].lower(), []).append(rcpt)
    return {domain: tuple(rcpts) for domain, rcpts in groups.items()}
