"""FETCH: which data items a client asked for, and how each goes on the wire.

RFC 9051 §6.4.5 (items and macros), §7.5.2 (the FETCH response).  Body
sections always go out as literals, as Dovecot sends them; ENVELOPE and
BODYSTRUCTURE are built from the message with `mime`.  Reading a body
section without ``.PEEK`` sets ``\\Seen`` (the server does that, told by
`FetchItem.sets_seen`).  The RFC 822 items of IMAP4rev1 are still served for
old clients (RFC 9051 Appendix E).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cached_property

from simulator.protocols.imap import mime
from simulator.protocols.imap.store import ImapMessage
from simulator.protocols.imap.view import flag_list
from simulator.protocols.imap.wire import (
    Atom,
    ParenList,
    Token,
    format_date_time,
    literal,
    nstring,
    quoted,
)

#: RFC 9051 §6.4.5 macros.
MACROS = {
    "ALL": ("FLAGS", "INTERNALDATE", "RFC822.SIZE", "ENVELOPE"),
    "FAST": ("FLAGS", "INTERNALDATE", "RFC822.SIZE"),
    "FULL": ("FLAGS", "INTERNALDATE", "RFC822.SIZE", "ENVELOPE", "BODY"),
}
_SIMPLE = frozenset({"UID", "FLAGS", "INTERNALDATE", "RFC822.SIZE", "ENVELOPE", "BODY",
                     "BODYSTRUCTURE", "RFC822", "RFC822.HEADER", "RFC822.TEXT"})
_SECTION = re.compile(r"(BODY|BODY\.PEEK)\[([^\]]*)\](?:<([0-9]{1,10})\.([0-9]{1,10})>)?\Z",
                      re.IGNORECASE)
_PART = re.compile(r"([1-9][0-9]*(?:\.[1-9][0-9]*)*)(?:\.(.*))?\Z", re.DOTALL)
_FIELDS = re.compile(r"(HEADER\.FIELDS(?:\.NOT)?) \((.*)\)\Z", re.IGNORECASE | re.DOTALL)


class FetchSyntaxError(ValueError):
    """The fetch items are not well-formed; the text is Dovecot's reason."""


@dataclass(frozen=True)
class FetchItem:
    """One data item: a simple name, or a body section with its details."""

    name: str  # UID, FLAGS, ... or SECTION for BODY[...] / BODY.PEEK[...]
    part: tuple[int, ...] = ()
    text: str = ""  # "", HEADER, TEXT, MIME, HEADER.FIELDS, HEADER.FIELDS.NOT
    fields: tuple[str, ...] = ()
    partial: tuple[int, int] | None = None
    peek: bool = False

    @property
    def sets_seen(self) -> bool:
        """RFC 9051 §6.4.5: BODY[...] and the RFC 822 body items set ``\\Seen``."""
        if self.name == "SECTION":
            return not self.peek
        return self.name in ("RFC822", "RFC822.TEXT")

    @property
    def reads_body(self) -> bool:
        """Whether the item sends the message's text, not only its header."""
        if self.name == "SECTION":
            return self.text not in ("HEADER", "HEADER.FIELDS", "HEADER.FIELDS.NOT", "MIME")
        return self.name in ("RFC822", "RFC822.TEXT")

    def label(self) -> str:
        """The item's name in the response (RFC 9051 §7.5.2; no .PEEK)."""
        if self.name != "SECTION":
            return self.name
        spec = ".".join(str(n) for n in self.part)
        if self.text:
            spec = f"{spec}.{self.text}" if spec else self.text
        if self.fields:
            spec += " (" + " ".join(self.fields) + ")"
        origin = f"<{self.partial[0]}>" if self.partial else ""
        return f"BODY[{spec}]{origin}"


def parse_items(tokens: list[Token]) -> list[FetchItem]:
    """The items of a FETCH: one atom, a macro, or a list of atoms."""
    if len(tokens) != 1:
        raise FetchSyntaxError("Invalid arguments.")
    token = tokens[0]
    if isinstance(token, Atom) and token.upper() in MACROS:
        return [FetchItem(name) for name in MACROS[token.upper()]]
    atoms = token.items if isinstance(token, ParenList) else (token,)
    if not atoms:
        raise FetchSyntaxError("Invalid arguments.")
    return [_item(atom) for atom in atoms]


def _item(token: Token) -> FetchItem:
    if not isinstance(token, Atom):
        raise FetchSyntaxError("Invalid arguments.")
    upper = token.upper()
    if upper in _SIMPLE:
        return FetchItem(upper)
    match = _SECTION.match(token.value)
    if match is None:
        raise FetchSyntaxError(f"Unknown parameter {upper}")
    part, text, fields = _section(match.group(2))
    partial = None
    if match.group(3) is not None:
        count = int(match.group(4))
        if count == 0:
            raise FetchSyntaxError("Invalid partial")
        partial = (int(match.group(3)), count)
    peek = match.group(1).upper() == "BODY.PEEK"
    return FetchItem("SECTION", part, text, fields, partial, peek)


def _section(spec: str) -> tuple[tuple[int, ...], str, tuple[str, ...]]:
    part: tuple[int, ...] = ()
    rest = spec
    match = _PART.match(spec)
    if match:
        part = tuple(int(n) for n in match.group(1).split("."))
        rest = match.group(2) or ""
    fields_match = _FIELDS.match(rest)
    if fields_match:
        names = tuple(fields_match.group(2).split())
        if not names:
            raise FetchSyntaxError("Invalid section")
        return part, fields_match.group(1).upper(), names
    text = rest.upper()
    if text not in ("", "HEADER", "TEXT") and not (text == "MIME" and part):
        raise FetchSyntaxError("Invalid section")
    return part, text, ()


# ---- rendering ----


class Fetched:
    """One message being fetched; its MIME structure is parsed only if asked for."""

    def __init__(self, message: ImapMessage, epoch: datetime) -> None:
        self.message = message
        self.epoch = epoch

    @cached_property
    def parsed(self) -> mime.Part:
        """The message split into header, body and parts."""
        return mime.parse(self.message.content)


def render(item: FetchItem, fetched: Fetched) -> bytes:
    """`label value` for one item of one message."""
    name, message = item.name, fetched.message
    if name == "UID":
        value = b"%d" % message.uid
    elif name == "FLAGS":
        value = flag_list(message.flags)
    elif name == "INTERNALDATE":
        value = format_date_time(fetched.epoch + timedelta(seconds=message.internal_date))
    elif name == "RFC822.SIZE":
        value = b"%d" % message.size
    elif name == "ENVELOPE":
        value = envelope(fetched.parsed)
    elif name in ("BODY", "BODYSTRUCTURE"):
        value = body_structure(fetched.parsed)
    elif name == "RFC822":
        value = literal(message.content)
    elif name == "RFC822.HEADER":
        value = literal(fetched.parsed.header)
    elif name == "RFC822.TEXT":
        value = literal(fetched.parsed.body)
    else:
        value = literal(section_data(item, fetched.parsed))
    return item.label().encode("utf-8") + b" " + value


def section_data(item: FetchItem, parsed: mime.Part) -> bytes:
    """The octets of a BODY[...] section, cut to its partial range."""
    entity = _locate(parsed, item.part)
    if entity is None:
        data = b""
    elif item.text == "HEADER" or item.text == "MIME":
        data = entity.header
    elif item.text == "TEXT":
        data = entity.body
    elif item.text.startswith("HEADER.FIELDS"):
        wanted = {name.lower() for name in item.fields}
        keep = item.text == "HEADER.FIELDS"
        chosen = [raw for name, raw in mime.header_fields(entity.header)
                  if (name in wanted) == keep]
        data = b"".join(chosen) + b"\r\n"
    elif item.part:
        data = entity.body
    else:
        data = entity.header + entity.body
    if item.partial:
        start, count = item.partial
        data = data[start:start + count]
    return data


def _locate(parsed: mime.Part, path: tuple[int, ...]) -> mime.Part | None:
    """The part a section number names; part 1 of a single part is itself."""
    entity = parsed
    for number in path:
        if entity.children:
            if number > len(entity.children):
                return None
            entity = entity.children[number - 1]
        elif number != 1:
            return None
    return entity


def envelope(parsed: mime.Part) -> bytes:
    """ENVELOPE (RFC 9051 §7.5.2): sender and reply-to default to from."""
    sender = parsed.field("Sender") or parsed.field("From")
    reply_to = parsed.field("Reply-To") or parsed.field("From")
    values = [
        nstring(parsed.field("Date")),
        nstring(parsed.field("Subject")),
        _address_list(parsed.field("From")),
        _address_list(sender),
        _address_list(reply_to),
        _address_list(parsed.field("To")),
        _address_list(parsed.field("Cc")),
        _address_list(parsed.field("Bcc")),
        nstring(parsed.field("In-Reply-To")),
        nstring(parsed.field("Message-ID")),
    ]
    return b"(" + b" ".join(values) + b")"


def _address_list(value: str | None) -> bytes:
    found = mime.addresses(value)
    if not found:
        return b"NIL"
    parts = [
        b"(" + b" ".join([nstring(name or None), b"NIL", nstring(local), nstring(domain or None)])
        + b")"
        for name, local, domain in found
    ]
    return b"(" + b"".join(parts) + b")"


def body_structure(part: mime.Part) -> bytes:
    """BODYSTRUCTURE without extension data (RFC 9051 §7.5.2, body-type-*)."""
    kind, sub, params = part.content_type()
    if part.children:
        return b"(" + b"".join(body_structure(child) for child in part.children) + \
            b" " + quoted(sub) + b")"
    fields = [
        quoted(kind), quoted(sub), _params(params),
        nstring(part.field("Content-ID")), nstring(part.field("Content-Description")),
        quoted((part.field("Content-Transfer-Encoding") or "7bit").lower()),
        b"%d" % len(part.body),
    ]
    if kind == "message" and sub == "rfc822":
        inner = mime.parse(part.body)
        fields += [envelope(inner), body_structure(inner), b"%d" % _lines(part.body)]
    elif kind == "text":
        fields.append(b"%d" % _lines(part.body))
    return b"(" + b" ".join(fields) + b")"


def _params(params: dict[str, str]) -> bytes:
    if not params:
        return b"NIL"
    return b"(" + b" ".join(quoted(k) + b" " + quoted(v) for k, v in params.items()) + b")"


def _lines(body: bytes) -> int:
    return body.count(b"\n") + (1 if body and not body.endswith(b"\n") else 0)
