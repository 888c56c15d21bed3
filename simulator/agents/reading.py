"""What every mail client shares: the account, the `mail.fetched` record, the beat of its checks.

A message a client downloads (POP3 RETR, RFC 1939 §5; IMAP FETCH BODY[],
RFC 9051 §6.4.5) is recorded once, on the host the client runs on, so
summaries and views count every copy a user got, whichever protocol
brought it.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from dataclasses import dataclass
from typing import Any

import simpy

from simulator.agents.context import SimContext
from simulator.profiles import DEFAULT_CLIENT
from simulator.protocols.imap.client_states import Mechanism
from simulator.protocols.message import first_header
from simulator.protocols.tls import ConnectionSecurity
from simulator.trace import Kind
from simulator.trace_data import MailFetched


@dataclass(frozen=True)
class MailboxAccount:
    """The incoming half of a mail account, as typed into the client."""

    address: str
    password: str
    mailbox_host: str  # the provider's MDA (incoming server)
    client: str = DEFAULT_CLIENT
    security: ConnectionSecurity = ConnectionSecurity.NONE  # 110/143, or 995/993 with TLS
    mechanism: Mechanism = Mechanism.LOGIN  # how an IMAP client logs in
    enable_rev2: bool = True  # whether an IMAP client asks for IMAP4rev2


def record_fetched(
    ctx: SimContext, host: str, account: MailboxAccount, uid: str, content: bytes,
    *, protocol: str | None = None, seen: bool = False, via: str | None = None,
) -> None:
    """The `mail.fetched` record of one downloaded message (see `MailFetched`)."""
    ctx.trace.emit(
        Kind.MAIL_FETCHED, host, f"{account.client}: new mail for {account.address}",
        MailFetched(user=account.address, uid=uid,
                    subject=first_header(content, "Subject") or "", seen=seen, via=via),
        message=first_header(content, "Message-ID"), protocol=protocol,
    )


@dataclass(frozen=True)
class Asleep:
    """What a check hands back when no check could go differently before `until` fires.

    `woken(beat)` runs once it has: `beat` is the last beat before that
    instant, whose check was skipped (`agents.catchup`).
    """

    until: simpy.Event
    woken: Callable[[float], Generator[simpy.events.Event, Any, None]]


#: One check of a mail client: a SimPy sub-process, which may hand back an `Asleep`.
Check = Callable[[], Generator[simpy.events.Event, Any, Asleep | None]]


def on_a_beat(
    ctx: SimContext, period: float, check: Check, *, first_after: float = 0.0,
) -> Generator[simpy.events.Event, Any, None]:
    """Run `check` `first_after` seconds from now and then every `period` seconds, on a beat.

    A client checks at start, as Thunderbird does when it starts and a
    webmail page does when it loads; then its timer fires on the beat, and a
    check that overruns its slot delays only the next one.  A check that
    hands back an `Asleep` (session fidelity: nothing can change before its
    event) sleeps through the beats until that event, and checks again on
    the first beat at or after it.
    """
    env = ctx.env
    beat = env.now + first_after
    if first_after:
        yield env.timeout(first_after)
    while True:
        asleep = yield from check()
        previous, beat = beat, beat + period
        if asleep is not None:
            yield asleep.until
            while beat < env.now:
                previous, beat = beat, beat + period
            yield from asleep.woken(previous)
        yield env.timeout(max(0.0, beat - env.now))
