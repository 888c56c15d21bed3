"""Commands on mailboxes as a whole (RFC 9051 §6.3): SELECT, EXAMINE, CREATE,
DELETE, RENAME, SUBSCRIBE, UNSUBSCRIBE, LIST, NAMESPACE, STATUS, APPEND.

Each is a function of the `Session`, the tag and the arguments; it queues
untagged lines and returns the tagged reply.  Every folder counts as
subscribed (Dovecot with all folders in its subscriptions file); LIST says
`\\Subscribed` only when asked, by the SUBSCRIBED selection option or
RETURN (SUBSCRIBED) (RFC 9051 §6.3.9, RFC 5258 §3), as Dovecot does.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from simulator.protocols.imap import mime
from simulator.protocols.imap.events import FolderSelected, MessageAppended
from simulator.protocols.imap.replies import (
    FILING_REFUSALS,
    RENAME_REFUSALS,
    STORE_REFUSALS,
    CommandFailed,
    ImapReply,
    refusal,
)
from simulator.protocols.imap.session import (
    Completion,
    Session,
    bad,
    done,
    mailbox_name,
)
from simulator.protocols.imap.store import ImapFolder
from simulator.protocols.imap.view import SYSTEM_FLAGS, FolderView, flag_list
from simulator.protocols.imap.wire import (
    Atom,
    ParenList,
    String,
    Token,
    astring,
    parse_date_time,
    quoted,
)
from simulator.protocols.mailbox import SEPARATOR, StoreError, StoreRefusal

INBOX = "INBOX"
_SEPARATOR = quoted(SEPARATOR)
STATUS_ITEMS = ("MESSAGES", "UIDNEXT", "UIDVALIDITY", "UNSEEN", "DELETED", "SIZE", "RECENT")


def select(session: Session, tag: str, args: list[Token], read_only: bool = False) -> Completion:
    """SELECT / EXAMINE (RFC 9051 §6.3.2-3): open a folder, report its state."""
    if len(args) != 1:
        raise bad()
    if session.view is not None:
        session.view = None
        session.send(b"* OK [CLOSED] Previous mailbox closed.\r\n")  # RFC 9051 §7.1
    folder = session.folder(mailbox_name(args[0]))
    view = FolderView(folder, read_only)
    keywords = {f for m in folder.messages for f in m.flags if f not in SYSTEM_FLAGS}
    session.send(b"* FLAGS " + flag_list(set(SYSTEM_FLAGS) | keywords) + b"\r\n")
    if read_only:
        session.send(b"* OK [PERMANENTFLAGS ()] Read-only mailbox.\r\n")
    else:
        session.send(b"* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft \\*)]"
                     b" Flags permitted.\r\n")
    if session.rev2:  # RFC 9051 §6.3.2: the mailbox's LIST response
        session.send(_list_line(session, folder))
    session.send(b"* %d EXISTS\r\n" % view.exists)
    if not session.rev2:  # RFC 3501 §6.3.1, as Dovecot answers IMAP4rev1 clients
        session.send(b"* 0 RECENT\r\n")
        first_unseen = next((n for n, m in enumerate(folder.messages, 1)
                             if "\\Seen" not in m.flags), None)
        if first_unseen is not None:
            session.send(b"* OK [UNSEEN %d] First unseen.\r\n" % first_unseen)
    session.send(b"* OK [UIDVALIDITY %d] UIDs valid\r\n" % folder.uidvalidity)
    session.send(b"* OK [UIDNEXT %d] Predicted next UID\r\n" % folder.uidnext)
    session.view = view
    session.events.append(FolderSelected(folder.name, read_only, view.exists))
    access = "READ-ONLY" if read_only else "READ-WRITE"
    return done(ImapReply.SELECT_DONE, access=access, verb="Examine" if read_only else "Select")


def examine(session: Session, tag: str, args: list[Token]) -> Completion:
    """EXAMINE: SELECT, read-only (RFC 9051 §6.3.3)."""
    return select(session, tag, args, read_only=True)


def _change(action: Callable[[], object], reply: ImapReply,
            words: dict[StoreRefusal, ImapReply] = STORE_REFUSALS) -> Completion:
    try:
        action()
    except StoreError as error:
        raise refusal(error, words) from None
    return done(reply)


def create(session: Session, tag: str, args: list[Token]) -> Completion:
    """CREATE (RFC 9051 §6.3.4); a trailing separator only says "may have children"."""
    if len(args) != 1:
        raise bad()
    name = mailbox_name(args[0]).removesuffix(SEPARATOR)
    return _change(lambda: session.store.create(name), ImapReply.CREATE_DONE)


def delete(session: Session, tag: str, args: list[Token]) -> Completion:
    """DELETE (RFC 9051 §6.3.5); Dovecot refuses INBOX (the store says so)."""
    if len(args) != 1:
        raise bad()
    name = mailbox_name(args[0])
    return _change(lambda: session.store.delete(name), ImapReply.DELETE_DONE)


def rename(session: Session, tag: str, args: list[Token]) -> Completion:
    """RENAME (RFC 9051 §6.3.6)."""
    if len(args) != 2:
        raise bad()
    old, new = mailbox_name(args[0]), mailbox_name(args[1])
    return _change(lambda: session.store.rename(old, new), ImapReply.RENAME_DONE,
                   RENAME_REFUSALS)


def subscribe(session: Session, tag: str, args: list[Token]) -> Completion:
    """SUBSCRIBE (RFC 9051 §6.3.7): every existing folder is subscribed already."""
    if len(args) != 1:
        raise bad()
    session.folder(mailbox_name(args[0]))
    return done(ImapReply.SUBSCRIBE_DONE)


def unsubscribe(session: Session, tag: str, args: list[Token]) -> Completion:
    """UNSUBSCRIBE (RFC 9051 §6.3.8): accepted, and changes nothing here."""
    if len(args) != 1:
        raise bad()
    return done(ImapReply.UNSUBSCRIBE_DONE)


def namespace(session: Session, tag: str, args: list[Token]) -> Completion:
    """NAMESPACE (RFC 9051 §6.3.10): one personal namespace, no others."""
    if args:
        raise bad()
    session.send(b'* NAMESPACE (("" ' + _SEPARATOR + b")) NIL NIL\r\n")
    return done(ImapReply.NAMESPACE_DONE)


def list_mailboxes(session: Session, tag: str, args: list[Token]) -> Completion:
    """LIST (RFC 9051 §6.3.9) with LIST-EXTENDED basics: selection options
    SPECIAL-USE and SUBSCRIBED, RETURN (SPECIAL-USE CHILDREN SUBSCRIBED STATUS (...)).
    The SUBSCRIBED selection implies RETURN (SUBSCRIBED) (RFC 5258 §3.1)."""
    args = list(args)
    selection: set[str] = set()
    first = args[0] if args else None
    if isinstance(first, ParenList):
        selection = {_word(item) for item in first.items}
        args.pop(0)
    if len(args) < 2:
        raise bad()
    reference, patterns_token, rest = mailbox_name(args[0]), args[1], args[2:]
    status_items, subscribed = _return_options(rest)
    subscribed = subscribed or "SUBSCRIBED" in selection
    only = selection & {"SPECIAL-USE", "SUBSCRIBED"}  # a level that is no mailbox is neither
    patterns = (patterns_token.items if isinstance(patterns_token, ParenList)
                else (patterns_token,))
    names = [mailbox_name(p) for p in patterns]
    if names == [""]:  # RFC 9051 §6.3.9: the hierarchy delimiter and root
        session.send(b"* LIST (\\Noselect) " + _SEPARATOR + b' ""\r\n')
        return done(ImapReply.LIST_DONE)
    matchers = [_pattern(reference + name) for name in names]
    # RFC 9051 §6.3.9: with "%" last, levels of hierarchy that are no mailbox show too
    levels = [m for m, name in zip(matchers, names, strict=True) if name.endswith("%")]
    for name, folder in _hierarchy(session):
        if folder is None:
            if any(m(name) for m in levels) and not only:
                session.send(_parent_line(session, name))
            continue
        if not any(m(folder.name) for m in matchers):
            continue
        if "SPECIAL-USE" in selection and folder.special_use is None:
            continue
        session.send(_list_line(session, folder, subscribed))
        if status_items:
            session.send(_status_line(folder, status_items))
    return done(ImapReply.LIST_DONE)


def _hierarchy(session: Session) -> list[tuple[str, ImapFolder | None]]:
    """Every folder, each after the names above it that are no folder (None):
    CREATE a.b.c makes a.b.c alone, as Dovecot does with Maildir++."""
    existing = {folder.name for folder in session.store}
    listed: list[tuple[str, ImapFolder | None]] = []
    for folder in session.store:
        levels = folder.name.split(SEPARATOR)
        for depth in range(1, len(levels)):
            parent = SEPARATOR.join(levels[:depth])
            if parent not in existing:
                existing.add(parent)
                listed.append((parent, None))
        listed.append((folder.name, folder))
    return listed


def _parent_line(session: Session, name: str) -> bytes:
    """A level of hierarchy with no mailbox: rev2 says \\NonExistent (which implies
    \\Noselect, RFC 9051 §7.3.1 and RFC 5258 §3.4); rev1 says \\Noselect (RFC 3501 §7.2.2)."""
    attribute = b"\\NonExistent" if session.rev2 else b"\\Noselect"
    return (b"* LIST (" + attribute + b" \\HasChildren) " + _SEPARATOR + b" " + astring(name)
            + b"\r\n")


def _return_options(rest: list[Token]) -> tuple[tuple[str, ...], bool]:
    """LIST's RETURN options: the STATUS items asked for, and whether SUBSCRIBED is."""
    if not rest:
        return (), False
    if len(rest) != 2 or _word(rest[0]) != "RETURN" or not isinstance(rest[1], ParenList):
        raise bad()
    options = list(rest[1].items)
    items: tuple[str, ...] = ()
    subscribed = False
    while options:
        option = _word(options.pop(0))
        if option == "STATUS":
            if not options or not isinstance(options[0], ParenList):
                raise bad()
            items = _status_items(options.pop(0))
        elif option == "SUBSCRIBED":
            subscribed = True
        elif option not in ("SPECIAL-USE", "CHILDREN"):
            raise bad("Unknown LIST return option")
    return items, subscribed


def _list_line(session: Session, folder: ImapFolder, subscribed: bool = False) -> bytes:
    """A folder's LIST line; `\\Subscribed` only when asked (RFC 9051 §6.3.9)."""
    prefix = folder.name + SEPARATOR
    children = any(other.name.startswith(prefix) for other in session.store)
    attributes = ["\\HasChildren" if children else "\\HasNoChildren"]
    if subscribed:
        attributes.append("\\Subscribed")
    if folder.special_use:
        attributes.append(folder.special_use)
    return (b"* LIST (" + " ".join(attributes).encode("ascii") + b") " + _SEPARATOR
            + b" " + astring(folder.name) + b"\r\n")


def _pattern(pattern: str) -> Callable[[str], bool]:
    """RFC 9051 §6.3.9: "*" matches anything, "%" anything but the separator."""
    parts = ["(?s)"]
    for char in pattern:
        if char == "*":
            parts.append(".*")
        elif char == "%":
            parts.append("[^" + re.escape(SEPARATOR) + "]*")
        else:
            parts.append(re.escape(char))
    regex = re.compile("".join(parts))
    inbox = re.compile("".join(parts), re.IGNORECASE)
    return lambda name: bool((inbox if name == INBOX else regex).fullmatch(name))


def _word(token: Token) -> str:
    if isinstance(token, Atom):
        return token.upper()
    raise bad()


def _status_items(token: Token) -> tuple[str, ...]:
    if not isinstance(token, ParenList) or not token.items:
        raise bad()
    items = tuple(_word(item) for item in token.items)
    if any(item not in STATUS_ITEMS for item in items):
        raise bad("Invalid status item")
    return items


def status(session: Session, tag: str, args: list[Token]) -> Completion:
    """STATUS (RFC 9051 §6.3.11)."""
    if len(args) != 2:
        raise bad()
    items = _status_items(args[1])
    folder = session.folder(mailbox_name(args[0]))
    session.send(_status_line(folder, items))
    return done(ImapReply.STATUS_DONE)


def _status_line(folder: ImapFolder, items: tuple[str, ...]) -> bytes:
    values = {
        "MESSAGES": len(folder.messages), "UIDNEXT": folder.uidnext,
        "UIDVALIDITY": folder.uidvalidity, "UNSEEN": folder.unseen(),
        "DELETED": sum(1 for m in folder.messages if "\\Deleted" in m.flags),
        "SIZE": folder.size, "RECENT": 0,
    }
    pairs = " ".join(f"{item} {values[item]}" for item in items)
    return b"* STATUS " + astring(folder.name) + b" (" + pairs.encode("ascii") + b")\r\n"


def append(session: Session, tag: str, args: list[Token]) -> Completion:
    """APPEND (RFC 9051 §6.3.12): file the literal, answer with APPENDUID (RFC 4315)."""
    message_token = args[-1] if len(args) >= 2 else None
    if not isinstance(message_token, String) or not message_token.literal:
        raise bad()  # RFC 9051 §6.3.12: the message is a literal
    name, message = mailbox_name(args[0]), message_token.value
    flags: set[str] = set()
    when = session.config.clock()
    for option in args[1:-1]:
        if isinstance(option, ParenList):
            flags = {parse_flag(item) for item in option.items}
        elif isinstance(option, String):
            date = parse_date_time(option.text())
            if date is None:
                raise bad("Invalid internal date.")
            when = (date - session.config.epoch).total_seconds()
        else:
            raise bad()
    refused = append_refusal(session, name, len(message))
    if refused is not None:
        raise refused
    header, _ = mime.split_header(message)
    try:
        stored = session.store.file(name, message, mime.field_value(header, "Message-ID"),
                                    when, flags)
    except StoreError as error:
        raise refusal(error, FILING_REFUSALS) from None
    folder = session.folder(name)
    session.events.append(MessageAppended(folder.name, stored.uid, stored.size))
    return done(ImapReply.APPEND_DONE, uidvalidity=folder.uidvalidity, uid=stored.uid)


def append_refusal(session: Session, name: str, size: int) -> CommandFailed | None:
    """Why an APPEND of `size` octets to `name` would fail, checked before the
    literal is read (RFC 9051 §7.5: a NO instead of the "+" continuation)."""
    if size == 0:
        return CommandFailed(ImapReply.APPEND_EMPTY)
    if size > session.config.append_limit:
        return CommandFailed(ImapReply.APPEND_TOO_BIG, limit=session.config.append_limit)
    if session.store.folder(name) is None:
        return CommandFailed(ImapReply.TRYCREATE, name=name)
    if not session.store.has_room_for(size):
        return CommandFailed(ImapReply.OVER_QUOTA)
    return None


def parse_flag(token: Token) -> str:
    """A flag to store: a system flag (not \\Recent, RFC 9051 §2.3.2) or a keyword."""
    if not isinstance(token, Atom):
        raise bad()
    if token.value.startswith("\\"):
        system = {f.upper(): f for f in SYSTEM_FLAGS}
        if token.upper() not in system:
            raise bad(f"Invalid system flag {token.value}")
        return system[token.upper()]
    return token.value
