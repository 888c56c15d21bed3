"""Driving a sans-I/O protocol machine over a simulated connection."""

from __future__ import annotations

from collections.abc import Callable, Generator
from dataclasses import dataclass
from typing import Any, Protocol

import simpy

from simulator.agents.context import SimContext
from simulator.net.connection import EOF_MARK, Endpoint, Listener
from simulator.protocols.common import NEED_DATA


class Machine(Protocol):
    """What `pump` needs of a protocol object (client or server)."""

    @property
    def closed(self) -> bool: ...

    def receive_data(self, data: bytes) -> None: ...

    def next_event(self) -> Any: ...

    def data_to_send(self) -> bytes: ...


@dataclass(frozen=True)
class Patience:
    """How long one side waits for the peer, and what it does when tired.

    `on_timeout` tells the machine (a server queues its 421 or `-ERR`; a
    client treats the connection as lost); the connection is then closed.
    """

    seconds: float
    on_timeout: Callable[[], None]


Session = Callable[[Endpoint], Generator[simpy.events.Event, Any, None]]


def serve(ctx: SimContext, name: str, listener: Listener, session: Session) -> None:
    """Start a server: every accepted connection runs `session` in a process of its own.

    `name` names the server's processes, e.g. ``"smtpd mail.example.org:25"``.
    """

    def accept() -> Generator[simpy.events.Event, Any, None]:
        while True:
            endpoint = yield listener.backlog.get()
            ctx.start(f"{name} session", session(endpoint))

    ctx.start(name, accept())


def pump(
    endpoint: Endpoint,
    machine: Machine,
    on_event: Callable[[Any], None],
    on_eof: Callable[[], None],
    patience: Patience,
) -> Generator[simpy.events.Event, Any, None]:
    """Move bytes between `endpoint` and `machine` until the session ends.

    Every event the machine hands out goes to `on_event`.  When the peer
    closes first, `on_eof` tells the machine; when the peer stays silent
    longer than `patience` allows, its `on_timeout` does.  Silence counts
    from when the last bytes either side sent have arrived: a client whose
    big message is still crossing a slow link is not kept waiting for a
    reply to a dot the server has not read yet.  Our side is
    closed at the end.
    """
    env = endpoint.network.env
    while True:
        event = machine.next_event()
        if event is not NEED_DATA:
            on_event(event)
            _flush(endpoint, machine)
            continue
        _flush(endpoint, machine)
        if machine.closed:
            break
        arrival = endpoint.recv()
        yield arrival | env.timeout(patience.seconds)
        while not arrival.triggered and (endpoint.receiving() or endpoint.peer.receiving()):
            # Bytes still on the wire, theirs or ours: the peer is not idle.
            yield arrival | env.timeout(patience.seconds)
        if not arrival.triggered:
            arrival.cancel()
            _give_up(endpoint, machine, on_event, patience.on_timeout)
            break
        if arrival.value == EOF_MARK:
            _give_up(endpoint, machine, on_event, on_eof)
            break
        machine.receive_data(arrival.value)
    endpoint.close()


def _give_up(
    endpoint: Endpoint, machine: Machine, on_event: Callable[[Any], None],
    tell: Callable[[], None],
) -> None:
    """Tell the machine the session is over and let it have its last word."""
    tell()
    while (event := machine.next_event()) is not NEED_DATA:
        on_event(event)
    _flush(endpoint, machine)


def _flush(endpoint: Endpoint, machine: Machine) -> None:
    """Send whatever the machine has queued."""
    outgoing = machine.data_to_send()
    if outgoing:
        endpoint.send(outgoing)
