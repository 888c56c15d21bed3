"""IMAP wire format (RFC 9051 §4, §9), shared by the server and the client.

Public names:

- `Atom`, `String`, `ParenList`, `Token`: what `tokenize` hands out;
  an atom keeps its text (flags such as ``\\Seen`` and fetch items such as
  ``BODY.PEEK[HEADER.FIELDS (From)]`` are atoms here), a string its octets
  and whether it came as a literal.
- `tokenize(data)`: the tokens of one command or response *as received*,
  literals included (``{n}`` / ``{n+}`` CRLF then n octets, RFC 9051 §4.3,
  RFC 7888); raises `WireSyntaxError`.
- `literal_announced(line)`: the literal a line ends with, as a `LiteralSize`,
  or None -- how a reader knows to take n octets before the line goes on.
- `SequenceSet`, `parse_sequence_set(text)`, `format_sequence_set(numbers)`:
  ``1,3:5,7:*`` (RFC 9051 §9 ``sequence-set``), both ways.
- `quoted(text)`, `literal(data)`, `astring(text)`, `nstring(value)`,
  `string(value)`: the ways a value goes on the wire; `printable(data)` for
  echoing client input safely in a response text.
- `parse_date(text)`, `parse_date_time(text)`, `format_date_time(when)`:
  ``1-Feb-1994`` (SEARCH) and ``"17-Jul-1996 02:44:25 -0700"``
  (INTERNALDATE, APPEND).
- `MAX_LITERAL_SIZE`: the largest octet count a literal may announce
  (RFC 9051 §9 ``number``: unsigned 32-bit).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone

CRLF = b"\r\n"
#: RFC 9051 §9 `number`: an unsigned 32-bit integer.
MAX_NUMBER = 4_294_967_295
MAX_LITERAL_SIZE = MAX_NUMBER
#: RFC 9051 §9 `nz-number`, also how far a sequence number or UID may go.
MAX_NZ_NUMBER = MAX_NUMBER

# RFC 9051 §9: atom-specials are ( ) { SP CTL list-wildcards quoted-specials
# resp-specials.  We read atoms liberally (as Dovecot does): an atom runs to
# SP, "(", ")" or the end; brackets inside it may hold spaces and lists.
_ATOM_END = frozenset(b" ()\r\n")
_ATOM_CHARS = re.compile(rb"[^\x00-\x20\x7f-\xff(){%*\"\\\]]+")
_LITERAL_AT_END = re.compile(rb"\{([0-9]{1,10})(\+?)\}\Z")
_LITERAL_START = re.compile(rb"\{([0-9]{1,10})\+?\}\r\n")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun",
           "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_DATE = re.compile(r"([0-9]{1,2})-([A-Za-z]{3})-([0-9]{4})")
_DATE_TIME = re.compile(
    r"([ 0-9][0-9])-([A-Za-z]{3})-([0-9]{4})"
    r" ([0-9]{2}):([0-9]{2}):([0-9]{2}) ([+-])([0-9]{2})([0-9]{2})"
)


class WireSyntaxError(ValueError):
    """The octets are not well-formed IMAP; the text says where."""


@dataclass(frozen=True, slots=True)
class Atom:
    """An atom (RFC 9051 §4.1), NIL and numbers included; compare `.upper()`."""

    value: str

    def upper(self) -> str:
        """The atom in upper case: IMAP keywords are case-insensitive."""
        return self.value.upper()


@dataclass(frozen=True, slots=True)
class String:
    """A quoted string or a literal (RFC 9051 §4.3); `value` is its octets."""

    value: bytes
    literal: bool = False

    def text(self) -> str:
        """The octets as UTF-8 text (RFC 9051 §4.3: strings may be UTF-8)."""
        return self.value.decode("utf-8", "replace")


@dataclass(frozen=True, slots=True)
class ParenList:
    """A parenthesised list (RFC 9051 §4.4)."""

    items: tuple[Token, ...]


Token = Atom | String | ParenList


@dataclass(frozen=True, slots=True)
class LiteralSize:
    """A literal announced at the end of a line: its size, and whether it is
    non-synchronizing (``{n+}``, RFC 7888: the sender does not wait for "+")."""

    size: int
    non_synchronizing: bool


def literal_announced(line: bytes) -> LiteralSize | None:
    """The literal that `line` (without its CRLF) announces at its end, or None."""
    match = _LITERAL_AT_END.search(line)
    if match is None:
        return None
    return LiteralSize(int(match.group(1)), match.group(2) == b"+")


def tokenize(data: bytes) -> list[Token]:
    """The tokens of `data`, one command or response without its final CRLF.

    Literals appear inline, as on the wire: ``{5}`` CRLF and five octets.
    Tokens are separated by single spaces (RFC 9051 §9); extra ones are
    forgiven.  Raises `WireSyntaxError` for anything else.
    """
    return _Reader(data).sequence(closing=None)


class _Reader:
    """A cursor over one command's octets."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.at = 0

    def sequence(self, closing: int | None) -> list[Token]:
        """Tokens up to `closing` (")" of a list) or, if None, to the end."""
        tokens: list[Token] = []
        while True:
            while self.at < len(self.data) and self.data[self.at] == 0x20:
                self.at += 1
            if self.at >= len(self.data):
                if closing is not None:
                    raise WireSyntaxError("Missing ')'")
                return tokens
            char = self.data[self.at]
            if char == closing:
                self.at += 1
                return tokens
            tokens.append(self.token(char))

    def token(self, char: int) -> Token:
        """The token that starts with `char`: a list, quoted string, literal or atom."""
        if char == ord("("):
            self.at += 1
            return ParenList(tuple(self.sequence(closing=ord(")"))))
        if char == ord(")"):
            raise WireSyntaxError("Unexpected ')'")
        if char == ord('"'):
            return self.quoted()
        if char == ord("{"):
            return self.literal()
        return self.atom()

    def quoted(self) -> String:
        """A quoted string, its escapes undone (RFC 9051 §4.3)."""
        out = bytearray()
        self.at += 1
        while self.at < len(self.data):
            char = self.data[self.at]
            self.at += 1
            if char == ord('"'):
                return String(bytes(out))
            if char == ord("\\"):  # RFC 9051 §9 quoted-specials: \" and \\ only
                if self.at >= len(self.data) or self.data[self.at] not in b'"\\':
                    raise WireSyntaxError("Invalid escape in quoted string")
                char = self.data[self.at]
                self.at += 1
            elif char in (0x0D, 0x0A, 0x00):
                raise WireSyntaxError("Invalid characters in quoted string")
            out.append(char)
        raise WireSyntaxError("Missing '\"'")

    def literal(self) -> String:
        """A literal: ``{n}`` or ``{n+}``, CRLF, then n octets (RFC 9051 §4.3, RFC 7888)."""
        match = _LITERAL_START.match(self.data, self.at)
        if match is None:
            raise WireSyntaxError("Invalid literal size")
        size = int(match.group(1))
        start = match.end()
        if size > MAX_LITERAL_SIZE or start + size > len(self.data):
            raise WireSyntaxError("Literal ends too early")
        self.at = start + size
        return String(self.data[start:self.at], literal=True)

    def atom(self) -> Atom:
        """An atom, read as Dovecot reads it: brackets may hold spaces and lists."""
        start, depth = self.at, 0
        while self.at < len(self.data):
            char = self.data[self.at]
            if char == ord("["):
                depth += 1
            elif char == ord("]") and depth:
                depth -= 1
            elif depth == 0 and char in _ATOM_END:
                break
            elif char < 0x20 or char == 0x7F:
                raise WireSyntaxError("Invalid characters in atom")
            self.at += 1
        if depth:
            raise WireSyntaxError("Missing ']'")
        raw = self.data[start:self.at]
        if not raw or b'"' in raw or b"{" in raw:
            raise WireSyntaxError("Invalid characters in atom")
        return Atom(raw.decode("utf-8", "replace"))


# ---- sequence sets (RFC 9051 §9 sequence-set; "*" is the largest in use) ----


@dataclass(frozen=True, slots=True)
class SequenceSet:
    """A set of message numbers or UIDs as ranges; None stands for ``*``."""

    ranges: tuple[tuple[int | None, int | None], ...]

    def contains(self, number: int, largest: int) -> bool:
        """Whether `number` is in the set when ``*`` means `largest`."""
        for low, high in self.ranges:
            a = largest if low is None else low
            b = largest if high is None else high
            if min(a, b) <= number <= max(a, b):  # RFC 9051 §9: 4:2 is 2:4
                return True
        return False

    def select(self, candidates: Iterable[int], largest: int) -> list[int]:
        """The candidates that are in the set, in their own order."""
        return [n for n in candidates if self.contains(n, largest)]

    def highest(self, largest: int) -> int:
        """The highest number the set names (for checking sequence numbers)."""
        return max(largest if n is None else n for pair in self.ranges for n in pair)


def parse_sequence_set(text: str) -> SequenceSet | None:
    """``1,3:5,7:*`` as a `SequenceSet`, or None when it is not one."""
    ranges: list[tuple[int | None, int | None]] = []
    for part in text.split(","):
        low_text, colon, high_text = part.partition(":")
        low = _seq_number(low_text)
        high = _seq_number(high_text) if colon else low
        if low == 0 or high == 0:
            return None
        ranges.append((low, high))
    return SequenceSet(tuple(ranges))


def _seq_number(text: str) -> int | None:
    """One seq-number: ``*`` (None), a non-zero number, or 0 meaning invalid."""
    if text == "*":
        return None
    if not text.isascii() or not text.isdigit() or text.startswith("0"):
        return 0
    number = int(text)
    return number if number <= MAX_NZ_NUMBER else 0


def format_sequence_set(numbers: Iterable[int]) -> str:
    """Numbers written as short ranges in their given order: ``1:3,7,9:10``."""
    parts: list[str] = []
    run: list[int] = []
    for number in numbers:
        if run and number == run[-1] + 1:
            run.append(number)
            continue
        if run:
            parts.append(_run(run))
        run = [number]
    if run:
        parts.append(_run(run))
    return ",".join(parts)


def _run(run: list[int]) -> str:
    return str(run[0]) if len(run) == 1 else f"{run[0]}:{run[-1]}"


# ---- values on the wire ----


def quoted(text: str | bytes) -> bytes:
    """A quoted string (RFC 9051 §4.3); the caller checks it has no CR/LF/NUL."""
    raw = text.encode("utf-8") if isinstance(text, str) else text
    return b'"' + raw.replace(b"\\", b"\\\\").replace(b'"', b'\\"') + b'"'


def literal(data: bytes, non_synchronizing: bool = False) -> bytes:
    """A literal: ``{n}`` CRLF then the octets (``{n+}`` for LITERAL+, RFC 7888)."""
    plus = b"+" if non_synchronizing else b""
    return b"{%d%s}\r\n" % (len(data), plus) + data


def string(value: str | bytes) -> bytes:
    """A quoted string when it can be one, else a literal (RFC 9051 §4.3)."""
    raw = value.encode("utf-8") if isinstance(value, str) else value
    if any(c in raw for c in b"\r\n\x00") or len(raw) > 1000:
        return literal(raw)
    return quoted(raw)


def astring(text: str) -> bytes:
    """An atom when `text` is one (not NIL), else a string (RFC 9051 §9 astring)."""
    raw = text.encode("utf-8")
    if _ATOM_CHARS.fullmatch(raw) and raw.upper() != b"NIL":
        return raw
    return string(raw)


def nstring(value: str | bytes | None) -> bytes:
    """NIL for None, else a string (RFC 9051 §9 nstring)."""
    return b"NIL" if value is None else string(value)


def printable(data: bytes | str, limit: int = 40) -> str:
    """Client input made safe to echo in a response text: printable ASCII only."""
    text = data.decode("ascii", "replace") if isinstance(data, bytes) else data
    return "".join(c if " " <= c <= "~" else "?" for c in text[:limit])


# ---- dates (RFC 9051 §9 date, date-time) ----


def parse_date(text: str) -> datetime | None:
    """``1-Feb-1994`` (SEARCH SINCE/BEFORE/ON) as midnight UTC, or None."""
    match = _DATE.fullmatch(text)
    if match is None:
        return None
    return _build(match.group(3), match.group(2), match.group(1))


def parse_date_time(text: str) -> datetime | None:
    """``17-Jul-1996 02:44:25 -0700`` (APPEND's date-time), or None."""
    match = _DATE_TIME.fullmatch(text)
    if match is None:
        return None
    day, month, year, hh, mm, ss, sign, zh, zm = match.groups()
    date = _build(year, month, day.strip())
    if date is None or int(hh) > 23 or int(mm) > 59 or int(ss) > 60:
        return None
    offset = timedelta(hours=int(zh), minutes=int(zm)) * (-1 if sign == "-" else 1)
    when = date.replace(hour=int(hh), minute=int(mm), second=min(int(ss), 59))
    return when.replace(tzinfo=timezone(offset))


def _build(year: str, month: str, day: str) -> datetime | None:
    names = [name.upper() for name in _MONTHS]
    if month.upper() not in names:
        return None
    try:
        return datetime(int(year), names.index(month.upper()) + 1, int(day), tzinfo=UTC)
    except ValueError:
        return None


def format_date_time(when: datetime) -> bytes:
    """INTERNALDATE as sent: ``"02-Mar-2026 09:00:00 +0000"`` (RFC 9051 §9)."""
    offset = when.utcoffset() or timedelta(0)
    minutes = int(offset.total_seconds()) // 60
    sign = "-" if minutes < 0 else "+"
    zone = f"{sign}{abs(minutes) // 60:02d}{abs(minutes) % 60:02d}"
    month = _MONTHS[when.month - 1]
    return f'"{when.day:02d}-{month}-{when.year:04d} {when:%H:%M:%S} {zone}"'.encode("ascii")
