"""Reading an IMAP server's responses, for the client (RFC 9051 §2.2.2, §7).

A response is one line, or -- when a line ends in "{n}" -- that line, then
exactly n octets of a literal (RFC 9051 §4.3), then the rest, which may
announce further literals.  `ResponseReader` frames responses so out of a
`LineBuffer` (lines for text, `take(n)` for literals) and `parse_response`
turns one into a `Status` (tagged or untagged OK/NO/BAD, BYE, PREAUTH, with
its response code, §7.1), a `Continuation` ("+", §7.6) or `Data` (EXISTS,
FETCH, ESEARCH, LIST... §7.2-7.5) whose values are tokens of `wire`.
Bytes that are none of these raise `ResponseError`, which the client turns
into `RemoteProtocolError`.  The helpers below read the values a client
needs out of those tokens: numbers, flag lists, message octets, FETCH
items and the sequence sets of ESEARCH and COPYUID.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from simulator.protocols.common import CRLF, LineBuffer, LineTooLong
from simulator.protocols.imap.client_events import (
    FlagsChanged,
    FolderListed,
    FolderStatus,
    HeadersFetched,
    MessageFetched,
)
from simulator.protocols.imap.wire import (
    Atom,
    ParenList,
    String,
    Token,
    WireSyntaxError,
    literal_announced,
    parse_sequence_set,
    tokenize,
)

#: Our bound on one response line from a hostile server; RFC 9051 §4 sets none.
MAX_RESPONSE_LINE = 64 * 1024
#: Our bound on one literal a server announces (a 50 MB message fits).
MAX_LITERAL = 64 * 1024 * 1024
#: Our bound on the members of one sequence set a server sends (ESEARCH, COPYUID).
MAX_SET_MEMBERS = 100_000

_TAG = re.compile(r"[!#$&'+,\-./0-9:;<=>?@A-Z^_`a-z|}~\[\]]+")  # §9 tag: ASTRING-CHAR but "+"
_CODE_NAME = re.compile(r"[!#$&'+,\-./0-9:;<=>?@A-Z^_`a-z|}~]+")  # §9 atom, "]" left out
_NUMBER = re.compile(r"[0-9]{1,10}")
#: The status words of RFC 9051 §7.1; a tagged response may only be OK, NO or BAD.
CONDITIONS = frozenset({"OK", "NO", "BAD", "BYE", "PREAUTH"})
TAGGED_CONDITIONS = frozenset({"OK", "NO", "BAD"})
#: The untagged data a client reads (§7.2-7.5), and those that follow a number.
DATA_KINDS = frozenset({
    "CAPABILITY", "ENABLED", "LIST", "NAMESPACE", "STATUS", "ESEARCH", "SEARCH", "FLAGS",
})  # fmt: skip
NUMBERED_KINDS = frozenset({"EXISTS", "EXPUNGE", "FETCH", "RECENT"})  # RECENT: rev1 servers


class ResponseError(ValueError):
    """The server's bytes are not an IMAP response; the message says why."""


@dataclass(frozen=True, slots=True)
class ResponseCode:
    """A response code in brackets (§7.1): its name and the raw text after it."""

    name: str
    args: str = ""

    def number(self) -> int:
        """The code's single number: UIDVALIDITY, UIDNEXT (§7.1)."""
        return parse_number(Atom(self.args))

    def words(self) -> list[str]:
        """The code's arguments split at spaces: CAPABILITY, APPENDUID, COPYUID."""
        return self.args.split()


@dataclass(frozen=True, slots=True)
class Status:
    """OK, NO, BAD (tagged or not), BYE or PREAUTH, with its code and text (§7.1)."""

    tag: str | None
    condition: str
    code: ResponseCode | None
    text: str


@dataclass(frozen=True, slots=True)
class Continuation:
    """A "+" request: send the literal, the next SASL step, or idle on (§7.6)."""

    text: str


@dataclass(frozen=True, slots=True)
class Data:
    """Untagged data: `kind` (EXISTS, FETCH, LIST...), its number if any, its tokens."""

    kind: str
    number: int | None
    values: list[Token]


Response = Status | Continuation | Data
FetchedEvent = MessageFetched | HeadersFetched | FlagsChanged | FolderListed | FolderStatus


class ResponseReader:
    """Frames whole responses -- lines and the literals they announce -- out of a buffer."""

    def __init__(self, lines: LineBuffer) -> None:
        self._lines = lines
        self._raw = bytearray()  # the response so far, literals inline as on the wire
        self._literal_size: int | None = None  # a literal announced and not yet read

    def next_response(self) -> Response | None:
        """The next whole response, or None until its bytes are all here.

        Raises `ResponseError` for a line too long, a literal too big, or
        bytes that are no response.
        """
        while True:
            if self._literal_size is not None:
                literal = self._lines.take(self._literal_size)
                if literal is None:
                    return None
                self._raw += literal
                self._literal_size = None
            line = self._lines.next_framed()
            if line is None:
                return None
            if isinstance(line, LineTooLong):
                raise ResponseError(f"response line too long ({line.length} octets)")
            self._raw += line.content
            announced = literal_announced(line.content)
            if announced is None:
                raw = bytes(self._raw)
                self._raw.clear()
                return parse_response(raw)
            if announced.size > MAX_LITERAL:
                raise ResponseError(f"literal of {announced.size} octets is too big")
            self._raw += CRLF
            self._literal_size = announced.size


def parse_response(raw: bytes) -> Response:
    """One whole response, literals inline, without its final CRLF."""
    head, _, rest = raw.partition(b" ")
    tag = head.decode("ascii", "replace")
    if tag == "+":
        return Continuation(rest.decode("utf-8", "replace"))
    if tag != "*" and not _TAG.fullmatch(tag):
        raise ResponseError(f"no tag, '*' or '+' at the start of {_shown(raw)}")
    word, _, after = rest.partition(b" ")
    upper = word.decode("ascii", "replace").upper()
    if upper in CONDITIONS:
        if CRLF in after or (tag != "*" and upper not in TAGGED_CONDITIONS):
            raise ResponseError(f"malformed status response {_shown(raw)}")
        code, text = _response_text(after.decode("utf-8", "replace"))
        return Status(None if tag == "*" else tag, upper, code, text)
    if tag != "*":
        raise ResponseError(f"tagged response without OK, NO or BAD: {_shown(raw)}")
    number: int | None = None
    if _NUMBER.fullmatch(upper):
        number = int(upper)
        word, _, after = after.partition(b" ")
        upper = word.decode("ascii", "replace").upper()
        if upper not in NUMBERED_KINDS:
            raise ResponseError(f"unknown numbered data {upper[:30]!r}")
    elif upper not in DATA_KINDS:
        raise ResponseError(f"unknown untagged data {upper[:30]!r}")
    try:
        return Data(upper, number, tokenize(after))
    except WireSyntaxError as error:
        raise ResponseError(f"{error} in {_shown(raw)}") from None


def _shown(raw: bytes) -> str:
    return repr(raw[:60].decode("utf-8", "replace"))


def _response_text(text: str) -> tuple[ResponseCode | None, str]:
    """Split resp-text into its bracketed code, if any, and the human text (§7.1)."""
    if not text.startswith("["):
        return None, text
    end = text.find("]")
    if end < 0:
        raise ResponseError(f"unterminated response code in {text[:60]!r}")
    name, _, args = text[1:end].partition(" ")
    if not _CODE_NAME.fullmatch(name):
        raise ResponseError(f"bad response code {name[:30]!r}")
    return ResponseCode(name.upper(), args), text[end + 1 :].lstrip(" ")


# ---- reading values ----


def parse_number(token: Token) -> int:
    """A number (§9 number: unsigned 32-bit) or `ResponseError`."""
    if not isinstance(token, Atom) or not _NUMBER.fullmatch(token.value):
        raise ResponseError(f"not a number: {str(token)[:40]}")
    return int(token.value)


def parse_uid_set(text: str) -> list[int]:
    """The members of a sequence set a server sent ("3:5,9"; §9, never "*")."""
    parsed = parse_sequence_set(text)
    if parsed is None:
        raise ResponseError(f"bad sequence set {text[:30]!r}")
    members: list[int] = []
    for low, high in parsed.ranges:
        if low is None or high is None:
            raise ResponseError("'*' in a sequence set from the server")
        first, last = min(low, high), max(low, high)  # §9: "4:2" is "2:4"
        if len(members) + last - first >= MAX_SET_MEMBERS:
            raise ResponseError("sequence set too large")
        members.extend(range(first, last + 1))
    return members


def text_of(token: Token) -> str:
    """An atom or a string as text (a mailbox name, a capability)."""
    if isinstance(token, Atom):
        return token.value
    if isinstance(token, String):
        return token.text()
    raise ResponseError("atom or string expected, not a list")


def items_of(token: Token) -> tuple[Token, ...]:
    """The items of a parenthesised list."""
    if not isinstance(token, ParenList):
        raise ResponseError("parenthesised list expected")
    return token.items


def flag_list(token: Token) -> tuple[str, ...]:
    """A parenthesised list of flags (§2.3.2) as a tuple of their names."""
    flags = items_of(token)
    if not all(isinstance(flag, Atom) for flag in flags):
        raise ResponseError("flag list expected")
    return tuple(text_of(flag) for flag in flags)


def octets(token: Token) -> bytes:
    """A message section: a literal, a quoted string, or NIL for nothing (§7.5.2)."""
    if isinstance(token, String):
        return token.value
    if isinstance(token, Atom) and token.upper() == "NIL":
        return b""
    raise ResponseError("message data expected")


def fetch_items(values: list[Token]) -> dict[str, Token]:
    """The data items of one FETCH response, by upper-case name (§7.5.2)."""
    if len(values) != 1:
        raise ResponseError("FETCH data is not one list")
    pairs = items_of(values[0])
    if len(pairs) % 2:
        raise ResponseError("FETCH data is not a list of name-value pairs")
    items: dict[str, Token] = {}
    for name, value in zip(pairs[::2], pairs[1::2], strict=True):
        if not isinstance(name, Atom):
            raise ResponseError("FETCH item name expected")
        items[name.upper()] = value
    return items


def search_uids(data: Data) -> list[int]:
    """The UIDs of a SEARCH (RFC 3501 §7.2.5) or ESEARCH ALL (§7.3.4) response."""
    if data.kind == "SEARCH":
        return [parse_number(token) for token in data.values]
    values = list(data.values)
    if values and isinstance(values[0], ParenList):
        values.pop(0)  # the correlator, (TAG "A0005")
    if values and isinstance(values[0], Atom) and values[0].upper() == "UID":
        values.pop(0)  # the results are UIDs
    uids: list[int] = []
    for name, value in zip(values[::2], values[1::2], strict=False):
        if isinstance(name, Atom) and name.upper() == "ALL":
            uids = parse_uid_set(text_of(value))
    return uids


# ---- untagged data the client reports as it comes ----


def fetched(data: Data) -> MessageFetched | HeadersFetched | FlagsChanged | None:
    """One FETCH response (§7.5.2): a whole message, a header, or changed flags."""
    items = fetch_items(data.values)
    uid = parse_number(items["UID"]) if "UID" in items else None
    flags = flag_list(items["FLAGS"]) if "FLAGS" in items else None
    body = items.get("BODY[]", items.get("BODY[HEADER]"))
    if body is not None and uid is None:
        raise ResponseError("FETCH with message data but no UID (§6.4.9)")
    if "BODY[]" in items and uid is not None:
        return MessageFetched(uid, octets(items["BODY[]"]), flags)
    if body is not None and uid is not None:
        size = parse_number(items["RFC822.SIZE"]) if "RFC822.SIZE" in items else None
        return HeadersFetched(uid, flags, size, octets(body))
    return None if flags is None else FlagsChanged(data.number or 0, uid, flags)


def folder_listed(data: Data) -> FolderListed:
    """One LIST response (§7.3.1): attributes, delimiter (or NIL), name."""
    if len(data.values) != 3:
        raise ResponseError("malformed LIST response")
    attributes, delimiter, name = data.values
    separator = None if delimiter == Atom("NIL") else text_of(delimiter)
    return FolderListed(text_of(name), flag_list(attributes), separator)


def folder_status(data: Data) -> FolderStatus:
    """One STATUS response (§7.3.3): the folder, then (item number ...)."""
    if len(data.values) != 2:
        raise ResponseError("malformed STATUS response")
    pairs = items_of(data.values[1])
    if len(pairs) % 2:
        raise ResponseError("STATUS items are not name-value pairs")
    numbers = tuple((text_of(k).upper(), parse_number(v)) for k, v in zip(
        pairs[::2], pairs[1::2], strict=True))  # fmt: skip
    return FolderStatus(text_of(data.values[0]), numbers)


#: How the client reads the untagged data it reports as events.
DATA_READERS: dict[str, Callable[[Data], FetchedEvent | None]] = {
    "FETCH": fetched, "LIST": folder_listed, "STATUS": folder_status,
}
