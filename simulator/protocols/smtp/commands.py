"""SMTP syntax: verbs, paths, ESMTP parameters, and message content.

Pure functions over text, plus `ContentReader`, which turns the lines after
DATA back into the message (dot-stuffing undone, end of data found).  A
refused command raises `CommandRefused` carrying the reply that a server
answers with; the server catches it, so nothing here ever escapes the
state machine.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import Enum

from simulator.protocols.addresses import is_postmaster
from simulator.protocols.common import (
    CRLF,
    TERMINATOR,
    Line,
    LineBuffer,
    split_lines,
    stuff_lines,
    unstuff_line,
)
from simulator.protocols.smtp.replies import SmtpReply

# RFC 5321 §4.5.3.1.1-3: size limits in octets
MAX_LOCAL_PART = 64
MAX_DOMAIN = 255
MAX_PATH = 256  # including "<" and ">"


class Verb(Enum):
    """SMTP command verbs, plus two pseudo-inputs used by `TRANSITIONS`."""

    HELO = "HELO"
    EHLO = "EHLO"
    MAIL = "MAIL"
    RCPT = "RCPT"
    DATA = "DATA"
    RSET = "RSET"
    NOOP = "NOOP"
    QUIT = "QUIT"
    VRFY = "VRFY"
    AUTH = "AUTH"
    LHLO = "LHLO"  # LMTP's greeting (RFC 2033 §4.1); unknown to an SMTP server
    # recognised but not implemented: 502 (RFC 5321 §4.2.4)
    EXPN = "EXPN"
    HELP = "HELP"
    TURN = "TURN"
    ETRN = "ETRN"
    BDAT = "BDAT"
    STARTTLS = "STARTTLS"
    # pseudo-inputs: the final "." of DATA, the client's line after "334"
    DATA_END = "<CRLF>.<CRLF>"
    AUTH_RESPONSE = "<SASL response>"


UNIMPLEMENTED: frozenset[Verb] = frozenset(
    {Verb.EXPN, Verb.HELP, Verb.TURN, Verb.ETRN, Verb.BDAT}
)
_PSEUDO = {Verb.DATA_END, Verb.AUTH_RESPONSE}
_BY_WORD: dict[str, Verb] = {verb.value: verb for verb in Verb if verb not in _PSEUDO}


class CommandRefused(Exception):
    """A command cannot run (bad syntax, wrong moment...); `reply` says how to answer."""

    def __init__(self, reply: SmtpReply, fields: dict[str, str] | None = None) -> None:
        super().__init__(reply.name)
        self.reply = reply
        self.fields = fields or {}


@dataclass(frozen=True)
class Command:
    """One parsed command line: its verb (None if unknown) and argument."""

    verb: Verb | None
    word: str
    argument: str


@dataclass(frozen=True)
class PathArgument:
    """A MAIL/RCPT argument: the path without "<>" and its ESMTP parameters."""

    path: str
    params: dict[str, str | None]


def parse_command(line: str) -> Command:
    """Split "VERB argument" into a `Command`; verbs are case-insensitive."""
    word, _, argument = line.strip().partition(" ")
    return Command(_BY_WORD.get(word.upper()), word, argument.strip())


def parse_path_argument(argument: str, keyword: str, sender: bool, strict: bool) -> PathArgument:
    """Parse "FROM:<path> PARAMS" (keyword "FROM") or "TO:<path> PARAMS".

    RFC 5321 §4.1.1.2-3; a space after the colon is tolerated as Postfix
    does.  Unless `strict` (Postfix strict_rfc821_envelopes, "no" by
    default), an address without "<>" is accepted too: "FROM:bob@example.net".
    """
    head, colon, rest = argument.partition(":")
    rest = rest.lstrip(" ")
    if not colon or head.strip().upper() != keyword or not rest:
        raise CommandRefused(SmtpReply.MAIL_SYNTAX if sender else SmtpReply.RCPT_SYNTAX)
    bad = SmtpReply.BAD_SENDER if sender else SmtpReply.BAD_RECIPIENT
    if not rest.startswith("<"):
        if strict:
            raise CommandRefused(bad)
        path, _, tail = rest.partition(" ")
        return PathArgument(check_path(f"<{path}>", sender), parse_params(tail))
    if ">" not in rest:
        raise CommandRefused(bad)
    end = rest.index(">") + 1
    path, tail = rest[:end], rest[end:]
    if tail and not tail.startswith(" "):
        raise CommandRefused(bad)
    return PathArgument(check_path(path, sender), parse_params(tail))


def check_path(path: str, sender: bool) -> str:
    """Validate "<mailbox>" and return the mailbox without "<>".

    The null path "<>" is allowed for senders (RFC 5321 §4.5.5) and
    "<Postmaster>" without a domain for recipients (§4.1.1.3).  A source
    route "<@a,@b:user@c>" is accepted and dropped (§4.1.1.3, Appendix C).
    """
    bad = SmtpReply.BAD_SENDER if sender else SmtpReply.BAD_RECIPIENT
    if len(path) > MAX_PATH:
        raise CommandRefused(SmtpReply.PATH_TOO_LONG)
    inner = path[1:-1]
    if inner.startswith("@"):
        route, colon, inner = inner.partition(":")
        if not colon or not all(is_domain(hop[1:]) for hop in route.split(",")):
            raise CommandRefused(bad)
    if inner == "" and sender:
        return ""
    if not sender and is_local_part(inner) and is_postmaster(inner):
        return inner
    check_mailbox(inner, bad)
    return inner


def check_mailbox(mailbox: str, bad: SmtpReply) -> None:
    """Raise `CommandRefused(bad)` unless `mailbox` is local-part@domain."""
    local, at, domain = mailbox.rpartition("@")
    if not at or not is_local_part(local) or not _is_domain_or_literal(domain):
        raise CommandRefused(bad)
    if len(local) > MAX_LOCAL_PART or len(domain) > MAX_DOMAIN:
        raise CommandRefused(SmtpReply.PATH_TOO_LONG)


# RFC 5321 §4.1.2: Dot-string = Atom *("." Atom); atext per RFC 5322 §3.2.3
_DOT_STRING = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*")
_QUOTED_STRING = re.compile(r'"([\x20\x21\x23-\x5b\x5d-\x7e]|\\[\x20-\x7e])*"')
_SUB_DOMAIN = re.compile(r"[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?")
_ADDRESS_LITERAL = re.compile(r"\[[\x21-\x5a\x5e-\x7e]+\]")


def is_local_part(local: str) -> bool:
    """Whether `local` is a Dot-string or Quoted-string (RFC 5321 §4.1.2)."""
    return bool(_DOT_STRING.fullmatch(local) or _QUOTED_STRING.fullmatch(local))


def is_domain(domain: str) -> bool:
    """Whether `domain` is dot-separated sub-domains (RFC 5321 §4.1.2)."""
    return bool(domain) and all(_SUB_DOMAIN.fullmatch(label) for label in domain.split("."))


def _is_domain_or_literal(domain: str) -> bool:
    return is_domain(domain) or bool(_ADDRESS_LITERAL.fullmatch(domain))


# RFC 5321 §4.1.2: esmtp-keyword = (ALPHA / DIGIT) *(ALPHA / DIGIT / "-")
_PARAM = re.compile(r"([A-Za-z0-9][A-Za-z0-9-]*)(?:=([\x21-\x3c\x3e-\x7e]+))?")


def parse_params(text: str) -> dict[str, str | None]:
    """Parse ESMTP "KEY=value KEY" parameters; keys are upper-cased."""
    params: dict[str, str | None] = {}
    for item in text.split():
        match = _PARAM.fullmatch(item)
        if match is None:
            raise CommandRefused(SmtpReply.UNKNOWN_PARAMETER, {"param": item})
        params[match.group(1).upper()] = match.group(2)
    return params


BODY_TYPES = frozenset({"7BIT", "8BITMIME"})  # RFC 6152 §2


def check_mail_params(params: dict[str, str | None], esmtp: bool, max_size: int) -> int | None:
    """Check MAIL's ESMTP parameters; return the SIZE= value, if any.

    Only SIZE (RFC 1870) and BODY (RFC 6152) are known, and only after EHLO.
    """
    size = None
    for key, value in params.items():
        if not esmtp or key not in ("SIZE", "BODY"):
            raise CommandRefused(SmtpReply.UNKNOWN_PARAMETER, {"param": key})
        if key == "BODY" and (value or "").upper() not in BODY_TYPES:
            raise CommandRefused(SmtpReply.BAD_BODY)
        if key == "SIZE":
            size = _size_param(value, max_size)
    return size


def _size_param(value: str | None, max_size: int) -> int:
    """RFC 1870 §3: SIZE=digits; over the limit is 552 at MAIL (§6.1)."""
    if value is None or not value.isdigit() or not value.isascii():
        raise CommandRefused(SmtpReply.BAD_SIZE)
    size = int(value)
    if 0 < max_size < size:
        raise CommandRefused(SmtpReply.MESSAGE_TOO_BIG)
    return size


def dot_stuff(content: bytes) -> bytes:
    """Content as sent after DATA: CRLF lines, dot-stuffed, then ".CRLF".

    A bare LF counts as a line end, as it does for the receiving server,
    and a missing final line end is added.
    """
    return stuff_lines(split_lines(content))


@dataclass
class ContentReader:
    """The message after DATA's 354, read line by line (or piece by piece).

    End of data is only <CRLF>.<CRLF> (RFC 5321 §4.1.1.4): the "." line and
    the line before it must both end in CRLF.  A line ending in a bare LF
    still ends its line and is stored with CRLF, but a lone "." next to a
    bare LF is neither the end nor content: it is dropped, as Postfix does
    with smtpd_forbid_bare_newline = normalize (the default since 3.9), so
    no second message can be smuggled behind it (CVE-2023-51764).

    A long line arrives in pieces (Postfix line_length_limit) that are
    joined again, so no line length is refused; only a message over
    `limit` octets is (RFC 1870; 0 = no limit).
    """

    limit: int
    content: bytearray = field(default_factory=bytearray)
    too_big: bool = False
    _line_start: bool = True  # the next piece begins a line
    _after_crlf: bool = True  # the line before ended in CRLF (DATA's own line does)

    def take(self, piece: Line) -> bool:
        """Add one piece of input; True when it was the end of data."""
        lone_dot = self._line_start and piece.complete and piece.content == TERMINATOR
        if lone_dot and piece.ending == CRLF and self._after_crlf:
            return True
        if not lone_dot:
            # RFC 5321 §4.5.2: a leading "." is removed before length or storage
            data = unstuff_line(piece.content) if self._line_start else piece.content
            self._store(data + CRLF if piece.complete else data)
        if piece.complete:
            self._after_crlf = piece.ending == CRLF
        self._line_start = piece.complete
        return False

    def take_plain_lines(self, lines: LineBuffer) -> bool:
        """At the start of a line, take the plain lines waiting in `lines` at once
        (`LineBuffer.next_plain_lines`); whether there were any.

        None begins with ".", so none is stuffed or ends the data; they are
        stored as `take` would store them, line by line or piece by piece.
        """
        plain = lines.next_plain_lines() if self._line_start else b""
        if plain:
            self._store(plain)
            self._after_crlf = True
        return bool(plain)

    def _store(self, data: bytes) -> None:
        if self.too_big:
            return
        self.content += data
        if 0 < self.limit < len(self.content):
            self.too_big = True  # keep reading up to the end, store nothing more
            self.content.clear()
