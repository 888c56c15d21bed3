"""POP3 as Dovecot and real clients do it: wire tables for what real clients found.

Message lines of any length reach the client (RFC 1939 §3: only status
lines are limited, RFC 2449 §4); Dovecot hangs up on a client of bad
commands; CAPA lists PIPELINING and SASL PLAIN; AUTH PLAIN (RFC 5034)
logs in, with the authzid honoured (RFC 4616 §2).
"""

from __future__ import annotations

import base64

import pytest

from simulator.protocols.common import RemoteProtocolError
from simulator.protocols.pop3 import (
    NEED_DATA,
    CredentialsReceived,
    MaildropEntry,
    MessageRetrieved,
    Pop3Client,
    Pop3ClientConfig,
    Pop3Server,
    Pop3ServerConfig,
    Pop3State,
    SessionClosed,
    UpdateRequested,
)

A, T = Pop3State.AUTHORIZATION, Pop3State.TRANSACTION
MAILDROP = (MaildropEntry("uid-1", b"Subject: one\r\n\r\nbody\r\n"),)


# ---- 2. the client reads message lines of any length ------------------------


def converse(replies: list[bytes]) -> tuple[list[bytes], list[object]]:
    """Feed a scripted server's replies; collect the client's commands and events."""
    client = Pop3Client(Pop3ClientConfig("alice", "secret"))
    sent: list[bytes] = []
    events: list[object] = []
    for chunk in replies:
        client.receive_data(chunk)
        while (event := client.next_event()) is not NEED_DATA:
            events.append(event)
        sent += client.data_to_send().splitlines()
    return sent, events


def session(body_line: bytes) -> list[bytes]:
    """Dovecot's side of one download of a message holding `body_line`."""
    content = b"Subject: long\r\n\r\n" + body_line + b"\r\nend\r\n"
    return [
        b"+OK Dovecot ready.\r\n", b"+OK\r\n", b"+OK Logged in.\r\n", b"+OK 1 99\r\n",
        b"+OK\r\n1 uid-1\r\n.\r\n", b"+OK %d octets\r\n" % len(content) + content + b".\r\n",
        b"+OK Marked to be deleted.\r\n", b"+OK Logging out, messages deleted.\r\n",
    ]  # fmt: skip


LOGIN_COMMANDS = [b"USER alice", b"PASS secret", b"STAT", b"UIDL"]
LONG_BODY_LINES = [
    # (line as sent, line as delivered): RFC 1939 §3 un-stuffs one leading dot
    pytest.param(b"x" * 513, b"x" * 513, id="513"),
    pytest.param(b"x" * 1001, b"x" * 1001, id="1001"),
    pytest.param(b"x" * 1200, b"x" * 1200, id="1200-from-dovecot"),
    pytest.param(b".." + b"y" * 4096, b"." + b"y" * 4096, id="stuffed-4098"),
    pytest.param(b"x" * 4096 + b".", b"x" * 4096 + b".", id="dot-after-a-piece"),
    pytest.param(b"x" * 70000, b"x" * 70000, id="70000"),
]


@pytest.mark.parametrize(("sent", "delivered"), LONG_BODY_LINES)
def test_long_message_lines_are_fetched_and_deleted(sent: bytes, delivered: bytes) -> None:
    commands, events = converse(session(sent))
    assert commands == [*LOGIN_COMMANDS, b"RETR 1", b"DELE 1", b"QUIT"]
    message, closed = events
    assert isinstance(message, MessageRetrieved)
    assert message.content == b"Subject: long\r\n\r\n" + delivered + b"\r\nend\r\n"
    assert closed == SessionClosed(True, "+OK Logging out, messages deleted.")


def test_a_long_line_byte_by_byte_is_joined_again() -> None:
    replies = session(b"." * 2 + b"z" * 9000)
    commands, events = converse([bytes([b]) for reply in replies for b in reply])
    assert commands[-2:] == [b"DELE 1", b"QUIT"]
    assert isinstance(events[0], MessageRetrieved)
    assert b"\r\n." + b"z" * 9000 + b"\r\n" in events[0].content


def test_a_status_line_over_512_octets_still_ends_the_session() -> None:
    _, events = converse([b"+OK " + b"x" * 520 + b"\r\n"])  # RFC 2449 §4
    assert events == [RemoteProtocolError("response line too long (526 octets)")]


def test_the_pair_moves_a_long_line_byte_identical() -> None:
    entry = MaildropEntry(
        "uid-1", b"Subject: w\r\n\r\n" + b"w" * 1200 + b"\r\n.." + b"v" * 3000 + b"\r\n"
    )
    server = Pop3Server(Pop3ServerConfig("pop.example.org"))
    client = Pop3Client(Pop3ClientConfig("alice", "secret"))
    server.greet()
    updates, events = [], []
    for _ in range(50):
        if to_client := server.data_to_send():  # b"" would tell the client the server closed
            client.receive_data(to_client)
        while (event := client.next_event()) is not NEED_DATA:
            events.append(event)
        server.receive_data(client.data_to_send())
        while (event := server.next_event()) is not NEED_DATA:
            if isinstance(event, CredentialsReceived):
                server.login([entry])
            else:
                updates.append(event)
    assert [e.content for e in events if isinstance(e, MessageRetrieved)] == [entry.content]
    assert updates == [UpdateRequested(("uid-1",), retrieved_uids=("uid-1",))]


# ---- the server: a greeted session driven line by line ----------------------


def make_server(setup: bytes = b"", **config: object) -> Pop3Server:
    server = Pop3Server(Pop3ServerConfig("pop.example.org", **config))  # type: ignore[arg-type]
    server.greet()
    exchange(server, setup)
    return server


def exchange(server: Pop3Server, data: bytes) -> list[bytes]:
    """Send bytes; log alice in (password "secret"); return the response lines."""
    server.receive_data(data)
    while (event := server.next_event()) is not NEED_DATA:
        if isinstance(event, CredentialsReceived):
            if event.password == "secret":
                server.login(MAILDROP)
            else:
                server.reject_login()
    return server.data_to_send().split(b"\r\n")[:-1]


LOGGED_IN = b"USER alice\r\nPASS secret\r\n"


# ---- 5. Dovecot hangs up on bad commands ------------------------------------

BAD_COMMANDS = [
    # (setup, commands, last response lines, closed)
    pytest.param(b"", b"XYZZY\r\n" * 9, [b"-ERR Unknown command: XYZZY"], False, id="9-pre-login"),
    pytest.param(
        b"", b"XYZZY\r\n" * 10,
        [b"-ERR Unknown command: XYZZY", b"-ERR Too many invalid bad commands."], True,
        id="10-before-login",
    ),
    pytest.param(
        b"", b"STAT\r\n" * 10,
        [b"-ERR STAT not allowed in AUTHORIZATION state.", b"-ERR Too many invalid bad commands."],
        True, id="10-out-of-state",
    ),
    pytest.param(
        b"", (b"USER " + b"a" * 300 + b"\r\n") * 5 + b"XYZZY\r\n" * 5,
        [b"-ERR Unknown command: XYZZY", b"-ERR Too many invalid bad commands."], True,
        id="too-long-lines-count",
    ),
    pytest.param(
        b"", b"XYZZY\r\n" * 9 + b"CAPA\r\n" + b"XYZZY\r\n" * 9,
        [b"-ERR Unknown command: XYZZY"], False, id="a-good-command-resets",
    ),
    pytest.param(
        LOGGED_IN, b"XYZZY\r\n" * 20, [b"-ERR Unknown command: XYZZY"], False, id="20-after-login",
    ),
    pytest.param(
        LOGGED_IN + b"DELE 1\r\n", b"RETR 9\r\n" * 21,
        [b"-ERR There's no message 9.", b"-ERR Too many bad commands."], True,
        id="21-after-login",
    ),
]  # fmt: skip


@pytest.mark.parametrize(("setup", "data", "last", "closed"), BAD_COMMANDS)
def test_dovecot_bad_command_limits(setup: bytes, data: bytes, last: list, closed: bool) -> None:
    server = make_server(setup)
    lines = exchange(server, data)
    assert lines[-len(last) :] == last
    assert server.closed is closed
    if closed:
        server.receive_data(b"QUIT\r\n")  # nothing more is read, nothing is deleted
        assert server.next_event() is NEED_DATA
        assert (server.state, server.data_to_send()) == (Pop3State.CLOSED, b"")


# ---- 6. CAPA, and AUTH PLAIN (RFC 5034) -------------------------------------


def plain(authzid: str, authcid: str, password: str = "secret") -> bytes:
    return base64.b64encode(f"{authzid}\0{authcid}\0{password}".encode())


def test_capa_lists_pipelining_and_sasl_plain() -> None:
    before = exchange(make_server(), b"CAPA\r\n")
    after = exchange(make_server(LOGGED_IN), b"CAPA\r\n")
    assert {b"PIPELINING", b"SASL PLAIN"} <= set(before)
    assert b"PIPELINING" in after and b"SASL PLAIN" not in after


ALICE_AS_BOB = {"sasl_act_as": frozenset({("alice", "bob")})}
AUTH_CASES = [
    # (config, setup, line, response lines, state after)
    pytest.param({}, b"", b"AUTH", [b"+OK", b"PLAIN", b"."], A, id="bare-AUTH-lists"),
    pytest.param({}, b"", b"AUTH PLAIN", [b"+ "], A, id="empty-challenge"),
    pytest.param({}, b"", b"auth plain " + plain("", "alice"), [b"+OK Logged in."], T, id="ir"),
    pytest.param(
        {}, b"", b"AUTH PLAIN " + plain("", "alice", "wrong"),
        [b"-ERR [AUTH] Authentication failed."], A, id="wrong-password",
    ),
    pytest.param(
        {}, b"", b"AUTH PLAIN " + plain("bob", "alice"),
        [b"-ERR [AUTH] Authentication failed."], A, id="authzid-refused",
    ),
    pytest.param(
        {}, b"", b"AUTH PLAIN " + plain("alice", "alice"), [b"+OK Logged in."], T,
        id="authzid-is-authcid",
    ),
    pytest.param(
        ALICE_AS_BOB, b"", b"AUTH PLAIN " + plain("bob", "alice"), [b"+OK Logged in."], T,
        id="allowed-to-act-as",
    ),
    pytest.param({}, b"AUTH PLAIN\r\n", plain("", "alice"), [b"+OK Logged in."], T, id="after-+"),
    pytest.param(
        {}, b"AUTH PLAIN\r\n", b"*", [b"-ERR Authentication aborted by client."], A, id="abort",
    ),
    pytest.param(
        {}, b"AUTH PLAIN\r\n", b"not base64!", [b"-ERR [AUTH] Authentication failed."], A,
        id="bad-base64",
    ),
    pytest.param(
        {}, b"AUTH PLAIN\r\n", b"QUIT", [b"-ERR [AUTH] Authentication failed."], A,
        id="a-command-is-no-response",
    ),
    pytest.param(
        {}, b"", b"AUTH LOGIN", [b"-ERR Unsupported authentication mechanism."], A, id="LOGIN",
    ),
    pytest.param({}, b"", b"AUTH PLAIN a b", [b"-ERR AUTH: Too many arguments."], A, id="args"),
    pytest.param(
        {}, LOGGED_IN, b"AUTH PLAIN", [b"-ERR AUTH not allowed in TRANSACTION state."], T,
        id="after-login",
    ),
]  # fmt: skip


@pytest.mark.parametrize(("config", "setup", "line", "expected", "state"), AUTH_CASES)
def test_auth_plain(
    config: dict, setup: bytes, line: bytes, expected: list, state: Pop3State
) -> None:
    server = make_server(setup, **config)
    assert exchange(server, line + b"\r\n") == expected
    assert server.state is state


def test_auth_plain_hands_the_identity_to_the_agent() -> None:
    server = make_server(**ALICE_AS_BOB)
    server.receive_data(b"AUTH PLAIN " + plain("bob", "alice") + b"\r\nSTAT\r\n")
    assert server.next_event() == CredentialsReceived("alice", "secret", "bob")
    server.login(MAILDROP)
    assert server.next_event() is NEED_DATA  # the pipelined STAT is answered now
    assert server.data_to_send().split(b"\r\n")[:2] == [b"+OK Logged in.", b"+OK 1 22"]
    assert server.username == "bob"


def test_pipelined_login_and_quit_are_answered_in_order() -> None:
    lines = exchange(make_server(), LOGGED_IN + b"STAT\r\nDELE 1\r\nQUIT\r\n")
    deleted = [b"+OK Marked to be deleted.", b"+OK Logging out, messages deleted."]
    assert lines == [b"+OK", b"+OK Logged in.", b"+OK 1 22", *deleted]
