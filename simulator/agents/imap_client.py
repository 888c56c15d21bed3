"""A mail client's IMAP sessions (RFC 9051): look for new mail, download it, IDLE, APPEND.

An `ImapSession` is one connection from a client to the provider's MDA on
143 (STARTTLS when the account says so, RFC 9051 §6.2.1) or 993 (TLS
from the first byte, RFC 8314 §3.2).  It logs in, SELECTs INBOX and, when
UIDNEXT says something arrived since the client last looked, fetches
the new messages' headers and flags the way Thunderbird lists a folder
(``UID FETCH n:* (UID FLAGS RFC822.SIZE BODY.PEEK[HEADER])``), then --
when `bodies` -- the whole messages with ``BODY.PEEK[]``, which leaves
``\\Seen`` alone (§6.4.5) as Thunderbird's offline sync, Outlook and phone
apps do: downloaded is not read.  The user opens a message `reads_after`
seconds later and the client marks it ``UID STORE n +FLAGS (\\Seen)``
(§6.4.6); every other device sees the flag.  The mail stays on the server,
so every device of the user sees every message.

What comes next is decided each time the client is `Ready`: actions the
agent asked for (`wake`: STORE \\Seen on what the user read, APPEND a sent
message to Sent), then IDLE for a
long session (RFC 2177: the server pushes ``* n EXISTS`` and the client
ends IDLE with DONE and fetches at once) or LOGOUT for a short one.
The IDLE session's owner `wake`s it at least every 29 minutes
(`profiles.REIDLE_EVERY`), before the server's 30-minute autologout.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from typing import Any

import simpy

from simulator.agents.context import SimContext
from simulator.agents.reading import MailboxAccount, on_a_beat, record_fetched
from simulator.agents.session import Patience, Wire, pump
from simulator.mailstore import LocalFolder
from simulator.net.connection import ConnectError
from simulator.profiles import REIDLE_EVERY, Access, mailbox_port
from simulator.protocols.imap import client_events as ev
from simulator.protocols.imap.client import ImapClient
from simulator.protocols.imap.client_states import (
    Action,
    Append,
    Fetch,
    FetchHeaders,
    Idle,
    ImapClientConfig,
    ImapClientState,
    Logout,
    Select,
    Store,
)
from simulator.protocols.tls import ConnectionSecurity, TlsRequested
from simulator.trace import Kind
from simulator.trace_data import Note

#: How long a client waits for the server: past Dovecot's 30-minute IMAP
#: autologout (RFC 9051 §5.4), so an IDLE the client renews in time never runs out.
IMAP_CLIENT_TIMEOUT = REIDLE_EVERY + 120.0
SEEN = "\\Seen"
#: Called with each message downloaded, and whether it was already \Seen before.
OnFetched = Callable[[ev.MessageFetched, bool], None]


class ImapSession:
    """One IMAP connection of a client, from login to LOGOUT (or to the end of the run).

    `select` INBOX first; `list_new`: list what arrived since `next_uid`;
    `bodies`: download what was listed (a desktop client; a webmail's
    refresh lists only); `idle`: IDLE when there is nothing to do, else
    LOGOUT; `actions` run once the rest is done.  `on_fetched` hears of
    every message downloaded.
    """

    def __init__(
        self, ctx: SimContext, host: str, account: MailboxAccount, *, next_uid: int = 1,
        select: bool = True, list_new: bool = True, bodies: bool = True, idle: bool = False,
        on_fetched: OnFetched | None = None, actions: tuple[Action, ...] = (),
    ) -> None:
        self.ctx, self.host, self.account = ctx, host, account
        self.next_uid = next_uid  # the lowest UID this client has not listed yet
        self.list_new, self.bodies, self.idle = list_new, bodies, idle
        self.on_fetched = on_fetched
        self.headers: list[ev.HeadersFetched] = []  # of the new messages, in UID order
        self.fetched: list[ev.MessageFetched] = []
        self.over = False
        self.left: tuple[Action, ...] = ()  # the agent's actions not done when it ended
        self._pending: list[Action] = list(actions)
        self._running: tuple[Action, ...] = ()  # the agent's actions under way
        self._look = False  # new mail to list
        self._seen_before: dict[int, bool] = {}  # UID -> \Seen when listed
        self._asked: set[int] = set()  # UIDs whose bodies were asked for
        self._wire: Wire | None = None
        self.client = ImapClient(ImapClientConfig(
            username=account.address, password=account.password, mechanism=account.mechanism,
            enable_rev2=account.enable_rev2,
            use_starttls=account.security is ConnectionSecurity.STARTTLS,
            actions=(Select(),) if select else (),
        ))

    def run(self) -> Generator[simpy.events.Event, Any, None]:
        """Connect and run the session to its end (a SimPy sub-process)."""
        implicit = self.account.security is ConnectionSecurity.TLS
        port = mailbox_port(Access.IMAP, self.account.security)
        endpoint = yield from self.ctx.network.connect(self.host, self.account.mailbox_host, port)
        if isinstance(endpoint, ConnectError):
            self._note(f"cannot reach the incoming server on {port}: {endpoint.reason}")
        else:
            self._wire = Wire(endpoint)
            patience = Patience(IMAP_CLIENT_TIMEOUT, self.client.timed_out)
            yield from pump(self._wire, self.client, self._on_event, patience,
                            tls_first=TlsRequested() if implicit else None)
        self.left = (*self._running, *self._pending)
        self.over = True

    def wake(self, *actions: Action) -> None:
        """Run `actions` next: at once if idling (DONE goes now), else when the client is ready."""
        self._pending.extend(actions)
        if self.client.state in (ImapClientState.IDLE, ImapClientState.IDLING):
            self.client.stop_idle()
            if self._wire is not None:
                self._wire.send(self.client.data_to_send())

    def _on_event(self, event: object) -> None:
        if isinstance(event, ev.FolderSelected):
            self._look = self.list_new and event.exists > 0 and (
                event.uidnext is None or event.uidnext > self.next_uid)
        elif isinstance(event, ev.NewMail):
            self._look = self.list_new
            self.wake()
        elif isinstance(event, ev.HeadersFetched):
            self._listed(event)
        elif isinstance(event, ev.MessageFetched):
            self.fetched.append(event)
            if self.on_fetched is not None:
                self.on_fetched(event, self._seen_before.get(event.uid, False))
        elif isinstance(event, ev.FlagsChanged) and self.client.state is ImapClientState.IDLING:
            self._note(f"message {event.uid or event.number} is now "
                       f"({' '.join(event.flags)}): changed on another device")
        elif isinstance(event, ev.MessageAppended):
            self._note(f"a copy is saved in {event.folder}"
                       + (f" (UID {event.uid})" if event.uid is not None else ""))
        elif isinstance(event, ev.LoginFailed):
            self._note(f"login failed: {event.text}")
        elif isinstance(event, ev.NoSafeLogin):
            self._note(f"will not log in: {event.reason}")
        elif isinstance(event, ev.CommandRefused):
            self._note(f"{event.command.split(' ')[0]} refused: {event.condition} {event.text}")
        elif isinstance(event, ev.Ready):
            self._running = ()
            self._next()

    def _listed(self, header: ev.HeadersFetched) -> None:
        """A header of `FetchHeaders`; "n:*" also names the last message when none is new."""
        if header.uid < self.next_uid:
            return
        self.next_uid = header.uid + 1
        self.headers.append(header)
        self._seen_before[header.uid] = SEEN in (header.flags or ())

    def _next(self) -> None:
        """The plan is done: fetch what was listed, list what arrived, or the agent's actions."""
        fresh = tuple(h.uid for h in self.headers if h.uid not in self._asked)
        if self.bodies and fresh:
            self._asked.update(fresh)
            self.client.perform(Fetch(fresh, peek=True))
        elif self._look:
            self._look = False
            self.client.perform(FetchHeaders(self.next_uid))
        elif self._pending:
            self._running, self._pending = tuple(self._pending), []
            self.client.perform(*self._running)
        else:
            self.client.perform(Idle() if self.idle else Logout())

    def _note(self, text: str) -> None:
        note(self.ctx, self.host, self.account, text)


def note(ctx: SimContext, host: str, account: MailboxAccount, text: str) -> None:
    """A note of the client's, as it would tell its user."""
    ctx.trace.emit(Kind.NOTE, host, f"{account.client}: {text}", Note(), protocol="imap")


class ImapReader:
    """A desktop client's IMAP habits: poll on a beat, or stay in IDLE; mark read; save sent mail.

    A polling client (Outlook's Send/Receive) opens a session at start and
    every `check_every` seconds.  An IDLE client (Thunderbird's "allow
    immediate server notifications") keeps one session open and renews its
    IDLE every `check_every` seconds, at most 29 minutes (RFC 2177); if the
    session ends, it connects again after `check_every`.  The user opens
    each new message `reads_after` seconds after it was downloaded (never
    if None), and the client sets its \\Seen flag on the server.
    """

    def __init__(
        self, ctx: SimContext, host: str, account: MailboxAccount, check_every: float,
        idle: bool, inbox: LocalFolder, reads_after: float | None = None,
    ) -> None:
        self.ctx, self.host, self.account = ctx, host, account
        self.check_every = check_every
        self.reads_after = reads_after
        self.inbox = inbox
        self.next_uid = 1
        self.session: ImapSession | None = None  # the IDLE session, while it lasts
        what = "idle" if idle else "check mail"
        ctx.start(f"{account.client} {account.address}: {what}", self._stay_idle() if idle
                  else on_a_beat(ctx, check_every, self._check))

    def save_sent(self, content: bytes) -> None:
        """APPEND a sent message to Sent: in the IDLE session, or in a session of its own."""
        self._act(Append(content), "save to Sent")

    def _act(self, action: Action, what: str) -> None:
        """Run `action` in the IDLE session, or in a session of its own."""
        if self.session is not None and not self.session.over:
            self.session.wake(action)
            return
        self.ctx.start(f"{self.account.client} {self.account.address}: {what}",
                       self._alone(action))

    def _alone(self, action: Action) -> Generator[simpy.events.Event, Any, None]:
        """`action` in a session of its own; if that fails too, the user is told."""
        session = ImapSession(self.ctx, self.host, self.account, list_new=False,
                              select=isinstance(action, Store), actions=(action,))
        yield from session.run()
        for undone in session.left:
            what = (f"could not mark message {undone.uids[0]} read" if isinstance(undone, Store)
                    else "could not save a copy in Sent")
            note(self.ctx, self.host, self.account, what)

    def _retry(self, session: ImapSession) -> None:
        """What a session that ended left undone goes again, each in a session of its own."""
        for action in session.left:
            self.ctx.start(f"{self.account.client} {self.account.address}: try again",
                           self._alone(action))

    def _check(self) -> Generator[simpy.events.Event, Any, None]:
        """One polling session: list and download what is new, then LOGOUT."""
        yield from self._run(self._session(idle=False))

    def _stay_idle(self) -> Generator[simpy.events.Event, Any, None]:
        while True:
            self.session = session = self._session(idle=True)
            self.ctx.start(f"{self.account.client} {self.account.address}: renew IDLE",
                           self._renew(session))
            yield from self._run(session)
            self._retry(session)
            yield self.ctx.env.timeout(self.check_every)

    def _renew(self, session: ImapSession) -> Generator[simpy.events.Event, Any, None]:
        """End IDLE and start it again on a beat, as a client's timer does."""
        while not session.over:
            yield self.ctx.env.timeout(min(self.check_every, REIDLE_EVERY))
            if not session.over:
                session.wake()

    def _session(self, idle: bool) -> ImapSession:
        return ImapSession(self.ctx, self.host, self.account, next_uid=self.next_uid,
                           idle=idle, on_fetched=self._fetched)

    def _run(self, session: ImapSession) -> Generator[simpy.events.Event, Any, None]:
        yield from session.run()
        self.next_uid = max(self.next_uid, session.next_uid)

    def _fetched(self, message: ev.MessageFetched, seen_before: bool) -> None:
        self.inbox.append(message.content)
        record_fetched(self.ctx, self.host, self.account, str(message.uid), message.content,
                       protocol="imap", seen=seen_before)
        if not seen_before and self.reads_after is not None:
            self.ctx.start(f"{self.account.client} {self.account.address}: read",
                           self._read(message.uid, self.reads_after))

    def _read(self, uid: int, after: float) -> Generator[simpy.events.Event, Any, None]:
        """The user opens message `uid` `after` seconds from now: the client sets \\Seen."""
        yield self.ctx.env.timeout(after)
        self._act(Store((uid,)), "mark read")
