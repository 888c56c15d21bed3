"""Commands on the selected folder (RFC 9051 §6.4): CLOSE, UNSELECT, EXPUNGE,
SEARCH, FETCH, STORE, COPY, MOVE, and their UID forms (§6.4.9, UIDPLUS).

Messages are named by the numbers of the session's `FolderView`; one that
another session expunged but this client has not been told of yet is a
ghost: FETCH skips it with ``[EXPUNGEISSUED]``, STORE and COPY skip it.
"""

from __future__ import annotations

from simulator.protocols.imap.events import (
    FlagsChanged,
    MessageAppended,
    MessageFetched,
    MessagesExpunged,
)
from simulator.protocols.imap.fetch import (
    Fetched,
    FetchItem,
    FetchSyntaxError,
    parse_items,
    render,
)
from simulator.protocols.imap.mailboxes import parse_flag
from simulator.protocols.imap.replies import (
    FILING_REFUSALS,
    CommandFailed,
    ImapReply,
    refusal,
    reply_line,
)
from simulator.protocols.imap.search import (
    Candidate,
    SearchSyntaxError,
    UnknownCharset,
    parse_search,
    search_response,
)
from simulator.protocols.imap.session import Completion, Session, bad, done, mailbox_name
from simulator.protocols.imap.store import ImapMessage
from simulator.protocols.imap.view import FolderView, flag_list
from simulator.protocols.imap.wire import (
    Atom,
    ParenList,
    Token,
    format_sequence_set,
    parse_sequence_set,
)
from simulator.protocols.mailbox import StoreError

SEEN, DELETED = "\\Seen", "\\Deleted"


def resolve(view: FolderView, token: Token, by_uid: bool) -> list[tuple[int, int]]:
    """(number, UID) of the messages a sequence set names, in view order.

    RFC 9051 §6.4.9: UIDs that name no message are ignored; a sequence
    number beyond EXISTS is an error (Dovecot: "Invalid messageset").
    """
    text = token.value if isinstance(token, Atom) else ""
    wanted = parse_sequence_set(text)
    if wanted is None:
        raise bad("Invalid uidset" if by_uid else "Invalid messageset")
    if by_uid:
        largest = view.uids[-1] if view.uids else 0
        return [(n, uid) for n, uid in enumerate(view.uids, 1)
                if largest and wanted.contains(uid, largest)]
    if not view.uids or wanted.highest(view.exists) > view.exists:
        raise bad("Invalid messageset")
    return [(n, uid) for n, uid in enumerate(view.uids, 1) if wanted.contains(n, view.exists)]


def close(session: Session, tag: str, args: list[Token]) -> Completion:
    """CLOSE (RFC 9051 §6.4.1): expunge silently, then leave the folder."""
    view = session.selected
    if not view.read_only:
        _expunge(session, view, None)
    session.view = None
    return done(ImapReply.CLOSE_DONE)


def unselect(session: Session, tag: str, args: list[Token]) -> Completion:
    """UNSELECT (RFC 9051 §6.4.2): leave the folder, expunging nothing."""
    session.view = None
    return done(ImapReply.UNSELECT_DONE)


def expunge(session: Session, tag: str, args: list[Token], by_uid: bool = False) -> Completion:
    """EXPUNGE / UID EXPUNGE (RFC 9051 §6.4.3, §6.4.9); the EXPUNGE responses
    come from the sync that follows every command."""
    view = session.selected
    if len(args) != (1 if by_uid else 0):
        raise bad()
    if view.read_only:
        return done(ImapReply.EXPUNGE_READ_ONLY)
    uids = [uid for _, uid in resolve(view, args[0], True)] if by_uid else None
    _expunge(session, view, uids)
    return done(ImapReply.EXPUNGE_DONE)


def uid_expunge(session: Session, tag: str, args: list[Token]) -> Completion:
    """UID EXPUNGE (RFC 9051 §6.4.9)."""
    return expunge(session, tag, args, by_uid=True)


def _expunge(session: Session, view: FolderView, uids: list[int] | None) -> None:
    chosen = None if uids is None else set(uids)
    gone = tuple(m.uid for m in view.folder.messages
                 if DELETED in m.flags and (chosen is None or m.uid in chosen))
    view.folder.expunge(uids)
    if gone:
        session.events.append(MessagesExpunged(view.folder.name, gone))


def search(session: Session, tag: str, args: list[Token], by_uid: bool = False) -> Completion:
    """SEARCH / UID SEARCH (RFC 9051 §6.4.4)."""
    view = session.selected
    try:
        request = parse_search(args)
    except UnknownCharset:
        raise CommandFailed(ImapReply.BAD_CHARSET) from None
    except SearchSyntaxError as error:
        raise bad(str(error)) from None
    live = view.live()
    largest_uid = view.uids[-1] if view.uids else 0
    found: list[int] = []
    for number, uid in enumerate(view.uids, 1):
        message = live.get(uid)
        if message is None:
            continue
        candidate = Candidate(number, message, view.exists, largest_uid, session.config.epoch)
        if request.matches(candidate):
            found.append(uid if by_uid else number)
    session.send(search_response(tag, found, request.returns, session.rev2, by_uid))
    return done(ImapReply.SEARCH_DONE)


def uid_search(session: Session, tag: str, args: list[Token]) -> Completion:
    """UID SEARCH (RFC 9051 §6.4.9)."""
    return search(session, tag, args, by_uid=True)


def fetch(session: Session, tag: str, args: list[Token], by_uid: bool = False) -> Completion:
    """FETCH / UID FETCH (RFC 9051 §6.4.5, §7.5.2)."""
    view = session.selected
    if len(args) < 2:
        raise bad()
    try:
        items = parse_items(args[1:])
    except FetchSyntaxError as error:
        raise bad(str(error)) from None
    if by_uid and all(item.name != "UID" for item in items):
        items.insert(0, FetchItem("UID"))  # RFC 9051 §6.4.9: UID FETCH always has UID
    expunged = False
    live = view.live()
    for number, uid in resolve(view, args[0], by_uid):
        message = live.get(uid)
        if message is None:
            expunged = True
            continue
        session.send(_fetch_one(session, view, number, message, items))
    return done(ImapReply.FETCH_EXPUNGED if expunged else ImapReply.FETCH_DONE)


def uid_fetch(session: Session, tag: str, args: list[Token]) -> Completion:
    """UID FETCH (RFC 9051 §6.4.9)."""
    return fetch(session, tag, args, by_uid=True)


def _fetch_one(session: Session, view: FolderView, number: int, message: ImapMessage,
               items: list[FetchItem]) -> bytes:
    folder = view.folder.name
    wanted = list(items)
    if any(i.sets_seen for i in items) and not view.read_only and SEEN not in message.flags:
        message.flags.add(SEEN)
        session.events.append(FlagsChanged(folder, message.uid, _ordered(message.flags)))
        if all(i.name != "FLAGS" for i in items):
            wanted.append(FetchItem("FLAGS"))  # RFC 9051 §6.4.5: report the new \Seen
    fetched = Fetched(message, session.config.epoch)
    data = b" ".join(render(i, fetched) for i in wanted)
    if any(i.name == "FLAGS" for i in wanted):
        view.told(message.uid, message.flags)
    body_read = any(i.reads_body for i in wanted)
    session.events.append(MessageFetched(folder, message.uid, message.message_id, body_read))
    return b"* %d FETCH (" % number + data + b")\r\n"


def store(session: Session, tag: str, args: list[Token], by_uid: bool = False) -> Completion:
    """STORE / UID STORE (RFC 9051 §6.4.6): FLAGS, +FLAGS, -FLAGS, with .SILENT."""
    view = session.selected
    if len(args) < 3 or not isinstance(args[1], Atom):
        raise bad()
    action = args[1].upper()
    silent = action.endswith(".SILENT")
    mode = action.removesuffix(".SILENT")
    if mode not in ("FLAGS", "+FLAGS", "-FLAGS"):
        raise bad("Invalid arguments.")
    flag_tokens = args[2].items if isinstance(args[2], ParenList) and len(args) == 3 else args[2:]
    flags = {parse_flag(token) for token in flag_tokens}
    chosen = resolve(view, args[0], by_uid)
    if view.read_only:
        return done(ImapReply.STORE_READ_ONLY)
    live = view.live()
    for number, uid in chosen:
        message = live.get(uid)
        if message is None:
            continue
        _apply(session, view, message, mode, flags)
        if not silent:
            tail = b" UID %d" % uid if by_uid else b""
            session.send(b"* %d FETCH (FLAGS %s%s)\r\n" % (number, flag_list(message.flags), tail))
    return done(ImapReply.STORE_DONE)


def uid_store(session: Session, tag: str, args: list[Token]) -> Completion:
    """UID STORE (RFC 9051 §6.4.9)."""
    return store(session, tag, args, by_uid=True)


def _apply(session: Session, view: FolderView, message: ImapMessage, mode: str,
           flags: set[str]) -> None:
    before = set(message.flags)
    if mode == "FLAGS":
        message.flags.clear()
        message.flags.update(flags)
    elif mode == "+FLAGS":
        message.flags.update(flags)
    else:
        message.flags.difference_update(flags)
    view.told(message.uid, message.flags)
    if message.flags != before:
        session.events.append(
            FlagsChanged(view.folder.name, message.uid, _ordered(message.flags)))


def _ordered(flags: set[str]) -> tuple[str, ...]:
    return tuple(flag_list(flags)[1:-1].decode("utf-8").split())


def copy(session: Session, tag: str, args: list[Token], by_uid: bool = False,
         move: bool = False) -> Completion:
    """COPY / MOVE and their UID forms (RFC 9051 §6.4.7-8), with COPYUID (RFC 4315)."""
    view = session.selected
    if len(args) != 2:
        raise bad()
    name = mailbox_name(args[1])
    live = view.live()
    messages = [live[uid] for _, uid in resolve(view, args[0], by_uid) if uid in live]
    target = session.store.folder(name)
    if target is None:
        raise CommandFailed(ImapReply.TRYCREATE, name=name)
    if move and view.read_only:
        raise CommandFailed(ImapReply.READ_ONLY)
    if not messages:
        return done(ImapReply.NOTHING_FOUND)
    # RFC 9051 §6.4.7: a COPY copies all or nothing, so the quota is checked first
    if not session.store.has_room_for(sum(m.size for m in messages)):
        raise CommandFailed(ImapReply.OVER_QUOTA)
    new_uids = []
    for message in messages:
        try:
            stored = session.store.file(name, message.content, message.message_id,
                                        message.internal_date, set(message.flags))
        except StoreError as error:
            raise refusal(error, FILING_REFUSALS) from None
        new_uids.append(stored.uid)
        session.events.append(MessageAppended(target.name, stored.uid, stored.size))
    fields = {"uidvalidity": target.uidvalidity,
              "source": format_sequence_set(m.uid for m in messages),
              "target": format_sequence_set(new_uids)}
    if not move:
        return done(ImapReply.COPY_DONE, **fields)
    session.send(reply_line(ImapReply.MOVE_COPYUID, tag, **fields))
    for message in messages:
        message.flags.add(DELETED)
    _expunge(session, view, [m.uid for m in messages])
    return done(ImapReply.MOVE_DONE)


def uid_copy(session: Session, tag: str, args: list[Token]) -> Completion:
    """UID COPY (RFC 9051 §6.4.9)."""
    return copy(session, tag, args, by_uid=True)


def move(session: Session, tag: str, args: list[Token]) -> Completion:
    """MOVE (RFC 9051 §6.4.8)."""
    return copy(session, tag, args, move=True)


def uid_move(session: Session, tag: str, args: list[Token]) -> Completion:
    """UID MOVE (RFC 9051 §6.4.9)."""
    return copy(session, tag, args, by_uid=True, move=True)
