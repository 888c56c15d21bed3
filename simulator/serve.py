"""`mailsim serve`: the simulated mail servers on real sockets, in real time.

A `Server` opens one loopback listening socket for every service of every
simulated MTA and MDA host (SMTP relay 25, submission 587, POP3 110, IMAP
143, LMTP 24, and SMTPS 465, POP3S 995, IMAPS 993 where a host has TLS) and
for every webmail (HTTPS 443, for a browser, curl or `http.client`), in a
stable order: hosts by name, then services by port, on `port_base`,
`port_base + 1`, ... (`port_base` 0 lets the system pick free ports).  A
real mail program that connects to one of them talks to the simulated
server through a `bridge.RealSession`; its session enters the world where
a simulated client's would, and the same policies hold (AUTH on
submission, no open relay).  Where a host has TLS, a real client gets real
TLS (`realtls`): a throw-away certificate authority is made at start, and
`banner` names the file of its certificate for the client to trust.

One thread does everything (the caller's, or one in the background with
`serve_in_thread`).  The loop waits on the sockets with a
`selectors` selector, never longer than until the next simulated event is
due; then it plays the simulation on to the simulated time that matches
the wall clock (`Simulation.run(until=...)`, `speed` simulated seconds per
real second), feeds the sockets' bytes in and writes the servers' answers
out.  The sans-I/O protocol machines are the ones every run uses.

Serving outlasts the scenario: its traffic plays at its times, and the
servers keep answering after its `duration`, until `stop()` (Ctrl-C) or
the time given to `serve_for`.  The run ends -- `Simulation.finish`
writes what is still queued and `sim.end` -- at the instant serving stops.
"""

from __future__ import annotations

import contextlib
import math
import selectors
import signal
import socket
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType

from simulator.bridge import (
    IMPLICIT_TLS_PORTS,
    STARTTLS_PORTS,
    RealClients,
    RealClock,
    RealSession,
    ServedPort,
    ServeError,
    TlsOffer,
    check_bind,
    open_listener,
    plan_ports,
    port_table,
    write_ports_json,
)
from simulator.protocols.http import HTTPS_PORT
from simulator.protocols.tls import ServerTls
from simulator.realtls import ThrowAwayCa
from simulator.simulation import Simulation

#: The first real port `mailsim serve` uses unless told otherwise.
DEFAULT_PORT_BASE = 2500
#: Where the servers listen unless told otherwise: IPv4 loopback only.
LOOPBACK = "127.0.0.1"
#: The loop looks at the clock at least this often (real seconds).
MAX_WAIT = 0.5
#: After this many real seconds without a new record the loop says it is quiet
#: (a live transcript then prints what it held back).
QUIET_AFTER = 0.2

Handler = Callable[[int], None]

__all__ = [
    "DEFAULT_PORT_BASE", "LOOPBACK", "ServeError", "ServedPort", "Server", "check_bind",
    "port_table", "write_ports_json",
]


class Server:
    """The simulated servers of one simulation, served on real sockets.

    Use it as a context manager, or call `start()` then `serve_for()` (or
    `serve_in_thread()`), and `close()` at the end::

        with Server(Simulation.load("01-first-email"), port_base=0, speed=10) as server:
            print(server.ports)
            server.serve_for(30)

    `close()` finishes the simulation.  While the loop runs in another
    thread, read the world only inside `wait_until` or `with server.lock:`.
    """

    def __init__(
        self, simulation: Simulation, *, port_base: int = DEFAULT_PORT_BASE,
        bind: str = LOOPBACK, speed: float = 1.0, allow_remote: bool = False,
    ) -> None:
        if simulation.finished:
            raise ValueError("this simulation has finished: there is nothing left to serve")
        if port_base != 0 and not 0 < port_base < 65536:
            raise ValueError(f"port_base must be 0 or a port from 1 to 65535, got {port_base}")
        self.warning = check_bind(bind, allow_remote)
        self.simulation = simulation
        self.port_base = port_base
        self.bind = bind
        self.speed = speed
        self.lock = threading.RLock()
        self.on_quiet: Callable[[], None] | None = None
        self.ports: tuple[ServedPort, ...] = ()
        self._selector = selectors.DefaultSelector()
        self._sessions: dict[socket.socket, RealSession] = {}
        self._listeners: list[socket.socket] = []
        self._stop = threading.Event()
        self._waker, self._wake_end = socket.socketpair()
        self._clock: RealClock | None = None
        self._thread: threading.Thread | None = None
        self._failure: BaseException | None = None
        self._last_record = 0.0
        self._unsaid = False  # records since the loop last said it was quiet
        self._closed = False
        self._certificates: tempfile.TemporaryDirectory[str] | None = None
        self.ca: ThrowAwayCa | None = None  # made at start when a served host has TLS
        network = simulation.world.ctx.network
        self._clients = RealClients(network.attach, lambda name: name in network.topology.hosts)

    # -- life cycle ---------------------------------------------------------

    def start(self) -> tuple[ServedPort, ...]:
        """Open every listening socket, start the clock; the port table.

        Raises `ServeError` (nothing left open) when a port cannot be had.
        """
        if self._clock is not None:
            return self.ports
        listeners = self.simulation.world.ctx.network.listeners()
        plan = plan_ports(listeners, self.bind, self.port_base)
        try:
            self.ports = tuple(self._listen(planned) for planned in plan)
        except ServeError:
            self._close_sockets()
            raise
        if any(self._host_tls(port) for port in self.ports):
            self._certificates = tempfile.TemporaryDirectory(prefix="mailsim-serve-")
            self.ca = ThrowAwayCa(Path(self._certificates.name))
        self._selector.register(self._wake_end, selectors.EVENT_READ, self._drain_waker)
        simulation = self.simulation
        if not simulation.started:  # `sim.start` names the real client among the hosts
            self._clients.host_for("::1" if ":" in self.bind else "127.0.0.1")
        simulation.start()
        # Serving outlasts the scenario: the run ends when serving stops (see `close`).
        simulation.world.duration = math.inf
        simulation.trace.subscribe(self._noticed)
        self._clock = RealClock(self.speed, simulation.now)
        return self.ports

    def banner(self, title: str) -> str:
        """The port table, and the certificate a client must trust for the TLS ports."""
        table = port_table(self.ports, title)
        if self.ca is None:
            return table
        lines = [table, "TLS is real, with a throw-away certificate for localhost and "
                 "127.0.0.1; trust its CA while serving:", f"  {self.ca.path}",
                 f"  SHA-256 {self.ca.fingerprint}",
                 f"  e.g. curl --cacert {self.ca.path} imaps://127.0.0.1:PORT/INBOX -u USER:PASS"]
        if any(port.port == HTTPS_PORT for port in self.ports):
            lines.append(f"  webmail: curl --cacert {self.ca.path} https://127.0.0.1:PORT/ "
                         "(401 without the session cookie of a signed-in browser)")
        return "\n".join(lines)

    def serve_for(self, seconds: float | None = None) -> None:
        """Serve until `stop()` is called, or for `seconds` of real time."""
        self.start()
        deadline = None if seconds is None else time.monotonic() + seconds
        while not self._stop.is_set():
            now = time.monotonic()
            if deadline is not None and now >= deadline:
                break
            ready = self._selector.select(self._wait(now, deadline))
            with self.lock:
                self._turn(ready)

    def serve_until_stopped(self, seconds: float | None = None) -> None:
        """Serve until Ctrl-C (SIGINT) or SIGTERM, or for `seconds` of real time.

        The signal only stops the loop, which then returns for the caller to
        `close()`; a second one acts at once, as it would have before.  Call
        it from the main thread.
        """
        signals = (signal.SIGINT, signal.SIGTERM)
        before = {number: signal.getsignal(number) or signal.SIG_DFL for number in signals}

        def stop(number: int, frame: object) -> None:
            signal.signal(number, before[signal.Signals(number)])
            self.stop()

        for number in signals:
            signal.signal(number, stop)
        try:
            self.serve_for(seconds)
        finally:
            for number, handler in before.items():
                signal.signal(number, handler)

    def serve_in_thread(self) -> threading.Thread:
        """Start serving in a background thread (tests, notebooks); `close()` stops it."""
        self.start()
        if self._thread is None:
            self._thread = threading.Thread(target=self._serve_in_background,
                                            name="mailsim serve", daemon=True)
            self._thread.start()
        return self._thread

    def _serve_in_background(self) -> None:
        try:
            self.serve_for(None)
        except BaseException as error:  # raised again by `wait_until` and `close`
            self._failure = error

    def stop(self) -> None:
        """Ask the loop to stop (from any thread, or a signal handler)."""
        self._stop.set()
        with contextlib.suppress(OSError):
            self._waker.send(b"x")

    def close(self) -> None:
        """Stop serving, close every socket and finish the run at this instant (once)."""
        if self._closed:
            return
        self._closed = True
        self.stop()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join()
        with self.lock:
            if self._clock is None or self._failure is not None:
                self._close_sockets()  # never started, or broken: the simulation is left alone
                self._raise_failure()
                return
            simulation = self.simulation
            simulation.run(until=self._clock.now())
            for session in list(self._sessions.values()):
                session.drain()
                session.end()
            self._close_sockets()
            simulation.world.duration = simulation.now  # the run ends as serving stops
            simulation.finish()

    def wait_until(self, condition: Callable[[Simulation], bool], timeout: float) -> bool:
        """Wait (real seconds) until `condition(simulation)` holds; False on timeout.

        The condition is checked with the loop held still, so it may read the
        world and the trace while another thread serves.
        """
        deadline = time.monotonic() + timeout
        while True:
            self._raise_failure()
            with self.lock:
                if condition(self.simulation):
                    return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.02)

    def _raise_failure(self) -> None:
        """Raise what broke the background thread, if anything did."""
        if self._failure is not None:
            raise RuntimeError("the serving thread failed") from self._failure

    def __enter__(self) -> Server:
        try:
            self.start()
        except BaseException:
            self._close_sockets()
            raise
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    # -- the loop -----------------------------------------------------------

    def _wait(self, now: float, deadline: float | None) -> float:
        """Real seconds the selector may wait: until the next simulated event, at most."""
        assert self._clock is not None
        wait = MAX_WAIT
        upcoming = self.simulation.peek().time
        if upcoming is not None:
            wait = min(wait, self._clock.wait_for(upcoming))
        if self._unsaid:
            wait = min(wait, max(0.0, self._last_record + QUIET_AFTER - now))
        if deadline is not None:
            wait = min(wait, deadline - now)
        if any(session.wants_write for session in self._sessions.values()):
            wait = min(wait, MAX_WAIT)
        return max(0.0, wait)

    def _turn(self, ready: list[tuple[selectors.SelectorKey, int]]) -> None:
        """Play on to the wall clock, take the sockets' news, play on, answer."""
        self._advance()
        for key, mask in ready:
            handler: Handler = key.data
            handler(mask)
        self._advance()
        for session in list(self._sessions.values()):
            session.drain()
            self._watch(session)
        if self._unsaid and time.monotonic() - self._last_record >= QUIET_AFTER:
            self._unsaid = False
            if self.on_quiet is not None:
                self.on_quiet()

    def _advance(self) -> None:
        """Play every simulated event due by now (by the wall clock)."""
        assert self._clock is not None
        target = self._clock.now()
        if target > self.simulation.now:
            self.simulation.run(until=target)

    def _noticed(self, record: object) -> None:
        self._last_record = time.monotonic()
        self._unsaid = True

    def _accept(self, served: ServedPort, listening: socket.socket) -> None:
        try:
            sock, address = listening.accept()
        except OSError:  # BlockingIOError, InterruptedError among them
            return
        sock.setblocking(False)
        peer = f"[{address[0]}]:{address[1]}" if ":" in address[0] else f"{address[0]}:{address[1]}"
        client = self._clients.host_for(address[0])
        network = self.simulation.world.ctx.network
        endpoint = network.accept_real(client, served.host, served.port, origin=peer)
        session = RealSession(sock, endpoint, self.simulation.world.ctx.start,
                              f"real client {peer} -> {served.host}:{served.port}",
                              self._tls_offer(served))
        self._sessions[sock] = session
        self._selector.register(sock, selectors.EVENT_READ, lambda mask: self._ready(session, mask))

    def _ready(self, session: RealSession, mask: int) -> None:
        if mask & selectors.EVENT_READ and session.reading:
            session.feed()
        if mask & selectors.EVENT_WRITE:
            session.drain()
        self._watch(session)

    def _watch(self, session: RealSession) -> None:
        """Keep the selector in step with what a session waits for; forget it once done.

        A session whose client has closed and that has nothing to write
        waits for the simulated server's last word: no socket event can
        help it, so it is not watched (every turn drains it anyway).
        """
        sock = session.sock
        if sock not in self._sessions:
            return
        events = 0 if session.done else (
            (selectors.EVENT_READ if session.reading else 0)
            | (selectors.EVENT_WRITE if session.wants_write else 0))
        try:
            key: selectors.SelectorKey | None = self._selector.get_key(sock)
        except (KeyError, ValueError):
            key = None
        if key is not None and events == 0:
            self._selector.unregister(sock)
        elif key is None and events:
            self._selector.register(sock, events, lambda mask: self._ready(session, mask))
        elif key is not None and key.events != events:
            self._selector.modify(sock, events, key.data)
        if session.done:
            del self._sessions[sock]

    def _drain_waker(self, mask: int) -> None:
        with contextlib.suppress(OSError):
            self._wake_end.recv(4096)

    # -- TLS ----------------------------------------------------------------

    def _host_tls(self, served: ServedPort) -> ServerTls | None:
        """The TLS behind `served`: its host's block, or a webmail's (443, RFC 9110 §4.2.2)."""
        world = self.simulation.world
        webmail = world.webmails.get(served.host)
        if served.port == HTTPS_PORT and webmail is not None:
            return ServerTls(version=webmail.config.version, starttls=False)
        agent = world.mtas.get(served.host) or world.mdas.get(served.host)
        return agent.config.tls if agent is not None else None

    def _tls_offer(self, served: ServedPort) -> TlsOffer | None:
        """The real TLS a connection to `served` may speak, as its simulated server does."""
        tls = self._host_tls(served)
        if tls is None or self.ca is None:
            return None
        implicit = served.port in IMPLICIT_TLS_PORTS
        if not implicit and (served.port not in STARTTLS_PORTS or not tls.starttls):
            return None
        return TlsOffer(self.ca.context(tls.version), implicit)

    # -- sockets ------------------------------------------------------------

    def _listen(self, planned: ServedPort) -> ServedPort:
        listening, served = open_listener(planned)
        self._listeners.append(listening)
        self._selector.register(listening, selectors.EVENT_READ,
                                lambda mask: self._accept(served, listening))
        return served

    def _close_sockets(self) -> None:
        """Close every socket and the selector (again is harmless)."""
        for sock in [*self._listeners, *self._sessions, self._waker, self._wake_end]:
            sock.close()
        self._listeners.clear()
        self._sessions.clear()
        self._selector.close()
        if self._certificates is not None:
            self._certificates.cleanup()
