"""Driving a sans-I/O protocol machine over a simulated connection.

`pump` is the session layer: it moves bytes between an endpoint and a
protocol machine, records every line the machine sends (`recording.Wire`),
tells the machine when the peer has closed (`END_OF_INPUT`, as h11 does) or
stayed silent too long, and waits before sending when the machine asks it
to (Postfix smtpd_error_sleep_time).
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from dataclasses import dataclass
from typing import Any, Protocol

import simpy

from simulator.agents.context import SimContext
from simulator.agents.reader import Reader
from simulator.agents.recording import LineRecorder, LineSource, Wire
from simulator.agents.tls import Failure, handshake
from simulator.net.connection import EOF_MARK, Endpoint, Listener
from simulator.protocols.common import END_OF_INPUT, NEED_DATA
from simulator.protocols.tls import TlsRequested, TlsVersion

__all__ = ["LineRecorder", "LineSource", "Machine", "Patience", "Wire", "pump", "serve"]


class Machine(Protocol):
    """What `pump` needs of a protocol object (client or server)."""

    @property
    def closed(self) -> bool: ...

    def receive_data(self, data: bytes) -> None: ...

    def next_event(self) -> Any: ...

    def data_to_send(self) -> bytes: ...

    def tls_established(self, version: TlsVersion) -> None: ...


@dataclass(frozen=True)
class Patience:
    """How long one side waits for the peer, and what it does when tired.

    `on_timeout` tells the machine (a server queues its 421 or `-ERR`; a
    client reports `TimedOut`); the connection is then closed.
    """

    seconds: float
    on_timeout: Callable[[], None]


Session = Callable[[Endpoint], Generator[simpy.events.Event, Any, None]]
#: Seconds to wait before sending what the machine has queued now.
ReplyDelay = Callable[[], float]


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
    link: Endpoint | Wire,
    machine: Machine,
    on_event: Callable[[Any], None],
    patience: Patience,
    reply_delay: ReplyDelay | None = None,
    tls_first: TlsRequested | None = None,
    handed: object | None = None,
) -> Generator[simpy.events.Event, Any, None]:
    """Move bytes between `link` and `machine` until the session ends.

    Every event the machine hands out goes to `on_event`.  When the peer
    closes first, the machine is given `END_OF_INPUT`; when the peer stays
    silent longer than `patience` allows, its `on_timeout` tells the
    machine.  Either way the machine has its last word and the session
    ends.  Silence counts from when the last bytes either side sent have
    arrived: a client whose big message is still crossing a slow link is
    not kept waiting for a reply to a dot the server has not read yet.
    `reply_delay`, if given, is read before each send: that many seconds
    pass before the bytes go.  Our side is closed at the end.

    When the machine hands out `TlsRequested`, its queued bytes go first,
    then the TLS handshake runs (`agents.tls`); `tls_first` runs one before
    anything else, for a port that starts with TLS (465, 993, 995).  A handshake
    that fails ends the session as a silent or vanished peer would.

    `link` is the endpoint, or a `Wire` on it when the agent also sends
    outside the loop (an IMAP server pushing news to a client in IDLE).
    `handed` is an event the machine handed out before the pump took over
    (a session whose opening was played on a virtual clock, `agents.catchup`):
    it goes to `on_event` first.
    """
    wire = link if isinstance(link, Wire) else Wire(link)
    reader = Reader(wire.endpoint, patience.seconds)
    if tls_first is None or (yield from _tls(wire, reader, machine, tls_first, patience, True)):
        if handed is not None:
            on_event(handed)
        yield from _dialogue(wire, reader, machine, on_event, patience, reply_delay)
    else:
        yield from _last_word(wire, machine, on_event, reply_delay)
    reader.stop()
    wire.close()


def _dialogue(
    wire: Wire, reader: Reader, machine: Machine, on_event: Callable[[Any], None],
    patience: Patience, reply_delay: ReplyDelay | None,
) -> Generator[simpy.events.Event, Any, None]:
    """The loop of `pump`: events out, bytes in, until the session is over."""
    while True:
        event = machine.next_event()
        if isinstance(event, TlsRequested):
            yield from _flush(wire, machine, reply_delay)  # the 220 or +OK goes in clear
            if (yield from _tls(wire, reader, machine, event, patience, False)):
                continue
            break
        if event is not NEED_DATA:
            on_event(event)
            yield from _flush(wire, machine, reply_delay)
            continue
        yield from _flush(wire, machine, reply_delay)
        if machine.closed:
            return
        data = yield from reader.read()
        if data is None:
            patience.on_timeout()
        elif data == EOF_MARK:
            machine.receive_data(END_OF_INPUT)
        else:
            machine.receive_data(data)
            continue
        break
    yield from _last_word(wire, machine, on_event, reply_delay)


def _tls(
    wire: Wire, reader: Reader, machine: Machine, request: TlsRequested, patience: Patience,
    implicit: bool,
) -> Generator[simpy.events.Event, Any, bool]:
    """Run a handshake for `machine`; False (the machine told why) if it failed."""
    outcome = yield from handshake(wire, reader, request.version, implicit)
    if isinstance(outcome, TlsVersion):
        machine.tls_established(outcome)
        return True
    if outcome is Failure.SILENT:
        patience.on_timeout()
    else:
        machine.receive_data(END_OF_INPUT)
    return False


def _last_word(
    wire: Wire, machine: Machine, on_event: Callable[[Any], None], reply_delay: ReplyDelay | None
) -> Generator[simpy.events.Event, Any, None]:
    """The session is over: hand out the machine's last events, send its last bytes."""
    while (event := machine.next_event()) is not NEED_DATA:
        on_event(event)
    yield from _flush(wire, machine, reply_delay)


def _flush(
    wire: Wire, machine: Machine, reply_delay: ReplyDelay | None
) -> Generator[simpy.events.Event, Any, None]:
    """Send whatever the machine has queued, after its reply delay if any."""
    delay = reply_delay() if reply_delay is not None else 0.0
    outgoing = machine.data_to_send()
    if not outgoing:
        return
    if delay > 0:
        yield wire.env.timeout(delay)
    wire.send(outgoing)
