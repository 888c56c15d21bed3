"""An SMTP client and server wired back to back must agree."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.protocols.common import NEED_DATA
from simulator.protocols.smtp import (
    CLIENT_TRANSITIONS,
    AuthReceived,
    Envelope,
    MailFromReceived,
    MessageReceived,
    RcptToReceived,
    RecipientResult,
    Reply,
    SessionClosed,
    SmtpClient,
    SmtpClientConfig,
    SmtpReply,
    SmtpServer,
    SmtpServerConfig,
    TransactionResult,
    reply,
)

HOST = "mx.example.org"


@dataclass
class Policy:
    """A tiny server policy: local users, one password, one banned sender."""

    users: tuple[str, ...] = ("bob@example.org", "carol@example.org")
    messages: list[MessageReceived] = field(default_factory=list)

    def __call__(self, event) -> Reply:
        if isinstance(event, MailFromReceived):
            if event.reverse_path == "spammer@example.net":
                return Reply(550, "5.7.1", ("Sender rejected",))
            return reply(SmtpReply.MAIL_OK)
        if isinstance(event, RcptToReceived):
            if event.forward_path in self.users:
                return reply(SmtpReply.RCPT_OK)
            return reply(SmtpReply.USER_UNKNOWN, rcpt=event.forward_path)
        if isinstance(event, MessageReceived):
            self.messages.append(event)
            return reply(SmtpReply.QUEUED, queue_id=f"Q{len(self.messages)}")
        assert isinstance(event, AuthReceived)
        ok = (event.username, event.password) == ("alice", "secret")
        return reply(SmtpReply.AUTH_OK if ok else SmtpReply.AUTH_FAILED)


def pump(client: SmtpClient, server: SmtpServer, policy: Policy, rounds: int = 200) -> list:
    """Move bytes both ways until both sides are closed; return client events."""
    events: list = []
    for _ in range(rounds):
        if to_client := server.data_to_send():  # b"" would tell the client the server closed
            client.receive_data(to_client)
        while (event := client.next_event()) is not NEED_DATA:
            events.append(event)
        server.receive_data(client.data_to_send())
        while (decision := server.next_event()) is not NEED_DATA:
            server.respond(policy(decision))
        if client.closed and server.closed:
            return events
    raise AssertionError("the pair did not finish")


def session(transactions, server_config=None, **client_config):
    server = SmtpServer(server_config or SmtpServerConfig(HOST))
    server.greet()
    client = SmtpClient(SmtpClientConfig("client.example.com", **client_config), transactions)
    policy = Policy()
    return pump(client, server, policy), policy


def results(events) -> list[TransactionResult]:
    return [e for e in events if isinstance(e, TransactionResult)]


TRICKY = (
    b"From: alice@example.com\r\nSubject: dots\r\n\r\n"
    b".\r\n..\r\n.leading\r\n...three\r\n\r\n. \r\nend without crlf"
)


def test_content_arrives_byte_identical():
    envelope = Envelope("alice@example.com", ("bob@example.org",))
    events, policy = session([(envelope, TRICKY)])
    assert [m.content for m in policy.messages] == [TRICKY + b"\r\n"]
    assert policy.messages[0].envelope == envelope
    (result,) = results(events)
    assert (result.outcome.code, result.accepted) == (250, ("bob@example.org",))
    assert events[-1] == SessionClosed(reply(SmtpReply.BYE))


def test_rejected_recipient_is_reported_with_550_511():
    envelope = Envelope("alice@example.com", ("bob@example.org", "nobody@example.org"))
    events, policy = session([(envelope, b"hi\r\n")])
    verdicts = {e.recipient: (e.reply.code, e.reply.enhanced) for e in events
                if isinstance(e, RecipientResult)}  # fmt: skip
    assert verdicts == {"bob@example.org": (250, "2.1.5"), "nobody@example.org": (550, "5.1.1")}
    assert policy.messages[0].envelope.rcpt_to == ("bob@example.org",)
    assert results(events)[0].accepted == ("bob@example.org",)


def test_multiple_transactions_each_get_one_result():
    transactions = [
        (Envelope("alice@example.com", ("bob@example.org",)), b"one\r\n"),
        (Envelope("spammer@example.net", ("bob@example.org",)), b"spam\r\n"),
        (Envelope("", ("nobody@example.org",)), b"bounce\r\n"),
        (Envelope("", ("carol@example.org", "bob@example.org")), b"four\r\n"),
    ]
    events, policy = session(transactions)
    assert [(r.index, r.outcome.code) for r in results(events)] == [
        (0, 250), (1, 550), (2, 550), (3, 250),
    ]  # fmt: skip
    assert [m.content for m in policy.messages] == [b"one\r\n", b"four\r\n"]
    assert [str(r.outcome) for r in results(events)][3] == "250 2.0.0 Ok: queued as Q2"


def test_auth_required_with_good_credentials():
    config = SmtpServerConfig(HOST, offer_auth=True, auth_required=True)
    envelope = Envelope("alice@example.com", ("bob@example.org",))
    events, policy = session([(envelope, b"hi\r\n")], config, username="alice", password="secret")
    assert [r.outcome.code for r in results(events)] == [250]
    assert len(policy.messages) == 1


def test_auth_required_with_bad_credentials():
    config = SmtpServerConfig(HOST, offer_auth=True, auth_required=True)
    envelope = Envelope("alice@example.com", ("bob@example.org",))
    events, policy = session([(envelope, b"hi\r\n")], config, username="alice", password="guess")
    assert [(r.outcome.code, r.outcome.enhanced) for r in results(events)] == [(535, "5.7.8")]
    assert policy.messages == []


def test_auth_required_without_credentials_gets_530():
    config = SmtpServerConfig(HOST, offer_auth=True, auth_required=True)
    envelope = Envelope("alice@example.com", ("bob@example.org",))
    events, policy = session([(envelope, b"hi\r\n")], config)
    assert [(r.outcome.code, r.outcome.enhanced) for r in results(events)] == [(530, "5.7.0")]
    assert policy.messages == []


def test_declared_size_over_the_limit_is_refused_at_mail():
    config = SmtpServerConfig(HOST, max_message_size=10)
    envelope = Envelope("alice@example.com", ("bob@example.org",))
    events, _ = session([(envelope, b"x" * 50 + b"\r\n")], config)
    assert [(r.outcome.code, r.outcome.enhanced) for r in results(events)] == [(552, "5.3.4")]


def test_refusing_server_and_client_agree():
    server = SmtpServer(SmtpServerConfig(HOST))
    server.greet(reply(SmtpReply.NOT_ACCEPTING, hostname=HOST))
    envelope = Envelope("alice@example.com", ("bob@example.org",))
    client = SmtpClient(SmtpClientConfig("c.example"), [(envelope, b"x\r\n")])
    events = pump(client, server, Policy())
    assert [r.outcome.code for r in results(events)] == [554]
    assert events[-1] == SessionClosed(reply(SmtpReply.BYE))


def test_server_shutdown_mid_session():
    server = SmtpServer(SmtpServerConfig(HOST))
    server.greet()
    envelope = Envelope("alice@example.com", ("bob@example.org",))
    client = SmtpClient(SmtpClientConfig("c.example"), [(envelope, b"x\r\n")] * 2)
    client.receive_data(server.data_to_send())
    assert client.next_event() is NEED_DATA
    server.receive_data(client.data_to_send())
    assert server.next_event() is NEED_DATA
    server.close(reply(SmtpReply.SHUTTING_DOWN, hostname=HOST))
    events = pump(client, server, Policy())
    assert [(r.index, r.outcome.code) for r in results(events)] == [(0, 421), (1, 421)]


def test_client_moves_only_along_its_table():
    server = SmtpServer(SmtpServerConfig(HOST))
    server.greet()
    envelope = Envelope("alice@example.com", ("bob@example.org", "nobody@example.org"))
    client = SmtpClient(SmtpClientConfig("c.example"), [(envelope, b"x\r\n")] * 2)
    policy, seen = Policy(), [client.state]
    for _ in range(100):
        if to_client := server.data_to_send():
            client.receive_data(to_client)
        while client.next_event() is not NEED_DATA:
            pass
        seen.append(client.state)
        server.receive_data(client.data_to_send())
        while (decision := server.next_event()) is not NEED_DATA:
            server.respond(policy(decision))
        if client.closed:
            break
    moves = [(a, b) for a, b in itertools.pairwise(seen) if a is not b]
    assert moves and all(b in CLIENT_TRANSITIONS[a].values() for a, b in moves)
    assert client.closed and server.closed


LINE = st.binary(max_size=80).map(lambda b: b.replace(b"\r", b"").replace(b"\n", b""))


@settings(max_examples=100, deadline=None)
@given(st.lists(st.lists(LINE, max_size=8), min_size=1, max_size=3))
def test_any_content_arrives_byte_identical(bodies):
    contents = [b"".join(line + b"\r\n" for line in body) for body in bodies]
    envelope = Envelope("alice@example.com", ("bob@example.org",))
    events, policy = session([(envelope, content) for content in contents])
    assert [m.content for m in policy.messages] == contents
    assert [r.outcome.code for r in results(events)] == [250] * len(contents)
