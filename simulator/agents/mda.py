"""The MDA: mailboxes, final delivery, and the POP3 service (like Dovecot).

The MTA hands each accepted message for a local user to `Mda.deliver`,
which stamps `Return-Path:` and `Delivered-To:` on top (RFC 5321 §4.4:
the final delivery records the reverse-path) and appends it to the user's
`Mailbox`.  Users read their mail over POP3 on port 110 (STLS, and POP3S
on port 995, when TLS is set up); a mailbox is locked
while a POP3 session has it open, and deletions only happen when the
session ends with QUIT (RFC 1939 §6).
"""

from __future__ import annotations

from collections.abc import Generator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import simpy

from simulator.agents.context import SimContext
from simulator.agents.session import Patience, pump, serve
from simulator.net.connection import Endpoint
from simulator.protocols.addresses import mailbox_key
from simulator.protocols.message import first_header, prepend_header, received_count
from simulator.protocols.pop3 import (
    POP3_PORT,
    POP3S_PORT,
    CredentialsReceived,
    MaildropEntry,
    Pop3Server,
    Pop3ServerConfig,
    UpdateRequested,
)
from simulator.protocols.tls import ServerTls, TlsRequested
from simulator.trace import Kind
from simulator.trace_data import MailDelivered

#: Dovecot's POP3 autologout (RFC 1939 §3 asks for at least 10 minutes).
POP3_AUTOLOGOUT = 600.0


@dataclass(slots=True)
class StoredMessage:
    """A message at rest in a mailbox, with its POP3 unique-id."""

    uid: str
    content: bytes
    message_id: str | None


@dataclass(frozen=True, slots=True)
class StoredCopy:
    """The copy a queue entry left in one mailbox, and the recipient it was stored for."""

    stored: StoredMessage
    recipient: str


#: The copies one queue entry has stored so far, by mailbox address.
Copies = dict[str, StoredCopy]


@dataclass
class Mailbox:
    """One user's mailbox: an account and the messages it holds."""

    address: str
    password: str
    messages: list[StoredMessage] = field(default_factory=list)
    locked: bool = False
    next_uid: int = 1

    def add(self, content: bytes, message_id: str | None) -> StoredMessage:
        """Store a message under a fresh, never reused unique-id."""
        stored = StoredMessage(f"{self.next_uid:08x}", content, message_id)
        self.next_uid += 1
        self.messages.append(stored)
        return stored

    def remove(self, uids: tuple[str, ...]) -> None:
        """Delete the messages with these unique-ids."""
        self.messages = [m for m in self.messages if m.uid not in uids]


class Mda:
    """Mailboxes of the users of one or more domains, served over POP3."""

    def __init__(
        self, ctx: SimContext, hostname: str, accounts: Mapping[str, str],
        aliases: Mapping[str, str] | None = None, software: str = "Dovecot",
        tls: ServerTls | None = None,
    ) -> None:
        self.ctx = ctx
        self.hostname = hostname
        self.mailboxes = {
            mailbox_key(addr): Mailbox(mailbox_key(addr), pw) for addr, pw in accounts.items()
        }
        #: address -> mailbox address, e.g. postmaster@example.org -> alice@example.org
        self.aliases = {
            mailbox_key(alias): mailbox_key(target) for alias, target in (aliases or {}).items()
        }
        self.pop3_config = Pop3ServerConfig(hostname=hostname, software=software)
        if tls is not None:  # Dovecot ssl = yes; disable_plaintext_auth
            self.pop3_config = replace(self.pop3_config, starttls=tls.starttls,
                                       tls_version=tls.version,
                                       disable_plaintext_auth=tls.require_for_auth)
        listener = ctx.network.listen(hostname, POP3_PORT, "pop3")
        serve(ctx, f"pop3d {hostname}:{POP3_PORT}", listener,
              lambda endpoint: Pop3Session(self, endpoint).run())
        if tls is not None and tls.implicit:  # RFC 8314 §3.2: POP3 over TLS
            pop3s = ctx.network.listen(hostname, POP3S_PORT, "pop3")
            serve(ctx, f"pop3d {hostname}:{POP3S_PORT}", pop3s,
                  lambda endpoint: Pop3Session(self, endpoint, implicit_tls=True).run())

    def mailbox_of(self, address: str) -> Mailbox | None:
        """The mailbox mail for `address` goes to, through an alias if need be."""
        key = mailbox_key(address)
        return self.mailboxes.get(self.aliases.get(key, key))

    def has_user(self, address: str) -> bool:
        """Whether mail for `address` has a mailbox to go to."""
        return self.mailbox_of(address) is not None

    def authenticate(self, address: str, password: str) -> bool:
        """Whether these credentials open a mailbox (also used for SMTP AUTH)."""
        mailbox = self.mailboxes.get(mailbox_key(address))
        return mailbox is not None and mailbox.password == password

    def deliver(
        self, sender: str, recipient: str, content: bytes, queue_id: str,
        copies: Copies | None = None,
    ) -> bool:
        """Store a message for `recipient`; False when there is no such user.

        `queue_id` is the MTA's id for the message, as in its log line.
        `copies` holds the copies already stored from the same queue entry:
        an address that resolves to one of those mailboxes (in another case,
        or through an alias) gets no second copy -- Postfix's duplicate
        filter runs after alias expansion -- but still its own delivery
        record, naming the copy it shares.
        """
        mailbox = self.mailbox_of(recipient)
        if mailbox is None:
            return False
        shared = None if copies is None else copies.get(mailbox.address)
        if shared is None:
            shared = StoredCopy(self._store(mailbox, sender, content), recipient)
            if copies is not None:
                copies[mailbox.address] = shared
            text, duplicate_of = f"delivered to mailbox {mailbox.address}", None
        else:
            text = f"already in mailbox {mailbox.address} for <{shared.recipient}>: no second copy"
            duplicate_of = shared.recipient
        self.ctx.trace.emit(
            Kind.MAIL_DELIVERED, self.hostname, text,
            MailDelivered(recipient=recipient, mailbox=mailbox.address,
                          hops=received_count(content), uid=shared.stored.uid,
                          queue_id=queue_id, duplicate_of=duplicate_of),
            message=shared.stored.message_id,
        )
        return True

    def _store(self, mailbox: Mailbox, sender: str, content: bytes) -> StoredMessage:
        """Final delivery: Return-Path and Delivered-To on top (RFC 5321 §4.4), then file it."""
        content = prepend_header(content, "Delivered-To", mailbox.address)
        content = prepend_header(content, "Return-Path", f"<{sender}>")
        return mailbox.add(content, first_header(content, "Message-ID"))


class Pop3Session:
    """One POP3 conversation: authorisation, transaction, update."""

    def __init__(self, mda: Mda, endpoint: Endpoint, implicit_tls: bool = False) -> None:
        self.mda = mda
        self.endpoint = endpoint
        config = mda.pop3_config
        if endpoint.connection.real:  # a real client's TLS would be real: no STLS, and
            # loopback counts as secure (Dovecot: a local client may log in in clear)
            config = replace(config, starttls=False, disable_plaintext_auth=False)
        self.server = Pop3Server(config)
        self.tls_first = TlsRequested(config.tls_version) if implicit_tls else None
        self.mailbox: Mailbox | None = None

    def run(self) -> Generator[simpy.events.Event, Any, None]:
        """Greet, then serve commands until the client leaves."""
        self.server.greet()
        patience = Patience(POP3_AUTOLOGOUT, self.server.close)
        yield from pump(self.endpoint, self.server, self.on_event, patience,
                        tls_first=self.tls_first)
        self.release()

    def on_event(self, event: object) -> None:
        """Take the decisions the POP3 machine asks for."""
        if isinstance(event, CredentialsReceived):
            self.login(event.username, event.password)
        elif isinstance(event, UpdateRequested) and self.mailbox is not None:
            self.mailbox.remove(event.deleted_uids)

    def login(self, username: str, password: str) -> None:
        """Open the mailbox if the password is right and nobody holds it."""
        if not self.mda.authenticate(username, password):
            self.server.reject_login()
            return
        mailbox = self.mda.mailboxes[mailbox_key(username)]
        if mailbox.locked:
            self.server.reject_login(in_use=True)
            return
        mailbox.locked = True
        self.mailbox = mailbox
        self.server.login([MaildropEntry(m.uid, m.content) for m in mailbox.messages])

    def release(self) -> None:
        """Unlock the mailbox at the end of the session."""
        if self.mailbox is not None:
            self.mailbox.locked = False
