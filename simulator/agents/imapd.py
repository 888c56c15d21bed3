"""The MDA's IMAP service: IMAP4rev2 on port 143 and IMAPS on 993 (Dovecot's imap).

One `ImapSession` per connection drives an `ImapServer` machine with
`pump`; a login opens the user's `mailstore.Mailbox`, which IMAP sessions
share with each other and with POP3 (POP3 takes its exclusive lock, IMAP
never does -- as in Dovecot).  With the host's `tls` block set up, 143
offers STARTTLS (RFC 9051 §6.2.1) and `require_for_auth` makes it
LOGINDISABLED until then (Dovecot disable_plaintext_auth); `implicit` adds
IMAPS on 993 (RFC 8314 §3.3), where the greeting follows the handshake.

`ImapService` keeps the live sessions of every mailbox.  Whenever the
store changes -- an LMTP delivery, a POP3 UPDATE, another session's
STORE, APPEND, COPY/MOVE or EXPUNGE -- the other sessions of that mailbox
are told (`ImapServer.notify`): one in IDLE gets its ``* n EXISTS`` or
``* n EXPUNGE`` pushed at once (RFC 2177, RFC 9051 §6.3.13), which is why
IDLE brings mail in seconds where polling waits for the next check.
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import simpy

from simulator.agents.session import Patience, Wire, pump, serve
from simulator.mailstore import Mailbox
from simulator.net.connection import Endpoint
from simulator.protocols.addresses import mailbox_key
from simulator.protocols.imap import (
    IMAP_PORT,
    IMAPS_PORT,
    CredentialsReceived,
    FlagsChanged,
    ImapServer,
    ImapServerConfig,
    MessageAppended,
    MessagesExpunged,
)
from simulator.protocols.tls import TlsRequested, TlsVersion

if TYPE_CHECKING:
    from simulator.agents.mda import Mda

#: What an IMAP session did that other sessions of the mailbox must learn of.
_CHANGES = (FlagsChanged, MessageAppended, MessagesExpunged)


class ImapService:
    """The MDA's IMAP listeners, and the live sessions of each mailbox."""

    def __init__(self, mda: Mda) -> None:
        self.mda = mda
        ctx, hostname, tls = mda.ctx, mda.hostname, mda.config.tls
        self.config = ImapServerConfig(
            hostname=hostname, software=mda.config.software,
            epoch=ctx.epoch, clock=lambda: ctx.env.now,
            tls_available=tls is not None and tls.starttls,
            require_tls=tls is not None and tls.require_for_auth,
            tls_version=tls.version if tls is not None else TlsVersion.TLS1_3,
        )
        self._sessions: dict[str, list[ImapSession]] = {}
        self._watchers: dict[str, list[simpy.Event]] = {}  # see `next_change`
        listener = ctx.network.listen(hostname, IMAP_PORT, "imap")
        serve(ctx, f"imapd {hostname}:{IMAP_PORT}", listener,
              lambda endpoint: ImapSession(self, endpoint).run())
        if tls is not None and tls.implicit:
            listener = ctx.network.listen(hostname, IMAPS_PORT, "imap")
            serve(ctx, f"imapd {hostname}:{IMAPS_PORT}", listener,
                  lambda endpoint: ImapSession(self, endpoint, implicit_tls=True).run())

    def open(self, session: ImapSession, mailbox: Mailbox) -> None:
        """`session` has logged in to `mailbox`: tell it of changes from now on."""
        self._sessions.setdefault(mailbox.address, []).append(session)

    def close(self, session: ImapSession, mailbox: Mailbox) -> None:
        """`session` has ended."""
        self._sessions[mailbox.address].remove(session)

    def changed(self, mailbox: Mailbox, by: ImapSession | None = None) -> None:
        """The store of `mailbox` changed: every session but `by` catches up if idling."""
        for session in self._sessions.get(mailbox.address, ()):
            if session is not by:
                session.push()
        for watcher in self._watchers.pop(mailbox.address, ()):
            watcher.succeed()

    def next_change(self, mailbox: Mailbox) -> simpy.Event:
        """An event that fires at the next change to `mailbox` (a delivery, a removal...)."""
        watcher = simpy.Event(self.mda.ctx.env)
        self._watchers.setdefault(mailbox.address, []).append(watcher)
        return watcher


class ImapSession:
    """One IMAP conversation on the MDA's side."""

    def __init__(
        self, service: ImapService, endpoint: Endpoint, implicit_tls: bool = False
    ) -> None:
        self.service = service
        config = service.config
        if endpoint.connection.real:  # loopback counts as secure (Dovecot: a local client
            config = replace(config, require_tls=False)  # may log in in clear)
        self.server = ImapServer(config)
        self.wire = Wire(endpoint)
        self.implicit_tls = implicit_tls
        self.mailbox: Mailbox | None = None

    # -- the session ----------------------------------------------------------

    def run(self) -> Generator[simpy.events.Event, Any, None]:
        """Greet (on 993: once TLS is up), then serve commands until the client leaves."""
        tls_first = TlsRequested(self.server.config.tls_version) if self.implicit_tls else None
        self.server.greet()  # written when sent: on 993 after the handshake
        patience = Patience(self.server.timeout, self.server.timed_out)
        yield from pump(self.wire, self.server, self.on_event, patience, tls_first=tls_first)
        if self.mailbox is not None:
            self.service.close(self, self.mailbox)

    def on_event(self, event: object) -> None:
        """Decide logins; tell the mailbox's other sessions what this one changed."""
        if isinstance(event, CredentialsReceived):
            self.login(event.username, event.password)
        elif isinstance(event, _CHANGES) and self.mailbox is not None:
            self.service.changed(self.mailbox, by=self)

    def login(self, username: str, password: str) -> None:
        """Open the mailbox if the password is right; IMAP takes no lock."""
        mda = self.service.mda
        if not mda.authenticate(username, password):
            self.server.reject_login()
            return
        self.mailbox = mda.mailboxes[mailbox_key(username)]
        self.server.login(self.mailbox)
        self.service.open(self, self.mailbox)

    def push(self) -> None:
        """The mailbox changed elsewhere: an idling client is told now (RFC 2177)."""
        if self.server.idling:
            self.server.notify()
            self.wire.send(self.server.data_to_send())
