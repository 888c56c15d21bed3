"""Every POP3 status line the server sends, and the client's own notes.

Texts follow Dovecot's pop3 and pop3-login services where Dovecot has one;
response codes in brackets come from RFC 2449 §8 and RFC 3206.
"""

from __future__ import annotations

from enum import Enum, auto

from simulator.protocols.common import CRLF
from simulator.protocols.sasl import PLAINTEXT_DISALLOWED


class Pop3Reply(Enum):
    """Keys of the server reply table `REPLIES`."""

    GREETING = auto()
    OK = auto()
    LOGGED_IN = auto()
    AUTH_FAILED = auto()
    IN_USE = auto()
    LOGIN_DELAY = auto()
    SYS_TEMP = auto()
    SYS_PERM = auto()
    NO_USERNAME = auto()
    APOP_UNSUPPORTED = auto()
    SASL_CONTINUE = auto()
    AUTH_MECHANISM = auto()
    AUTH_ABORTED = auto()
    STAT = auto()
    LIST_ALL = auto()
    SCAN_LISTING = auto()
    UIDL_ONE = auto()
    RETR = auto()
    DELETED = auto()
    LOGOUT = auto()
    LOGOUT_DELETED = auto()
    NO_SUCH_MESSAGE = auto()
    MESSAGE_DELETED = auto()
    INVALID_NUMBER = auto()
    INVALID_LINES = auto()
    MISSING_ARGUMENT = auto()
    TOO_MANY_ARGUMENTS = auto()
    UNKNOWN_COMMAND = auto()
    WRONG_STATE = auto()
    LINE_TOO_LONG = auto()
    TOO_MANY_BAD_LOGIN = auto()
    TOO_MANY_BAD = auto()
    AUTOLOGOUT = auto()
    SHUTDOWN = auto()
    TLS_BEGIN = auto()
    TLS_ACTIVE = auto()
    TLS_DISABLED = auto()
    PLAINTEXT_DISALLOWED = auto()


REPLIES: dict[Pop3Reply, str] = {
    Pop3Reply.GREETING: "+OK {software} ready.",  # Dovecot login_greeting
    Pop3Reply.OK: "+OK",  # USER, RSET, NOOP, CAPA, UIDL, TOP in Dovecot
    Pop3Reply.LOGGED_IN: "+OK Logged in.",
    Pop3Reply.AUTH_FAILED: "-ERR [AUTH] Authentication failed.",  # RFC 3206 §5
    Pop3Reply.IN_USE: "-ERR [IN-USE] Mailbox is locked by another session.",  # RFC 2449 §8.1
    Pop3Reply.LOGIN_DELAY: "-ERR [LOGIN-DELAY] Logged in too recently.",  # RFC 2449 §8.2
    Pop3Reply.SYS_TEMP: "-ERR [SYS/TEMP] Temporary server failure.",  # RFC 3206 §4
    Pop3Reply.SYS_PERM: "-ERR [SYS/PERM] Mailbox unavailable.",  # RFC 3206 §4
    Pop3Reply.NO_USERNAME: "-ERR No username given.",
    Pop3Reply.APOP_UNSUPPORTED: "-ERR APOP not supported.",  # RFC 1939 §7: optional
    Pop3Reply.SASL_CONTINUE: "+ ",  # RFC 5034 §4: continuation with an empty PLAIN challenge
    Pop3Reply.AUTH_MECHANISM: "-ERR Unsupported authentication mechanism.",
    Pop3Reply.AUTH_ABORTED: "-ERR Authentication aborted by client.",  # RFC 5034 §4: "*"
    Pop3Reply.STAT: "+OK {count} {size}",  # RFC 1939 §5 drop listing
    Pop3Reply.LIST_ALL: "+OK {count} messages:",
    Pop3Reply.SCAN_LISTING: "+OK {number} {size}",  # RFC 1939 §5 scan listing
    Pop3Reply.UIDL_ONE: "+OK {number} {uid}",  # RFC 1939 §7 unique-id listing
    Pop3Reply.RETR: "+OK {size} octets",
    Pop3Reply.DELETED: "+OK Marked to be deleted.",
    Pop3Reply.LOGOUT: "+OK Logging out.",
    Pop3Reply.LOGOUT_DELETED: "+OK Logging out, messages deleted.",
    Pop3Reply.NO_SUCH_MESSAGE: "-ERR There's no message {number}.",
    Pop3Reply.MESSAGE_DELETED: "-ERR Message is deleted.",
    Pop3Reply.INVALID_NUMBER: "-ERR Invalid message number: {arg}",
    Pop3Reply.INVALID_LINES: "-ERR Invalid number of lines: {arg}",
    Pop3Reply.MISSING_ARGUMENT: "-ERR {verb}: Missing argument.",
    Pop3Reply.TOO_MANY_ARGUMENTS: "-ERR {verb}: Too many arguments.",
    Pop3Reply.UNKNOWN_COMMAND: "-ERR Unknown command: {verb}",
    Pop3Reply.WRONG_STATE: "-ERR {verb} not allowed in {state} state.",
    Pop3Reply.LINE_TOO_LONG: "-ERR Input line too long.",  # RFC 2449 §4: 255 octets
    # Dovecot pop3-login: bad commands in a row before login, then hang up
    Pop3Reply.TOO_MANY_BAD_LOGIN: "-ERR Too many invalid bad commands.",
    # Dovecot pop3 (after login): the same, after more than 20 in a row
    Pop3Reply.TOO_MANY_BAD: "-ERR Too many bad commands.",
    Pop3Reply.AUTOLOGOUT: "-ERR Disconnected for inactivity.",  # Dovecot, after 10 min
    Pop3Reply.SHUTDOWN: "-ERR Server shutting down.",
    # Dovecot login-common client_cmd_starttls() and pop3-login's replies to it
    Pop3Reply.TLS_BEGIN: "+OK Begin TLS negotiation now.",
    Pop3Reply.TLS_ACTIVE: "-ERR TLS is already active.",
    Pop3Reply.TLS_DISABLED: "-ERR TLS support isn't enabled.",
    # Dovecot disable_plaintext_auth = yes, before TLS (RFC 2595 §2.2; RFC 3206 §5)
    Pop3Reply.PLAINTEXT_DISALLOWED: "-ERR [AUTH] " + PLAINTEXT_DISALLOWED,
}

# RFC 2449 §6, RFC 3206 §6, in Dovecot's order.  Before login: STLS (RFC 2595
# §4) while in clear if offered, then USER and SASL (RFC 5034 §6) unless
# plaintext logins are refused in clear (Dovecot leaves them out then).
CAPABILITIES_AUTHORIZATION = ("CAPA", "TOP", "UIDL", "RESP-CODES", "PIPELINING", "AUTH-RESP-CODE")
CAPABILITY_STLS = "STLS"
CAPABILITIES_LOGIN = ("USER", "SASL PLAIN")
CAPABILITIES_TRANSACTION = ("CAPA", "TOP", "UIDL", "RESP-CODES", "PIPELINING", "AUTH-RESP-CODE")
#: What a bare AUTH lists (Dovecot's answer, from RFC 1734-era clients).
SASL_MECHANISMS = ("PLAIN",)


def reply_line(reply: Pop3Reply, **fields: object) -> bytes:
    """The status line for `reply`, filled in and ended with CRLF."""
    return REPLIES[reply].format(**fields).encode("utf-8") + CRLF


class ClientNote(Enum):
    """Why a client session ended when no server line says so."""

    BAD_RESPONSE = "malformed response: {line}"
    LINE_TOO_LONG = "response line too long ({length} octets)"
