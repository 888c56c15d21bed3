"""Narrating a message as it goes by, line by line (SMTP DATA, POP3 RETR).

Only lines a student should stop at get words: trace and envelope header
fields, the empty line that ends the header, a dot-stuffed line, and the
parts and fields of a delivery status notification.  Folded header lines,
ordinary body text and the original message quoted in a report stay silent.
"""

from __future__ import annotations

from dataclasses import dataclass

from simulator.narration import words
from simulator.narration.context import MessageText, Stream
from simulator.narration.phrases import address_in, fill, status_meaning


@dataclass(frozen=True, slots=True)
class Carrier:
    """Who is moving the message text, and how."""

    protocol: str  # "smtp" (DATA) or "pop3" (RETR)
    sender: str  # the host sending the lines
    mail_from: str | None = None  # SMTP: the envelope sender of this transaction


def content_line(line: str, text: MessageText, carrier: Carrier) -> str | None:
    """Words for one line of a message's text (dot-stuffing already on the wire)."""
    if line.startswith(".."):
        rfc = "RFC 5321 §4.5.2" if carrier.protocol == "smtp" else "RFC 1939 §3"
        return fill(words.DOT_STUFFED, rfc=rfc)
    if text.stream is Stream.HEADER:
        return _header_line(line, text, carrier)
    if text.stream is Stream.BODY and text.is_report:
        return _report_line(line, text)
    return None


def _field(line: str) -> tuple[str, str] | None:
    """A header field's lower-case name and its value, or None for other lines."""
    if not line or line[0] in " \t":
        return None  # a folded continuation line (RFC 5322 §2.2.3)
    name, colon, value = line.partition(":")
    if not colon or not name or " " in name:
        return None
    return name.lower(), value.strip()


def _header_line(line: str, text: MessageText, carrier: Carrier) -> str | None:
    if line == "":
        text.stream = Stream.BODY
        return words.END_OF_HEADER if carrier.protocol == "smtp" else None
    field = _field(line)
    if field is None:
        return None
    name, value = field
    if name == "received":
        text.received_seen += 1
        return _received(text.received_seen, carrier)
    if name == "content-type" and value.lower().startswith("multipart/report"):
        text.is_report = True
        return words.REPORT
    if name == "return-path" and value.replace(" ", "") == "<>":
        return words.RETURN_PATH_NULL
    if name == "from":
        return fill(words.HEADERS[name], compare=_compare(value, carrier.mail_from))
    return words.HEADERS.get(name)


def _received(count: int, carrier: Carrier) -> str:
    if count > 1:
        return words.RECEIVED_OLDER
    if carrier.protocol == "smtp":
        return fill(words.RECEIVED_NEWEST_SMTP, client=carrier.sender)
    return words.RECEIVED_NEWEST_MAILBOX


def _compare(value: str, mail_from: str | None) -> str:
    """Whether the From: address is the envelope sender too."""
    if mail_from is None:
        return ""
    if address_in(value) == mail_from.lower():
        return words.FROM_SAME
    return fill(words.FROM_DIFFERS, sender=f"<{mail_from}>")


def _report_line(line: str, text: MessageText) -> str | None:
    """The parts of a multipart/report and the fields of its status part."""
    if line.startswith("--"):
        text.in_part_header = True  # a MIME boundary: a part's header follows
        return None
    if line == "":
        text.in_part_header = False
        return None
    field = _field(line)
    if field is None:
        return None
    name, value = field
    if text.in_part_header:
        if name == "content-type":
            return words.REPORT_PARTS.get(value.split(";")[0].strip().lower())
        return None
    if name == "action":
        action = words.DSN_ACTIONS.get(value.lower())
        return fill(words.DSN_ACTION, words=action) if action else None
    if name == "status":
        meaning = status_meaning(value)
        return fill(words.DSN_FIELDS[name], value=value, meaning=meaning) if meaning else None
    return words.DSN_FIELDS.get(name)
