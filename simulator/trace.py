"""The trace: the single source of truth of a simulation.

Every observable happening -- a protocol line on the wire, a DNS query, a
message entering a queue, a delivery, a bounce -- is one immutable
`TraceRecord` appended to a `Trace`.  Views, statistics, exports and tests
only ever read the trace; nothing else in the simulator prints.

What a record carries beside its text is a typed payload, one frozen
dataclass per kind (`simulator.trace_data`; `PAYLOADS` maps each kind to
its class).  In JSONL it is the object under `data`.

A trace is streamable: sinks subscribed with `Trace.subscribe` see every
record the moment it is emitted, so a JSONL file or a live terminal view can
follow a run without keeping anything else in memory.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, fields
from enum import StrEnum
from typing import IO, Any, TypeVar

from simulator.trace_data import (
    DnsAnswer,
    DnsQuery,
    MailBounced,
    MailComposed,
    MailDeferred,
    MailDelivered,
    MailFetched,
    MailQueued,
    MailRelayed,
    Note,
    Payload,
    ProtocolLine,
    QueueEnter,
    QueueLeave,
    SimEnd,
    SimStart,
    Tap,
    TcpClose,
    TcpConnect,
    TcpRefused,
    TlsHandshake,
)

#: Version of the JSONL record layout; bump it when a field changes meaning.
SCHEMA_VERSION = 2  # 2: tls.handshake and tap records; encrypted lines, paths

P = TypeVar("P", bound=Payload)


class Kind(StrEnum):
    """What a trace record reports.  The value is what JSONL files carry.

    Beside each kind: what its host, peer and text are.  Its data is the
    payload `PAYLOADS` names.
    """

    SIM_START = "sim.start"  # host "mailsim"; text: the scenario's name
    SIM_END = "sim.end"  # host "mailsim"; text: "" or "interrupted"
    TCP_CONNECT = "tcp.connect"  # host=client, peer=server; opens a session
    TCP_REFUSED = "tcp.refused"  # host=client, peer=server; no session
    TCP_CLOSE = "tcp.close"  # host=the side that closed, peer=the other side
    LINE = "line"  # text: one protocol line; host=sender, peer=receiver
    TLS_HANDSHAKE = "tls.handshake"  # host=client, peer=server, at the ServerHello; then encrypted
    TAP = "tap"  # host "mailsim"; text: where an eavesdropper listens
    DNS_QUERY = "dns.query"  # host=asker; text: "MX? example.net"
    DNS_ANSWER = "dns.answer"  # host=asker; text: the records or the rcode
    MAIL_COMPOSED = "mail.composed"  # host=the MUA's (a user's mail) or the MTA's (a DSN)
    QUEUE_ENTER = "queue.enter"  # host=the MTA's; the message is queued
    QUEUE_LEAVE = "queue.leave"  # host=the MTA's; every recipient is settled
    MAIL_RELAYED = "mail.relayed"  # host=the MTA's; the next hop took one recipient
    MAIL_DEFERRED = "mail.deferred"  # host=the MTA's; one recipient waits for a retry
    MAIL_DELIVERED = "mail.delivered"  # host=the MDA's; one recipient's copy is in a mailbox
    MAIL_BOUNCED = "mail.bounced"  # host=the MTA's (returned) or the MUA's (refused at submission)
    MAIL_QUEUED = "mail.queued"  # host=the MTA's or MUA's; still waiting when the run ended
    MAIL_FETCHED = "mail.fetched"  # host=the MUA's; downloaded over POP3 or IMAP
    NOTE = "note"  # text: a remark for the reader


#: The payload class each kind of record carries (its JSONL `data`).
PAYLOADS: Mapping[Kind, type[Payload]] = {
    Kind.SIM_START: SimStart,
    Kind.SIM_END: SimEnd,
    Kind.TCP_CONNECT: TcpConnect,
    Kind.TCP_REFUSED: TcpRefused,
    Kind.TCP_CLOSE: TcpClose,
    Kind.LINE: ProtocolLine,
    Kind.TLS_HANDSHAKE: TlsHandshake,
    Kind.TAP: Tap,
    Kind.DNS_QUERY: DnsQuery,
    Kind.DNS_ANSWER: DnsAnswer,
    Kind.MAIL_COMPOSED: MailComposed,
    Kind.QUEUE_ENTER: QueueEnter,
    Kind.QUEUE_LEAVE: QueueLeave,
    Kind.MAIL_RELAYED: MailRelayed,
    Kind.MAIL_DEFERRED: MailDeferred,
    Kind.MAIL_DELIVERED: MailDelivered,
    Kind.MAIL_BOUNCED: MailBounced,
    Kind.MAIL_QUEUED: MailQueued,
    Kind.MAIL_FETCHED: MailFetched,
    Kind.NOTE: Note,
}


@dataclass(frozen=True, slots=True)
class TraceRecord:
    """One happening, at one simulated instant.

    `host` is where it happened (for a protocol line: the host that sent
    it) and `peer` the other end, if any.  `message` is the RFC 5322
    Message-ID of the mail concerned, so one message can be followed hop
    by hop across every host.  `payload` is the kind's typed data
    (`PAYLOADS`); `data` is the same as the JSON object of a JSONL line.
    """

    seq: int
    time: float
    kind: Kind
    host: str
    text: str = ""
    peer: str | None = None
    protocol: str | None = None
    session: str | None = None
    message: str | None = None
    payload: Payload = field(kw_only=True)

    @property
    def data(self) -> Mapping[str, Any]:
        """The payload as JSON values: the `data` object of a JSONL line."""
        return self.payload.to_data()

    @property
    def role(self) -> str | None:
        """Who sent a protocol line, "client" or "server"; None for other records."""
        payload = self.payload
        return payload.role if isinstance(payload, ProtocolLine) else None

    def payload_as(self, cls: type[P]) -> P:
        """The payload, which must be a `cls`: a view's typed access to a record it knows."""
        payload = self.payload
        if not isinstance(payload, cls):
            raise TypeError(
                f"a {self.kind.value} record carries {type(payload).__name__}, not {cls.__name__}"
            )
        return payload

    def to_dict(self) -> dict[str, Any]:
        """The record as plain JSON-ready values, in a fixed key order."""
        return {
            "seq": self.seq,
            "time": round(self.time, 9),
            "kind": self.kind.value,
            "host": self.host,
            "peer": self.peer,
            "protocol": self.protocol,
            "session": self.session,
            "message": self.message,
            "text": self.text,
            "data": self.payload.to_data(),
        }

    def to_json(self) -> str:
        """One line of JSON, byte-for-byte stable for equal records.

        NaN and Infinity are not JSON (RFC 8259 §6): a record holding one
        raises `ValueError` rather than write a line no JSON reader accepts.
        """
        return json.dumps(
            self.to_dict(), ensure_ascii=False, separators=(",", ":"), allow_nan=False
        )

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> TraceRecord:
        """Rebuild a record read back from a JSONL file.

        Raises ValueError for an unknown kind, or data that is not its payload.
        """
        kind = Kind(raw["kind"])
        return cls(
            seq=raw["seq"],
            time=raw["time"],
            kind=kind,
            host=raw["host"],
            text=raw.get("text", ""),
            peer=raw.get("peer"),
            protocol=raw.get("protocol"),
            session=raw.get("session"),
            message=raw.get("message"),
            payload=PAYLOADS[kind].from_data(raw.get("data", {})),
        )


Sink = Callable[[TraceRecord], None]

#: How `Trace.emit` fills a new record: each field's slot written directly,
#: where the frozen dataclass's own `__init__` looks each one up again through
#: `object.__setattr__`; nearly twice as fast, on the hottest path of a run.
_SLOT_SETTERS: tuple[Callable[[TraceRecord, Any], None], ...] = tuple(
    getattr(TraceRecord, each.name).__set__ for each in fields(TraceRecord)
)


def _new_record(
    seq: int, time: float, kind: Kind, host: str, text: str, peer: str | None,
    protocol: str | None, session: str | None, message: str | None, payload: Payload,
) -> TraceRecord:
    """The `TraceRecord` of these fields, built without `__init__`."""
    (set_seq, set_time, set_kind, set_host, set_text, set_peer, set_protocol, set_session,
     set_message, set_payload) = _SLOT_SETTERS
    record: TraceRecord = object.__new__(TraceRecord)
    set_seq(record, seq)
    set_time(record, time)
    set_kind(record, kind)
    set_host(record, host)
    set_text(record, text)
    set_peer(record, peer)
    set_protocol(record, protocol)
    set_session(record, session)
    set_message(record, message)
    set_payload(record, payload)
    return record


def _check_payload(kind: Kind, payload: Payload) -> None:
    """TypeError unless `payload` is of the kind's own class (`PAYLOADS`)."""
    if type(payload) is not PAYLOADS[kind]:
        raise TypeError(
            f"a {kind.value} record carries {PAYLOADS[kind].__name__}, "
            f"not {type(payload).__name__}"
        )


class Trace:
    """An append-only, observable list of `TraceRecord`s.

    `clock` returns the current simulated time in seconds; the simulation
    passes its SimPy environment's `now`.  With `keep=False` records are
    only handed to the sinks, so a long run can stream to disk in constant
    memory.  Kinds in `omit` are never recorded (a `session`-fidelity run
    leaves the wire out: `simulator.fidelity`).
    """

    def __init__(
        self, clock: Callable[[], float], keep: bool = True, omit: frozenset[Kind] = frozenset()
    ) -> None:
        self._clock = clock
        self._keep = keep
        self._omit = omit
        self._records: list[TraceRecord] = []
        self._sinks: list[Sink] = []
        self._count = 0

    def subscribe(self, sink: Sink) -> None:
        """Call `sink` with every record emitted from now on."""
        self._sinks.append(sink)

    def emit(
        self,
        kind: Kind,
        host: str,
        text: str,
        payload: Payload,
        *,
        peer: str | None = None,
        protocol: str | None = None,
        session: str | None = None,
        message: str | None = None,
    ) -> TraceRecord | None:
        """Append one record stamped with the current simulated time.

        `payload` must be the kind's own class (`PAYLOADS`): TypeError if not.
        A kind this trace omits is not recorded: None.
        """
        _check_payload(kind, payload)
        if kind in self._omit:
            return None
        record = _new_record(self._count, float(self._clock()), kind, host, text, peer,
                             protocol, session, message, payload)
        self._count += 1
        if self._keep:
            self._records.append(record)
        for sink in self._sinks:
            sink(record)
        return record

    def emit_each(
        self, kind: Kind, host: str, texts: Iterable[str], payload: Payload, *,
        peer: str | None, protocol: str | None, session: str | None, message: str | None,
    ) -> None:
        """`emit` one record per text, alike but for it (the lines of one send), in order."""
        _check_payload(kind, payload)
        if kind in self._omit:
            return
        time, keep, records, sinks = float(self._clock()), self._keep, self._records, self._sinks
        for text in texts:
            record = _new_record(self._count, time, kind, host, text, peer, protocol, session,
                                 message, payload)
            self._count += 1
            if keep:
                records.append(record)
            for sink in sinks:
                sink(record)

    def records_kind(self, kind: Kind) -> bool:
        """Whether records of `kind` are written at all (see `omit`)."""
        return kind not in self._omit

    @property
    def keeps(self) -> bool:
        """Whether records are kept (False: they only stream to the sinks)."""
        return self._keep

    @property
    def records(self) -> tuple[TraceRecord, ...]:
        """Every record kept so far, in order."""
        return tuple(self._records)

    def __iter__(self) -> Iterator[TraceRecord]:
        return iter(self._records)

    def __len__(self) -> int:
        return self._count

    def of_kind(self, *kinds: Kind) -> list[TraceRecord]:
        """The kept records of the given kinds, in order."""
        return [r for r in self._records if r.kind in kinds]

    def select(
        self,
        kind: str | Kind | Iterable[str | Kind] | None = None,
        *,
        host: str | None = None,
        protocol: str | None = None,
        session: str | None = None,
        message: str | None = None,
    ) -> list[TraceRecord]:
        """The kept records matching every filter given, in order.

        `kind` is one kind or several (``"mail.delivered"``, ``Kind.LINE``);
        `host` matches either end of a record (its host or its peer).
        """
        kinds = _kinds(kind)
        return [
            r for r in self._records
            if (kinds is None or r.kind in kinds)
            and (host is None or host in (r.host, r.peer))
            and (protocol is None or r.protocol == protocol)
            and (session is None or r.session == session)
            and (message is None or r.message == message)
        ]


def _kinds(kind: str | Kind | Iterable[str | Kind] | None) -> frozenset[Kind] | None:
    """The kinds a `Trace.select` filter names; a bad name raises ValueError."""
    if kind is None:
        return None
    if isinstance(kind, str):
        return frozenset({Kind(kind)})
    return frozenset(Kind(k) for k in kind)


class JsonlWriter:
    """A trace sink writing one JSON object per line to an open text file."""

    def __init__(self, stream: IO[str]) -> None:
        self._stream = stream

    def __call__(self, record: TraceRecord) -> None:
        self._stream.write(record.to_json())
        self._stream.write("\n")


def read_jsonl(stream: IO[str]) -> Iterator[TraceRecord]:
    """Read records back from a JSONL trace file."""
    for line in stream:
        if line.strip():
            yield TraceRecord.from_dict(json.loads(line))
