"""The MDA: a mailbox server of its own, reached over LMTP, POP3 and IMAP (like Dovecot).

The MDA listens on its host for LMTP (port 24, `agents.lmtpd`), where MTAs
hand it mail, and for POP3 (port 110) and IMAP (port 143, `agents.imapd`),
where users read it.  It keeps one
`mailstore.Mailbox` per user, with the quota the scenario gives.  Final
delivery stamps `Return-Path:` and `Delivered-To:` on top (RFC 5321 §4.4:
the final delivery records the reverse-path) and files the message in
INBOX under the next UID -- or refuses it when the mailbox is over quota:
`552 5.2.2` by default, `452 4.2.2` with Dovecot's quota_full_tempfail.
Dovecot's quota_grace (a last message may overshoot by 10%) is not
modelled: a message that does not fit is refused.

A POP3 session takes the mailbox's POP3 lock, sees INBOX, marks what RETR
sent as `\\Seen` when it ends with QUIT (Dovecot, unless
pop3_no_flag_updates) and removes what DELE marked (RFC 1939 §6).
Mailboxes are shared objects, so IMAP sessions use them at the same time;
every change a delivery or a POP3 UPDATE makes is told to them at once
(an IDLE client sees it in seconds).  With TLS set up, POP3 also offers
STLS (RFC 2595) and listens on port 995 (POP3S, RFC 8314), IMAP offers
STARTTLS and listens on 993 (IMAPS).
"""

from __future__ import annotations

import string
from collections.abc import Generator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import simpy

from simulator.agents.catchup import resume_at
from simulator.agents.context import SimContext
from simulator.agents.imapd import ImapService
from simulator.agents.lmtpd import LmtpSession
from simulator.agents.session import Patience, pump, serve
from simulator.mailstore import INBOX, SEEN, Mailbox, StoredMessage
from simulator.net.connection import Endpoint
from simulator.protocols.addresses import mailbox_key
from simulator.protocols.lmtp import LMTP_PORT, LmtpReply
from simulator.protocols.lmtp import reply as lmtp_reply
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
from simulator.protocols.smtp import Reply, SmtpReply
from simulator.protocols.tls import ServerTls, TlsRequested
from simulator.trace import Kind
from simulator.trace_data import MailDelivered, Note

#: Dovecot's POP3 autologout (RFC 1939 §3 asks for at least 10 minutes).
POP3_AUTOLOGOUT = 600.0
#: The characters of a Dovecot session id (base64 of a GUID, 22 characters).
SESSION_ID_CHARS = string.ascii_letters + string.digits + "+/"
SESSION_ID_LENGTH = 22


@dataclass(frozen=True)
class Account:
    """One user as the MDA's user database knows them."""

    password: str
    quota: int | None = None  # bytes (Dovecot quota_storage_size); None: no limit
    quota_full_tempfail: bool = False  # Dovecot: over quota is 452 4.2.2, not 552 5.2.2


@dataclass(frozen=True)
class MdaConfig:
    """What an MDA is told by its administrator."""

    hostname: str
    accounts: Mapping[str, Account]
    #: address -> mailbox address, e.g. postmaster@example.org -> alice@example.org
    aliases: Mapping[str, str] = field(default_factory=dict)
    software: str = "Dovecot"
    pop3_no_flag_updates: bool = False  # Dovecot default: RETR marks mail \Seen
    tls: ServerTls | None = None  # None: no TLS at all (no STLS, no port 995)


@dataclass(frozen=True, slots=True)
class StoredCopy:
    """The copy one LMTP transaction left in one mailbox, and the recipient it was stored for."""

    stored: StoredMessage
    recipient: str


#: The copies one transaction has stored so far, by mailbox address.
Copies = dict[str, StoredCopy]


class Mda:
    """Mailboxes of the users of one or more domains, filled over LMTP, read over POP3 and IMAP."""

    def __init__(self, ctx: SimContext, config: MdaConfig) -> None:
        self.ctx = ctx
        self.config = config
        self.hostname = config.hostname
        accounts = {mailbox_key(addr): account for addr, account in config.accounts.items()}
        self.mailboxes = {
            key: Mailbox(key, account.password, account.quota) for key, account in accounts.items()
        }
        self._tempfail = {key for key, account in accounts.items() if account.quota_full_tempfail}
        self.aliases = {
            mailbox_key(alias): mailbox_key(target) for alias, target in config.aliases.items()
        }
        self._session_ids = ctx.rng(f"lmtp-session/{config.hostname}")
        ctx.mailstores[config.hostname] = self
        self.pop3_config = Pop3ServerConfig(hostname=config.hostname, software=config.software)
        tls = config.tls
        if tls is not None:  # Dovecot ssl = yes; disable_plaintext_auth
            self.pop3_config = replace(self.pop3_config, starttls=tls.starttls,
                                       tls_version=tls.version,
                                       disable_plaintext_auth=tls.require_for_auth)
        lmtp = ctx.network.listen(config.hostname, LMTP_PORT, "lmtp")
        serve(ctx, f"lmtp {config.hostname}:{LMTP_PORT}", lmtp,
              lambda endpoint: LmtpSession(self, endpoint).run())
        pop3 = ctx.network.listen(config.hostname, POP3_PORT, "pop3")
        self._pop3d = f"pop3d {config.hostname}:{POP3_PORT}"  # the processes' name
        serve(ctx, self._pop3d, pop3,
              lambda endpoint: Pop3Session(self, endpoint).run())
        if tls is not None and tls.implicit:  # RFC 8314 §3.2: POP3 over TLS
            pop3s = ctx.network.listen(config.hostname, POP3S_PORT, "pop3")
            serve(ctx, f"pop3d {config.hostname}:{POP3S_PORT}", pop3s,
                  lambda endpoint: Pop3Session(self, endpoint, implicit_tls=True).run())
        self.imap = ImapService(self)

    def mailbox_of(self, address: str) -> Mailbox | None:
        """The mailbox mail for `address` goes to, through an alias if need be."""
        key = mailbox_key(address)
        return self.mailboxes.get(self.aliases.get(key, key))

    def pop3_session(self, endpoint: Endpoint) -> Pop3Session:
        """A POP3 session on `endpoint` (port 110), not yet started (`agents.catchup`)."""
        return Pop3Session(self, endpoint)

    def resume_pop3(self, session: Pop3Session, at: float, handed: object) -> None:
        """Play `session` from `at` on: its opening was played, the machine handed `handed`."""
        self.ctx.start(f"{self._pop3d} session", resume_at(self.ctx.env, at, session.run(handed)))

    def next_change(self, mailbox: Mailbox) -> simpy.Event:
        """An event that fires at the next change to `mailbox`, by anyone."""
        return self.imap.next_change(mailbox)

    def has_user(self, address: str) -> bool:
        """Whether mail for `address` has a mailbox to go to."""
        return self.mailbox_of(address) is not None

    def authenticate(self, address: str, password: str) -> bool:
        """Whether these credentials open a mailbox (also used for SMTP AUTH)."""
        mailbox = self.mailboxes.get(mailbox_key(address))
        return mailbox is not None and mailbox.password == password

    def new_session_id(self) -> str:
        """A Dovecot-style session id, as the LMTP "Saved" reply quotes it."""
        return "".join(self._session_ids.choice(SESSION_ID_CHARS)
                       for _ in range(SESSION_ID_LENGTH))

    def deliver(
        self, sender: str, recipient: str, content: bytes, session_id: str, copies: Copies,
        session: str | None = None,
    ) -> Reply:
        """Store a message for `recipient`; the LMTP reply that says how it went.

        `copies` holds the copies already stored in this transaction: an
        address that resolves to one of those mailboxes (in another case, or
        through an alias) gets no second copy -- Postfix's duplicate filter
        runs after alias expansion -- but still its own delivery record,
        naming the copy it shares.  `session` is the LMTP session's, so a
        refusal's note reads with the dialogue it explains.
        """
        mailbox = self.mailbox_of(recipient)
        if mailbox is None:
            return lmtp_reply(SmtpReply.USER_UNKNOWN, rcpt=recipient)
        shared = copies.get(mailbox.address)
        if shared is None:
            content = _final_delivery(content, sender, mailbox.address)
            if not mailbox.has_room_for(len(content)):
                return self._over_quota(mailbox, recipient, content, session)
            stored = mailbox.file(INBOX, content, first_header(content, "Message-ID"),
                                  self.ctx.env.now)
            shared = copies[mailbox.address] = StoredCopy(stored, recipient)
            self.imap.changed(mailbox)
            text, duplicate_of = f"delivered to mailbox {mailbox.address}", None
        else:
            text = f"already in mailbox {mailbox.address} for <{shared.recipient}>: no second copy"
            duplicate_of = shared.recipient
        self.ctx.trace.emit(
            Kind.MAIL_DELIVERED, self.hostname, text,
            MailDelivered(recipient=recipient, mailbox=mailbox.address,
                          hops=received_count(shared.stored.content),
                          uid=shared.stored.pop3_uid, queue_id=session_id,
                          duplicate_of=duplicate_of),
            message=shared.stored.message_id,
        )
        return lmtp_reply(LmtpReply.SAVED, rcpt=recipient, session_id=session_id)

    def _over_quota(
        self, mailbox: Mailbox, recipient: str, content: bytes, session: str | None
    ) -> Reply:
        """Refuse a message that does not fit (Dovecot quota plugin), and say why."""
        quota = mailbox.quota or 0
        self.ctx.trace.emit(
            Kind.NOTE, self.hostname,
            f"mailbox {mailbox.address} is full: {mailbox.used} of {quota} bytes used, "
            f"the message needs {len(content)}", Note(recipient=recipient),
            session=session, message=first_header(content, "Message-ID"),
        )
        temporary = mailbox.address in self._tempfail
        key = LmtpReply.QUOTA_EXCEEDED_TEMPORARY if temporary else LmtpReply.QUOTA_EXCEEDED
        return lmtp_reply(key, rcpt=recipient)


def _final_delivery(content: bytes, sender: str, mailbox: str) -> bytes:
    """Return-Path and Delivered-To on top (RFC 5321 §4.4)."""
    content = prepend_header(content, "Delivered-To", mailbox)
    return prepend_header(content, "Return-Path", f"<{sender}>")


class Pop3Session:
    """One POP3 conversation: authorisation, transaction, update."""

    def __init__(self, mda: Mda, endpoint: Endpoint, implicit_tls: bool = False) -> None:
        self.mda = mda
        self.endpoint = endpoint
        config = mda.pop3_config
        if endpoint.connection.real:  # loopback counts as secure (Dovecot: a local
            config = replace(config, disable_plaintext_auth=False)  # client may log in in clear)
        self.server = Pop3Server(config)
        self.tls_first = TlsRequested(config.tls_version) if implicit_tls else None
        self.mailbox: Mailbox | None = None

    def run(self, handed: object | None = None) -> Generator[simpy.events.Event, Any, None]:
        """Greet, then serve commands until the client leaves.

        `handed`: the session's opening was played already (`agents.catchup`):
        the machine has greeted, read the client's first commands and handed
        out this event, which is taken first.
        """
        if handed is None:
            self.server.greet()
        patience = Patience(POP3_AUTOLOGOUT, self.server.close)
        yield from pump(self.endpoint, self.server, self.on_event, patience,
                        tls_first=self.tls_first, handed=handed)
        self.release()

    def on_event(self, event: object) -> None:
        """Take the decisions the POP3 machine asks for."""
        if isinstance(event, CredentialsReceived):
            self.login(event.username, event.password)
        elif isinstance(event, UpdateRequested) and self.mailbox is not None:
            self.update(self.mailbox, event)

    def login(self, username: str, password: str) -> None:
        """Open the mailbox if the password is right and no POP3 session holds it."""
        if not self.mda.authenticate(username, password):
            self.server.reject_login()
            return
        mailbox = self.mda.mailboxes[mailbox_key(username)]
        if mailbox.pop3_locked:
            self.server.reject_login(in_use=True)
            return
        mailbox.pop3_locked = True
        self.mailbox = mailbox
        self.server.login([MaildropEntry(m.pop3_uid, m.content) for m in mailbox.messages])

    def update(self, mailbox: Mailbox, event: UpdateRequested) -> None:
        """The UPDATE state: mark what was read, remove what was deleted (RFC 1939 §6)."""
        by_uid = {message.pop3_uid: message for message in mailbox.messages}
        if not self.mda.config.pop3_no_flag_updates:
            for uid in event.retrieved_uids:
                if uid in by_uid:
                    by_uid[uid].flags.add(SEEN)
        mailbox.inbox.remove(by_uid[uid].uid for uid in event.deleted_uids if uid in by_uid)
        self.mda.imap.changed(mailbox)

    def release(self) -> None:
        """Unlock the mailbox at the end of the session."""
        if self.mailbox is not None:
            self.mailbox.pop3_locked = False
