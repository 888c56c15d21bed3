"""The IMAP server's one transition table (RFC 9051 §3, figure 1).

`TRANSITIONS[state][command]` is the state a command that completes with
OK leads to; a command missing from a state's row is refused there.  A
command that ends with NO or BAD leaves the state alone, except a failed
SELECT or EXAMINE, which has already closed the old mailbox (RFC 9051
§6.3.2): `AFTER_FAILURE` says where those go.  The server applies both in
one place; tests and `mailsim explain imap` read them.
"""

from __future__ import annotations

from enum import Enum


class ImapState(Enum):
    """Connection states of RFC 9051 §3."""

    NOT_AUTHENTICATED = "NOT AUTHENTICATED"
    AUTHENTICATED = "AUTHENTICATED"
    SELECTED = "SELECTED"
    LOGOUT = "LOGOUT"


class Command(Enum):
    """The commands the server knows; UID commands are commands of their own."""

    CAPABILITY = "CAPABILITY"
    NOOP = "NOOP"
    LOGOUT = "LOGOUT"
    STARTTLS = "STARTTLS"
    AUTHENTICATE = "AUTHENTICATE"
    LOGIN = "LOGIN"
    ENABLE = "ENABLE"
    SELECT = "SELECT"
    EXAMINE = "EXAMINE"
    CREATE = "CREATE"
    DELETE = "DELETE"
    RENAME = "RENAME"
    SUBSCRIBE = "SUBSCRIBE"
    UNSUBSCRIBE = "UNSUBSCRIBE"
    LIST = "LIST"
    NAMESPACE = "NAMESPACE"
    STATUS = "STATUS"
    APPEND = "APPEND"
    IDLE = "IDLE"
    CLOSE = "CLOSE"
    UNSELECT = "UNSELECT"
    EXPUNGE = "EXPUNGE"
    SEARCH = "SEARCH"
    FETCH = "FETCH"
    STORE = "STORE"
    COPY = "COPY"
    MOVE = "MOVE"
    UID_EXPUNGE = "UID EXPUNGE"
    UID_SEARCH = "UID SEARCH"
    UID_FETCH = "UID FETCH"
    UID_STORE = "UID STORE"
    UID_COPY = "UID COPY"
    UID_MOVE = "UID MOVE"


_N, _A, _S, _L = (ImapState.NOT_AUTHENTICATED, ImapState.AUTHENTICATED,
                  ImapState.SELECTED, ImapState.LOGOUT)

#: RFC 9051 §6.1: valid in any state.
_ANY_STATE = (Command.CAPABILITY, Command.NOOP, Command.LOGOUT)
#: RFC 9051 §6.3: valid in the authenticated and the selected state.
_AUTHENTICATED = (
    Command.ENABLE, Command.CREATE, Command.DELETE, Command.RENAME,
    Command.SUBSCRIBE, Command.UNSUBSCRIBE, Command.LIST, Command.NAMESPACE,
    Command.STATUS, Command.APPEND, Command.IDLE,
)
#: RFC 9051 §6.4: valid in the selected state only.
_SELECTED = (
    Command.EXPUNGE, Command.SEARCH, Command.FETCH, Command.STORE, Command.COPY,
    Command.MOVE, Command.UID_EXPUNGE, Command.UID_SEARCH, Command.UID_FETCH,
    Command.UID_STORE, Command.UID_COPY, Command.UID_MOVE,
)


def _row(state: ImapState, commands: tuple[Command, ...]) -> dict[Command, ImapState]:
    return {command: state for command in commands}


TRANSITIONS: dict[ImapState, dict[Command, ImapState]] = {
    _N: {
        **_row(_N, _ANY_STATE),
        Command.LOGOUT: _L,
        Command.STARTTLS: _N,  # RFC 9051 §6.2.1: the session starts over, unauthenticated
        Command.AUTHENTICATE: _A,  # RFC 9051 §6.2.2, when the agent accepts
        Command.LOGIN: _A,  # RFC 9051 §6.2.3, when the agent accepts
        Command.ENABLE: _N,  # Dovecot imap-login: "ENABLE ignored in non-authenticated state."
    },
    _A: {
        **_row(_A, _ANY_STATE),
        **_row(_A, _AUTHENTICATED),
        Command.LOGOUT: _L,
        Command.SELECT: _S,
        Command.EXAMINE: _S,
    },
    _S: {
        **_row(_S, _ANY_STATE),
        **_row(_S, _AUTHENTICATED),
        **_row(_S, _SELECTED),
        Command.LOGOUT: _L,
        Command.SELECT: _S,
        Command.EXAMINE: _S,
        Command.CLOSE: _A,  # RFC 9051 §6.4.1
        Command.UNSELECT: _A,  # RFC 9051 §6.4.2
    },
    _L: {},
}

#: RFC 9051 §6.3.2: a SELECT that fails has already deselected the old mailbox.
AFTER_FAILURE: dict[Command, ImapState] = {Command.SELECT: _A, Command.EXAMINE: _A}

_NAMES = {command.value: command for command in Command}


def parse_command(name: str, after_uid: str | None = None) -> Command | None:
    """The command called `name` (``UID`` with the name after it); case-insensitive."""
    upper = name.upper()
    if upper == "UID":
        return None if after_uid is None else _NAMES.get("UID " + after_uid.upper())
    command = _NAMES.get(upper)
    return None if command is None or command.value.startswith("UID ") else command
