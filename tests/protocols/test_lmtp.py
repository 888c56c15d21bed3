"""LMTP (RFC 2033) in Dovecot's words: LHLO, one reply per recipient after the dot.

Wire cases are data: what the client sends, what the server answers.  The
server's policy here is a small Dovecot: bob and carol exist, carol's
mailbox is full (permanently, or temporarily with quota_full_tempfail).
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.protocols import lmtp, smtp
from simulator.protocols.common import NEED_DATA
from simulator.protocols.lmtp import (
    DeliveryResult,
    LmtpClient,
    LmtpReply,
    LmtpServer,
)
from simulator.protocols.smtp import (
    Envelope,
    MailFromReceived,
    MessageReceived,
    RcptToReceived,
    RecipientResult,
    Reply,
    ServerState,
    SmtpClientConfig,
    SmtpReply,
    SmtpServerConfig,
    TransactionResult,
    Verb,
)

HOST = "mda.example.net"
USERS = ("bob@example.net", "carol@example.net")


def answer(event: object, tempfail: bool = False) -> Reply | list[Reply]:
    """A small Dovecot: bob and carol exist; carol is over quota."""
    if isinstance(event, MailFromReceived):
        return lmtp.reply(SmtpReply.MAIL_OK)
    if isinstance(event, RcptToReceived):
        rcpt = event.forward_path
        if rcpt in USERS:
            return lmtp.reply(SmtpReply.RCPT_OK)
        return lmtp.reply(SmtpReply.USER_UNKNOWN, rcpt=rcpt)
    assert isinstance(event, MessageReceived)
    full = LmtpReply.QUOTA_EXCEEDED_TEMPORARY if tempfail else LmtpReply.QUOTA_EXCEEDED
    return [lmtp.reply(full, rcpt=rcpt) if rcpt.startswith("carol")
            else lmtp.reply(LmtpReply.SAVED, rcpt=rcpt, session_id="S1")
            for rcpt in event.envelope.rcpt_to]


def serve(lines: list[bytes], tempfail: bool = False) -> list[str]:
    """Feed `lines` to a greeted server; every reply line it sends."""
    server = LmtpServer(SmtpServerConfig(hostname=HOST, software="Dovecot", max_message_size=0))
    server.greet()
    server.receive_data(b"".join(line + b"\r\n" for line in lines))
    while (event := server.next_event()) is not NEED_DATA:
        decided = answer(event, tempfail)
        if isinstance(decided, list):
            server.respond_each(decided)
        else:
            server.respond(decided)
    return server.data_to_send().decode().splitlines()


TRANSACTION = [b"LHLO mail.example.net", b"MAIL FROM:<alice@example.org>"]


def test_greeting_and_lhlo_are_dovecots() -> None:
    assert serve([b"LHLO mail.example.net"]) == [
        "220 mda.example.net Dovecot ready.",
        "250-mda.example.net", "250-8BITMIME", "250-ENHANCEDSTATUSCODES", "250 PIPELINING",
    ]


#: (command, Dovecot's answer) -- each sent after the greeting alone.
WIRE = [
    (b"EHLO mail.example.net", "500 5.5.1 Unknown command"),  # RFC 2033 §4.1: LHLO only
    (b"HELO mail.example.net", "500 5.5.1 Unknown command"),
    (b"AUTH PLAIN AGJvYgBzZWNyZXQ=", "500 5.5.1 Unknown command"),  # no AUTH in LMTP here
    (b"LHLO", "501 Syntax: LHLO hostname"),
    (b"NOOP", "250 2.0.0 OK"),
    (b"RCPT TO:<bob@example.net>", "503 5.5.1 Error: need MAIL command"),
    (b"QUIT", "221 2.0.0 Bye"),
]


def test_wire_table() -> None:
    for command, expected in WIRE:
        assert serve([command])[1] == expected, command


def test_one_reply_per_accepted_recipient_in_rcpt_order() -> None:
    replies = serve([*TRANSACTION, b"RCPT TO:<bob@example.net>", b"RCPT TO:<nobody@example.net>",
                     b"RCPT TO:<carol@example.net>", b"DATA", b"Hi", b"."])
    assert replies[-7:] == [
        "250 2.1.0 OK",
        "250 2.1.5 OK",
        "550 5.1.1 <nobody@example.net> User doesn't exist: nobody@example.net",
        "250 2.1.5 OK",
        "354 OK",
        # RFC 2033 §4.2: bob and carol were accepted, so two replies, in that order
        "250 2.0.0 <bob@example.net> S1 Saved",
        "552 5.2.2 <carol@example.net> Quota exceeded (mailbox for user is full)",
    ]


def test_every_refused_recipient_counts_as_an_error() -> None:
    """Postfix smtpd's error count, reply by reply; a saved message forgives the rest."""
    server = LmtpServer(SmtpServerConfig(hostname=HOST, software="Dovecot"))
    server.greet()
    server.receive_data(b"LHLO mx\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<bob@example.net>\r\n"
                        b"RCPT TO:<carol@example.net>\r\nDATA\r\nHi\r\n.\r\n")
    while not isinstance(event := server.next_event(), MessageReceived):
        server.respond(answer(event))
    full = [lmtp.reply(LmtpReply.QUOTA_EXCEEDED, rcpt=rcpt) for rcpt in USERS]
    server.respond_each(full)
    assert server.error_count == 2
    server.receive_data(b"MAIL FROM:<a@example.org>\r\nRCPT TO:<bob@example.net>\r\n"
                        b"RCPT TO:<carol@example.net>\r\nDATA\r\nHi\r\n.\r\n")
    while not isinstance(event := server.next_event(), MessageReceived):
        server.respond(answer(event))
    server.respond_each([full[0], lmtp.reply(LmtpReply.SAVED, rcpt=USERS[1], session_id="S2")])
    assert server.error_count == 0


def test_quota_full_tempfail_answers_452() -> None:
    replies = serve([*TRANSACTION, b"RCPT TO:<carol@example.net>", b"DATA", b"Hi", b"."],
                    tempfail=True)
    assert replies[-1] == "452 4.2.2 <carol@example.net> Quota exceeded (mailbox for user is full)"


def test_a_reply_the_machine_makes_goes_to_every_recipient() -> None:
    server = LmtpServer(SmtpServerConfig(hostname=HOST, max_message_size=10))
    server.greet()
    server.receive_data(b"LHLO x\r\nMAIL FROM:<a@b.org>\r\nRCPT TO:<bob@example.net>\r\n"
                        b"RCPT TO:<carol@example.net>\r\nDATA\r\n" + b"x" * 40 + b"\r\n.\r\n")
    while (event := server.next_event()) is not NEED_DATA:
        server.respond(lmtp.reply(SmtpReply.RCPT_OK if isinstance(event, RcptToReceived)
                                  else SmtpReply.MAIL_OK))
    lines = server.data_to_send().decode().splitlines()
    assert lines[-2:] == ["552 5.3.4 Message size exceeds fixed limit"] * 2
    assert server.state is ServerState.READY


def test_the_server_table_knows_lhlo_and_not_ehlo() -> None:
    verbs = {verb for row in lmtp.TRANSITIONS.values() for verb in row}
    assert Verb.LHLO in verbs and not verbs & {Verb.HELO, Verb.EHLO, Verb.AUTH}
    smtp_verbs = {verb for row in smtp.TRANSITIONS.values() for verb in row}
    assert Verb.LHLO not in smtp_verbs


def test_an_smtp_server_does_not_know_lhlo() -> None:
    server = smtp.SmtpServer(SmtpServerConfig(hostname="mx.example.net"))
    server.greet()
    server.receive_data(b"LHLO x\r\n")
    assert server.next_event() is NEED_DATA
    assert server.data_to_send().decode().splitlines()[-1] == (
        "500 5.5.2 Error: command not recognized"
    )


def pair(rcpts: tuple[str, ...], tempfail: bool = False) -> tuple[list[object], list[bytes]]:
    """An LMTP client and server back to back: the client's events and what it sent."""
    client = LmtpClient(SmtpClientConfig(helo_name="mail.example.net"),
                        [(Envelope("alice@example.org", rcpts), b"Subject: hi\r\n\r\nHi\r\n")])
    server = LmtpServer(SmtpServerConfig(hostname=HOST, software="Dovecot"))
    server.greet()
    events: list[object] = []
    sent: list[bytes] = []
    for _ in range(50):
        client.receive_data(server.data_to_send())
        while (event := client.next_event()) is not NEED_DATA:
            events.append(event)
        out = client.data_to_send()
        sent.append(out)
        server.receive_data(out)
        while (event := server.next_event()) is not NEED_DATA:
            decided = answer(event, tempfail)
            if isinstance(decided, list):
                server.respond_each(decided)
            else:
                server.respond(decided)
        if client.closed:
            break
    return events, sent


def test_the_client_reads_one_reply_per_accepted_recipient() -> None:
    events, sent = pair(("bob@example.net", "nobody@example.net", "carol@example.net"))
    assert sent[0] == b"LHLO mail.example.net\r\n"
    assert b"MAIL FROM:<alice@example.org>\r\nRCPT TO:<bob@example.net>\r\n" in sent[1]  # piped
    rcpt = [(e.recipient, e.reply.code) for e in events if isinstance(e, RecipientResult)]
    assert rcpt == [("bob@example.net", 250), ("nobody@example.net", 550),
                    ("carol@example.net", 250)]
    delivered = [(e.recipient, str(e.reply)) for e in events if isinstance(e, DeliveryResult)]
    assert delivered == [
        ("bob@example.net", "250 2.0.0 <bob@example.net> S1 Saved"),
        ("carol@example.net",
         "552 5.2.2 <carol@example.net> Quota exceeded (mailbox for user is full)"),
    ]
    result = next(e for e in events if isinstance(e, TransactionResult))
    assert result.accepted == ("bob@example.net", "carol@example.net")
    assert b"".join(sent).endswith(b".\r\nQUIT\r\n")


def test_the_client_gives_up_when_lhlo_is_refused() -> None:
    client = LmtpClient(SmtpClientConfig(helo_name="x"),
                        [(Envelope("a@b.org", ("bob@example.net",)), b"x\r\n")])
    client.receive_data(b"220 mda Dovecot ready.\r\n")
    assert client.next_event() is NEED_DATA
    assert client.data_to_send() == b"LHLO x\r\n"
    client.receive_data(b"500 5.5.1 Unknown command\r\n")
    result = client.next_event()
    assert isinstance(result, TransactionResult) and isinstance(result.outcome, Reply)
    assert result.outcome.code == 500
    assert client.data_to_send() == b"QUIT\r\n"  # RFC 2033: no HELO to fall back to


@settings(max_examples=80, deadline=None)
@given(data=st.binary(max_size=600))
def test_hostile_bytes_never_escape_the_machine(data: bytes) -> None:
    server = LmtpServer(SmtpServerConfig(hostname=HOST))
    server.greet()
    server.receive_data(b"LHLO x\r\nMAIL FROM:<a@b.org>\r\nRCPT TO:<bob@example.net>\r\n" + data)
    for _ in range(200):
        event = server.next_event()
        if event is NEED_DATA:
            break
        decided = answer(event)
        if isinstance(decided, list):
            server.respond_each(decided)
        else:
            server.respond(decided)
    assert all(line[:3].isdigit() for line in server.data_to_send().decode().splitlines())


REPLY_LINE = st.sampled_from([
    b"220 mda Dovecot ready.", b"250-mda", b"250 PIPELINING", b"250 2.1.5 OK", b"354 OK",
    b"250 2.0.0 <bob@example.net> S Saved", b"452 4.2.2 <x@y> full", b"421 4.4.2 bye",
    b"552 5.2.2 <x@y> full", b"garbage", b"", b"999 what",
])


@settings(max_examples=80, deadline=None)
@given(replies=st.lists(REPLY_LINE, max_size=20))
def test_a_hostile_server_never_breaks_the_client(replies: list[bytes]) -> None:
    client = LmtpClient(SmtpClientConfig(helo_name="mx"),
                        [(Envelope("a@b.org", ("bob@example.net", "carol@example.net")), b"x\r\n")])
    client.receive_data(b"".join(line + b"\r\n" for line in replies))
    client.receive_data(b"")  # then the server hangs up
    events = []
    while (event := client.next_event()) is not NEED_DATA:
        events.append(event)
    assert client.closed
    assert sum(isinstance(e, TransactionResult) for e in events) == 1  # always one verdict
