"""Narrating the records that are not protocol lines: TCP, DNS, queues, fates.

These records carry their facts in `data` (a port, an MX answer, a queue
id, an RFC 3463 status), so their words come straight from there.  What a
later record needs -- the MX hosts just found, the envelope sender and
arrival time of each queued message -- goes into the context.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from simulator.narration import record_words
from simulator.narration.context import NarrationContext, QueueEntry
from simulator.narration.phrases import fill, parse_reply, plural, seconds, status_meaning
from simulator.trace import TraceRecord

# The retry rule of Postfix's queue manager (qmgr_active.c): wait as long as
# the message has been queued, within these bounds.
MINIMAL_BACKOFF = 300.0  # seconds: Postfix minimal_backoff_time
MAXIMAL_BACKOFF = 4000.0  # seconds: Postfix maximal_backoff_time
QUEUE_LIFETIME = 5 * 86400.0  # seconds: Postfix maximal_queue_lifetime (5d)
QUEUE_RUN_DELAY = 300.0  # seconds: Postfix queue_run_delay, how often the deferred queue is scanned
#: DNS answer codes that mean "try again later" (RFC 1035 §4.1.1, RFC 2308 §7).
TEMPORARY_RCODES = frozenset({"SERVFAIL", "TIMEOUT"})


def _get(record: TraceRecord, key: str, default: Any = "?") -> Any:
    value = record.data.get(key)
    return default if value is None else value


def _addresses(value: Any) -> str:
    items = [value] if isinstance(value, str) else list(value or ())
    return ", ".join(str(item) for item in items) or "?"


def _code(record: TraceRecord) -> str:
    """The reply code ("550 5.1.1"), or the status when no server replied."""
    reply = parse_reply(str(record.data.get("reply") or ""))
    return reply.label if reply else str(_get(record, "status"))


def _what(record: TraceRecord) -> str:
    """The code and what its status means: "550 5.1.1 (bad destination mailbox address)"."""
    meaning = status_meaning(record.data.get("status"))
    return f"{_code(record)} ({meaning})" if meaning else _code(record)


def sim_start(record: TraceRecord, context: NarrationContext) -> str:
    return fill(record_words.SIM_START, seed=_get(record, "seed"))


def tcp_connect(record: TraceRecord, context: NarrationContext) -> str:
    port = record.data.get("port")
    context.session(record.session).port = port if isinstance(port, int) else None
    service = record_words.PORTS.get(port) if isinstance(port, int) else None
    rtt = record.data.get("rtt")
    return fill(record_words.TCP_CONNECT, client=record.host, server=record.peer, port=port,
                service=f", {service}" if service else "",
                rtt=seconds(rtt) if isinstance(rtt, int | float) else "?")


def tcp_refused(record: TraceRecord, context: NarrationContext) -> str:
    port = record.data.get("port")
    then = record_words.TCP_REFUSED_THEN.get(port) if isinstance(port, int) else None
    return fill(record_words.TCP_REFUSED, client=record.host, server=record.peer, port=port,
                reason=_get(record, "reason", "refused"),
                then=then or record_words.TCP_REFUSED_OTHER)


def tcp_close(record: TraceRecord, context: NarrationContext) -> None:
    context.forget_session(record.session)


def dns_query(record: TraceRecord, context: NarrationContext) -> str:
    qname, qtype = str(_get(record, "qname")), str(_get(record, "qtype"))
    role = record_words.DNS_EXCHANGER if context.is_exchanger(record.host, qname) else ""
    template = record_words.DNS_QUESTIONS.get(qtype, record_words.DNS_QUESTION_OTHER)
    return fill(template, host=record.host, qname=qname, qtype=qtype, role=role)


def dns_answer(record: TraceRecord, context: NarrationContext) -> str | None:
    qname, qtype = str(_get(record, "qname")), str(_get(record, "qtype"))
    rcode = str(_get(record, "rcode"))
    answers = [str(item) for item in record.data.get("answers") or ()]
    if rcode == "NXDOMAIN":
        return fill(record_words.NXDOMAIN, qname=qname)
    if rcode != "NOERROR":
        temporary = rcode in TEMPORARY_RCODES
        template = record_words.DNS_TEMPORARY if temporary else record_words.DNS_OTHER_RCODE
        return fill(template, rcode=rcode, qname=qname)
    if qtype == "MX":
        return _mx_answer(record.host, qname, answers, context)
    if qtype in ("A", "AAAA"):
        if not answers:
            return fill(record_words.ADDRESS_NONE, qname=qname, qtype=qtype)
        after = record_words.ADDRESS_NEXT if context.is_exchanger(record.host, qname) else ""
        return fill(record_words.ADDRESS_FOUND, qname=qname, addresses=" and ".join(answers),
                    next=fill(after, host=record.host))
    return None


def _mx_answer(
    host: str, qname: str, answers: Sequence[str], context: NarrationContext
) -> str:
    records = sorted(_mx_records(answers))
    context.remember_mx(host, qname, tuple(records))
    if not records:
        return fill(record_words.MX_NONE, qname=qname)
    best, exchange = records[0]
    if len(records) == 1:
        return fill(record_words.MX_ONE, qname=qname, exchange=exchange, preference=best)
    tied = [name for preference, name in records if preference == best]
    if len(tied) > 1:
        return fill(record_words.MX_TIE, exchanges=_and(tied), preference=best)
    others = _and([f"{name} ({preference})" for preference, name in records[1:]])
    return fill(record_words.MX_BEST, preference=best, exchange=exchange, others=others)


def _mx_records(answers: Sequence[str]) -> list[tuple[int, str]]:
    """ "10 mail.example.net" -> (10, "mail.example.net"); malformed ones skipped."""
    found = []
    for answer in answers:
        preference, _, exchange = answer.partition(" ")
        if preference.isdigit() and exchange.strip():
            found.append((int(preference), exchange.strip()))
    return found


def _and(items: Sequence[str]) -> str:
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"


def composed(record: TraceRecord, context: NarrationContext) -> str:
    to = _addresses(record.data.get("to"))
    if record.data.get("origin") == "bounce":
        return fill(record_words.COMPOSED_BOUNCE, host=record.host, to=to,
                    original=_get(record, "original"))
    return fill(record_words.COMPOSED_USER, host=record.host, to=to)


def queue_enter(record: TraceRecord, context: NarrationContext) -> str:
    queue_id = str(_get(record, "queue_id"))
    sender = str(record.data.get("from") or "")
    context.queue[queue_id] = QueueEntry(sender, record.time)
    context.last_queued[record.host] = queue_id
    template = record_words.QUEUE_ENTER if sender else record_words.QUEUE_ENTER_BOUNCE
    return fill(template, host=record.host, queue_id=queue_id)


def queue_leave(record: TraceRecord, context: NarrationContext) -> str:
    queue_id = str(_get(record, "queue_id"))
    context.queue.pop(queue_id, None)
    if record.data.get("reason") == "done":
        return fill(record_words.QUEUE_DONE, queue_id=queue_id, host=record.host)
    return fill(record_words.QUEUE_LEAVE_OTHER, queue_id=queue_id, host=record.host,
                reason=_get(record, "reason"))


def relayed(record: TraceRecord, context: NarrationContext) -> str:
    return fill(record_words.RELAYED, relay=_get(record, "relay"),
                recipient=_get(record, "recipient"), code=_code(record), host=record.host)


def deferred(record: TraceRecord, context: NarrationContext) -> str:
    queue_id = str(_get(record, "queue_id"))
    entry = context.queue.get(queue_id)
    age = record.time - entry.arrived if entry else 0.0
    delay = min(max(age, MINIMAL_BACKOFF), MAXIMAL_BACKOFF)
    return fill(record_words.DEFERRED, what=_what(record), attempt=_get(record, "attempt"),
                host=record.host, queue_id=queue_id, least=seconds(MINIMAL_BACKOFF),
                most=seconds(MAXIMAL_BACKOFF), delay=seconds(delay),
                scan=seconds(QUEUE_RUN_DELAY), lifetime=seconds(QUEUE_LIFETIME))


def bounced(record: TraceRecord, context: NarrationContext) -> str:
    fields = {"what": _what(record), "recipient": _get(record, "recipient"),
              "host": record.host}
    queue_id = record.data.get("queue_id")
    if queue_id is None:  # the mail client was refused at submission
        return fill(record_words.SUBMISSION_REFUSED, **fields)
    entry = context.queue.get(str(queue_id))
    fields["sender"] = entry.sender if entry and entry.sender else "the envelope sender"
    if record.data.get("bounce_id") is None:
        return fill(record_words.BOUNCE_DISCARDED, **fields)
    if record.data.get("expired"):
        return fill(record_words.BOUNCED_EXPIRED, **fields)
    return fill(record_words.BOUNCED, **fields)


def delivered(record: TraceRecord, context: NarrationContext) -> str:
    entry = context.queue.get(str(record.data.get("queue_id")))
    return fill(record_words.DELIVERED, host=record.host, mailbox=_get(record, "mailbox"),
                sender=entry.sender if entry else "?",
                received=plural(record.data.get("hops"), "Received: header"))


def still_queued(record: TraceRecord, context: NarrationContext) -> str:
    in_outbox = record.data.get("queue_id") == "outbox"
    template = record_words.OUTBOX_AT_END if in_outbox else record_words.QUEUED_AT_END
    return fill(template, host=record.host, queue_id=_get(record, "queue_id"),
                recipient=_get(record, "recipient"), reason=_get(record, "reason"))


def fetched(record: TraceRecord, context: NarrationContext) -> str:
    return fill(record_words.FETCHED, host=record.host, subject=_get(record, "subject", ""),
                user=_get(record, "user"))
