"""IMAP client: scripted server responses in, exact command lines and events out.

Each dialogue is a table of steps: what the server sends, what the client
must send back (tags and all), and the events it must report.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from simulator.protocols.common import NEED_DATA, ConnectionClosed
from simulator.protocols.imap.client import ImapClient
from simulator.protocols.imap.client_events import (
    CommandRefused,
    Expunged,
    FlagsChanged,
    FolderListed,
    FolderSelected,
    FolderStatus,
    Greeted,
    HeadersFetched,
    LoggedIn,
    LoginFailed,
    MessageAppended,
    MessageFetched,
    MessagesMoved,
    NewMail,
    NoSafeLogin,
    Ready,
    SearchResult,
    SessionClosed,
)
from simulator.protocols.imap.client_states import (
    Action,
    Append,
    Expunge,
    Fetch,
    FetchHeaders,
    FetchNew,
    GetStatus,
    Idle,
    ImapClientConfig,
    ImapClientState,
    ListFolders,
    Logout,
    Mechanism,
    Move,
    Noop,
    Search,
    Select,
    Store,
)
from simulator.protocols.tls import TlsRequested, TlsVersion

CAPS = "IMAP4rev2 IDLE MOVE"
GREETING = f"* OK [CAPABILITY {CAPS} AUTH=PLAIN] Dovecot ready.\r\n".encode()
PLAIN = "AGFsaWNlAHNlY3JldA=="  # base64 of NUL alice NUL secret (RFC 4616 §2)
MESSAGE = b"Subject: hi\r\n\r\nHello.\r\n"


@dataclass(frozen=True)
class Step:
    """The server sends `server` (None: it closes); the client answers `client`
    and reports `events`."""

    server: bytes | None
    client: bytes
    events: tuple[object, ...] = ()


def drain(client: ImapClient) -> list[object]:
    events = []
    while (event := client.next_event()) is not NEED_DATA:
        events.append(event)
    return events


def play(client: ImapClient, steps: list[Step]) -> None:
    """Run the steps; at each, compare the client's bytes and events exactly."""
    for number, step in enumerate(steps):
        if step.server != b"":
            client.receive_data(step.server or b"")
        events = drain(client)
        sent = client.data_to_send()
        assert (number, sent) == (number, step.client)
        assert (number, events) == (number, list(step.events))


def client_for(*actions: Action, **options: object) -> ImapClient:
    config = ImapClientConfig("alice", "secret", actions=actions, **options)  # type: ignore[arg-type]
    return ImapClient(config)


def login(caps: str = CAPS) -> list[Step]:
    """The greeting (with capabilities) that LOGIN follows."""
    greeted = Greeted("Dovecot ready.", frozenset({*caps.upper().split(), "AUTH=PLAIN"}))
    return [Step(GREETING.replace(CAPS.encode(), caps.encode()), b"A0001 LOGIN alice secret\r\n",
                 (greeted,))]  # fmt: skip


def logged_in(*actions: Action, caps: str = CAPS, **options: object) -> ImapClient:
    """A client past LOGIN; the command of its first action is already sent."""
    client = client_for(*actions, **options)
    client.receive_data(GREETING.replace(CAPS.encode(), caps.encode()))
    drain(client)
    client.receive_data(b"A0001 OK Logged in\r\n")
    events = drain(client)
    assert isinstance(events[0], LoggedIn)
    client.data_to_send()
    client.data_to_send()
    return client


def logout(tag: str) -> list[Step]:
    return [Step(b"* BYE Logging out\r\n" + tag.encode() + b" OK Logout completed.\r\n", b"",
                 (SessionClosed(True, "Logging out"),))]  # fmt: skip


# ---- logging in ----


def test_login_from_a_greeting_without_capabilities_asks_for_them() -> None:
    client = client_for(Logout())
    play(client, [
        Step(b"* OK Dovecot ready.\r\n", b"A0001 CAPABILITY\r\n",
             (Greeted("Dovecot ready.", frozenset()),)),
        Step(b"* CAPABILITY IMAP4rev2 AUTH=PLAIN\r\nA0001 OK Pre-login capabilities listed\r\n",
             b"A0002 LOGIN alice secret\r\n"),
        Step(b"A0002 OK Logged in\r\n", b"A0003 LOGOUT\r\n",
             (LoggedIn("Logged in", frozenset({"IMAP4REV2", "AUTH=PLAIN"})),)),
        *logout("A0003"),
    ])  # fmt: skip
    assert client.closed


def test_a_server_of_rev1_and_rev2_gets_enable_after_login() -> None:
    client = client_for(Logout())
    caps = "IMAP4rev1 IMAP4rev2"
    play(client, [
        *login(caps),
        Step(b"A0001 OK [CAPABILITY IMAP4rev1 IMAP4rev2 IDLE] Logged in\r\n",
             b"A0002 ENABLE IMAP4rev2\r\n",
             (LoggedIn("Logged in", frozenset({"IMAP4REV1", "IMAP4REV2", "IDLE"})),)),
        Step(b"* ENABLED IMAP4rev2\r\nA0002 OK Enabled\r\n", b"A0003 LOGOUT\r\n"),
        *logout("A0003"),
    ])  # fmt: skip


def test_authenticate_plain_sends_the_initial_response_to_a_rev2_server() -> None:
    client = client_for(mechanism=Mechanism.PLAIN)
    play(client, [
        Step(GREETING, f"A0001 AUTHENTICATE PLAIN {PLAIN}\r\n".encode(),
             (Greeted("Dovecot ready.", frozenset({"IMAP4REV2", "IDLE", "MOVE", "AUTH=PLAIN"})),)),
        Step(b"A0001 OK Logged in\r\n", b"",
             (LoggedIn("Logged in", frozenset({"IMAP4REV2", "IDLE", "MOVE", "AUTH=PLAIN"})),
              Ready())),
    ])  # fmt: skip


def test_authenticate_plain_waits_for_the_continuation_without_sasl_ir() -> None:
    client = client_for(mechanism=Mechanism.PLAIN)
    greeting = b"* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] ready\r\n"
    play(client, [
        Step(greeting, b"A0001 AUTHENTICATE PLAIN\r\n",
             (Greeted("ready", frozenset({"IMAP4REV1", "AUTH=PLAIN"})),)),
        Step(b"+ \r\n", f"{PLAIN}\r\n".encode()),
        Step(b"+ more?\r\n", b"*\r\n"),  # §6.2.2: PLAIN has no second step: cancel
        Step(b"A0001 BAD Authentication aborted by client.\r\n", b"A0002 LOGOUT\r\n",
             (LoginFailed("Authentication aborted by client.", None),)),
    ])  # fmt: skip


def test_a_refused_login_logs_out_and_the_session_is_not_ok() -> None:
    client = client_for(Select())
    play(client, [
        *login(),
        Step(b"A0001 NO [AUTHENTICATIONFAILED] Authentication failed.\r\n", b"A0002 LOGOUT\r\n",
             (LoginFailed("Authentication failed.", "AUTHENTICATIONFAILED"),)),
        Step(b"* BYE Logging out\r\nA0002 OK Logout completed.\r\n", b"",
             (SessionClosed(False, "Authentication failed."),)),
    ])  # fmt: skip


@pytest.mark.parametrize(("caps", "options", "reason"), [
    ("IMAP4rev2 LOGINDISABLED", {}, "LOGINDISABLED"),
    ("IMAP4rev2", {"use_starttls": True}, "STARTTLS not offered"),
    ("IMAP4rev2", {"mechanism": Mechanism.PLAIN}, "AUTH=PLAIN not offered"),
])  # fmt: skip
def test_no_safe_way_to_log_in_logs_out_without_credentials(
    caps: str, options: dict[str, object], reason: str
) -> None:
    client = client_for(**options)
    client.receive_data(f"* OK [CAPABILITY {caps}] ready\r\n".encode())
    assert drain(client)[1:] == [NoSafeLogin(reason)]
    assert client.data_to_send() == b"A0001 LOGOUT\r\n"


# ---- STARTTLS (RFC 9051 §6.2.1) ----


def starttls_client() -> ImapClient:
    client = client_for(use_starttls=True)
    client.receive_data(b"* OK [CAPABILITY IMAP4rev2 STARTTLS LOGINDISABLED] ready\r\n")
    drain(client)
    assert client.data_to_send() == b"A0001 STARTTLS\r\n"
    return client


def test_starttls_then_the_handshake_then_capability_again_then_login() -> None:
    client = starttls_client()
    play(client, [Step(b"A0001 OK Begin TLS negotiation now.\r\n", b"",
                       (TlsRequested(),))])  # fmt: skip
    assert client.state is ImapClientState.TLS_HANDSHAKE
    client.tls_established(TlsVersion.TLS1_3)
    assert client.tls is TlsVersion.TLS1_3 and client.capabilities == frozenset()
    play(client, [
        Step(b"", b"A0002 CAPABILITY\r\n"),
        Step(b"* CAPABILITY IMAP4rev2 AUTH=PLAIN\r\nA0002 OK done\r\n",
             b"A0003 LOGIN alice secret\r\n"),
    ])  # fmt: skip


def test_plain_text_injected_after_the_starttls_ok_is_refused() -> None:
    client = starttls_client()
    client.receive_data(b"A0001 OK Begin TLS.\r\n* CAPABILITY IMAP4rev2 AUTH=PLAIN\r\n")
    assert client.next_event() == TlsRequested()
    client.tls_established(TlsVersion.TLS1_3)
    (error,) = drain(client)
    assert "plain-text bytes after STARTTLS" in error.detail  # type: ignore[attr-defined]
    assert client.closed and client.data_to_send() == b""


def test_a_refused_starttls_logs_out() -> None:
    client = starttls_client()
    play(client, [Step(b"A0001 NO TLS is not available\r\n", b"A0002 LOGOUT\r\n",
                       (CommandRefused("A0001", "STARTTLS", "NO", None,
                                       "TLS is not available"),))])  # fmt: skip


# ---- the actions ----


def test_select_reports_the_folder() -> None:
    client = client_for(Select(), Select("Archive", read_only=True))
    play(client, [
        *login(),
        Step(b"A0001 OK Logged in\r\n", b"A0002 SELECT INBOX\r\n",
             (LoggedIn("Logged in", frozenset({"IMAP4REV2", "IDLE", "MOVE", "AUTH=PLAIN"})),)),
        Step(b"* 3 EXISTS\r\n* OK [UIDVALIDITY 1700000000] UIDs valid\r\n"
             b"* OK [UIDNEXT 9] Predicted next UID\r\n"
             b"* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)\r\n"
             b"* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft \\*)] ok\r\n"
             b"A0002 OK [READ-WRITE] Select completed.\r\n", b"A0003 EXAMINE Archive\r\n",
             (FolderSelected("INBOX", 3, 1700000000, 9,
                             ("\\Answered", "\\Flagged", "\\Deleted", "\\Seen", "\\Draft"),
                             False),)),
        Step(b"A0003 NO Mailbox doesn't exist: Archive\r\n", b"",
             (CommandRefused("A0003", "EXAMINE Archive", "NO", None,
                             "Mailbox doesn't exist: Archive"), Ready())),
    ])  # fmt: skip


@pytest.mark.parametrize("found", [
    b"* SEARCH 7 8\r\n",  # RFC 3501 §7.2.5, what a rev1 session gets
    b'* ESEARCH (TAG "A0002") UID ALL 7:8\r\n',  # RFC 9051 §7.3.4
])  # fmt: skip
def test_fetch_new_searches_then_fetches_whole_messages(found: bytes) -> None:
    client = logged_in(FetchNew())
    play(client, [
        Step(found + b"A0002 OK Search completed\r\n", b"A0003 UID FETCH 7:8 BODY[]\r\n",
             (SearchResult((7, 8)),)),
        Step(b"* 2 FETCH (UID 7 BODY[] {23}\r\n" + MESSAGE + b" FLAGS (\\Seen))\r\n"
             b"* 3 FETCH (UID 8 BODY[] \"short\")\r\n* 3 FETCH (FLAGS (\\Seen) UID 8)\r\n"
             b"A0003 OK Fetch completed.\r\n", b"",
             (MessageFetched(7, MESSAGE, ("\\Seen",)), MessageFetched(8, b"short", None),
              FlagsChanged(3, 8, ("\\Seen",)), Ready())),
    ])  # fmt: skip


def test_fetch_new_with_nothing_new_fetches_nothing() -> None:
    client = logged_in(FetchNew(), Logout())
    play(client, [Step(b"* SEARCH\r\nA0002 OK Search completed\r\n", b"A0003 LOGOUT\r\n",
                       (SearchResult(()),))])  # fmt: skip


def test_webmail_lists_headers_then_fetches_one_body_on_demand() -> None:
    client = logged_in(FetchHeaders(5))
    header = b"From: bob@example.org\r\nSubject: x\r\n\r\n"
    play(client, [Step(
        b"* 1 FETCH (UID 5 FLAGS () RFC822.SIZE 120 BODY[HEADER] {37}\r\n" + header + b")\r\n"
        b"A0002 OK Fetch completed.\r\n", b"",
        (HeadersFetched(5, (), 120, header), Ready()))])  # fmt: skip
    client.perform(Fetch((5,), peek=True))
    assert client.data_to_send() == b"A0003 UID FETCH 5 BODY.PEEK[]\r\n"


def test_the_header_fetch_command() -> None:
    client = client_for(FetchHeaders(5))
    client.receive_data(GREETING + b"A0001 OK Logged in\r\n")
    drain(client)
    assert client.data_to_send().endswith(
        b"A0002 UID FETCH 5:* (UID FLAGS RFC822.SIZE BODY.PEEK[HEADER])\r\n")


@pytest.mark.parametrize(("action", "command", "answer", "events"), [
    (Store((7, 8, 9, 12)), b"UID STORE 7:9,12 +FLAGS (\\Seen)",
     b"* 2 FETCH (FLAGS (\\Seen) UID 7)\r\n", (FlagsChanged(2, 7, ("\\Seen",)),)),
    (Store((7,), ("\\Flagged",), add=False), b"UID STORE 7 -FLAGS (\\Flagged)",
     b"* 2 FETCH (FLAGS () UID 7)\r\n", (FlagsChanged(2, 7, ()),)),
    (Move((7,)), b"UID MOVE 7 Trash",
     b"* OK [COPYUID 17 7 3] Moved\r\n* 2 EXPUNGE\r\n",
     (Expunged(2), MessagesMoved("Trash", (7,), (3,)))),
    (Expunge(), b"EXPUNGE", b"* 2 EXPUNGE\r\n", (Expunged(2),)),
    (Expunge((7, 8)), b"UID EXPUNGE 7:8", b"* 2 EXPUNGE\r\n* 2 EXPUNGE\r\n",
     (Expunged(2), Expunged(2))),
    (Search('FROM "bob smith"'), b'UID SEARCH FROM "bob smith"', b"* SEARCH 4\r\n",
     (SearchResult((4,)),)),
    (ListFolders(), b'LIST "" "*"',
     b'* LIST (\\HasNoChildren) "/" INBOX\r\n* LIST (\\Sent) "/" "Sent Items"\r\n'
     b"* LIST (\\Noselect) NIL {4}\r\nTop!\r\n",
     (FolderListed("INBOX", ("\\HasNoChildren",), "/"),
      FolderListed("Sent Items", ("\\Sent",), "/"), FolderListed("Top!", ("\\Noselect",), None))),
    (GetStatus("Sent Items"), b'STATUS "Sent Items" (MESSAGES UIDNEXT UNSEEN)',
     b'* STATUS "Sent Items" (MESSAGES 2 UIDNEXT 3 UNSEEN 0)\r\n',
     (FolderStatus("Sent Items", (("MESSAGES", 2), ("UIDNEXT", 3), ("UNSEEN", 0))),)),
    (Noop(), b"NOOP", b"* 4 EXISTS\r\n* 1 EXPUNGE\r\n", (NewMail(4), Expunged(1))),
])  # fmt: skip
def test_each_action_sends_its_command_and_reports_what_came(
    action: Action, command: bytes, answer: bytes, events: tuple[object, ...]
) -> None:
    client = client_for(action)
    client.receive_data(GREETING + b"A0001 OK Logged in\r\n")
    drain(client)
    assert client.data_to_send() == b"A0001 LOGIN alice secret\r\nA0002 " + command + b"\r\n"
    play(client, [Step(answer + b"A0002 OK Done.\r\n", b"", (*events, Ready()))])


def test_a_refused_command_is_reported_and_the_plan_goes_on() -> None:
    client = logged_in(Move((7,)), Logout())
    play(client, [
        Step(b"A0002 BAD Error in IMAP command UID MOVE: Invalid UID set\r\n", b"A0003 LOGOUT\r\n",
             (CommandRefused("A0002", "UID MOVE 7 Trash", "BAD", None,
                             "Error in IMAP command UID MOVE: Invalid UID set"),)),
        *logout("A0003"),
    ])  # fmt: skip


# ---- APPEND and its literal (RFC 9051 §6.3.12, §4.3) ----


def test_append_waits_for_the_continuation_before_the_literal() -> None:
    client = logged_in(Append(MESSAGE))
    assert client.state is ImapClientState.APPEND
    play(client, [
        Step(b"+ OK\r\n", MESSAGE + b"\r\n"),
        Step(b"A0002 OK [APPENDUID 1700000000 4] Append completed.\r\n", b"",
             (MessageAppended("Sent", 1700000000, 4), Ready())),
    ])  # fmt: skip


def test_append_command_line_announces_the_literal() -> None:
    client = client_for(Append(MESSAGE, folder="Sent Items", flags=("\\Seen", "$Forwarded")))
    client.receive_data(GREETING + b"A0001 OK Logged in\r\n")
    drain(client)
    assert client.data_to_send().endswith(
        b'A0002 APPEND "Sent Items" (\\Seen $Forwarded) {23}\r\n')


def test_append_refused_before_the_literal_sends_no_literal() -> None:
    client = logged_in(Append(MESSAGE))
    play(client, [Step(b"A0002 NO [OVERQUOTA] Quota exceeded (mailbox for user is full)\r\n",
                       b"", (CommandRefused("A0002", "APPEND Sent (\\Seen) {23}", "NO",
                                            "OVERQUOTA",
                                            "Quota exceeded (mailbox for user is full)"),
                             Ready()))])  # fmt: skip


def test_append_with_literal_plus_sends_everything_at_once() -> None:
    client = client_for(Append(MESSAGE))
    client.receive_data(b"* OK [CAPABILITY IMAP4rev2 LITERAL+] ready\r\nA0001 OK in\r\n")
    drain(client)
    assert client.data_to_send() == (
        b"A0001 LOGIN alice secret\r\nA0002 APPEND Sent (\\Seen) {23+}\r\n" + MESSAGE + b"\r\n")
    play(client, [Step(b"A0002 OK Append completed.\r\n", b"",
                       (MessageAppended("Sent", None, None), Ready()))])  # fmt: skip


def test_literal_plus_can_be_turned_off() -> None:
    client = client_for(Append(MESSAGE), literal_plus=False)
    client.receive_data(b"* OK [CAPABILITY IMAP4rev2 LITERAL+] ready\r\nA0001 OK in\r\n")
    drain(client)
    assert client.data_to_send().endswith(b"{23}\r\n")


# ---- IDLE (RFC 9051 §6.3.13, RFC 2177) ----


def test_idle_reports_pushes_until_the_agent_says_done() -> None:
    client = logged_in(Idle())
    play(client, [
        Step(b"+ idling\r\n", b""),
        Step(b"* 4 EXISTS\r\n", b"", (NewMail(4),)),
        Step(b"* 2 EXPUNGE\r\n* 1 FETCH (FLAGS (\\Seen \\Flagged))\r\n", b"",
             (Expunged(2), FlagsChanged(1, None, ("\\Seen", "\\Flagged")))),
    ])  # fmt: skip
    client.stop_idle()
    client.perform(FetchNew())
    play(client, [
        Step(b"", b"DONE\r\n"),
        Step(b"A0002 OK Idle completed.\r\n", b"A0003 UID SEARCH UNSEEN\r\n"),
    ])  # fmt: skip


def test_stop_idle_before_the_continuation_sends_done_after_it() -> None:
    client = logged_in(Idle())
    client.stop_idle()
    play(client, [
        Step(b"+ idling\r\n", b"DONE\r\n"),
        Step(b"A0002 OK Idle completed.\r\n", b"", (Ready(),)),
    ])  # fmt: skip


def test_perform_while_ready_starts_at_once() -> None:
    client = logged_in()
    assert client.state is ImapClientState.READY
    client.perform(Select(), Idle())
    assert client.data_to_send() == b"A0002 SELECT INBOX\r\n"


# ---- the server ends the session ----


def test_an_unsolicited_bye_ends_the_session() -> None:
    client = logged_in(Idle())
    play(client, [
        Step(b"+ idling\r\n", b""),
        Step(b"* BYE Disconnected for inactivity.\r\n", b"",
             (SessionClosed(False, "Disconnected for inactivity."),)),
    ])  # fmt: skip
    assert client.closed


def test_a_bye_greeting_ends_the_session() -> None:
    client = client_for()
    play(client, [Step(b"* BYE Too many connections\r\n", b"",
                       (SessionClosed(False, "Too many connections"),))])  # fmt: skip


def test_a_preauth_greeting_skips_the_login() -> None:
    client = client_for(Select())
    play(client, [Step(b"* PREAUTH [CAPABILITY IMAP4rev2] Logged in as alice\r\n",
                       b"A0001 SELECT INBOX\r\n",
                       (Greeted("Logged in as alice", frozenset({"IMAP4REV2"})),))])  # fmt: skip


def test_closing_after_bye_without_the_tagged_ok_is_connection_closed() -> None:
    client = logged_in(Logout())
    play(client, [Step(b"* BYE Logging out\r\n", b""), Step(None, b"", (ConnectionClosed(),))])
