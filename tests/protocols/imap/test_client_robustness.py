"""IMAP client: its table, any chunking, hostile servers, endings, and the caller's mistakes."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.cli import main
from simulator.protocols.common import (
    NEED_DATA,
    ConnectionBroken,
    ConnectionClosed,
    LocalProtocolError,
    RemoteProtocolError,
    TimedOut,
)
from simulator.protocols.imap.client import ImapClient
from simulator.protocols.imap.client_events import MessageFetched, SessionClosed
from simulator.protocols.imap.client_states import (
    ACTION_INPUTS,
    CLIENT_TRANSITIONS,
    COMMANDS,
    Action,
    Append,
    ClientInput,
    Fetch,
    FetchHeaders,
    FetchNew,
    Idle,
    ImapClientConfig,
    ImapClientState,
    Logout,
    Select,
    Store,
)
from simulator.protocols.tls import TlsVersion

S = ImapClientState
GREETING = b"* OK [CAPABILITY IMAP4rev2 IDLE MOVE] Dovecot ready.\r\n"
LOGGED_IN = b"A0001 OK Logged in\r\n"
MESSAGE = b"Subject: hi\r\n\r\nHello.\r\n"
#: A whole session as the server sends it, for the plan of `SESSION_PLAN`.
SESSION = (
    GREETING + LOGGED_IN
    + b"* 2 EXISTS\r\n* OK [UIDVALIDITY 7] ok\r\n* OK [UIDNEXT 3] ok\r\n"
    + b"A0002 OK [READ-WRITE] Select completed.\r\n"
    + b"* SEARCH 1 2\r\nA0003 OK Search completed.\r\n"
    + b"* 1 FETCH (UID 1 BODY[] {23}\r\n" + MESSAGE + b" FLAGS (\\Seen))\r\n"
    + b"* 2 FETCH (UID 2 BODY[] {0}\r\n)\r\nA0004 OK Fetch completed.\r\n"
    + b"* 1 FETCH (UID 1 FLAGS () RFC822.SIZE 23 BODY[HEADER] {13}\r\nSubject: hi\r\n)\r\n"
    + b"A0005 OK Fetch completed.\r\n"
    + b"+ OK\r\nA0006 OK [APPENDUID 7 3] Append completed.\r\n"
    + b"* BYE Logging out\r\nA0007 OK Logout completed.\r\n"
)
SESSION_PLAN: tuple[Action, ...] = (Select(), FetchNew(), FetchHeaders(1), Append(MESSAGE),
                                    Logout())  # fmt: skip


def drain(client: ImapClient) -> list[object]:
    events = []
    while (event := client.next_event()) is not NEED_DATA:
        events.append(event)
    return events


def client_for(*actions: Action) -> ImapClient:
    return ImapClient(ImapClientConfig("alice", "secret", actions=actions))


def run_in_chunks(data: bytes, cuts: list[int]) -> tuple[list[object], bytes]:
    client = client_for(*SESSION_PLAN)
    events, sent, start = [], b"", 0
    for cut in [*sorted(cuts), len(data)]:
        if cut > start:  # b"" would say the server closed
            client.receive_data(data[start:cut])
            start = cut
        events += drain(client)
        sent += client.data_to_send()
    return events, sent


# ---- the table ----


def test_the_table_covers_every_state_and_every_state_is_reachable() -> None:
    assert set(CLIENT_TRANSITIONS) == set(S)
    seen, todo = {S.GREETING}, [S.GREETING]
    while todo:
        for target in CLIENT_TRANSITIONS[todo.pop()].values():
            if target not in seen:
                seen.add(target)
                todo.append(target)
    assert seen == set(S)


def test_every_state_but_closed_can_be_cut_off_and_ends_closed() -> None:
    for state, row in CLIENT_TRANSITIONS.items():
        assert (state is S.CLOSED) is (ClientInput.CUT_OFF not in row)
        if state is not S.CLOSED:
            assert row[ClientInput.CUT_OFF] is S.CLOSED


def test_every_action_is_an_input_of_ready_and_every_command_a_state() -> None:
    assert set(ACTION_INPUTS.values()) <= set(CLIENT_TRANSITIONS[S.READY])
    assert set(COMMANDS) <= set(S)


def test_mailsim_explain_draws_the_imap_client(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["explain", "imap-client"]) == 0
    drawn = capsys.readouterr().out
    assert "IMAP4rev2 client (RFC 9051)" in drawn and "IDLING" in drawn
    assert main(["explain", "imap-client", "--format", "mermaid"]) == 0
    assert "[*] --> GREETING" in capsys.readouterr().out


# ---- any chunking gives the same dialogue ----


def test_the_whole_session_in_one_piece() -> None:
    events, sent = run_in_chunks(SESSION, [])
    assert [type(e).__name__ for e in events] == [
        "Greeted", "LoggedIn", "FolderSelected", "SearchResult", "MessageFetched",
        "MessageFetched", "HeadersFetched", "MessageAppended", "SessionClosed",
    ]  # fmt: skip
    assert events[4] == MessageFetched(1, MESSAGE, ("\\Seen",))
    assert events[5] == MessageFetched(2, b"", None)
    assert sent.count(b"\r\nA0") == 6 and sent.endswith(b"A0007 LOGOUT\r\n")


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=len(SESSION)), max_size=40))
def test_any_chunking_gives_the_same_events_and_commands(cuts: list[int]) -> None:
    assert run_in_chunks(SESSION, cuts) == run_in_chunks(SESSION, [])


# ---- endings without a response ----


def test_the_server_closing_mid_literal_is_connection_closed() -> None:
    client = client_for(Fetch((7,)))
    client.receive_data(GREETING + LOGGED_IN + b"* 1 FETCH (UID 7 BODY[] {100}\r\nonly a part")
    assert [type(e).__name__ for e in drain(client)] == ["Greeted", "LoggedIn"]
    client.receive_data(b"")
    assert drain(client) == [ConnectionClosed()]
    assert client.closed


@pytest.mark.parametrize(("end", "event"), [
    (ImapClient.timed_out, TimedOut()), (ImapClient.connection_broken, ConnectionBroken()),
])  # fmt: skip
def test_a_timeout_or_a_broken_connection_ends_the_session(end: object, event: object) -> None:
    client = client_for(Idle())
    client.receive_data(GREETING + LOGGED_IN + b"+ idling\r\n")
    drain(client)
    end(client)  # type: ignore[operator]
    assert drain(client) == [event]
    assert client.closed and client.data_to_send() == b"A0001 LOGIN alice secret\r\nA0002 IDLE\r\n"
    client.receive_data(b"* 9 EXISTS\r\n")  # ignored once over
    assert client.next_event() is NEED_DATA


# ---- hostile servers: RemoteProtocolError, never an exception ----


@pytest.mark.parametrize(("after_login", "detail"), [
    (b"hello world\r\n", "tagged response without OK"),
    (b"\xff\xfe\r\n", "no tag"),
    (b"A0009 OK wrong tag\r\n", "tagged A0009, awaited A0002"),
    (b"+ go ahead\r\n", "unexpected a continuation in state SELECT"),
    (b"* 3 FROB\r\n", "unknown numbered data"),
    (b"* FROB 3\r\n", "unknown untagged data"),
    (b"* OK [UIDVALIDITY abc] x\r\n", "not a number"),
    (b"A0002 PREAUTH x\r\n", "malformed status response"),
    (b"* OK [UIDNEXT 3 x\r\n", "unterminated response code"),
    (b'* LIST (\\X) "/"\r\n', "malformed LIST"),
    (b"* 1 FETCH (UID x)\r\n", "not a number"),
    (b"* 1 FETCH (UID 1 FLAGS\r\n", "Missing ')'"),
    (b"* 1 FETCH (BODY[] {2}\r\nab)\r\n", "no UID"),
    (b"* 1 FETCH (UID 1 BODY[] {4294967295}\r\n", "too big"),
    (b"* ESEARCH UID ALL 1:*\r\n", "'*'"),
    (b"* ESEARCH UID ALL 1:1000000\r\n", "too large"),
    (b"* " + b"x" * 70_000 + b"\r\n", "too long"),
])  # fmt: skip
def test_nonsense_from_the_server_is_a_remote_protocol_error(
    after_login: bytes, detail: str
) -> None:
    client = client_for(Select())
    client.receive_data(GREETING + LOGGED_IN + after_login)
    events = drain(client)
    assert isinstance(events[-1], RemoteProtocolError), events
    assert detail in events[-1].detail
    assert client.closed


def test_a_greeting_that_is_neither_ok_nor_bye_is_an_error() -> None:
    client = client_for()
    client.receive_data(b"* NO go away\r\n")
    (event,) = drain(client)
    assert isinstance(event, RemoteProtocolError) and "greeting NO" in event.detail


def test_a_tagged_ok_while_idling_is_an_error() -> None:
    client = client_for(Idle())
    client.receive_data(GREETING + LOGGED_IN + b"+ idling\r\nA0002 OK done\r\n")
    event = drain(client)[-1]
    assert isinstance(event, RemoteProtocolError)
    assert "unexpected OK in state IDLING" in event.detail


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300), st.sampled_from([(), (Select(),), (Idle(),), (Append(b"x"),)]))
def test_random_bytes_never_raise(noise: bytes, plan: tuple[Action, ...]) -> None:
    client = client_for(*plan)
    client.receive_data(GREETING + LOGGED_IN + noise)
    drain(client)
    client.receive_data(b"")
    drain(client)
    assert client.closed


# ---- the caller's mistakes: LocalProtocolError at once ----


def test_nothing_can_follow_logout() -> None:
    client = client_for(Logout())
    with pytest.raises(LocalProtocolError):
        client.perform(Select())


@pytest.mark.parametrize("action", [
    Select("bad\r\nname"), Fetch(()), Store(()), Append(b"x", folder="a\0b"),
])  # fmt: skip
def test_an_action_that_cannot_be_written_is_refused(action: Action) -> None:
    with pytest.raises(LocalProtocolError):
        client_for(action)
    with pytest.raises(LocalProtocolError):
        client_for().perform(action)


def test_credentials_that_need_a_literal_are_refused() -> None:
    with pytest.raises(LocalProtocolError):
        ImapClient(ImapClientConfig("alice", "pass\r\nword"))


def test_stop_idle_and_tls_established_only_when_they_make_sense() -> None:
    client = client_for()
    with pytest.raises(LocalProtocolError):
        client.stop_idle()
    client.receive_data(b"* OK ready\r\n")
    drain(client)
    with pytest.raises(LocalProtocolError):  # greeted in clear, no STARTTLS asked
        client.tls_established(TlsVersion.TLS1_3)


def test_a_session_closed_by_bye_takes_no_more_actions() -> None:
    client = client_for()
    client.receive_data(b"* BYE shutting down\r\n")
    assert drain(client) == [SessionClosed(False, "shutting down")]
    with pytest.raises(LocalProtocolError):
        client.perform(Select())
