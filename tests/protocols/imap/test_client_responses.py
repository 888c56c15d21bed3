"""Reading server responses: framing with literals, status responses, untagged data."""

from __future__ import annotations

import pytest

from simulator.protocols.common import LineBuffer
from simulator.protocols.imap.client_events import FlagsChanged, FolderStatus, HeadersFetched
from simulator.protocols.imap.responses import (
    MAX_RESPONSE_LINE,
    Continuation,
    Data,
    ResponseCode,
    ResponseError,
    ResponseReader,
    Status,
    fetched,
    folder_status,
    parse_response,
    parse_uid_set,
    search_uids,
)
from simulator.protocols.imap.wire import Atom, ParenList, String


@pytest.mark.parametrize(("raw", "parsed"), [
    (b"A0001 OK [APPENDUID 38505 3955] APPEND completed",
     Status("A0001", "OK", ResponseCode("APPENDUID", "38505 3955"), "APPEND completed")),
    (b"a2 no [OVERQUOTA] Quota exceeded",
     Status("a2", "NO", ResponseCode("OVERQUOTA"), "Quota exceeded")),
    (b"* OK [PERMANENTFLAGS (\\Seen \\*)] Limited",
     Status(None, "OK", ResponseCode("PERMANENTFLAGS", "(\\Seen \\*)"), "Limited")),
    (b"* BYE Autologout; idle for too long", Status(None, "BYE", None,
                                                   "Autologout; idle for too long")),
    (b"+ idling", Continuation("idling")),
    (b"+", Continuation("")),
    (b"* 23 EXISTS", Data("EXISTS", 23, [])),
    (b"* 5 expunge", Data("EXPUNGE", 5, [])),
    (b"* ENABLED IMAP4rev2", Data("ENABLED", None, [Atom("IMAP4rev2")])),
    (b'* LIST () "/" "Sent Items"',
     Data("LIST", None, [ParenList(()), String(b"/"), String(b"Sent Items")])),
])  # fmt: skip
def test_responses_parse(raw: bytes, parsed: object) -> None:
    assert parse_response(raw) == parsed


def test_a_response_with_literals_is_framed_across_any_pieces() -> None:
    wire = b"* 1 FETCH (UID 9 BODY[HEADER] {4}\r\nab\r\n BODY[TEXT] {2}\r\nhi)\r\n"
    lines = LineBuffer(MAX_RESPONSE_LINE)
    reader = ResponseReader(lines)
    for octet in wire[:-1]:
        lines.feed(bytes([octet]))
        assert reader.next_response() is None
    lines.feed(wire[-1:])
    data = reader.next_response()
    assert isinstance(data, Data) and data.number == 1
    items = data.values[0]
    assert isinstance(items, ParenList)
    assert items.items[3] == String(b"ab\r\n", literal=True)
    assert items.items[5] == String(b"hi", literal=True)


def test_fetch_items_become_events() -> None:
    header = parse_response(b"* 2 FETCH (UID 9 RFC822.SIZE 10 FLAGS (\\Seen) BODY[HEADER] NIL)")
    flags = parse_response(b"* 2 FETCH (FLAGS (\\Deleted))")
    envelope_only = parse_response(b"* 2 FETCH (UID 9 INTERNALDATE \"02-Mar-2026 09:00:00 +0000\")")
    assert isinstance(header, Data) and isinstance(flags, Data)
    assert isinstance(envelope_only, Data)
    assert fetched(header) == HeadersFetched(9, ("\\Seen",), 10, b"")
    assert fetched(flags) == FlagsChanged(2, None, ("\\Deleted",))
    assert fetched(envelope_only) is None


def test_status_and_search_data() -> None:
    status = parse_response(b"* STATUS blurdybloop (MESSAGES 231 UIDNEXT 44292)")
    assert isinstance(status, Data)
    assert folder_status(status) == FolderStatus("blurdybloop",
                                                 (("MESSAGES", 231), ("UIDNEXT", 44292)))
    esearch = parse_response(b'* ESEARCH (TAG "A282") UID MIN 2 ALL 2,10:11 COUNT 3')
    assert isinstance(esearch, Data) and search_uids(esearch) == [2, 10, 11]
    empty = parse_response(b'* ESEARCH (TAG "A283") UID')
    assert isinstance(empty, Data) and search_uids(empty) == []


@pytest.mark.parametrize(
    ("text", "uids"), [("3", [3]), ("3:5,9", [3, 4, 5, 9]), ("5:3", [3, 4, 5])]
)
def test_uid_sets_from_the_server(text: str, uids: list[int]) -> None:
    assert parse_uid_set(text) == uids


@pytest.mark.parametrize("raw", [
    b"", b"*", b"* 3", b"A1 BYE no", b"* NOPE", b"(x) OK", b"* LIST (\\X", b'* LIST "open',
])  # fmt: skip
def test_nonsense_raises_response_error(raw: bytes) -> None:
    with pytest.raises(ResponseError):
        parse_response(raw)
