"""SASL PLAIN (RFC 4616), shared by SMTP AUTH (RFC 4954) and POP3 AUTH (RFC 5034).

The PLAIN message is `authzid NUL authcid NUL passwd`: who the client
wants to act as (empty: itself), who it is, and its password.  A server
must refuse an authzid other than the authcid unless that user may act
as the other (RFC 4616 §2); here that right is a set of (authcid, authzid)
pairs from the server's configuration, empty by default.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Collection
from dataclasses import dataclass

MECHANISM = "PLAIN"
#: Dovecot login-common AUTH_PLAINTEXT_DISABLED_MSG (disable_plaintext_auth = yes before
#: TLS), which pop3-login and imap-login both say (Dovecot 2.4 writes "Cleartext").
PLAINTEXT_DISALLOWED = "Plaintext authentication disallowed on non-secure (SSL/TLS) connections."
#: What Dovecot's login-common adds (client_notify_status) when a password came anyway.
PASSWORD_EXPOSED = ("Plaintext authentication not allowed without SSL/TLS, but your client "
                    "did it anyway. If anyone was listening, the password was exposed.")


@dataclass(frozen=True)
class PlainCredentials:
    """The three fields of a PLAIN message: authzid NUL authcid NUL passwd."""

    authzid: str
    username: str
    password: str

    @property
    def identity(self) -> str:
        """Who the session acts as once the password is right (RFC 4616 §2)."""
        return self.authzid or self.username


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
    "=" stands for an empty response (RFC 4954 §4, RFC 5034 §4).
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


def may_act_as(credentials: PlainCredentials, act_as: Collection[tuple[str, str]]) -> bool:
    """Whether the authcid may take the identity it asks for (RFC 4616 §2).

    An empty authzid, or one equal to the authcid, asks for nothing more;
    any other needs its (authcid, authzid) pair in `act_as`.
    """
    authzid, username = credentials.authzid, credentials.username
    return authzid in ("", username) or (username, authzid) in act_as
