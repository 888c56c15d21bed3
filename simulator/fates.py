"""Fates: what finally became of every message, read from the trace alone.

A message composed for several recipients has one fate per recipient: the
copy for bob may be delivered while the copy for carol bounces.  The final
records (`mail.delivered`, `mail.bounced`) settle a fate; `mail.queued`,
emitted at the end of a run for mail still waiting in a queue, settles it
only if nothing final ever came.  A message with none of these is still
*in flight* -- after a complete run that means something was lost, so it
is shown, never hidden.

`message_fates` reads the records in one pass, so it works on a stream
read back from a JSONL file as well as on a live `Trace`.  A `FateLedger`
does the same record by record: subscribed to a running simulation's
trace (`trace.subscribe(ledger.feed)`), it knows every fate without the
trace being kept.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

from simulator.protocols.addresses import normalise_address
from simulator.protocols.status import find_enhanced_status
from simulator.trace import Kind, TraceRecord
from simulator.trace_data import (
    MailBounced,
    MailComposed,
    MailDeferred,
    MailDelivered,
    MailQueued,
    MailRelayed,
    QueueEnter,
)

#: `origin` of a fate whose message was never seen being composed.
UNKNOWN_ORIGIN = "unknown"


class Fate(StrEnum):
    """Where one copy of a message ended up."""

    DELIVERED = "delivered"
    BOUNCED = "bounced"
    QUEUED = "queued"
    IN_FLIGHT = "in flight"

    @property
    def is_final(self) -> bool:
        """True if nothing can change this fate any more."""
        return self in (Fate.DELIVERED, Fate.BOUNCED)


_SETTLING: Mapping[Kind, Fate] = {
    Kind.MAIL_DELIVERED: Fate.DELIVERED,
    Kind.MAIL_BOUNCED: Fate.BOUNCED,
    Kind.MAIL_QUEUED: Fate.QUEUED,
}


@dataclass(frozen=True, slots=True)
class MessageFate:
    """The fate of one message for one recipient.

    `composed_at` and `ended_at` are simulated seconds; `ended_at` is None
    while the message is in flight.  `status` is the RFC 3463 enhanced
    status code when one is known (a bounce, or the last deferral of a
    queued message) and `detail` the server reply or queue reason.
    """

    message_id: str
    sender: str
    recipient: str
    subject: str
    origin: str
    composed_at: float
    fate: Fate
    ended_at: float | None = None
    hops: int | None = None
    status: str | None = None
    detail: str = ""
    original: str | None = None  # for a bounce: the Message-ID it reports on

    @property
    def elapsed(self) -> float | None:
        """Seconds from composition to the fate, or None if not known."""
        if self.ended_at is None or math.isnan(self.composed_at):
            return None
        return self.ended_at - self.composed_at


def message_fates(records: Iterable[TraceRecord]) -> list[MessageFate]:
    """One `MessageFate` per (composed message, recipient), in composition order.

    When several final records exist for the same copy, the first delivery
    or bounce wins over any later record and over `mail.queued`.  Final
    records for a message never seen composed still get a fate, with
    origin `UNKNOWN_ORIGIN` and a NaN `composed_at`.
    """
    ledger = FateLedger()
    for record in records:
        ledger.feed(record)
    return ledger.fates()


#: The RFC 3463 enhanced status code in a server reply, if any.
enhanced_status = find_enhanced_status
#: A mailbox address in the form used to match records (RFC 5321 §2.4).
address_key = normalise_address


class FateLedger:
    """The fates known so far, updated record by record (`feed` is a trace sink)."""

    def __init__(self) -> None:
        # Message-ID -> recipient key -> fate; dicts keep composition order.
        self._messages: dict[str, dict[str, MessageFate]] = {}

    def feed(self, record: TraceRecord) -> None:
        """Take one record into account."""
        kind, data = record.kind, record.payload
        if kind is Kind.MAIL_COMPOSED and isinstance(data, MailComposed):
            self._compose(record, data)
        elif kind in _SETTLING and isinstance(data, MailDelivered | MailBounced | MailQueued):
            self._settle(record, data, _SETTLING[kind])
        elif kind in _MOVING and isinstance(data, MailDeferred | MailRelayed):
            self._whereabouts(record, data)
        elif kind is Kind.QUEUE_ENTER and isinstance(data, QueueEnter):
            self._arrive(record, data)

    def fates(self) -> list[MessageFate]:
        """Every fate, messages in composition order, recipients in order."""
        return [fate for copies in self._messages.values() for fate in copies.values()]

    def _compose(self, record: TraceRecord, data: MailComposed) -> None:
        copies = self._messages.setdefault(record.message or "", {})
        for recipient in data.recipients:
            key = address_key(recipient)
            known = copies.get(key)
            if known is None:
                copies[key] = _composed(record, data, recipient)
            elif known.origin == UNKNOWN_ORIGIN:
                copies[key] = replace(_composed(record, data, recipient), **_outcome_of(known))

    def _arrive(self, record: TraceRecord, data: QueueEnter) -> None:
        """Mail first seen in a queue (a real client's, under `mailsim serve`): its
        copies start there, with the envelope's sender and recipients."""
        if record.message in self._messages:
            return
        self._messages[record.message or ""] = {
            address_key(recipient): replace(
                _orphan(record, recipient), sender=data.sender, composed_at=record.time
            )
            for recipient in data.recipients
        }

    def _settle(self, record: TraceRecord, data: _Settling, fate: Fate) -> None:
        copies = self._messages.setdefault(record.message or "", {})
        key = address_key(data.recipient)
        known = copies.get(key) or _orphan(record, data.recipient)
        if known.fate.is_final or (known.fate is Fate.QUEUED and not fate.is_final):
            return
        copies[key] = replace(known, **_settled(record.time, data, known))

    def _whereabouts(self, record: TraceRecord, data: MailDeferred | MailRelayed) -> None:
        copies = self._messages.get(record.message or "", {})
        known = copies.get(address_key(data.recipient))
        if known is None or known.fate is not Fate.IN_FLIGHT:
            return
        if isinstance(data, MailRelayed):
            detail, status = f"relayed by {record.host} to {data.relay}", None
        else:
            detail, status = data.reply, data.status
        status = status or enhanced_status(detail)
        copies[address_key(data.recipient)] = replace(known, detail=detail, status=status)


#: The records that settle a copy, and those that say where it is meanwhile.
_Settling = MailDelivered | MailBounced | MailQueued
_MOVING = frozenset({Kind.MAIL_DEFERRED, Kind.MAIL_RELAYED})


def _composed(record: TraceRecord, data: MailComposed, recipient: str) -> MessageFate:
    """The in-flight fate of a freshly composed copy."""
    return MessageFate(
        message_id=record.message or "",
        sender=data.sender,
        recipient=recipient,
        subject=data.subject,
        origin=data.origin,
        composed_at=record.time,
        fate=Fate.IN_FLIGHT,
        original=data.original,
    )


def _orphan(record: TraceRecord, recipient: str) -> MessageFate:
    """A fate for a copy whose composition is not in the trace."""
    return MessageFate(
        message_id=record.message or "",
        sender="",
        recipient=recipient,
        subject="",
        origin=UNKNOWN_ORIGIN,
        composed_at=math.nan,
        fate=Fate.IN_FLIGHT,
    )


def _settled(time: float, data: _Settling, known: MessageFate) -> dict[str, Any]:
    """The fields a settling record sets on a fate."""
    if isinstance(data, MailDelivered):
        return _outcome(Fate.DELIVERED, time, hops=data.hops)
    if isinstance(data, MailBounced):
        status = data.status or enhanced_status(data.reply)
        return _outcome(Fate.BOUNCED, time, status=status, detail=data.reply)
    detail = data.reason or known.detail
    status = data.status or enhanced_status(detail) or known.status
    return _outcome(Fate.QUEUED, time, status=status, detail=detail)


def _outcome(
    fate: Fate,
    ended_at: float | None,
    *,
    hops: int | None = None,
    status: str | None = None,
    detail: str = "",
) -> dict[str, Any]:
    """The outcome fields of a fate, ready for `dataclasses.replace`."""
    return {"fate": fate, "ended_at": ended_at, "hops": hops, "status": status, "detail": detail}


def _outcome_of(fate: MessageFate) -> dict[str, Any]:
    """The outcome fields of an existing fate."""
    return _outcome(
        fate.fate, fate.ended_at, hops=fate.hops, status=fate.status, detail=fate.detail
    )
