"""Words for trace records: what each kind of record says, its tag and colour.

Protocol lines are shown exactly as they went over the wire.  Mail and
queue records read like a Postfix log (`4F2A1B3C9D: to=<bob@example.net>,
relay=mail.example.net, status=sent (250 2.0.0 Ok)`), so what a student
learns here carries over to real logs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from simulator.trace import Kind, TraceRecord
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
    if record.kind is Kind.LINE:
        if record.data.get("elided") or record.data.get("summary"):
            return "dim italic"
        return SERVER_STYLE if record.data.get("role") == "server" else CLIENT_STYLE
    return _KIND_STYLES.get(record.kind, "")


def describe(record: TraceRecord) -> str:
    """A record's text, control characters made visible."""
    describer = _DESCRIBERS.get(record.kind, _text)
    return visible(describer(record))


def _get(record: TraceRecord, key: str, default: str = "?") -> Any:
    """A data field of a record, or `default` when absent."""
    value = record.data.get(key)
    return default if value is None else value


def _addresses(value: Any) -> str:
    """Mailbox addresses as a log shows them: "<a@x>, <b@y>"."""
    items: Iterable[Any] = [value] if isinstance(value, str) else value or ()
    return ", ".join(f"<{item}>" for item in items)


def _with_reason(text: str, reason: Any) -> str:
    """`text` followed by "(reason)" when there is one."""
    return f"{text} ({reason})" if reason else text


def _text(record: TraceRecord) -> str:
    return record.text


def _tcp_connect(record: TraceRecord) -> str:
    words = f"connect to port {_get(record, 'port')}"
    rtt = record.data.get("rtt")
    return f"{words}, rtt {rtt * 1000:.1f} ms" if isinstance(rtt, int | float) else words


def _tcp_refused(record: TraceRecord) -> str:
    reason = record.data.get("reason") or "refused"
    return f"connect to port {_get(record, 'port')}: {reason}"


def _tcp_close(record: TraceRecord) -> str:
    return "close"


def _dns_query(record: TraceRecord) -> str:
    return f"query {_get(record, 'qname')} {_get(record, 'qtype')}"


def _dns_answer(record: TraceRecord) -> str:
    head = f"answer {_get(record, 'qname')} {_get(record, 'qtype')} {_get(record, 'rcode')}"
    answers = record.data.get("answers") or ()
    return f"{head}: {', '.join(map(str, answers))}" if answers else head


def _composed(record: TraceRecord) -> str:
    to = _addresses(record.data.get("to"))
    if record.data.get("origin") == "bounce":
        return f"{record.message} composed: bounce of {_get(record, 'original')}, to={to}"
    sender = _addresses(record.data.get("from", ""))
    subject = record.data.get("subject", "")
    return f'{record.message} composed: from={sender} to={to} subject="{subject}"'


def _queue_enter(record: TraceRecord) -> str:
    sender = _addresses(record.data.get("from", ""))
    to = _addresses(record.data.get("to"))
    return f"{_get(record, 'queue_id')}: queued, from={sender}, to={to}"


def _queue_leave(record: TraceRecord) -> str:
    return _with_reason(f"{_get(record, 'queue_id')}: removed", record.data.get("reason"))


def _which(record: TraceRecord) -> str:
    """The queue id a log line starts with, or the Message-ID without one."""
    return str(record.data.get("queue_id") or record.message or "?")


def _log_line(record: TraceRecord, words: str) -> str:
    """A Postfix-style delivery log line: "QUEUEID: to=<rcpt>, words"."""
    return f"{_which(record)}: to={_addresses(_get(record, 'recipient'))}, {words}"


def _relayed(record: TraceRecord) -> str:
    reply = _get(record, "reply", "")
    return _log_line(record, f"relay={_get(record, 'relay')}, status=sent ({reply})")


def _deferred(record: TraceRecord) -> str:
    return _log_line(record, f"status=deferred ({_get(record, 'reply', '')})")


def _delivered(record: TraceRecord) -> str:
    recipient, mailbox = _get(record, "recipient"), record.data.get("mailbox")
    into = f"mailbox={mailbox}, " if mailbox and mailbox != recipient else ""
    return _log_line(record, f"{into}status=delivered (hops={_get(record, 'hops')})")


def _bounced(record: TraceRecord) -> str:
    status = "expired, returned to sender" if record.data.get("expired") else "bounced"
    return _log_line(record, f"status={status} ({_get(record, 'reply', '')})")


def _queued(record: TraceRecord) -> str:
    return _with_reason(_log_line(record, "still queued"), record.data.get("reason"))


def _fetched(record: TraceRecord) -> str:
    subject = record.data.get("subject")
    what = f'"{subject}"' if subject else str(record.message)
    return f"{_get(record, 'user')} downloaded {what} (uid {_get(record, 'uid')})"


def _sim_start(record: TraceRecord) -> str:
    words = f'simulation "{record.text}" starts, seed {_get(record, "seed")}'
    duration = record.data.get("duration")
    if isinstance(duration, int | float):
        return f"{words}, duration {format_duration(duration)}"
    return f"{words}, duration {duration}" if duration else words


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
