"""Catching up with a skipped check, so that session fidelity fetches mail when dialogue does.

At session fidelity a POP3 check that would find the mailbox as the last
check that found nothing is skipped (`agents.pop3_client`).  Yet mail may
land in the fraction of a second between the start of the skipped check
and the instant its login would have taken the maildrop: a played check
would have downloaded it at once.  Such a check is caught up: its opening
-- the TCP handshake, the greeting, USER and PASS -- is played on a
virtual clock, with the same machines, transit times and arithmetic the
network and the session layer would have used, up to the instant the
server reads PASS; from that instant on the session is played as any
other.  Nothing of the opening is recorded, as nothing of any session is
at session fidelity.
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass
from typing import Any

import simpy

from simulator.agents.session import Machine
from simulator.net.connection import SEGMENT_OVERHEAD, Connection, Network
from simulator.net.courier import at
from simulator.protocols.common import NEED_DATA


@dataclass(frozen=True, slots=True)
class Opening:
    """A session's opening, played on a virtual clock up to the server's first event."""

    first_event_at: float  # when the server reads what makes it hand out `event`
    event: object
    client_last: float  # when the last bytes each side sent land (`Endpoint.receiving`)
    server_last: float


def play_opening(
    network: Network, conn: Connection, start: float, client: Machine, server: Machine
) -> Opening | None:
    """Play `conn`'s opening from `start` until the (greeted) server has an event.

    None if a side cannot reach the other, falls silent, or the client hands
    out an event first: then this is not an opening to catch up.
    """
    there = network.transit_time(conn.client.host, conn.server.host, SEGMENT_OVERHEAD)
    back = network.transit_time(conn.server.host, conn.client.host, SEGMENT_OVERHEAD)
    if there is None or back is None:
        return None
    now = start + (there + back)  # the client's connect: a timeout of one round trip
    now = now + there  # the courier brings the connection to the server's listener
    ends = {client: conn.client, server: conn.server}  # each machine's end of `conn`
    last = {client: 0.0, server: 0.0}  # when each side's last bytes land
    sender, receiver = server, client  # the greeting goes first
    while True:
        event = sender.next_event()
        if event is not NEED_DATA:
            if sender is client:
                return None
            return Opening(now, event, last[client], last[server])
        data = sender.data_to_send()
        end = ends[sender]
        transit = network.transit_time(end.host, end.peer_host, len(data)) if data else None
        if transit is None:
            return None
        arrival = max(now + transit, last[sender])  # as `Endpoint._carry` times a send
        last[sender] = arrival
        now = now + (arrival - now)  # and as the courier lands it
        receiver.receive_data(data)
        sender, receiver = receiver, sender


def resume_at(
    env: simpy.Environment, when: float, session: Generator[simpy.events.Event, Any, None]
) -> Generator[simpy.events.Event, Any, None]:
    """Play `session` from simulated time `when` on (a server whose opening was played)."""
    yield at(env, when)
    yield from session
