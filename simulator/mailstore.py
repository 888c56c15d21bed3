"""The mailbox store: one user's folders, messages, flags and UIDs (like Dovecot's).

Pure data, no SimPy and no protocol: the MDA files mail into it (over LMTP),
POP3 and IMAP sessions read and change it.  The rules it keeps are IMAP's
(RFC 9051 §2.3.1.1):

- every message in a folder has a UID; UIDs only grow and are never reused,
  so `uidnext` never goes down, not even when messages are expunged;
- a folder has a UIDVALIDITY; a folder created again under an old name gets
  a greater one, so a client's cached UIDs are seen to be stale;
- flags are the system flags (``\\Seen``, ``\\Answered``, ``\\Flagged``,
  ``\\Deleted``, ``\\Draft``) or keywords; IMAP4rev2 has no ``\\Recent``.

A quota (Dovecot's quota plugin, storage limit in bytes) counts every folder.
POP3 sees INBOX only.  A POP3 session takes the mailbox's POP3 lock (RFC 1939
§8 asks for exclusive access; Dovecot with pop3_lock_session=yes) while IMAP
sessions share the mailbox with it and with each other.  A refusal is a
`StoreError` with a `StoreRefusal` (`protocols.mailbox`): each protocol
says it in its own words.

The client's side lives here too: a `LocalFolder` is what a mail client
has downloaded, kept on the simulated disk (a `Spool`, one temporary file
per simulation) as a real client keeps its mbox, not in memory.
"""

from __future__ import annotations

import tempfile
import weakref
from array import array
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import BinaryIO, overload

from simulator.protocols.mailbox import SEPARATOR, StoreError, StoreRefusal

__all__ = ["SEPARATOR", "StoreError", "StoreRefusal"]  # re-exported for the store's users

INBOX = "INBOX"
#: IMAP system flags (RFC 9051 §2.3.2); `\\Recent` is gone in IMAP4rev2.
SYSTEM_FLAGS = ("\\Answered", "\\Flagged", "\\Deleted", "\\Seen", "\\Draft")
SEEN = "\\Seen"
DELETED = "\\Deleted"
#: The folders every mailbox starts with, and their special use (RFC 6154).
STANDARD_FOLDERS: dict[str, str | None] = {
    INBOX: None, "Drafts": "\\Drafts", "Sent": "\\Sent", "Trash": "\\Trash",
}


@dataclass(slots=True)
class StoredMessage:
    """A message at rest in a folder."""

    uid: int
    content: bytes
    message_id: str | None
    internal_date: float  # simulated seconds when it arrived (IMAP INTERNALDATE)
    flags: set[str] = field(default_factory=set)
    uidvalidity: int = field(default=0, kw_only=True)  # its folder's, when it was filed

    @property
    def size(self) -> int:
        """RFC822.SIZE: the octets of the message as stored (CRLF line ends)."""
        return len(self.content)

    @property
    def pop3_uid(self) -> str:
        """The POP3 UIDL: stays the same for the message's whole life.

        Dovecot's default pop3_uidl_format ``%08Xu%08Xv``: the IMAP UID, then
        the folder's UIDVALIDITY, each as eight upper-case hex digits.
        """
        return f"{self.uid:08X}{self.uidvalidity:08X}"


@dataclass(slots=True)
class Folder:
    """One IMAP mailbox ("folder" to users): messages in UID order."""

    name: str
    uidvalidity: int
    special_use: str | None = None
    uidnext: int = 1
    messages: list[StoredMessage] = field(default_factory=list)

    def append(
        self, content: bytes, message_id: str | None, when: float,
        flags: Iterable[str] = (),
    ) -> StoredMessage:
        """File a message under the next UID."""
        stored = StoredMessage(self.uidnext, content, message_id, when, set(flags),
                               uidvalidity=self.uidvalidity)
        self.uidnext += 1
        self.messages.append(stored)
        return stored

    def expunge(self, uids: Iterable[int] | None = None) -> list[int]:
        """Remove the ``\\Deleted`` messages (only those among `uids` if given).

        Returns the sequence numbers to announce, in the order RFC 9051 §7.5.1
        needs: each number is valid after the removals announced before it.
        """
        wanted = None if uids is None else set(uids)
        announced: list[int] = []
        kept: list[StoredMessage] = []
        for message in self.messages:
            if DELETED in message.flags and (wanted is None or message.uid in wanted):
                announced.append(len(kept) + 1)
            else:
                kept.append(message)
        self.messages = kept
        return announced

    def remove(self, uids: Iterable[int]) -> list[int]:
        """Remove these messages whatever their flags (POP3's UPDATE state)."""
        gone = set(uids)
        for message in self.messages:
            if message.uid in gone:
                message.flags.add(DELETED)
        return self.expunge(gone)

    @property
    def size(self) -> int:
        """Octets in the folder."""
        return sum(message.size for message in self.messages)

    def unseen(self) -> int:
        """How many messages have not been read."""
        return sum(1 for message in self.messages if SEEN not in message.flags)


@dataclass
class Mailbox:
    """One user's mail: an account, folders, a quota, the POP3 lock."""

    address: str
    password: str
    quota: int | None = None  # bytes over all folders; None: no limit
    folders: dict[str, Folder] = field(default_factory=dict)
    pop3_locked: bool = False
    #: The next UIDVALIDITY to hand out: grows with every folder ever made.
    next_uidvalidity: int = 1

    def __post_init__(self) -> None:
        for name, special_use in STANDARD_FOLDERS.items():
            if name not in self.folders:
                self.create(name, special_use)

    @property
    def inbox(self) -> Folder:
        """INBOX, where new mail arrives (and all POP3 sees)."""
        return self.folders[INBOX]

    @property
    def messages(self) -> list[StoredMessage]:
        """INBOX's messages: what POP3 lists."""
        return self.inbox.messages

    def folder(self, name: str) -> Folder | None:
        """The folder called `name`; INBOX in any case (RFC 9051 §5.1)."""
        return self.folders.get(canonical_name(name))

    def __iter__(self) -> Iterator[Folder]:
        return iter(self.folders.values())

    def create(self, name: str, special_use: str | None = None) -> Folder:
        """Make a new, empty folder with a fresh UIDVALIDITY."""
        name = canonical_name(name)
        if name in self.folders:
            raise StoreError(StoreRefusal.ALREADY_EXISTS, name)
        _check_name(name)
        folder = Folder(name, self.next_uidvalidity, special_use)
        self.next_uidvalidity += 1
        self.folders[name] = folder
        return folder

    def delete(self, name: str) -> None:
        """Remove a folder and its messages; INBOX cannot go (RFC 9051 §6.3.5)."""
        name = canonical_name(name)
        if name == INBOX:
            raise StoreError(StoreRefusal.INBOX_CANNOT_BE_DELETED, name)
        if name not in self.folders:
            raise StoreError(StoreRefusal.NO_SUCH_FOLDER, name)
        del self.folders[name]

    def rename(self, old: str, new: str) -> None:
        """Rename a folder and its inferiors: `x.y` becomes `z.y` when `x` becomes `z`
        (RFC 9051 §6.3.6); each keeps its messages, UIDs and UIDVALIDITY.

        INBOX is refused, as Dovecot with Maildir refuses it ("Renaming INBOX
        isn't supported."), instead of RFC 9051's move of its messages.
        """
        old, new = canonical_name(old), canonical_name(new)
        if old == INBOX:
            raise StoreError(StoreRefusal.INBOX_CANNOT_BE_RENAMED, old)
        moving = [n for n in self.folders if n == old or n.startswith(old + SEPARATOR)]
        if not moving:
            raise StoreError(StoreRefusal.NO_SUCH_FOLDER, old)
        _check_name(new)
        if new == old or new.startswith(old + SEPARATOR):
            raise StoreError(StoreRefusal.INVALID_NAME, new)  # a folder cannot go under itself
        renamed = {n: new + n[len(old):] for n in moving}
        if any(canonical_name(n) in self.folders for n in renamed.values()):
            raise StoreError(StoreRefusal.ALREADY_EXISTS, new)
        for before, after in renamed.items():
            folder = self.folders.pop(before)
            folder.name = canonical_name(after)
            self.folders[folder.name] = folder

    @property
    def used(self) -> int:
        """Octets stored over all folders, as the quota counts them."""
        return sum(folder.size for folder in self.folders.values())

    def has_room_for(self, size: int) -> bool:
        """Whether `size` more octets fit under the quota."""
        return self.quota is None or self.used + size <= self.quota

    def file(
        self, folder: str, content: bytes, message_id: str | None, when: float,
        flags: Iterable[str] = (),
    ) -> StoredMessage:
        """Store a message in `folder` if it fits; StoreError says why not."""
        target = self.folder(folder)
        if target is None:
            raise StoreError(StoreRefusal.NO_SUCH_FOLDER, folder)
        if not self.has_room_for(len(content)):
            raise StoreError(StoreRefusal.OVER_QUOTA, target.name)
        return target.append(content, message_id, when, flags)


def _check_name(name: str) -> None:
    """Refuse a name with an empty level (Dovecot: "Invalid mailbox name")."""
    if not name or "" in name.split(SEPARATOR):
        raise StoreError(StoreRefusal.INVALID_NAME, name)


def canonical_name(name: str) -> str:
    """A folder name with INBOX spelled the one way (it is case-insensitive)."""
    if name.upper() == INBOX:
        return INBOX
    head, sep, rest = name.partition(SEPARATOR)
    if sep and head.upper() == INBOX:
        return INBOX + sep + rest
    return name


class Spool:
    """The simulated disk: message bytes at rest in one temporary file.

    The file is opened on the first write and closed when the spool is
    dropped; it has no name (`tempfile.TemporaryFile`), so nothing is left
    behind.  A writer keeps where its bytes went: (offset, size).
    """

    def __init__(self) -> None:
        self._file: BinaryIO | None = None
        self._end = 0

    def write(self, content: bytes) -> int:
        """Store `content` after everything else; returns its offset."""
        file = self._file
        if file is None:
            file = self._file = tempfile.TemporaryFile()  # noqa: SIM115 -- closed with the spool
            weakref.finalize(self, file.close)
        offset = self._end
        file.seek(offset)
        file.write(content)
        self._end = offset + len(content)
        return offset

    def read(self, offset: int, size: int) -> bytes:
        """The `size` octets stored at `offset`."""
        if self._file is None or not size:
            return b""
        self._file.seek(offset)
        return self._file.read(size)


class LocalFolder(Sequence[bytes]):
    """What a mail client has downloaded, oldest first, on its (simulated) disk.

    A POP3 client's messages live in a local mbox (Thunderbird's
    ``Mail/<server>/Inbox``), not in the program's memory; so here only
    each message's place in the `Spool` stays in memory, sixteen octets a
    message.  The readers `append`; reading gives the bytes back.
    """

    __slots__ = ("_offsets", "_sizes", "_spool")

    def __init__(self, spool: Spool) -> None:
        self._spool = spool
        self._offsets = array("q")
        self._sizes = array("q")

    def append(self, content: bytes) -> None:
        """Keep one more downloaded message."""
        self._offsets.append(self._spool.write(content))
        self._sizes.append(len(content))

    def __len__(self) -> int:
        return len(self._offsets)

    @overload
    def __getitem__(self, index: int) -> bytes: ...
    @overload
    def __getitem__(self, index: slice) -> list[bytes]: ...
    def __getitem__(self, index: int | slice) -> bytes | list[bytes]:
        if isinstance(index, slice):
            return [self[i] for i in range(len(self))[index]]
        return self._spool.read(self._offsets[index], self._sizes[index])

    def __eq__(self, other: object) -> bool:
        if isinstance(other, (LocalFolder, list)):
            return list(self) == list(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]  # changes, as a list does

    def __repr__(self) -> str:
        return f"LocalFolder({len(self)} messages)"
