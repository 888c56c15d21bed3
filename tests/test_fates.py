"""Message fates derived from synthetic traces."""

from __future__ import annotations

import io
import math
from typing import Any

import pytest

from simulator.fates import (
    UNKNOWN_ORIGIN,
    Fate,
    MessageFate,
    address_key,
    enhanced_status,
    message_fates,
)
from simulator.trace import SCHEMA_VERSION, JsonlWriter, Kind, Trace, TraceRecord, read_jsonl
from simulator.trace_data import (
    MailBounced,
    MailComposed,
    MailDeferred,
    MailDelivered,
    MailQueued,
    MailRelayed,
    Payload,
    QueueEnter,
    SimStart,
)

M1 = "<1.alice@example.org>"
M2 = "<2.carol@example.com>"
DSN = "<b1.mail@example.net>"
BOB = "bob@example.net"
NOBODY = "nobody@example.net"
ALICE = "alice@example.org"
REJECTED = "550 5.1.1 <nobody@example.net>: Recipient address rejected: User unknown"


class Scribe:
    """Writes a synthetic trace, one record at a given simulated time."""

    def __init__(self) -> None:
        self.now = 0.0
        self.trace = Trace(clock=lambda: self.now)

    def at(
        self, time: float, kind: Kind, host: str, payload: Payload, message: str | None = None
    ) -> TraceRecord:
        self.now = time
        return self.trace.emit(kind, host, "", payload, message=message)

    def composed(self, time: float, message: str, to: list[str]) -> None:
        data = MailComposed(sender=ALICE, recipients=tuple(to), subject="Hello", origin="user")
        self.at(time, Kind.MAIL_COMPOSED, "alice-pc", data, message)

    def delivered(self, time: float, message: str, recipient: str, hops: int = 2) -> None:
        data = MailDelivered(recipient=recipient, mailbox=recipient, hops=hops, uid="1",
                             queue_id="7B3C")
        self.at(time, Kind.MAIL_DELIVERED, "mail.example.net", data, message)

    def bounced(self, time: float, message: str, recipient: str, **extra: Any) -> None:
        fields = {"queue_id": "4F2A1B3C9D", "recipient": recipient, "status": "5.1.1",
                  "reply": REJECTED, "bounce_id": DSN, **extra}
        self.at(time, Kind.MAIL_BOUNCED, "mail.example.net", MailBounced(**fields), message)

    def queued(self, time: float, message: str, recipient: str, reason: str = "") -> None:
        data = MailQueued(queue_id="4F2A1B3C9D", recipient=recipient, reason=reason)
        self.at(time, Kind.MAIL_QUEUED, "mail.example.org", data, message)


@pytest.fixture
def scribe() -> Scribe:
    return Scribe()


def only(fates: list[MessageFate]) -> MessageFate:
    assert len(fates) == 1
    return fates[0]


def test_delivered_message(scribe: Scribe) -> None:
    scribe.composed(1.0, M1, [BOB])
    scribe.delivered(3.5, M1, BOB, hops=3)
    fate = only(message_fates(scribe.trace))
    assert fate == MessageFate(
        message_id=M1,
        sender=ALICE,
        recipient=BOB,
        subject="Hello",
        origin="user",
        composed_at=1.0,
        fate=Fate.DELIVERED,
        ended_at=3.5,
        hops=3,
        status=None,
        detail="",
    )
    assert fate.elapsed == pytest.approx(2.5)


def test_bounced_message_carries_status_and_reply(scribe: Scribe) -> None:
    scribe.composed(0.0, M1, [NOBODY])
    scribe.bounced(1.25, M1, NOBODY)
    fate = only(message_fates(scribe.trace))
    assert (fate.fate, fate.status, fate.detail) == (Fate.BOUNCED, "5.1.1", REJECTED)
    assert fate.hops is None
    assert fate.elapsed == pytest.approx(1.25)


def test_bounce_status_is_read_from_the_reply_when_missing(scribe: Scribe) -> None:
    scribe.composed(0.0, M1, [NOBODY])
    scribe.bounced(1.0, M1, NOBODY, status="", reply="552 5.2.2 Mailbox full")
    assert only(message_fates(scribe.trace)).status == "5.2.2"


def test_queued_message_keeps_its_reason(scribe: Scribe) -> None:
    scribe.composed(0.0, M1, [BOB])
    scribe.queued(3600.0, M1, BOB, reason="connect to mail.example.net: Connection timed out")
    fate = only(message_fates(scribe.trace))
    assert fate.fate is Fate.QUEUED
    assert fate.detail == "connect to mail.example.net: Connection timed out"
    assert fate.elapsed == pytest.approx(3600.0)


def test_queued_message_without_reason_shows_last_deferral(scribe: Scribe) -> None:
    scribe.composed(0.0, M1, [BOB])
    reply = "451 4.3.0 Temporary lookup failure"
    deferred = MailDeferred(queue_id="4F2A1B3C9D", recipient=BOB, reply=reply, status="",
                            attempt=1)
    scribe.at(5.0, Kind.MAIL_DEFERRED, "mail.example.org", deferred, M1)
    scribe.queued(600.0, M1, BOB)
    fate = only(message_fates(scribe.trace))
    assert (fate.fate, fate.status, fate.detail) == (Fate.QUEUED, "4.3.0", reply)


def test_message_without_final_record_is_in_flight(scribe: Scribe) -> None:
    scribe.composed(0.0, M1, [BOB])
    relayed = MailRelayed(queue_id="4F2A1B3C9D", recipient=BOB, relay="mail.example.net",
                          reply="250 2.0.0 Ok: queued as 7B3C")
    scribe.at(0.5, Kind.MAIL_RELAYED, "mail.example.org", relayed, M1)
    fate = only(message_fates(scribe.trace))
    assert fate.fate is Fate.IN_FLIGHT
    assert (fate.ended_at, fate.elapsed) == (None, None)
    assert fate.detail == "relayed by mail.example.org to mail.example.net"


def test_recipients_of_one_message_have_their_own_fates(scribe: Scribe) -> None:
    carol = "carol@example.com"
    scribe.composed(0.0, M1, [BOB, NOBODY, carol])
    scribe.bounced(0.4, M1, NOBODY)
    scribe.delivered(0.9, M1, BOB)
    fates = message_fates(scribe.trace)
    assert [(f.recipient, f.fate) for f in fates] == [
        (BOB, Fate.DELIVERED),
        (NOBODY, Fate.BOUNCED),
        (carol, Fate.IN_FLIGHT),
    ]


def test_fates_come_in_composition_order(scribe: Scribe) -> None:
    scribe.composed(0.0, M1, [BOB])
    scribe.composed(1.0, M2, [BOB])
    scribe.delivered(2.0, M2, BOB)
    scribe.delivered(3.0, M1, BOB)
    assert [f.message_id for f in message_fates(scribe.trace)] == [M1, M2]


def test_the_bounce_message_itself_has_a_fate(scribe: Scribe) -> None:
    scribe.composed(0.0, M1, [NOBODY])
    scribe.bounced(1.0, M1, NOBODY)
    data = MailComposed(sender="", recipients=(ALICE,), subject="Undelivered Mail",
                        origin="bounce", original=M1)
    scribe.at(1.0, Kind.MAIL_COMPOSED, "mail.example.net", data, DSN)
    scribe.delivered(2.5, DSN, ALICE, hops=1)
    original, bounce = message_fates(scribe.trace)
    assert original.fate is Fate.BOUNCED
    assert (bounce.message_id, bounce.origin, bounce.sender) == (DSN, "bounce", "")
    assert (bounce.fate, bounce.hops, bounce.elapsed) == (Fate.DELIVERED, 1, 1.5)


@pytest.mark.parametrize(
    ("first", "second", "expected"),
    [
        ("delivered", "bounced", Fate.DELIVERED),
        ("bounced", "delivered", Fate.BOUNCED),
        ("queued", "delivered", Fate.DELIVERED),
        ("queued", "bounced", Fate.BOUNCED),
        ("delivered", "queued", Fate.DELIVERED),
    ],
)
def test_first_final_record_wins(scribe: Scribe, first: str, second: str, expected: Fate) -> None:
    scribe.composed(0.0, M1, [BOB])
    getattr(scribe, first)(1.0, M1, BOB)
    getattr(scribe, second)(2.0, M1, BOB)
    fate = only(message_fates(scribe.trace))
    assert fate.fate is expected
    assert fate.ended_at == (1.0 if expected.value == first else 2.0)


def test_recipients_match_despite_brackets_and_domain_case(scribe: Scribe) -> None:
    scribe.composed(0.0, M1, ["bob@Example.NET"])
    scribe.delivered(1.0, M1, "<bob@example.net>")
    fate = only(message_fates(scribe.trace))
    assert (fate.recipient, fate.fate) == ("bob@Example.NET", Fate.DELIVERED)


def test_copy_for_an_unlisted_recipient_is_added_after_the_listed_ones(scribe: Scribe) -> None:
    scribe.composed(0.0, M1, [BOB, NOBODY])
    scribe.delivered(1.0, M1, "robert@example.net")
    fates = message_fates(scribe.trace)
    assert [f.recipient for f in fates] == [BOB, NOBODY, "robert@example.net"]
    assert fates[2].fate is Fate.DELIVERED
    assert fates[2].sender == ""


def test_final_record_of_an_unknown_message_is_shown(scribe: Scribe) -> None:
    scribe.delivered(1.0, "<lost@example.org>", BOB)
    fate = only(message_fates(scribe.trace))
    assert (fate.origin, fate.fate) == (UNKNOWN_ORIGIN, Fate.DELIVERED)
    assert math.isnan(fate.composed_at)
    assert fate.elapsed is None


def test_empty_trace_has_no_fates(scribe: Scribe) -> None:
    start = SimStart(seed=1, duration=60, hosts=(), schema=SCHEMA_VERSION)
    scribe.at(0.0, Kind.SIM_START, "sim", start)
    assert message_fates(scribe.trace) == []


def test_fates_read_back_from_jsonl_are_identical() -> None:
    scribe = Scribe()
    stream = io.StringIO()
    scribe.trace.subscribe(JsonlWriter(stream))
    scribe.composed(0.125, M1, [BOB, NOBODY, "carol@example.com"])
    scribe.bounced(0.5, M1, NOBODY)
    scribe.delivered(1.75, M1, BOB)
    scribe.queued(60.0, M1, "carol@example.com", reason="deferred")
    stream.seek(0)
    from_file = message_fates(read_jsonl(stream))
    assert from_file == message_fates(scribe.trace)
    assert [f.fate for f in from_file] == [Fate.DELIVERED, Fate.BOUNCED, Fate.QUEUED]


def test_fate_values_and_finality() -> None:
    assert [f.value for f in Fate] == ["delivered", "bounced", "queued", "in flight"]
    assert [f.is_final for f in Fate] == [True, True, False, False]


@pytest.mark.parametrize(
    ("reply", "status"),
    [
        (REJECTED, "5.1.1"),
        ("451 4.7.1 Greylisted, try again later", "4.7.1"),
        ("250 2.0.0 Ok: queued as 7B3C", "2.0.0"),
        ("421 Service not available", None),
        ("", None),
    ],
)
def test_enhanced_status(reply: str, status: str | None) -> None:
    assert enhanced_status(reply) == status


@pytest.mark.parametrize(
    ("address", "key"),
    [
        ("Bob@Example.NET", "Bob@example.net"),
        (" <bob@example.net> ", "bob@example.net"),
        ("postmaster", "postmaster"),
        ("", ""),
    ],
)
def test_address_key(address: str, key: str) -> None:
    assert address_key(address) == key


def test_two_spellings_of_one_mailbox_each_have_a_fate(scribe: Scribe) -> None:
    # The MDA stores one copy for bob@ and BOB@ (one mailbox) and writes a
    # delivery record for each address; each composed address is settled once.
    scribe.composed(0.0, M1, [BOB, "BOB@example.net"])
    scribe.delivered(1.0, M1, BOB)
    again = MailDelivered(recipient="BOB@example.net", mailbox=BOB, hops=2, uid="1",
                          queue_id="7B3C", duplicate_of=BOB)
    scribe.at(1.0, Kind.MAIL_DELIVERED, "mail.example.net", again, M1)
    fates = message_fates(scribe.trace)
    assert [(f.recipient, f.fate, f.hops) for f in fates] == [
        (BOB, Fate.DELIVERED, 2),
        ("BOB@example.net", Fate.DELIVERED, 2),
    ]


def test_mail_first_seen_in_a_queue_starts_there(scribe: Scribe) -> None:
    """A real client's mail (mailsim serve) is never composed in the trace: its
    fate starts when an MTA queues it, with the envelope's sender."""
    enter = QueueEnter(queue_id="DF2DBBD520", sender=ALICE, recipients=(BOB,))
    scribe.at(12.0, Kind.QUEUE_ENTER, "mail.example.org", enter, M1)
    scribe.delivered(12.5, M1, BOB)
    scribe.composed(20.0, M2, [BOB])  # a composed message is not touched by its queueing
    scribe.at(20.2, Kind.QUEUE_ENTER, "mail.example.org",
              QueueEnter(queue_id="AB12", sender="x@example.com", recipients=(BOB,)), M2)
    [real, composed] = message_fates(scribe.trace)
    assert (real.sender, real.recipient, real.origin) == (ALICE, BOB, UNKNOWN_ORIGIN)
    assert real.fate is Fate.DELIVERED and real.elapsed == pytest.approx(0.5)
    assert (composed.sender, composed.composed_at) == (ALICE, 20.0)
