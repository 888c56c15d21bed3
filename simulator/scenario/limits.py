"""The bounds a scenario is held to, in one place, and the checked text types they shape.

A scenario file is user input, so everything in it has a documented upper
bound: the file's size, how deeply it nests, how far its YAML aliases may
expand, how many hosts, users and messages it holds, how long its texts
and durations are.  A file inside these bounds loads in well under a
second and runs to its end; anything beyond them is refused with a
message naming the bound.  The README's "Scenario files" section lists
the same numbers.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import AfterValidator, Field
from pydantic_core import PydanticCustomError

# The file and its YAML.
MAX_FILE_BYTES = 1_000_000  # a big classroom scenario is a few tens of kB
MAX_DEPTH = 20  # lists and mappings inside each other; a scenario needs 6
MAX_VALUES = 250_000  # values (scalars, lists, mappings), every alias expanded
MAX_TEXT = 4_000_000  # characters of keys and values, every alias expanded
MAX_NUMBER_LENGTH = 100  # characters of one number written in the file

# Times.  A simulated year is plenty, and keeps every date in range.
MAX_DURATION = 365 * 86400.0  # seconds: any duration, time or interval
MAX_CHECKS = 1_000_000  # POP3 checks one mail client may make in a run: every 32s for a year

# Counts.
MAX_HOSTS = 1000
MAX_LINKS_PER_HOST = 100
MAX_DNS_NAMES = 1000
MAX_RECORDS_PER_NAME = 100
MAX_DOMAINS = 100
MAX_USERS_PER_DOMAIN = 1000
MAX_MESSAGES = 10_000
MAX_RECIPIENTS = 100  # RFC 5321 §4.5.3.1.8: the minimum a server must accept
MAX_SEED = 2**63 - 1  # a signed 64-bit integer, exact in every JSON reader's int64

# Text lengths, in characters.
MAX_TITLE = 200  # the scenario's name
MAX_DESCRIPTION = 10_000
MAX_PASSWORD = 100
MAX_CLIENT = 100
MAX_SUBJECT = 998  # RFC 5322 §2.1.1: a line is at most 998 characters
MAX_BODY = 1_000_000  # in UTF-8 still under Postfix's message_size_limit (10,240,000 bytes)
MAX_TXT = 1000

# C0 and C1 control characters, DEL, the Unicode line and paragraph
# separators (what a terminal acts on or a line splitter breaks at), the
# bidirectional overrides and isolates that reorder what a reader sees
# (CVE-2021-42574, "Trojan Source"), and lone UTF-16 surrogates (no
# character at all: UTF-8 cannot carry them).
_CONTROL_RE = re.compile(
    "[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]"
)
_LINE_BREAKS = "\r\n\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"
_ALLOWED_IN_LONG_TEXT = "\r\n\t"


def _control_problem(text: str, allowed: str) -> str | None:
    """Describe the first control character in `text` not in `allowed`, if any."""
    for match in _CONTROL_RE.finditer(text):
        char = match.group()
        if char not in allowed:
            return f"U+{ord(char):04X} at character {match.start() + 1}"
    return None


def _one_line(why: str) -> Any:
    """A validator: one line of text without control characters."""

    def check(text: str) -> str:
        if any(char in text for char in _LINE_BREAKS):
            raise PydanticCustomError("one_line", f"must be one line without line breaks{why}")
        found = _control_problem(text, "")
        if found is not None:
            raise PydanticCustomError(
                "control_character",
                "must not contain control characters (found {found})",
                {"found": found},
            )
        return text

    return AfterValidator(check)


def _long_text(text: str) -> str:
    """Text of several lines: line breaks and tabs, but no other control characters."""
    found = _control_problem(text, _ALLOWED_IN_LONG_TEXT)
    if found is not None:
        raise PydanticCustomError(
            "control_character",
            "must not contain control characters other than line breaks and tabs "
            "(found {found})",
            {"found": found},
        )
    return text


#: The check of a free-text field of several lines.
LONG_TEXT = AfterValidator(_long_text)
#: The check of a one-line text field.
ONE_LINE = _one_line("")
_HEADER_LINE = _one_line(": it becomes a mail header")

# Each text type is a str to a type checker; pydantic reads its bounds and check.
Title = Annotated[str, Field(min_length=1, max_length=MAX_TITLE), ONE_LINE]
"""The scenario's name: one line, not empty."""

Description = Annotated[str, Field(max_length=MAX_DESCRIPTION), LONG_TEXT]
"""Free text of several lines."""

Password = Annotated[str, Field(min_length=1, max_length=MAX_PASSWORD), ONE_LINE]
"""A password: one line, not empty."""

ClientName = Annotated[str, Field(min_length=0, max_length=MAX_CLIENT), _HEADER_LINE]
"""A mail client's display name (it goes into the User-Agent: header)."""

HeaderText = Annotated[str, Field(min_length=0, max_length=MAX_SUBJECT), _HEADER_LINE]
"""Text that becomes a mail header, such as a subject."""

Body = Annotated[str, Field(max_length=MAX_BODY), LONG_TEXT]
"""A message's text."""

TxtText = Annotated[str, Field(min_length=0, max_length=MAX_TXT), ONE_LINE]
"""The text of a DNS TXT record."""
