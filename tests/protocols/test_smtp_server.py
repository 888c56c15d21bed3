"""The SMTP server on the wire: data tables of (setup, line, expected reply)."""

from __future__ import annotations

import base64
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.protocols.common import NEED_DATA
from simulator.protocols.smtp import (
    AuthReceived,
    Envelope,
    MailFromReceived,
    MessageReceived,
    RcptToReceived,
    Reply,
    ServerState,
    SmtpReply,
    SmtpServer,
    SmtpServerConfig,
    SmtpUsageError,
    reply,
)

HOST = "mx.example.org"


def plain(user: str, password: str) -> str:
    return base64.b64encode(f"\0{user}\0{password}".encode()).decode()


GOOD = plain("alice", "secret")
BAD = plain("alice", "wrong")


def policy(event) -> Reply:
    """A tiny test policy: accepts, except 'unknown' users and wrong passwords."""
    if isinstance(event, MailFromReceived):
        return reply(SmtpReply.MAIL_OK)
    if isinstance(event, RcptToReceived):
        if event.forward_path.startswith("unknown"):
            return reply(SmtpReply.USER_UNKNOWN, rcpt=event.forward_path)
        return reply(SmtpReply.RCPT_OK)
    if isinstance(event, MessageReceived):
        return reply(SmtpReply.QUEUED, queue_id="4F2A1")
    ok = event.username == "alice" and event.password == "secret"
    return reply(SmtpReply.AUTH_OK if ok else SmtpReply.AUTH_FAILED)


def parse_replies(data: bytes) -> list[Reply]:
    replies, pending = [], []
    for line in data.decode().split("\r\n")[:-1]:
        pending.append(line)
        if line[3:4] != "-":
            replies.append(Reply.parse(pending))
            pending = []
    assert pending == []
    return replies


class Wire:
    """A greeted server, driven line by line, answered by `policy`."""

    def __init__(self, **config) -> None:
        self.server = SmtpServer(SmtpServerConfig(HOST, **config))
        self.events: list = []
        self.server.greet()
        self.greeting = parse_replies(self.server.data_to_send())

    def send(self, data: bytes | str) -> list[Reply]:
        if isinstance(data, str):
            data = data.encode() + b"\r\n"
        self.server.receive_data(data)
        while (event := self.server.next_event()) is not NEED_DATA:
            self.events.append(event)
            self.server.respond(policy(event))
        return parse_replies(self.server.data_to_send())

    def run(self, lines) -> None:
        for line in lines:
            self.send(line)


EHLO = ("EHLO client.example.com",)
TX = (*EHLO, "MAIL FROM:<a@example.com>")
RC = (*TX, "RCPT TO:<b@example.org>")
IN_DATA = (*RC, "DATA")
AUTH = {"offer_auth": True}
MSA = {"offer_auth": True, "auth_required": True}
STRICT = {"strict_rfc821_envelopes": True}  # Postfix default is no
HELO_FIRST = {"smtpd_helo_required": True}  # Postfix default is no
LONG_LOCAL = "l" * 65
LONG_DOMAIN = ".".join(["d" * 60] * 5)

CASES = [
    # introductions
    ({}, (), "EHLO client.example.com", 250, None),
    ({}, (), "HELO client.example.com", 250, None),
    ({}, (), "ehlo client.example.com", 250, None),
    ({}, (), "EHLO", 501, None),
    ({}, (), "HELO", 501, None),
    # session commands answered by the machine
    ({}, (), "NOOP", 250, "2.0.0"),
    ({}, TX, "noop whatever", 250, "2.0.0"),
    ({}, (), "RSET", 250, "2.0.0"),
    ({}, RC, "RSET", 250, "2.0.0"),
    ({}, EHLO, "RSET now", 501, "5.5.4"),
    ({}, (), "VRFY postmaster", 252, "2.0.0"),
    ({}, RC, "VRFY b@example.org", 252, "2.0.0"),
    ({}, EHLO, "VRFY", 501, "5.5.4"),
    ({}, (), "QUIT", 221, "2.0.0"),
    ({}, RC, "quit", 221, "2.0.0"),
    # 500: unknown verb, empty line, line too long
    ({}, (), "FOO bar", 500, "5.5.2"),
    ({}, EHLO, "", 500, "5.5.2"),
    ({}, EHLO, "MAILFROM:<a@b.example>", 500, "5.5.2"),
    ({}, EHLO, "NOOP " + "x" * 506, 500, "5.5.0"),
    ({}, EHLO, "NOOP " + "x" * 505, 250, "2.0.0"),
    ({}, EHLO, "X" * 20000, 500, "5.5.0"),
    # 502: recognised, not implemented
    ({}, EHLO, "EXPN staff", 502, "5.5.1"),
    ({}, EHLO, "HELP", 502, "5.5.1"),
    ({}, EHLO, "TURN", 502, "5.5.1"),
    ({}, EHLO, "ETRN example.org", 502, "5.5.1"),
    ({}, TX, "BDAT 10 LAST", 502, "5.5.1"),
    ({}, EHLO, "STARTTLS", 502, "5.5.1"),
    # 503: wrong order, Postfix texts
    (HELO_FIRST, (), "MAIL FROM:<a@example.com>", 503, "5.5.1"),
    ({}, (), "RCPT TO:<b@example.org>", 503, "5.5.1"),
    ({}, EHLO, "RCPT TO:<b@example.org>", 503, "5.5.1"),
    ({}, EHLO, "DATA", 503, "5.5.1"),
    ({}, TX, "MAIL FROM:<a@example.com>", 503, "5.5.1"),
    ({}, (*TX, "RSET"), "RCPT TO:<b@example.org>", 503, "5.5.1"),
    ({}, (*TX, "EHLO again.example"), "RCPT TO:<b@example.org>", 503, "5.5.1"),
    ({}, (*IN_DATA, "hi", "."), "RCPT TO:<b@example.org>", 503, "5.5.1"),
    ({}, EHLO, "AUTH PLAIN", 503, "5.5.1"),
    (AUTH, (), "AUTH PLAIN", 503, "5.5.1"),
    (AUTH, TX, f"AUTH PLAIN {GOOD}", 503, "5.5.1"),
    (AUTH, (*EHLO, f"AUTH PLAIN {GOOD}"), f"AUTH PLAIN {GOOD}", 503, "5.5.1"),
    # DATA with no accepted recipient: Postfix smtpd.c answers 554 5.5.1
    ({}, TX, "DATA", 554, "5.5.1"),
    ({}, (*TX, "RCPT TO:<unknown@example.org>"), "DATA", 554, "5.5.1"),
    # MAIL syntax (501) and the null sender
    ({}, EHLO, "MAIL FROM:<a@example.com>", 250, "2.1.0"),
    ({}, EHLO, "mail from:<a@example.com>", 250, "2.1.0"),
    ({}, EHLO, "MAIL FROM: <a@example.com>", 250, "2.1.0"),
    ({}, EHLO, "MAIL FROM:<>", 250, "2.1.0"),
    ({}, EHLO, 'MAIL FROM:<"odd local"@example.com>', 250, "2.1.0"),
    ({}, EHLO, "MAIL FROM:<a@[192.0.2.1]>", 250, "2.1.0"),
    ({}, EHLO, "MAIL", 501, "5.5.4"),
    ({}, EHLO, "MAIL TO:<a@example.com>", 501, "5.5.4"),
    (STRICT, EHLO, "MAIL FROM:a@example.com", 501, "5.1.7"),
    ({}, EHLO, "MAIL FROM:<a@>", 501, "5.1.7"),
    ({}, EHLO, "MAIL FROM:<a b@example.com>", 501, "5.1.7"),
    ({}, EHLO, "MAIL FROM:<a..b@example.com>", 501, "5.1.7"),
    ({}, EHLO, "MAIL FROM:<a@-bad-.example>", 501, "5.1.7"),
    ({}, EHLO, "MAIL FROM:<a@example.com>junk", 501, "5.1.7"),
    ({}, EHLO, "MAIL FROM:<a@ex\xe4mple.com>", 501, "5.1.7"),
    ({}, EHLO, f"MAIL FROM:<{LONG_LOCAL}@example.com>", 501, "5.5.4"),
    ({}, EHLO, f"MAIL FROM:<a@{LONG_DOMAIN}>", 501, "5.5.4"),
    # RCPT syntax
    ({}, TX, "RCPT TO:<b@example.org>", 250, "2.1.5"),
    ({}, TX, "rcpt to: <b@example.org>", 250, "2.1.5"),
    ({}, TX, "RCPT TO:<Postmaster>", 250, "2.1.5"),
    ({}, TX, "RCPT TO:<@relay.example:b@example.org>", 250, "2.1.5"),
    ({}, TX, "RCPT TO:<unknown@example.org>", 550, "5.1.1"),
    ({}, TX, "RCPT", 501, "5.5.4"),
    ({}, TX, "RCPT FROM:<b@example.org>", 501, "5.5.4"),
    ({}, TX, "RCPT TO:<>", 501, "5.1.3"),
    (STRICT, TX, "RCPT TO:b@example.org", 501, "5.1.3"),
    ({}, TX, "RCPT TO:<b>", 501, "5.1.3"),
    ({}, TX, f"RCPT TO:<{LONG_LOCAL}@example.org>", 501, "5.5.4"),
    # ESMTP parameters
    ({}, EHLO, "MAIL FROM:<a@example.com> SIZE=1000", 250, "2.1.0"),
    ({}, EHLO, "MAIL FROM:<a@example.com> BODY=8BITMIME", 250, "2.1.0"),
    ({}, EHLO, "MAIL FROM:<a@example.com> SIZE=99999999", 552, "5.3.4"),
    ({"max_message_size": 100}, EHLO, "MAIL FROM:<a@example.com> SIZE=101", 552, "5.3.4"),
    ({}, EHLO, "MAIL FROM:<a@example.com> SIZE=big", 501, "5.5.4"),
    ({}, EHLO, "MAIL FROM:<a@example.com> BODY=BINARYMIME", 501, "5.5.4"),
    ({}, EHLO, "MAIL FROM:<a@example.com> FOO=bar", 555, "5.5.4"),
    ({}, EHLO, "MAIL FROM:<a@example.com> =x", 555, "5.5.4"),
    ({}, ("HELO c.example",), "MAIL FROM:<a@example.com> SIZE=10", 555, "5.5.4"),
    ({}, TX, "RCPT TO:<b@example.org> NOTIFY=NEVER", 555, "5.5.4"),
    # recipient limit (Postfix smtpd_recipient_limit)
    ({"max_recipients": 1}, RC, "RCPT TO:<c@example.org>", 452, "4.5.3"),
    ({"max_recipients": 2}, RC, "RCPT TO:<c@example.org>", 250, "2.1.5"),
    # DATA and the final dot
    ({}, RC, "DATA", 354, None),
    ({}, RC, "DATA now", 501, "5.5.4"),
    ({}, (*IN_DATA, "Subject: hi", "", "body"), ".", 250, "2.0.0"),
    ({}, (*IN_DATA, "x" * 998), ".", 250, "2.0.0"),
    ({}, (*IN_DATA, "x" * 999), ".", 250, "2.0.0"),  # Postfix line_length_limit: accepted
    ({}, (*IN_DATA, "x" * 20000, "short"), ".", 250, "2.0.0"),
    ({"max_message_size": 100}, (*IN_DATA, "x" * 60, "y" * 60), ".", 552, "5.3.4"),
    ({"max_message_size": 100}, (*IN_DATA, "x" * 60), ".", 250, "2.0.0"),
    # AUTH PLAIN (RFC 4954)
    (AUTH, EHLO, f"AUTH PLAIN {GOOD}", 235, "2.7.0"),
    (AUTH, EHLO, f"auth plain {GOOD}", 235, "2.7.0"),
    (AUTH, EHLO, f"AUTH PLAIN {BAD}", 535, "5.7.8"),
    (AUTH, EHLO, "AUTH PLAIN", 334, None),
    (AUTH, (*EHLO, "AUTH PLAIN"), GOOD, 235, "2.7.0"),
    (AUTH, (*EHLO, "AUTH PLAIN"), BAD, 535, "5.7.8"),
    (AUTH, (*EHLO, "AUTH PLAIN"), "*", 501, "5.7.0"),
    (AUTH, (*EHLO, "AUTH PLAIN"), "not base64!", 501, "5.5.2"),
    (AUTH, (*EHLO, "AUTH PLAIN"), "x" * 13000, 501, "5.5.2"),
    (AUTH, EHLO, "AUTH PLAIN %%%%", 501, "5.5.2"),
    (AUTH, EHLO, "AUTH PLAIN " + base64.b64encode(b"no separators").decode(), 535, "5.7.8"),
    (AUTH, EHLO, "AUTH PLAIN =", 535, "5.7.8"),
    (AUTH, EHLO, "AUTH LOGIN", 504, "5.5.4"),
    (AUTH, EHLO, "AUTH", 501, "5.5.4"),
    (AUTH, (*EHLO, f"AUTH PLAIN {BAD}"), f"AUTH PLAIN {GOOD}", 235, "2.7.0"),
    (AUTH, (*EHLO, "AUTH PLAIN", "*"), "NOOP", 250, "2.0.0"),
    # submission: 530 before AUTH (RFC 6409 §4.3)
    (MSA, EHLO, "MAIL FROM:<a@example.com>", 530, "5.7.0"),
    (MSA, (*EHLO, f"AUTH PLAIN {BAD}"), "MAIL FROM:<a@example.com>", 530, "5.7.0"),
    (MSA, (*EHLO, f"AUTH PLAIN {GOOD}"), "MAIL FROM:<a@example.com>", 250, "2.1.0"),
]


@pytest.mark.parametrize(("config", "setup", "line", "code", "enhanced"), CASES)
def test_wire_case(config, setup, line, code, enhanced):
    wire = Wire(**config)
    wire.run(setup)
    replies = wire.send(line)
    assert [(r.code, r.enhanced) for r in replies] == [(code, enhanced)]


def test_greeting_is_postfix_style():
    assert [str(r) for r in Wire().greeting] == ["220 mx.example.org ESMTP Postfix"]


@pytest.mark.parametrize(("config", "auth_line"), [({}, False), (AUTH, True)])
def test_ehlo_advertises_only_what_is_implemented(config, auth_line):
    (answer,) = Wire(**config).send("EHLO c.example")
    assert answer.lines[0] == HOST
    expected = {"PIPELINING", "SIZE 10240000", "8BITMIME", "ENHANCEDSTATUSCODES"}
    assert set(answer.lines[1:]) == expected | ({"AUTH PLAIN"} if auth_line else set())


def test_state_and_envelope_follow_the_transaction():
    wire = Wire()
    wire.send("EHLO c.example")
    assert (wire.server.state, wire.server.helo_name, wire.server.esmtp) == (
        ServerState.READY, "c.example", True,
    )  # fmt: skip
    wire.run(["MAIL FROM:<>", "RCPT TO:<b@example.org>", "RCPT TO:<unknown@x.org>"])
    assert wire.server.state is ServerState.RCPT
    assert wire.server.envelope == Envelope("", ("b@example.org",))
    wire.run(["DATA", ".."])
    assert wire.server.state is ServerState.DATA
    wire.send(".")
    assert wire.server.state is ServerState.READY
    assert wire.server.envelope is None


def test_message_content_is_unstuffed_and_crlf():
    wire = Wire()
    wire.run(IN_DATA)
    wire.send(b"..leading dot\r\n...\r\nbare lf\nlast\r\n.\r\n")
    message = wire.events[-1]
    assert isinstance(message, MessageReceived)
    assert message.content == b".leading dot\r\n..\r\nbare lf\r\nlast\r\n"
    assert message.envelope == Envelope("a@example.com", ("b@example.org",))


def test_source_route_is_dropped():
    wire = Wire()
    wire.run([*TX, "RCPT TO:<@relay.example,@b.example:b@example.org>"])
    assert wire.events[-1] == RcptToReceived("b@example.org")


def test_size_parameter_reaches_the_agent():
    wire = Wire()
    wire.run([*EHLO, "MAIL FROM:<a@example.com> SIZE=1234"])
    assert wire.events == [MailFromReceived("a@example.com", 1234)]


def test_auth_sets_authenticated_user():
    wire = Wire(**AUTH)
    wire.run([*EHLO, f"AUTH PLAIN {GOOD}"])
    assert wire.events == [AuthReceived("PLAIN", "", "alice", "secret")]
    assert wire.server.authenticated_user == "alice"
    assert wire.server.state is ServerState.READY


def test_failed_auth_leaves_user_unset():
    wire = Wire(**AUTH)
    wire.run([*EHLO, "AUTH PLAIN", BAD])
    assert wire.server.authenticated_user is None
    assert wire.server.state is ServerState.READY


def test_pipelined_commands_are_answered_in_order():
    wire = Wire()
    replies = wire.send(b"EHLO c.example\r\nNOOP\r\nMAIL FROM:<a@b.example>\r\nQUIT\r\n")
    assert [r.code for r in replies] == [250, 250, 250, 221]
    assert wire.server.closed


def test_quit_closes_and_ignores_the_rest():
    wire = Wire()
    assert [r.code for r in wire.send(b"QUIT\r\nNOOP\r\n")] == [221]
    assert wire.server.closed
    assert wire.send("NOOP") == []


def test_554_greeting_answers_503_until_quit():
    server = SmtpServer(SmtpServerConfig(HOST))
    server.greet(reply(SmtpReply.NOT_ACCEPTING, hostname=HOST))
    server.receive_data(b"EHLO c.example\r\nMAIL FROM:<a@b.example>\r\nQUIT\r\n")
    assert server.next_event() is NEED_DATA
    replies = parse_replies(server.data_to_send())
    assert [(r.code, r.enhanced) for r in replies] == [
        (554, "5.3.2"), (503, "5.5.1"), (503, "5.5.1"), (221, "2.0.0"),
    ]  # fmt: skip
    assert server.closed


def test_421_greeting_closes():
    server = SmtpServer(SmtpServerConfig(HOST))
    server.greet(reply(SmtpReply.SHUTTING_DOWN, hostname=HOST))
    assert server.closed
    assert server.data_to_send() == b"421 4.3.2 mx.example.org Service shutting down\r\n"


def test_commands_wait_for_the_greeting():
    server = SmtpServer(SmtpServerConfig(HOST))
    server.receive_data(b"NOOP\r\n")
    assert server.next_event() is NEED_DATA
    assert server.data_to_send() == b""
    server.greet()
    assert server.next_event() is NEED_DATA
    assert [r.code for r in parse_replies(server.data_to_send())] == [220, 250]


def test_close_queues_the_reply():
    wire = Wire()
    wire.run(TX)
    wire.server.close(reply(SmtpReply.SHUTTING_DOWN, hostname=HOST))
    assert wire.server.closed
    assert wire.server.data_to_send().startswith(b"421 4.3.2 ")


def test_421_response_closes_the_session():
    wire = Wire()
    wire.run(EHLO)
    wire.server.receive_data(b"MAIL FROM:<a@example.com>\r\n")
    event = wire.server.next_event()
    assert isinstance(event, MailFromReceived)
    wire.server.respond(reply(SmtpReply.SHUTTING_DOWN, hostname=HOST))
    assert wire.server.closed


def test_refused_decisions_do_not_advance():
    wire = Wire()
    wire.run(EHLO)
    wire.server.receive_data(b"MAIL FROM:<a@example.com>\r\n")
    wire.server.next_event()
    wire.server.respond(reply(SmtpReply.LOCAL_ERROR))
    assert wire.server.state is ServerState.READY
    assert wire.server.envelope is None


def test_usage_errors_are_reported():
    wire = Wire()
    with pytest.raises(SmtpUsageError):
        wire.server.respond(reply(SmtpReply.MAIL_OK))
    wire.server.receive_data(b"EHLO c.example\r\nMAIL FROM:<a@example.com>\r\n")
    assert isinstance(wire.server.next_event(), MailFromReceived)
    with pytest.raises(SmtpUsageError):
        wire.server.next_event()
    with pytest.raises(SmtpUsageError):
        wire.server.greet()


def test_bytes_split_anywhere_give_the_same_replies():
    script = b"EHLO c.example\r\nMAIL FROM:<a@example.com>\r\nRCPT TO:<b@example.org>\r\n"
    whole = Wire().send(script)
    wire = Wire()
    pieces = [wire.send(script[i : i + 1]) for i in range(len(script))]
    assert [r for piece in pieces for r in piece] == whole


# ---- hostile bytes (hypothesis) ----

REPLY_LINE = re.compile(rb"[2-5][0-9][0-9][ -]")
TOKENS = [b"EHLO x\r\n", b"MAIL FROM:<a@b.c>\r\n", b"RCPT TO:<d@e.f>\r\n", b"DATA\r\n",
          b".\r\n", b"AUTH PLAIN\r\n", b"RSET\r\n", b"\r\n", b"\n", b".."]  # fmt: skip


@settings(max_examples=150, deadline=None)
@given(
    chunks=st.lists(st.one_of(st.binary(max_size=200), st.sampled_from(TOKENS)), max_size=30),
    auth=st.booleans(),
)
def test_hostile_bytes_never_raise_and_replies_are_well_formed(chunks, auth):
    server = SmtpServer(SmtpServerConfig(HOST, offer_auth=auth, max_message_size=500))
    server.greet()
    out = bytearray()
    for chunk in chunks:
        server.receive_data(chunk)
        while (event := server.next_event()) is not NEED_DATA:
            server.respond(policy(event))
        out += server.data_to_send()
    lines = bytes(out).split(b"\r\n")
    assert lines[-1] == b""
    assert all(REPLY_LINE.match(line) for line in lines[:-1])
