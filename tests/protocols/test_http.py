"""HTTP/1.1 framing (RFC 9112) for the browser and the webmail: no bytes lost, none invented."""

from __future__ import annotations

import pytest

from simulator.protocols import http


def test_a_request_round_trips_through_the_reader_in_any_pieces() -> None:
    sent = http.request("POST", "/?_task=mail&_action=send", "webmail.example.org",
                        b"_to=bob%40example.net\r\n", (("Cookie", "roundcube_sessid=ab"),))
    wire = http.encode(sent) + http.encode(http.request("GET", "/", "webmail.example.org"))
    assert wire.startswith(b"POST /?_task=mail&_action=send HTTP/1.1\r\nHost: webmail.example.org")
    reader = http.MessageReader()
    got = []
    for octet in range(len(wire)):  # one byte at a time
        reader.feed(wire[octet:octet + 1])
        while (message := reader.next_message()) is not None:
            got.append(message)
    assert got[0] == sent
    assert got[0].header("cookie") == "roundcube_sessid=ab"
    assert got[1].start == "GET / HTTP/1.1" and got[1].body == b""


def test_a_response_waits_for_its_whole_body() -> None:
    wire = http.encode(http.response(200, "OK", b"0123456789"))
    reader = http.MessageReader()
    reader.feed(wire[:-1])
    assert reader.next_message() is None
    reader.feed(wire[-1:])
    message = reader.next_message()
    assert message is not None and message.body == b"0123456789"


@pytest.mark.parametrize("head", [b"GET / HTTP/1.1\r\nContent-Length: ten\r\n\r\n",
                                  b"GET / HTTP/1.1\r\nno colon here\r\n\r\n"])
def test_garbage_is_an_http_error(head: bytes) -> None:
    reader = http.MessageReader()
    reader.feed(head)
    with pytest.raises(http.HttpError):
        reader.next_message()
