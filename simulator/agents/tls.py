"""The TLS handshake on a simulated connection: the session layer's part of TLS.

When a protocol machine hands out `TlsRequested` (after its 220 to
STARTTLS, its +OK to STLS), or before the first byte on an implicit-TLS
port, `pump` calls `handshake`: the two sides send each other the flights
of `protocols.tls.FLIGHTS` over the connection's real path, so the
handshake costs its round trips (one for TLS 1.3, RFC 8446 §2; two for
TLS 1.2, RFC 5246 §7.3) and its bytes take their time on slow links.  The
flights are opaque bytes sent beside the line recorder: they are no
protocol lines.  Once its last flight is in, each side records the rest
of its lines as encrypted and tells its machine.  The client writes the
`tls.handshake` record when the server's first flight names the version
(the ServerHello): the handshake's outcome is settled then and neither
side has sent a protected line yet -- in TLS 1.2 the server finishes first
and may greet before the client has finished (RFC 5246 §7.3).
"""

from __future__ import annotations

from collections.abc import Generator
from enum import Enum
from typing import Any

import simpy

from simulator.agents.reader import Reader
from simulator.agents.recording import Wire
from simulator.net.connection import EOF_MARK
from simulator.protocols.tls import (
    CLIENT_HELLO,
    FLIGHTS,
    TlsVersion,
    chosen_version,
    flight,
    is_handshake,
    server_hello,
)
from simulator.trace import Kind
from simulator.trace_data import TlsHandshake


class Failure(Enum):
    """How a handshake can fail to finish."""

    CLOSED = "the peer closed the connection"
    SILENT = "the peer stayed silent"
    GARBLED = "the peer's bytes are no TLS handshake"


def handshake(
    wire: Wire, reader: Reader, version: TlsVersion | None, implicit: bool
) -> Generator[simpy.events.Event, Any, TlsVersion | Failure]:
    """Run one handshake; the version agreed on, or why there is none.

    `reader` reads the peer's flights with the session's patience.
    `version` is the server's choice (a client passes None and reads it
    from the server's first flight).  Flights alternate, the client's first.
    """
    client = wire.endpoint.role == "client"
    started = wire.env.now
    # a client knows its own first flight; the rest once flight 1 names the version
    sizes = FLIGHTS[version].flights if version is not None else (CLIENT_HELLO, 0)
    index = 0
    while index < len(sizes):
        if (index % 2 == 0) == client:
            size = sizes[index]  # the server's first flight names its choice (ServerHello)
            wire.endpoint.send(server_hello(version, size) if index == 1 and version else
                               flight(size))
        else:
            data = yield from reader.read()
            if data is None:
                return Failure.SILENT
            if data == EOF_MARK:
                return Failure.CLOSED
            if not is_handshake(data):
                return Failure.GARBLED
            if client and index == 1:
                version = chosen_version(data)
                if version is None:
                    return Failure.GARBLED
                sizes = FLIGHTS[version].flights
                _record(wire, version, wire.env.now - started, implicit)
        index += 1
    assert version is not None
    wire.recorder.encrypt()
    return version


def _record(wire: Wire, version: TlsVersion, seconds: float, implicit: bool) -> None:
    """The client's `tls.handshake` record, worded like Postfix's smtp log line
    ("TLS connection established to host[addr]:port: version with cipher ...")
    but written when the ServerHello settles it; `seconds` since the ClientHello."""
    endpoint, suite = wire.endpoint, FLIGHTS[version]
    conn = endpoint.connection
    text = (f"TLS handshake with {endpoint.peer_host}[{endpoint.peer_address}]:"
            f"{conn.port}: {version.value} with cipher {suite.cipher} "
            f"({suite.bits}/{suite.bits} bits)")
    endpoint.network.trace.emit(
        Kind.TLS_HANDSHAKE, endpoint.host, text,
        TlsHandshake(port=conn.port, version=version.value, cipher=suite.cipher,
                     bits=suite.bits, round_trips=suite.round_trips,
                     seconds=round(seconds, 9), overhead=suite.overhead, implicit=implicit),
        peer=endpoint.peer_host, protocol=conn.protocol, session=conn.session,
        message=endpoint.message,
    )
