"""Small helpers that turn codes into words: filling templates, reading codes.

Only the leading code of a reply (``550``, ``5.1.1``) and the verb of a
command are parsed; the free text after them is never interpreted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from simulator.narration import words
from simulator.protocols.status import ENHANCED_STATUS, leading_enhanced_status
from simulator.trace import TraceRecord
from simulator.trace_data import ProtocolLine

# RFC 5321 §4.2: a reply line is a three-digit code, then " " or "-"; an RFC
# 3463 enhanced code may follow (`leading_enhanced_status`).
_REPLY = re.compile(r"([2-5][0-9][0-9])([ -]|$)")
# RFC 5321 §4.1.2: Reverse-path / Forward-path in angle brackets (Postfix also
# accepts a bare address: strict_rfc821_envelopes = no).
_PATH = re.compile(r"(?:FROM|TO):\s*<?([^<>\s]*)>?", re.IGNORECASE)
_ANGLE = re.compile(r"<([^<>]*)>")


class _Blank(dict[str, Any]):
    """Template fields: a missing one reads "?" instead of raising."""

    def __missing__(self, key: str) -> str:
        return "?"


def fill(template: str, **fields: Any) -> str:
    """`template` with `fields` filled in; never raises on a missing field."""
    return template.format_map(_Blank(fields))


@dataclass(frozen=True, slots=True)
class ReplyCode:
    """The parsed head of an SMTP reply line."""

    code: int
    last: bool  # no "-" after the code: the reply's last line
    status: str | None  # RFC 3463 enhanced code, if present

    @property
    def cls(self) -> int:
        """The reply class, 2 to 5 (RFC 5321 §4.2.1)."""
        return self.code // 100

    @property
    def label(self) -> str:
        """The code as a student sees it: "550 5.1.1" or "354"."""
        return f"{self.code} {self.status}" if self.status else str(self.code)


def parse_reply(line: str) -> ReplyCode | None:
    """The code of an SMTP reply line, or None if it does not start with one."""
    match = _REPLY.match(line)
    if match is None:
        return None
    code, separator = int(match.group(1)), match.group(2)
    return ReplyCode(code, separator != "-", leading_enhanced_status(line[match.end():], code))


def status_meaning(status: str | None) -> str:
    """ "bad destination mailbox address" for "5.1.1", or "" if not a status code."""
    match = ENHANCED_STATUS.fullmatch(status or "")
    if match is None:
        return ""
    cls, subject, detail = match.groups()
    meaning = words.STATUS_DETAILS.get(f"{subject}.{detail}")
    if meaning is None:  # RFC 3463 §3: an unknown detail reads as its subject's "other"
        meaning = words.STATUS_DETAILS.get(f"{subject}.0", words.STATUS_CLASSES[cls])
    return meaning


def status_words(status: str | None) -> str:
    """ "5.1.1: bad destination mailbox address", or "" if not a status code."""
    meaning = status_meaning(status)
    return fill(words.STATUS_WORDS, status=status, detail=meaning) if meaning else ""


def status_detail(status: str | None) -> str:
    """ " (5.1.1: bad destination mailbox address, RFC 3463)", or "" if unknown."""
    known = status_words(status)
    return fill(words.STATUS_DETAIL, words=known) if known else ""


def code_sentence(reply: ReplyCode) -> str:
    """What a reply says by its code alone: class, meaning, enhanced code."""
    meaning = words.REPLY_CODES.get(reply.code, "")
    if not meaning:
        meaning = "the request was refused" if reply.cls == 5 else "not now"
    return fill(words.REPLY_CLASSES[reply.cls], code=reply.label, meaning=meaning,
                detail=status_detail(reply.status))


def path_of(argument: str) -> str | None:
    """The address in ``FROM:<a@b> SIZE=12`` or ``TO:<c@d>``, or None."""
    match = _PATH.match(argument)
    return match.group(1) if match else None


def address_in(value: str) -> str:
    """The address of a header value: ``Alice <a@b>`` -> ``a@b``; lower-cased."""
    match = _ANGLE.search(value)
    found = match.group(1) if match else value.strip().split(" ")[0] if value.strip() else ""
    return found.strip().lower()


def parameter(argument: str, name: str) -> str | None:
    """The value of ESMTP parameter `name` (``SIZE=328``) in a MAIL argument."""
    prefix = name.upper() + "="
    for token in argument.split()[1:]:
        if token.upper().startswith(prefix):
            return token[len(prefix):]
    return None


def verb_and_arg(line: str) -> tuple[str, str]:
    """A command line split into its upper-case verb and the rest."""
    verb, _, arg = line.strip().partition(" ")
    return verb.upper(), arg.strip()


def plural(count: object, noun: str) -> str:
    """ "1 message", "2 messages"; the noun alone with an unknown count."""
    if not isinstance(count, int):
        return f"{noun}s"
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def seconds(value: float) -> str:
    """A short duration for a sentence: "22.0 ms", "5 min", "1 h 7 min"."""
    if value < 1:
        return f"{value * 1000:.1f} ms"
    if value < 60:
        return f"{value:.1f} s"
    minutes = round(value / 60)
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    return f"{round(hours / 24)} days"


def encrypted(record: TraceRecord) -> bool:
    """Whether a protocol line went inside TLS (its session's handshake came first)."""
    payload = record.payload
    return isinstance(payload, ProtocolLine) and payload.encrypted
