"""Just enough of a message's structure for FETCH (RFC 9051 §6.4.5, §7.5.2).

A message is split once per FETCH into header and body, and multipart
bodies into their parts (RFC 2046 §5.1), so that ``BODY[1.2.TEXT]``,
ENVELOPE and BODYSTRUCTURE can be answered.  The parser is forgiving: a
multipart without its boundary is one opaque part, never an error.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from email.utils import getaddresses

_PARAM = re.compile(r';\s*([^=\s;]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^;\s]*)')


@dataclass
class Part:
    """One MIME entity: its header (with the blank line), body and sub-parts."""

    header: bytes
    body: bytes
    children: list[Part] = field(default_factory=list)

    def field(self, name: str) -> str | None:
        """The unfolded value of the first header field called `name`."""
        return field_value(self.header, name)

    def content_type(self) -> tuple[str, str, dict[str, str]]:
        """Type, subtype and parameters; text/plain by default (RFC 2045 §5.2)."""
        value = self.field("Content-Type") or "text/plain; charset=us-ascii"
        main, _, rest = value.partition(";")
        kind, _, sub = main.strip().partition("/")
        params = {k.lower(): v.strip('"') for k, v in _PARAM.findall(";" + rest)}
        if not sub:
            return "text", "plain", {"charset": "us-ascii"}
        return kind.lower(), sub.lower(), params


def split_header(raw: bytes) -> tuple[bytes, bytes]:
    """Header (up to and including the blank line) and body."""
    for blank in (b"\r\n\r\n", b"\n\n"):
        at = raw.find(blank)
        if at >= 0 and (blank == b"\r\n\r\n" or b"\r\n\r\n" not in raw):
            return raw[: at + len(blank)], raw[at + len(blank):]
    if raw.startswith((b"\r\n", b"\n")):  # no header fields at all
        end = 2 if raw.startswith(b"\r\n") else 1
        return raw[:end], raw[end:]
    return raw, b""


def header_fields(header: bytes) -> list[tuple[str, bytes]]:
    """(lower-case name, raw octets with folding and CRLF) for each field."""
    fields: list[tuple[str, bytes]] = []
    for line in header.splitlines(keepends=True):
        if line in (b"\r\n", b"\n"):
            break
        if line[:1] in (b" ", b"\t") and fields:
            name, raw = fields[-1]
            fields[-1] = (name, raw + line)
            continue
        name = line.split(b":", 1)[0].strip().decode("ascii", "replace").lower()
        fields.append((name, line))
    return fields


def field_value(header: bytes, name: str) -> str | None:
    """The unfolded value of the first field called `name` (case-insensitive)."""
    wanted = name.lower()
    for field_name, raw in header_fields(header):
        if field_name == wanted:
            value = raw.split(b":", 1)[1] if b":" in raw else b""
            text = value.decode("utf-8", "replace")
            return " ".join(text.split())
    return None


def parse(raw: bytes) -> Part:
    """The message as a tree of parts (RFC 2046 §5.1.1)."""
    header, body = split_header(raw)
    part = Part(header, body)
    kind, _, params = part.content_type()
    boundary = params.get("boundary")
    if kind == "multipart" and boundary:
        part.children = [parse(chunk) for chunk in _split_parts(body, boundary.encode())]
    return part


def _split_parts(body: bytes, boundary: bytes) -> list[bytes]:
    """The parts between the delimiter lines; the line break before a
    delimiter belongs to the delimiter (RFC 2046 §5.1.1)."""
    delimiter = b"--" + boundary
    parts: list[bytes] = []
    start: int | None = None
    at = 0
    for line in body.splitlines(keepends=True):
        stripped = line.rstrip(b"\r\n")
        if stripped in (delimiter, delimiter + b"--"):
            if start is not None:
                chunk = body[start:at]
                parts.append(chunk[:-2] if chunk.endswith(b"\r\n") else chunk.removesuffix(b"\n"))
            if stripped != delimiter:
                break
            start = at + len(line)
        at += len(line)
    return parts


def addresses(value: str | None) -> list[tuple[str, str, str]]:
    """(display name, local part, domain) for each address in a header value."""
    if not value:
        return []
    out = []
    for name, address in getaddresses([value]):
        local, _, domain = address.rpartition("@")
        out.append((name, local or address, domain))
    return out
