"""The shared reader: lines and counted octets, whole or split at any byte."""

from __future__ import annotations

from itertools import pairwise

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.protocols.common import (
    CRLF,
    LF,
    Line,
    LineBuffer,
    LineTooLong,
    LocalProtocolError,
)

# An IMAP APPEND with a literal (RFC 9051 §4.3): a line announcing 11 octets,
# the octets themselves (holding a CRLF that ends no line), then the rest.
LITERAL_STREAM = b"A1 APPEND INBOX {11}\r\nHi\r\nthere!!\r\nA2 NOOP\r\n"


def test_lines_and_a_literal_in_one_piece() -> None:
    buffer = LineBuffer(512)
    buffer.feed(LITERAL_STREAM)
    read = [buffer.next_line(), buffer.take(11), buffer.next_line(), buffer.next_line()]
    assert read == [b"A1 APPEND INBOX {11}", b"Hi\r\nthere!!", b"", b"A2 NOOP"]


def test_take_waits_for_every_octet() -> None:
    buffer = LineBuffer(512)
    buffer.feed(b"abc")
    assert buffer.take(5) is None
    buffer.feed(b"d")
    assert buffer.take(5) is None
    buffer.feed(b"e\r\nnext\r\n")
    assert buffer.take(5) == b"abcde"
    assert buffer.next_line() == b""
    assert buffer.next_line() == b"next"
    assert buffer.take(0) == b""
    assert buffer.next_line() is None


def test_take_hands_out_line_endings_as_data() -> None:
    buffer = LineBuffer(512)
    buffer.feed(b"\r\n.\r\n\n")
    assert buffer.take(6) == b"\r\n.\r\n\n"


def test_take_of_a_negative_count_is_our_mistake() -> None:
    with pytest.raises(LocalProtocolError):
        LineBuffer(512).take(-1)


@settings(max_examples=200, deadline=None)
@given(cuts=st.lists(st.integers(0, len(LITERAL_STREAM)), max_size=8))
def test_lines_and_a_literal_split_anywhere(cuts: list[int]) -> None:
    """However the stream is cut, the reader asks again and gets the same pieces."""
    buffer = LineBuffer(512)
    bounds = [0, *sorted(cuts), len(LITERAL_STREAM)]
    chunks = [LITERAL_STREAM[a:b] for a, b in pairwise(bounds)]
    steps = [buffer.next_line, lambda: buffer.take(11), buffer.next_line, buffer.next_line]
    got: list[bytes | LineTooLong | None] = []
    for chunk in chunks:
        buffer.feed(chunk)
        while steps and (item := steps[0]()) is not None:
            got.append(item)
            steps.pop(0)
    assert got == [b"A1 APPEND INBOX {11}", b"Hi\r\nthere!!", b"", b"A2 NOOP"]


@settings(max_examples=200, deadline=None)
@given(
    lines=st.lists(st.binary(max_size=30).map(lambda b: b.replace(b"\n", b"")), max_size=6),
    cuts=st.lists(st.integers(0, 300), max_size=6),
)
def test_next_line_split_anywhere(lines: list[bytes], cuts: list[int]) -> None:
    stream = b"".join(line.removesuffix(b"\r") + CRLF for line in lines)
    bounds = [0, *sorted(c for c in cuts if c <= len(stream)), len(stream)]
    buffer = LineBuffer(512)
    got = []
    for a, b in pairwise(bounds):
        buffer.feed(stream[a:b])
        while (line := buffer.next_line()) is not None:
            got.append(line)
    assert got == [line.removesuffix(b"\r") for line in lines]


def test_framed_lines_report_their_ending() -> None:
    buffer = LineBuffer(512)
    buffer.feed(b"one\r\ntwo\nthree")
    assert buffer.next_framed() == Line(b"one", CRLF)
    assert buffer.next_framed() == Line(b"two", LF)
    assert buffer.next_framed() is None


def test_an_overlong_line_is_reported_once_then_reading_goes_on() -> None:
    buffer = LineBuffer(10)
    buffer.feed(b"x" * 25)
    assert buffer.next_line() is None
    buffer.feed(b"yy\r\nok\r\n")
    assert buffer.next_line() == LineTooLong(29)
    assert buffer.next_line() == b"ok"
