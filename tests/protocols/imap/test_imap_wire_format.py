"""The shared IMAP wire module: tokenizer, literals, sequence sets, quoting, dates."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from simulator.protocols.imap.wire import (
    Atom,
    LiteralSize,
    ParenList,
    String,
    WireSyntaxError,
    astring,
    format_date_time,
    format_sequence_set,
    literal,
    literal_announced,
    nstring,
    parse_date,
    parse_date_time,
    parse_sequence_set,
    quoted,
    string,
    tokenize,
)


@pytest.mark.parametrize(("data", "tokens"), [
    (b"a1 NOOP", [Atom("a1"), Atom("NOOP")]),
    (b'a LOGIN "al ice" "p\\"w\\\\"',
     [Atom("a"), Atom("LOGIN"), String(b"al ice"), String(b'p"w\\')]),
    (b"a FETCH 1:* (FLAGS BODY.PEEK[HEADER.FIELDS (From To)]<0.100>)",
     [Atom("a"), Atom("FETCH"), Atom("1:*"),
      ParenList((Atom("FLAGS"), Atom("BODY.PEEK[HEADER.FIELDS (From To)]<0.100>")))]),
    (b"a APPEND INBOX (\\Seen) {5}\r\nhello", [Atom("a"), Atom("APPEND"), Atom("INBOX"),
                                               ParenList((Atom("\\Seen"),)),
                                               String(b"hello", literal=True)]),
    (b"a X {3+}\r\n(){ rest", [Atom("a"), Atom("X"), String(b"(){", literal=True), Atom("rest")]),
    (b"a LIST () ((x))", [Atom("a"), Atom("LIST"), ParenList(()),
                          ParenList((ParenList((Atom("x"),)),))]),
    (b"", []),
])
def test_tokenize(data: bytes, tokens: list[object]) -> None:
    assert tokenize(data) == tokens


@pytest.mark.parametrize(("data", "reason"), [
    (b"a (x", "Missing ')'"), (b"a x)", "Unexpected ')'"), (b'a "x', "Missing '\"'"),
    (b'a "x\\y"', "Invalid escape in quoted string"), (b"a {5}\r\nab", "Literal ends too early"),
    (b"a {x}", "Invalid literal size"), (b"a BODY[x", "Missing ']'"),
    (b"a x\x01y", "Invalid characters in atom"),
])
def test_tokenize_refuses(data: bytes, reason: str) -> None:
    with pytest.raises(WireSyntaxError, match=reason.replace("(", r"\(").replace(")", r"\)")):
        tokenize(data)


@given(st.binary(max_size=200))
def test_tokenize_only_ever_raises_wire_syntax_error(data: bytes) -> None:
    try:
        tokens = tokenize(data)
    except WireSyntaxError as error:
        assert str(error)
    else:
        assert all(isinstance(token, Atom | String | ParenList) for token in tokens)


@given(st.binary(max_size=100))
def test_string_round_trips(value: bytes) -> None:
    assert tokenize(string(value)) == [String(value, literal=string(value).startswith(b"{"))]


def test_literal_announcements() -> None:
    assert literal_announced(b"a APPEND INBOX {12}") == LiteralSize(12, False)
    assert literal_announced(b"a APPEND INBOX {12+}") == LiteralSize(12, True)
    assert literal_announced(b"a LOGIN {12} x") is None
    assert literal_announced(b"a x {}") is None


def test_sequence_sets() -> None:
    wanted = parse_sequence_set("1,3:5,7:*")
    assert wanted is not None
    assert [n for n in range(1, 10) if wanted.contains(n, 9)] == [1, 3, 4, 5, 7, 8, 9]
    reversed_range = parse_sequence_set("4:2")
    assert reversed_range is not None and reversed_range.select(range(1, 6), 5) == [2, 3, 4]
    star = parse_sequence_set("*")
    assert star is not None and star.select(range(1, 4), 3) == [3] and star.highest(3) == 3
    for bad in ["", "0", "1:0", "01", "a", "1,,2", "4294967296", "1:"]:
        assert parse_sequence_set(bad) is None, bad
    assert format_sequence_set([1, 2, 3, 5, 7, 8]) == "1:3,5,7:8"
    assert format_sequence_set([4, 2]) == "4,2"
    assert format_sequence_set([]) == ""


def test_values_on_the_wire() -> None:
    assert quoted('say "hi"\\') == b'"say \\"hi\\"\\\\"'
    assert literal(b"ab\r\n") == b"{4}\r\nab\r\n"
    assert literal(b"x", non_synchronizing=True) == b"{1+}\r\nx"
    assert astring("INBOX") == b"INBOX"
    assert astring("My Folder") == b'"My Folder"'
    assert astring("NIL") == b'"NIL"'
    assert nstring(None) == b"NIL" and nstring("x") == b'"x"'
    assert string("two\r\nlines") == b"{10}\r\ntwo\r\nlines"


def test_dates() -> None:
    assert parse_date("1-Feb-1994") == datetime(1994, 2, 1, tzinfo=UTC)
    assert parse_date("31-Feb-1994") is None and parse_date("1-Foo-1994") is None
    when = parse_date_time("17-Jul-1996 02:44:25 -0700")
    assert when == datetime(1996, 7, 17, 2, 44, 25, tzinfo=timezone(timedelta(hours=-7)))
    assert parse_date_time(" 7-Jul-1996 02:44:25 +0000") is not None
    assert parse_date_time("17-Jul-1996 25:00:00 +0000") is None
    assert format_date_time(when) == b'"17-Jul-1996 02:44:25 -0700"'
    assert format_date_time(datetime(2026, 3, 2, 9, tzinfo=UTC)) == b'"02-Mar-2026 09:00:00 +0000"'
