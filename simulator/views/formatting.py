"""Small text helpers shared by the views: clocks, durations, host names."""

from __future__ import annotations

import math

from simulator.trace import TraceRecord
from simulator.trace_data import ProtocolLine, TcpConnect

ELLIPSIS = "…"

# C0 controls and DEL become their Unicode "control pictures" (U+2400..),
# so hostile bytes on the wire stay visible and never drive the terminal.
_CONTROL_PICTURES = {code: 0x2400 + code for code in range(0x20) if code != 0x09}
_CONTROL_PICTURES[0x7F] = 0x2421


def format_clock(seconds: float) -> str:
    """Simulated time since the start: "+MM:SS.mmm", or "+H:MM:SS.mmm" past an hour."""
    millis = max(0, round(seconds * 1000))
    hours, millis = divmod(millis, 3_600_000)
    minutes, millis = divmod(millis, 60_000)
    secs, millis = divmod(millis, 1000)
    if hours:
        return f"+{hours}:{minutes:02d}:{secs:02d}.{millis:03d}"
    return f"+{minutes:02d}:{secs:02d}.{millis:03d}"


def format_duration(seconds: float | None) -> str:
    """A duration for humans: "0.250 s", "1.234 s", "4 m 12 s", "2 h 05 m", "3 d 4 h"."""
    if seconds is None or not math.isfinite(seconds):
        return "—"
    if seconds < 60:
        return f"{seconds:.3f} s"
    whole = round(seconds)
    days, rest = divmod(whole, 86_400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {minutes:02d} m"
    return f"{minutes} m {secs} s"


def short_host(name: str) -> str:
    """A host name's one short form: its middle labels shrink to their initials
    ("mail.oldmail.example" becomes "mail.o.example"), so hosts of different
    domains stay apart."""
    labels = name.split(".")
    return ".".join([labels[0], *(label[:1] for label in labels[1:-1]), labels[-1]])


def abbreviate_host(name: str, width: int) -> str:
    """`name` in at most `width` cells: in full, or else in its short form.

    Every view follows this one policy; only in a column narrower than the
    short form is the short form's middle cut with an ellipsis.
    """
    if len(name) <= width:
        return name
    host, colon, port = name.rpartition(":")
    if colon and port.isdigit():  # a loopback server's end ("mail.example.net:24"): keep the port
        return abbreviate_host(host, max(1, width - len(port) - 1)) + colon + port
    short = short_host(name)
    return short if len(short) <= width else _cut_middle(short, width)



def record_ends(record: TraceRecord) -> tuple[str, str | None]:
    """Who sent a record and to whom, as the views name them.

    On a loopback connection (an MTA handing mail to the LMTP server on its
    own host) both ends are one host: the server's end is then named with
    its port, "mail.example.net:24", so a command and its reply read apart.
    """
    host, peer, data = record.host, record.peer, record.payload
    if peer != host or not isinstance(data, ProtocolLine | TcpConnect):
        return host, peer
    server = f"{host}:{data.port}"
    if isinstance(data, ProtocolLine) and data.role == "server":
        return server, host
    return host, server


def _cut_middle(text: str, width: int) -> str:
    """`text` with its middle replaced by an ellipsis to fit `width`."""
    if width <= 1:
        return text[:width]
    tail = (width - 1) // 2
    head = width - 1 - tail
    return text[:head] + ELLIPSIS + (text[-tail:] if tail else "")


def visible(text: str) -> str:
    """`text` with control characters shown as control pictures (␍, ␛, …)."""
    return text.translate(_CONTROL_PICTURES)


def short_message_id(message_id: str, width: int = 12) -> str:
    """The left part of a Message-ID, e.g. "1.alice" for "<1.alice@example.org>"."""
    bare = message_id.strip().strip("<>")
    left = bare.split("@", 1)[0] or bare
    return left if len(left) <= width else left[: width - 1] + ELLIPSIS
