"""The RFC 5322 message model: composing, reading and stamping messages.

Messages travel as bytes with CRLF line endings, exactly as on the wire.
Composing and parsing use the standard library's `email` package.  The
plain messages most users write (ASCII text in short lines, bare
addresses) and header sections (ASCII fields, CRLF endings) take a short
road of byte operations that gives what the `email` package gives, byte
for byte; anything else goes the long way.  Headers
that MTAs add on the way (`Received:`, `Return-Path:`, `Delivered-To:`) are
*prepended* to the raw bytes, so every older header stays byte-for-byte as
it was (RFC 5321 §4.4: never change earlier trace headers).
"""

from __future__ import annotations

import email.policy
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.parser import BytesHeaderParser, BytesParser
from email.utils import format_datetime as _format_datetime
from functools import lru_cache

from simulator.protocols.addresses import normalise_address

#: Generating with this policy gives CRLF line endings and 78-column folding.
WIRE_POLICY = email.policy.SMTP


@dataclass(frozen=True, slots=True)
class Draft:
    """What a user writes before the MUA turns it into a message."""

    sender: str
    recipients: tuple[str, ...]
    subject: str
    body: str


#: RFC 5322 §3.3 date-time of a datetime; the agents of a run stamp many at the same second.
format_datetime = lru_cache(maxsize=256)(_format_datetime)
#: RFC 5322 §2.1.1: a line SHOULD be at most 78 characters (the `email` policy's limit).
MAX_LINE = 78
#: A dot-atom (RFC 5322 §3.2.3) of the letters, digits and signs addresses commonly use.
_ATOM = r"[A-Za-z0-9_%+-]+(?:\.[A-Za-z0-9_%+-]+)*"
#: A bare address (RFC 5322 §3.4.1 addr-spec), as the `email` package writes it back unchanged.
_BARE_ADDRESS = re.compile(f"{_ATOM}@{_ATOM}")
_BARE_MESSAGE_ID = re.compile(f"<{_ATOM}@{_ATOM}>")
#: Printable ASCII words between single spaces, with no RFC 2047 encoded word.
_PLAIN_TEXT = re.compile(r"(?!.*=\?)[!-~]+(?: [!-~]+)*")
#: A body of printable ASCII, tabs and line breaks.
_PLAIN_BODY = re.compile(r"[\t\n\r -~]*")
#: A header field's name and colon at the start of a line (RFC 5322 §2.2).
_FIELD_NAME = re.compile(r"[!-9;-~]+:")


def compose(
    draft: Draft, *, date: datetime, message_id: str, user_agent: str | None = None
) -> bytes:
    """Turn a draft into an RFC 5322 message (CRLF lines), as a MUA does."""
    plain = _compose_plain(draft, date, message_id, user_agent)
    return plain if plain is not None else _compose_mime(draft, date, message_id, user_agent)


def _compose_plain(
    draft: Draft, date: datetime, message_id: str, user_agent: str | None
) -> bytes | None:
    """`compose` for bare addresses, plain short headers and a plain body; else None.

    What the `email` package writes for such a draft: the fields as given,
    then a 7bit text/plain part whose lines end in CRLF.
    """
    body = draft.body or "\n"
    if not (
        all(_BARE_ADDRESS.fullmatch(address) for address in (draft.sender, *draft.recipients))
        and _BARE_MESSAGE_ID.fullmatch(message_id)
        and _PLAIN_TEXT.fullmatch(draft.subject)
        and (not user_agent or _PLAIN_TEXT.fullmatch(user_agent))
        and _PLAIN_BODY.fullmatch(body)
    ):
        return None
    fields = [("From", draft.sender), ("To", ", ".join(draft.recipients)),
              ("Subject", draft.subject), ("Date", format_datetime(date)),
              ("Message-ID", message_id)]
    if user_agent:
        fields.append(("User-Agent", user_agent))
    head = [f"{name}: {value}" for name, value in fields]
    lines = body.encode("ascii").splitlines()
    if any(len(line) > MAX_LINE for line in (*head, *lines)):
        return None
    head += ['Content-Type: text/plain; charset="utf-8"', "Content-Transfer-Encoding: 7bit",
             "MIME-Version: 1.0", ""]
    return "\r\n".join(head).encode("ascii") + b"\r\n" + b"".join(
        line + b"\r\n" for line in lines)


def _compose_mime(
    draft: Draft, date: datetime, message_id: str, user_agent: str | None
) -> bytes:
    """`compose` through the `email` package: any addresses, text and lengths."""
    msg = EmailMessage(policy=WIRE_POLICY)
    msg["From"] = draft.sender
    msg["To"] = ", ".join(draft.recipients)
    msg["Subject"] = draft.subject
    msg["Date"] = format_datetime(date)
    msg["Message-ID"] = message_id
    if user_agent:
        msg["User-Agent"] = user_agent
    msg.set_content(draft.body or "\n")
    return msg.as_bytes()


def parse(content: bytes) -> EmailMessage:
    """Parse a whole message (headers and body)."""
    parsed = BytesParser(policy=email.policy.default).parsebytes(content)
    assert isinstance(parsed, EmailMessage)
    return parsed


def header_values(content: bytes, name: str) -> list[str]:
    """Every value of header `name`, top to bottom, unfolded."""
    fields = _plain_fields(content)
    if fields is None:
        headers = BytesHeaderParser(policy=email.policy.compat32).parsebytes(content)
        return [" ".join(str(v).split()) for v in headers.get_all(name, [])]
    wanted = name.lower()
    return [" ".join(value.split()) for field, value in fields if field.lower() == wanted]


@lru_cache(maxsize=8)  # agents read several headers of one message in a row
def _plain_fields(content: bytes) -> tuple[tuple[str, str], ...] | None:
    """(name, folded value) of every header field, if the header section is plain; else None.

    Plain: ASCII, followed by an empty line, every line ending in CRLF and
    either a field (a name and a colon) or the continuation of the field
    above it (RFC 5322 §2.2.3).  Anything else is left to the `email` package.
    """
    if content.startswith(b"\r\n"):
        return ()
    head, separator, _ = content.partition(b"\r\n\r\n")
    if not separator or not head.isascii():
        return None
    text = head.decode("ascii")
    lines = text.split("\r\n")
    if not text.count("\r") == text.count("\n") == len(lines) - 1:
        return None  # a bare CR or LF
    fields: list[tuple[str, str]] = []
    for line in lines:
        if line[:1] in (" ", "\t"):
            if not fields:
                return None
            fields[-1] = (fields[-1][0], f"{fields[-1][1]} {line}")
        elif _FIELD_NAME.match(line):
            field, _, value = line.partition(":")
            fields.append((field, value))
        else:
            return None
    return tuple(fields)


def first_header(content: bytes, name: str) -> str | None:
    """The topmost value of header `name`, or None."""
    values = header_values(content, name)
    return values[0] if values else None


def received_count(content: bytes) -> int:
    """How many `Received:` headers the message carries (its hop count)."""
    return len(header_values(content, "Received"))


def prepend_header(content: bytes, name: str, value: str) -> bytes:
    """Put one header on top of the message, folding long values.

    `value` may hold "\\n" where the header should be folded; each
    continuation line is indented with a tab, as Postfix does.
    """
    folded = "\r\n\t".join(part.strip() for part in value.split("\n"))
    return f"{name}: {folded}\r\n".encode() + content


def add_missing_headers(content: bytes, *, date: datetime, message_id: str, sender: str) -> bytes:
    """Add Date, Message-ID and From when missing, as an MSA may (RFC 6409 §8)."""
    extra = {
        "From": sender,
        "Date": format_datetime(date),
        "Message-ID": message_id,
    }
    for name, value in extra.items():
        if first_header(content, name) is None and value:
            content = _append_header(content, name, value)
    return content


def _append_header(content: bytes, name: str, value: str) -> bytes:
    """Insert a header at the end of the header section."""
    head, sep, body = content.partition(b"\r\n\r\n")
    if not sep:
        return content + f"{name}: {value}\r\n".encode()
    return head + f"\r\n{name}: {value}".encode() + sep + body


def header_block(content: bytes) -> bytes:
    """The header section of a message, with its final CRLF."""
    head, sep, _ = content.partition(b"\r\n\r\n")
    return head + b"\r\n" if sep else content


def unique_recipients(recipients: Sequence[str]) -> list[str]:
    """Recipients without repeats, as Postfix's duplicate filter keeps them.

    Addresses are compared in their normalised form: only the domain
    without regard to case, the local part may be case-sensitive (RFC 5321
    §2.4).
    """
    seen: dict[str, str] = {}
    for rcpt in recipients:
        seen.setdefault(normalise_address(rcpt), rcpt)
    return list(seen.values())


def trace_date(when: datetime) -> str:
    """The date at the end of a `Received:` header, as Postfix writes it."""
    return f"{format_datetime(when)} (UTC)"
