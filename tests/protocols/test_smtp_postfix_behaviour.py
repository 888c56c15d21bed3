"""The SMTP server answers as Postfix does: wire tables for what real clients found.

End of data only at <CRLF>.<CRLF>; long and dot-started content lines
accepted; Postfix's error limits; PIPELINING in EHLO; the authzid of AUTH
PLAIN honoured; Postfix's lenient defaults, with the strict ones as
configuration.
"""

from __future__ import annotations

import base64

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.protocols.common import NEED_DATA
from simulator.protocols.smtp import (
    TRANSITIONS,
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
    reply,
)

HOST = "mx.example.org"
EHLO = b"EHLO client.example.com\r\n"
TX = EHLO + b"MAIL FROM:<a@example.com>\r\n"
RC = TX + b"RCPT TO:<b@example.org>\r\n"
IN_DATA = RC + b"DATA\r\n"
AUTH = {"offer_auth": True}
STRICT = {"strict_rfc821_envelopes": True}
HELO_FIRST = {"smtpd_helo_required": True}
# RFC 5321 §4.3.2: the only replies allowed after the final dot
AFTER_DOT = {250, 552, 554, 451, 452, 450, 550}


def policy(event: object) -> Reply:
    """Accepts everything but 'unknown' recipients and wrong passwords."""
    if isinstance(event, MailFromReceived):
        return reply(SmtpReply.MAIL_OK)
    if isinstance(event, RcptToReceived):
        if event.forward_path.startswith("unknown"):
            return reply(SmtpReply.USER_UNKNOWN, rcpt=event.forward_path)
        return reply(SmtpReply.RCPT_OK)
    if isinstance(event, MessageReceived):
        return reply(SmtpReply.QUEUED, queue_id="4F2A1")
    assert isinstance(event, AuthReceived)
    ok = event.username == "alice" and event.password == "secret"
    return reply(SmtpReply.AUTH_OK if ok else SmtpReply.AUTH_FAILED)


class Wire:
    """A greeted server fed raw bytes; decisions are answered by `policy`."""

    def __init__(self, **config: object) -> None:
        self.server = SmtpServer(SmtpServerConfig(HOST, **config))  # type: ignore[arg-type]
        self.events: list[object] = []
        self.server.greet()
        self.server.data_to_send()

    def send(self, data: bytes) -> list[Reply]:
        self.server.receive_data(data)
        while (event := self.server.next_event()) is not NEED_DATA:
            self.events.append(event)
            self.server.respond(policy(event))
        return parse_replies(self.server.data_to_send())

    def codes(self, data: bytes) -> list[tuple[int, str | None]]:
        return [(r.code, r.enhanced) for r in self.send(data)]

    def messages(self) -> list[MessageReceived]:
        return [e for e in self.events if isinstance(e, MessageReceived)]


def parse_replies(data: bytes) -> list[Reply]:
    replies, pending = [], []
    for line in data.decode().split("\r\n")[:-1]:
        pending.append(line)
        if line[3:4] != "-":
            replies.append(Reply.parse(pending))
            pending = []
    assert pending == []
    return replies


# ---- 1. end of data is <CRLF>.<CRLF> only (RFC 5321 §4.1.1.4) -------------

FORGED = b"MAIL FROM:<forged@example.net>"
SMUGGLING = [
    pytest.param(b"hello\n.\n" + FORGED + b"\n", [], id="LF.LF"),
    pytest.param(b"hello\r\n.\n" + FORGED + b"\r\n", [], id="CRLF.LF"),
    pytest.param(b"hello\n.\r\n" + FORGED + b"\r\n", [], id="LF.CRLF"),
    pytest.param(b"hello\r.\r" + FORGED + b"\r", [], id="CR.CR"),
    pytest.param(b".\n" + FORGED + b"\r\n", [], id="first-line-dot-LF"),
    pytest.param(b"hello\r\n.\r\n", [(250, "2.0.0")], id="CRLF.CRLF"),
    pytest.param(b".\r\n", [(250, "2.0.0")], id="empty-message"),
    pytest.param(b"one\ntwo\r\n.\r\n", [(250, "2.0.0")], id="bare-LF-line-then-CRLF.CRLF"),
]


@pytest.mark.parametrize(("data", "expected"), SMUGGLING)
def test_only_crlf_dot_crlf_ends_the_data(data: bytes, expected: list) -> None:
    wire = Wire()
    wire.send(IN_DATA)
    assert wire.codes(data) == expected
    assert wire.server.state is (ServerState.READY if expected else ServerState.DATA)


def test_a_smuggled_message_stays_inside_the_first_one() -> None:
    wire = Wire()
    wire.send(IN_DATA)
    smuggled = (
        b"Subject: hi\r\n\r\nhello\n.\nMAIL FROM:<forged@example.net>\n"
        b"RCPT TO:<victim@example.org>\nDATA\nforged body\r\n.\r\n"
    )
    assert wire.codes(smuggled) == [(250, "2.0.0")]
    (message,) = wire.messages()
    assert message.envelope == Envelope("a@example.com", ("b@example.org",))
    # Postfix (smtpd_forbid_bare_newline = normalize) drops the lone dot and
    # stores bare-LF lines with CRLF: the forged commands are just content.
    assert message.content == (
        b"Subject: hi\r\n\r\nhello\r\nMAIL FROM:<forged@example.net>\r\n"
        b"RCPT TO:<victim@example.org>\r\nDATA\r\nforged body\r\n"
    )
    assert not [e for e in wire.events if isinstance(e, MailFromReceived)][1:]


# ---- 3 and 4. long content lines and the transparency dot -------------------

LONG_LINES = [
    # (line as sent, line as stored): RFC 5321 §4.5.2 removes one leading dot
    pytest.param(b".." + b"x" * 997, b"." + b"x" * 997, id="998-octets-starting-with-a-dot"),
    pytest.param(b"." + b"x" * 998, b"x" * 998, id="stuffed-998"),
    pytest.param(b"x" * 999, b"x" * 999, id="999"),
    pytest.param(b"x" * 1200, b"x" * 1200, id="1200"),
    pytest.param(b"x" * 2046, b"x" * 2046, id="2046"),
    pytest.param(b"x" * 2048, b"x" * 2048, id="2048-line_length_limit"),
    pytest.param(b"x" * 2049, b"x" * 2049, id="2049"),
    pytest.param(b"x" * 20000, b"x" * 20000, id="20000"),
    pytest.param(b"x" * 2048 + b".", b"x" * 2048 + b".", id="dot-after-a-piece"),
    pytest.param(b"x" * 2048 + b"..z", b"x" * 2048 + b"..z", id="dots-after-a-piece"),
    pytest.param(b".." + b"y" * 5000, b"." + b"y" * 5000, id="long-and-stuffed"),
    pytest.param(b"x" * 2047 + b"\r", b"x" * 2047 + b"\r", id="CR-at-the-piece-edge"),
]


@pytest.mark.parametrize(("sent", "stored"), LONG_LINES)
def test_long_content_lines_are_accepted_whole(sent: bytes, stored: bytes) -> None:
    wire = Wire()
    wire.send(IN_DATA)
    assert wire.codes(sent + b"\r\nend\r\n.\r\n") == [(250, "2.0.0")]
    assert wire.messages()[0].content == stored + b"\r\nend\r\n"


def test_a_long_line_byte_by_byte_is_joined_again() -> None:
    wire = Wire()
    wire.send(IN_DATA)
    line = b"." + b"z" * 4500 + b"\r\n.\r\n"
    replies = [r for i in range(len(line)) for r in wire.send(line[i : i + 1])]
    assert [r.code for r in replies] == [250]
    assert wire.messages()[0].content == b"z" * 4500 + b"\r\n"


@settings(max_examples=60, deadline=None)
@given(lengths=st.lists(st.integers(min_value=0, max_value=6000), max_size=6))
def test_after_the_dot_only_rfc5321_replies(lengths: list[int]) -> None:
    wire = Wire(max_message_size=8000)
    wire.send(IN_DATA)
    (answer,) = wire.send(b"".join(b"." * (n % 3) + b"q" * n + b"\r\n" for n in lengths) + b".\r\n")
    assert answer.code in AFTER_DOT


# ---- 5. Postfix error limits --------------------------------------------------

HARD_LIMIT = [
    pytest.param(19, [(500, "5.5.2")] * 19, False, id="19-errors"),
    pytest.param(20, [(500, "5.5.2")] * 20 + [(421, "4.7.0")], True, id="20-errors"),
    pytest.param(30, [(500, "5.5.2")] * 20 + [(421, "4.7.0")], True, id="30-errors"),
]


@pytest.mark.parametrize(("count", "expected", "closed"), HARD_LIMIT)
def test_smtpd_hard_error_limit(count: int, expected: list, closed: bool) -> None:
    wire = Wire()
    assert wire.codes(b"XYZZY\r\n" * count) == expected
    assert wire.server.closed is closed


def test_too_many_errors_reads_like_postfix() -> None:
    wire = Wire()
    replies = wire.send(b"FOO\r\n" * 20)
    assert str(replies[-1]) == "421 4.7.0 mx.example.org Error: too many errors"
    assert wire.send(b"QUIT\r\n") == []


@pytest.mark.parametrize(
    ("setup", "data"),
    [
        pytest.param(TX, b"RCPT TO:<unknown@example.org>\r\n", id="rejected-rcpt"),
        pytest.param(b"", b"AUTH PLAIN\r\n", id="auth-before-ehlo"),
        pytest.param(EHLO, b"MAIL FROM:<a b>\r\n", id="syntax-errors"),
    ],
)
def test_every_refused_command_counts(setup: bytes, data: bytes) -> None:
    wire = Wire(**AUTH)
    wire.send(setup)
    assert wire.send(data * 20)[-1].code == 421
    assert wire.server.closed


def test_a_delivered_message_forgives_earlier_errors() -> None:
    wire = Wire()
    wire.send(b"XYZZY\r\n" * 15)
    assert wire.codes(IN_DATA + b"hi\r\n.\r\n")[-1] == (250, "2.0.0")
    assert wire.server.error_count == 0
    assert wire.codes(b"XYZZY\r\n" * 19) == [(500, "5.5.2")] * 19
    assert not wire.server.closed


SOFT_LIMIT = [
    # (errors pipelined, then these commands, reply_delay of that batch)
    pytest.param(9, b"NOOP\r\n", 0.0, id="9-errors"),
    pytest.param(10, b"", 0.0, id="the-10th-error-itself"),
    pytest.param(10, b"NOOP\r\n", 1.0, id="10-errors-then-NOOP"),
    pytest.param(12, b"", 2.0, id="12-errors"),
    pytest.param(20, b"", 11.0, id="20-errors-and-the-421"),
]


@pytest.mark.parametrize(("errors", "then", "delay"), SOFT_LIMIT)
def test_smtpd_soft_error_limit_delays_replies(errors: int, then: bytes, delay: float) -> None:
    wire = Wire()
    wire.server.receive_data(b"XYZZY\r\n" * errors + then)
    assert wire.server.next_event() is NEED_DATA
    assert wire.server.reply_delay == delay  # Postfix smtpd_error_sleep_time, 1 s a reply
    wire.server.data_to_send()
    assert wire.server.reply_delay == 0.0


def test_the_delay_follows_each_reply_past_the_soft_limit() -> None:
    wire = Wire(smtpd_error_sleep_time=0.5)
    wire.send(b"XYZZY\r\n" * 10)
    wire.send(b"NOOP\r\n")
    assert wire.server.reply_delay == 0.0  # data_to_send() took the delay too
    wire.server.receive_data(b"NOOP\r\nNOOP\r\n")
    wire.server.next_event()
    assert wire.server.reply_delay == 1.0


# ---- 6. extensions: PIPELINING, AUTH PLAIN's authzid -------------------------

EHLO_LINES = [
    pytest.param({}, ["PIPELINING", "SIZE 10240000", "ENHANCEDSTATUSCODES", "8BITMIME"], id="mx"),
    pytest.param(
        AUTH, ["PIPELINING", "SIZE 10240000", "AUTH PLAIN", "ENHANCEDSTATUSCODES", "8BITMIME"],
        id="submission",
    ),
    pytest.param(
        {"max_message_size": 0}, ["PIPELINING", "SIZE", "ENHANCEDSTATUSCODES", "8BITMIME"],
        id="no-size-limit",
    ),
]  # fmt: skip


@pytest.mark.parametrize(("config", "keywords"), EHLO_LINES)
def test_ehlo_lists_pipelining_first_like_postfix(config: dict, keywords: list[str]) -> None:
    (answer,) = Wire(**config).send(EHLO)
    assert list(answer.lines) == [HOST, *keywords]


def test_a_pipelined_transaction_is_answered_in_order() -> None:
    batch = TX + b"RCPT TO:<b@example.org>\r\nRCPT TO:<unknown@example.org>\r\nDATA\r\n"
    codes = [code for code, _ in Wire().codes(batch)]
    assert codes == [250, 250, 250, 550, 354]  # RFC 2920 §3.1


def plain(authzid: str, authcid: str, password: str = "secret") -> bytes:
    return base64.b64encode(f"{authzid}\0{authcid}\0{password}".encode())


ALICE_AS_BOB = {**AUTH, "sasl_act_as": frozenset({("alice", "bob")})}
AUTHZID = [
    # (config, authzid, authcid, reply, authenticated user)
    pytest.param(AUTH, "", "alice", (235, "2.7.0"), "alice", id="no-authzid"),
    pytest.param(AUTH, "alice", "alice", (235, "2.7.0"), "alice", id="authzid-is-authcid"),
    pytest.param(AUTH, "bob", "alice", (535, "5.7.8"), None, id="act-as-another"),
    pytest.param(ALICE_AS_BOB, "bob", "alice", (235, "2.7.0"), "bob", id="allowed-to-act-as"),
    pytest.param(ALICE_AS_BOB, "carol", "alice", (535, "5.7.8"), None, id="not-that-one"),
]


@pytest.mark.parametrize("initial", [True, False], ids=["initial-response", "after-334"])
@pytest.mark.parametrize(("config", "authzid", "authcid", "expected", "user"), AUTHZID)
def test_auth_plain_honours_the_authzid(
    config: dict, authzid: str, authcid: str, expected: tuple, user: str | None, initial: bool
) -> None:
    wire = Wire(**config)
    wire.send(EHLO)
    response = plain(authzid, authcid)
    separator = b" " if initial else b"\r\n"  # RFC 4954 §4: with or without the 334
    codes = wire.codes(b"AUTH PLAIN" + separator + response + b"\r\n")
    assert codes[-1] == expected
    assert wire.server.authenticated_user == user
    assert wire.server.state is ServerState.READY


# ---- 7. Postfix's defaults; the strict behaviour is configuration ------------

DEFAULTS = [
    # (config, setup, line, reply)
    pytest.param({}, b"", b"MAIL FROM:<a@example.com>", (250, "2.1.0"), id="MAIL-before-EHLO"),
    pytest.param({}, EHLO, b"MAIL FROM:bob@example.net", (250, "2.1.0"), id="no-brackets"),
    pytest.param({}, EHLO, b"MAIL FROM: bob@example.net", (250, "2.1.0"), id="space-no-brackets"),
    pytest.param({}, EHLO, b"MAIL FROM:bob@example.net SIZE=100", (250, "2.1.0"), id="params"),
    pytest.param({}, TX, b"RCPT TO:b@example.org", (250, "2.1.5"), id="rcpt-no-brackets"),
    pytest.param({}, EHLO, b"MAIL FROM:bob", (501, "5.1.7"), id="no-domain"),
    pytest.param({}, EHLO, b"MAIL FROM:", (501, "5.5.4"), id="no-address"),
    pytest.param(STRICT, EHLO, b"MAIL FROM:bob@example.net", (501, "5.1.7"), id="strict-mail"),
    pytest.param(STRICT, TX, b"RCPT TO:b@example.org", (501, "5.1.3"), id="strict-rcpt"),
    pytest.param(STRICT, EHLO, b"MAIL FROM:<bob@example.net>", (250, "2.1.0"), id="strict-ok"),
    pytest.param(HELO_FIRST, b"", b"MAIL FROM:<a@example.com>", (503, "5.5.1"), id="helo-req"),
    pytest.param(HELO_FIRST, EHLO, b"MAIL FROM:<a@example.com>", (250, "2.1.0"), id="helo-ok"),
    pytest.param(AUTH, b"", b"AUTH PLAIN", (503, "5.5.1"), id="AUTH-needs-EHLO"),
    pytest.param({}, b"", b"RCPT TO:<b@example.org>", (503, "5.5.1"), id="RCPT-before-MAIL"),
]


@pytest.mark.parametrize(("config", "setup", "line", "expected"), DEFAULTS)
def test_postfix_defaults(config: dict, setup: bytes, line: bytes, expected: tuple) -> None:
    wire = Wire(**config)
    wire.send(setup)
    assert wire.codes(line + b"\r\n") == [expected]


def test_a_whole_transaction_without_ehlo_or_brackets() -> None:
    wire = Wire()
    script = b"MAIL FROM:bob@example.net\r\nRCPT TO:b@example.org\r\nDATA\r\nhi\r\n.\r\n"
    assert [code for code, _ in wire.codes(script)] == [250, 250, 354, 250]
    (message,) = wire.messages()
    assert message.envelope == Envelope("bob@example.net", ("b@example.org",))
    assert wire.server.helo_name is None and not wire.server.esmtp


# ---- one transition mechanism: the server moves only along its table --------

SCRIPT = st.sampled_from([
    b"EHLO c.example", b"HELO c.example", b"MAIL FROM:<a@b.example>", b"MAIL FROM:x@y.example",
    b"RCPT TO:<b@example.org>", b"RCPT TO:<unknown@example.org>", b"DATA", b"hello", b".",
    b"RSET", b"NOOP", b"VRFY x", b"AUTH PLAIN", b"AUTH PLAIN " + plain("", "alice"),
    plain("", "alice"), b"*", b"QUIT", b"XYZZY", b"",
])  # fmt: skip


@settings(max_examples=150, deadline=None)
@given(lines=st.lists(SCRIPT, max_size=30), auth=st.booleans())
def test_the_server_moves_only_along_transitions(lines: list[bytes], auth: bool) -> None:
    wire = Wire(offer_auth=auth)
    for line in lines:
        before = wire.server.state
        wire.send(line + b"\r\n")
        after = wire.server.state
        allowed = {before, ServerState.CLOSED, *TRANSITIONS[before].values()}
        assert after in allowed, (before, line, after)
