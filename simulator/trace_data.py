"""The data of trace records: one frozen dataclass for each kind of record.

A record's payload is what it carries beside its text: the port of a TCP
connection, the question and answers of a DNS lookup, the recipient and
mailbox of a delivery.  In a JSONL trace it is the object under `data`, one
key per field, in field order; `Payload.to_data` and `Payload.from_data`
turn one into the other.  `simulator.trace.PAYLOADS` says which payload
each `Kind` carries, and `Trace.emit` holds every record to it.

Fields are keyword-only, so an emitter names every value it records.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import MISSING, dataclass, fields
from types import MappingProxyType
from typing import Any, ClassVar, Self

#: One field as JSON sees it: attribute name, JSON key, whether it is left
#: out at its default (OPTIONAL), and that default (MISSING if it has none).
_Slot = tuple[str, str, bool, Any]


@dataclass(frozen=True, slots=True)
class Payload:
    """What one kind of record carries; each subclass is one kind's `data`.

    `KEYS` renames a field whose JSON key is a Python keyword ("from").  A
    field named in `OPTIONAL` is left out of the JSON object while it holds
    its default; read back, a field with a default takes it when its key is
    absent.  Tuples are JSON arrays.
    """

    KEYS: ClassVar[Mapping[str, str]] = MappingProxyType({})
    OPTIONAL: ClassVar[frozenset[str]] = frozenset()

    def to_data(self) -> dict[str, Any]:
        """The payload as the JSON object of a JSONL line, in field order."""
        data: dict[str, Any] = {}
        for name, key, optional, default in _layout(type(self)):
            value = getattr(self, name)
            if optional and value == default:
                continue
            data[key] = list(value) if isinstance(value, tuple) else value
        return data

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> Self:
        """The payload of a JSON object read back; ValueError names a key missing or unknown."""
        layout = _layout(cls)
        values: dict[str, Any] = {}
        for name, key, _, default in layout:
            if key in data:
                value = data[key]
                values[name] = tuple(value) if isinstance(value, list) else value
            elif default is MISSING:
                raise ValueError(f"{cls.__name__} data lacks {key!r}")
        unknown = sorted(set(data) - {key for _, key, _, _ in layout})
        if unknown:
            raise ValueError(f"{cls.__name__} data has unknown keys {unknown}")
        return cls(**values)

    @classmethod
    def json_keys(cls) -> tuple[str, ...]:
        """Every JSON key this payload may carry, in order."""
        return tuple(key for _, key, _, _ in _layout(cls))


_LAYOUTS: dict[type[Payload], tuple[_Slot, ...]] = {}


def _layout(cls: type[Payload]) -> tuple[_Slot, ...]:
    """How the fields of `cls` map to JSON keys (worked out once per class)."""
    layout = _LAYOUTS.get(cls)
    if layout is None:
        layout = _LAYOUTS[cls] = tuple(
            (f.name, cls.KEYS.get(f.name, f.name), f.name in cls.OPTIONAL, f.default)
            for f in fields(cls)
        )
    return layout


# -- the run ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class SimStart(Payload):
    """The run begins: its seed, length and hosts, the record layout version, its fidelity."""

    seed: int
    duration: float  # simulated seconds
    hosts: tuple[str, ...]  # every host name, sorted
    schema: int  # simulator.trace.SCHEMA_VERSION
    #: "dialogue", or "session": no line, tcp, tls, dns or tap records (`simulator.fidelity`)
    fidelity: str = "dialogue"

    OPTIONAL: ClassVar[frozenset[str]] = frozenset({"fidelity"})


@dataclass(frozen=True, slots=True, kw_only=True)
class SimEnd(Payload):
    """The books are closed; `interrupted` when the run stopped before its end."""

    OPTIONAL: ClassVar[frozenset[str]] = frozenset({"interrupted"})

    interrupted: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class Note(Payload):
    """A remark for the reader; the queue id or recipient it is about, if any."""

    OPTIONAL: ClassVar[frozenset[str]] = frozenset({"queue_id", "recipient"})

    queue_id: str | None = None
    recipient: str | None = None


# -- the network ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class TcpConnect(Payload):
    """A connection is open: the server's port and the handshake's round trip.

    `real` marks a real client's connection (`mailsim serve`), here and on
    the session's `tcp.close` and `line` records.
    """

    OPTIONAL: ClassVar[frozenset[str]] = frozenset({"real", "path"})

    port: int
    rtt: float  # seconds: SYN there, SYN-ACK back
    real: bool = False
    # the hosts the route crosses, client first, server last: recorded when a
    # scenario has eavesdroppers, so a view can tell which sessions each one sees
    path: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class TcpRefused(Payload):
    """A connection failed: "Connection refused" or "Connection timed out"."""

    port: int
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class TcpClose(Payload):
    """One side closed the connection; `real` as in `TcpConnect`."""

    OPTIONAL: ClassVar[frozenset[str]] = frozenset({"real"})

    port: int
    real: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class ProtocolLine(Payload):
    """One protocol line: who sent it ("client" or "server") and the server's port.

    `real` as in `TcpConnect`: a line of a real client's session, either way.
    `encrypted`: the line went inside TLS (after the session's `tls.handshake`),
    so only its size and timing showed on the wire.
    """

    OPTIONAL: ClassVar[frozenset[str]] = frozenset({"real", "encrypted"})

    role: str
    port: int
    real: bool = False
    encrypted: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class TlsHandshake(Payload):
    """A TLS handshake is settled: the ServerHello has named what it chose (host=client).

    Written when the client reads the ServerHello, before either side sends
    a protected line; `round_trips` is what the whole handshake costs.

    `implicit` when the port starts with TLS (465, 995; RFC 8314), else it
    followed STARTTLS or STLS.  `cipher` is named as Postfix and Dovecot log it.
    """

    OPTIONAL: ClassVar[frozenset[str]] = frozenset({"implicit"})

    port: int
    version: str  # "TLSv1.3", "TLSv1.2"
    cipher: str  # e.g. "TLS_AES_256_GCM_SHA384"
    bits: int  # symmetric key length
    round_trips: int  # RFC 8446: 1, RFC 5246: 2
    seconds: float  # from the ClientHello to the ServerHello's arrival
    overhead: int  # octets each TLS record adds to the data it carries
    implicit: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class Tap(Payload):
    """An eavesdropper listens on a link (`link`: its two hosts) or a host (`host`)."""

    OPTIONAL: ClassVar[frozenset[str]] = frozenset({"link", "host"})

    name: str
    link: tuple[str, ...] = ()
    host: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class DnsQuery(Payload):
    """A question to the resolver: a name and a record type ("MX", "A")."""

    qname: str
    qtype: str


@dataclass(frozen=True, slots=True, kw_only=True)
class DnsAnswer(Payload):
    """The resolver's answer: RFC 1035 rcode and the records, as text."""

    qname: str
    qtype: str
    rcode: str  # "NOERROR", "NXDOMAIN", "SERVFAIL"
    answers: tuple[str, ...]


# -- mail ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class MailComposed(Payload):
    """A message is written: by a user, or by an MTA as a bounce (DSN) of `original`."""

    KEYS: ClassVar[Mapping[str, str]] = MappingProxyType({"sender": "from", "recipients": "to"})
    OPTIONAL: ClassVar[frozenset[str]] = frozenset({"original"})

    sender: str  # "" for a bounce (the null reverse-path, RFC 5321 §4.5.5)
    recipients: tuple[str, ...]
    subject: str
    origin: str  # "user" or "bounce"
    original: str | None = None  # the bounced message's Message-ID


@dataclass(frozen=True, slots=True, kw_only=True)
class QueueEnter(Payload):
    """An MTA has queued a message under a queue id."""

    KEYS: ClassVar[Mapping[str, str]] = MappingProxyType({"sender": "from", "recipients": "to"})

    queue_id: str
    sender: str
    recipients: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class QueueLeave(Payload):
    """An MTA is done with a message: every recipient has a final answer."""

    queue_id: str
    reason: str  # "done"


@dataclass(frozen=True, slots=True, kw_only=True)
class MailRelayed(Payload):
    """The next hop took a recipient: its host and its reply to the final dot."""

    queue_id: str
    recipient: str
    relay: str
    reply: str


@dataclass(frozen=True, slots=True, kw_only=True)
class MailDeferred(Payload):
    """A recipient waits for another attempt: the reply or the MTA's own words."""

    queue_id: str
    recipient: str
    reply: str
    status: str  # RFC 3463 code, e.g. "4.4.1"
    attempt: int  # 1 for the first attempt


@dataclass(frozen=True, slots=True, kw_only=True)
class MailDelivered(Payload):
    """In a mailbox; `duplicate_of` names the recipient whose copy it already is."""

    OPTIONAL: ClassVar[frozenset[str]] = frozenset({"duplicate_of"})

    recipient: str
    mailbox: str
    hops: int  # Received: headers of the stored copy
    uid: str  # POP3 unique-id (RFC 1939 §7)
    queue_id: str
    duplicate_of: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class MailBounced(Payload):
    """A recipient failed for good: returned by an MTA, or refused at submission.

    `queue_id` is absent when the submission server refused the recipient
    (the mail client tells its user; no DSN is sent).
    """

    OPTIONAL: ClassVar[frozenset[str]] = frozenset({"queue_id"})

    queue_id: str | None = None
    recipient: str
    status: str  # RFC 3463 code, e.g. "5.1.1"
    reply: str  # a server's reply, or the MTA's own words when none answered
    bounce_id: str | None  # the DSN's Message-ID; None when none is sent
    expired: bool = False  # the queue lifetime ran out


@dataclass(frozen=True, slots=True, kw_only=True)
class MailQueued(Payload):
    """Still waiting when the run ends: in an MTA's queue or a client's Outbox."""

    queue_id: str  # "outbox" in a mail client
    recipient: str
    reason: str
    status: str | None = None  # RFC 3463 code of the last attempt, if any


@dataclass(frozen=True, slots=True, kw_only=True)
class MailFetched(Payload):
    """A mail client downloaded a message: over POP3, or over IMAP (protocol "imap").

    `seen`: IMAP had it flagged \\Seen already -- read on another device.
    `via`: a webmail fetched it to show it in the browser on that host.
    """

    OPTIONAL: ClassVar[frozenset[str]] = frozenset({"seen", "via"})

    user: str
    uid: str
    subject: str
    seen: bool = False
    via: str | None = None


# -- records views make ------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class ElidedLines(ProtocolLine):
    """A view's marker standing for `elided` protocol lines it does not show."""

    elided: int


@dataclass(frozen=True, slots=True, kw_only=True)
class SessionSummary(ProtocolLine):
    """A view's one line standing for a whole session, e.g. "empty check"."""

    summary: str
