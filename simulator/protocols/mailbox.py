"""What the protocols share about a mailbox store, in no protocol's words.

A store (`simulator.mailstore`) refuses a change by raising `StoreError`
with a `StoreRefusal`; each protocol words the reason in its own reply
table (IMAP: a NO with an RFC 5530 code; LMTP: 552/452 per recipient).
Folder names use one hierarchy separator, Dovecot's with Maildir++.
"""

from __future__ import annotations

from enum import Enum

#: The hierarchy separator of Dovecot's default namespace with Maildir++ (RFC 9051 §5.1.1).
SEPARATOR = "."
#: Dovecot's quota plugin's message (src/plugins/quota/quota.c, quota_exceeded_message),
#: which IMAP and LMTP both say.
QUOTA_MESSAGE = "Quota exceeded (mailbox for user is full)"


class StoreRefusal(Enum):
    """Why the store refused a change."""

    NO_SUCH_FOLDER = "no such folder"
    ALREADY_EXISTS = "the folder already exists"
    INVALID_NAME = "not a valid folder name"
    INBOX_CANNOT_BE_DELETED = "INBOX cannot be deleted"  # RFC 9051 §6.3.5
    INBOX_CANNOT_BE_RENAMED = "INBOX cannot be renamed"  # Dovecot with Maildir
    OVER_QUOTA = "over quota"


class StoreError(Exception):
    """A refused change to the store: why, and the folder it was about."""

    def __init__(self, reason: StoreRefusal, folder: str = "") -> None:
        super().__init__(f"{reason.value}: {folder}" if folder else reason.value)
        self.reason = reason
        self.folder = folder
