"""Scope: which trace records a diagram of one message, host or session draws.

The filters are the dialogue's -- protocol categories, a host at either
end, a session -- plus a wider `message` filter: a message's own records
name it, but the replies of the servers that carried it do not, nor the
DNS lookups made for it.  `message_scope` finds those too, in two passes
over the records.
"""

from __future__ import annotations

from collections.abc import Iterable

from simulator.trace import Kind, TraceRecord
from simulator.trace_data import MailBounced, MailComposed, QueueEnter, QueueLeave

#: Records no sequence diagram draws.
NEVER_DRAWN = frozenset({Kind.SIM_START, Kind.SIM_END, Kind.TCP_CLOSE})

Stays = dict[str, list[tuple[float, float]]]


def select_records(
    records: Iterable[TraceRecord],
    *,
    protocols: Iterable[str] | None = None,
    host: str | None = None,
    message: str | None = None,
    session: str | None = None,
) -> list[TraceRecord]:
    """The records a sequence diagram may draw that pass every filter given."""
    kept = [record for record in records if record.kind not in NEVER_DRAWN]
    if isinstance(protocols, str):
        protocols = [protocols]
    wanted = None if protocols is None else frozenset(p.lower() for p in protocols)
    scope = None if message is None else message_scope(kept, message)
    return [
        r for r in kept
        if (session is None or r.session == session)
        and (host is None or host in (r.host, r.peer))
        and (scope is None or r.seq in scope)
        and (wanted is None or category(r) in wanted or (r.protocol or "").lower() in wanted)
    ]


def category(record: TraceRecord) -> str:
    """What a record is about: "smtp", "pop3", "dns", "tcp", "note", "sim" or "mail"."""
    if record.kind is Kind.LINE:
        return (record.protocol or "line").lower()
    prefix = record.kind.value.split(".", 1)[0]
    return prefix if prefix in ("tcp", "dns", "note", "sim") else "mail"


def named_messages(record: TraceRecord) -> tuple[str | None, str | None, str | None]:
    """The Message-IDs a record names: its own, a bounce's original, and its DSN's."""
    payload = record.payload
    original = payload.original if isinstance(payload, MailComposed) else None
    bounce = payload.bounce_id if isinstance(payload, MailBounced) else None
    return record.message, original, bounce


def message_scope(records: list[TraceRecord], message_id: str) -> set[int]:
    """The `seq` of every record that concerns one message.

    Its own records and those naming it (a bounce's `original`, a
    `bounce_id`); every record of a session whose lines carried it; the
    POP3 session open on a client host when that client downloaded it; and
    the DNS records of a host while the message sat in that host's queue.
    """
    related = {r.seq for r in records if message_id in named_messages(r)}
    sessions = {r.session for r in records if r.seq in related and r.session}
    sessions |= _download_sessions(records, message_id)
    waits = queue_stays(records, message_id)
    for r in records:
        if r.session in sessions or (
            category(r) == "dns" and any(a <= r.time <= b for a, b in waits.get(r.host, ()))
        ):
            related.add(r.seq)
    return related


def _download_sessions(records: list[TraceRecord], message_id: str) -> set[str]:
    """The sessions open on a client host when it downloaded the message."""
    spans: dict[str, tuple[str, float, float]] = {}  # session -> (client, first, last)
    for r in records:
        if r.session and (r.kind is Kind.TCP_CONNECT or r.role == "client"):
            client, first, _ = spans.get(r.session, (r.host, r.time, r.time))
            spans[r.session] = (client, first, r.time)
        elif r.session in spans:
            client, first, _ = spans[r.session]
            spans[r.session] = (client, first, r.time)
    fetches = [(r.host, r.time) for r in records
               if r.kind is Kind.MAIL_FETCHED and r.message == message_id]
    return {
        name for name, (client, first, last) in spans.items()
        if any(host == client and first <= time <= last for host, time in fetches)
    }


def queue_stays(records: list[TraceRecord], message_id: str) -> Stays:
    """Per host, the (enter, leave) times of the message in that host's queue."""
    entered: dict[tuple[str, str], float] = {}
    stays: Stays = {}
    for r in records:
        if r.message != message_id:
            continue
        payload = r.payload
        if isinstance(payload, QueueEnter):
            entered[(r.host, payload.queue_id)] = r.time
        elif isinstance(payload, QueueLeave) and (r.host, payload.queue_id) in entered:
            since = entered.pop((r.host, payload.queue_id))
            stays.setdefault(r.host, []).append((since, r.time))
    for (host, _), since in entered.items():
        stays.setdefault(host, []).append((since, float("inf")))
    return stays
