"""The maildrop as one POP3 session sees it: numbered messages, deletion marks."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from simulator.protocols.common import split_lines
from simulator.protocols.pop3.replies import Pop3Reply
from simulator.protocols.pop3.wire import canonical, parse_number, printable

# RFC 1939 §7: a unique-id is 1 to 70 characters in the range 0x21-0x7E.
MAX_UID_LENGTH = 70


@dataclass(frozen=True)
class MaildropEntry:
    """One message handed to a POP3 session by the mailbox store."""

    uid: str  # RFC 1939 §7 unique-id, shown by UIDL
    content: bytes  # the message, CRLF lines

    def __post_init__(self) -> None:
        uid_ok = 0 < len(self.uid) <= MAX_UID_LENGTH and all("!" <= c <= "~" for c in self.uid)
        if not uid_ok:
            raise ValueError(f"invalid POP3 unique-id {self.uid!r} (RFC 1939 §7)")


class CommandError(Exception):
    """A command that must be answered with an -ERR reply; never leaves the server."""

    def __init__(self, reply: Pop3Reply, **fields: object) -> None:
        super().__init__(reply.name)
        self.reply = reply
        self.fields = fields


class SessionMaildrop:
    """Messages numbered 1..n at login (RFC 1939 §5), with deletion marks.

    Marks only record intent: nothing is removed until the UPDATE state
    (RFC 1939 §6), and then by the agent, not here.
    """

    def __init__(self, entries: Sequence[MaildropEntry]) -> None:
        uids = [entry.uid for entry in entries]
        if len(set(uids)) != len(uids):
            raise ValueError("POP3 unique-ids must be unique within a maildrop (RFC 1939 §7)")
        self._uids = tuple(uids)
        self._contents = tuple(canonical(entry.content) for entry in entries)
        self._deleted: set[int] = set()

    def live_numbers(self) -> list[int]:
        """Numbers of the messages not marked as deleted, in order."""
        return [n for n in range(1, len(self._uids) + 1) if n not in self._deleted]

    def size(self, number: int) -> int:
        """The exact size in octets as sent on the wire, CRLF included (RFC 1939 §5)."""
        return len(self._contents[number - 1])

    def uid(self, number: int) -> str:
        """The unique-id of message `number`."""
        return self._uids[number - 1]

    def lines(self, number: int) -> list[bytes]:
        """The lines of message `number`, without line endings."""
        return split_lines(self._contents[number - 1])

    def total_size(self) -> int:
        """The size of all live messages together (STAT, RFC 1939 §5)."""
        return sum(self.size(n) for n in self.live_numbers())

    def resolve(self, arg: str) -> int:
        """The live message numbered `arg`, or CommandError (RFC 1939 §5)."""
        number = parse_number(arg)
        if number is None or number == 0:
            raise CommandError(Pop3Reply.INVALID_NUMBER, arg=printable(arg))
        if number > len(self._uids):
            raise CommandError(Pop3Reply.NO_SUCH_MESSAGE, number=number)
        if number in self._deleted:
            raise CommandError(Pop3Reply.MESSAGE_DELETED)
        return number

    def mark_deleted(self, number: int) -> None:
        """DELE: mark a message; it can no longer be referenced (RFC 1939 §5)."""
        self._deleted.add(number)

    def unmark_all(self) -> None:
        """RSET: forget every deletion mark (RFC 1939 §5)."""
        self._deleted.clear()

    def deleted_uids(self) -> tuple[str, ...]:
        """The unique-ids marked as deleted, in message-number order."""
        return tuple(self._uids[n - 1] for n in sorted(self._deleted))
