"""TCP connections between hosts, in SimPy.

A `Connection` is two `Endpoint`s.  Bytes sent by one endpoint arrive in
the other's inbox after the route's transit time, in order, carried by
the network's `Courier` (a timeout per send, no process per packet).
Opening a connection costs one round trip (SYN, SYN-ACK) before the
client may send; the server accepts it half a round trip later, when the
ACK arrives.

A connection carries bytes and never splits or reads them: the session
layer that feeds it records the protocol lines (the network cannot tell a
line from a TLS record or an IMAP literal).  The trace learns here only of
connections opened, refused and closed.

A connection can carry a label, `message`: the Message-ID of the mail under
way, set by the agent that sends it.  It belongs to the connection, not to
one end, so whoever records either direction can tag the server's replies
(a `550` at RCPT) with the message they answer, just as the client's
commands are.  The network itself never reads it.
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass, field
from typing import Any

import simpy

from simulator.net.courier import Courier, Inbox, InboxGet
from simulator.net.dns import DnsAnswer, Resolver
from simulator.net.topology import Host, Topology
from simulator.trace import Kind, Trace
from simulator.trace_data import DnsAnswer as AnswerData
from simulator.trace_data import DnsQuery, TcpClose, TcpConnect, TcpRefused

#: Bytes of a bare TCP segment (SYN, ACK): 20 IP + 20 TCP header octets.
SEGMENT_OVERHEAD = 40
#: Postfix smtp_connect_timeout: how long a client waits for a silent host.
CONNECT_TIMEOUT = 30.0
#: Modelling assumption: a recursive resolver near the host answers in 10 ms.
DNS_LOOKUP_TIME = 0.010
#: What `Endpoint.recv()` yields when the peer has closed the connection.
EOF_MARK = b""


@dataclass(frozen=True, slots=True)
class ConnectError:
    """Why a connection could not be opened, in the words of the OS."""

    reason: str  # "Connection refused" or "Connection timed out"


@dataclass(frozen=True, slots=True)
class Listener:
    """A server socket: where accepted connections queue up."""

    host: str
    port: int
    protocol: str
    backlog: Inbox


@dataclass(eq=False)
class Endpoint:
    """One end of a connection: send bytes, receive bytes."""

    network: Network
    connection: Connection
    host: str
    peer_host: str
    role: str
    inbox: Inbox
    closed: bool = False
    _last_arrival: float = field(default=0.0, repr=False)

    @property
    def peer_address(self) -> str:
        """The IP address of the host at the other end."""
        return self.network.topology.hosts[self.peer_host].address

    @property
    def message(self) -> str | None:
        """The Message-ID of the transaction under way, shared by both ends."""
        return self.connection.message

    @message.setter
    def message(self, message_id: str | None) -> None:
        self.connection.message = message_id

    @property
    def peer(self) -> Endpoint:
        """The endpoint at the other end."""
        conn = self.connection
        return conn.server if self is conn.client else conn.client

    def send(self, data: bytes) -> None:
        """Put bytes on the wire, to arrive in order after the transit time."""
        if self.closed or not data:
            return
        self._carry(data)

    def receiving(self) -> bool:
        """Whether bytes the peer sent are still on their way to us.

        Over a slow link a big message takes a long time to arrive; TCP
        delivers it segment by segment, so the receiver is not idle.
        """
        return self.peer._last_arrival > self.network.env.now

    def recv(self) -> InboxGet:
        """An event that yields the next chunk of bytes (b"" once closed)."""
        return self.inbox.get()

    def close(self) -> None:
        """Close our side; the peer reads end-of-file after the transit time."""
        if self.closed:
            return
        self.closed = True
        conn = self.connection
        self.network.trace.emit(
            Kind.TCP_CLOSE, self.host, "close", TcpClose(port=conn.port, real=conn.real),
            peer=self.peer_host, protocol="tcp", session=conn.session,
        )
        self._carry(EOF_MARK)

    def _carry(self, data: bytes) -> None:
        env = self.network.env
        transit = self.network.transit_time(self.host, self.peer_host, len(data))
        if transit is None:  # the route is gone: the bytes are lost
            return
        arrival = max(env.now + transit, self._last_arrival)
        self._last_arrival = arrival
        self.network.send_after(self.peer.inbox, data, arrival - env.now)


@dataclass(eq=False)
class Connection:
    """A TCP connection: a session id, a port, two endpoints and its `message` label."""

    session: str
    port: int
    protocol: str
    message: str | None = None
    real: bool = False  # carries a real client's bytes (mailsim serve); its records say so
    client: Endpoint = field(init=False)
    server: Endpoint = field(init=False)

    def landed(self, client_last: float, server_last: float) -> None:
        """When the last bytes each side sent land: for an opening played elsewhere."""
        self.client._last_arrival, self.server._last_arrival = client_last, server_last


class Network:
    """The simulated Internet: topology, DNS, listening ports, connections."""

    def __init__(
        self, env: simpy.Environment, trace: Trace, topology: Topology, resolver: Resolver,
        *, by_flight: bool = False,
    ) -> None:
        self.env = env
        self.trace = trace
        self.topology = topology
        self.resolver = resolver
        self._listeners: dict[tuple[str, int], Listener] = {}
        self._sessions = 0
        self._beside: set[str] = set()  # hosts attached beside the topology (`attach`)
        #: Whether `tcp.connect` records name the hosts on the route (for eavesdroppers).
        self.record_paths = False
        self.courier = Courier(env)
        #: Session fidelity: bytes go by `Courier.fly`, one event a flight.
        self.by_flight = by_flight
        self._route_watchers: list[simpy.Event] = []
        topology.on_change.append(self._routes_changed)

    def next_route_change(self) -> simpy.Event:
        """An event that fires at the next change to the topology (a link down or up...)."""
        watcher = simpy.Event(self.env)
        self._route_watchers.append(watcher)
        return watcher

    def _routes_changed(self) -> None:
        watchers, self._route_watchers = self._route_watchers, []
        for watcher in watchers:
            watcher.succeed()

    def send_after(self, inbox: Inbox, item: bytes | Endpoint, delay: float) -> None:
        """Put `item` (bytes, or a new connection's server end) into `inbox` after `delay`."""
        if self.by_flight:
            self.courier.fly(inbox, item, delay)
        else:
            self.courier.carry(inbox, item, delay)

    def listen(self, host: str, port: int, protocol: str) -> Listener:
        """Open a listening port on `host`; connections queue in its backlog."""
        listener = Listener(host, port, protocol, Inbox(self.env))
        self._listeners[(host, port)] = listener
        return listener

    def host_at(self, address: str) -> str | None:
        """The name of the host that has `address`, if any."""
        for host in self.topology.hosts.values():
            if host.address == address:
                return host.name
        return None

    def listeners(self) -> list[Listener]:
        """Every listening port, in the order they were opened."""
        return list(self._listeners.values())

    def attach(self, host: Host) -> None:
        """Put `host` beside the simulated Internet, next to every host.

        A real client of `mailsim serve` comes in this way.  It gets no
        link, so no route between simulated hosts can pass through it, and
        bytes between it and any host take no simulated time (a real
        network's latency is real).
        """
        self.topology.add_host(host)
        self._beside.add(host.name)

    def transit_time(self, source: str, target: str, size: int) -> float | None:
        """Seconds for `size` bytes from `source` to `target`, None if unreachable."""
        if self._beside and (source in self._beside or target in self._beside):
            return 0.0
        return self.topology.transit_time(source, target, size)

    def connect(
        self, client: str, server: str, port: int, timeout: float = CONNECT_TIMEOUT
    ) -> Generator[simpy.events.Event, Any, Endpoint | ConnectError]:
        """Open a connection (a SimPy sub-process): the client's endpoint.

        `server` is a host name, or an address where no host may be.  A
        host that cannot be reached never answers: the client gives up after
        `timeout`.  A host with nothing listening on `port` answers with a
        reset after one round trip.
        """
        there = self.transit_time(client, server, SEGMENT_OVERHEAD)
        back = self.transit_time(server, client, SEGMENT_OVERHEAD)
        if there is None or back is None:
            yield self.env.timeout(timeout)
            return self._refused(client, server, port, "Connection timed out")
        yield self.env.timeout(there + back)
        listener = self._listeners.get((server, port))
        if listener is None:
            return self._refused(client, server, port, "Connection refused")
        conn = self._open(client, server, listener)
        path = self.topology.path(client, server) if self.record_paths else None
        self.trace.emit(
            Kind.TCP_CONNECT, client, f"connected to {server} port {port}",
            TcpConnect(port=port, rtt=round(there + back, 9), path=tuple(path or ())),
            peer=server, protocol="tcp", session=conn.session,
        )
        self.send_after(listener.backlog, conn.server, there)
        return conn.client

    def opened(self, client: str, server: str, port: int) -> Connection:
        """A connection whose opening is played on a virtual clock (`agents.catchup`).

        Nothing is recorded: only a session-fidelity run does this, and its
        trace has no `tcp` records.  The server's listener on `port` must
        exist.  `Connection.landed` then says when the opening's bytes land.
        """
        return self._open(client, server, self._listeners[(server, port)])

    def accept_real(self, client: str, server: str, port: int, origin: str) -> Endpoint:
        """Open a real client's connection at once: the client's endpoint.

        The real handshake is over (the operating system accepted the
        socket), so the connection opens now, `real`, from the attached host
        `client`; `origin` is its real address and port, for the record.
        The server's listener on `port` must exist.
        """
        listener = self._listeners[(server, port)]
        conn = self._open(client, server, listener)
        conn.real = True
        self.trace.emit(
            Kind.TCP_CONNECT, client, f"connected to {server} port {port} from {origin} "
            "(a real client)", TcpConnect(port=port, rtt=0.0, real=True), peer=server,
            protocol="tcp", session=conn.session,
        )
        listener.backlog.put(conn.server)
        return conn.client

    def resolve(
        self, asker: str, qname: str, qtype: str
    ) -> Generator[simpy.events.Event, Any, DnsAnswer]:
        """Ask DNS (a SimPy sub-process); the query and answer are traced."""
        self.trace.emit(
            Kind.DNS_QUERY, asker, f"{qtype}? {qname}", DnsQuery(qname=qname, qtype=qtype),
            protocol="dns",
        )
        yield self.env.timeout(DNS_LOOKUP_TIME)
        answer = self.resolver.query(qname, qtype)
        shown = ", ".join(answer.answers) if answer.answers else "(no records)"
        text = answer.rcode.value if answer.rcode != "NOERROR" else shown
        self.trace.emit(
            Kind.DNS_ANSWER, asker, f"{qtype} {qname}: {text}",
            AnswerData(qname=qname, qtype=qtype, rcode=answer.rcode.value,
                       answers=answer.answers),
            protocol="dns",
        )
        return answer

    def _open(self, client: str, server: str, listener: Listener) -> Connection:
        self._sessions += 1
        conn = Connection(f"s{self._sessions}", listener.port, listener.protocol)
        conn.client = Endpoint(self, conn, client, server, "client", Inbox(self.env))
        conn.server = Endpoint(self, conn, server, client, "server", Inbox(self.env))
        return conn

    def _refused(self, client: str, server: str, port: int, reason: str) -> ConnectError:
        self.trace.emit(
            Kind.TCP_REFUSED, client, f"{server} port {port}: {reason}",
            TcpRefused(port=port, reason=reason), peer=server, protocol="tcp",
        )
        return ConnectError(reason)
