"""Every protocol machine's state table, by the name `mailsim explain` knows it by."""

from __future__ import annotations

from typing import Any

from simulator.protocols import imap, lmtp, pop3, smtp

#: name -> (title, transitions: state -> {input: next state}).
STATE_TABLES: dict[str, tuple[str, dict[Any, dict[Any, Any]]]] = {
    "smtp": ("SMTP server (RFC 5321)", smtp.TRANSITIONS),
    "lmtp": ("LMTP server (RFC 2033)", lmtp.TRANSITIONS),
    "pop3": ("POP3 server (RFC 1939)", pop3.TRANSITIONS),
    "imap": ("IMAP4rev2 server (RFC 9051)", imap.TRANSITIONS),
    "smtp-client": ("SMTP client (RFC 5321)", smtp.CLIENT_TRANSITIONS),
    "lmtp-client": ("LMTP client (RFC 2033)", lmtp.CLIENT_TRANSITIONS),
    "pop3-client": ("POP3 client (RFC 1939)", pop3.CLIENT_TRANSITIONS),
    "imap-client": ("IMAP4rev2 client (RFC 9051)", imap.CLIENT_TRANSITIONS),
}
