"""A mail client checking its mailbox over POP3 (RFC 1939) on a fixed beat.

Every `check_every` seconds the client opens one POP3 session -- in clear
on 110, after STLS (RFC 2595), or over TLS from the first byte on 995
(RFC 8314) as the account says -- downloads what it has not seen (by
UIDL, RFC 1939 §7) and deletes it, unless the user keeps mail on the
server ("leave a copy on the server").  What one device deleted, no other
device of the user will ever see: the lesson of POP3 next to IMAP.

At session fidelity a check whose last run found nothing, when neither
the mailbox nor the network has changed since it began, would go the
same way again: it is not played, and the client sleeps until the mailbox
or the network changes (an ISP's day is mostly such checks).  A client
that shares its mailbox with another POP3 client plays every check: the
two contend for the mailbox's lock.  Mail that lands while the
login of a skipped check is still to come is fetched by that check,
caught up (`agents.catchup`), as dialogue fidelity fetches it.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import simpy

from simulator.agents.catchup import play_opening
from simulator.agents.context import SimContext
from simulator.agents.reading import Asleep, MailboxAccount, on_a_beat, record_fetched
from simulator.agents.session import Patience, pump
from simulator.fidelity import Fidelity
from simulator.mailstore import LocalFolder, Mailbox
from simulator.net.connection import ConnectError
from simulator.profiles import Access, mailbox_port
from simulator.protocols.addresses import mailbox_key
from simulator.protocols.pop3 import (
    POP3_PORT,
    LoginFailed,
    MessageRetrieved,
    Pop3Client,
    Pop3ClientConfig,
    SessionClosed,
)
from simulator.protocols.tls import ConnectionSecurity, TlsRequested
from simulator.trace import Kind
from simulator.trace_data import Note

#: Modelling assumption: how long the mail client waits for the POP3 server.
POP3_CLIENT_TIMEOUT = 300.0


class Pop3Reader:
    """Checks one account over POP3 every `check_every` seconds."""

    def __init__(
        self, ctx: SimContext, host: str, account: MailboxAccount, check_every: float,
        keep_on_server: bool, inbox: LocalFolder,
    ) -> None:
        self.ctx, self.host, self.account = ctx, host, account
        self.check_every = check_every
        self.keep_on_server = keep_on_server
        self.inbox = inbox
        self._known_uids: set[str] = set()  # downloaded and, as far as we know, still there
        self._fetched: set[str] = set()  # downloaded in the session under way
        # session fidelity: what the last check that found nothing started from
        self._quiet_from: tuple[object, ...] | None = None
        self._eventful = self._closed_ok = False  # what the check under way has seen
        self._reading = (account.mailbox_host, mailbox_key(account.address))
        ctx.pop3_readers[self._reading] += 1
        # The simulator's POP3 client has always first checked one period in;
        # every bundled scenario's trace and lesson counts on it.
        ctx.start(f"{account.client} {account.address}: check mail",
                  on_a_beat(ctx, check_every, self.check_mail, first_after=check_every))

    def check_mail(self) -> Generator[simpy.events.Event, Any, Asleep | None]:
        """One POP3 session: download new messages (a SimPy sub-process).

        At session fidelity a check that would go as the last one, which
        found nothing, is not played: the client sleeps until the mailbox
        changes (`Asleep`), and catches up with the check it skipped last if
        that check's login would have seen the change.
        """
        mailbox = self._watched_mailbox()
        start = None if mailbox is None else self._starting_point(mailbox)
        if mailbox is not None and start == self._quiet_from:
            store, env = self.ctx.mailstores[self.account.mailbox_host], self.ctx.env
            change = simpy.AnyOf(env, [store.next_change(mailbox),
                                       self.ctx.network.next_route_change()])
            return Asleep(change, self._catch_up)
        self._eventful = self._closed_ok = False
        yield from self._session()
        self._quiet_from = start if not self._eventful else self._quiet_now(mailbox)
        return None

    def _quiet_now(self, mailbox: Mailbox | None) -> tuple[object, ...] | None:
        """After a check that downloaded mail: where a check would now find nothing, if it would.

        It would if this one ended well and every message left in INBOX is
        one the client has (Dovecot's UIDL, RFC 1939 §7): then the next
        check need not be played while the mailbox stays so.
        """
        if mailbox is None or not self._closed_ok:
            return None
        if any(message.pop3_uid not in self._known_uids for message in mailbox.messages):
            return None
        return self._starting_point(mailbox)

    def _catch_up(self, skipped_at: float) -> Generator[simpy.events.Event, Any, None]:
        """Play the check skipped at `skipped_at` if its login is yet to come (`agents.catchup`)."""
        network, host = self.ctx.network, self.account.mailbox_host
        conn = network.opened(self.host, host, POP3_PORT)
        session = self.ctx.mailstores[host].pop3_session(conn.server)
        session.server.greet()
        client = self._client()
        opening = play_opening(network, conn, skipped_at, client, session.server)
        if opening is None or opening.first_event_at <= self.ctx.env.now:
            return  # it read the mailbox before the change: it found nothing, as skipped
        conn.landed(opening.client_last, opening.server_last)
        self.ctx.mailstores[host].resume_pop3(session, opening.first_event_at, opening.event)
        self._eventful = self._closed_ok = False
        yield from pump(conn.client, client, self._on_event,
                        Patience(POP3_CLIENT_TIMEOUT, client.timed_out))
        if self._eventful:
            self._quiet_from = self._quiet_now(self._watched_mailbox())

    def _watched_mailbox(self) -> Mailbox | None:
        """At session fidelity, the mailbox this client reads (None at dialogue fidelity)."""
        if self.ctx.fidelity is not Fidelity.SESSION:
            return None
        if self.account.security is not ConnectionSecurity.NONE:
            return None  # a TLS opening is not played on a virtual clock: play every check
        if self.ctx.pop3_readers[self._reading] > 1:
            return None  # another POP3 client contends for the lock: play every check
        store = self.ctx.mailstores.get(self.account.mailbox_host)
        return store.mailbox_of(self.account.address) if store is not None else None

    def _starting_point(self, mailbox: Mailbox) -> tuple[object, ...]:
        """All a check's course depends on that can change during a run.

        The mailbox's INBOX (new or removed messages), its POP3 lock, and
        the routes; the account and the servers stay as they are.
        """
        inbox = mailbox.inbox
        return (inbox.uidvalidity, inbox.uidnext, len(inbox.messages), mailbox.pop3_locked,
                self.ctx.network.topology.generation)

    def _session(self) -> Generator[simpy.events.Event, Any, None]:
        account = self.account
        implicit = account.security is ConnectionSecurity.TLS
        port = mailbox_port(Access.POP3, account.security)
        endpoint = yield from self.ctx.network.connect(self.host, account.mailbox_host, port)
        if isinstance(endpoint, ConnectError):
            self._eventful = True
            self._note(f"cannot reach the incoming server on {port}: {endpoint.reason}")
            return
        client = self._client()
        patience = Patience(POP3_CLIENT_TIMEOUT, client.timed_out)
        tls_first = TlsRequested() if implicit else None
        yield from pump(endpoint, client, self._on_event, patience, tls_first=tls_first)

    def _client(self) -> Pop3Client:
        """The POP3 client machine of one check."""
        account = self.account
        self._fetched = set()
        return Pop3Client(Pop3ClientConfig(
            username=account.address, password=account.password,
            delete=not self.keep_on_server, known_uids=frozenset(self._known_uids),
            starttls=account.security is ConnectionSecurity.STARTTLS,
        ))

    def _on_event(self, event: object) -> None:
        if isinstance(event, SessionClosed) and event.ok:
            self._closed_ok = True
            if not self.keep_on_server:
                # QUIT's +OK: the server has removed what this session deleted (RFC 1939
                # §6), and a UID is never given again (§7): no need to remember them.
                self._known_uids -= self._fetched
        else:
            self._eventful = True  # a download, a refusal, a break
        if isinstance(event, MessageRetrieved):
            self.inbox.append(event.content)
            self._known_uids.add(event.uid)
            self._fetched.add(event.uid)
            record_fetched(self.ctx, self.host, self.account, event.uid, event.content,
                           protocol="pop3")
        elif isinstance(event, LoginFailed):
            self._note(f"login failed: {event.text}")

    def _note(self, text: str) -> None:
        self.ctx.trace.emit(Kind.NOTE, self.host, f"{self.account.client}: {text}", Note(),
                            protocol="pop3")
