"""Pieces shared by every line-based protocol: framing, dot-stuffing, session events.

Framing reports how each line ended -- CRLF, a bare LF, or not yet (a piece
of a longer line) -- because the protocols care: SMTP ends a message only
with <CRLF>.<CRLF> (RFC 5321 §4.1.1.4), whatever a bare LF may do elsewhere.
Beside lines, the reader hands out exactly N octets, for data announced by
its length rather than ended by a line: IMAP literals (RFC 9051 §4.3) and
BDAT chunks (RFC 3030 §2).

A client machine tells its caller how a session ended when no reply says
so with events of its own, as h11 does: `ConnectionClosed` (end of input:
the peer closed its side), `TimedOut`, `ConnectionBroken` and
`RemoteProtocolError` (the peer's bytes broke the protocol).  A caller that
asks a machine for something the protocol forbids gets a
`LocalProtocolError` raised at once: that is our mistake, not the peer's.
No machine ever makes up a reply the peer did not send.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum

CRLF = b"\r\n"
LF = b"\n"
_CR = CRLF[0]  # the octet CR, as indexing a bytearray gives it
#: The line that ends a message body in SMTP DATA and POP3 multi-line replies.
TERMINATOR = b"."
#: Postfix message_size_limit (mail_params.h, 10240000 octets): the largest message
#: an MTA takes in; the IMAP server's APPEND takes no larger one either.
MESSAGE_SIZE_LIMIT = 10_240_000


class NeedData(Enum):
    """Returned by `next_event()` when more bytes must arrive first."""

    NEED_DATA = "NEED_DATA"


NEED_DATA = NeedData.NEED_DATA
#: What `receive_data()` is given when the peer has closed its side (as in h11).
END_OF_INPUT = b""


# ---- how a session can end without a reply saying so ----


@dataclass(frozen=True, slots=True)
class ConnectionClosed:
    """End of input: the peer closed its side before the dialogue was over."""


@dataclass(frozen=True, slots=True)
class TimedOut:
    """The caller stopped waiting: the peer stayed silent too long."""


@dataclass(frozen=True, slots=True)
class ConnectionBroken:
    """The connection failed under the session (a reset, no route any more)."""


@dataclass(frozen=True, slots=True)
class RemoteProtocolError:
    """The peer's bytes broke the protocol; `detail` says how, in our words."""

    detail: str


@dataclass(frozen=True, slots=True)
class TlsUnavailable:
    """The client must not go on in clear, and the server offers no TLS (RFC 3207 §4)."""


#: Everything that can cut a session short without a reply from the peer.
Interruption = ConnectionClosed | TimedOut | ConnectionBroken | RemoteProtocolError | TlsUnavailable


class LocalProtocolError(Exception):
    """Our side asked the machine for something the protocol forbids now (a bug)."""


class ClientEnding:
    """How a client machine takes the server's bytes and learns that a session
    ended without a reply, shared by the SMTP and POP3 clients.

    A client sets `_lines` and `_end_of_input`, and defines `closed` and
    `_cut_off`, which ends the session with an `Interruption` event.
    """

    _lines: LineBuffer
    _end_of_input: bool

    @property
    def closed(self) -> bool:
        raise NotImplementedError

    def _cut_off(self, interruption: Interruption) -> None:
        raise NotImplementedError

    def receive_data(self, data: bytes) -> None:
        """Take bytes from the server; b"" means it closed its side (end of input).

        Ignored once the session is over.
        """
        if self.closed or not data:
            self._end_of_input = self._end_of_input or not data
            return
        if self._end_of_input:
            raise LocalProtocolError("data after the end of input")
        self._lines.feed(data)

    def timed_out(self) -> None:
        """The caller stopped waiting for the server: the session ends with `TimedOut`."""
        if not self.closed:
            self._cut_off(TimedOut())

    def connection_broken(self) -> None:
        """The connection failed under the session: it ends with `ConnectionBroken`."""
        if not self.closed:
            self._cut_off(ConnectionBroken())


@dataclass(frozen=True, slots=True)
class Line:
    """One framed line: its octets and the line ending that was seen.

    `ending` is CRLF, LF (a bare newline), or b"" for a piece of a longer
    line whose rest follows in the next piece.
    """

    content: bytes
    ending: bytes

    @property
    def complete(self) -> bool:
        """Whether this is the last (or only) piece of its line."""
        return bool(self.ending)


@dataclass(frozen=True, slots=True)
class LineTooLong:
    """A line that exceeded the limit; its bytes were discarded."""

    length: int


class LineBuffer:
    """Reads a byte stream as lines ending in CRLF or a bare LF, or as counted octets.

    Three ways to read, chosen per call so a protocol can switch at a line
    boundary: `next_framed()` (or `next_line()`) for commands and status
    lines, where a line longer than `max_length` (counted with its ending,
    as RFC 5321 §4.5.3.1 does) is discarded up to its end and reported once
    as `LineTooLong`, so a hostile peer cannot make the buffer grow;
    `next_piece(size)` for message content, where a long line is handed
    out in pieces the reader joins again (Postfix `line_length_limit`); and
    `take(n)` for exactly `n` octets whatever they hold (an IMAP literal,
    RFC 9051 §4.3; a BDAT chunk, RFC 3030 §2).
    """

    def __init__(self, max_length: int) -> None:
        self.max_length = max_length
        self._buffer = bytearray()
        self._discarding = 0

    def feed(self, data: bytes) -> None:
        """Add received bytes."""
        self._buffer += data

    def next_framed(self) -> Line | LineTooLong | None:
        """The next complete line with its ending, `LineTooLong`, or None."""
        end = self._buffer.find(LF)
        if end < 0:
            if len(self._buffer) > self.max_length:
                self._discarding += len(self._buffer)
                self._buffer.clear()
            return None
        length = self._discarding + end + 1
        self._discarding = 0
        line = self._take(end)
        if length > self.max_length:
            return LineTooLong(length)
        return line

    def next_piece(self, size: int) -> Line | None:
        """The next line, or the next `size` octets of a longer one, or None.

        A piece that does not end its line has `ending == b""`.  A CR is
        never split from the LF that follows it: a line of exactly `size`
        octets comes out whole, with its ending.
        """
        end = self._buffer.find(LF, 0, size + len(CRLF))
        if end >= 0:
            return self._take(end)
        if len(self._buffer) < size + len(CRLF):
            return None
        piece = bytes(self._buffer[:size])
        del self._buffer[:size]
        return Line(piece, b"")

    def next_plain_lines(self) -> bytes:
        """The complete lines at the head, up to the first that begins with ".",
        together, if each ends in CRLF; else b"" (those are read line by line).

        A reader of message content takes plain lines this way, in bulk: the
        same bytes as `next_piece` hands out, a long line in several pieces.
        """
        buffer = self._buffer
        end = buffer.rfind(CRLF) + len(CRLF)
        if end < len(CRLF) or buffer.startswith(TERMINATOR):
            return b""
        dot = buffer.find(b"\n.", 0, end)
        if dot >= 0:
            end = dot + 1
        chunk = bytes(buffer[:end])
        if chunk.count(LF) != chunk.count(CRLF):
            return b""  # a bare LF: read line by line
        del buffer[:end]
        return chunk

    def next_line(self) -> bytes | LineTooLong | None:
        """Like `next_framed()`, for readers that do not need the ending."""
        framed = self.next_framed()
        return framed.content if isinstance(framed, Line) else framed

    def take(self, size: int) -> bytes | None:
        """Exactly `size` octets, CR and LF included, or None until they are all here.

        Call it where the protocol announced `size` octets (after the line
        ending in "{size}" or "BDAT size"); the line reading goes on after them.
        """
        if size < 0:
            raise LocalProtocolError(f"cannot take {size} octets")
        if len(self._buffer) < size:
            return None
        chunk = bytes(self._buffer[:size])
        del self._buffer[:size]
        return chunk

    def _take(self, end: int) -> Line:
        """Remove the line whose LF is at `end` from the buffer."""
        buffer = self._buffer
        if end and buffer[end - 1] == _CR:
            line = Line(bytes(buffer[: end - 1]), CRLF)
        else:
            line = Line(bytes(buffer[:end]), LF)
        del buffer[: end + 1]
        return line


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
