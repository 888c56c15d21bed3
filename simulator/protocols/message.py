"""The RFC 5322 message model: composing, reading and stamping messages.

Messages travel as bytes with CRLF line endings, exactly as on the wire.
Composing and parsing use the standard library's `email` package.  Headers
that MTAs add on the way (`Received:`, `Return-Path:`, `Delivered-To:`) are
*prepended* to the raw bytes, so every older header stays byte-for-byte as
it was (RFC 5321 §4.4: never change earlier trace headers).
"""

from __future__ import annotations

import email.policy
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.parser import BytesHeaderParser, BytesParser
from email.utils import format_datetime

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


def compose(
    draft: Draft, *, date: datetime, message_id: str, user_agent: str | None = None
) -> bytes:
    """Turn a draft into an RFC 5322 message (CRLF lines), as a MUA does."""
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
    headers = BytesHeaderParser(policy=email.policy.compat32).parsebytes(content)
    return [" ".join(str(v).split()) for v in headers.get_all(name, [])]


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
