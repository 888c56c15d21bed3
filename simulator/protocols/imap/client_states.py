"""The IMAP client's tables and its plan: states, what moves it, the actions it runs.

The client sends one command at a time; its state is the response it
awaits (RFC 9051 §2.2.2).  `CLIENT_TRANSITIONS` is the one literal table
it moves along: for each state, what the awaited response (or the
agent's request) means -- a `ClientInput` -- and the state that follows.
READY is the hub: nothing is in flight, and the next `Action` of the plan
picks the next state; when the plan is empty the client waits there for
the agent.  Entering a state sends that state's command.  Tests and
`mailsim explain imap-client` read these tables; the client obeys them.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from simulator.protocols.common import LocalProtocolError
from simulator.protocols.imap import wire


class ImapClientState(Enum):
    """The response the client awaits (or, READY and IDLING, what it waits for)."""

    GREETING = "greeting"  # connected, waiting for "* OK" or "* PREAUTH" (§7.1.1, §7.1.4)
    CAPABILITY = "capability"
    STARTTLS = "starttls"
    TLS_HANDSHAKE = "tls_handshake"  # the session layer runs TLS, then calls tls_established()
    AUTHENTICATE = "authenticate"  # AUTHENTICATE PLAIN (§6.2.2, RFC 4616)
    LOGIN = "login"
    ENABLE = "enable"  # ENABLE IMAP4rev2 on a server that speaks rev1 too (§6.3.1)
    READY = "ready"  # nothing in flight: the next action of the plan, or the agent's
    SELECT = "select"
    SEARCH = "search"
    FETCH = "fetch"
    STORE = "store"
    MOVE = "move"
    EXPUNGE = "expunge"
    APPEND = "append"  # waiting for "+" before the literal (§4.3, §7.6)
    APPEND_LITERAL = "append_literal"  # the message is sent, waiting for the result
    IDLE = "idle"  # waiting for "+ idling" (§6.3.13)
    IDLING = "idling"  # the server pushes EXISTS/EXPUNGE/FETCH until the agent stops it
    DONE = "done"  # DONE sent, waiting for IDLE's tagged OK
    LIST = "list"
    STATUS = "status"
    NOOP = "noop"
    LOGOUT = "logout"  # waiting for "* BYE" then the tagged OK (§6.1.3)
    CLOSED = "closed"


class ClientInput(Enum):
    """What the awaited response, or the agent, means for the next step.

    The values are what `mailsim explain imap-client` shows on each arrow.
    """

    GREETED = "* OK"
    PREAUTH = "* PREAUTH"
    BYE = "* BYE"
    USE_STARTTLS = "OK, STARTTLS to use"
    USE_LOGIN = "OK, LOGIN to use"
    USE_AUTHENTICATE = "OK, AUTHENTICATE PLAIN to use"
    NO_SAFE_LOGIN = "OK, no safe way to log in"
    HANDSHAKE_DONE = "TLS handshake done"
    CONTINUE = "+"
    OK = "OK"
    REFUSED = "NO/BAD"
    ENABLE_REV2 = "OK, IMAP4rev2 to enable"
    NEW_MAIL = "OK with new mail to fetch"
    STOP_IDLE = "agent: stop idling"
    # the agent's actions, taken from the plan in READY
    DO_SELECT = "select"
    DO_SEARCH = "search"
    DO_FETCH = "fetch"
    DO_STORE = "store"
    DO_MOVE = "move"
    DO_EXPUNGE = "expunge"
    DO_APPEND = "append"
    DO_APPEND_NONSYNC = "append with LITERAL+"
    DO_IDLE = "idle"
    DO_LIST = "list"
    DO_STATUS = "status"
    DO_NOOP = "noop"
    DO_LOGOUT = "logout"
    CUT_OFF = "cut off"  # no response will come: closed, timed out, broken, garbled


S, On = ImapClientState, ClientInput
#: For each state, what moves it and where.  "* BYE" outside LOGOUT means the
#: server is closing (§7.1.5); in LOGOUT it is expected and the tagged OK ends.
CLIENT_TRANSITIONS: dict[ImapClientState, dict[ClientInput, ImapClientState]] = {
    S.GREETING: {  # §7.1: a greeting may carry [CAPABILITY ...] and save a round trip
        On.GREETED: S.CAPABILITY, On.USE_STARTTLS: S.STARTTLS, On.USE_LOGIN: S.LOGIN,
        On.USE_AUTHENTICATE: S.AUTHENTICATE, On.NO_SAFE_LOGIN: S.LOGOUT, On.PREAUTH: S.READY,
        On.BYE: S.CLOSED, On.CUT_OFF: S.CLOSED,
    },
    S.CAPABILITY: {
        On.USE_STARTTLS: S.STARTTLS, On.USE_LOGIN: S.LOGIN, On.USE_AUTHENTICATE: S.AUTHENTICATE,
        On.NO_SAFE_LOGIN: S.LOGOUT, On.REFUSED: S.LOGOUT, On.BYE: S.CLOSED, On.CUT_OFF: S.CLOSED,
    },
    S.STARTTLS: {
        On.OK: S.TLS_HANDSHAKE, On.REFUSED: S.LOGOUT, On.BYE: S.CLOSED, On.CUT_OFF: S.CLOSED,
    },
    S.TLS_HANDSHAKE: {On.HANDSHAKE_DONE: S.CAPABILITY, On.CUT_OFF: S.CLOSED},  # §6.2.1
    S.AUTHENTICATE: {  # §6.2.2: "+" asks for the response (no SASL-IR) or, twice, "*" cancels
        On.CONTINUE: S.AUTHENTICATE, On.ENABLE_REV2: S.ENABLE, On.OK: S.READY,
        On.REFUSED: S.LOGOUT, On.BYE: S.CLOSED, On.CUT_OFF: S.CLOSED,
    },
    S.LOGIN: {
        On.ENABLE_REV2: S.ENABLE, On.OK: S.READY, On.REFUSED: S.LOGOUT,
        On.BYE: S.CLOSED, On.CUT_OFF: S.CLOSED,
    },
    S.ENABLE: {On.OK: S.READY, On.REFUSED: S.READY, On.BYE: S.CLOSED, On.CUT_OFF: S.CLOSED},
    S.READY: {
        On.DO_SELECT: S.SELECT, On.DO_SEARCH: S.SEARCH, On.DO_FETCH: S.FETCH,
        On.DO_STORE: S.STORE, On.DO_MOVE: S.MOVE, On.DO_EXPUNGE: S.EXPUNGE,
        On.DO_APPEND: S.APPEND, On.DO_APPEND_NONSYNC: S.APPEND_LITERAL, On.DO_IDLE: S.IDLE,
        On.DO_LIST: S.LIST, On.DO_STATUS: S.STATUS, On.DO_NOOP: S.NOOP,
        On.DO_LOGOUT: S.LOGOUT, On.BYE: S.CLOSED, On.CUT_OFF: S.CLOSED,
    },
    S.SELECT: {On.OK: S.READY, On.REFUSED: S.READY, On.BYE: S.CLOSED, On.CUT_OFF: S.CLOSED},
    S.SEARCH: {
        On.NEW_MAIL: S.FETCH, On.OK: S.READY, On.REFUSED: S.READY,
        On.BYE: S.CLOSED, On.CUT_OFF: S.CLOSED,
    },
    S.FETCH: {On.OK: S.READY, On.REFUSED: S.READY, On.BYE: S.CLOSED, On.CUT_OFF: S.CLOSED},
    S.STORE: {On.OK: S.READY, On.REFUSED: S.READY, On.BYE: S.CLOSED, On.CUT_OFF: S.CLOSED},
    S.MOVE: {On.OK: S.READY, On.REFUSED: S.READY, On.BYE: S.CLOSED, On.CUT_OFF: S.CLOSED},
    S.EXPUNGE: {On.OK: S.READY, On.REFUSED: S.READY, On.BYE: S.CLOSED, On.CUT_OFF: S.CLOSED},
    S.APPEND: {  # §6.3.12: the server may refuse before the literal ([TRYCREATE], [OVERQUOTA])
        On.CONTINUE: S.APPEND_LITERAL, On.REFUSED: S.READY, On.BYE: S.CLOSED,
        On.CUT_OFF: S.CLOSED,
    },
    S.APPEND_LITERAL: {
        On.OK: S.READY, On.REFUSED: S.READY, On.BYE: S.CLOSED, On.CUT_OFF: S.CLOSED,
    },
    S.IDLE: {On.CONTINUE: S.IDLING, On.REFUSED: S.READY, On.BYE: S.CLOSED, On.CUT_OFF: S.CLOSED},
    S.IDLING: {On.STOP_IDLE: S.DONE, On.BYE: S.CLOSED, On.CUT_OFF: S.CLOSED},  # RFC 2177
    S.DONE: {On.OK: S.READY, On.REFUSED: S.READY, On.BYE: S.CLOSED, On.CUT_OFF: S.CLOSED},
    S.LIST: {On.OK: S.READY, On.REFUSED: S.READY, On.BYE: S.CLOSED, On.CUT_OFF: S.CLOSED},
    S.STATUS: {On.OK: S.READY, On.REFUSED: S.READY, On.BYE: S.CLOSED, On.CUT_OFF: S.CLOSED},
    S.NOOP: {On.OK: S.READY, On.REFUSED: S.READY, On.BYE: S.CLOSED, On.CUT_OFF: S.CLOSED},
    S.LOGOUT: {On.OK: S.CLOSED, On.REFUSED: S.CLOSED, On.CUT_OFF: S.CLOSED},  # §6.1.3
    S.CLOSED: {},
}  # fmt: skip
del S, On

#: The command each state sends on entry (RFC 9051 §6), without its tag.
#: AUTHENTICATE carries the SASL-IR initial response when the server takes
#: one (§6.2.2); APPEND's literal follows its "+" (or goes at once with
#: LITERAL+, RFC 7888); IDLING sends nothing, DONE ends IDLE (§6.3.13).
COMMANDS: dict[ImapClientState, str] = {
    ImapClientState.CAPABILITY: "CAPABILITY",
    ImapClientState.STARTTLS: "STARTTLS",
    ImapClientState.AUTHENTICATE: "AUTHENTICATE PLAIN{initial}",
    ImapClientState.LOGIN: "LOGIN {username} {password}",
    ImapClientState.ENABLE: "ENABLE IMAP4rev2",
    ImapClientState.SELECT: "{verb} {folder}",
    ImapClientState.SEARCH: "UID SEARCH {criteria}",
    ImapClientState.FETCH: "UID FETCH {uids} {items}",
    ImapClientState.STORE: "UID STORE {uids} {sign}FLAGS ({flags})",
    ImapClientState.MOVE: "UID MOVE {uids} {folder}",
    ImapClientState.EXPUNGE: "{uid}EXPUNGE{uids}",
    ImapClientState.APPEND: "APPEND {folder} ({flags}) {{{size}}}",
    ImapClientState.APPEND_LITERAL: "APPEND {folder} ({flags}) {{{size}+}}",
    ImapClientState.IDLE: "IDLE",
    ImapClientState.LIST: 'LIST "" {pattern}',
    ImapClientState.STATUS: "STATUS {folder} ({items})",
    ImapClientState.NOOP: "NOOP",
    ImapClientState.LOGOUT: "LOGOUT",
}
#: What a desktop client asks for to list a folder (Thunderbird's header fetch).
HEADER_ITEMS = "(UID FLAGS RFC822.SIZE BODY.PEEK[HEADER])"


# ---- the plan: what the agent asks the client to do once logged in ----


@dataclass(frozen=True)
class Select:
    """SELECT a folder (EXAMINE when `read_only`) (§6.3.2, §6.3.3)."""

    folder: str = "INBOX"
    read_only: bool = False


@dataclass(frozen=True)
class Search:
    """UID SEARCH (§6.4.4, §6.4.9): report the UIDs that match, as `SearchResult`."""

    criteria: str = "UNSEEN"


@dataclass(frozen=True)
class FetchNew:
    """UID SEARCH for new mail, then UID FETCH BODY[] of what it found (sets \\Seen, §6.4.5)."""

    criteria: str = "UNSEEN"


@dataclass(frozen=True)
class FetchHeaders:
    """UID FETCH first_uid:* with UID, FLAGS, size and the header, not marking read."""

    first_uid: int = 1


@dataclass(frozen=True)
class Fetch:
    """UID FETCH the whole messages (BODY[], or BODY.PEEK[] to leave \\Seen alone)."""

    uids: tuple[int, ...]
    peek: bool = False


@dataclass(frozen=True)
class Store:
    """UID STORE +FLAGS or -FLAGS (§6.4.6): mark read, flag, delete."""

    uids: tuple[int, ...]
    flags: tuple[str, ...] = ("\\Seen",)
    add: bool = True


@dataclass(frozen=True)
class Move:
    """UID MOVE to another folder, Trash by default (§6.4.8)."""

    uids: tuple[int, ...]
    folder: str = "Trash"


@dataclass(frozen=True)
class Expunge:
    """EXPUNGE, or UID EXPUNGE of these UIDs only (§6.4.3, §6.4.9)."""

    uids: tuple[int, ...] = ()


@dataclass(frozen=True)
class Append:
    """APPEND a message to a folder -- sent mail to Sent (§6.3.12)."""

    content: bytes
    folder: str = "Sent"
    flags: tuple[str, ...] = ("\\Seen",)


@dataclass(frozen=True)
class Idle:
    """IDLE until the agent calls `stop_idle()` (§6.3.13)."""


@dataclass(frozen=True)
class ListFolders:
    """LIST "" pattern (§6.3.9): report each folder as `FolderListed`."""

    pattern: str = "*"


@dataclass(frozen=True)
class GetStatus:
    """STATUS of a folder that is not selected (§6.3.11)."""

    folder: str
    items: tuple[str, ...] = ("MESSAGES", "UIDNEXT", "UNSEEN")


@dataclass(frozen=True)
class Noop:
    """NOOP: let the server tell what changed (§6.1.2)."""


@dataclass(frozen=True)
class Logout:
    """LOGOUT: the last action (§6.1.3)."""


Action = (
    Select | Search | FetchNew | FetchHeaders | Fetch | Store | Move | Expunge | Append | Idle
    | ListFolders | GetStatus | Noop | Logout
)
#: The READY input each action is.  APPEND is DO_APPEND_NONSYNC with LITERAL+.
ACTION_INPUTS: dict[type[Action], ClientInput] = {
    Select: ClientInput.DO_SELECT, Search: ClientInput.DO_SEARCH,
    FetchNew: ClientInput.DO_SEARCH, FetchHeaders: ClientInput.DO_FETCH,
    Fetch: ClientInput.DO_FETCH, Store: ClientInput.DO_STORE, Move: ClientInput.DO_MOVE,
    Expunge: ClientInput.DO_EXPUNGE, Append: ClientInput.DO_APPEND, Idle: ClientInput.DO_IDLE,
    ListFolders: ClientInput.DO_LIST, GetStatus: ClientInput.DO_STATUS, Noop: ClientInput.DO_NOOP,
    Logout: ClientInput.DO_LOGOUT,
}  # fmt: skip


class Mechanism(Enum):
    """How the client proves who it is (§6.2.3 LOGIN; §6.2.2 with RFC 4616 PLAIN)."""

    LOGIN = "LOGIN"
    PLAIN = "AUTHENTICATE PLAIN"


@dataclass(frozen=True)
class ImapClientConfig:
    """Who logs in, how, and the plan of actions to run once logged in."""

    username: str
    password: str
    mechanism: Mechanism = Mechanism.LOGIN
    use_starttls: bool = False  # STARTTLS before logging in; without it the client logs out
    actions: tuple[Action, ...] = ()
    enable_rev2: bool = True  # ENABLE IMAP4rev2 when the server offers rev1 and rev2
    literal_plus: bool = True  # APPEND with {n+} when the server offers LITERAL+ (RFC 7888)


# ---- how each action's command is written ----


def astring_argument(text: str) -> str:
    """A name or password as an atom or quoted string; a literal is not sent for it."""
    if any(char in text for char in "\r\n\0"):
        raise LocalProtocolError(f"cannot send {text[:20]!r} without a literal")
    return wire.astring(text).decode("utf-8")


def fetch_arguments(action: Action | None, found: list[int]) -> dict[str, object]:
    """The UIDs and items of the UID FETCH an action sends (`found`: FetchNew's SEARCH)."""
    if isinstance(action, FetchHeaders):
        return {"uids": f"{action.first_uid}:*", "items": HEADER_ITEMS}
    if isinstance(action, Fetch):
        return {"uids": _uid_set(action.uids), "items": "BODY.PEEK[]" if action.peek else "BODY[]"}
    return {"uids": _uid_set(found), "items": "BODY[]"}  # FetchNew, after its SEARCH


def action_arguments(action: Action | None) -> dict[str, object]:
    """The fields of an action's command, for the states that take them from it."""
    if isinstance(action, Select):
        return {"verb": "EXAMINE" if action.read_only else "SELECT",
                "folder": astring_argument(action.folder)}  # fmt: skip
    if isinstance(action, Search | FetchNew):
        return {"criteria": action.criteria}
    if isinstance(action, Store):
        return {"uids": _uid_set(action.uids), "sign": "+" if action.add else "-",
                "flags": " ".join(action.flags)}  # fmt: skip
    if isinstance(action, Move):
        return {"uids": _uid_set(action.uids), "folder": astring_argument(action.folder)}
    if isinstance(action, Expunge):
        uids = f" {_uid_set(action.uids)}" if action.uids else ""
        return {"uid": "UID " if action.uids else "", "uids": uids}
    if isinstance(action, Append):
        return {"folder": astring_argument(action.folder), "flags": " ".join(action.flags),
                "size": len(action.content)}  # fmt: skip
    if isinstance(action, ListFolders):
        return {"pattern": wire.quoted(action.pattern).decode("utf-8")}
    if isinstance(action, GetStatus):
        return {"folder": astring_argument(action.folder), "items": " ".join(action.items)}
    return {}


def check_actions(actions: tuple[Action, ...]) -> None:
    """Refuse at once an action whose command could not be written (a caller's bug)."""
    for action in actions:
        action_arguments(action)
        if isinstance(action, Fetch):
            fetch_arguments(action, [])


def _uid_set(uids: tuple[int, ...] | list[int]) -> str:
    if not uids:
        raise LocalProtocolError("an action needs at least one UID")
    return wire.format_sequence_set(sorted(set(uids)))
