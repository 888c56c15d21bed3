"""The SMTP client uses the extensions a server offers: PIPELINING and 8BITMIME.

PIPELINING (RFC 2920 §3.1): MAIL, every RCPT and DATA go as one group, and
the replies are read in order, as Postfix's smtp client does.  DATA ends the
group: the content waits for its 354.  When MAIL or every RCPT is refused,
DATA is on the wire already: its reply is read too (a server answers it
"554 5.5.1 Error: no valid recipients", Postfix smtpd.c), and on a 354 all
the same the client sends a lone dot, never the content.  EHLO and AUTH are
never grouped.  BODY=8BITMIME (RFC 6152 §2) goes with 8-bit content only.
"""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.protocols.common import (
    NEED_DATA,
    ConnectionClosed,
    Interruption,
    RemoteProtocolError,
)
from simulator.protocols.smtp import (
    CLIENT_TRANSITIONS,
    PIPELINED_AFTER,
    ClientInput,
    ClientState,
    Envelope,
    RecipientResult,
    Reply,
    SessionClosed,
    SmtpClient,
    SmtpClientConfig,
    TransactionResult,
)

GREETING = b"220 mx.example.org ESMTP Postfix\r\n"
EHLO_PIPELINING = (
    b"250-mx.example.org\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n"
    b"250-ENHANCEDSTATUSCODES\r\n250 8BITMIME\r\n"
)
EHLO_ONE_AT_A_TIME = b"250-mx.example.org\r\n250-SIZE 10240000\r\n250 8BITMIME\r\n"
EHLO_AUTH = b"250-mx.example.org\r\n250-PIPELINING\r\n250-AUTH PLAIN\r\n250 8BITMIME\r\n"
TWO = Envelope("a@example.com", ("b@example.org", "c@example.org"))
ONE = Envelope("a@example.com", ("d@example.org",))

# Postfix's words (smtpd.c) for the replies of a pipelined group.
MAIL_OK = b"250 2.1.0 Ok\r\n"
RCPT_OK = b"250 2.1.5 Ok\r\n"
GO_AHEAD = b"354 End data with <CR><LF>.<CR><LF>\r\n"
QUEUED = b"250 2.0.0 Ok: queued as ABC\r\n"
SENDER_REFUSED = b"550 5.7.1 <a@example.com>: Sender address rejected\r\n"
UNKNOWN = b"550 5.1.1 <x@example.org>: Recipient address rejected: User unknown\r\n"
NEED_MAIL = b"503 5.5.1 Error: need MAIL command\r\n"
NEED_RCPT = b"503 5.5.1 Error: need RCPT command\r\n"
NO_VALID = b"554 5.5.1 Error: no valid recipients\r\n"
TOO_MANY = b"452 4.5.3 Error: too many recipients\r\n"
OK = b"250 2.0.0 Ok\r\n"
BYE = b"221 2.0.0 Bye\r\n"

GROUP = (
    b"MAIL FROM:<a@example.com> SIZE=4\r\n"
    b"RCPT TO:<b@example.org>\r\nRCPT TO:<c@example.org>\r\n"
    b"DATA\r\n"
)


class Script:
    """A client fed one scripted reply at a time."""

    def __init__(self, transactions: Sequence[tuple[Envelope, bytes]] = ((TWO, b"hi\r\n"),),
                 username: str | None = None, password: str | None = None) -> None:
        config = SmtpClientConfig("client.example.com", username, password)
        self.client = SmtpClient(config, transactions)
        self.events: list[object] = []

    def reply(self, data: bytes) -> bytes:
        """Feed one reply; return what the client sent in answer."""
        self.client.receive_data(data)
        while (event := self.client.next_event()) is not NEED_DATA:
            self.events.append(event)
        return self.client.data_to_send()

    def results(self) -> list[TransactionResult]:
        return [e for e in self.events if isinstance(e, TransactionResult)]

    def codes(self) -> list[tuple[int, int | str, tuple[str, ...]]]:
        """(index, reply code or the event's name, accepted) per transaction."""
        return [(r.index, _code(r.outcome), r.accepted) for r in self.results()]


def _code(outcome: object) -> int | str:
    return outcome.code if isinstance(outcome, Reply) else type(outcome).__name__


def introduced(transactions: Sequence[tuple[Envelope, bytes]] = ((TWO, b"hi\r\n"),),
               username: str | None = None, password: str | None = None) -> Script:
    """A client that got the greeting; the EHLO reply is not fed yet."""
    s = Script(transactions, username, password)
    assert s.reply(GREETING) == b"EHLO client.example.com\r\n"
    return s


# ---- wire cases: (replies after EHLO, what the client sends after the last, its state) ----

WIRE_CASES = [
    pytest.param([], GROUP, ClientState.MAIL, id="one group after EHLO"),
    pytest.param([MAIL_OK], b"", ClientState.RCPT, id="MAIL answered"),
    pytest.param([MAIL_OK, RCPT_OK], b"", ClientState.RCPT, id="first RCPT answered"),
    pytest.param([MAIL_OK, RCPT_OK, RCPT_OK], b"", ClientState.DATA, id="last RCPT answered"),
    pytest.param([MAIL_OK, RCPT_OK, RCPT_OK, GO_AHEAD], b"hi\r\n.\r\n", ClientState.CONTENT,
                 id="354: the content"),
    pytest.param([MAIL_OK, RCPT_OK, RCPT_OK, GO_AHEAD, QUEUED], b"QUIT\r\n", ClientState.QUIT,
                 id="queued: QUIT alone"),
    pytest.param([MAIL_OK, UNKNOWN, RCPT_OK, GO_AHEAD], b"hi\r\n.\r\n", ClientState.CONTENT,
                 id="one recipient is enough"),
    pytest.param([MAIL_OK, RCPT_OK, RCPT_OK, b"451 4.3.0 Error\r\n"], b"RSET\r\n",
                 ClientState.RSET, id="DATA refused"),
    pytest.param([SENDER_REFUSED], b"", ClientState.REST_OF_GROUP, id="MAIL refused"),
    pytest.param([SENDER_REFUSED, NEED_MAIL, NEED_MAIL], b"", ClientState.REST_OF_GROUP,
                 id="MAIL refused, RCPTs answered"),
    pytest.param([SENDER_REFUSED, NEED_MAIL, NEED_MAIL, NEED_RCPT], b"RSET\r\n",
                 ClientState.RSET, id="MAIL refused, DATA answered: RSET"),
    pytest.param([MAIL_OK, UNKNOWN, UNKNOWN], b"", ClientState.REST_OF_GROUP,
                 id="every RCPT refused: DATA still owed"),
    pytest.param([MAIL_OK, UNKNOWN, UNKNOWN, NO_VALID], b"RSET\r\n", ClientState.RSET,
                 id="DATA 554 5.5.1: RSET, no content"),
    pytest.param([MAIL_OK, UNKNOWN, UNKNOWN, GO_AHEAD], b".\r\n", ClientState.LONE_DOT,
                 id="354 with nobody to send to: a lone dot"),
    pytest.param([MAIL_OK, UNKNOWN, UNKNOWN, GO_AHEAD, NO_VALID], b"QUIT\r\n", ClientState.QUIT,
                 id="lone dot answered"),
    pytest.param([MAIL_OK, UNKNOWN, UNKNOWN, NO_VALID, OK], b"QUIT\r\n", ClientState.QUIT,
                 id="RSET answered"),
]  # fmt: skip


@pytest.mark.parametrize(("replies", "sent", "state"), WIRE_CASES)
def test_pipelined_wire_cases(replies: list[bytes], sent: bytes, state: ClientState) -> None:
    s = introduced()
    last = s.reply(EHLO_PIPELINING)
    for data in replies:
        last = s.reply(data)
    assert (last, s.client.state) == (sent, state)


@pytest.mark.parametrize(("replies", "sent", "state"), WIRE_CASES[1:])
def test_replies_that_arrive_together_are_read_in_order(
    replies: list[bytes], sent: bytes, state: ClientState
) -> None:
    one_by_one, together = introduced(), introduced()
    said = [one_by_one.reply(EHLO_PIPELINING)] + [one_by_one.reply(data) for data in replies]
    assert together.reply(EHLO_PIPELINING) == said[0]
    assert together.reply(b"".join(replies)) == b"".join(said[1:])
    assert (together.client.state, together.events) == (state, one_by_one.events)


def test_without_pipelining_the_same_commands_go_one_at_a_time() -> None:
    s = introduced()
    flights = [s.reply(EHLO_ONE_AT_A_TIME)]
    flights += [s.reply(reply) for reply in (MAIL_OK, RCPT_OK, RCPT_OK)]
    assert flights == [
        b"MAIL FROM:<a@example.com> SIZE=4\r\n", b"RCPT TO:<b@example.org>\r\n",
        b"RCPT TO:<c@example.org>\r\n", b"DATA\r\n",
    ]  # fmt: skip
    assert b"".join(flights) == GROUP  # the same commands, four round trips instead of one
    assert s.reply(SENDER_REFUSED.replace(b"550", b"554")) == b"RSET\r\n"


def test_after_helo_there_is_no_pipelining() -> None:
    s = introduced()
    assert s.reply(b"502 5.5.2 Error: command not recognized\r\n") == (
        b"HELO client.example.com\r\n"
    )
    # A HELO reply carries no extensions (RFC 5321 §4.1.1.1), whatever it says.
    assert s.reply(b"250-mx.example.org\r\n250 PIPELINING\r\n") == (
        b"MAIL FROM:<a@example.com>\r\n"
    )


def test_auth_is_never_grouped_with_mail() -> None:
    s = introduced(username="alice", password="secret")
    sent = s.reply(EHLO_AUTH)
    assert sent.startswith(b"AUTH PLAIN ") and sent.count(b"\r\n") == 1  # RFC 4954 §4
    assert s.reply(b"235 2.7.0 Authentication successful\r\n") == GROUP.replace(b" SIZE=4", b"")


def test_every_recipient_refused_with_data_already_sent() -> None:
    s = introduced(transactions=[(TWO, b"hi\r\n"), (ONE, b"yo\r\n")])
    sent = [s.reply(EHLO_PIPELINING)] + [s.reply(r) for r in (MAIL_OK, UNKNOWN, UNKNOWN)]
    assert sent[1:] == [b"", b"", b""]
    assert s.results() == [TransactionResult(0, TWO, Reply.parse([UNKNOWN[:-2].decode()]), ())]
    assert s.reply(NO_VALID) == b"RSET\r\n"  # the 554 to DATA settles nothing new
    assert len(s.results()) == 1
    assert s.reply(OK) == b"MAIL FROM:<a@example.com> SIZE=4\r\nRCPT TO:<d@example.org>\r\nDATA\r\n"
    assert s.reply(MAIL_OK) + s.reply(RCPT_OK) + s.reply(GO_AHEAD) == b"yo\r\n.\r\n"
    assert s.reply(QUEUED) == b"QUIT\r\n"
    assert s.codes() == [(0, 550, ()), (1, 250, ("d@example.org",))]
    assert b"hi" not in b"".join(sent)  # the first message never went


def test_mail_refused_reports_no_recipient_results() -> None:
    s = introduced()
    s.reply(EHLO_PIPELINING)
    for reply in (SENDER_REFUSED, NEED_MAIL, NEED_MAIL, NEED_RCPT):
        s.reply(reply)
    # Postfix: "If MAIL FROM was rejected, ignore RCPT TO responses" (smtp_proto.c)
    assert not any(isinstance(e, RecipientResult) for e in s.events)
    assert s.codes() == [(0, 550, ())]


def test_452_mid_group_the_rest_go_in_a_further_group() -> None:
    """RFC 5321 §4.5.3.1.10: the caller adds a transaction for the recipients over the limit."""
    s = introduced()
    s.reply(EHLO_PIPELINING)
    s.reply(MAIL_OK)
    s.reply(RCPT_OK)
    assert s.reply(TOO_MANY) == b""
    (over,) = [e for e in s.events if isinstance(e, RecipientResult) and e.reply.code == 452]
    assert s.client.add_transaction(Envelope(TWO.mail_from, (over.recipient,)), b"hi\r\n") == 1
    assert s.reply(GO_AHEAD) == b"hi\r\n.\r\n"
    assert s.reply(QUEUED) == (
        b"MAIL FROM:<a@example.com> SIZE=4\r\nRCPT TO:<c@example.org>\r\nDATA\r\n"
    )
    assert s.reply(MAIL_OK) + s.reply(RCPT_OK) + s.reply(GO_AHEAD) == b"hi\r\n.\r\n"
    assert s.reply(QUEUED) == b"QUIT\r\n"
    assert [r.accepted for r in s.results()] == [("b@example.org",), ("c@example.org",)]


@pytest.mark.parametrize(
    ("replies", "detail"),
    [([SENDER_REFUSED, GO_AHEAD], "unexpected 354 reply in state rcpt"),
     ([MAIL_OK, UNKNOWN, UNKNOWN, OK], "unexpected 250 reply in state data")],
)  # fmt: skip
def test_a_reply_of_the_wrong_class_in_a_group_is_a_protocol_error(
    replies: list[bytes], detail: str
) -> None:
    s = introduced()
    s.reply(EHLO_PIPELINING)
    for data in replies:
        assert s.reply(data) == b""
    assert s.events[-1] == RemoteProtocolError(detail)
    assert s.client.closed


def test_421_mid_group_ends_the_session() -> None:
    s = introduced()
    s.reply(EHLO_PIPELINING)
    s.reply(MAIL_OK)
    assert s.reply(b"421 4.3.2 mx.example.org Service shutting down\r\n") == b""
    assert s.codes() == [(0, 421, ())]
    assert isinstance(s.events[-1], SessionClosed) and s.client.closed


def test_the_server_closing_mid_group_is_connection_closed() -> None:
    s = introduced()
    s.reply(EHLO_PIPELINING)
    s.reply(MAIL_OK + RCPT_OK)
    assert s.reply(b"") == b""
    assert s.codes() == [(0, "ConnectionClosed", ("b@example.org",))]
    assert s.events[-1] == ConnectionClosed()
    assert s.client.closed


def test_the_group_table_ends_with_data() -> None:
    assert PIPELINED_AFTER == {ClientState.MAIL: (ClientState.RCPT, ClientState.DATA)}
    t = CLIENT_TRANSITIONS
    assert t[ClientState.MAIL][ClientInput.REFUSED_IN_GROUP] is ClientState.REST_OF_GROUP
    assert t[ClientState.RCPT][ClientInput.NONE_ACCEPTED_IN_GROUP] is ClientState.REST_OF_GROUP
    assert t[ClientState.REST_OF_GROUP][ClientInput.GO_AHEAD] is ClientState.LONE_DOT
    assert t[ClientState.REST_OF_GROUP][ClientInput.REFUSED] is ClientState.RSET


# ---- BODY=8BITMIME (RFC 6152) ----

EHLO_7BIT_ONLY = b"250-mx.example.org\r\n250-PIPELINING\r\n250 SIZE 10240000\r\n"
EIGHT_BIT = "Grüße\r\n".encode()


@pytest.mark.parametrize(
    ("content", "ehlo", "mail"),
    [
        pytest.param(EIGHT_BIT, EHLO_PIPELINING, b"MAIL FROM:<a@example.com> SIZE=9 BODY=8BITMIME",
                     id="8-bit content, 8BITMIME offered"),
        pytest.param(b"Gruesse\r\n", EHLO_PIPELINING, b"MAIL FROM:<a@example.com> SIZE=9",
                     id="7-bit content: no BODY"),
        pytest.param(EIGHT_BIT, EHLO_7BIT_ONLY, b"MAIL FROM:<a@example.com> SIZE=9",
                     id="no 8BITMIME: sent as it is, without BODY"),
        pytest.param(b"\x80\r\n", b"250-mx\r\n250 8BITMIME\r\n",
                     b"MAIL FROM:<a@example.com> BODY=8BITMIME", id="one octet over 127"),
    ],
)  # fmt: skip
def test_body_8bitmime_only_for_8bit_content(content: bytes, ehlo: bytes, mail: bytes) -> None:
    s = introduced(transactions=[(ONE, content)])
    assert s.reply(ehlo).split(b"\r\n")[0] == mail


# ---- hostile bytes (hypothesis) ----

REPLIES = [MAIL_OK, RCPT_OK, GO_AHEAD, QUEUED, UNKNOWN, NO_VALID, NEED_MAIL, TOO_MANY, OK, BYE,
           b"421 4.3.2 bye\r\n", b"250-x\r\n", b"\r\n"]  # fmt: skip


@settings(max_examples=150, deadline=None)
@given(chunks=st.lists(st.one_of(st.binary(max_size=60), st.sampled_from(REPLIES)), max_size=30))
def test_hostile_replies_to_a_group_never_raise_and_nothing_is_lost(chunks: list[bytes]) -> None:
    s = introduced(transactions=[(TWO, b"x\r\n"), (ONE, b".y\r\n")])
    s.reply(EHLO_PIPELINING)
    for chunk in chunks:
        if chunk:  # b"" would be the end of input
            s.reply(chunk)
    s.reply(b"")
    assert sorted(r.index for r in s.results()) == [0, 1]
    endings = [e for e in s.events if isinstance(e, SessionClosed | Interruption)]
    assert len(endings) == 1 and s.events[-1] is endings[0]
    assert s.client.closed
