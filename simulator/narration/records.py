"""Narrating the records that are not protocol lines: TCP, DNS, queues, fates.

These records carry their facts in their payload (a port, an MX answer, a queue
id, an RFC 3463 status), so their words come straight from there.  What a
later record needs -- the MX hosts just found, the envelope sender and
arrival time of each queued message -- goes into the context.
"""

from __future__ import annotations

from collections.abc import Sequence

from simulator.narration import record_words
from simulator.narration.context import NarrationContext, QueueEntry
from simulator.narration.phrases import fill, parse_reply, plural, seconds, status_meaning
from simulator.trace import TraceRecord
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
    QueueEnter,
    QueueLeave,
    SimStart,
    Tap,
    TcpConnect,
    TcpRefused,
    TlsHandshake,
)

# The retry rule of Postfix's queue manager (qmgr_active.c): wait as long as
# the message has been queued, within these bounds.
MINIMAL_BACKOFF = 300.0  # seconds: Postfix minimal_backoff_time
MAXIMAL_BACKOFF = 4000.0  # seconds: Postfix maximal_backoff_time
QUEUE_LIFETIME = 5 * 86400.0  # seconds: Postfix maximal_queue_lifetime (5d)
QUEUE_RUN_DELAY = 300.0  # seconds: Postfix queue_run_delay, how often the deferred queue is scanned
#: DNS answer codes that mean "try again later" (RFC 1035 §4.1.1, RFC 2308 §7).
TEMPORARY_RCODES = frozenset({"SERVFAIL", "TIMEOUT"})


def _addresses(items: Sequence[str]) -> str:
    return ", ".join(items) or "?"


def _code(reply: str, status: str | None) -> str:
    """The reply code ("550 5.1.1"), or the status when no server replied."""
    parsed = parse_reply(reply)
    return parsed.label if parsed else str(status or "?")


def _what(reply: str, status: str | None) -> str:
    """The code and what its status means: "550 5.1.1 (bad destination mailbox address)"."""
    meaning = status_meaning(status)
    return f"{_code(reply, status)} ({meaning})" if meaning else _code(reply, status)


def sim_start(record: TraceRecord, context: NarrationContext) -> str:
    return fill(record_words.SIM_START, seed=record.payload_as(SimStart).seed)


def tcp_connect(record: TraceRecord, context: NarrationContext) -> str:
    data = record.payload_as(TcpConnect)
    context.session(record.session).port = data.port
    service = record_words.PORTS.get(data.port)
    return fill(record_words.TCP_CONNECT, client=record.host, server=record.peer, port=data.port,
                service=f", {service}" if service else "", rtt=seconds(data.rtt))


def tcp_refused(record: TraceRecord, context: NarrationContext) -> str:
    data = record.payload_as(TcpRefused)
    then = record_words.TCP_REFUSED_THEN.get(data.port)
    return fill(record_words.TCP_REFUSED, client=record.host, server=record.peer, port=data.port,
                reason=data.reason or "refused", then=then or record_words.TCP_REFUSED_OTHER)


def tls_handshake(record: TraceRecord, context: NarrationContext) -> str:
    data = record.payload_as(TlsHandshake)
    trips = record_words.ROUND_TRIPS.get(data.round_trips, f"{data.round_trips} round trips")
    return fill(record_words.TLS_HANDSHAKE, client=record.host, server=record.peer,
                version=data.version, cipher=data.cipher, round_trips=trips)


def tap(record: TraceRecord, context: NarrationContext) -> str:
    data = record.payload_as(Tap)
    place = f"the link {data.link[0]} -- {data.link[1]}" if data.link else f"host {data.host}"
    return fill(record_words.TAP, name=data.name, place=place)


def tcp_close(record: TraceRecord, context: NarrationContext) -> None:
    context.forget_session(record.session)


def dns_query(record: TraceRecord, context: NarrationContext) -> str:
    data = record.payload_as(DnsQuery)
    qname, qtype = data.qname, data.qtype
    role = record_words.DNS_EXCHANGER if context.is_exchanger(record.host, qname) else ""
    template = record_words.DNS_QUESTIONS.get(qtype, record_words.DNS_QUESTION_OTHER)
    return fill(template, host=record.host, qname=qname, qtype=qtype, role=role)


def dns_answer(record: TraceRecord, context: NarrationContext) -> str | None:
    data = record.payload_as(DnsAnswer)
    qname, qtype, rcode, answers = data.qname, data.qtype, data.rcode, data.answers
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
    data = record.payload_as(MailComposed)
    to = _addresses(data.recipients)
    if data.origin == "bounce":
        return fill(record_words.COMPOSED_BOUNCE, host=record.host, to=to,
                    original=data.original or "?")
    return fill(record_words.COMPOSED_USER, host=record.host, to=to)


def queue_enter(record: TraceRecord, context: NarrationContext) -> str:
    data = record.payload_as(QueueEnter)
    queue_id, sender = data.queue_id, data.sender
    context.queue[queue_id] = QueueEntry(sender, record.time)
    context.last_queued[record.host] = queue_id
    template = record_words.QUEUE_ENTER if sender else record_words.QUEUE_ENTER_BOUNCE
    return fill(template, host=record.host, queue_id=queue_id)


def queue_leave(record: TraceRecord, context: NarrationContext) -> str:
    data = record.payload_as(QueueLeave)
    queue_id = data.queue_id
    context.queue.pop(queue_id, None)
    if data.reason == "done":
        return fill(record_words.QUEUE_DONE, queue_id=queue_id, host=record.host)
    return fill(record_words.QUEUE_LEAVE_OTHER, queue_id=queue_id, host=record.host,
                reason=data.reason)


def relayed(record: TraceRecord, context: NarrationContext) -> str:
    data = record.payload_as(MailRelayed)
    return fill(record_words.RELAYED, relay=data.relay, recipient=data.recipient,
                code=_code(data.reply, None), host=record.host)


def deferred(record: TraceRecord, context: NarrationContext) -> str:
    data = record.payload_as(MailDeferred)
    queue_id = data.queue_id
    entry = context.queue.get(queue_id)
    age = record.time - entry.arrived if entry else 0.0
    delay = min(max(age, MINIMAL_BACKOFF), MAXIMAL_BACKOFF)
    return fill(record_words.DEFERRED, what=_what(data.reply, data.status),
                attempt=data.attempt, host=record.host, queue_id=queue_id,
                least=seconds(MINIMAL_BACKOFF), most=seconds(MAXIMAL_BACKOFF),
                delay=seconds(delay), scan=seconds(QUEUE_RUN_DELAY),
                lifetime=seconds(QUEUE_LIFETIME))


def bounced(record: TraceRecord, context: NarrationContext) -> str:
    data = record.payload_as(MailBounced)
    fields = {"what": _what(data.reply, data.status), "recipient": data.recipient,
              "host": record.host}
    if data.queue_id is None:  # the mail client was refused at submission
        return fill(record_words.SUBMISSION_REFUSED, **fields)
    entry = context.queue.get(data.queue_id)
    fields["sender"] = entry.sender if entry and entry.sender else "the envelope sender"
    if data.bounce_id is None:
        return fill(record_words.BOUNCE_DISCARDED, **fields)
    if data.expired:
        return fill(record_words.BOUNCED_EXPIRED, **fields)
    return fill(record_words.BOUNCED, **fields)


def delivered(record: TraceRecord, context: NarrationContext) -> str:
    data = record.payload_as(MailDelivered)
    entry = context.queue.get(data.queue_id)
    sender = entry.sender if entry else context.lmtp_senders.get(record.host, "?")
    return fill(record_words.DELIVERED, host=record.host, mailbox=data.mailbox, sender=sender,
                received=plural(data.hops, "Received: header"))


def still_queued(record: TraceRecord, context: NarrationContext) -> str:
    data = record.payload_as(MailQueued)
    in_outbox = data.queue_id == "outbox"
    template = record_words.OUTBOX_AT_END if in_outbox else record_words.QUEUED_AT_END
    return fill(template, host=record.host, queue_id=data.queue_id,
                recipient=data.recipient, reason=data.reason)


def fetched(record: TraceRecord, context: NarrationContext) -> str:
    data = record.payload_as(MailFetched)
    return fill(record_words.FETCHED, host=record.host, subject=data.subject, user=data.user)
