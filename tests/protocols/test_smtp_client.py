"""The SMTP client against scripted server replies, and when no reply comes."""

from __future__ import annotations

import base64

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.protocols.common import (
    NEED_DATA,
    ConnectionBroken,
    ConnectionClosed,
    Interruption,
    LocalProtocolError,
    RemoteProtocolError,
    TimedOut,
)
from simulator.protocols.smtp import (
    ClientState,
    Envelope,
    RecipientResult,
    Reply,
    SessionClosed,
    SmtpClient,
    SmtpClientConfig,
    TransactionResult,
)

EHLO_OK = b"250-mx.example.org\r\n250-SIZE 10240000\r\n250 8BITMIME\r\n"
EHLO_AUTH = b"250-mx.example.org\r\n250-AUTH LOGIN PLAIN\r\n250 8BITMIME\r\n"
ONE = Envelope("a@example.com", ("b@example.org",))
TWO = Envelope("a@example.com", ("b@example.org", "c@example.org"))


class Script:
    """A client fed one scripted reply at a time."""

    def __init__(self, transactions=((ONE, b"hi\r\n"),), **config) -> None:
        self.client = SmtpClient(SmtpClientConfig("client.example.com", **config), transactions)
        self.events: list = []

    def reply(self, data: bytes) -> bytes:
        """Feed one reply (b"": the server closed); return what the client sent in answer."""
        self.client.receive_data(data)
        return self.drain()

    def drain(self) -> bytes:
        """Collect the events the client has; return what it sent."""
        while (event := self.client.next_event()) is not NEED_DATA:
            self.events.append(event)
        return self.client.data_to_send()

    def results(self) -> list[tuple[int, int | str]]:
        """(index, reply code) per transaction; the event's name when no reply settled it."""
        return [(e.index, _code(e.outcome)) for e in self.events
                if isinstance(e, TransactionResult)]  # fmt: skip

    def closing(self) -> Reply:
        assert isinstance(self.events[-1], SessionClosed)
        return self.events[-1].reply


def _code(outcome: object) -> int | str:
    return outcome.code if isinstance(outcome, Reply) else type(outcome).__name__


# (replies so far, what the client sends after the last one, the state it is then in)
GREETED = [b"220 mx ESMTP\r\n"]
INTRODUCED = [*GREETED, b"250 mx\r\n"]
IN_MAIL = [*INTRODUCED, b"250 2.1.0 Ok\r\n"]
WIRE_CASES = [
    ([], b"", ClientState.GREETING),
    (GREETED, b"EHLO client.example.com\r\n", ClientState.EHLO),
    ([b"554 5.3.2 no\r\n"], b"QUIT\r\n", ClientState.QUIT),
    ([b"421 4.3.2 bye\r\n"], b"", ClientState.CLOSED),
    ([*GREETED, b"502 5.5.1 no\r\n"], b"HELO client.example.com\r\n", ClientState.HELO),
    ([*GREETED, b"451 4.3.0 later\r\n"], b"QUIT\r\n", ClientState.QUIT),
    (INTRODUCED, b"MAIL FROM:<a@example.com>\r\n", ClientState.MAIL),
    ([*GREETED, EHLO_AUTH], b"AUTH PLAIN AHUAcA==\r\n", ClientState.AUTH),
    ([*GREETED, EHLO_AUTH, b"334 \r\n"], b"*\r\n", ClientState.AUTH_CANCEL),
    ([*GREETED, EHLO_AUTH, b"235 2.7.0 ok\r\n"], b"MAIL FROM:<a@example.com>\r\n",
     ClientState.MAIL),
    ([*INTRODUCED, b"550 5.7.1 no\r\n"], b"RSET\r\n", ClientState.RSET),
    (IN_MAIL, b"RCPT TO:<b@example.org>\r\n", ClientState.RCPT),
    ([*IN_MAIL, b"550 5.1.1 no\r\n"], b"RSET\r\n", ClientState.RSET),
    ([*IN_MAIL, b"250 2.1.5 Ok\r\n"], b"DATA\r\n", ClientState.DATA),
    ([*IN_MAIL, b"250 2.1.5 Ok\r\n", b"354 go\r\n"], b"hi\r\n.\r\n", ClientState.CONTENT),
    ([*IN_MAIL, b"250 2.1.5 Ok\r\n", b"554 5.5.1 no\r\n"], b"RSET\r\n", ClientState.RSET),
    ([*IN_MAIL, b"250 2.1.5 Ok\r\n", b"354 go\r\n", b"250 2.0.0 Ok\r\n"], b"QUIT\r\n",
     ClientState.QUIT),
    ([*IN_MAIL, b"250 2.1.5 Ok\r\n", b"354 go\r\n", b"550 5.7.1 no\r\n"], b"QUIT\r\n",
     ClientState.QUIT),
    ([*INTRODUCED, b"550 5.7.1 no\r\n", b"250 2.0.0 Ok\r\n"], b"QUIT\r\n", ClientState.QUIT),
    ([*INTRODUCED, b"550 5.7.1 no\r\n", b"250 2.0.0 Ok\r\n", b"221 2.0.0 Bye\r\n"], b"",
     ClientState.CLOSED),
]  # fmt: skip


@pytest.mark.parametrize(("replies", "sent", "state"), WIRE_CASES)
def test_wire_cases(replies, sent, state):
    s = Script(username="u", password="p")
    last = b""
    for data in replies:
        last = s.reply(data)
    assert (last, s.client.state) == (sent, state)


def test_happy_path_dialogue():
    s = Script()
    assert s.client.data_to_send() == b""
    assert s.reply(b"220 mx.example.org ESMTP Postfix\r\n") == b"EHLO client.example.com\r\n"
    assert s.reply(EHLO_OK) == b"MAIL FROM:<a@example.com> SIZE=4\r\n"
    assert s.reply(b"250 2.1.0 Ok\r\n") == b"RCPT TO:<b@example.org>\r\n"
    assert s.reply(b"250 2.1.5 Ok\r\n") == b"DATA\r\n"
    assert s.reply(b"354 End data with <CR><LF>.<CR><LF>\r\n") == b"hi\r\n.\r\n"
    assert s.client.state is ClientState.CONTENT
    assert s.reply(b"250 2.0.0 Ok: queued as ABC\r\n") == b"QUIT\r\n"
    assert s.reply(b"221 2.0.0 Bye\r\n") == b""
    assert s.client.closed
    assert s.events == [
        RecipientResult(0, "b@example.org", Reply(250, "2.1.5", ("Ok",))),
        TransactionResult(0, ONE, Reply(250, "2.0.0", ("Ok: queued as ABC",)), ("b@example.org",)),
        SessionClosed(Reply(221, "2.0.0", ("Bye",))),
    ]


def test_no_size_parameter_unless_advertised():
    s = Script()
    s.reply(b"220 mx\r\n")
    assert s.reply(b"250 mx\r\n") == b"MAIL FROM:<a@example.com>\r\n"


@pytest.mark.parametrize("code", [b"500", b"502", b"550"])
def test_ehlo_refused_falls_back_to_helo(code):
    s = Script()
    s.reply(b"220 mx\r\n")
    assert s.reply(code + b" 5.5.2 Error: command not recognized\r\n") == (
        b"HELO client.example.com\r\n"
    )
    assert s.reply(b"250 mx\r\n") == b"MAIL FROM:<a@example.com>\r\n"


def test_helo_refused_gives_up():
    s = Script()
    s.reply(b"220 mx\r\n")
    s.reply(b"502 no\r\n")
    assert s.reply(b"501 no\r\n") == b"QUIT\r\n"
    assert s.results() == [(0, 501)]


def test_ehlo_transient_failure_gives_up():
    s = Script()
    s.reply(b"220 mx\r\n")
    assert s.reply(b"451 4.3.0 later\r\n") == b"QUIT\r\n"
    assert s.results() == [(0, 451)]


def test_554_greeting_resolves_everything_then_quits():
    s = Script([(ONE, b"x\r\n"), (TWO, b"y\r\n")])
    assert s.reply(b"554 5.3.2 mx ESMTP not accepting messages\r\n") == b"QUIT\r\n"
    assert s.results() == [(0, 554), (1, 554)]
    s.reply(b"221 2.0.0 Bye\r\n")
    assert s.closing().code == 221


def test_421_greeting_closes_without_quit():
    s = Script([(ONE, b"x\r\n"), (TWO, b"y\r\n")])
    assert s.reply(b"421 4.3.2 mx Service shutting down\r\n") == b""
    assert s.results() == [(0, 421), (1, 421)]
    assert s.closing().code == 421
    assert s.client.closed


def test_mail_refused_resets_and_goes_on():
    s = Script([(ONE, b"x\r\n"), (TWO, b"y\r\n")])
    s.reply(b"220 mx\r\n")
    s.reply(b"250 mx\r\n")
    assert s.reply(b"550 5.7.1 Sender rejected\r\n") == b"RSET\r\n"
    assert s.reply(b"250 2.0.0 Ok\r\n") == b"MAIL FROM:<a@example.com>\r\n"
    assert s.events == [TransactionResult(0, ONE, Reply(550, "5.7.1", ("Sender rejected",)), ())]


def test_every_recipient_refused_ends_with_the_last_reply():
    s = Script([(TWO, b"x\r\n")])
    s.reply(b"220 mx\r\n")
    s.reply(b"250 mx\r\n")
    s.reply(b"250 2.1.0 Ok\r\n")
    assert s.reply(b"550 5.1.1 <b@example.org>: unknown\r\n") == b"RCPT TO:<c@example.org>\r\n"
    assert s.reply(b"554 5.7.1 <c@example.org>: Relay access denied\r\n") == b"RSET\r\n"
    assert [e.reply.code for e in s.events if isinstance(e, RecipientResult)] == [550, 554]
    assert s.events[-1] == TransactionResult(
        0, TWO, Reply(554, "5.7.1", ("<c@example.org>: Relay access denied",)), ()
    )
    assert s.reply(b"250 2.0.0 Ok\r\n") == b"QUIT\r\n"


def test_partial_acceptance_sends_data_for_the_rest():
    s = Script([(TWO, b"x\r\n")])
    for line in (b"220 mx\r\n", b"250 mx\r\n", b"250 2.1.0 Ok\r\n", b"550 5.1.1 no\r\n"):
        s.reply(line)
    assert s.reply(b"250 2.1.5 Ok\r\n") == b"DATA\r\n"
    s.reply(b"354 go\r\n")
    s.reply(b"250 2.0.0 Ok: queued as Q\r\n")
    assert s.events[-1].accepted == ("c@example.org",)


def test_data_refused_resets():
    s = Script()
    for line in (b"220 mx\r\n", b"250 mx\r\n", b"250 2.1.0 Ok\r\n", b"250 2.1.5 Ok\r\n"):
        s.reply(line)
    assert s.reply(b"554 5.5.1 Error: no valid recipients\r\n") == b"RSET\r\n"
    assert s.results() == [(0, 554)]


def test_421_mid_transaction_resolves_the_rest():
    s = Script([(TWO, b"x\r\n"), (ONE, b"y\r\n")])
    for line in (b"220 mx\r\n", b"250 mx\r\n", b"250 2.1.0 Ok\r\n", b"250 2.1.5 Ok\r\n"):
        s.reply(line)
    assert s.reply(b"421 4.3.2 mx Service shutting down\r\n") == b""
    assert s.closing().code == 421  # the server's own 421, reported as it came
    results = [e for e in s.events if isinstance(e, TransactionResult)]
    assert [(r.index, r.outcome.code, r.accepted) for r in results] == [
        (0, 421, ("b@example.org",)), (1, 421, ()),
    ]  # fmt: skip
    assert s.client.closed


def test_auth_plain_with_initial_response():
    s = Script(username="alice", password="secret")
    s.reply(b"220 mx\r\n")
    sent = s.reply(EHLO_AUTH)
    assert sent == b"AUTH PLAIN " + base64.b64encode(b"\0alice\0secret") + b"\r\n"
    assert s.reply(b"235 2.7.0 Authentication successful\r\n") == b"MAIL FROM:<a@example.com>\r\n"


def test_auth_failure_resolves_everything():
    s = Script([(ONE, b"x\r\n"), (TWO, b"y\r\n")], username="alice", password="bad")
    s.reply(b"220 mx\r\n")
    s.reply(EHLO_AUTH)
    assert s.reply(b"535 5.7.8 Error: authentication failed\r\n") == b"QUIT\r\n"
    assert s.results() == [(0, 535), (1, 535)]


def test_auth_challenge_is_cancelled():
    s = Script(username="alice", password="secret")
    s.reply(b"220 mx\r\n")
    s.reply(EHLO_AUTH)
    assert s.reply(b"334 \r\n") == b"*\r\n"
    assert s.reply(b"501 5.7.0 Authentication aborted\r\n") == b"QUIT\r\n"
    assert s.results() == [(0, 501)]


def test_credentials_without_advertised_auth_go_ahead():
    s = Script(username="alice", password="secret")
    s.reply(b"220 mx\r\n")
    assert s.reply(b"250 mx\r\n") == b"MAIL FROM:<a@example.com>\r\n"


def _in_transaction(transactions=((TWO, b"x\r\n"), (ONE, b"y\r\n"))) -> Script:
    """A client with its first transaction's recipients accepted."""
    s = Script(list(transactions))
    for line in (b"220 mx\r\n", b"250 mx\r\n", b"250 2.1.0 Ok\r\n", b"250 2.1.5 Ok\r\n"):
        s.reply(line)
    return s


def test_peer_closing_mid_transaction_is_connection_closed_not_a_reply():
    s = _in_transaction()
    assert s.reply(b"") == b""  # end of input (h11's convention): no QUIT into the void
    results = [e for e in s.events if isinstance(e, TransactionResult)]
    assert [(r.outcome, r.accepted) for r in results] == [
        (ConnectionClosed(), ("b@example.org",)), (ConnectionClosed(), ()),
    ]  # fmt: skip
    assert s.events[-1] == ConnectionClosed()
    assert not any(isinstance(e, SessionClosed) for e in s.events)  # no made-up 421
    assert s.client.closed and s.client.state is ClientState.CLOSED
    s.client.receive_data(b"")
    assert s.client.next_event() is NEED_DATA


def test_end_of_input_after_a_complete_reply_reads_the_reply_first():
    s = _in_transaction([(ONE, b"x\r\n")])
    s.client.receive_data(b"354 go\r\n")
    s.client.receive_data(b"")
    s.drain()
    assert s.results() == [(0, "ConnectionClosed")]
    assert s.client.state is ClientState.CLOSED


def test_end_of_input_in_the_middle_of_a_reply_is_connection_closed():
    s = _in_transaction([(ONE, b"x\r\n")])
    s.client.receive_data(b"354 go")
    s.client.receive_data(b"")
    s.drain()
    assert s.events[-1] == ConnectionClosed()


def test_timeout_is_its_own_event():
    s = _in_transaction()
    s.client.timed_out()
    assert s.drain() == b""
    assert s.results() == [(0, "TimedOut"), (1, "TimedOut")]
    assert s.events[-1] == TimedOut()
    s.client.timed_out()  # once over, nothing more happens
    assert s.client.next_event() is NEED_DATA


def test_broken_connection_is_its_own_event():
    s = _in_transaction()
    s.client.connection_broken()
    s.drain()
    assert s.results() == [(0, "ConnectionBroken"), (1, "ConnectionBroken")]
    assert s.events[-1] == ConnectionBroken()


def test_closing_after_quit_resolves_nothing_more():
    s = Script([])
    s.reply(b"220 mx\r\n")
    assert s.reply(b"250 mx\r\n") == b"QUIT\r\n"
    s.reply(b"")
    assert s.events == [ConnectionClosed()]


def test_data_after_end_of_input_is_our_mistake():
    client = SmtpClient(SmtpClientConfig("c"), [(ONE, b"x")])
    client.receive_data(b"")
    with pytest.raises(LocalProtocolError):
        client.receive_data(b"220 mx\r\n")


@pytest.mark.parametrize(
    ("garbage", "detail"),
    [(b"hello\r\n", "malformed reply: hello"),
     (b"250-a\r\n251 b\r\n", "malformed reply: 251 b"),
     (b"600 x\r\n", "malformed reply: 600 x"),
     (b"25\r\n", "malformed reply: 25"),
     (b"250" + b"x" * 600 + b"\r\n", "reply line too long (605 octets)"),
     (b"250-a\r\n" * 200, "reply of more than 100 lines")],
)  # fmt: skip
def test_garbage_reply_is_a_remote_protocol_error(garbage, detail):
    s = Script([(ONE, b"x\r\n"), (TWO, b"y\r\n")])
    s.reply(b"220 mx\r\n")
    assert s.reply(garbage) == b""  # hang up: nothing more to say to such a server
    error = RemoteProtocolError(detail)
    assert s.results() == [(0, "RemoteProtocolError"), (1, "RemoteProtocolError")]
    assert [e.outcome for e in s.events if isinstance(e, TransactionResult)] == [error, error]
    assert s.events[-1] == error
    assert s.client.closed


@pytest.mark.parametrize(
    ("script", "detail"),
    [
        ([b"354 go\r\n"], "unexpected 354 reply in state greeting"),
        ([b"220 mx\r\n", b"334 \r\n"], "unexpected 334 reply in state ehlo"),
        ([b"220 mx\r\n", b"250 mx\r\n", b"354 go\r\n"], "unexpected 354 reply in state mail"),
        ([b"220 mx\r\n", b"250 mx\r\n", b"250 ok\r\n", b"250 ok\r\n", b"250 ok\r\n"],
         "unexpected 250 reply in state data"),
    ],
)  # fmt: skip
def test_reply_of_the_wrong_class_is_a_remote_protocol_error(script, detail):
    s = Script()
    for data in script:
        s.reply(data)
    assert s.results() == [(0, "RemoteProtocolError")]
    assert s.events[-1] == RemoteProtocolError(detail)


def test_multiline_reply_split_in_single_bytes():
    s = Script()
    s.reply(b"220 mx\r\n")
    sent = b"".join(s.reply(EHLO_OK[i : i + 1]) for i in range(len(EHLO_OK)))
    assert sent == b"MAIL FROM:<a@example.com> SIZE=4\r\n"
    assert s.client.extensions == {"SIZE": "10240000", "8BITMIME": ""}


@pytest.mark.parametrize(
    ("content", "wire"),
    [
        (b"a\r\n.b\r\n..c\r\n.\r\n", b"a\r\n..b\r\n...c\r\n..\r\n.\r\n"),
        (b"no final crlf", b"no final crlf\r\n.\r\n"),
        (b"bare\nlf\n", b"bare\r\nlf\r\n.\r\n"),
        (b"", b".\r\n"),
        (b"\r\n", b"\r\n.\r\n"),
    ],
)
def test_content_is_dot_stuffed(content, wire):
    s = Script([(ONE, content)])
    for line in (b"220 mx\r\n", b"250 mx\r\n", b"250 2.1.0 Ok\r\n", b"250 2.1.5 Ok\r\n"):
        s.reply(line)
    assert s.reply(b"354 go\r\n") == wire


def test_transaction_needs_a_recipient():
    with pytest.raises(LocalProtocolError):
        SmtpClient(SmtpClientConfig("c"), [(Envelope("a@b.c", ()), b"x")])


def test_no_transaction_can_be_added_once_quit_is_said():
    s = Script([])
    s.reply(b"220 mx\r\n")
    s.reply(b"250 mx\r\n")
    with pytest.raises(LocalProtocolError):
        s.client.add_transaction(ONE, b"x")


def test_no_transactions_just_quits():
    s = Script([])
    s.reply(b"220 mx\r\n")
    assert s.reply(b"250 mx\r\n") == b"QUIT\r\n"


# ---- hostile bytes (hypothesis) ----

REPLIES = [b"220 mx\r\n", b"250 ok\r\n", b"250-x\r\n", b"354 go\r\n", b"421 bye\r\n",
           b"550 no\r\n", b"334 \r\n", b"221 bye\r\n", b"\r\n"]  # fmt: skip


@settings(max_examples=150, deadline=None)
@given(
    chunks=st.lists(st.one_of(st.binary(max_size=100), st.sampled_from(REPLIES)), max_size=40),
    auth=st.booleans(),
)
def test_hostile_bytes_never_raise_and_nothing_is_lost(chunks, auth):
    creds = {"username": "u", "password": "p"} if auth else {}
    s = Script([(ONE, b"x\r\n"), (TWO, b".y\r\n")], **creds)
    for chunk in chunks:
        if chunk:  # b"" would be the end of input
            s.reply(chunk)
    s.reply(b"")
    assert sorted(index for index, _ in s.results()) == [0, 1]
    assert all(code // 100 in (2, 4, 5) for _, code in s.results() if isinstance(code, int))
    endings = [e for e in s.events if isinstance(e, SessionClosed | Interruption)]
    assert len(endings) == 1 and s.events[-1] is endings[0]
    assert s.client.closed
