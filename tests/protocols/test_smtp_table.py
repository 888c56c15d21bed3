"""The SMTP tables read without any bytes: states, transitions, replies."""

from __future__ import annotations

import pytest

from simulator.protocols import lmtp
from simulator.protocols.smtp import (
    CLIENT_TRANSITIONS,
    COMMANDS,
    REPLIES,
    TRANSITIONS,
    UNIMPLEMENTED,
    ClientInput,
    ClientState,
    Reply,
    ServerState,
    SmtpReply,
    Verb,
    reply,
)

COMMAND_STATES = [ServerState.GREETED, ServerState.READY, ServerState.MAIL, ServerState.RCPT]


def _reachable(start, edges) -> set:
    seen, todo = {start}, [start]
    while todo:
        for target in edges(todo.pop()):
            if target not in seen:
                seen.add(target)
                todo.append(target)
    return seen


def test_every_server_state_has_a_row():
    assert set(TRANSITIONS) == set(ServerState)


def test_closed_and_connected_take_no_command():
    assert TRANSITIONS[ServerState.CLOSED] == {}
    assert TRANSITIONS[ServerState.CONNECTED] == {}


@pytest.mark.parametrize("state", COMMAND_STATES)
def test_session_commands_allowed_in_every_command_state(state):
    row = TRANSITIONS[state]
    assert row[Verb.QUIT] is ServerState.CLOSED
    assert row[Verb.EHLO] is ServerState.READY
    assert row[Verb.HELO] is ServerState.READY
    assert row[Verb.NOOP] is state
    assert row[Verb.VRFY] is state


def test_rset_ends_the_transaction():
    assert TRANSITIONS[ServerState.GREETED][Verb.RSET] is ServerState.GREETED
    for state in (ServerState.READY, ServerState.MAIL, ServerState.RCPT):
        assert TRANSITIONS[state][Verb.RSET] is ServerState.READY


def test_transaction_order_mail_rcpt_data():
    states_with = {verb: {s for s, row in TRANSITIONS.items() if verb in row} for verb in Verb}
    # Postfix smtpd_helo_required = no: MAIL may come before HELO/EHLO
    assert states_with[Verb.MAIL] == {ServerState.GREETED, ServerState.READY}
    assert states_with[Verb.RCPT] == {ServerState.MAIL, ServerState.RCPT}
    assert states_with[Verb.DATA] == {ServerState.RCPT}
    assert states_with[Verb.AUTH] == {ServerState.READY}
    assert TRANSITIONS[ServerState.READY][Verb.MAIL] is ServerState.MAIL
    assert TRANSITIONS[ServerState.MAIL][Verb.RCPT] is ServerState.RCPT
    assert TRANSITIONS[ServerState.RCPT][Verb.DATA] is ServerState.DATA


def test_data_and_auth_states_wait_for_their_pseudo_input():
    assert TRANSITIONS[ServerState.DATA] == {Verb.DATA_END: ServerState.READY}
    assert TRANSITIONS[ServerState.AUTH] == {Verb.AUTH_RESPONSE: ServerState.READY}


def test_unimplemented_verbs_are_in_no_row():
    expected = {Verb.EXPN, Verb.HELP, Verb.TURN, Verb.ETRN, Verb.BDAT}
    assert expected == UNIMPLEMENTED
    for row in TRANSITIONS.values():
        assert not UNIMPLEMENTED & set(row)


def test_every_server_state_reachable_from_greeted():
    seen = _reachable(ServerState.GREETED, lambda s: TRANSITIONS[s].values())
    assert seen == set(ServerState) - {ServerState.CONNECTED}


#: The two dialects of the client: SMTP's table and LMTP's (RFC 2033).
DIALECTS = [
    pytest.param(CLIENT_TRANSITIONS, COMMANDS, id="smtp"),
    pytest.param(lmtp.CLIENT_TRANSITIONS, lmtp.COMMANDS, id="lmtp"),
]


def test_every_client_state_belongs_to_a_dialect():
    assert set(CLIENT_TRANSITIONS) | set(lmtp.CLIENT_TRANSITIONS) == set(ClientState)
    assert ClientState.LHLO not in CLIENT_TRANSITIONS  # RFC 2033 §4.1
    assert ClientState.HELO not in lmtp.CLIENT_TRANSITIONS


@pytest.mark.parametrize(("table", "commands"), DIALECTS)
def test_every_client_state_has_a_row_and_can_be_cut_off(table, commands):
    assert table[ClientState.CLOSED] == {}
    for state, row in table.items():
        assert set(row.values()) <= set(table)  # every state reached has a row
        if state is not ClientState.CLOSED:
            assert row[ClientInput.CUT_OFF] is ClientState.CLOSED  # no reply will come


@pytest.mark.parametrize(("table", "commands"), DIALECTS)
def test_every_client_state_reachable_from_greeting(table, commands):
    seen = _reachable(ClientState.GREETING, lambda s: table[s].values())
    assert seen == set(table)


def test_a_421_closes_from_every_state_but_quit():
    for state, row in CLIENT_TRANSITIONS.items():
        if state not in (ClientState.QUIT, ClientState.TLS_HANDSHAKE, ClientState.CLOSED):
            assert row[ClientInput.CLOSING] is ClientState.CLOSED  # RFC 5321 §3.8
    # no reply is read during the handshake: it ends, or the session is cut off
    handshake = CLIENT_TRANSITIONS[ClientState.TLS_HANDSHAKE]
    assert set(handshake) == {ClientInput.TLS_ESTABLISHED, ClientInput.CUT_OFF}


def test_client_transaction_path():
    t = CLIENT_TRANSITIONS
    assert t[ClientState.MAIL][ClientInput.ACCEPTED] is ClientState.RCPT
    assert t[ClientState.RCPT][ClientInput.NEXT_RECIPIENT] is ClientState.RCPT
    assert t[ClientState.RCPT][ClientInput.SOME_ACCEPTED] is ClientState.DATA
    assert t[ClientState.RCPT][ClientInput.NONE_ACCEPTED] is ClientState.RSET
    assert t[ClientState.DATA][ClientInput.GO_AHEAD] is ClientState.CONTENT
    assert t[ClientState.CONTENT][ClientInput.MORE_MAIL] is ClientState.MAIL
    assert t[ClientState.CONTENT][ClientInput.NO_MORE_MAIL] is ClientState.QUIT
    assert t[ClientState.QUIT] == {ClientInput.ANY: ClientState.CLOSED,
                                   ClientInput.CUT_OFF: ClientState.CLOSED}


def test_ehlo_refused_for_good_falls_back_to_helo():
    row = CLIENT_TRANSITIONS[ClientState.EHLO]
    assert row[ClientInput.REFUSED_PERMANENTLY] is ClientState.HELO  # RFC 5321 §3.2
    assert row[ClientInput.REFUSED_TEMPORARILY] is ClientState.QUIT


@pytest.mark.parametrize(("table", "commands"), DIALECTS)
def test_every_state_but_greeting_and_content_sends_a_command_on_entry(table, commands):
    assert set(commands) == set(table) - {
        ClientState.GREETING, ClientState.CONTENT, ClientState.CLOSED,
        ClientState.REST_OF_GROUP,  # reads replies to commands sent with a group
        ClientState.TLS_HANDSHAKE,  # the session layer sends the handshake
        ClientState.DELIVERY_REPLIES,  # LMTP: reads the rest of the replies to the dot
    }  # fmt: skip
    assert COMMANDS[ClientState.AUTH_CANCEL] == "*"  # RFC 4954 §4
    assert lmtp.COMMANDS[ClientState.LHLO] == "LHLO {helo_name}"


def test_every_client_input_is_used():
    used = {given for row in CLIENT_TRANSITIONS.values() for given in row}
    assert used == set(ClientInput)


# ---- the reply table ----


def test_every_reply_key_has_an_entry():
    assert set(REPLIES) == set(SmtpReply)


@pytest.mark.parametrize("key", list(SmtpReply))
def test_enhanced_code_class_matches_reply_class(key):
    code, enhanced, _ = REPLIES[key]
    assert 200 <= code < 600
    if enhanced is not None:
        assert int(enhanced.split(".")[0]) == code // 100
        assert code // 100 != 3


@pytest.mark.parametrize(
    ("key", "fields", "expected"),
    [
        (SmtpReply.GREETING, {"hostname": "mx.example.org", "software": "Postfix"},
         "220 mx.example.org ESMTP Postfix"),
        (SmtpReply.MAIL_OK, {}, "250 2.1.0 Ok"),
        (SmtpReply.RCPT_OK, {}, "250 2.1.5 Ok"),
        (SmtpReply.QUEUED, {"queue_id": "4F2A1"}, "250 2.0.0 Ok: queued as 4F2A1"),
        (SmtpReply.RELAY_DENIED, {"rcpt": "u@x.org"}, "554 5.7.1 <u@x.org>: Relay access denied"),
        (SmtpReply.USER_UNKNOWN, {"rcpt": "u@x.org"},
         "550 5.1.1 <u@x.org>: Recipient address rejected: User unknown in virtual mailbox table"),
        (SmtpReply.AUTH_OK, {}, "235 2.7.0 Authentication successful"),
        (SmtpReply.AUTH_FAILED, {}, "535 5.7.8 Error: authentication failed"),
        (SmtpReply.NOT_ACCEPTING, {"hostname": "mx"}, "554 5.3.2 mx ESMTP not accepting messages"),
        (SmtpReply.SHUTTING_DOWN, {"hostname": "mx"}, "421 4.3.2 mx Service shutting down"),
        (SmtpReply.LOCAL_ERROR, {}, "451 4.3.0 Error: queue file write error"),
        (SmtpReply.HOP_LIMIT, {}, "554 5.4.0 Error: too many hops"),
        (SmtpReply.MAILBOX_FULL, {"rcpt": "u@x.org"}, "552 5.2.2 <u@x.org>: Mailbox full"),
        (SmtpReply.BYE, {}, "221 2.0.0 Bye"),
        (SmtpReply.START_DATA, {}, "354 End data with <CR><LF>.<CR><LF>"),
    ],
)  # fmt: skip
def test_reply_texts_the_agents_use(key, fields, expected):
    assert str(reply(key, **fields)) == expected


# ---- the Reply value ----


def test_multiline_reply_to_bytes():
    answer = Reply(250, None, ("mx.example.org", "SIZE 100", "8BITMIME"))
    assert answer.to_bytes() == b"250-mx.example.org\r\n250-SIZE 100\r\n250 8BITMIME\r\n"
    assert str(answer) == "250-mx.example.org"


def test_enhanced_code_on_every_line():
    answer = Reply(550, "5.1.1", ("one", "two"))
    assert answer.to_bytes() == b"550-5.1.1 one\r\n550 5.1.1 two\r\n"


def test_reply_text_cannot_inject_lines():
    answer = Reply(250, None, ("a\r\nb",))
    assert answer.to_bytes() == b"250 a  b\r\n"


def test_empty_text_keeps_the_space():
    assert reply(SmtpReply.AUTH_CONTINUE).to_bytes() == b"334 \r\n"


@pytest.mark.parametrize(
    ("code", "positive", "transient", "permanent"),
    [(250, True, False, False), (354, True, False, False),
     (421, False, True, False), (550, False, False, True)],
)  # fmt: skip
def test_reply_classes(code, positive, transient, permanent):
    answer = Reply(code, None, ("x",))
    assert (answer.is_positive, answer.is_transient, answer.is_permanent) == (
        positive, transient, permanent,
    )  # fmt: skip


@pytest.mark.parametrize("key", list(SmtpReply))
def test_parse_round_trips_every_table_reply(key):
    fields = {"hostname": "h", "software": "s", "queue_id": "Q", "rcpt": "r@x",
              "usage": "DATA", "verb": "HELO", "param": "X"}  # fmt: skip
    answer = reply(key, **fields)
    assert Reply.parse(answer.to_bytes().decode().split("\r\n")[:-1]) == answer


def test_parse_keeps_mismatched_enhanced_code_as_text():
    assert Reply.parse(["250 5.1.1 odd"]) == Reply(250, None, ("5.1.1 odd",))


def test_parse_bare_code():
    assert Reply.parse(["250"]) == Reply(250, None, ("",))


@pytest.mark.parametrize(
    "lines",
    [[], ["hello"], ["25"], ["600 x"], ["250x"], ["250-a"], ["250 a", "250 b"],
     ["250-a", "251 b"], ["250-a", "250-b"]],
)  # fmt: skip
def test_parse_rejects_malformed(lines):
    with pytest.raises(ValueError):
        Reply.parse(lines)
