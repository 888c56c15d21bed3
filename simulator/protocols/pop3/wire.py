"""POP3 wire format: command verbs, line limits, byte-stuffing, status lines."""

from __future__ import annotations

import re
from enum import Enum

from simulator.protocols.common import CRLF, split_lines

# RFC 2449 §4: a command line is at most 255 octets including the CRLF.
MAX_COMMAND_LINE = 255
# A SASL response line (RFC 5034 §4) is no command, so the 255 octets do not
# bind it; like SMTP AUTH (RFC 4954 §4) we take up to 12288 octets.
MAX_SASL_LINE = 12288
# RFC 2449 §4: a status line is at most 512 octets including the CRLF.
# Lines of a multi-line response have no limit at all (RFC 1939 §3): a
# client reads long ones in pieces of this size and joins them.
MAX_STATUS_LINE = 512
BODY_PIECE = 4096

OK = b"+OK"  # RFC 1939 §3: status indicators, always upper case
ERR = b"-ERR"

_NUMBER = re.compile(r"[0-9]{1,10}")


class Verb(Enum):
    """POP3 command keywords (RFC 1939 §4-7, RFC 2449 §5, RFC 5034 §4)."""

    USER = "USER"
    PASS = "PASS"
    APOP = "APOP"
    AUTH = "AUTH"
    CAPA = "CAPA"
    STLS = "STLS"  # RFC 2595 §4
    STAT = "STAT"
    LIST = "LIST"
    RETR = "RETR"
    DELE = "DELE"
    NOOP = "NOOP"
    RSET = "RSET"
    TOP = "TOP"
    UIDL = "UIDL"
    QUIT = "QUIT"


_VERBS = {verb.value: verb for verb in Verb}


def parse_verb(word: bytes) -> Verb | None:
    """The verb named by `word`; keywords are case-insensitive (RFC 1939 §3)."""
    if not word.isascii():
        return None
    return _VERBS.get(word.decode("ascii").upper())


def printable(data: bytes | str, limit: int = 40) -> str:
    """`data` made safe to echo in a one-line reply: printable ASCII only."""
    text = data.decode("ascii", "replace") if isinstance(data, bytes) else data
    return "".join(c if " " <= c <= "~" else "?" for c in text[:limit])


def parse_number(text: str) -> int | None:
    """A non-negative decimal argument, or None when it is not one."""
    return int(text) if _NUMBER.fullmatch(text) else None


def status_of(line: bytes) -> bytes | None:
    """`OK` or `ERR` when `line` is a status line, else None (RFC 1939 §3)."""
    for status in (OK, ERR):
        if line == status or line.startswith(status + b" "):
            return status
    return None


def canonical(content: bytes) -> bytes:
    """`content` with every line ending in CRLF, as it goes on the wire."""
    return b"".join(line + CRLF for line in split_lines(content))
