"""Words for trace records: what each kind of record says, its tag and colour.

Protocol lines are shown exactly as they went over the wire.  Mail and
queue records read like a Postfix log (`4F2A1B3C9D: to=<bob@example.net>,
relay=mail.example.net, status=sent (250 2.0.0 Ok)`), so what a student
learns here carries over to real logs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from simulator.trace import Kind, TraceRecord
from simulator.trace_data import (
    DnsAnswer,
    DnsQuery,
    ElidedLines,
    MailBounced,
    MailComposed,
    MailDeferred,
    MailDelivered,
    MailFetched,
    MailQueued,
    MailRelayed,
    ProtocolLine,
    QueueEnter,
    QueueLeave,
    SessionSummary,
    SimStart,
    TcpConnect,
    TcpRefused,
)
from simulator.views.formatting import format_duration, visible

CLIENT_STYLE = "cyan"
SERVER_STYLE = "green"
#: A line a lesson points at: it must catch the eye on a projector.
HIGHLIGHT_STYLE = "bold reverse yellow"

_KIND_STYLES: Mapping[Kind, str] = {
    Kind.SIM_START: "bold",
    Kind.SIM_END: "bold",
    Kind.TCP_CONNECT: "blue",
    Kind.TCP_CLOSE: "blue",
    Kind.TCP_REFUSED: "red",
    Kind.DNS_QUERY: "dim",
    Kind.DNS_ANSWER: "dim",
    Kind.MAIL_COMPOSED: "magenta",
    Kind.QUEUE_ENTER: "yellow",
    Kind.QUEUE_LEAVE: "yellow",
    Kind.MAIL_RELAYED: "yellow",
    Kind.MAIL_DEFERRED: "yellow",
    Kind.MAIL_DELIVERED: "bold green",
    Kind.MAIL_BOUNCED: "bold red",
    Kind.MAIL_QUEUED: "bold yellow",
    Kind.MAIL_FETCHED: "green",
    Kind.NOTE: "italic",
    Kind.TLS_HANDSHAKE: "bold blue",
    Kind.TAP: "bold red",
}

_KIND_CATEGORIES: Mapping[Kind, str] = {
    Kind.SIM_START: "sim",
    Kind.SIM_END: "sim",
    Kind.TCP_CONNECT: "tcp",
    Kind.TCP_CLOSE: "tcp",
    Kind.TCP_REFUSED: "tcp",
    Kind.DNS_QUERY: "dns",
    Kind.DNS_ANSWER: "dns",
    Kind.NOTE: "note",
    Kind.TLS_HANDSHAKE: "tls",
    Kind.TAP: "sim",
}


def record_category(record: TraceRecord) -> str:
    """What a record is about, lower case: "smtp", "pop3", "dns", "tcp", "mail", ..."""
    if record.kind is Kind.LINE:
        return (record.protocol or "line").lower()
    return _KIND_CATEGORIES.get(record.kind, "mail")


def record_tag(record: TraceRecord) -> str:
    """The short upper-case tag shown before a record's text: "SMTP", "DNS", ..."""
    return record_category(record).upper()


@dataclass(frozen=True, slots=True)
class Highlights:
    """What a lesson wants seen: plain substrings, matched without regard to case.

    `Highlights.of(["550 5.1.1", "Status:"])` matches any line containing
    one of them.  An empty set matches nothing and is false.
    """

    needles: tuple[str, ...] = ()

    @classmethod
    def of(cls, needles: Iterable[str] | Highlights | None) -> Highlights:
        """Highlights from any iterable of strings (blank ones are ignored)."""
        if isinstance(needles, Highlights):
            return needles
        return cls(tuple(n.casefold() for n in needles or () if n.strip()))

    def __bool__(self) -> bool:
        return bool(self.needles)

    def __call__(self, text: str) -> bool:
        """True if `text` contains one of the needles."""
        if not self.needles:
            return False
        folded = text.casefold()
        return any(needle in folded for needle in self.needles)


def record_style(record: TraceRecord) -> str:
    """The style of a record's text: client and server lines differ."""
    payload = record.payload
    if isinstance(payload, ElidedLines | SessionSummary):
        return "dim italic"
    if isinstance(payload, ProtocolLine):
        return SERVER_STYLE if payload.role == "server" else CLIENT_STYLE
    return _KIND_STYLES.get(record.kind, "")


def describe(record: TraceRecord) -> str:
    """A record's text, control characters made visible."""
    describer = _DESCRIBERS.get(record.kind, _text)
    return visible(describer(record))


def _addresses(value: str | Iterable[str]) -> str:
    """Mailbox addresses as a log shows them: "<a@x>, <b@y>"."""
    items = [value] if isinstance(value, str) else value
    return ", ".join(f"<{item}>" for item in items)


def _with_reason(text: str, reason: str) -> str:
    """`text` followed by "(reason)" when there is one."""
    return f"{text} ({reason})" if reason else text


def _text(record: TraceRecord) -> str:
    return record.text


def _tcp_connect(record: TraceRecord) -> str:
    data = record.payload_as(TcpConnect)
    return f"connect to port {data.port}, rtt {data.rtt * 1000:.1f} ms"


def _tcp_refused(record: TraceRecord) -> str:
    data = record.payload_as(TcpRefused)
    return f"connect to port {data.port}: {data.reason or 'refused'}"


def _tcp_close(record: TraceRecord) -> str:
    return "close"


def _dns_query(record: TraceRecord) -> str:
    data = record.payload_as(DnsQuery)
    return f"query {data.qname} {data.qtype}"


def _dns_answer(record: TraceRecord) -> str:
    data = record.payload_as(DnsAnswer)
    head = f"answer {data.qname} {data.qtype} {data.rcode}"
    return f"{head}: {', '.join(data.answers)}" if data.answers else head


def _composed(record: TraceRecord) -> str:
    data = record.payload_as(MailComposed)
    to = _addresses(data.recipients)
    if data.origin == "bounce":
        return f"{record.message} composed: bounce of {data.original or '?'}, to={to}"
    sender = _addresses(data.sender)
    return f'{record.message} composed: from={sender} to={to} subject="{data.subject}"'


def _queue_enter(record: TraceRecord) -> str:
    data = record.payload_as(QueueEnter)
    sender, to = _addresses(data.sender), _addresses(data.recipients)
    return f"{data.queue_id}: queued, from={sender}, to={to}"


def _queue_leave(record: TraceRecord) -> str:
    data = record.payload_as(QueueLeave)
    return _with_reason(f"{data.queue_id}: removed", data.reason)


def _log_line(record: TraceRecord, queue_id: str | None, recipient: str, words: str) -> str:
    """A Postfix-style delivery log line: "QUEUEID: to=<rcpt>, words".

    Without a queue id (a mail client's own record) the Message-ID stands first.
    """
    which = queue_id or record.message or "?"
    return f"{which}: to={_addresses(recipient)}, {words}"


def _relayed(record: TraceRecord) -> str:
    data = record.payload_as(MailRelayed)
    words = f"relay={data.relay}, status=sent ({data.reply})"
    return _log_line(record, data.queue_id, data.recipient, words)


def _deferred(record: TraceRecord) -> str:
    data = record.payload_as(MailDeferred)
    return _log_line(record, data.queue_id, data.recipient, f"status=deferred ({data.reply})")


def _delivered(record: TraceRecord) -> str:
    data = record.payload_as(MailDelivered)
    into = f"mailbox={data.mailbox}, " if data.mailbox != data.recipient else ""
    words = f"{into}status=delivered (hops={data.hops})"
    return _log_line(record, data.queue_id, data.recipient, words)


def _bounced(record: TraceRecord) -> str:
    data = record.payload_as(MailBounced)
    status = "expired, returned to sender" if data.expired else "bounced"
    return _log_line(record, data.queue_id, data.recipient, f"status={status} ({data.reply})")


def _queued(record: TraceRecord) -> str:
    data = record.payload_as(MailQueued)
    line = _log_line(record, data.queue_id, data.recipient, "still queued")
    return _with_reason(line, data.reason)


def _fetched(record: TraceRecord) -> str:
    data = record.payload_as(MailFetched)
    what = f'"{data.subject}"' if data.subject else str(record.message)
    seen = ", already read on another device" if data.seen else ""
    via = f", shown in the browser on {data.via}" if data.via else ""
    return f"{data.user} downloaded {what} (uid {data.uid}{seen}{via})"


def _sim_start(record: TraceRecord) -> str:
    data = record.payload_as(SimStart)
    words = f'simulation "{record.text}" starts, seed {data.seed}'
    words = f"{words}, duration {format_duration(data.duration)}"
    if data.fidelity == "session":
        words += ", session fidelity: what happens to the mail, not the protocol lines"
    return words


def _sim_end(record: TraceRecord) -> str:
    return f"simulation ends: {record.text}" if record.text else "simulation ends"


_DESCRIBERS: Mapping[Kind, Callable[[TraceRecord], str]] = {
    Kind.LINE: _text,
    Kind.NOTE: _text,
    Kind.TCP_CONNECT: _tcp_connect,
    Kind.TCP_REFUSED: _tcp_refused,
    Kind.TCP_CLOSE: _tcp_close,
    Kind.DNS_QUERY: _dns_query,
    Kind.DNS_ANSWER: _dns_answer,
    Kind.MAIL_COMPOSED: _composed,
    Kind.QUEUE_ENTER: _queue_enter,
    Kind.QUEUE_LEAVE: _queue_leave,
    Kind.MAIL_RELAYED: _relayed,
    Kind.MAIL_DEFERRED: _deferred,
    Kind.MAIL_DELIVERED: _delivered,
    Kind.MAIL_BOUNCED: _bounced,
    Kind.MAIL_QUEUED: _queued,
    Kind.MAIL_FETCHED: _fetched,
    Kind.SIM_START: _sim_start,
    Kind.SIM_END: _sim_end,
}
