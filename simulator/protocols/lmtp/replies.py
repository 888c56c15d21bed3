"""LMTP replies in Dovecot's words: one table, SMTP's keys and LMTP's own.

LMTP keeps SMTP's syntax and codes (RFC 2033 §4), so its table starts from
SMTP's and puts Dovecot's texts (src/lib-smtp/smtp-server-cmd-*.c,
src/lmtp/lmtp-local.c) over the replies Dovecot words differently; the
errors Dovecot's wording is not modelled for keep Postfix's texts.  The
replies to the final dot, one per recipient (RFC 2033 §4.2), are LMTP's
own keys: `LmtpReply`.
"""

from __future__ import annotations

from enum import Enum
from typing import Any

from simulator.protocols.mailbox import QUOTA_MESSAGE
from simulator.protocols.smtp import REPLIES as SMTP_REPLIES
from simulator.protocols.smtp import Reply, SmtpReply
from simulator.protocols.smtp import reply as smtp_reply


class LmtpReply(Enum):
    """Replies only LMTP has: what became of one recipient after the final dot."""

    SAVED = "saved"
    QUOTA_EXCEEDED = "quota_exceeded"
    QUOTA_EXCEEDED_TEMPORARY = "quota_exceeded_temporary"


ReplyText = tuple[int, str | None, str]
R, L = SmtpReply, LmtpReply
#: Where Dovecot's words differ from SMTP's, and LMTP's own replies.
_DOVECOT: dict[SmtpReply | LmtpReply, ReplyText] = {
    # Dovecot: "<hostname> " + login_greeting ("Dovecot ready.")
    R.GREETING: (220, None, "{hostname} {software} ready."),
    R.OK: (250, "2.0.0", "OK"),
    R.MAIL_OK: (250, "2.1.0", "OK"),
    R.RCPT_OK: (250, "2.1.5", "OK"),
    R.START_DATA: (354, None, "OK"),
    R.UNKNOWN_COMMAND: (500, "5.5.1", "Unknown command"),
    # Dovecot lmtp-local.c: the user lookup found nobody
    R.USER_UNKNOWN: (550, "5.1.1", "<{rcpt}> User doesn't exist: {rcpt}"),
    # Dovecot smtp-server: the 5 minutes of LMTP idle time are over
    R.TIMEOUT: (421, "4.4.2", "{hostname} Disconnected for inactivity"),
    # Dovecot lmtp-local.c: "<rcpt> <session id> Saved"
    L.SAVED: (250, "2.0.0", "<{rcpt}> {session_id} Saved"),
    # the default: a full mailbox is a permanent failure
    L.QUOTA_EXCEEDED: (552, "5.2.2", "<{rcpt}> " + QUOTA_MESSAGE),
    # quota_full_tempfail = yes: try again later (RFC 3463 calls X.2.2 transient)
    L.QUOTA_EXCEEDED_TEMPORARY: (452, "4.2.2", "<{rcpt}> " + QUOTA_MESSAGE),
}
del R, L
#: code, RFC 3463 enhanced code, text template, for every reply an LMTP server sends.
REPLIES: dict[SmtpReply | LmtpReply, ReplyText] = {key: text for key, text in SMTP_REPLIES.items()}
REPLIES.update(_DOVECOT)

#: The LHLO keywords offered, in Dovecot's order.  Dovecot also offers
#: CHUNKING (BDAT), DSN and SIZE; they are not modelled here, so not offered.
CAPABILITIES = ("8BITMIME", "ENHANCEDSTATUSCODES", "PIPELINING")


def reply(key: SmtpReply | LmtpReply, **fields: Any) -> Reply:
    """The LMTP reply `key`, its template filled with `fields`."""
    return smtp_reply(key, table=REPLIES, **fields)


def lhlo_reply(hostname: str) -> Reply:
    """The answer to LHLO: the host's name, then one keyword per line (RFC 2033 §4.1)."""
    return Reply(250, None, (hostname, *CAPABILITIES))
