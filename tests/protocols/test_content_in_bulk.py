"""Message content read in bulk is read exactly as line by line.

The SMTP and LMTP servers, and a POP3 client reading a message, take runs
of plain content lines (ending in CRLF, none beginning with ".") at once;
anything else -- a stuffed or final ".", a bare LF -- goes line by line,
a line longer than Postfix's line_length_limit in pieces.  Both roads
must store the same bytes, end at the same place and leave the same
input behind.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.protocols.common import Line, LineBuffer
from simulator.protocols.pop3 import NEED_DATA, MessageRetrieved, Pop3Client, Pop3ClientConfig
from simulator.protocols.smtp.commands import ContentReader

PARTS = st.sampled_from([b"a", b"bc", b".", b"..", b"\r", b"\n", b"\r\n", b"x" * 7, b"\r\n.\r\n"])


def read(data: bytes, size: int, limit: int, bulk: bool) -> tuple[object, ...]:
    """Read `data` as content: what was stored, whether it ended, the pieces left after."""
    lines = LineBuffer(1000)
    lines.feed(data)
    reader = ContentReader(limit)
    ended = False
    while not ended:
        if bulk and reader.take_plain_lines(lines):
            continue
        piece = lines.next_piece(size)
        if piece is None:
            break
        ended = reader.take(piece)
    rest: list[Line] = []
    while (piece := lines.next_piece(size)) is not None:
        rest.append(piece)
    return bytes(reader.content), reader.too_big, ended, rest


@settings(max_examples=500, deadline=None)
@given(st.lists(PARTS, max_size=40), st.integers(1, 9), st.sampled_from([0, 6, 30]))
def test_plain_lines_in_bulk_read_as_piece_by_piece(
    parts: list[bytes], size: int, limit: int
) -> None:
    data = b"".join(parts)
    assert read(data, size, limit, bulk=True) == read(data, size, limit, bulk=False)


def test_plain_lines_stop_before_a_dot_and_at_a_bare_lf() -> None:
    lines = LineBuffer(1000)
    lines.feed(b"one\r\ntwo\r\n..stuffed\r\n.\r\n")
    assert lines.next_plain_lines() == b"one\r\ntwo\r\n"
    assert lines.next_plain_lines() == b""  # "..stuffed" goes line by line
    lines = LineBuffer(1000)
    lines.feed(b"one\r\nbare\nthree\r\n")
    assert lines.next_plain_lines() == b""


def pop3_content(body: bytes) -> bytes:
    """What RFC 1939 §3 makes of a multi-line body, line by line: the reference."""
    content = b""
    for line in body.split(b"\n")[:-1]:
        line = line.removesuffix(b"\r")
        if line == b".":
            break
        content += (line[1:] if line.startswith(b".") else line) + b"\r\n"
    return content


@settings(max_examples=300, deadline=None)
@given(st.lists(PARTS, max_size=40))
def test_a_pop3_client_reads_a_message_in_bulk_as_line_by_line(parts: list[bytes]) -> None:
    body = b"".join(parts) + b"\r\n.\r\n"
    client = Pop3Client(Pop3ClientConfig("alice", "secret"))
    events: list[object] = []
    for reply in [b"+OK\r\n", b"+OK\r\n", b"+OK\r\n", b"+OK 1 9\r\n", b"+OK\r\n1 u\r\n.\r\n",
                  b"+OK\r\n" + body]:
        client.receive_data(reply)
        while (event := client.next_event()) is not NEED_DATA:
            events.append(event)
        client.data_to_send()
    retrieved = [event for event in events if isinstance(event, MessageRetrieved)]
    assert [event.content for event in retrieved] == [pop3_content(body)]
