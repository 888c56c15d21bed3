"""SMTP replies: the `Reply` value and the one table of reply texts.

Every reply the simulator ever sends or synthesizes is a key of `SmtpReply`;
its code, RFC 3463 enhanced status code and text live in `REPLIES` only.
Texts follow Postfix (src/smtpd/smtpd.c) where Postfix has one.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any

from simulator.protocols.status import leading_enhanced_status

# RFC 5321 §4.2: Reply-line = *( Reply-code "-" [ textstring ] CRLF )
#                Reply-code [ SP textstring ] CRLF; first digit 2..5.
_REPLY_LINE = re.compile(r"([2-5][0-9][0-9])([ -]?)(.*)", re.DOTALL)


@dataclass(frozen=True)
class Reply:
    """One SMTP reply, possibly multi-line (RFC 5321 §4.2.1)."""

    code: int
    enhanced: str | None
    lines: tuple[str, ...]

    def wire_lines(self) -> tuple[str, ...]:
        """The reply as wire lines without CRLF: "250-a", "250 b"."""
        texts = self.lines or ("",)
        out = []
        for number, text in enumerate(texts, start=1):
            separator = " " if number == len(texts) else "-"
            clean = text.replace("\r", " ").replace("\n", " ")
            if self.enhanced:
                clean = f"{self.enhanced} {clean}" if clean else self.enhanced
            out.append(f"{self.code}{separator}{clean}")
        return tuple(out)

    def to_bytes(self) -> bytes:
        """The reply as sent on the wire, each line ending in CRLF."""
        return "".join(line + "\r\n" for line in self.wire_lines()).encode("utf-8")

    def __str__(self) -> str:
        return self.wire_lines()[0]

    @property
    def text(self) -> str:
        """All text lines joined by spaces (handy for logs and DSNs)."""
        return " ".join(self.lines)

    @property
    def is_positive(self) -> bool:
        """2yz completion or 3yz intermediate (RFC 5321 §4.2.1)."""
        return 200 <= self.code < 400

    @property
    def is_transient(self) -> bool:
        """4yz: try again later (RFC 5321 §4.2.1)."""
        return 400 <= self.code < 500

    @property
    def is_permanent(self) -> bool:
        """5yz: do not repeat the same request (RFC 5321 §4.2.1)."""
        return 500 <= self.code < 600

    @classmethod
    def parse(cls, lines: Sequence[str]) -> Reply:
        """Build a reply from its wire lines (without CRLF).

        Raises ValueError when the lines are not one well-formed reply:
        every line must carry the same code, all but the last with "-".
        """
        if not lines:
            raise ValueError("empty reply")
        codes, texts = [], []
        for number, line in enumerate(lines, start=1):
            match = _REPLY_LINE.fullmatch(line)
            if match is None:
                raise ValueError(f"malformed reply line {line!r}")
            code, separator, text = match.groups()
            last = number == len(lines)
            if (separator == "-") == last or (separator == "" and text):
                raise ValueError(f"bad continuation in reply line {line!r}")
            codes.append(int(code))
            texts.append(text)
        if len(set(codes)) != 1:
            raise ValueError("reply lines carry different codes")
        return cls._with_enhanced(codes[0], texts)

    @classmethod
    def _with_enhanced(cls, code: int, texts: list[str]) -> Reply:
        enhanced = leading_enhanced_status(texts[0], code)
        if enhanced is None:
            return cls(code, None, tuple(texts))
        stripped = tuple(_strip_enhanced(text, enhanced) for text in texts)
        return cls(code, enhanced, stripped)


def _strip_enhanced(text: str, enhanced: str) -> str:
    if text == enhanced:
        return ""
    return text.removeprefix(enhanced + " ")


class SmtpReply(Enum):
    """Names of the replies in `REPLIES`."""

    # Session (greeting and EHLO/HELO carry no enhanced code: RFC 2034 §3)
    GREETING = "greeting"
    HELO_OK = "helo_ok"
    BYE = "bye"
    OK = "ok"
    VRFY_CANNOT = "vrfy_cannot"
    START_DATA = "start_data"
    # Policy answers chosen by agents
    MAIL_OK = "mail_ok"
    RCPT_OK = "rcpt_ok"
    QUEUED = "queued"
    RELAY_DENIED = "relay_denied"
    USER_UNKNOWN = "user_unknown"
    MAILBOX_FULL = "mailbox_full"
    NOT_ACCEPTING = "not_accepting"
    SHUTTING_DOWN = "shutting_down"
    LOCAL_ERROR = "local_error"
    HOP_LIMIT = "hop_limit"
    TIMEOUT = "timeout"
    # Authentication (RFC 4954)
    AUTH_CONTINUE = "auth_continue"
    AUTH_OK = "auth_ok"
    AUTH_FAILED = "auth_failed"
    AUTH_REQUIRED = "auth_required"
    AUTH_ABORTED = "auth_aborted"
    AUTH_BAD_BASE64 = "auth_bad_base64"
    AUTH_MECHANISM = "auth_mechanism"
    # Errors the state machine answers by itself
    UNKNOWN_COMMAND = "unknown_command"
    LINE_TOO_LONG = "line_too_long"
    TOO_MANY_ERRORS = "too_many_errors"
    HELO_SYNTAX = "helo_syntax"
    MAIL_SYNTAX = "mail_syntax"
    RCPT_SYNTAX = "rcpt_syntax"
    DATA_SYNTAX = "data_syntax"
    RSET_SYNTAX = "rset_syntax"
    VRFY_SYNTAX = "vrfy_syntax"
    AUTH_SYNTAX = "auth_syntax"
    BAD_SENDER = "bad_sender"
    BAD_RECIPIENT = "bad_recipient"
    PATH_TOO_LONG = "path_too_long"
    BAD_SIZE = "bad_size"
    BAD_BODY = "bad_body"
    UNKNOWN_PARAMETER = "unknown_parameter"
    NOT_IMPLEMENTED = "not_implemented"
    NEED_HELO = "need_helo"
    NEED_MAIL = "need_mail"
    NEED_RCPT = "need_rcpt"
    NESTED_MAIL = "nested_mail"
    NO_VALID_RECIPIENTS = "no_valid_recipients"
    MAIL_IN_PROGRESS = "mail_in_progress"
    ALREADY_AUTHENTICATED = "already_authenticated"
    AUTH_NOT_ENABLED = "auth_not_enabled"
    NO_SERVICE = "no_service"
    TOO_MANY_RECIPIENTS = "too_many_recipients"
    MESSAGE_TOO_BIG = "message_too_big"
    # STARTTLS (RFC 3207)
    TLS_READY = "tls_ready"
    TLS_ALREADY_ACTIVE = "tls_already_active"
    STARTTLS_SYNTAX = "starttls_syntax"
    TLS_REQUIRED = "tls_required"


#: A reply table: for each key, code, RFC 3463 enhanced code, text template.
ReplyTable = Mapping[Any, tuple[int, str | None, str]]

R = SmtpReply
#: code, RFC 3463 enhanced code, text template ("\n" separates lines).
REPLIES: dict[SmtpReply, tuple[int, str | None, str]] = {
    R.GREETING: (220, None, "{hostname} ESMTP {software}"),
    R.HELO_OK: (250, None, "{hostname}"),
    R.BYE: (221, "2.0.0", "Bye"),
    R.OK: (250, "2.0.0", "Ok"),
    # RFC 5321 §3.5.3: 252 when the server will not verify
    R.VRFY_CANNOT: (252, "2.0.0", "Cannot VRFY user, but will accept message and attempt delivery"),
    R.START_DATA: (354, None, "End data with <CR><LF>.<CR><LF>"),
    R.MAIL_OK: (250, "2.1.0", "Ok"),
    R.RCPT_OK: (250, "2.1.5", "Ok"),
    R.QUEUED: (250, "2.0.0", "Ok: queued as {queue_id}"),
    R.RELAY_DENIED: (554, "5.7.1", "<{rcpt}>: Relay access denied"),
    R.USER_UNKNOWN: (
        550,
        "5.1.1",
        "<{rcpt}>: Recipient address rejected: User unknown in virtual mailbox table",
    ),
    R.MAILBOX_FULL: (552, "5.2.2", "<{rcpt}>: Mailbox full"),
    R.NOT_ACCEPTING: (554, "5.3.2", "{hostname} ESMTP not accepting messages"),
    R.SHUTTING_DOWN: (421, "4.3.2", "{hostname} Service shutting down"),
    R.LOCAL_ERROR: (451, "4.3.0", "Error: queue file write error"),
    R.HOP_LIMIT: (554, "5.4.0", "Error: too many hops"),  # Postfix hopcount_limit
    R.AUTH_CONTINUE: (334, None, ""),  # RFC 4954 §4: empty challenge for PLAIN
    R.AUTH_OK: (235, "2.7.0", "Authentication successful"),
    R.AUTH_FAILED: (535, "5.7.8", "Error: authentication failed"),
    R.AUTH_REQUIRED: (530, "5.7.0", "Authentication required"),  # RFC 6409 §4.3
    R.AUTH_ABORTED: (501, "5.7.0", "Authentication aborted"),  # RFC 4954 §4
    R.AUTH_BAD_BASE64: (501, "5.5.2", "Cannot decode response"),
    R.AUTH_MECHANISM: (504, "5.5.4", "Unsupported authentication mechanism"),
    R.UNKNOWN_COMMAND: (500, "5.5.2", "Error: command not recognized"),
    R.LINE_TOO_LONG: (500, "5.5.0", "Error: line too long"),  # RFC 5321 §4.5.3.1.10
    # Postfix smtpd_hard_error_limit (20), then the session ends
    R.TOO_MANY_ERRORS: (421, "4.7.0", "{hostname} Error: too many errors"),
    R.HELO_SYNTAX: (501, None, "Syntax: {verb} hostname"),
    R.MAIL_SYNTAX: (501, "5.5.4", "Syntax: MAIL FROM:<address>"),
    R.RCPT_SYNTAX: (501, "5.5.4", "Syntax: RCPT TO:<address>"),
    R.DATA_SYNTAX: (501, "5.5.4", "Syntax: DATA"),
    R.RSET_SYNTAX: (501, "5.5.4", "Syntax: RSET"),
    R.VRFY_SYNTAX: (501, "5.5.4", "Syntax: VRFY address"),
    R.AUTH_SYNTAX: (501, "5.5.4", "Syntax: AUTH mechanism"),
    R.BAD_SENDER: (501, "5.1.7", "Bad sender address syntax"),
    R.BAD_RECIPIENT: (501, "5.1.3", "Bad recipient address syntax"),
    R.PATH_TOO_LONG: (501, "5.5.4", "Path too long"),  # RFC 5321 §4.5.3.1.10
    R.BAD_SIZE: (501, "5.5.4", "Bad message size syntax"),
    R.BAD_BODY: (501, "5.5.4", "Bad BODY keyword syntax"),
    R.UNKNOWN_PARAMETER: (555, "5.5.4", "Unsupported option: {param}"),
    R.NOT_IMPLEMENTED: (502, "5.5.1", "Error: command not implemented"),
    R.NEED_HELO: (503, "5.5.1", "Error: send HELO/EHLO first"),
    R.NEED_MAIL: (503, "5.5.1", "Error: need MAIL command"),
    R.NEED_RCPT: (503, "5.5.1", "Error: need RCPT command"),
    R.NESTED_MAIL: (503, "5.5.1", "Error: nested MAIL command"),
    R.NO_VALID_RECIPIENTS: (554, "5.5.1", "Error: no valid recipients"),
    R.MAIL_IN_PROGRESS: (503, "5.5.1", "Error: MAIL transaction in progress"),
    R.ALREADY_AUTHENTICATED: (503, "5.5.1", "Error: already authenticated"),
    R.AUTH_NOT_ENABLED: (503, "5.5.1", "Error: authentication not enabled"),
    R.NO_SERVICE: (503, "5.5.1", "Error: no SMTP service"),  # RFC 5321 §3.1 after 554
    R.TOO_MANY_RECIPIENTS: (452, "4.5.3", "Error: too many recipients"),
    R.MESSAGE_TOO_BIG: (552, "5.3.4", "Message size exceeds fixed limit"),
    # Postfix smtpd_timeout (300s; RFC 5321 §4.5.3.2.7 asks at least 5 minutes)
    R.TIMEOUT: (421, "4.4.2", "{hostname} Error: timeout exceeded"),
    # Postfix smtpd.c starttls_cmd(); RFC 3207 §4: 220 and the handshake starts
    R.TLS_READY: (220, "2.0.0", "Ready to start TLS"),
    R.TLS_ALREADY_ACTIVE: (554, "5.5.1", "Error: TLS already active"),
    R.STARTTLS_SYNTAX: (501, "5.5.4", "Syntax: STARTTLS"),
    # RFC 3207 §4 and Postfix smtpd.c: no AUTH in clear (smtpd_tls_auth_only)
    R.TLS_REQUIRED: (530, "5.7.0", "Must issue a STARTTLS command first"),
}
del R


class Extension(Enum):
    """The EHLO keywords the server can offer (RFC 5321 §4.1.1.1), Postfix's order."""

    PIPELINING = "PIPELINING"  # RFC 2920
    SIZE = "SIZE {size}"  # RFC 1870 §4: the fixed maximum message size
    SIZE_UNLIMITED = "SIZE"  # RFC 1870 §4: no fixed maximum (message_size_limit = 0)
    STARTTLS = "STARTTLS"  # RFC 3207 §4; never offered inside TLS
    AUTH = "AUTH PLAIN"  # RFC 4954 §3, SASL PLAIN (RFC 4616)
    ENHANCEDSTATUSCODES = "ENHANCEDSTATUSCODES"  # RFC 2034
    EIGHTBITMIME = "8BITMIME"  # RFC 6152


def ehlo_reply(hostname: str, max_size: int, offer_auth: bool, starttls: bool = False) -> Reply:
    """The EHLO answer: the greeting line, then one keyword per line (RFC 5321 §4.1.1.1)."""
    extensions = [Extension.PIPELINING, Extension.SIZE if max_size else Extension.SIZE_UNLIMITED]
    if starttls:
        extensions.append(Extension.STARTTLS)
    if offer_auth:
        extensions.append(Extension.AUTH)
    extensions += [Extension.ENHANCEDSTATUSCODES, Extension.EIGHTBITMIME]
    first = reply(SmtpReply.HELO_OK, hostname=hostname)
    keywords = tuple(extension.value.format(size=max_size) for extension in extensions)
    return Reply(first.code, first.enhanced, first.lines + keywords)


def reply(key: Any, *, table: ReplyTable = REPLIES, **fields: str) -> Reply:
    """The reply `key` from `table` (`REPLIES`), its template filled with `fields`."""
    code, enhanced, template = table[key]
    text = template.format(**fields)
    return Reply(code, enhanced, tuple(text.split("\n")))
