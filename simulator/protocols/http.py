"""HTTP/1.1 messages (RFC 9112), sans I/O: just enough for a browser and a webmail.

A browser and a webmail exchange requests and responses: a start line,
header fields, an empty line, and a body of exactly Content-Length octets
(RFC 9112 §6.2).  `encode` writes one; `MessageReader` takes bytes as they
come and hands out each message once it is whole.  There is no state
table here: HTTP/1.1 on one connection is request, response, request...
(RFC 9112 §9.3), and the agents take turns.  Everything goes inside TLS
(HTTPS, RFC 9110 §4.2.2), so on the wire only its sizes show.
"""

from __future__ import annotations

from dataclasses import dataclass

#: HTTPS: HTTP over TLS from the first byte (RFC 9110 §4.2.2).
HTTPS_PORT = 443
CRLF = b"\r\n"
#: Longest start line or header field taken (nginx large_client_header_buffers: 8k).
MAX_HEAD_LINE = 8192


class HttpError(ValueError):
    """Bytes that are no HTTP/1.1 message."""


@dataclass(frozen=True, slots=True)
class HttpMessage:
    """A request (``GET /path HTTP/1.1``) or response (``HTTP/1.1 200 OK``)."""

    start: str
    headers: tuple[tuple[str, str], ...]
    body: bytes = b""

    def header(self, name: str) -> str | None:
        """The first field called `name` (case does not count, RFC 9110 §5.1)."""
        wanted = name.lower()
        return next((value for key, value in self.headers if key.lower() == wanted), None)


def request(method: str, target: str, host: str, body: bytes = b"",
            headers: tuple[tuple[str, str], ...] = ()) -> HttpMessage:
    """A request for `target` on `host` (RFC 9112 §3)."""
    return HttpMessage(f"{method} {target} HTTP/1.1", (("Host", host), *headers), body)


def response(status: int, reason: str, body: bytes = b"",
             headers: tuple[tuple[str, str], ...] = ()) -> HttpMessage:
    """A response with its status (RFC 9112 §4)."""
    return HttpMessage(f"HTTP/1.1 {status} {reason}", headers, body)


def encode(message: HttpMessage) -> bytes:
    """The message as sent: its head, then Content-Length octets of body."""
    fields = [*message.headers, ("Content-Length", str(len(message.body)))]
    head = [message.start, *(f"{name}: {value}" for name, value in fields), ""]
    return CRLF.join(line.encode("utf-8") for line in head) + CRLF + message.body


class MessageReader:
    """Frames HTTP messages out of the bytes of one direction of a connection."""

    def __init__(self) -> None:
        self._buffer = bytearray()

    def feed(self, data: bytes) -> None:
        """Take the peer's next bytes."""
        self._buffer += data

    def next_message(self) -> HttpMessage | None:
        """The next whole message, or None until more bytes come."""
        end = self._buffer.find(CRLF + CRLF)
        if end < 0:
            if len(self._buffer) > MAX_HEAD_LINE * 10:
                raise HttpError("header section too long")
            return None
        lines = bytes(self._buffer[:end]).decode("utf-8", "replace").split("\r\n")
        headers = tuple(_field(line) for line in lines[1:])
        length = next((v for k, v in headers if k.lower() == "content-length"), "0")
        if not length.isdigit():
            raise HttpError(f"bad Content-Length {length!r}")
        start = end + 4
        if len(self._buffer) < start + int(length):
            return None
        body = bytes(self._buffer[start:start + int(length)])
        del self._buffer[:start + int(length)]
        fields = tuple((k, v) for k, v in headers if k.lower() != "content-length")
        return HttpMessage(lines[0], fields, body)


def _field(line: str) -> tuple[str, str]:
    name, colon, value = line.partition(":")
    if not colon or not name or len(line) > MAX_HEAD_LINE:
        raise HttpError(f"not a header field: {line[:40]!r}")
    return name, value.strip()
