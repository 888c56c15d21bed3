"""SASL PLAIN (RFC 4616) as used by SMTP AUTH (RFC 4954).

The mechanism itself lives in `simulator.protocols.sasl`, shared with
POP3; this module keeps the names the SMTP machines import and says which
reply a PLAIN response that cannot go to the agent gets.
"""

from __future__ import annotations

from collections.abc import Collection

from simulator.protocols.sasl import (
    MECHANISM,
    Base64Error,
    PlainCredentials,
    decode_plain,
    encode_plain,
    may_act_as,
)
from simulator.protocols.smtp.replies import SmtpReply

__all__ = [
    "MECHANISM",
    "Base64Error",
    "PlainCredentials",
    "decode_plain",
    "encode_plain",
    "may_act_as",
    "plain_response",
]


def plain_response(text: str, act_as: Collection[tuple[str, str]]) -> PlainCredentials | SmtpReply:
    """The credentials in a client's PLAIN response, or the reply refusing it."""
    if text == "*":
        return SmtpReply.AUTH_ABORTED  # RFC 4954 §4: the client cancels
    try:
        credentials = decode_plain(text)
    except Base64Error:
        return SmtpReply.AUTH_BAD_BASE64  # RFC 4954 §4: 501
    if credentials is None or not may_act_as(credentials, act_as):
        return SmtpReply.AUTH_FAILED  # RFC 4616 §2: 535 5.7.8, authzid not allowed
    return credentials
