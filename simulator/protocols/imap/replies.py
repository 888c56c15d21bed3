"""Every status line the IMAP server sends, in Dovecot's words.

Texts follow Dovecot 2.3/2.4 (`src/imap-login/imap-login-client.c`,
`src/login-common`, `src/imap/cmd-*.c`), with the timing Dovecot adds to
some completions ("(0.001 + 0.000 secs)") left out.  Response codes in
brackets are RFC 9051 §7.1's, RFC 5530's and RFC 4315's (UIDPLUS).

A text that starts with "* " or "+ " is untagged or a continuation; any
other gets the command's tag in front.
"""

from __future__ import annotations

from enum import Enum, auto

from simulator.protocols.mailbox import QUOTA_MESSAGE, StoreError, StoreRefusal
from simulator.protocols.sasl import PASSWORD_EXPOSED, PLAINTEXT_DISALLOWED


class ImapReply(Enum):
    """Keys of the server's reply table `REPLIES`."""

    GREETING = auto()
    CONTINUE_LITERAL = auto()
    CONTINUE_SASL = auto()
    IDLING = auto()
    BYE_LOGOUT = auto()
    BYE_AUTOLOGOUT = auto()
    BYE_SHUTDOWN = auto()
    BYE_TOO_MANY_BAD = auto()
    BYE_LITERAL_TOO_LARGE = auto()
    BYE_MAILBOX_GONE = auto()
    LINE_TOO_LONG = auto()
    CLOSED = auto()
    CAPABILITY_PRE_LOGIN = auto()
    CAPABILITY_DONE = auto()
    NOOP_DONE = auto()
    LOGOUT_DONE = auto()
    LOGGED_IN = auto()
    AUTH_FAILED = auto()
    AUTH_ABORTED = auto()
    AUTH_BAD_BASE64 = auto()
    AUTH_MECHANISM = auto()
    PRIVACY_REQUIRED = auto()
    PASSWORD_EXPOSED = auto()
    STARTTLS_BEGIN = auto()
    TLS_ACTIVE = auto()
    TLS_UNAVAILABLE = auto()
    ENABLE_IGNORED = auto()
    ENABLE_DONE = auto()
    LOGIN_WRONG_WAY = auto()
    BAD_PRE_LOGIN = auto()
    UNKNOWN_COMMAND = auto()
    MISSING_COMMAND = auto()
    BAD_ARGUMENTS = auto()
    NO_MAILBOX_SELECTED = auto()
    NONEXISTENT = auto()
    ALREADY_EXISTS = auto()
    TARGET_EXISTS = auto()
    INVALID_NAME = auto()
    INBOX_NOT_DELETABLE = auto()
    INBOX_NOT_RENAMABLE = auto()
    TRYCREATE = auto()
    OVER_QUOTA = auto()
    READ_ONLY = auto()
    SELECT_DONE = auto()
    CREATE_DONE = auto()
    DELETE_DONE = auto()
    RENAME_DONE = auto()
    SUBSCRIBE_DONE = auto()
    UNSUBSCRIBE_DONE = auto()
    LIST_DONE = auto()
    NAMESPACE_DONE = auto()
    STATUS_DONE = auto()
    APPEND_DONE = auto()
    APPEND_EMPTY = auto()
    APPEND_TOO_BIG = auto()
    IDLE_DONE = auto()
    IDLE_NOT_DONE = auto()
    CLOSE_DONE = auto()
    UNSELECT_DONE = auto()
    EXPUNGE_DONE = auto()
    EXPUNGE_READ_ONLY = auto()
    SEARCH_DONE = auto()
    BAD_CHARSET = auto()
    FETCH_DONE = auto()
    FETCH_EXPUNGED = auto()
    STORE_DONE = auto()
    STORE_READ_ONLY = auto()
    COPY_DONE = auto()
    MOVE_COPYUID = auto()
    MOVE_DONE = auto()
    NOTHING_FOUND = auto()


REPLIES: dict[ImapReply, str] = {
    # imap-login: "* OK [CAPABILITY ...] Dovecot ready." (login_greeting)
    ImapReply.GREETING: "* OK [CAPABILITY {capabilities}] {software} ready.",
    ImapReply.CONTINUE_LITERAL: "+ OK",  # lib-imap imap-parser.c, RFC 9051 §7.5
    ImapReply.CONTINUE_SASL: "+ ",  # RFC 9051 §6.2.2: PLAIN's challenge is empty
    ImapReply.IDLING: "+ idling",  # cmd-idle.c
    ImapReply.BYE_LOGOUT: "* BYE Logging out",  # cmd-logout.c
    ImapReply.BYE_AUTOLOGOUT: "* BYE Disconnected for inactivity.",  # imap-client.c
    ImapReply.BYE_SHUTDOWN: "* BYE Server shutting down.",
    ImapReply.BYE_TOO_MANY_BAD: "* BYE Too many invalid IMAP commands.",
    ImapReply.BYE_LITERAL_TOO_LARGE: "* BYE Literal size too large",  # imap-parser.c
    ImapReply.BYE_MAILBOX_GONE: "* BYE Selected mailbox was deleted, have to disconnect.",
    # imap-client.c client_input: an over-long line is skipped, the session goes on
    ImapReply.LINE_TOO_LONG: "* BAD Error in IMAP command: Too long argument.",
    ImapReply.CLOSED: "* OK [CLOSED] Previous mailbox closed.",  # RFC 9051 §7.1
    ImapReply.CAPABILITY_PRE_LOGIN:
        "OK Pre-login capabilities listed, post-login capabilities have more.",
    ImapReply.CAPABILITY_DONE: "OK Capability completed.",
    ImapReply.NOOP_DONE: "OK NOOP completed.",
    ImapReply.LOGOUT_DONE: "OK Logout completed.",
    ImapReply.LOGGED_IN: "OK [CAPABILITY {capabilities}] Logged in",  # imap/main.c
    ImapReply.AUTH_FAILED: "NO [AUTHENTICATIONFAILED] Authentication failed.",
    ImapReply.AUTH_ABORTED: "BAD Authentication aborted by client.",  # RFC 9051 §6.2.2
    ImapReply.AUTH_BAD_BASE64: "BAD Invalid base64 in response",  # RFC 9051 §6.2.2: BAD
    ImapReply.AUTH_MECHANISM: "NO Unsupported authentication mechanism.",
    # imap-login before TLS with disable_plaintext_auth (RFC 9051 §6.2.3, RFC 5530)
    ImapReply.PRIVACY_REQUIRED: "NO [PRIVACYREQUIRED] " + PLAINTEXT_DISALLOWED,
    ImapReply.PASSWORD_EXPOSED: "* BAD [ALERT] " + PASSWORD_EXPOSED,  # RFC 9051 §7.1: ALERT
    ImapReply.STARTTLS_BEGIN: "OK Begin TLS negotiation now.",
    ImapReply.TLS_ACTIVE: "BAD TLS is already active.",
    ImapReply.TLS_UNAVAILABLE: "BAD TLS support isn't enabled.",
    ImapReply.ENABLE_IGNORED: "OK ENABLE ignored in non-authenticated state.",
    ImapReply.ENABLE_DONE: "OK Enabled.",
    ImapReply.LOGIN_WRONG_WAY: "BAD First parameter in line is IMAP's command tag, not the "
                               "command name. Add that before the command, like: a login user pass",
    ImapReply.BAD_PRE_LOGIN: "BAD Error in IMAP command received by server.",
    ImapReply.UNKNOWN_COMMAND: "BAD Error in IMAP command {command}: Unknown command.",
    ImapReply.MISSING_COMMAND: "BAD Error in IMAP command: Missing command name.",
    ImapReply.BAD_ARGUMENTS: "BAD Error in IMAP command {command}: {detail}",
    ImapReply.NO_MAILBOX_SELECTED: "BAD No mailbox selected.",
    ImapReply.NONEXISTENT: "NO [NONEXISTENT] Mailbox doesn't exist: {name}",
    ImapReply.ALREADY_EXISTS: "NO [ALREADYEXISTS] Mailbox already exists",
    ImapReply.TARGET_EXISTS: "NO [ALREADYEXISTS] Target mailbox already exists",
    # Dovecot says MAIL_ERROR_PARAMS and MAIL_ERROR_NOTPOSSIBLE with [CANNOT] (RFC 5530)
    ImapReply.INVALID_NAME: "NO [CANNOT] Invalid mailbox name",
    ImapReply.INBOX_NOT_DELETABLE: "NO [CANNOT] INBOX can't be deleted.",
    ImapReply.INBOX_NOT_RENAMABLE: "NO [CANNOT] Renaming INBOX isn't supported.",  # Maildir
    ImapReply.TRYCREATE: "NO [TRYCREATE] Mailbox doesn't exist: {name}",  # RFC 9051 §6.3.12
    # RFC 9208 §4.3 OVERQUOTA
    ImapReply.OVER_QUOTA: "NO [OVERQUOTA] " + QUOTA_MESSAGE,
    ImapReply.READ_ONLY: "NO [READ-ONLY] Mailbox is read-only.",
    ImapReply.SELECT_DONE: "OK [{access}] {verb} completed",
    ImapReply.CREATE_DONE: "OK Create completed.",
    ImapReply.DELETE_DONE: "OK Delete completed.",
    ImapReply.RENAME_DONE: "OK Rename completed.",
    ImapReply.SUBSCRIBE_DONE: "OK Subscribe completed.",
    ImapReply.UNSUBSCRIBE_DONE: "OK Unsubscribe completed.",
    ImapReply.LIST_DONE: "OK List completed.",
    ImapReply.NAMESPACE_DONE: "OK Namespace completed.",
    ImapReply.STATUS_DONE: "OK Status completed.",
    ImapReply.APPEND_DONE: "OK [APPENDUID {uidvalidity} {uid}] Append completed.",
    ImapReply.APPEND_EMPTY: "NO Can't save a zero byte message.",
    # RFC 7889 APPENDLIMIT; Dovecot says TOOBIG (RFC 4469) when mail_max_size is passed
    ImapReply.APPEND_TOO_BIG: "NO [TOOBIG] Mail size is over the limit of {limit} bytes.",
    ImapReply.IDLE_DONE: "OK Idle completed.",
    ImapReply.IDLE_NOT_DONE: "BAD Expected DONE.",
    ImapReply.CLOSE_DONE: "OK Close completed.",
    ImapReply.UNSELECT_DONE: "OK Unselect completed.",
    ImapReply.EXPUNGE_DONE: "OK Expunge completed.",
    ImapReply.EXPUNGE_READ_ONLY: "OK Expunge ignored: Mailbox is read-only.",
    ImapReply.SEARCH_DONE: "OK Search completed.",
    ImapReply.BAD_CHARSET: "NO [BADCHARSET (UTF-8 US-ASCII)] Unsupported charset",
    ImapReply.FETCH_DONE: "OK Fetch completed.",
    ImapReply.FETCH_EXPUNGED: "OK [EXPUNGEISSUED] Some messages were already expunged.",
    ImapReply.STORE_DONE: "OK Store completed.",
    ImapReply.STORE_READ_ONLY: "OK Store ignored with read-only mailbox.",
    ImapReply.COPY_DONE: "OK [COPYUID {uidvalidity} {source} {target}] Copy completed.",
    ImapReply.MOVE_COPYUID: "* OK [COPYUID {uidvalidity} {source} {target}] Moved UIDs.",
    ImapReply.MOVE_DONE: "OK Move completed.",
    ImapReply.NOTHING_FOUND: "OK No messages found.",
}


def reply_line(reply: ImapReply, tag: str, **fields: object) -> bytes:
    """The status line for `reply`, tagged unless it is untagged or a continuation."""
    text = REPLIES[reply].format(**fields) if fields else REPLIES[reply]
    if not text.startswith(("* ", "+ ")):
        text = f"{tag} {text}"
    return text.encode("utf-8") + b"\r\n"


class CommandFailed(Exception):
    """A command ends with this NO or BAD reply (raised inside the server)."""

    def __init__(self, reply: ImapReply, **fields: object) -> None:
        super().__init__(reply.name)
        self.reply = reply
        self.fields = fields


#: How a folder command (CREATE, DELETE, RENAME) words the store's refusals.
STORE_REFUSALS: dict[StoreRefusal, ImapReply] = {
    StoreRefusal.NO_SUCH_FOLDER: ImapReply.NONEXISTENT,
    StoreRefusal.ALREADY_EXISTS: ImapReply.ALREADY_EXISTS,
    StoreRefusal.INVALID_NAME: ImapReply.INVALID_NAME,
    StoreRefusal.INBOX_CANNOT_BE_DELETED: ImapReply.INBOX_NOT_DELETABLE,
    StoreRefusal.INBOX_CANNOT_BE_RENAMED: ImapReply.INBOX_NOT_RENAMABLE,
    StoreRefusal.OVER_QUOTA: ImapReply.OVER_QUOTA,
}
#: Where a command words a refusal its own way: RENAME's target, APPEND's and
#: COPY's missing folder (RFC 9051 §6.3.12, §6.4.7: TRYCREATE).
RENAME_REFUSALS = {**STORE_REFUSALS, StoreRefusal.ALREADY_EXISTS: ImapReply.TARGET_EXISTS}
FILING_REFUSALS = {**STORE_REFUSALS, StoreRefusal.NO_SUCH_FOLDER: ImapReply.TRYCREATE}


def refusal(
    error: StoreError, words: dict[StoreRefusal, ImapReply] = STORE_REFUSALS
) -> CommandFailed:
    """The NO that says why the store refused."""
    return CommandFailed(words[error.reason], name=error.folder)
