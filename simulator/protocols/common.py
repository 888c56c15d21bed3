"""Pieces shared by every line-based protocol: line framing and sentinels."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

CRLF = b"\r\n"


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

    @property
    def pending(self) -> int:
        """How many bytes are buffered without a line end yet."""
        return len(self._buffer)
