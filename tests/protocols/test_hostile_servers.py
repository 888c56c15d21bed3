"""Hostile bytes against every server machine: they never raise, never fall silent.

Random byte streams (raw bytes mixed with protocol fragments) are cut at
random boundaries and fed to the SMTP and POP3 servers; a tiny agent takes
every decision.  The machines must never raise, every reply must be well
formed and come from the reply table, and a closing tail must always get
the session to its end: a machine never stops answering before it closes.
"""

from __future__ import annotations

import re
from itertools import pairwise

from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.protocols.common import NEED_DATA
from simulator.protocols.pop3 import (
    CredentialsReceived,
    MaildropEntry,
    Pop3Server,
    Pop3ServerConfig,
    UpdateRequested,
)
from simulator.protocols.smtp import (
    REPLIES,
    AuthReceived,
    MailFromReceived,
    MessageReceived,
    RcptToReceived,
    Reply,
    SmtpReply,
    SmtpServer,
    SmtpServerConfig,
    reply,
)

SMTP_TOKENS = [
    b"EHLO x\r\n", b"HELO x\n", b"MAIL FROM:<a@b.c>\r\n", b"MAIL FROM:a@b.c\r\n",
    b"RCPT TO:<d@e.f>\r\n", b"DATA\r\n", b".\r\n", b"\r\n.\r\n", b"\n.\n", b"\r\n.\n",
    b"AUTH PLAIN\r\n", b"AUTH PLAIN AGFsaWNlAHNlY3JldA==\r\n", b"AGJvYgBhbGljZQBzZWNyZXQ=\r\n",
    b"*\r\n", b"RSET\r\n", b"NOOP\r\n", b"QUIT\r\n", b"\r\n", b"\n", b"\r", b"..", b"x" * 3000,
]  # fmt: skip
POP3_TOKENS = [
    b"USER alice\r\n", b"PASS secret\r\n", b"PASS wrong\n", b"STAT\r\n", b"LIST\r\n",
    b"UIDL 1\r\n", b"RETR 1\r\n", b"TOP 1 1\r\n", b"DELE 1\r\n", b"RSET\r\n", b"CAPA\r\n",
    b"AUTH\r\n", b"AUTH PLAIN\r\n", b"AHNlY3JldA==\r\n", b"AUTH PLAIN AGFsaWNlAHNlY3JldA==\r\n",
    b"*\r\n", b"XYZZY\r\n", b"NOOP\r\n", b"\r\n", b"\n", b"\r", b"x" * 300,
]  # fmt: skip
SMTP_TAIL = b"\r\n.\r\nQUIT\r\n"  # ends a line, any message, any SASL exchange; then QUIT
POP3_TAIL = b"\r\nQUIT\r\n"
REPLY_LINE = re.compile(rb"([2-5][0-9][0-9])([ -])((?:[245]\.[0-9]{1,3}\.[0-9]{1,3})?)")
TABLE_CODES = {(code, enhanced or "") for code, enhanced, _ in REPLIES.values()}


def stream(tokens: list[bytes]) -> st.SearchStrategy[bytes]:
    pieces = st.one_of(st.binary(max_size=300), st.sampled_from(tokens))
    return st.lists(pieces, max_size=40).map(b"".join)


def cut(data: bytes, points: list[int]) -> list[bytes]:
    """`data` split at the given positions (taken modulo its length)."""
    marks = sorted({0, len(data), *(p % (len(data) + 1) for p in points)})
    return [data[a:b] for a, b in pairwise(marks)]


# ---- SMTP ---------------------------------------------------------------------


def smtp_policy(event: object) -> Reply:
    if isinstance(event, MailFromReceived):
        return reply(SmtpReply.MAIL_OK)
    if isinstance(event, RcptToReceived):
        return reply(SmtpReply.RCPT_OK)
    if isinstance(event, MessageReceived):
        return reply(SmtpReply.QUEUED, queue_id="4F2A1")
    assert isinstance(event, AuthReceived)
    return reply(SmtpReply.AUTH_OK if event.password == "secret" else SmtpReply.AUTH_FAILED)


def feed_smtp(server: SmtpServer, chunk: bytes) -> bytes:
    server.receive_data(chunk)
    while (event := server.next_event()) is not NEED_DATA:
        server.respond(smtp_policy(event))
    return server.data_to_send()


@settings(max_examples=200, deadline=None)
@given(data=stream(SMTP_TOKENS), points=st.lists(st.integers(min_value=0), max_size=12),
       auth=st.booleans())  # fmt: skip
def test_smtp_server_survives_hostile_bytes(data: bytes, points: list[int], auth: bool) -> None:
    server = SmtpServer(SmtpServerConfig("mx.example.org", offer_auth=auth, max_message_size=2000))
    server.greet()
    out = bytearray(server.data_to_send())
    for chunk in cut(data, points):
        out += feed_smtp(server, chunk)
    out += feed_smtp(server, SMTP_TAIL)
    assert server.closed  # the tail always reaches QUIT (or the error limit's 421)
    lines = bytes(out).split(b"\r\n")
    assert lines[-1] == b""
    for line in lines[1:-1]:  # after the greeting, every reply comes from REPLIES
        match = REPLY_LINE.match(line)
        assert match is not None, line
        code, _, enhanced = match.groups()
        assert (int(code), enhanced.decode()) in TABLE_CODES, line
    assert lines[-2].startswith((b"221 ", b"421 "))


# ---- POP3 ---------------------------------------------------------------------


def feed_pop3(server: Pop3Server, chunk: bytes) -> bytes:
    server.receive_data(chunk)
    while (event := server.next_event()) is not NEED_DATA:
        assert isinstance(event, CredentialsReceived | UpdateRequested)
        if isinstance(event, CredentialsReceived):
            if event.password == "secret":
                server.login([MaildropEntry("uid-1", b"Subject: x\r\n\r\n.body\r\n")])
            else:
                server.reject_login()
    return server.data_to_send()


@settings(max_examples=200, deadline=None)
@given(data=stream(POP3_TOKENS), points=st.lists(st.integers(min_value=0), max_size=12))
def test_pop3_server_survives_hostile_bytes(data: bytes, points: list[int]) -> None:
    server = Pop3Server(Pop3ServerConfig("pop.example.org"))
    server.greet()
    out = bytearray()
    for chunk in cut(data, points):
        out += feed_pop3(server, chunk)
    out += feed_pop3(server, POP3_TAIL)
    server.next_event()  # UPDATE → CLOSED once the agent has the deletions
    assert server.closed
    assert out == b"" or out.endswith(b"\r\n")
    last = bytes(out).split(b"\r\n")[-2] if out else b""
    assert last.startswith((b"+OK Logging out", b"-ERR Too many")) or not out
