"""Recording protocol lines: the session layer's record of what was said.

The network carries bytes and never reads them; whoever feeds a
connection its bytes also records the lines those bytes hold, each line
exactly once, at the moment it is sent.  A `LineRecorder` does that for one
direction of one connection.  `Wire` pairs an endpoint with the recorder
of the lines it sends, which is all a simulated session needs; a bridge
from a real socket (where nothing simulated sends the client's lines) uses
a `Wire` on the endpoint it drives, or a `LineRecorder` of its own.

Lines end in CRLF (RFC 5321 §2.3.8, RFC 1939 §3); a line split across
several sends is recorded once it is complete, and a last unfinished one
when the sender closes.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Protocol

import simpy

from simulator.net.connection import Endpoint
from simulator.net.courier import InboxGet
from simulator.trace import Kind, Trace
from simulator.trace_data import ProtocolLine

CRLF = b"\r\n"


class MessageTag(Protocol):
    """Where the Message-ID of the mail a connection carries can be read."""

    @property
    def message(self) -> str | None: ...


@dataclass(frozen=True, slots=True)
class LineSource:
    """One direction of one connection, as `line` records name it."""

    host: str  # the sender
    peer: str  # the receiver
    protocol: str  # "smtp", "pop3"...
    session: str  # the connection's session id, e.g. "s3"
    role: str  # "client" or "server"
    port: int
    real: bool = False  # a real client's session (mailsim serve)


class LineRecorder:
    """Turns the bytes one side sends into `line` records, each line once.

    `tag`, if given, is read at every send for the Message-ID of the mail
    under way, so a reply is tagged with the message it answers.
    """

    def __init__(self, trace: Trace, source: LineSource, tag: MessageTag | None = None) -> None:
        self.trace = trace
        self.source = source
        self.tag = tag
        # one for every line
        self._payload = ProtocolLine(role=source.role, port=source.port, real=source.real)
        self._tail = b""  # the start of a line whose CRLF has not been sent yet
        self._silent = not trace.records_kind(Kind.LINE)  # session fidelity: no lines

    @classmethod
    def sending_from(cls, endpoint: Endpoint) -> LineRecorder:
        """The recorder of what `endpoint` sends, tagged with its connection's message."""
        conn = endpoint.connection
        source = LineSource(endpoint.host, endpoint.peer_host, conn.protocol, conn.session,
                            endpoint.role, conn.port, conn.real)
        return cls(endpoint.network.trace, source, endpoint)

    def encrypt(self) -> None:
        """From now on the lines go inside TLS: their records say `encrypted`."""
        self._payload = replace(self._payload, encrypted=True)

    def feed(self, data: bytes) -> None:
        """Record every line `data` completes."""
        if self._silent:
            return
        if self._tail:
            data = self._tail + data
        lines = data.split(CRLF)
        self._tail = lines.pop()
        if lines:
            self._record(lines)

    def flush(self) -> None:
        """Record what is left of an unfinished line (the sender is closing)."""
        if self._tail:
            tail, self._tail = self._tail, b""
            self._record([tail])

    def _record(self, lines: list[bytes]) -> None:
        """One record per line; the lines of one send share the Message-ID read now."""
        source = self.source
        self.trace.emit_each(
            Kind.LINE, source.host, [line.decode("utf-8", "replace") for line in lines],
            self._payload, peer=source.peer, protocol=source.protocol, session=source.session,
            message=self.tag.message if self.tag is not None else None,
        )


class Wire:
    """An endpoint as the session layer uses it: what it sends is recorded."""

    def __init__(self, endpoint: Endpoint, recorder: LineRecorder | None = None) -> None:
        self.endpoint = endpoint
        self.recorder = recorder or LineRecorder.sending_from(endpoint)

    @property
    def env(self) -> simpy.Environment:
        """The simulation the connection lives in."""
        return self.endpoint.network.env

    def send(self, data: bytes) -> None:
        """Record the lines of `data`, then put it on the connection."""
        if self.endpoint.closed or not data:
            return
        self.recorder.feed(data)
        self.endpoint.send(data)

    def recv(self) -> InboxGet:
        """An event yielding the next bytes from the peer (b"" once it has closed)."""
        return self.endpoint.recv()

    def close(self) -> None:
        """Record an unfinished last line, then close our side."""
        if not self.endpoint.closed:
            self.recorder.flush()
        self.endpoint.close()
