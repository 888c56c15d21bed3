"""One session's view of its selected folder, and how it catches up.

Several sessions (and POP3) share a folder, but each IMAP session numbers
the messages as *it* last told its client (RFC 9051 §7.5.1: a sequence
number changes only when the client is told, by EXPUNGE).  `FolderView`
keeps that picture: the UIDs in the client's numbering and the flags the
client last saw.  `sync()` compares it with the folder as it is now and
returns the untagged responses that bring the client up to date:

1. ``* n EXPUNGE`` for each message gone, in an order where every number
   is valid after the ones before it -- but only when the client may be
   told (RFC 9051 §7.5.1: never during FETCH, STORE or SEARCH by sequence
   number); until then a gone message stays in the view as a ghost;
2. ``* n EXISTS`` when messages arrived (UIDs only grow, so new ones
   always come after all known ones);
3. ``* n FETCH (FLAGS (...))`` for each message whose flags changed.

The server syncs after every command, before its tagged reply, and at once
while the client IDLEs and the agent calls `notify()`.  Changes the session
made itself are synced the same way, so one rule numbers everything.
"""

from __future__ import annotations

from simulator.protocols.imap.store import ImapFolder, ImapMessage

#: RFC 9051 §2.3.2: the system flags, in the order Dovecot lists them.
SYSTEM_FLAGS = ("\\Answered", "\\Flagged", "\\Deleted", "\\Seen", "\\Draft")


def flag_list(flags: set[str] | frozenset[str]) -> bytes:
    """Flags as a parenthesised list: system flags first, then keywords."""
    ordered = [f for f in SYSTEM_FLAGS if f in flags]
    ordered += sorted(f for f in flags if f not in SYSTEM_FLAGS)
    return b"(" + " ".join(ordered).encode("utf-8") + b")"


class FolderView:
    """The selected folder as this session's client knows it."""

    def __init__(self, folder: ImapFolder, read_only: bool) -> None:
        self.folder = folder
        self.read_only = read_only
        self.uids: list[int] = [m.uid for m in folder.messages]
        self._told: dict[int, frozenset[str]] = {
            m.uid: frozenset(m.flags) for m in folder.messages
        }

    @property
    def exists(self) -> int:
        """The message count the client believes in."""
        return len(self.uids)

    def live(self) -> dict[int, ImapMessage]:
        """The folder's messages now, by UID."""
        return {m.uid: m for m in self.folder.messages}

    def told(self, uid: int, flags: set[str]) -> None:
        """The client has just been shown these flags (FETCH or STORE reply)."""
        self._told[uid] = frozenset(flags)

    def sync(self, expunge_allowed: bool) -> list[bytes]:
        """The untagged responses that bring the client up to date."""
        live = self.live()
        out: list[bytes] = []
        if expunge_allowed:
            out += self._expunges(live)
        known = set(self.uids)
        arrived = [m for m in self.folder.messages if m.uid not in known]
        if arrived:  # their flags come with the FETCH the client sends next
            self.uids += [m.uid for m in arrived]
            self._told.update((m.uid, frozenset(m.flags)) for m in arrived)
            out.append(b"* %d EXISTS\r\n" % len(self.uids))
        for number, uid in enumerate(self.uids, 1):
            message = live.get(uid)
            if message is None:
                continue
            flags = frozenset(message.flags)
            if self._told.get(uid) != flags:
                self._told[uid] = flags
                out.append(b"* %d FETCH (FLAGS %s)\r\n" % (number, flag_list(flags)))
        return out

    def _expunges(self, live: dict[int, ImapMessage]) -> list[bytes]:
        out: list[bytes] = []
        kept: list[int] = []
        for uid in self.uids:
            if uid in live:
                kept.append(uid)
            else:
                out.append(b"* %d EXPUNGE\r\n" % (len(kept) + 1))
                self._told.pop(uid, None)
        self.uids = kept
        return out
