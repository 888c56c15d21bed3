"""Inspectors: what a queue, a mailbox or a message holds at this instant.

The trace tells what *happened*; these read what *is*, between two steps
of a `Simulation`: the entries of an MTA's queue (like Postfix's `mailq`),
the messages in a mailbox, and every copy of one message wherever it
waits, with its headers as they are now.  They return plain frozen
records; `views.inspectors` renders them.
"""

from __future__ import annotations

from dataclasses import dataclass
from email.parser import BytesHeaderParser
from email.policy import compat32

from simulator.agents.mta import Mta
from simulator.agents.verdicts import Outcome
from simulator.world import World


@dataclass(frozen=True, slots=True)
class QueueEntry:
    """One message in an MTA's queue, as `mailq` lists it."""

    queue_id: str
    arrived_at: float  # simulated seconds
    size: int  # octets
    sender: str  # the envelope sender; "" for a bounce (MAIL FROM:<>)
    recipients: tuple[str, ...]  # still to be reached
    attempts: int
    active: bool  # a delivery attempt is under way (Postfix's active queue)
    reason: str  # why it waits: the last error, or "" if not tried yet
    message_id: str | None


@dataclass(frozen=True, slots=True)
class MailboxEntry:
    """One message at rest in a mailbox."""

    uid: str
    message_id: str | None
    sender: str  # the From: header
    subject: str
    size: int


@dataclass(frozen=True, slots=True)
class MessageCopy:
    """One copy of a message, where it is now, with its headers top to bottom."""

    place: str  # "queue", "mailbox" or "client"
    host: str
    holder: str  # the queue id, the mailbox address, or the user of the client
    envelope_sender: str | None  # known in a queue and (Return-Path) in a mailbox
    headers: tuple[tuple[str, str], ...]

    def values(self, name: str) -> list[str]:
        """Every value of header `name`, top to bottom."""
        wanted = name.lower()
        return [value for key, value in self.headers if key.lower() == wanted]


def queue_entries(world: World, host: str) -> list[QueueEntry]:
    """The queue of the MTA on `host`, oldest first; KeyError if it has no MTA."""
    mta = _mta(world, host)
    entries = sorted(mta.queue.entries.values(), key=lambda m: (m.arrived_at, m.queue_id))
    return [
        QueueEntry(
            queue_id=m.queue_id, arrived_at=m.arrived_at, size=len(m.content), sender=m.sender,
            recipients=tuple(m.recipients), attempts=m.attempts, active=m.in_progress,
            reason=_last_error(m.last_outcome, m.recipients), message_id=m.message_id,
        )
        for m in entries
    ]


def mailbox_entries(world: World, address: str) -> list[MailboxEntry]:
    """The messages in the mailbox of `address` (aliases followed); KeyError if none."""
    for mda in world.mdas.values():
        mailbox = mda.mailbox_of(address)
        if mailbox is not None:
            return [_mailbox_entry(stored.pop3_uid, stored.content, stored.message_id)
                    for stored in mailbox.messages]
    raise KeyError(f"no mailbox for {address}")


def message_copies(world: World, message_id: str) -> list[MessageCopy]:
    """Every copy of the message with this Message-ID: queued, stored, downloaded."""
    wanted = _bare_id(message_id)
    copies: list[MessageCopy] = []
    for host, mta in world.mtas.items():
        for m in mta.queue.entries.values():
            if _bare_id(m.message_id) == wanted:
                copies.append(MessageCopy("queue", host, m.queue_id, m.sender,
                                          _headers(m.content)))
    for host, mda in world.mdas.items():
        for mailbox in mda.mailboxes.values():
            for stored in mailbox.messages:
                if _bare_id(stored.message_id) == wanted:
                    headers = _headers(stored.content)
                    copies.append(MessageCopy("mailbox", host, mailbox.address,
                                              _return_path(headers), headers))
    for address, mua in world.muas.items():
        for content in mua.inbox:
            headers = _headers(content)
            if any(_bare_id(v) == wanted for k, v in headers if k.lower() == "message-id"):
                copies.append(MessageCopy("client", mua.host, address, _return_path(headers),
                                          headers))
    return copies


def _mta(world: World, host: str) -> Mta:
    try:
        return world.mtas[host]
    except KeyError:
        known = ", ".join(sorted(world.mtas)) or "none"
        raise KeyError(f"{host} runs no MTA (hosts with one: {known})") from None


def _headers(content: bytes) -> tuple[tuple[str, str], ...]:
    parsed = BytesHeaderParser(policy=compat32).parsebytes(content)
    return tuple((name, " ".join(str(value).split())) for name, value in parsed.items())


def _mailbox_entry(uid: str, content: bytes, message_id: str | None) -> MailboxEntry:
    headers = dict((k.lower(), v) for k, v in reversed(_headers(content)))
    return MailboxEntry(uid, message_id, headers.get("from", ""), headers.get("subject", ""),
                        len(content))


def _return_path(headers: tuple[tuple[str, str], ...]) -> str | None:
    paths = [v for k, v in headers if k.lower() == "return-path"]
    return paths[0].strip("<>") if paths else None


def _bare_id(message_id: str | None) -> str:
    return (message_id or "").strip().strip("<>").strip()


def _last_error(outcomes: dict[str, Outcome], recipients: list[str]) -> str:
    return next((outcomes[r].text for r in recipients if r in outcomes), "")
