"""Real sockets for simulated servers: ports, sessions and a clock that follows the wall.

`mailsim serve` (`simulator.serve`) listens for real mail programs on
loopback sockets, one per simulated service (`plan_ports`,
`open_listener`; `check_bind` keeps them on loopback unless told
otherwise).  Each real connection becomes a `RealSession`: a simulated
connection from a *real client* host to the simulated server's listener,
entered where a simulated client's would enter.  Bytes read from the
socket go into the simulated client endpoint through a `Wire`, so the real
client's lines are recorded by whoever feeds them, like any client's; what
the simulated server sends back is gathered by a small SimPy process and
written to the socket.  The protocol machines never know the difference.

TLS is real on the socket and modelled inside: on an implicit-TLS port
(465, 993, 995, and the webmail's 443), and after STARTTLS/STLS once the client's first octets
are a TLS handshake record, a `realtls.TlsLayer` decrypts what the client
sends and encrypts what the server says; at the same moment the session
plays the client's side of the modelled handshake on the simulated
connection (`agents.tls.handshake`), so the trace has its `tls.handshake`
record and marks every later line encrypted, as for a simulated client.

A real client host sits beside the simulated Internet
(`Network.attach`): it has no links, so no route between simulated hosts
can pass through it, and its bytes take no simulated time -- the real
network has its own latency, and the server's own delays (its error
sleep, its timeouts) still apply.
"""

from __future__ import annotations

import contextlib
import ipaddress
import json
import os
import socket
import ssl
import time
from collections.abc import Callable, Generator, Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, cast

import simpy

from simulator.agents.reader import Reader
from simulator.agents.recording import Wire
from simulator.agents.tls import handshake
from simulator.net.connection import EOF_MARK, Endpoint, Listener
from simulator.net.topology import Host
from simulator.protocols.http import HTTPS_PORT
from simulator.protocols.imap import IMAP_PORT, IMAPS_PORT
from simulator.protocols.lmtp import LMTP_PORT
from simulator.protocols.pop3 import POP3_PORT, POP3S_PORT
from simulator.protocols.smtp import SMTP_PORT, SMTPS_PORT, SUBMISSION_PORT
from simulator.protocols.tls import TlsVersion
from simulator.realtls import HANDSHAKE_RECORD, TlsLayer

#: Bytes read from a real socket at once.
READ_SIZE = 65536
#: Connections a listening socket holds before the loop accepts them.
BACKLOG = 16
#: The highest TCP port number.
MAX_PORT = 65535
#: What each simulated service is, in the port table.
SERVICES = {
    SMTP_PORT: "relay (MTA to MTA)",  # RFC 5321 §4.5.4
    SUBMISSION_PORT: "submission, AUTH first",  # RFC 6409 §4.3
    SMTPS_PORT: "submission over TLS, AUTH first",  # RFC 8314 §3.3
    POP3_PORT: "mailbox access",  # RFC 1939
    POP3S_PORT: "mailbox access over TLS",  # RFC 8314 §3.2
    IMAP_PORT: "mailbox access, mail kept on the server",  # RFC 9051
    IMAPS_PORT: "mailbox access over TLS, mail kept on the server",  # RFC 8314 §3.2
    LMTP_PORT: "hand-off to the MDA (MTA to MDA)",  # RFC 2033; Python's smtplib.LMTP speaks it
    HTTPS_PORT: "webmail for browsers",  # RFC 9110 §4.2.2
}
#: Ports where TLS comes first (RFC 8314 §3), and where STARTTLS or STLS may start it.
IMPLICIT_TLS_PORTS = frozenset({SMTPS_PORT, POP3S_PORT, IMAPS_PORT, HTTPS_PORT})
STARTTLS_PORTS = frozenset({SMTP_PORT, SUBMISSION_PORT, POP3_PORT, IMAP_PORT})
#: Simulated seconds the modelled handshake may wait for the simulated server.
HANDSHAKE_PATIENCE = 300.0
#: The host a real client appears as: named like `alice-pc`, and short enough
#: that a narrow transcript never abbreviates it.
REAL_CLIENT = "real-pc"


class ServeError(Exception):
    """Serving cannot start: a port is taken, a bind address is refused (one line)."""


@dataclass(frozen=True, slots=True)
class ServedPort:
    """One simulated service and the real address where it answers."""

    host: str  # the simulated host, e.g. "mail.example.org"
    port: int  # the simulated port, e.g. 587
    protocol: str  # "smtp" or "pop3"
    address: str  # the real address listened on, e.g. "127.0.0.1"
    real_port: int  # the real port, e.g. 2505

    @property
    def service(self) -> str:
        """What the service is for, in words ("relay (MTA to MTA)", "mailbox access")."""
        return SERVICES.get(self.port, self.protocol.upper())

    def to_json(self) -> dict[str, Any]:
        """The object `--ports-json` writes for this service."""
        return {"host": self.host, "port": self.port, "protocol": self.protocol,
                "address": self.address, "real_port": self.real_port}


def check_bind(address: str, allow_remote: bool) -> str | None:
    """Refuse a bind address that is not loopback, unless remote clients are allowed.

    Returns a warning to show when a non-loopback address is allowed, else
    None; raises `ServeError` for an address that is refused.
    """
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        raise ServeError(f"mailsim: --bind takes an IP address such as 127.0.0.1 or ::1, "
                         f"got {address!r}") from None
    if ip.is_loopback:
        return None
    if not allow_remote:
        raise ServeError(f"mailsim: --bind {address} is not a loopback address, so other "
                         "machines could reach the simulated servers; add --allow-remote "
                         "to serve them anyway")
    return (f"mailsim: warning: serving on {address}: other machines can reach the simulated "
            "servers, and passwords cross the network in clear text")

def plan_ports(listeners: Iterable[Listener], address: str, port_base: int) -> list[ServedPort]:
    """Every service with the real port it asks for: hosts by name, then services by port.

    The real ports follow from `port_base` in that order; with `port_base`
    0 every one is 0, for the system to pick.
    """
    ordered = sorted(listeners, key=lambda listener: (listener.host, listener.port))
    plan = [ServedPort(listener.host, listener.port, listener.protocol, address,
                       port_base + index if port_base else 0)
            for index, listener in enumerate(ordered)]
    if plan and plan[-1].real_port > MAX_PORT:
        raise ServeError(f"mailsim: {len(plan)} services from --port-base {port_base} would "
                         f"go past port {MAX_PORT}; choose a lower --port-base")
    return plan


def open_listener(planned: ServedPort) -> tuple[socket.socket, ServedPort]:
    """A non-blocking listening socket for `planned`, and the service with its real port."""
    address = planned.address
    listening = socket.socket(socket.AF_INET6 if ":" in address else socket.AF_INET)
    try:
        listening.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listening.bind((address, planned.real_port))
        listening.listen(BACKLOG)
        listening.setblocking(False)
    except OSError as error:
        listening.close()
        raise ServeError(
            f"mailsim: cannot listen on {address} port {planned.real_port} for "
            f"{planned.host}:{planned.port}: {error.strerror or error}; choose another "
            "--port-base, or --port-base 0 to let the system pick free ports"
        ) from None
    return listening, replace(planned, real_port=listening.getsockname()[1])


def write_ports_json(path: Path, ports: Iterable[ServedPort]) -> None:
    """The port table as a JSON list, written whole or not at all (a reader may be polling)."""
    partial = path.with_name(path.name + ".part")
    table = [port.to_json() for port in ports]
    try:
        partial.write_text(json.dumps(table, indent=2) + "\n", encoding="utf-8")
        os.replace(partial, path)
    except OSError as error:  # name the user's file, not the temporary one
        raise OSError(error.errno, error.strerror, str(path)) from None


def port_table(ports: Sequence[ServedPort], title: str) -> str:
    """The port table as text: which real address is which simulated service."""
    rows = [("real address", "simulated service", "protocol", "for")] + [
        (f"[{p.address}]:{p.real_port}" if ":" in p.address else f"{p.address}:{p.real_port}",
         f"{p.host}:{p.port}", p.protocol.upper(), p.service) for p in ports]
    widths = [max(len(row[column]) for row in rows) for column in range(3)]
    lines = ["  ".join([*(cell.ljust(width) for cell, width in zip(row, widths, strict=False)),
                        row[-1]]) for row in rows]
    return "\n".join([title, *lines])


class RealClock:
    """Simulated seconds that follow the wall clock, `speed` times faster.

    `origin` is the simulated time at the wall-clock instant the clock
    starts; `wall` is the monotonic clock (a test may pass its own).
    """

    def __init__(
        self, speed: float, origin: float, wall: Callable[[], float] = time.monotonic
    ) -> None:
        if not speed > 0:
            raise ValueError(f"speed must be positive, got {speed!r}")
        self.speed = speed
        self.origin = origin
        self._wall = wall
        self._start = wall()

    def now(self) -> float:
        """The simulated time that matches the wall clock now."""
        return self.origin + (self._wall() - self._start) * self.speed

    def wait_for(self, simulated: float) -> float:
        """Real seconds until the simulated time `simulated` (0 if it is past)."""
        return max(0.0, (simulated - self.now()) / self.speed)


class RealClients:
    """The hosts real clients appear as: one per real address, named once.

    The first address seen is `real-pc` (on loopback, every client
    comes from 127.0.0.1 or ::1); another address, possible only with
    `--allow-remote`, gets `real-pc-2`, `real-pc-3`... A name the
    scenario already uses is skipped.
    """

    def __init__(self, attach: Callable[[Host], None], taken: Callable[[str], bool]) -> None:
        self._attach = attach
        self._taken = taken
        self._names: dict[str, str] = {}

    def host_for(self, address: str) -> str:
        """The host name of the real client at `address`, attached on first sight."""
        name = self._names.get(address)
        if name is None:
            number = len(self._names) + 1
            name = REAL_CLIENT if number == 1 else f"{REAL_CLIENT}-{number}"
            while self._taken(name):
                number += 1
                name = f"{REAL_CLIENT}-{number}"
            self._attach(Host(name, address))
            self._names[address] = name
        return name


Starter = Callable[[str, Generator[simpy.events.Event, Any, None]], object]


@dataclass(frozen=True, slots=True)
class TlsOffer:
    """The real TLS a served port can speak: from the first octet, or after STARTTLS."""

    context: ssl.SSLContext
    implicit: bool


class RealSession:
    """One real client's connection, carried into the simulation and back.

    `endpoint` is the simulated client end of the connection the real
    client was given.  `feed` moves what the socket has into the
    simulation (recorded as the real client's lines); `drain` writes what
    the simulated server has sent to the socket.  The session is `done`
    once the server has closed and everything it said was written, or the
    real client is gone.  With a `TlsOffer`, the socket speaks real TLS
    (see the module's docstring).
    """

    def __init__(
        self, sock: socket.socket, endpoint: Endpoint, start: Starter, name: str,
        tls: TlsOffer | None = None,
    ) -> None:
        self.sock = sock
        self.wire = Wire(endpoint)
        self.outgoing = bytearray()
        self.reading = True  # the real client may still send
        self.server_closed = False
        self.done = False
        self.offer = tls
        self.tls = TlsLayer(tls.context) if tls is not None and tls.implicit else None
        self._modelled = False  # the simulated side's handshake is done
        self._held = bytearray()  # the client's plaintext, until then
        self._tls_wanted = self.wire.env.event()  # the client began TLS after STARTTLS
        start(name, self._from_server())

    def _from_server(self) -> Generator[simpy.events.Event, Any, None]:
        """A SimPy process: gather what the simulated server sends, until it closes."""
        if self.tls is not None:
            yield from self._modelled_handshake(implicit=True)
        while True:
            arrival = self.wire.recv()
            yield arrival | self._tls_wanted
            if not arrival.triggered:  # STARTTLS: the simulated server waits for a handshake
                arrival.cancel()
                self._tls_wanted = self.wire.env.event()  # once per session
                yield from self._modelled_handshake(implicit=False)
                continue
            data = cast(bytes, arrival.value)  # an endpoint's inbox holds bytes
            if data == EOF_MARK:
                self.server_closed = True
                if self.tls is not None:
                    self.tls.close()
                    self.outgoing += self.tls.outgoing()
                return
            if self.tls is not None:
                self.tls.send(data)
                data = self.tls.outgoing()
            self.outgoing += data

    def _modelled_handshake(self, implicit: bool) -> Generator[simpy.events.Event, Any, None]:
        """The client's side of the modelled handshake, then what the client said meanwhile."""
        patience = Reader(self.wire.endpoint, HANDSHAKE_PATIENCE)
        outcome = yield from handshake(self.wire, patience, None, implicit)
        patience.stop()
        if isinstance(outcome, TlsVersion):
            self._modelled = True
            self.wire.send(bytes(self._held))
            self._held.clear()

    @property
    def wants_write(self) -> bool:
        """Whether bytes wait for the socket to take them."""
        return bool(self.outgoing) and not self.done

    def feed(self) -> None:
        """Read what the real client sent and put it on the simulated connection.

        End of file (or a reset, or the end of its TLS) closes our side of
        the simulated connection: the server gets end of input, as from a
        simulated client that closes, and may still have its last word.
        """
        try:
            data = self.sock.recv(READ_SIZE)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if data and self._starts_tls(data):
            assert self.offer is not None
            self.tls = TlsLayer(self.offer.context)
            self._tls_wanted.succeed()
        if data and self.tls is not None:
            data = self.tls.receive(data)
            self.outgoing += self.tls.outgoing()
            if not data and not self.tls.closed:
                return  # a handshake message, or part of a record
        if data:
            if self.tls is not None and not self._modelled:
                self._held += data
            else:
                self.wire.send(data)
            return
        self.reading = False
        self.wire.close()
        if self.server_closed:
            self.end()

    def _starts_tls(self, data: bytes) -> bool:
        """Whether a client in clear begins a TLS handshake (after STARTTLS or STLS)."""
        return (self.tls is None and self.offer is not None and not self.offer.implicit
                and data[0] == HANDSHAKE_RECORD)

    def drain(self) -> None:
        """Write what the server said; end the session once the server is done."""
        while self.outgoing and not self.done:
            try:
                sent = self.sock.send(self.outgoing)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:  # the real client has gone: what is left is lost
                self.outgoing.clear()
                break
            del self.outgoing[:sent]
        if self.server_closed and not self.outgoing:
            self.end()

    def end(self) -> None:
        """Close the socket and our side of the simulated connection (once)."""
        if self.done:
            return
        self.done = True
        self.wire.close()
        with contextlib.suppress(OSError):
            self.sock.close()
