"""What an eavesdropper sees: every byte on its link or host, readable or not.

A scenario's eavesdropper listens on one link or one host (its `tap`
record says where).  It sees every session whose route crosses that place
(the `path` of the session's `tcp.connect`).  Of a plain session it reads
every line, and the credentials among the client's commands
(`views.credentials`): `USER`/`PASS` and IMAP `LOGIN` as they are, SASL
PLAIN and LOGIN after a base64 decode (an encoding, not a cipher).  Of an
encrypted session it sees the handshake in clear -- ServerHello names the
version and cipher suite (RFC 8446 §4.1.3) -- then only TLS records: their
sizes and their times.  A burst of lines one side sent at one instant is
one TLS record, its size the lines' plus the record's overhead (`overhead`
of the `tls.handshake` record).

Times are when the sender sent (the time of its `line` record; for the
handshake, of the ClientHello): the bytes cross the tap somewhat later,
after the latency of the path up to it, which the trace does not hold.  The
table says "Sent at" for that reason.

`eavesdropped` lists the sightings and `EavesdropView` renders them; both
read the trace and nothing else.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from itertools import pairwise

from rich import box
from rich.console import Console, ConsoleOptions, RenderResult
from rich.jupyter import JupyterMixin
from rich.table import Table
from rich.text import Text

from simulator.trace import Kind, TraceRecord
from simulator.trace_data import ProtocolLine, Tap, TcpConnect, TlsHandshake
from simulator.views.credentials import CredentialReader
from simulator.views.dialogue import SHORT_HOST, host_column
from simulator.views.formatting import abbreviate_host, format_clock, visible

CRLF_OCTETS = 2  # every line ended in CRLF on the wire
CLOCK_WIDTH = len("+00:00.000")


@dataclass(frozen=True, slots=True)
class Sighting:
    """One thing the eavesdropper saw: readable text, or an opaque TLS record."""

    time: float  # when the sender sent it, not when it crossed the tap
    sender: str
    receiver: str
    session: str
    text: str
    readable: bool  # False: a TLS record, of which only `octets` show
    octets: int = 0  # on the wire: the line with CRLF, or the whole TLS record
    secret: str | None = None  # a credential it could read, in words


def tap_of(records: Iterable[TraceRecord], name: str) -> Tap | None:
    """The `tap` record of the eavesdropper called `name`, if the trace has one."""
    for record in records:
        if record.kind is Kind.TAP and record.payload_as(Tap).name == name:
            return record.payload_as(Tap)
    return None


def sees(tap: Tap, path: tuple[str, ...]) -> bool:
    """Whether a route along `path` crosses the tapped link or host."""
    if tap.host is not None:
        return tap.host in path
    return any({a, b} == set(tap.link) for a, b in pairwise(path))


def eavesdropped(records: Iterable[TraceRecord], name: str) -> list[Sighting]:
    """Everything the eavesdropper `name` saw, in trace order (empty if there is none)."""
    records = list(records)
    tap = tap_of(records, name)
    if tap is None:
        return []
    watched: dict[str, int] = {}  # session -> TLS record overhead once encrypted (else 0)
    readers: dict[str, CredentialReader] = {}
    seen: list[Sighting] = []
    for record in records:
        session = record.session
        if record.kind is Kind.TCP_CONNECT and session is not None:
            connect = record.payload_as(TcpConnect)
            if sees(tap, connect.path):
                watched[session] = 0
                seen.append(_sighting(record, f"TCP connection to port {connect.port}"))
        elif session in watched:
            sighting = _seen(record, watched, readers)
            if sighting is not None:
                seen.append(sighting)
    seen.sort(key=lambda s: s.time)  # stable: a handshake goes back to its ClientHello
    return [s if s.readable else replace(s, octets=s.octets + watched[s.session])
            for s in _bursts(seen)]


def secrets(sightings: Iterable[Sighting]) -> list[str]:
    """The credentials an eavesdropper could read, each once, in the order it first read them."""
    return list(dict.fromkeys(s.secret for s in sightings if s.secret is not None))


def _seen(record: TraceRecord, watched: dict[str, int],
          readers: dict[str, CredentialReader]) -> Sighting | None:
    """What one record of a watched session showed on the wire."""
    assert record.session is not None
    if record.kind is Kind.TLS_HANDSHAKE:
        handshake = record.payload_as(TlsHandshake)
        watched[record.session] = handshake.overhead
        sighting = _sighting(record, f"TLS handshake: {handshake.version}, {handshake.cipher}; "
                                     "from here on only sizes and times")
        # seen from the ClientHello on, though the client records it at the ServerHello
        return replace(sighting, time=round(record.time - handshake.seconds, 9))
    if record.kind is Kind.TCP_CLOSE:
        return _sighting(record, "connection closed")
    if record.kind is not Kind.LINE:
        return None
    octets = len(record.text.encode("utf-8")) + CRLF_OCTETS
    if record.payload_as(ProtocolLine).encrypted:
        return replace(_sighting(record, ""), readable=False, octets=octets)
    return replace(_sighting(record, record.text), octets=octets,
                   secret=_credential(readers, record))


def _sighting(record: TraceRecord, text: str) -> Sighting:
    return Sighting(record.time, record.host, record.peer or "", record.session or "", text,
                    readable=True)


def _credential(readers: dict[str, CredentialReader], record: TraceRecord) -> str | None:
    """The credential a plain line gives away, read in the light of its session so far."""
    assert record.session is not None
    reader = readers.get(record.session)
    if reader is None:
        reader = readers[record.session] = CredentialReader(record.protocol)
    if record.role == "server":
        reader.server(record.text)
        return None
    return reader.client(record.text)


def _bursts(seen: list[Sighting]) -> list[Sighting]:
    """Encrypted lines one side sent at one instant: one TLS record of their summed size."""
    merged: list[Sighting] = []
    for sighting in seen:
        last = merged[-1] if merged else None
        if (last is not None and not sighting.readable and not last.readable
                and (last.time, last.sender, last.session)
                == (sighting.time, sighting.sender, sighting.session)):
            merged[-1] = replace(last, octets=last.octets + sighting.octets)
        else:
            merged.append(sighting)
    return merged


class EavesdropView(JupyterMixin):
    """A table of what one eavesdropper saw, and the secrets it could read."""

    def __init__(self, records: Iterable[TraceRecord], name: str) -> None:
        self.records = list(records)
        self.name = name

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        tap = tap_of(self.records, self.name)
        if tap is None:
            yield Text(f"No eavesdropper called {self.name!r} in this run.", "red")
            return
        place = f"link {tap.link[0]} -- {tap.link[1]}" if tap.link else f"host {tap.host}"
        sightings = eavesdropped(self.records, self.name)
        table = Table(box=box.SIMPLE, title=f"What {self.name} sees on {place}",
                      title_justify="left", expand=False)
        table.add_column("Sent at", no_wrap=True)
        table.add_column("Session", no_wrap=True)
        table.add_column("From → to", no_wrap=True)
        table.add_column("On the wire", overflow="fold")
        longest = max((len(n) for s in sightings for n in (s.sender, s.receiver)), default=0)
        # the width a dialogue gives host names on this console, for the same abbreviations
        width = host_column(options.max_width, CLOCK_WIDTH, longest) or SHORT_HOST
        for s in sightings:
            ends = f"{abbreviate_host(s.sender, width)} → {abbreviate_host(s.receiver, width)}"
            table.add_row(format_clock(s.time), s.session, ends, _shown(s))
        yield table
        found = secrets(sightings)
        yield Text(f"Read in clear: {'; '.join(found)}." if found
                   else "No password crossed in clear.", "bold red" if found else "bold green")


def _shown(sighting: Sighting) -> Text:
    """A sighting as the table shows it: the line, or the TLS record's size."""
    if not sighting.readable:
        return Text(f"TLS application data, {sighting.octets} bytes", "dim")
    style = "bold red" if sighting.secret else ""
    return Text(visible(sighting.text), style)
