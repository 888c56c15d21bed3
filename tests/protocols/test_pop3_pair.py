"""A POP3 client and server wired back to back (no SimPy) must agree."""

from __future__ import annotations

from dataclasses import dataclass, field

from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.protocols.common import ConnectionClosed
from simulator.protocols.pop3 import (
    NEED_DATA,
    CredentialsReceived,
    LoginFailed,
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

PASSWORD = "s3cret pass"
MAILDROP = (
    MaildropEntry("uid-1", b"Subject: one\r\n\r\nHello.\r\n"),
    MaildropEntry("uid-2", b"Subject: dots\r\n\r\n.\r\n..\r\n.leading\r\n. \r\nend.\r\n"),
    MaildropEntry("uid-3", b"Subject: three\r\n\r\n\r\n"),
)
MAX_ROUNDS = 1000


@dataclass
class Link:
    """Two protocol objects and the agent decisions between them."""

    client: Pop3Client
    maildrop: tuple[MaildropEntry, ...] = MAILDROP
    in_use: bool = False
    server: Pop3Server = field(default_factory=lambda: Pop3Server(Pop3ServerConfig("pop.test")))
    client_events: list[object] = field(default_factory=list)
    updates: list[UpdateRequested] = field(default_factory=list)
    commands: list[bytes] = field(default_factory=list)

    def round(self) -> bool:
        """Carry one batch each way; False when neither side had anything to say."""
        to_client = self.server.data_to_send()
        if to_client:  # b"" would tell the client the server closed
            self.client.receive_data(to_client)
        while (event := self.client.next_event()) is not NEED_DATA:
            self.client_events.append(event)
        to_server = self.client.data_to_send()
        self.commands += to_server.splitlines()
        self.server.receive_data(to_server)
        while (event := self.server.next_event()) is not NEED_DATA:
            self._decide(event)
        return bool(to_client or to_server)

    def _decide(self, event: object) -> None:
        if isinstance(event, UpdateRequested):
            self.updates.append(event)
        elif isinstance(event, CredentialsReceived):
            if self.in_use:
                self.server.reject_login(in_use=True)
            elif (event.username, event.password) == ("alice", PASSWORD):
                self.server.login(self.maildrop)
            else:
                self.server.reject_login()

    def run(self) -> Link:
        self.server.greet()
        for _ in range(MAX_ROUNDS):
            if not self.round():
                return self
        raise AssertionError("the dialogue did not settle")


def run(config: Pop3ClientConfig, **kwargs: object) -> Link:
    return Link(Pop3Client(config), **kwargs).run()  # type: ignore[arg-type]


def retrieved(link: Link) -> list[MessageRetrieved]:
    return [event for event in link.client_events if isinstance(event, MessageRetrieved)]


def test_client_retrieves_every_message_byte_identical_and_deletes_them() -> None:
    link = run(Pop3ClientConfig("alice", PASSWORD))
    assert [(m.number, m.uid, m.content) for m in retrieved(link)] == [
        (n, entry.uid, entry.content) for n, entry in enumerate(MAILDROP, start=1)
    ]
    uids = ("uid-1", "uid-2", "uid-3")
    assert link.updates == [UpdateRequested(uids, retrieved_uids=uids)]  # RETR: \\Seen
    assert link.client_events[-1] == SessionClosed(True, "+OK Logging out, messages deleted.")
    assert link.client.closed and link.server.state is Pop3State.CLOSED


def test_leave_on_server_skips_known_uids_and_deletes_nothing() -> None:
    config = Pop3ClientConfig("alice", PASSWORD, delete=False, known_uids=frozenset({"uid-2"}))
    link = run(config)
    assert [m.uid for m in retrieved(link)] == ["uid-1", "uid-3"]
    assert b"DELE 1" not in link.commands
    assert link.updates == [UpdateRequested((), retrieved_uids=("uid-1", "uid-3"))]
    assert link.client_events[-1] == SessionClosed(True, "+OK Logging out.")


def test_known_uids_with_delete_removes_only_what_was_fetched() -> None:
    link = run(Pop3ClientConfig("alice", PASSWORD, known_uids=frozenset({"uid-1", "uid-3"})))
    assert [m.uid for m in retrieved(link)] == ["uid-2"]
    assert link.updates == [UpdateRequested(("uid-2",), retrieved_uids=("uid-2",))]


def test_wrong_password_fails_the_login_and_updates_nothing() -> None:
    link = run(Pop3ClientConfig("alice", "guess"))
    failure = "-ERR [AUTH] Authentication failed."
    assert link.client_events == [LoginFailed(failure), SessionClosed(False, failure)]
    assert link.updates == []
    assert link.server.state is Pop3State.CLOSED and link.server.username is None


def test_locked_mailbox_reports_in_use() -> None:
    link = run(Pop3ClientConfig("alice", PASSWORD), in_use=True)
    assert link.client_events[0] == LoginFailed(
        "-ERR [IN-USE] Mailbox is locked by another session."
    )
    assert link.updates == []


def test_empty_maildrop_is_a_clean_session() -> None:
    link = run(Pop3ClientConfig("alice", PASSWORD), maildrop=())
    assert link.client_events == [SessionClosed(True, "+OK Logging out.")]
    assert link.updates == [UpdateRequested(())]


def test_connection_dropped_after_dele_deletes_nothing() -> None:
    link = Link(Pop3Client(Pop3ClientConfig("alice", PASSWORD)))
    link.server.greet()
    while b"DELE 1" not in link.commands:
        assert link.round()
    link.round()  # the server marks message 1 and answers
    link.server.close(None)
    link.client.receive_data(b"")  # the server hung up without a word
    assert link.client.next_event() == ConnectionClosed()
    assert link.server.next_event() is NEED_DATA
    assert link.updates == []
    assert [m.uid for m in retrieved(link)] == ["uid-1"]


BODY_LINE = st.binary(max_size=120).filter(lambda b: b"\n" not in b)
MESSAGE = st.lists(st.one_of(BODY_LINE, st.sampled_from([b".", b"..", b".x", b""])), max_size=12)


@settings(max_examples=60, deadline=None)
@given(messages=st.lists(MESSAGE, min_size=1, max_size=4), delete=st.booleans())
def test_any_message_survives_the_round_trip(messages: list[list[bytes]], delete: bool) -> None:
    drop = tuple(
        MaildropEntry(f"m{n}", b"".join(line + b"\r\n" for line in lines))
        for n, lines in enumerate(messages)
    )
    link = run(Pop3ClientConfig("alice", PASSWORD, delete=delete), maildrop=drop)
    assert [m.content for m in retrieved(link)] == [entry.content for entry in drop]
    expected = tuple(entry.uid for entry in drop) if delete else ()
    assert link.updates == [UpdateRequested(expected, tuple(entry.uid for entry in drop))]
    assert link.client_events[-1].ok  # type: ignore[attr-defined]
