"""How much of a run the simulator plays out: every protocol line, or each session whole.

At `dialogue` fidelity (the default) every line of every SMTP, LMTP, POP3
and IMAP dialogue is an event and a `line` record: what a lesson shows.

At `session` fidelity the same agents run the same protocol machines over
the same routes, so every message meets the same fate at the same
instants; but the bytes of a session go from one machine to the other as
one event per flight, not through the network's queues, and the trace
keeps only what happens to the mail -- composed, queued, relayed,
deferred, delivered, bounced, fetched, and the notes that explain them --
not the wire, nor the eavesdroppers on it (`WIRE_KINDS`).  It is the
level for big worlds: an ISP's day, a sweep over seeds.

One shortcut makes idle mail clients nearly free: a POP3 check that would
start from the mailbox exactly as the last check that found nothing did
is not played, and the client sleeps until the mailbox or the network
changes.  Mail that lands while a skipped check's login is still to come
is fetched by that very check, caught up (`agents.catchup`), so downloads
too come at the instants dialogue fidelity gives them.  Clients that
share a mailbox's POP3 lock, or use TLS, play every check.
"""

from __future__ import annotations

from enum import StrEnum

from simulator.trace import Kind


class Fidelity(StrEnum):
    """How finely a run is played (see the module's docstring)."""

    DIALOGUE = "dialogue"
    SESSION = "session"


#: What a `session`-fidelity trace leaves out: the network, the lines on it, and
#: the eavesdroppers who would listen to them.
WIRE_KINDS = frozenset({
    Kind.LINE, Kind.TCP_CONNECT, Kind.TCP_REFUSED, Kind.TCP_CLOSE, Kind.TLS_HANDSHAKE,
    Kind.DNS_QUERY, Kind.DNS_ANSWER, Kind.TAP,
})


def omitted_kinds(fidelity: Fidelity) -> frozenset[Kind]:
    """The record kinds a trace at `fidelity` leaves out."""
    return WIRE_KINDS if fidelity is Fidelity.SESSION else frozenset()
