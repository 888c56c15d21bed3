"""SEARCH: search keys as predicates, and the two ways to answer (RFC 9051 §6.4.4).

`parse_search` turns the command's tokens into a `SearchRequest`: the
RETURN options (RFC 9051 §6.4.4, ESEARCH) and one predicate that is the AND
of the keys.  Text keys match case-insensitively as substrings; dates
compare whole days, the internal date for BEFORE/ON/SINCE and the Date
header for SENT* (RFC 9051 §6.4.4).  The answer is ``* ESEARCH`` when the
client asked with RETURN or has enabled IMAP4rev2 (§7.3.4), else the
IMAP4rev1 ``* SEARCH`` response clients like imaplib still expect.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from email.utils import parsedate_to_datetime

from simulator.protocols.imap import mime
from simulator.protocols.imap.store import ImapMessage
from simulator.protocols.imap.wire import (
    Atom,
    ParenList,
    String,
    Token,
    format_sequence_set,
    parse_date,
    parse_sequence_set,
    quoted,
)

_FLAG_KEYS = {"ANSWERED": "\\Answered", "DELETED": "\\Deleted", "DRAFT": "\\Draft",
              "FLAGGED": "\\Flagged", "SEEN": "\\Seen"}
_HEADER_KEYS = ("BCC", "CC", "FROM", "SUBJECT", "TO")
_DATE_KEYS = ("BEFORE", "ON", "SINCE", "SENTBEFORE", "SENTON", "SENTSINCE")
RETURN_OPTIONS = ("MIN", "MAX", "ALL", "COUNT")
CHARSETS = ("UTF-8", "US-ASCII")


class SearchSyntaxError(ValueError):
    """The search keys are not well-formed; the text is the reason."""


class UnknownCharset(ValueError):
    """CHARSET named something other than UTF-8 or US-ASCII."""


@dataclass(frozen=True)
class Candidate:
    """One message as SEARCH sees it: number, UID, the largest of each."""

    number: int
    message: ImapMessage
    largest_number: int
    largest_uid: int
    epoch: datetime

    def header(self, name: str) -> str:
        """The named header field's value, or ""."""
        header, _ = mime.split_header(self.message.content)
        return mime.field_value(header, name) or ""


Predicate = Callable[[Candidate], bool]


@dataclass(frozen=True)
class SearchRequest:
    """A parsed SEARCH: what to return (None: no RETURN given) and what to match."""

    returns: tuple[str, ...] | None
    matches: Predicate


def parse_search(tokens: list[Token]) -> SearchRequest:
    """RETURN options, CHARSET and the keys of a SEARCH command."""
    keys = list(tokens)
    returns = None
    if keys and isinstance(keys[0], Atom) and keys[0].upper() == "RETURN":
        if len(keys) < 2 or not isinstance(keys[1], ParenList):
            raise SearchSyntaxError("Invalid search return options")
        returns = tuple(_word(item) for item in keys[1].items) or ("ALL",)
        if any(option not in RETURN_OPTIONS for option in returns):
            raise SearchSyntaxError("Unknown search return option")
        keys = keys[2:]
    if keys and isinstance(keys[0], Atom) and keys[0].upper() == "CHARSET":
        if len(keys) < 2 or _word(keys[1]) not in CHARSETS:
            raise UnknownCharset()
        keys = keys[2:]
    if not keys:
        raise SearchSyntaxError("Missing search parameters")
    stream = iter(keys)
    predicates = [_key(token, stream) for token in stream]
    return SearchRequest(returns, lambda c: all(p(c) for p in predicates))


def _word(token: Token) -> str:
    if isinstance(token, Atom):
        return token.upper()
    if isinstance(token, String):
        return token.text().upper()
    raise SearchSyntaxError("Invalid search parameters")


def _text(stream: Iterator[Token]) -> str:
    token = next(stream, None)
    if isinstance(token, Atom):
        return token.value
    if isinstance(token, String):
        return token.text()
    raise SearchSyntaxError("Missing search parameters")


def _key(token: Token, stream: Iterator[Token]) -> Predicate:
    """One search key, taking its arguments from `stream`."""
    if isinstance(token, ParenList):
        inner = iter(token.items)
        parts = [_key(item, inner) for item in inner]
        if not parts:
            raise SearchSyntaxError("Empty search list")
        return lambda c: all(p(c) for p in parts)
    if not isinstance(token, Atom):
        raise SearchSyntaxError("Invalid search parameters")
    name = token.upper()
    if name in _FLAG_KEYS:
        flag = _FLAG_KEYS[name]
        return lambda c: flag in c.message.flags
    if name.startswith("UN") and name[2:] in _FLAG_KEYS:
        flag = _FLAG_KEYS[name[2:]]
        return lambda c: flag not in c.message.flags
    simple = _simple_key(name, stream)
    if simple is not None:
        return simple
    sequence = parse_sequence_set(token.value)
    if sequence is not None:
        return lambda c: sequence.contains(c.number, c.largest_number)
    raise SearchSyntaxError(f"Unknown argument {name}")


def _simple_key(name: str, stream: Iterator[Token]) -> Predicate | None:
    if name in ("ALL", "OLD"):
        return lambda c: True
    if name in ("NEW", "RECENT"):  # IMAP4rev2 has no \Recent (RFC 9051 Appendix E)
        return lambda c: False
    if name in ("KEYWORD", "UNKEYWORD"):
        keyword, present = _text(stream), name == "KEYWORD"
        return lambda c: (keyword in c.message.flags) == present
    if name in _HEADER_KEYS:
        return _contains(name, _text(stream))
    if name == "HEADER":
        return _contains(_text(stream), _text(stream))
    if name in ("BODY", "TEXT"):
        needle = _text(stream).lower().encode("utf-8")
        whole = name == "TEXT"
        return lambda c: needle in _searchable(c.message.content, whole)
    if name in _DATE_KEYS:
        return _date_key(name, _text(stream))
    if name in ("LARGER", "SMALLER"):
        size, larger = _number(_text(stream)), name == "LARGER"
        return lambda c: c.message.size > size if larger else c.message.size < size
    if name == "UID":
        uids = parse_sequence_set(_text(stream))
        if uids is None:
            raise SearchSyntaxError("Invalid uidset")
        return lambda c: uids.contains(c.message.uid, c.largest_uid)
    if name == "NOT":
        inner = _key(_next(stream), stream)
        return lambda c: not inner(c)
    if name == "OR":
        left = _key(_next(stream), stream)
        right = _key(_next(stream), stream)
        return lambda c: left(c) or right(c)
    return None


def _next(stream: Iterator[Token]) -> Token:
    token = next(stream, None)
    if token is None:
        raise SearchSyntaxError("Missing search parameters")
    return token


def _number(text: str) -> int:
    if not text.isascii() or not text.isdigit():
        raise SearchSyntaxError("Invalid size")
    return int(text)


def _contains(field: str, needle: str) -> Predicate:
    wanted = needle.lower()
    return lambda c: wanted in c.header(field).lower()


def _searchable(content: bytes, whole: bool) -> bytes:
    header, body = mime.split_header(content)
    return (header + body if whole else body).lower()


def _date_key(name: str, text: str) -> Predicate:
    day = parse_date(text)
    if day is None:
        raise SearchSyntaxError("Invalid search date parameter")
    wanted = day.date()
    sent = name.startswith("SENT")
    test = name.removeprefix("SENT")

    def matches(c: Candidate) -> bool:
        """Whether the message's date (INTERNALDATE, or Date: for SENT*) passes the test."""
        when = _sent_date(c) if sent else (c.epoch + timedelta(seconds=c.message.internal_date))
        if when is None:
            return False
        found = when.date() if isinstance(when, datetime) else when
        if test == "BEFORE":
            return found < wanted
        if test == "ON":
            return found == wanted
        return found >= wanted

    return matches


def _sent_date(c: Candidate) -> date | None:
    try:
        return parsedate_to_datetime(c.header("Date")).date()
    except (TypeError, ValueError, IndexError):
        return None


def search_response(tag: str, found: list[int], returns: tuple[str, ...] | None,
                    esearch: bool, by_uid: bool) -> bytes:
    """``* ESEARCH (TAG "t") ...`` (RFC 9051 §7.3.4) or ``* SEARCH ...`` (rev1)."""
    if returns is None and not esearch:
        return b"* SEARCH" + b"".join(b" %d" % n for n in found) + b"\r\n"
    line = b"* ESEARCH (TAG " + quoted(tag) + b")" + (b" UID" if by_uid else b"")
    for option in returns or ("ALL",):
        if option == "COUNT":
            line += b" COUNT %d" % len(found)
        elif found and option == "MIN":
            line += b" MIN %d" % min(found)
        elif found and option == "MAX":
            line += b" MAX %d" % max(found)
        elif found and option == "ALL":
            line += b" ALL " + format_sequence_set(sorted(found)).encode("ascii")
    return line + b"\r\n"
