"""The trace: the single source of truth of a simulation.

Every observable happening -- a protocol line on the wire, a DNS query, a
message entering a queue, a delivery, a bounce -- is one immutable
`TraceRecord` appended to a `Trace`.  Views, statistics, exports and tests
only ever read the trace; nothing else in the simulator prints.

A trace is streamable: sinks subscribed with `Trace.subscribe` see every
record the moment it is emitted, so a JSONL file or a live terminal view can
follow a run without keeping anything else in memory.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import IO, Any

#: Version of the JSONL record layout; bump it when a field changes meaning.
SCHEMA_VERSION = 1


class Kind(StrEnum):
    """What a trace record reports.  The value is what JSONL files carry."""

    SIM_START = "sim.start"  # text: scenario name; data: seed, duration
    SIM_END = "sim.end"  # text: none; data: none
    TCP_CONNECT = "tcp.connect"  # host=client, peer=server; data: port, rtt
    TCP_REFUSED = "tcp.refused"  # host=client, peer=server; data: port, reason (refused/timed out)
    TCP_CLOSE = "tcp.close"  # host=the side that closed
    LINE = "line"  # one protocol line; host=sender, peer=receiver; data: role
    DNS_QUERY = "dns.query"  # host=asker; data: qname, qtype
    DNS_ANSWER = "dns.answer"  # host=asker; data: qname, qtype, rcode, answers
    MAIL_COMPOSED = "mail.composed"  # MUA wrote it; data: from, to, subject
    QUEUE_ENTER = "queue.enter"  # MTA queued it; data: queue_id, from, to
    QUEUE_LEAVE = "queue.leave"  # data: queue_id, reason
    MAIL_RELAYED = "mail.relayed"  # next hop took it; data: queue_id, recipient, relay, reply
    MAIL_DEFERRED = "mail.deferred"  # data: queue_id, recipient, reply
    MAIL_DELIVERED = "mail.delivered"  # in a mailbox; data: recipient, mailbox, hops
    MAIL_BOUNCED = "mail.bounced"  # data: recipient, status, reply, bounce_id
    MAIL_QUEUED = "mail.queued"  # still queued at the end; data: queue_id, recipient
    MAIL_FETCHED = "mail.fetched"  # a MUA retrieved it; data: user, uid
    NOTE = "note"  # a narration line for humans; data: none


@dataclass(frozen=True, slots=True)
class TraceRecord:
    """One happening, at one simulated instant.

    `host` is where it happened (for a protocol line: the host that sent
    it) and `peer` the other end, if any.  `message` is the RFC 5322
    Message-ID of the mail concerned, so one message can be followed hop
    by hop across every host.
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
    data: Mapping[str, Any] = field(default_factory=dict)

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
            "data": dict(self.data),
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
        """Rebuild a record read back from a JSONL file."""
        return cls(
            seq=raw["seq"],
            time=raw["time"],
            kind=Kind(raw["kind"]),
            host=raw["host"],
            text=raw.get("text", ""),
            peer=raw.get("peer"),
            protocol=raw.get("protocol"),
            session=raw.get("session"),
            message=raw.get("message"),
            data=MappingProxyType(dict(raw.get("data", {}))),
        )


Sink = Callable[[TraceRecord], None]


class Trace:
    """An append-only, observable list of `TraceRecord`s.

    `clock` returns the current simulated time in seconds; the simulation
    passes its SimPy environment's `now`.  With `keep=False` records are
    only handed to the sinks, so a long run can stream to disk in constant
    memory.
    """

    def __init__(self, clock: Callable[[], float], keep: bool = True) -> None:
        self._clock = clock
        self._keep = keep
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
        text: str = "",
        *,
        peer: str | None = None,
        protocol: str | None = None,
        session: str | None = None,
        message: str | None = None,
        **data: Any,
    ) -> TraceRecord:
        """Append one record stamped with the current simulated time."""
        record = TraceRecord(
            seq=self._count,
            time=float(self._clock()),
            kind=kind,
            host=host,
            text=text,
            peer=peer,
            protocol=protocol,
            session=session,
            message=message,
            data=MappingProxyType(data),
        )
        self._count += 1
        if self._keep:
            self._records.append(record)
        for sink in self._sinks:
            sink(record)
        return record

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
