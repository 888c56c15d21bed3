"""Driving a sans-I/O protocol machine over a simulated connection."""

from __future__ import annotations

from collections.abc import Callable, Generator
from typing import Any, Protocol

import simpy

from simulator.net.connection import EOF_MARK, Endpoint
from simulator.protocols.common import NEED_DATA


class Machine(Protocol):
    """What `pump` needs of a protocol object (client or server)."""

    @property
    def closed(self) -> bool: ...

    def receive_data(self, data: bytes) -> None: ...

    def next_event(self) -> Any: ...

    def data_to_send(self) -> bytes: ...


def pump(
    endpoint: Endpoint,
    machine: Machine,
    on_event: Callable[[Any], None],
    on_eof: Callable[[], None],
) -> Generator[simpy.events.Event, Any, None]:
    """Move bytes between `endpoint` and `machine` until the session ends.

    Every event the machine hands out goes to `on_event`; when the peer
    closes first, `on_eof` tells the machine.  Our side is closed at the end.
    """
    while True:
        event = machine.next_event()
        if event is not NEED_DATA:
            on_event(event)
            _flush(endpoint, machine)
            continue
        _flush(endpoint, machine)
        if machine.closed:
            break
        data = yield endpoint.recv()
        if data == EOF_MARK:
            on_eof()
            _drain(machine, on_event)
            break
        machine.receive_data(data)
    endpoint.close()


def _flush(endpoint: Endpoint, machine: Machine) -> None:
    """Send whatever the machine has queued."""
    outgoing = machine.data_to_send()
    if outgoing:
        endpoint.send(outgoing)


def _drain(machine: Machine, on_event: Callable[[Any], None]) -> None:
    """Hand out the events a machine produced on learning of the lost peer."""
    while (event := machine.next_event()) is not NEED_DATA:
        on_event(event)
