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


def pump(client: SmtpClient, server: SmtpServer, policy: Policy, rounds: int = 200,
         wire: list[tuple[str, bytes]] | None = None) -> list:
    """Move bytes both ways until both sides are closed; return client events.

    `wire`, if given, gets every flight of bytes: ("S", replies) or ("C", commands).
    """
    events: list = []
    for _ in range(rounds):
        if to_client := server.data_to_send():  # b"" would tell the client the server closed
            client.receive_data(to_client)
        while (event := client.next_event()) is not NEED_DATA:
            events.append(event)
            if isinstance(event, RecipientResult) and event.reply.code == 452:
                # RFC 5321 §4.5.3.1.10: the rest in a further transaction, as Postfix does
                envelope, content = client.transactions[event.index]
                client.add_transaction(Envelope(envelope.mail_from, (event.recipient,)), content)
        to_server = client.data_to_send()
        if wire is not None:
            wire += [(side, data) for side, data in (("S", to_client), ("C", to_server)) if data]
        server.receive_data(to_server)
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
        # one reply line at a time: pipelined replies arrive together (RFC 2920)
        for line in server.data_to_send().splitlines(keepends=True):
            client.receive_data(line)
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


# ---- PIPELINING (RFC 2920) and 8BITMIME (RFC 6152): the server offers both ----


def wire_session(transactions, server_config=None):
    server = SmtpServer(server_config or SmtpServerConfig(HOST))
    server.greet()
    client = SmtpClient(SmtpClientConfig("client.example.com"), transactions)
    policy, wire = Policy(), []
    events = pump(client, server, policy, wire=wire)
    return events, policy, wire


def test_mail_rcpt_and_data_cross_in_one_flight_each_way():
    envelope = Envelope("alice@example.com", ("bob@example.org", "carol@example.org"))
    events, policy, wire = wire_session([(envelope, b"hi\r\n")])
    # 220 / EHLO, 250 / the group, 250 250 250 354 / content, 250 / QUIT, 221
    assert [side for side, _ in wire] == ["S", "C"] * 4 + ["S"]
    assert wire[3][1].split(b"\r\n")[:-1] == [
        b"MAIL FROM:<alice@example.com> SIZE=4", b"RCPT TO:<bob@example.org>",
        b"RCPT TO:<carol@example.org>", b"DATA",
    ]  # fmt: skip
    assert wire[4][1] == b"250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n250 2.1.5 Ok\r\n" + (
        b"354 End data with <CR><LF>.<CR><LF>\r\n"
    )
    assert [r.outcome.code for r in results(events)] == [250]
    assert policy.messages[0].envelope == envelope


def test_no_valid_recipients_the_server_refuses_the_pipelined_data():
    nobody = Envelope("alice@example.com", ("nobody@example.org", "ghost@example.org"))
    bob = Envelope("alice@example.com", ("bob@example.org",))
    events, policy, wire = wire_session([(nobody, b"never sent\r\n"), (bob, b"hi\r\n")])
    said = b"".join(data for side, data in wire if side == "S")
    assert b"554 5.5.1 Error: no valid recipients\r\n" in said  # Postfix smtpd.c data_cmd()
    assert b"never sent" not in b"".join(data for side, data in wire if side == "C")
    assert [(r.index, r.outcome.code) for r in results(events)] == [(0, 550), (1, 250)]
    assert [m.envelope for m in policy.messages] == [bob]


def test_a_refused_sender_the_server_refuses_the_rest_of_the_group():
    spam = Envelope("spammer@example.net", ("bob@example.org",))
    events, policy, wire = wire_session([(spam, b"spam\r\n")])
    assert wire[4][1].split(b"\r\n")[:-1] == [
        b"550 5.7.1 Sender rejected", b"503 5.5.1 Error: need MAIL command",
        b"503 5.5.1 Error: need RCPT command",
    ]  # fmt: skip
    assert wire[5] == ("C", b"RSET\r\n")
    assert [r.outcome.code for r in results(events)] == [550]
    assert policy.messages == []


def test_recipients_over_the_limit_go_in_a_further_pipelined_transaction():
    envelope = Envelope("alice@example.com", ("bob@example.org", "carol@example.org"))
    events, policy, wire = wire_session([(envelope, b"hi\r\n")],
                                        SmtpServerConfig(HOST, max_recipients=1))
    assert [m.envelope.rcpt_to for m in policy.messages] == [
        ("bob@example.org",), ("carol@example.org",),
    ]  # fmt: skip
    groups = [data for side, data in wire if side == "C" and data.startswith(b"MAIL")]
    assert [g.count(b"\r\n") for g in groups] == [4, 3]  # MAIL, RCPT(s), DATA each time
    assert [(r.index, r.outcome.code) for r in results(events)] == [(0, 250), (1, 250)]


def test_8bit_content_travels_with_body_8bitmime_and_arrives_unchanged():
    content = "Subject: Grüße\r\n\r\nÀ bientôt\r\n".encode()
    envelope = Envelope("alice@example.com", ("bob@example.org",))
    events, policy, wire = wire_session([(envelope, content)])
    assert wire[3][1].startswith(f"MAIL FROM:<alice@example.com> SIZE={len(content)} "
                                 "BODY=8BITMIME\r\n".encode())  # fmt: skip
    assert [m.content for m in policy.messages] == [content]
    assert [r.outcome.code for r in results(events)] == [250]
