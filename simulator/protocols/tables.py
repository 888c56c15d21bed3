"""Every protocol machine's state table, by the name `mailsim explain` knows it by.

Each entry carries the words drawn under its table: what a reader needs to
know of that protocol's table and of no other.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from simulator.protocols import imap, lmtp, pop3, smtp
from simulator.protocols.imap.states import AFTER_FAILURE

_CUT_OFF = ("Cut off: the server closed, fell silent, the connection broke or a reply "
            "made no sense.")
_CLIENT = "Each state is the reply the client awaits; entering a state sends its command."


@dataclass(frozen=True)
class StateTable:
    """One machine's table, its title and its footer.

    `after_failure`: inputs that move on even when they fail, from any state
    that lists them (IMAP's SELECT and EXAMINE), and where to.
    """

    title: str
    transitions: Mapping[Any, Mapping[Any, Any]]
    footer: str
    client: bool = False
    after_failure: Mapping[Any, Any] = field(default_factory=dict)


STATE_TABLES: dict[str, StateTable] = {
    "smtp": StateTable("SMTP server (RFC 5321)", smtp.TRANSITIONS, (
        "A command not listed for a state is refused as out of order (503). EHLO, AUTH, "
        "MAIL, RCPT and DATA move on only if the reply is positive.")),
    "lmtp": StateTable("LMTP server (RFC 2033)", lmtp.TRANSITIONS, (
        "A command not listed for a state is refused as out of order (503). After the "
        "final dot the server replies once per accepted recipient (RFC 2033 §4.2).")),
    "pop3": StateTable("POP3 server (RFC 1939)", pop3.TRANSITIONS, (
        "A command not listed for a state is answered -ERR. PASS, APOP and AUTH move on "
        "only if the login succeeds; QUIT in TRANSACTION enters UPDATE, where deleted "
        "messages go (RFC 1939 §6).")),
    "imap": StateTable("IMAP4rev2 server (RFC 9051)", imap.TRANSITIONS, (
        "A command not listed for a state is answered BAD. LOGIN and AUTHENTICATE move on "
        "only if the login succeeds; any other command that ends in NO or BAD leaves the "
        "state alone, except a failed SELECT or EXAMINE, which has already closed the "
        "selected mailbox (RFC 9051 §6.3.2): \"failed\" shows where it leads."),
        after_failure=AFTER_FAILURE),
    "smtp-client": StateTable("SMTP client (RFC 5321)", smtp.CLIENT_TRANSITIONS, (
        f"{_CLIENT} MAIL, RCPT and DATA go as one group when the server offers PIPELINING "
        f"(RFC 2920). {_CUT_OFF}"), client=True),
    "lmtp-client": StateTable("LMTP client (RFC 2033)", lmtp.CLIENT_TRANSITIONS, (
        f"{_CLIENT} After the final dot it awaits one reply per accepted recipient "
        f"(RFC 2033 §4.2). {_CUT_OFF}"), client=True),
    "pop3-client": StateTable("POP3 client (RFC 1939)", pop3.CLIENT_TRANSITIONS, (
        f"{_CLIENT} +OK and -ERR decide the next one. {_CUT_OFF}"), client=True),
    "imap-client": StateTable("IMAP4rev2 client (RFC 9051)", imap.CLIENT_TRANSITIONS, (
        "Each state is the tagged response the client awaits; entering a state sends its "
        "command. Untagged data (EXISTS, EXPUNGE, FETCH...) is reported in any state. "
        f"{_CUT_OFF}"), client=True),
}
