"""A test harness for the IMAP server machine: bytes in, lines and events out.

The agent's part is played the simplest way: the password "secret" logs in
(to the mailbox the harness holds), any other is refused.
"""

from __future__ import annotations

from simulator.mailstore import Mailbox
from simulator.protocols.common import NEED_DATA
from simulator.protocols.imap import (
    CredentialsReceived,
    ImapServer,
    ImapServerConfig,
    ImapServerEvent,
)

PASSWORD = "secret"

LUNCH = (b"From: Bob Smith <bob@example.org>\r\nTo: alice@example.org\r\n"
         b"Subject: Lunch\r\nDate: Mon, 02 Mar 2026 09:00:00 +0000\r\n"
         b"Message-ID: <lunch@example.org>\r\n\r\nNoon at the usual place?\r\n")
REPORT = (b"From: carol@example.net\r\nTo: alice@example.org, dave@example.org\r\n"
          b"Subject: Report\r\nMessage-ID: <report@example.net>\r\n"
          b"Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n"
          b"--b1\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nSee attached.\r\n"
          b"--b1\r\nContent-Type: text/csv\r\n\r\na,b\r\n1,2\r\n--b1--\r\n")
REPLY = (b"From: Bob Smith <bob@example.org>\r\nTo: alice@example.org\r\n"
         b"Subject: Re: Lunch\r\nMessage-ID: <re-lunch@example.org>\r\n\r\nOr one?\r\n")
DAY = 24 * 3600.0


def sample_mailbox(quota: int | None = None) -> Mailbox:
    """Alice's mailbox: three messages in INBOX (UIDs 1-3), the first read."""
    mailbox = Mailbox("alice@example.org", PASSWORD, quota=quota)
    mailbox.file("INBOX", LUNCH, "<lunch@example.org>", 0.0, {"\\Seen"})
    mailbox.file("INBOX", REPORT, "<report@example.net>", 2 * DAY)
    mailbox.file("INBOX", REPLY, "<re-lunch@example.org>", 3 * DAY, {"\\Flagged"})
    return mailbox


def config(**changes: object) -> ImapServerConfig:
    """A server configuration with the store's error class and a fixed clock."""
    settings: dict[str, object] = {"clock": lambda: 5 * DAY}
    settings.update(changes)
    return ImapServerConfig("imap.example.org", **settings)  # type: ignore[arg-type]


class Harness:
    """One server session on `mailbox`, driven a chunk of bytes at a time."""

    def __init__(self, mailbox: Mailbox | None = None, **changes: object) -> None:
        self.mailbox = mailbox if mailbox is not None else sample_mailbox()
        self.server = ImapServer(config(**changes))
        self.events: list[ImapServerEvent] = []
        self.server.greet()
        self.greeting = self.server.data_to_send()

    def send(self, data: bytes) -> bytes:
        """Feed `data`, play the agent, return what the server answered."""
        self.server.receive_data(data)
        self.pump()
        return self.server.data_to_send()

    def pump(self) -> None:
        """Take every event, answering credentials."""
        while (event := self.server.next_event()) is not NEED_DATA:
            self.events.append(event)
            if isinstance(event, CredentialsReceived):
                if event.password == PASSWORD:
                    self.server.login(self.mailbox)
                else:
                    self.server.reject_login()

    def lines(self, data: bytes) -> list[str]:
        """`send()`, as text lines without their CRLF."""
        return self.send(data).decode("utf-8").split("\r\n")[:-1]

    def login(self) -> Harness:
        """Log in as alice."""
        assert self.send(b"L LOGIN alice secret\r\n").startswith(b"L OK")
        return self

    def select(self, folder: str = "INBOX", enable_rev2: bool = False) -> Harness:
        """Log in and select `folder`."""
        self.login()
        if enable_rev2:
            self.send(b"E ENABLE IMAP4rev2\r\n")
        assert self.send(f"S SELECT {folder}\r\n".encode()).endswith(b"Select completed\r\n")
        self.events.clear()
        return self
