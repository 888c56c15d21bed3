"""`narrate` and `Narrator`: one record in, plain words (or nothing) out."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

from simulator.narration import records
from simulator.narration.context import NarrationContext
from simulator.narration.lmtp import lmtp_line
from simulator.narration.pop3 import pop3_line
from simulator.narration.smtp import smtp_line
from simulator.trace import Kind, TraceRecord
from simulator.trace_data import ElidedLines

Explainer = Callable[[TraceRecord, NarrationContext], "str | None"]

#: Protocol lines, by the record's protocol.
_LINES: Mapping[str, Explainer] = {
    "smtp": smtp_line,
    "pop3": pop3_line,
    "lmtp": lmtp_line,
}


def _line(record: TraceRecord, context: NarrationContext) -> str | None:
    explain = _LINES.get((record.protocol or "").lower())
    return explain(record, context) if explain else None


#: Every other record, by kind.  A kind missing here (note, sim.end) says nothing.
_KINDS: Mapping[Kind, Explainer] = {
    Kind.LINE: _line,
    Kind.SIM_START: records.sim_start,
    Kind.TCP_CONNECT: records.tcp_connect,
    Kind.TCP_REFUSED: records.tcp_refused,
    Kind.TCP_CLOSE: records.tcp_close,
    Kind.TLS_HANDSHAKE: records.tls_handshake,
    Kind.TAP: records.tap,
    Kind.DNS_QUERY: records.dns_query,
    Kind.DNS_ANSWER: records.dns_answer,
    Kind.MAIL_COMPOSED: records.composed,
    Kind.QUEUE_ENTER: records.queue_enter,
    Kind.QUEUE_LEAVE: records.queue_leave,
    Kind.MAIL_RELAYED: records.relayed,
    Kind.MAIL_DEFERRED: records.deferred,
    Kind.MAIL_BOUNCED: records.bounced,
    Kind.MAIL_DELIVERED: records.delivered,
    Kind.MAIL_QUEUED: records.still_queued,
    Kind.MAIL_FETCHED: records.fetched,
}


def narrate(record: TraceRecord, context: NarrationContext) -> str | None:
    """Plain words for `record`, or None when it needs none.

    `context` remembers what earlier records said; feed every record of a
    trace, in order, through the same context.
    """
    if isinstance(record.payload, ElidedLines):
        return None  # a view's "lines not shown" marker, not a happening
    explain = _KINDS.get(record.kind)
    words = explain(record, context) if explain else None
    return f"{words}." if words and not words.endswith((".", "!", "?")) else words


class Narrator:
    """Explains a trace record by record, remembering what it has read.

    Call `explain` with every record, in trace order (also the ones not
    shown: the narrator needs them to follow sessions and queues).
    """

    def __init__(self) -> None:
        self.context = NarrationContext()

    def explain(self, record: TraceRecord) -> str | None:
        """Plain words for `record`, or None."""
        return narrate(record, self.context)

    def explain_all(self, trace: Iterable[TraceRecord]) -> list[tuple[TraceRecord, str]]:
        """Every record of `trace` that has words, with them."""
        explained = ((record, self.explain(record)) for record in trace)
        return [(record, words) for record, words in explained if words]
