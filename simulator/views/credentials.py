"""The credentials a plain session gives away, read as an eavesdropper reads them.

Only the client's command lines carry credentials, so a `CredentialReader`
follows one session's dialogue to know which client lines are commands:
after a `354` reply the client sends a message until the lone "." (RFC 5321
§4.1.1.4, RFC 2033), and after an IMAP literal is announced (`{n}`, sent
after the server's `+`; `{n+}` at once: RFC 9051 §4.3, RFC 7888) the next n
octets are data, not commands.  A server's lines are never read for secrets.

What it recognises: POP3 `USER` and `PASS` (RFC 1939 §7); IMAP `LOGIN`
(RFC 9051 §6.2.3) after its tag; SASL PLAIN (RFC 4616 §2) as an initial
response (`AUTH PLAIN ...`, RFC 4954 §4; `AUTHENTICATE PLAIN ...`, RFC 4959)
or as the answer to an empty `334`/`+` challenge; and SASL LOGIN, whose
base64 challenges ask for "Username:" and "Password:".  Base64 is an
encoding, not a cipher: anyone reads it.
"""

from __future__ import annotations

import binascii
import re
from base64 import b64decode

CRLF_OCTETS = 2  # each recorded line lost its CRLF
POP3_WORDS = {"USER": "user name", "PASS": "password"}  # RFC 1939 §7
#: RFC 9051 §4.3, RFC 7888: a line ending in {n} (or {n+}) announces n octets of literal.
LITERAL_AT_END = re.compile(r"\{([0-9]{1,10})(\+?)\}\Z")
#: RFC 9051 §6.2.3: LOGIN's two arguments, each an atom or a quoted string
#: (§4.1, §4.3: \" and \\ escaped).
ASTRING = r'"((?:[^"\\]|\\.)*)"|([^\s"(){]+)'
LOGIN_ARGUMENTS = re.compile(rf"(?:{ASTRING}) +(?:{ASTRING}) *")
SASL_COMMANDS = frozenset({"AUTH", "AUTHENTICATE"})  # RFC 4954 / RFC 5034 / RFC 9051 §6.2.2


class CredentialReader:
    """One session's dialogue as an eavesdropper follows it, line by line."""

    def __init__(self, protocol: str | None) -> None:
        self.tagged = protocol == "imap"  # RFC 9051 §2.2.1: every command starts with a tag
        self.message = False  # between a 354 and the client's lone "."
        self.literal = 0  # octets of a client literal still to come
        self.announced = 0  # a synchronizing literal waiting for the server's "+"
        self.sasl: str | None = None  # the SASL mechanism being negotiated
        self.challenge: str | None = None  # the server's last SASL challenge, decoded

    def server(self, line: str) -> None:
        """A server line: it may open a message, a literal or a SASL challenge."""
        code, _, rest = line.partition(" ")
        if code == "354":
            self.message = True
        elif code == "+" and self.announced:
            self.literal, self.announced = self.announced, 0
        elif code in ("334", "+") and self.sasl is not None:
            self.challenge = _decoded(rest.strip()) or ""
        else:
            self.sasl = self.challenge = None

    def client(self, line: str) -> str | None:
        """A client line: the credential it gives away, in words, if it is a command that does."""
        if self.message:
            self.message = line != "."
            return None
        if self.literal > 0:
            self.literal -= len(line.encode("utf-8")) + CRLF_OCTETS
            return None
        if self.challenge is not None:
            return self._response(line)
        announced = LITERAL_AT_END.search(line)
        if announced is not None:
            if announced.group(2):  # {n+}: no "+" awaited
                self.literal = int(announced.group(1))
            else:
                self.announced = int(announced.group(1))
        return self._command(line)

    def _command(self, line: str) -> str | None:
        """The credential in a command line (its tag removed)."""
        if self.tagged:
            line = line.partition(" ")[2]
        verb, _, argument = line.partition(" ")
        verb = verb.upper()
        if self.tagged and verb == "LOGIN":
            return _login(argument)
        if not self.tagged and verb in POP3_WORDS and argument:
            return f"{POP3_WORDS[verb]} {argument!r}"
        if verb in SASL_COMMANDS and argument:
            mechanism, _, initial = argument.partition(" ")
            self.sasl = mechanism.upper()
            return self._answer(initial.strip()) if initial.strip() else None
        return None

    def _response(self, line: str) -> str | None:
        """A client line answering a SASL challenge: base64, or "*" to cancel."""
        self.challenge, challenge = None, self.challenge
        if line.strip() == "*":
            self.sasl = None
            return None
        if self.sasl == "LOGIN":
            words = {"Username:": "user name", "Password:": "password"}
            what = words.get(challenge or "")
            value = _decoded(line.strip())
            return f"{what} {value!r} (AUTH LOGIN, base64)" if what and value else None
        return self._answer(line.strip())

    def _answer(self, response: str) -> str | None:
        """A SASL response sent with the command or after a challenge."""
        if self.sasl == "PLAIN":
            return _plain(response)
        if self.sasl == "LOGIN":
            value = _decoded(response)
            return f"user name {value!r} (AUTH LOGIN, base64)" if value else None
        return None


def _decoded(text: str) -> str | None:
    """Base64 `text` decoded, or None if it is not base64 of UTF-8 text."""
    try:
        return b64decode(text, validate=True).decode("utf-8") if text else None
    except (binascii.Error, UnicodeDecodeError):
        return None


def _plain(response: str) -> str | None:
    """What anyone decodes from a SASL PLAIN response: authzid NUL authcid NUL
    password (RFC 4616 §2), in base64 (RFC 4954 §4) -- an encoding, no secret."""
    decoded = _decoded(response)
    parts = decoded.split("\0") if decoded is not None else []
    if len(parts) != 3:
        return None
    return f"user name {parts[1]!r}, password {parts[2]!r} (AUTH PLAIN, base64)"


def _login(arguments: str) -> str | None:
    """IMAP `LOGIN userid password` in clear (RFC 9051 §6.2.3)."""
    found = LOGIN_ARGUMENTS.fullmatch(arguments)
    if found is None:
        return None
    quoted_user, user, quoted_password, password = found.groups()
    user = user if quoted_user is None else re.sub(r"\\(.)", r"\1", quoted_user)
    password = password if quoted_password is None else re.sub(r"\\(.)", r"\1", quoted_password)
    return f"user name {user!r}, password {password!r} (IMAP LOGIN)"
