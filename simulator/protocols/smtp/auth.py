"""SASL PLAIN (RFC 4616) as used by SMTP AUTH (RFC 4954)."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass


@dataclass(frozen=True)
class PlainCredentials:
    """The three fields of a PLAIN message: authzid NUL authcid NUL passwd."""

    authzid: str
    username: str
    password: str


class Base64Error(ValueError):
    """The client's response is not valid base64 (RFC 4954 §4: 501)."""


def encode_plain(username: str, password: str, authzid: str = "") -> str:
    """The base64 PLAIN response for these credentials (RFC 4616 §2)."""
    raw = f"{authzid}\0{username}\0{password}".encode()
    return base64.b64encode(raw).decode("ascii")


def decode_plain(text: str) -> PlainCredentials | None:
    """Decode a base64 PLAIN response.

    Raises `Base64Error` for bad base64; returns None when the decoded
    message is not three UTF-8 fields with a non-empty user (RFC 4616 §2).
    "=" stands for an empty response (RFC 4954 §4).
    """
    try:
        raw = b"" if text == "=" else base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as error:
        raise Base64Error(str(error)) from None
    parts = raw.split(b"\0")
    if len(parts) != 3 or not parts[1]:
        return None
    try:
        authzid, username, password = (part.decode("utf-8") for part in parts)
    except UnicodeDecodeError:
        return None
    return PlainCredentials(authzid, username, password)
