"""POP3 client: its transition table and scripted dialogues with a fake server."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.protocols.common import (
    ConnectionBroken,
    ConnectionClosed,
    LocalProtocolError,
    RemoteProtocolError,
    TimedOut,
)
from simulator.protocols.pop3 import (
    CLIENT_TRANSITIONS,
    NEED_DATA,
    LoginFailed,
    MessageRetrieved,
    Outcome,
    Pop3Client,
    Pop3ClientConfig,
    Pop3ClientState,
    SessionClosed,
)
from simulator.protocols.pop3.client import COMMANDS, MULTI_LINE

S = Pop3ClientState
GREETING = b"+OK Dovecot ready.\r\n"
LOGIN = [GREETING, b"+OK\r\n", b"+OK Logged in.\r\n"]
UIDL_TWO = b"+OK\r\n1 uid-1\r\n2 uid-2\r\n.\r\n"
RETR_1 = b"+OK 9 octets\r\nSubject: one\r\n\r\n..dot\r\n..\r\n.\r\n"
RETR_2 = b"+OK 5 octets\r\nbody\r\n.\r\n"
CONTENT_1 = b"Subject: one\r\n\r\n.dot\r\n.\r\n"


def converse(
    replies: list[bytes], config: Pop3ClientConfig | None = None
) -> tuple[list[bytes], list[object], Pop3Client]:
    """Feed each reply in turn; collect the commands sent and the events."""
    client = Pop3Client(config or Pop3ClientConfig("alice", "secret"))
    sent: list[bytes] = []
    events: list[object] = []
    for reply in replies:
        client.receive_data(reply)
        while (event := client.next_event()) is not NEED_DATA:
            events.append(event)
        sent += client.data_to_send().splitlines()
    return sent, events, client


# -- the transition table, no bytes -------------------------------------------


def test_every_state_has_a_row_and_closed_is_terminal() -> None:
    assert set(CLIENT_TRANSITIONS) == set(S)
    assert CLIENT_TRANSITIONS[S.CLOSED] == {}
    assert all(CLIENT_TRANSITIONS[state] for state in S if state is not S.CLOSED)


def test_every_state_is_reachable_from_the_greeting() -> None:
    seen, todo = {S.GREETING}, [S.GREETING]
    while todo:
        for target in CLIENT_TRANSITIONS[todo.pop()].values():
            if target not in seen:
                seen.add(target)
                todo.append(target)
    assert seen == set(S)


def test_every_error_after_the_greeting_leads_to_quit() -> None:
    for state, row in CLIENT_TRANSITIONS.items():
        if state not in (S.GREETING, S.TLS_HANDSHAKE, S.QUIT, S.CLOSED):
            assert row[Outcome.ERR] is S.QUIT
    # no reply is read during the handshake: it ends or the session is cut off
    assert set(CLIENT_TRANSITIONS[S.TLS_HANDSHAKE]) == {Outcome.TLS_ESTABLISHED, Outcome.CUT_OFF}
    assert CLIENT_TRANSITIONS[S.GREETING][Outcome.ERR] is S.CLOSED


def test_every_state_can_be_cut_off_without_quit() -> None:
    for state, row in CLIENT_TRANSITIONS.items():
        if state is not S.CLOSED:
            assert row[Outcome.CUT_OFF] is S.CLOSED  # no QUIT, so no UPDATE (RFC 1939 §6)


def test_every_outcome_is_used() -> None:
    assert {o for row in CLIENT_TRANSITIONS.values() for o in row} == set(Outcome)


def test_each_command_state_sends_its_own_verb() -> None:
    assert set(COMMANDS) == set(S) - {S.GREETING, S.TLS_HANDSHAKE, S.CLOSED}
    assert all(verb.value == state.value for state, verb in COMMANDS.items())
    assert {S.UIDL, S.RETR} == MULTI_LINE


# -- scripted dialogues: (replies, config, commands sent, events) ------------

QUIT_OK = b"+OK Logging out.\r\n"
DIALOGUES = [
    pytest.param(
        [*LOGIN, b"+OK 2 14\r\n", UIDL_TWO, RETR_1, b"+OK Marked to be deleted.\r\n", RETR_2,
         b"+OK Marked to be deleted.\r\n", QUIT_OK],
        Pop3ClientConfig("alice", "secret"),
        [b"USER alice", b"PASS secret", b"STAT", b"UIDL", b"RETR 1", b"DELE 1", b"RETR 2",
         b"DELE 2", b"QUIT"],
        [MessageRetrieved(1, "uid-1", CONTENT_1), MessageRetrieved(2, "uid-2", b"body\r\n"),
         SessionClosed(True, "+OK Logging out.")],
        id="fetch-and-delete",
    ),
    pytest.param(
        [*LOGIN, b"+OK 2 14\r\n", UIDL_TWO, RETR_2, QUIT_OK],
        Pop3ClientConfig("alice", "secret", delete=False, known_uids=frozenset({"uid-1"})),
        [b"USER alice", b"PASS secret", b"STAT", b"UIDL", b"RETR 2", b"QUIT"],
        [MessageRetrieved(2, "uid-2", b"body\r\n"), SessionClosed(True, "+OK Logging out.")],
        id="leave-on-server-skips-known",
    ),
    pytest.param(
        [*LOGIN, b"+OK 0 0\r\n", b"+OK\r\n.\r\n", QUIT_OK],
        None,
        [b"USER alice", b"PASS secret", b"STAT", b"UIDL", b"QUIT"],
        [SessionClosed(True, "+OK Logging out.")],
        id="empty-maildrop",
    ),
    pytest.param(
        [b"-ERR [SYS/TEMP] Server overloaded.\r\n"],
        None,
        [],
        [SessionClosed(False, "-ERR [SYS/TEMP] Server overloaded.")],
        id="refused-greeting",
    ),
    pytest.param(
        [GREETING, b"+OK\r\n", b"-ERR [AUTH] Authentication failed.\r\n", QUIT_OK],
        None,
        [b"USER alice", b"PASS secret", b"QUIT"],
        [LoginFailed("-ERR [AUTH] Authentication failed."),
         SessionClosed(False, "-ERR [AUTH] Authentication failed.")],
        id="wrong-password",
    ),
    pytest.param(
        [GREETING, b"-ERR [AUTH] Plaintext authentication disallowed.\r\n", QUIT_OK],
        None,
        [b"USER alice", b"QUIT"],
        [LoginFailed("-ERR [AUTH] Plaintext authentication disallowed."),
         SessionClosed(False, "-ERR [AUTH] Plaintext authentication disallowed.")],
        id="user-refused",
    ),
    pytest.param(
        [*LOGIN, b"+OK 2 14\r\n", UIDL_TWO, b"-ERR Message is deleted.\r\n", QUIT_OK],
        None,
        [b"USER alice", b"PASS secret", b"STAT", b"UIDL", b"RETR 1", b"QUIT"],
        [SessionClosed(False, "-ERR Message is deleted.")],
        id="retr-refused",
    ),
    pytest.param(
        [*LOGIN, b"-ERR [SYS/TEMP] Mailbox unavailable.\r\n", b"-ERR bye\r\n"],
        None,
        [b"USER alice", b"PASS secret", b"STAT", b"QUIT"],
        [SessionClosed(False, "-ERR [SYS/TEMP] Mailbox unavailable.")],
        id="stat-refused-quit-refused",
    ),
    pytest.param(
        [*LOGIN, b"+OK 1 5\r\n", b"+OK\r\n1 uid-1\r\n.\r\n", RETR_2, b"+OK\r\n", b"-ERR odd\r\n"],
        None,
        [b"USER alice", b"PASS secret", b"STAT", b"UIDL", b"RETR 1", b"DELE 1", b"QUIT"],
        [MessageRetrieved(1, "uid-1", b"body\r\n"), SessionClosed(False, "-ERR odd")],
        id="quit-refused",
    ),
    pytest.param(
        [b"HELLO there\r\n"],
        None,
        [],
        [RemoteProtocolError("malformed response: HELLO there")],
        id="garbage-greeting",
    ),
    pytest.param(
        [GREETING, b"+ok\r\n"],
        None,
        [b"USER alice"],
        [RemoteProtocolError("malformed response: +ok")],
        id="lower-case-status-rfc1939-s3",
    ),
    pytest.param(
        [GREETING, b"+OKAY\r\n"],
        None,
        [b"USER alice"],
        [RemoteProtocolError("malformed response: +OKAY")],
        id="status-without-separator",
    ),
    pytest.param(
        [*LOGIN, b"+OK 1 5\r\n", b"+OK\r\nnot a listing line\r\n.\r\n"],
        None,
        [b"USER alice", b"PASS secret", b"STAT", b"UIDL"],
        [RemoteProtocolError("malformed response: not a listing line")],
        id="garbage-uidl-listing",
    ),
    pytest.param(
        [*LOGIN, b"+OK 1 5\r\n", b"+OK\r\n0 uid-0\r\n.\r\n"],
        None,
        [b"USER alice", b"PASS secret", b"STAT", b"UIDL"],
        [RemoteProtocolError("malformed response: 0 uid-0")],
        id="uidl-message-number-zero",
    ),
    pytest.param(
        [GREETING, b"+" * 2000 + b"\r\n"],
        None,
        [b"USER alice"],
        [RemoteProtocolError("response line too long (2002 octets)")],
        id="line-too-long",
    ),
]  # fmt: skip


@pytest.mark.parametrize(("replies", "config", "commands", "events"), DIALOGUES)
def test_dialogue(
    replies: list[bytes],
    config: Pop3ClientConfig | None,
    commands: list[bytes],
    events: list[object],
) -> None:
    sent, got, client = converse(replies, config)
    assert sent == commands
    assert got == events
    assert client.closed and client.state is S.CLOSED


def test_replies_split_byte_by_byte_give_the_same_dialogue() -> None:
    replies = [*LOGIN, b"+OK 2 14\r\n", UIDL_TWO, RETR_1, b"+OK\r\n", RETR_2, b"+OK\r\n", QUIT_OK]
    whole = converse(replies)
    split = converse([bytes([b]) for reply in replies for b in reply])
    assert (split[0], split[1]) == (whole[0], whole[1])
    assert whole[1][-1] == SessionClosed(True, "+OK Logging out.")


def test_bare_lf_replies_are_tolerated() -> None:
    sent, events, _ = converse([b"+OK ready\n", b"+OK\n", b"-ERR [AUTH] no\n", b"+OK bye\n"])
    assert sent == [b"USER alice", b"PASS secret", b"QUIT"]
    assert events == [LoginFailed("-ERR [AUTH] no"), SessionClosed(False, "-ERR [AUTH] no")]


def test_client_waits_for_the_greeting_before_sending() -> None:
    client = Pop3Client(Pop3ClientConfig("alice", "secret"))
    assert client.next_event() is NEED_DATA
    assert client.data_to_send() == b""
    assert client.state is S.GREETING


def test_server_closing_mid_listing_is_connection_closed_not_a_reply() -> None:
    sent, events, client = converse([*LOGIN, b"+OK 2 14\r\n", b"+OK\r\n1 uid-1\r\n"])
    assert events == [] and sent[-1] == b"UIDL"
    client.receive_data(b"")  # end of input, as in h11
    assert client.next_event() == ConnectionClosed()
    assert client.next_event() is NEED_DATA
    assert client.data_to_send() == b""  # no QUIT into the void: nothing gets deleted
    assert client.closed


@pytest.mark.parametrize(
    ("cut", "event"),
    [(Pop3Client.timed_out, TimedOut()), (Pop3Client.connection_broken, ConnectionBroken())],
)
def test_timeout_and_broken_connection_are_events_of_their_own(cut, event) -> None:
    _, _, client = converse(LOGIN)
    cut(client)
    assert client.next_event() == event
    cut(client)  # once over, nothing more
    assert client.next_event() is NEED_DATA and client.state is S.CLOSED


def test_data_after_end_of_input_is_our_mistake() -> None:
    client = Pop3Client(Pop3ClientConfig("alice", "secret"))
    client.receive_data(b"")
    with pytest.raises(LocalProtocolError):
        client.receive_data(GREETING)


def test_end_of_input_after_close_adds_nothing() -> None:
    _, events, client = converse([b"-ERR go away\r\n"])
    client.receive_data(b"")
    assert events == [SessionClosed(False, "-ERR go away")]
    assert client.next_event() is NEED_DATA


# -- hostile input (hypothesis) ----------------------------------------------


@settings(max_examples=150, deadline=None)
@given(chunks=st.lists(st.binary(min_size=1, max_size=300), max_size=8))
def test_arbitrary_server_bytes_never_raise(chunks: list[bytes]) -> None:
    _, events, client = converse(chunks)
    endings = SessionClosed | RemoteProtocolError
    assert all(isinstance(event, LoginFailed | MessageRetrieved | endings) for event in events)
    assert sum(isinstance(event, endings) for event in events) <= 1
    client.receive_data(b"")
    tail = client.next_event()
    assert client.closed
    assert tail is NEED_DATA or tail == ConnectionClosed()


@settings(max_examples=100, deadline=None)
@given(tail=st.lists(st.binary(max_size=80).filter(lambda b: b"\n" not in b), max_size=12))
def test_garbage_after_login_never_raises(tail: list[bytes]) -> None:
    lines = [*LOGIN, b"+OK 2 14\r\n", *(line + b"\r\n" for line in tail)]
    sent, events, _ = converse(lines)
    assert sent[:3] == [b"USER alice", b"PASS secret", b"STAT"]
    assert all(not isinstance(event, LoginFailed) for event in events)
