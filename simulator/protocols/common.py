"""Pieces shared by every line-based protocol: line framing, dot-stuffing, sentinels."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum

CRLF = b"\r\n"
#: The line that ends a message body in SMTP DATA and POP3 multi-line replies.
TERMINATOR = b"."


class NeedData(Enum):
    """Returned by `next_event()` when more bytes must arrive first."""

    NEED_DATA = "NEED_DATA"


NEED_DATA = NeedData.NEED_DATA


@dataclass(frozen=True, slots=True)
class LineTooLong:
    """A line that exceeded the limit; its bytes were discarded."""

    length: int


class LineBuffer:
    """Splits a byte stream into lines ending in CRLF (bare LF tolerated).

    `max_length` counts the line including its CRLF, as RFC 5321 §4.5.3.1
    does.  A longer line is discarded up to its end and reported once as
    `LineTooLong`, so a hostile peer cannot make the buffer grow unbounded.
    """

    def __init__(self, max_length: int) -> None:
        self.max_length = max_length
        self._buffer = bytearray()
        self._discarding = 0

    def feed(self, data: bytes) -> None:
        """Add received bytes."""
        self._buffer += data

    def next_line(self) -> bytes | LineTooLong | None:
        """The next complete line without its line ending, or None."""
        end = self._buffer.find(b"\n")
        if end < 0:
            if len(self._buffer) > self.max_length:
                self._discarding += len(self._buffer)
                self._buffer.clear()
            return None
        raw = bytes(self._buffer[: end + 1])
        del self._buffer[: end + 1]
        length = self._discarding + len(raw)
        self._discarding = 0
        if length > self.max_length:
            return LineTooLong(length)
        return raw.rstrip(b"\n").removesuffix(b"\r")


def split_lines(content: bytes) -> list[bytes]:
    """The lines of a message without their endings (CRLF or bare LF)."""
    lines = content.split(b"\n")
    if lines[-1] == b"":
        lines.pop()
    return [line.removesuffix(b"\r") for line in lines]


def stuff_lines(lines: Iterable[bytes]) -> bytes:
    """A body as sent: dot-stuffed CRLF lines, then the "." line.

    SMTP (RFC 5321 §4.5.2) and POP3 (RFC 1939 §3) share the rule: a line
    that starts with "." gets one more "." in front.
    """
    body = bytearray()
    for line in lines:
        if line.startswith(TERMINATOR):
            body += TERMINATOR
        body += line + CRLF
    return bytes(body + TERMINATOR + CRLF)


def unstuff_line(line: bytes) -> bytes:
    """One received body line with its stuffing "." removed."""
    return line[1:] if line.startswith(TERMINATOR) else line
