"""What the IMAP server needs of a mailbox store, as `typing.Protocol`s.

The machine never imports the store: the agent hands `login()` any object
that has this shape (`simulator.mailstore.Mailbox`, with its `Folder` and
`StoredMessage`, does).  The server reads the store directly and changes
it only through these names; a change the store refuses raises
`protocols.mailbox.StoreError`, whose reason the server words as Dovecot
does (`replies.STORE_REFUSALS`, RFC 5530 codes).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Protocol


class ImapMessage(Protocol):
    """One message at rest: UID, octets, flags, arrival time."""

    @property
    def uid(self) -> int: ...
    @property
    def content(self) -> bytes: ...
    @property
    def message_id(self) -> str | None: ...
    @property
    def internal_date(self) -> float: ...
    @property
    def flags(self) -> set[str]: ...  # changed in place by STORE
    @property
    def size(self) -> int: ...


class ImapFolder(Protocol):
    """One IMAP mailbox: messages in UID order (RFC 9051 §2.3.1.1)."""

    @property
    def name(self) -> str: ...
    @property
    def uidvalidity(self) -> int: ...
    @property
    def uidnext(self) -> int: ...
    @property
    def special_use(self) -> str | None: ...
    @property
    def messages(self) -> Sequence[ImapMessage]: ...
    @property
    def size(self) -> int: ...

    def expunge(self, uids: Iterable[int] | None = None) -> list[int]:
        """Remove the ``\\Deleted`` messages (among `uids` if given)."""
        ...

    def unseen(self) -> int:
        """How many messages lack ``\\Seen``."""
        ...


class ImapMailbox(Protocol):
    """One user's folders, shared by every session of that user."""

    def __iter__(self) -> Iterator[ImapFolder]: ...

    def folder(self, name: str) -> ImapFolder | None:
        """The folder called `name` (INBOX in any case), or None."""
        ...

    def create(self, name: str, special_use: str | None = None) -> ImapFolder:
        """A new empty folder with a fresh UIDVALIDITY."""
        ...

    def delete(self, name: str) -> None:
        """Remove a folder and its messages."""
        ...

    def rename(self, old: str, new: str) -> None:
        """Rename a folder (RFC 9051 §6.3.6 for INBOX)."""
        ...

    def has_room_for(self, size: int) -> bool:
        """Whether `size` more octets fit under the quota."""
        ...

    def file(
        self, folder: str, content: bytes, message_id: str | None, when: float,
        flags: Iterable[str] = (),
    ) -> ImapMessage:
        """Store a message under the folder's next UID, or raise the store's error."""
        ...
