"""Durations, bandwidths and sizes as a student writes them: ``"5m"``, ``"10Mbit"``, ``"2MB"``.

`Duration` and `Bandwidth` are pydantic `Annotated` types: a scenario field
declared as ``latency: Duration`` accepts ``"5ms"``, ``0.005`` or ``5e-3`` and
stores float seconds; ``bandwidth: Bandwidth`` accepts ``"100Mbit"`` or
``1e8`` and stores float bits per second.  Bad input raises a
`PydanticCustomError` whose message already reads well, so the loader shows
it unchanged.  Every duration is at most a simulated year
(`limits.MAX_DURATION`) and every bandwidth lies between 1 bit/s and
1 Tbit/s, so no run overflows a date or waits forever.  `format_duration`
and `format_bandwidth` turn the floats back into the short human form for
messages and views.  `Size` (a mailbox quota) accepts ``"2MB"``, ``"500kB"``
or a bare number of bytes and stores int bytes; like Dovecot, it reads
k, M and G as powers of 1024.
"""

from __future__ import annotations

import math
import re
from typing import Annotated, Any

from pydantic import BeforeValidator, Field, WithJsonSchema
from pydantic_core import PydanticCustomError

from simulator.scenario.errors import describe
from simulator.scenario.limits import MAX_DURATION

SECONDS_PER_UNIT: dict[str, float] = {
    "us": 1e-6,
    "µs": 1e-6,
    "ms": 1e-3,
    "s": 1.0,
    "m": 60.0,
    "h": 3600.0,
    "d": 86400.0,
}
"""Duration suffixes and their length in seconds."""

BITS_PER_UNIT: dict[str, float] = {"": 1.0, "k": 1e3, "K": 1e3, "M": 1e6, "G": 1e9}
"""Bandwidth prefixes (SI, decimal: 1 kbit/s = 1000 bit/s) and their factor."""

BYTES_PER_PREFIX: dict[str, int] = {"": 1, "k": 1024, "K": 1024, "M": 1024**2, "G": 1024**3}
"""Size prefixes, binary as Dovecot reads them (quota_storage_size = 1G is 1024**3 bytes)."""

_NUMBER = r"(?P<number>\d+(?:\.\d*)?|\.\d+)"
_DURATION_RE = re.compile(rf"^{_NUMBER}\s*(?P<unit>us|µs|ms|s|m|h|d)?$")
_SIZE_RE = re.compile(rf"^{_NUMBER}\s*(?P<prefix>[kKMG]?)(?:i?B)?$")
_BANDWIDTH_RE = re.compile(rf"^{_NUMBER}\s*(?P<prefix>[kKMG]?)(?:bit(?:/s|ps)?|bps|b/s)$")

MIN_BANDWIDTH = 1.0  # bit/s
MAX_BANDWIDTH = 1e12  # bit/s: 1 Tbit/s, beyond the fastest Ethernet (IEEE 802.3df, 800 Gbit/s)

MAX_SIZE = 1024**4  # bytes: 1 TiB, more than any mailbox quota

SIZE_EXAMPLE = 'expected a size such as "2MB", "500kB" or a number of bytes, got {got}'
SIZE_RANGE = "must be between 1 byte and 1TB, got {got}"
DURATION_EXAMPLE = 'expected a duration such as "250ms", "5m" or "2h", got {got}'
BANDWIDTH_EXAMPLE = 'expected a bandwidth such as "100Mbit" or "56kbit", got {got}'
DURATION_TOO_LONG = "must be at most 365d (a simulated year), got {got}"
BANDWIDTH_RANGE = "must be between 1bit and 1000Gbit, got {got}"


def _bare_number(value: Any) -> float | None:
    """Return `value` as a float if it is a plain finite, non-negative number."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        number = float(value)
    except OverflowError:  # an integer too large for a float
        return math.inf
    return number + 0.0 if not math.isnan(number) and number >= 0 else None  # -0.0 -> 0.0


def _in_range(number: float, low: float, high: float, message: str, value: Any) -> float:
    """`number` if it lies in [low, high], else a readable error about `value`."""
    if not low <= number <= high:
        raise PydanticCustomError("out_of_range", message, {"got": describe(value)})
    return number


def parse_duration(value: Any) -> float:
    """Parse ``"250ms"``, ``"1.5s"``, ``"5m"``, ``"2h"``, ``"4d"``, ``"500us"`` or a
    bare number of seconds into float seconds (>= 0)."""
    number = _bare_number(value)
    if number is None:
        match = _DURATION_RE.match(value.strip()) if isinstance(value, str) else None
        if match is None:
            raise PydanticCustomError("duration", DURATION_EXAMPLE, {"got": describe(value)})
        number = float(match["number"]) * SECONDS_PER_UNIT[match["unit"] or "s"]
    return _in_range(number, 0.0, MAX_DURATION, DURATION_TOO_LONG, value)


def parse_bandwidth(value: Any) -> float:
    """Parse ``"56kbit"``, ``"10Mbit/s"``, ``"1Gbps"``, ``"9600bit"`` or a bare number
    of bits per second into float bits per second (> 0)."""
    number = _bare_number(value)
    if number is None and isinstance(value, str):
        match = _BANDWIDTH_RE.match(value.strip())
        if match is not None:
            number = float(match["number"]) * BITS_PER_UNIT[match["prefix"]]
    if not number:  # None (unreadable) or 0 (a link that never delivers)
        raise PydanticCustomError("bandwidth", BANDWIDTH_EXAMPLE, {"got": describe(value)})
    return _in_range(number, MIN_BANDWIDTH, MAX_BANDWIDTH, BANDWIDTH_RANGE, value)


def parse_size(value: Any) -> int:
    """Parse ``"2MB"``, ``"500kB"``, ``"1G"``, ``"3MiB"`` or a bare number of bytes
    into int bytes (>= 1)."""
    number = _bare_number(value)
    if number is None and isinstance(value, str):
        match = _SIZE_RE.match(value.strip())
        if match is not None:
            number = float(match["number"]) * BYTES_PER_PREFIX[match["prefix"]]
    if number is None:
        raise PydanticCustomError("size", SIZE_EXAMPLE, {"got": describe(value)})
    return round(_in_range(number, 1, MAX_SIZE, SIZE_RANGE, value))


def format_duration(seconds: float) -> str:
    """Write float seconds the short way: 600 -> ``"10m"``, 0.25 -> ``"250ms"``."""
    for unit in ("d", "h", "m"):
        count = seconds / SECONDS_PER_UNIT[unit]
        if count >= 1 and math.isclose(count, round(count), abs_tol=1e-9):
            return f"{round(count)}{unit}"
    if seconds >= 1:
        return f"{seconds:g}s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:g}ms"
    return f"{seconds * 1e6:g}us" if seconds else "0s"


def format_bandwidth(bits_per_second: float) -> str:
    """Write bits per second the short way: 1e8 -> ``"100Mbit"``."""
    for prefix in ("G", "M", "k"):
        count = bits_per_second / BITS_PER_UNIT[prefix]
        if count >= 1:
            return f"{count:g}{prefix}bit"
    return f"{bits_per_second:g}bit"


def _ecma_pattern(pattern: re.Pattern[str]) -> str:
    """The regex without Python's named groups, as JSON Schema (ECMA-262) reads it."""
    return re.sub(r"\?P<\w+>", "", pattern.pattern)


_DURATION_SCHEMA = {
    "anyOf": [
        {"type": "number", "minimum": 0, "maximum": MAX_DURATION},
        {"type": "string", "pattern": _ecma_pattern(_DURATION_RE)},
    ],
    "description": 'A duration: "500us", "250ms", "1.5s", "5m", "2h", "4d" or bare seconds; '
    "at most 365d.",
    "examples": ["250ms", "5m", "2h"],
}
_BANDWIDTH_SCHEMA = {
    "anyOf": [
        {"type": "number", "minimum": MIN_BANDWIDTH, "maximum": MAX_BANDWIDTH},
        {"type": "string", "pattern": _ecma_pattern(_BANDWIDTH_RE)},
    ],
    "description": 'A bandwidth: "9600bit", "56kbit", "10Mbit", "1Gbit" or bare bits per second; '
    "1bit to 1000Gbit.",
    "examples": ["56kbit", "100Mbit", "1Gbit"],
}

_SIZE_SCHEMA = {
    "anyOf": [
        {"type": "integer", "minimum": 1, "maximum": MAX_SIZE},
        {"type": "string", "pattern": _ecma_pattern(_SIZE_RE)},
    ],
    "description": 'A size: "2MB", "500kB", "1GB" (k, M, G are powers of 1024) or bare bytes.',
    "examples": ["2MB", "500kB"],
}

Duration = Annotated[float, BeforeValidator(parse_duration), WithJsonSchema(_DURATION_SCHEMA)]
"""Float seconds, written in a scenario as ``"250ms"``, ``"5m"``, ``2`` ..."""

PositiveDuration = Annotated[Duration, Field(gt=0)]
"""A `Duration` that must be longer than zero (a polling interval, a run length)."""

Bandwidth = Annotated[float, BeforeValidator(parse_bandwidth), WithJsonSchema(_BANDWIDTH_SCHEMA)]
"""Float bits per second (> 0), written in a scenario as ``"100Mbit"``, ``"56kbit"`` ..."""

Size = Annotated[int, BeforeValidator(parse_size), WithJsonSchema(_SIZE_SCHEMA)]
"""Int bytes (>= 1), written in a scenario as ``"2MB"``, ``"500kB"``, ``1048576`` ..."""
