"""POP3 server: the state table, wire cases, UPDATE semantics, hostile input."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.protocols.pop3 import (
    NEED_DATA,
    REPLIES,
    TRANSITIONS,
    CredentialsReceived,
    MaildropEntry,
    Pop3Reply,
    Pop3Server,
    Pop3ServerConfig,
    Pop3State,
    UpdateRequested,
    Verb,
)
from simulator.protocols.pop3.replies import (
    CAPABILITIES_AUTHORIZATION,
    CAPABILITIES_LOGIN,
    CAPABILITIES_TRANSACTION,
)
from simulator.protocols.pop3.states import ARITY

M1 = b"From: a@example.org\r\nSubject: one\r\n\r\nfirst line\r\nsecond line\r\nthird line\r\n"
M2 = b"Subject: dots\r\n\r\n.hidden\r\n.\r\n..two\r\nplain\r\n"
M3 = b"Subject: three\r\n\r\nbody\r\n"
MAILDROP = (MaildropEntry("uid-1", M1), MaildropEntry("uid-2", M2), MaildropEntry("uid-3", M3))

A, T = Pop3State.AUTHORIZATION, Pop3State.TRANSACTION


def make_server(setup: str) -> Pop3Server:
    """A greeted server in a named situation, with its output drained."""
    server = Pop3Server(Pop3ServerConfig(hostname="pop.example.org"))
    server.greet()
    script = {
        "fresh": b"",
        "user": b"USER alice\r\n",
        "logged_in": b"USER alice\r\nPASS secret\r\n",
        "deleted": b"USER alice\r\nPASS secret\r\nDELE 2\r\n",
    }[setup]
    server.receive_data(script)
    drive(server)
    server.data_to_send()
    return server


def drive(server: Pop3Server) -> list[object]:
    """Run the server until it needs data; log alice in with MAILDROP."""
    events: list[object] = []
    while (event := server.next_event()) is not NEED_DATA:
        events.append(event)
        if isinstance(event, CredentialsReceived):
            server.login(MAILDROP)
    return events


def exchange(server: Pop3Server, line: bytes) -> list[bytes]:
    """Send one command line; return the response lines without CRLF."""
    server.receive_data(line + b"\r\n")
    drive(server)
    data = server.data_to_send()
    assert data.endswith(b"\r\n")
    return data.removesuffix(b"\r\n").split(b"\r\n")


def first_line(server: Pop3Server, line: bytes) -> str:
    return exchange(server, line)[0].decode()


# -- the state table, no bytes ------------------------------------------------


def test_authorization_accepts_only_login_commands() -> None:
    logins = {Verb.USER, Verb.PASS, Verb.APOP, Verb.AUTH, Verb.CAPA, Verb.QUIT}
    assert set(TRANSITIONS[A]) == logins | {Verb.STLS}  # RFC 2595 §4: STLS only here


def test_transaction_accepts_rfc1939_section5_and_optional_commands() -> None:
    expected = {"STAT", "LIST", "RETR", "DELE", "NOOP", "RSET", "TOP", "UIDL", "CAPA", "QUIT"}
    assert {verb.value for verb in TRANSITIONS[T]} == expected


def test_only_logins_and_quit_change_state() -> None:
    moves = {
        (state, verb, target)
        for state, row in TRANSITIONS.items()
        for verb, target in row.items()
        if target is not state
    }
    assert moves == {
        (A, Verb.PASS, T),
        (A, Verb.AUTH, T),  # RFC 5034 §4
        (A, Verb.QUIT, Pop3State.CLOSED),
        (T, Verb.QUIT, Pop3State.UPDATE),
    }


def test_update_and_closed_accept_nothing() -> None:
    assert TRANSITIONS[Pop3State.UPDATE] == {}
    assert TRANSITIONS[Pop3State.CLOSED] == {}
    assert set(TRANSITIONS) == set(Pop3State)


def test_every_verb_is_accepted_somewhere_and_has_an_arity() -> None:
    accepted = {verb for row in TRANSITIONS.values() for verb in row}
    assert accepted == set(Verb)
    assert set(ARITY) == set(Verb)


def test_reply_table_is_complete_and_uses_status_indicators() -> None:
    assert set(REPLIES) == set(Pop3Reply)
    statuses = {key: text for key, text in REPLIES.items() if key is not Pop3Reply.SASL_CONTINUE}
    assert all(text.startswith(("+OK", "-ERR")) for text in statuses.values())
    assert REPLIES[Pop3Reply.SASL_CONTINUE] == "+ "  # RFC 5034 §4 continuation


def test_capabilities_list_what_is_implemented() -> None:
    for names in (CAPABILITIES_AUTHORIZATION, CAPABILITIES_TRANSACTION):
        assert {"TOP", "UIDL", "RESP-CODES", "PIPELINING"} <= set(names)
        assert "STLS" not in names
    assert {"USER", "SASL PLAIN"} <= set(CAPABILITIES_LOGIN)
    assert not {"USER", "SASL PLAIN"} & set(CAPABILITIES_TRANSACTION)


# -- wire cases: (setup, input line, expected first response line) ----------

WIRE_CASES = [
    ("fresh", b"USER alice", "+OK"),
    ("fresh", b"user alice", "+OK"),
    ("fresh", b"USER", "-ERR USER: Missing argument."),
    ("fresh", b"PASS secret", "-ERR No username given."),
    ("fresh", b"APOP alice c4c9334bac560ecc979e58001b3e22fb", "-ERR APOP not supported."),
    ("fresh", b"CAPA", "+OK"),
    ("fresh", b"STAT", "-ERR STAT not allowed in AUTHORIZATION state."),
    ("fresh", b"RETR 1", "-ERR RETR not allowed in AUTHORIZATION state."),
    ("fresh", b"NOOP", "-ERR NOOP not allowed in AUTHORIZATION state."),
    ("fresh", b"QUIT", "+OK Logging out."),
    ("fresh", b"XYZZY", "-ERR Unknown command: XYZZY"),
    ("fresh", b"STLS", "-ERR TLS support isn't enabled."),  # Dovecot ssl = no
    ("fresh", b"", "-ERR Unknown command: "),
    ("fresh", b"\xff\x00\x1b[31m", "-ERR Unknown command: ???[31m"),
    ("fresh", b"USER " + b"a" * 250, "-ERR Input line too long."),
    ("user", b"PASS", "-ERR PASS: Missing argument."),
    ("logged_in", b"USER bob", "-ERR USER not allowed in TRANSACTION state."),
    ("logged_in", b"PASS secret", "-ERR PASS not allowed in TRANSACTION state."),
    ("logged_in", b"APOP a b", "-ERR APOP not allowed in TRANSACTION state."),
    ("logged_in", b"STAT", f"+OK 3 {len(M1) + len(M2) + len(M3)}"),
    ("logged_in", b"stat", f"+OK 3 {len(M1) + len(M2) + len(M3)}"),
    ("logged_in", b"STAT 1", "-ERR STAT: Too many arguments."),
    ("logged_in", b"LIST", "+OK 3 messages:"),
    ("logged_in", b"LIST 2", f"+OK 2 {len(M2)}"),
    ("logged_in", b"LIST 4", "-ERR There's no message 4."),
    ("logged_in", b"LIST 0", "-ERR Invalid message number: 0"),
    ("logged_in", b"LIST -1", "-ERR Invalid message number: -1"),
    ("logged_in", b"LIST one", "-ERR Invalid message number: one"),
    ("logged_in", b"LIST 1 2", "-ERR LIST: Too many arguments."),
    ("logged_in", b"UIDL", "+OK"),
    ("logged_in", b"UIDL 3", "+OK 3 uid-3"),
    ("logged_in", b"UIDL 9", "-ERR There's no message 9."),
    ("logged_in", b"RETR", "-ERR RETR: Missing argument."),
    ("logged_in", b"RETR 1", f"+OK {len(M1)} octets"),
    ("logged_in", b"RETR 9999", "-ERR There's no message 9999."),
    ("logged_in", b"RETR 99999999999", "-ERR Invalid message number: 99999999999"),
    ("logged_in", b"TOP 1 0", "+OK"),
    ("logged_in", b"TOP 1", "-ERR TOP: Missing argument."),
    ("logged_in", b"TOP 1 x", "-ERR Invalid number of lines: x"),
    ("logged_in", b"TOP 7 1", "-ERR There's no message 7."),
    ("logged_in", b"DELE 1", "+OK Marked to be deleted."),
    ("logged_in", b"DELE", "-ERR DELE: Missing argument."),
    ("logged_in", b"RSET", "+OK"),
    ("logged_in", b"NOOP", "+OK"),
    ("logged_in", b"NOOP now", "-ERR NOOP: Too many arguments."),
    ("logged_in", b"CAPA", "+OK"),
    ("logged_in", b"QUIT", "+OK Logging out."),
    ("logged_in", b"HELO x", "-ERR Unknown command: HELO"),
    ("logged_in", b"RETR " + b"1" * 300, "-ERR Input line too long."),
    ("deleted", b"RETR 2", "-ERR Message is deleted."),
    ("deleted", b"DELE 2", "-ERR Message is deleted."),
    ("deleted", b"LIST 2", "-ERR Message is deleted."),
    ("deleted", b"UIDL 2", "-ERR Message is deleted."),
    ("deleted", b"TOP 2 0", "-ERR Message is deleted."),
    ("deleted", b"LIST 3", f"+OK 3 {len(M3)}"),
    ("deleted", b"STAT", f"+OK 2 {len(M1) + len(M3)}"),
    ("deleted", b"LIST", "+OK 2 messages:"),
    ("deleted", b"QUIT", "+OK Logging out, messages deleted."),
]


@pytest.mark.parametrize(("setup", "line", "expected"), WIRE_CASES)
def test_wire_case(setup: str, line: bytes, expected: str) -> None:
    assert first_line(make_server(setup), line) == expected


def test_greeting_is_dovecot_like() -> None:
    server = Pop3Server(Pop3ServerConfig(hostname="pop.example.org"))
    server.greet()
    assert server.data_to_send() == b"+OK Dovecot ready.\r\n"
    assert server.state is A


# -- multi-line responses (RFC 1939 §3) --------------------------------------


def test_capa_lists_user_only_before_login() -> None:
    before = exchange(make_server("fresh"), b"CAPA")
    after = exchange(make_server("logged_in"), b"CAPA")
    assert before == [
        b"+OK",
        b"CAPA",
        b"TOP",
        b"UIDL",
        b"RESP-CODES",
        b"PIPELINING",
        b"AUTH-RESP-CODE",
        b"USER",
        b"SASL PLAIN",
        b".",
    ]
    assert after == [
        b"+OK", b"CAPA", b"TOP", b"UIDL", b"RESP-CODES", b"PIPELINING", b"AUTH-RESP-CODE", b".",
    ]  # fmt: skip


def test_list_and_uidl_skip_deleted_messages() -> None:
    server = make_server("deleted")
    assert exchange(server, b"LIST")[1:] == [b"1 %d" % len(M1), b"3 %d" % len(M3), b"."]
    assert exchange(server, b"UIDL")[1:] == [b"1 uid-1", b"3 uid-3", b"."]


def test_retr_byte_stuffs_lines_starting_with_a_dot() -> None:
    lines = exchange(make_server("logged_in"), b"RETR 2")
    assert lines[1:] == [b"Subject: dots", b"", b"..hidden", b"..", b"...two", b"plain", b"."]


@pytest.mark.parametrize(
    ("count", "body"),
    [
        (0, []),
        (2, [b"first line", b"second line"]),
        (99, [b"first line", b"second line", b"third line"]),
    ],
)
def test_top_sends_headers_blank_line_and_n_body_lines(count: int, body: list[bytes]) -> None:
    lines = exchange(make_server("logged_in"), b"TOP 1 %d" % count)
    assert lines == [b"+OK", b"From: a@example.org", b"Subject: one", b"", *body, b"."]


def test_bare_lf_content_is_sent_and_counted_with_crlf() -> None:
    server = make_server("user")
    server.receive_data(b"PASS secret\r\n")
    event = server.next_event()
    assert isinstance(event, CredentialsReceived)
    server.login([MaildropEntry("bare", b"Subject: x\n\nline\n")])
    server.data_to_send()
    assert exchange(server, b"RETR 1") == [b"+OK 20 octets", b"Subject: x", b"", b"line", b"."]


# -- AUTHORIZATION and the agent's decision ----------------------------------


def test_pass_hands_credentials_to_the_agent_with_spaces_kept() -> None:
    server = make_server("user")
    server.receive_data(b"PASS correct horse battery\r\nSTAT\r\n")
    assert server.next_event() == CredentialsReceived("alice", "correct horse battery")
    assert server.data_to_send() == b""
    with pytest.raises(RuntimeError):
        server.next_event()
    server.login(MAILDROP)
    assert server.next_event() is NEED_DATA  # the pipelined STAT is answered now
    assert server.data_to_send() == b"+OK Logged in.\r\n+OK 3 %d\r\n" % (
        len(M1) + len(M2) + len(M3)
    )
    assert (server.state, server.username) == (T, "alice")


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({}, b"-ERR [AUTH] Authentication failed.\r\n"),
        ({"in_use": True}, b"-ERR [IN-USE] Mailbox is locked by another session.\r\n"),
        ({"reply": Pop3Reply.SYS_TEMP}, b"-ERR [SYS/TEMP] Temporary server failure.\r\n"),
    ],
)
def test_reject_login_stays_in_authorization(kwargs: dict[str, object], expected: bytes) -> None:
    server = make_server("user")
    server.receive_data(b"PASS wrong\r\n")
    assert isinstance(server.next_event(), CredentialsReceived)
    server.reject_login(**kwargs)  # type: ignore[arg-type]
    assert server.data_to_send() == expected
    assert (server.state, server.username) == (A, None)
    assert first_line(server, b"PASS again") == "-ERR No username given."


def test_login_without_pending_credentials_is_a_programming_error() -> None:
    server = make_server("fresh")
    with pytest.raises(RuntimeError):
        server.login(MAILDROP)
    with pytest.raises(RuntimeError):
        server.reject_login()


@pytest.mark.parametrize("uid", ["", "has space", "x" * 71, "caf\u00e9"])
def test_maildrop_entry_rejects_invalid_unique_ids(uid: str) -> None:
    with pytest.raises(ValueError, match="RFC 1939"):
        MaildropEntry(uid, b"x\r\n")


def test_login_rejects_duplicate_unique_ids_and_keeps_the_decision_open() -> None:
    server = make_server("user")
    server.receive_data(b"PASS secret\r\n")
    server.next_event()
    with pytest.raises(ValueError, match="unique"):
        server.login([MaildropEntry("same", b"a\r\n"), MaildropEntry("same", b"b\r\n")])
    server.login(MAILDROP)
    assert server.state is T


# -- UPDATE semantics (RFC 1939 §6) -------------------------------------------


def test_quit_after_dele_requests_update_with_those_uids() -> None:
    server = make_server("logged_in")
    server.receive_data(b"DELE 3\r\nDELE 1\r\nQUIT\r\nNOOP\r\n")
    assert server.next_event() == UpdateRequested(("uid-1", "uid-3"))
    assert server.state is Pop3State.UPDATE and server.closed
    assert server.data_to_send().endswith(b"+OK Logging out, messages deleted.\r\n")
    assert server.next_event() is NEED_DATA
    assert server.state is Pop3State.CLOSED
    assert server.data_to_send() == b""  # NOOP after QUIT is never answered


def test_quit_without_dele_requests_an_empty_update() -> None:
    server = make_server("logged_in")
    server.receive_data(b"QUIT\r\n")
    assert server.next_event() == UpdateRequested(())
    assert server.data_to_send() == b"+OK Logging out.\r\n"


def test_rset_unmarks_every_deleted_message() -> None:
    server = make_server("deleted")
    assert first_line(server, b"RSET") == "+OK"
    assert first_line(server, b"RETR 2") == f"+OK {len(M2)} octets"
    server.receive_data(b"QUIT\r\n")
    assert server.next_event() == UpdateRequested((), retrieved_uids=("uid-2",))


def test_message_numbers_stay_fixed_after_dele() -> None:
    server = make_server("logged_in")
    first_line(server, b"DELE 1")
    assert first_line(server, b"UIDL 2") == "+OK 2 uid-2"
    assert first_line(server, b"RETR 3") == f"+OK {len(M3)} octets"


def test_autologout_after_dele_deletes_nothing() -> None:
    server = make_server("deleted")
    server.close()
    assert server.data_to_send() == b"-ERR Disconnected for inactivity.\r\n"
    server.receive_data(b"QUIT\r\n")
    assert server.next_event() is NEED_DATA
    assert (server.state, server.data_to_send()) == (Pop3State.CLOSED, b"")


def test_dropped_connection_after_dele_deletes_nothing() -> None:
    server = make_server("deleted")
    server.receive_data(b"QUIT")  # the CRLF never arrives
    assert server.next_event() is NEED_DATA
    server.close(None)
    assert server.data_to_send() == b""
    assert server.next_event() is NEED_DATA


def test_quit_in_authorization_closes_without_update() -> None:
    server = make_server("user")
    server.receive_data(b"QUIT\r\n")
    assert server.next_event() is NEED_DATA
    assert server.state is Pop3State.CLOSED
    assert server.data_to_send() == b"+OK Logging out.\r\n"


def test_close_after_quit_adds_no_reply() -> None:
    server = make_server("logged_in")
    server.receive_data(b"QUIT\r\n")
    server.next_event()
    server.close()
    assert server.data_to_send() == b"+OK Logging out.\r\n"
    assert server.state is Pop3State.CLOSED


# -- hostile input (hypothesis) ----------------------------------------------

COMMANDS = [
    b"USER alice", b"PASS secret", b"STAT", b"LIST", b"LIST 1", b"UIDL", b"UIDL 2",
    b"RETR 1", b"RETR 2", b"TOP 1 1", b"DELE 1", b"DELE 2", b"RSET", b"NOOP", b"CAPA",
    b"APOP a b", b"QUIT",
]  # fmt: skip
LINES = st.one_of(
    st.sampled_from(COMMANDS), st.binary(max_size=300).filter(lambda b: b"\n" not in b)
)


@settings(max_examples=150, deadline=None)
@given(chunks=st.lists(st.binary(max_size=400), max_size=8))
def test_arbitrary_bytes_never_raise(chunks: list[bytes]) -> None:
    server = make_server("fresh")
    for chunk in chunks:
        server.receive_data(chunk)
        events = drive(server)
        assert all(isinstance(e, CredentialsReceived | UpdateRequested) for e in events)
    data = server.data_to_send()
    assert data == b"" or data.endswith(b"\r\n")
    assert server.state in Pop3State


@settings(max_examples=150, deadline=None)
@given(lines=st.lists(LINES, max_size=25))
def test_every_response_starts_with_a_status_indicator(lines: list[bytes]) -> None:
    server = make_server("fresh")
    for line in lines:
        if server.closed:
            break
        response = exchange(server, line)
        assert response[0].startswith((b"+OK", b"-ERR", b"+ "))
        if server.closed and response[-1].startswith(b"-ERR Too many"):
            response = response[:-1]  # Dovecot's last word to a client of bad commands
        if len(response) > 1:  # a multi-line response: +OK, body, terminator
            assert response[0].startswith(b"+OK") and response[-1] == b"."
            assert all(body != b"." for body in response[1:-1])
