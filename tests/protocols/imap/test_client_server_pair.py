"""The IMAP client against the IMAP server on one mailbox store, bytes pumped in memory.

Both agents are played the simplest way: the server logs in the password
"secret" to the mailbox, and both sides run TLS as soon as they are asked.
"""

from __future__ import annotations

from simulator.mailstore import Mailbox
from simulator.protocols.common import NEED_DATA
from simulator.protocols.imap import CredentialsReceived, ImapServer, ImapServerConfig
from simulator.protocols.imap.client import ImapClient
from simulator.protocols.imap.client_events import (
    FlagsChanged,
    FolderListed,
    FolderSelected,
    FolderStatus,
    HeadersFetched,
    LoggedIn,
    LoginFailed,
    MessageAppended,
    MessageFetched,
    MessagesMoved,
    NewMail,
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
    ListFolders,
    Logout,
    Mechanism,
    Move,
    Search,
    Select,
    Store,
)
from simulator.protocols.tls import TlsRequested, TlsVersion

PASSWORD = "secret"
LUNCH = b"From: bob@example.org\r\nSubject: Lunch\r\n\r\nNoon?\r\n"
REPORT = b"From: carol@example.net\r\nSubject: Report\r\n\r\nSee attached.\r\n"
SENT = b"From: alice@example.org\r\nTo: bob@example.org\r\nSubject: Re: Lunch\r\n\r\nYes.\r\n"
NEW = b"From: dave@example.org\r\nSubject: New\r\n\r\nfresh\r\n"


def mailbox() -> Mailbox:
    """Alice's mailbox: LUNCH (read, UID 1) and REPORT (unread, UID 2) in INBOX."""
    box = Mailbox("alice@example.org", PASSWORD)
    box.file("INBOX", LUNCH, "<lunch@example.org>", 0.0, {"\\Seen"})
    box.file("INBOX", REPORT, "<report@example.net>", 60.0)
    for folder, use in (("Sent", "\\Sent"), ("Trash", "\\Trash")):
        if box.folder(folder) is None:
            box.create(folder, use)
    return box


class Pair:
    """One client session and one server session wired back to back."""

    def __init__(self, box: Mailbox, *actions: Action, **options: object) -> None:
        self.box = box
        self.server = ImapServer(ImapServerConfig(
            "imap.example.org",
            tls_available=bool(options.get("use_starttls"))))  # fmt: skip
        config = ImapClientConfig("alice", str(options.pop("password", PASSWORD)),
                                  actions=actions, **options)  # type: ignore[arg-type]
        self.client = ImapClient(config)
        self.events: list[object] = []
        self.server.greet()

    def pump(self) -> list[object]:
        """Carry bytes both ways until both sides are quiet; the client's new events."""
        start = len(self.events)
        moving = True
        while moving:
            to_client = self.server.data_to_send()
            if to_client:
                self.client.receive_data(to_client)
            self._client_events()
            to_server = self.client.data_to_send()
            if to_server:
                self.server.receive_data(to_server)
            self._server_events()
            moving = bool(to_client or to_server)
        return self.events[start:]

    def _client_events(self) -> None:
        while (event := self.client.next_event()) is not NEED_DATA:
            self.events.append(event)
            if isinstance(event, TlsRequested):
                self.client.tls_established(TlsVersion.TLS1_2)

    def _server_events(self) -> None:
        while (event := self.server.next_event()) is not NEED_DATA:
            if isinstance(event, CredentialsReceived):
                if event.password == PASSWORD:
                    self.server.login(self.box)
                else:
                    self.server.reject_login()
            elif isinstance(event, TlsRequested):
                self.server.tls_established(TlsVersion.TLS1_2)


def of_type(events: list[object], kind: type) -> list[object]:
    return [event for event in events if isinstance(event, kind)]


def test_desktop_client_reads_new_mail_flags_and_files_sent_mail() -> None:
    box = mailbox()
    pair = Pair(box, Select(), FetchNew(), Store((1,), ("\\Flagged",)), Append(SENT),
                Search("ALL"), Logout())  # fmt: skip
    events = pair.pump()
    assert isinstance(events[1], LoggedIn)
    (selected,) = of_type(events, FolderSelected)
    assert selected == FolderSelected("INBOX", 2, box.inbox.uidvalidity, 3,
                                      selected.flags, False)  # type: ignore[attr-defined]
    assert of_type(events, SearchResult) == [SearchResult((2,)), SearchResult((1, 2))]
    (fetched,) = of_type(events, MessageFetched)
    assert fetched.uid == 2 and fetched.content == REPORT  # type: ignore[attr-defined]
    assert "\\Seen" in box.inbox.messages[1].flags  # BODY[] marks read (§6.4.5)
    (changed,) = of_type(events, FlagsChanged)
    assert changed.uid == 1 and set(changed.flags) == {"\\Seen", "\\Flagged"}  # type: ignore[attr-defined]
    assert of_type(events, FolderListed) == []  # SELECT's LIST (§6.3.2) is not news
    (appended,) = of_type(events, MessageAppended)
    sent = box.folder("Sent")
    assert sent is not None and sent.messages[-1].content == SENT
    assert appended == MessageAppended("Sent", sent.uidvalidity, sent.messages[-1].uid)
    assert isinstance(events[-1], SessionClosed) and events[-1].ok
    assert pair.client.closed and pair.server.closed


def test_webmail_lists_headers_then_opens_one_without_marking_it_twice() -> None:
    box = mailbox()
    pair = Pair(box, Select(), FetchHeaders())
    events = pair.pump()
    headers = of_type(events, HeadersFetched)
    assert [h.uid for h in headers] == [1, 2]  # type: ignore[attr-defined]
    assert headers[1].header.startswith(b"From: carol")  # type: ignore[attr-defined]
    assert "\\Seen" not in box.inbox.messages[1].flags  # BODY.PEEK leaves \Seen alone
    assert isinstance(events[-1], Ready)
    pair.client.perform(Fetch((2,), peek=True), Store((2,)))
    events = pair.pump()
    assert of_type(events, MessageFetched)[0].content == REPORT  # type: ignore[attr-defined]
    assert "\\Seen" in box.inbox.messages[1].flags


def test_move_to_trash_expunge_list_and_status() -> None:
    box = mailbox()
    pair = Pair(box, Select(), Move((1,)), Store((2,), ("\\Deleted",)), Expunge(),
                ListFolders(), GetStatus("Trash"), Logout())  # fmt: skip
    events = pair.pump()
    (moved,) = of_type(events, MessagesMoved)
    trash = box.folder("Trash")
    assert trash is not None and [m.content for m in trash.messages] == [LUNCH]
    assert moved == MessagesMoved("Trash", (1,), (trash.messages[0].uid,))
    assert box.inbox.messages == []
    names = [f.name for f in of_type(events, FolderListed)]  # type: ignore[attr-defined]
    assert {"INBOX", "Sent", "Trash"} <= set(names)
    (status,) = of_type(events, FolderStatus)
    assert ("MESSAGES", 1) in status.items  # type: ignore[attr-defined]


def test_idle_gets_a_push_from_a_second_session() -> None:
    box = mailbox()
    laptop = Pair(box, Select(), Idle())
    laptop.pump()
    assert laptop.client.state.name == "IDLING"
    phone = Pair(box, Select("Sent"), Append(NEW, folder="INBOX", flags=()), Logout())
    assert isinstance(phone.pump()[-1], SessionClosed)
    laptop.server.notify()
    assert laptop.pump() == [NewMail(3)]
    laptop.client.stop_idle()
    laptop.client.perform(FetchNew(), Logout())
    events = laptop.pump()
    fetched = of_type(events, MessageFetched)
    assert [m.content for m in fetched] == [REPORT, NEW]  # type: ignore[attr-defined]
    assert isinstance(events[-1], SessionClosed) and events[-1].ok


def test_authenticate_plain_over_starttls() -> None:
    box = mailbox()
    pair = Pair(box, Logout(), use_starttls=True, mechanism=Mechanism.PLAIN)
    events = pair.pump()
    assert events[1] == TlsRequested()
    assert pair.client.tls is pair.server.tls is TlsVersion.TLS1_2
    assert of_type(events, LoggedIn)
    assert isinstance(events[-1], SessionClosed) and events[-1].ok


def test_a_wrong_password_is_refused_and_the_client_logs_out() -> None:
    pair = Pair(mailbox(), Select(), password="wrong")
    events = pair.pump()
    (failed,) = of_type(events, LoginFailed)
    assert failed.code == "AUTHENTICATIONFAILED"  # type: ignore[attr-defined]
    assert isinstance(events[-1], SessionClosed) and not events[-1].ok
    assert pair.client.closed
