"""RFC 3463 enhanced mail system status codes: the one pattern that finds them.

A status code is class.subject.detail, e.g. `5.1.1`: the class is 2
(success), 4 (persistent transient failure) or 5 (permanent failure); the
subject and detail are numbers of one to three digits (RFC 3463 §2).
"""

from __future__ import annotations

import re

#: RFC 3463 §2: class "." subject "." detail -- a word of its own, not part of
#: a longer dotted number such as an IPv4 address.
ENHANCED_STATUS = re.compile(r"(?<![\w.])([245])\.(\d{1,3})\.(\d{1,3})(?!\w|\.\d)")


def find_enhanced_status(text: str) -> str | None:
    """The first enhanced status code anywhere in `text` (a reply, a log line), if any."""
    match = ENHANCED_STATUS.search(text)
    return ".".join(match.groups()) if match else None


def leading_enhanced_status(text: str, reply_code: int) -> str | None:
    """The enhanced code that opens a reply's text, if its class matches the reply's.

    RFC 2034 §4: the class digit repeats the reply code's first digit, so
    "250 2.1.0 Ok" carries one and "250 5.1.0 odd" does not; the code is
    followed by a space or ends the text.
    """
    match = ENHANCED_STATUS.match(text)
    if match is None or int(match.group(1)) != reply_code // 100:
        return None
    end = match.end()
    if end < len(text) and text[end] != " ":
        return None
    return ".".join(match.groups())


def status_class(status: str) -> int:
    """The class digit of a status code: 2, 4 or 5 (RFC 3463 §3.1)."""
    return int(status.partition(".")[0])
