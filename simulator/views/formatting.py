"""Small text helpers shared by the views: clocks, durations, host names."""

from __future__ import annotations

import math

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


def abbreviate_host(name: str, width: int) -> str:
    """`name` in at most `width` cells, keeping its first and last labels.

    Middle labels shrink to their initial first ("mail.example.org" becomes
    "mail.e.org"), so hosts of different domains stay apart; only if that
    is not enough is the middle cut with an ellipsis.
    """
    if len(name) <= width:
        return name
    labels = name.split(".")
    for index in range(1, len(labels) - 1):
        labels[index] = labels[index][:1]
        short = ".".join(labels)
        if len(short) <= width:
            return short
    return _cut_middle(".".join(labels), width)


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
