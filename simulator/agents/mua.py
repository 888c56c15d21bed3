"""The MUA: a user's mail program on one of their devices (Thunderbird, Outlook, ...).

It writes messages from the scenario's traffic and submits them to the
provider's MTA (`agents.submission`, shared with webmail), and reads the
mailbox as its profile says (`simulator.profiles`): over POP3 on a beat,
downloading and usually deleting (`agents.pop3_client`), or over IMAP,
polling or waiting in IDLE, with each sent message saved to the server's
Sent folder by APPEND (`agents.imap_client`).
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass
from typing import Any

import simpy

from simulator.agents.context import SimContext
from simulator.agents.imap_client import ImapReader
from simulator.agents.pop3_client import Pop3Reader
from simulator.agents.reading import MailboxAccount
from simulator.agents.submission import Account, Outbox, Unsent
from simulator.mailstore import LocalFolder
from simulator.profiles import DEFAULT_CLIENT, Access
from simulator.protocols.imap.client_states import Mechanism
from simulator.protocols.message import Draft
from simulator.protocols.tls import ConnectionSecurity

__all__ = ["Mua", "MuaConfig", "Unsent"]


@dataclass(frozen=True)
class MuaConfig:
    """A user's mail account settings, as typed into the client on one device."""

    address: str
    password: str
    submission_host: str  # the provider's MTA (outgoing server, port 587)
    mailbox_host: str  # the provider's MDA (incoming server)
    client: str = DEFAULT_CLIENT
    check_every: float = 300.0
    keep_on_server: bool = False
    submission_security: ConnectionSecurity = ConnectionSecurity.NONE  # 587, or 465 with TLS
    mailbox_security: ConnectionSecurity = ConnectionSecurity.NONE  # 110/143, or 995/993
    access: Access = Access.POP3
    idle: bool = False  # IMAP IDLE (RFC 2177)
    save_sent: bool = False  # IMAP APPEND of each sent message to Sent
    reads_after: float | None = None  # IMAP: the user opens new mail this long after download
    imap_login: Mechanism = Mechanism.LOGIN
    enable_rev2: bool = True  # IMAP: ENABLE IMAP4rev2 when offered
    ids: str = ""  # the Message-ID stream; default "message-id/<address>"

    @property
    def account(self) -> Account:
        """The outgoing half of the account."""
        return Account(self.address, self.password, self.submission_host, self.client,
                       self.submission_security)

    @property
    def mailbox(self) -> MailboxAccount:
        """The incoming half of the account."""
        return MailboxAccount(self.address, self.password, self.mailbox_host, self.client,
                              self.mailbox_security, self.imap_login, self.enable_rev2)


class Mua:
    """One user's mail client on one host."""

    def __init__(self, ctx: SimContext, host: str, config: MuaConfig) -> None:
        self.ctx = ctx
        self.host = host
        self.config = config
        self.inbox = LocalFolder(ctx.disk)  # what this client has downloaded, on disk
        # One name and one bound method for all the sends: a scenario may have many.
        self._sending, self._send_draft = f"{config.client} {config.address}: send", self._send
        ids = config.ids or f"message-id/{config.address}"
        self.sender = Outbox(ctx, host, config.account, ids)
        self.reader: Pop3Reader | ImapReader
        if config.access is Access.POP3:
            self.reader = Pop3Reader(ctx, host, config.mailbox, config.check_every,
                                     config.keep_on_server, self.inbox)
        else:
            self.reader = ImapReader(ctx, host, config.mailbox, config.check_every,
                                     config.idle, self.inbox, config.reads_after)

    @property
    def outbox(self) -> list[Unsent]:
        """What the client has not handed over yet."""
        return self.sender.items

    def send_at(self, at: float, draft: Draft) -> None:
        """Have the user write and send `draft` at simulated time `at`.

        Until then the draft waits on a timer (`SimContext.start_at`), not
        in a process of its own: a scenario's traffic is all known at the start.
        """
        self.ctx.start_at(at, self._sending, self._send_draft, draft)

    def report_remaining(self) -> None:
        """Record every message still in the Outbox (end of the run)."""
        self.sender.report_remaining()

    def _send(self, draft: Draft) -> Generator[simpy.events.Event, Any, None]:
        sent = yield from self.sender.submit(draft)
        if sent.accepted and self.config.save_sent and isinstance(self.reader, ImapReader):
            self.reader.save_sent(sent.content)
