"""The commands that need the connection rather than the mailbox (RFC 9051
§6.1-6.2, §6.3.1, §6.3.13): CAPABILITY, NOOP, LOGOUT, STARTTLS, LOGIN,
AUTHENTICATE PLAIN (with SASL-IR, RFC 4959), ENABLE and IDLE.

`ConnectionCommands` is the base of `ImapServer`: it names what it uses of
the engine (as `protocols.common.ClientEnding` does), and the engine
defines it.  Logins are the agent's decision: LOGIN and AUTHENTICATE end in
a `CredentialsReceived` event and wait for `login()` or `reject_login()`.
"""

from __future__ import annotations

from simulator.protocols.common import CRLF, LineBuffer
from simulator.protocols.imap.events import (
    CredentialsReceived,
    IdleEnded,
    IdleStarted,
    LoggedOut,
)
from simulator.protocols.imap.replies import CommandFailed, ImapReply
from simulator.protocols.imap.session import (
    Completion,
    ImapServerConfig,
    Session,
    bad,
    done,
    mailbox_name,
)
from simulator.protocols.imap.states import Command, ImapState
from simulator.protocols.imap.wire import Atom, String, Token
from simulator.protocols.sasl import MECHANISM, Base64Error, decode_plain, may_act_as
from simulator.protocols.tls import TlsRequested, TlsVersion


class ConnectionCommands:
    """CAPABILITY, NOOP, LOGOUT, STARTTLS, LOGIN, AUTHENTICATE, ENABLE, IDLE."""

    config: ImapServerConfig
    state: ImapState
    session: Session
    username: str | None
    tls: TlsVersion | None
    _tls_wait: bool
    _lines: LineBuffer
    _bad_commands: int
    _pending: tuple[str, Command] | None
    _sasl_tag: str | None
    _idle_tag: str | None

    def _send(self, reply: ImapReply, tag: str = "*", **fields: object) -> None:
        raise NotImplementedError

    def _capabilities(self, after_login: bool = False) -> str:
        raise NotImplementedError

    def _finish(self, tag: str, command: Command, outcome: Completion | CommandFailed) -> None:
        raise NotImplementedError


    def tls_established(self, version: TlsVersion) -> None:
        """The handshake is over (after STARTTLS, or first thing on port 993):
        the session starts over.

        Whatever the client sent in clear after STARTTLS is thrown away
        (RFC 9051 §6.2.1; the command injection of CVE-2011-0411).
        """
        if self.tls is not None:
            raise RuntimeError("tls_established() twice: TLS is already established")
        self._tls_wait = False
        self.tls = version
        self._lines = LineBuffer(self.config.max_line_length)
        self._bad_commands = 0

    def _capability(self, session: Session, tag: str, args: list[Token]) -> Completion:
        session.send(b"* CAPABILITY " + self._capabilities().encode("ascii") + CRLF)
        if self.state is ImapState.NOT_AUTHENTICATED:
            return done(ImapReply.CAPABILITY_PRE_LOGIN)
        return done(ImapReply.CAPABILITY_DONE)

    def _noop(self, session: Session, tag: str, args: list[Token]) -> Completion:
        return done(ImapReply.NOOP_DONE)  # the sync after every command does the work

    def _logout(self, session: Session, tag: str, args: list[Token]) -> Completion:
        self._send(ImapReply.BYE_LOGOUT)  # RFC 9051 §6.1.3: BYE, then the tagged OK
        session.events.append(LoggedOut())
        return done(ImapReply.LOGOUT_DONE)

    def _starttls(self, session: Session, tag: str, args: list[Token]) -> Completion:
        if self.tls is not None:
            raise CommandFailed(ImapReply.TLS_ACTIVE)
        if not self.config.tls_available:
            raise CommandFailed(ImapReply.TLS_UNAVAILABLE)
        self._tls_wait = True
        session.events.append(TlsRequested(self.config.tls_version))
        return done(ImapReply.STARTTLS_BEGIN)

    def _login(self, session: Session, tag: str, args: list[Token]) -> None:
        if len(args) != 2 or not all(isinstance(a, Atom | String) for a in args):
            raise bad()
        if self.config.require_tls and self.tls is None:
            self._send(ImapReply.PASSWORD_EXPOSED)  # as Dovecot does: the password went in clear
            raise CommandFailed(ImapReply.PRIVACY_REQUIRED)  # RFC 9051 §6.2.3 LOGINDISABLED
        username, password = mailbox_name(args[0]), mailbox_name(args[1])
        self._ask(tag, Command.LOGIN, CredentialsReceived(username, password))

    def _authenticate(self, session: Session, tag: str, args: list[Token]) -> None:
        if not 1 <= len(args) <= 2 or not isinstance(args[0], Atom):
            raise bad()
        if args[0].upper() != MECHANISM:
            raise CommandFailed(ImapReply.AUTH_MECHANISM)
        if self.config.require_tls and self.tls is None:
            if len(args) == 2:  # SASL-IR: the password came with the command
                self._send(ImapReply.PASSWORD_EXPOSED)
            raise CommandFailed(ImapReply.PRIVACY_REQUIRED)
        if len(args) == 2:  # RFC 9051 §6.2.2 and RFC 4959: SASL-IR
            self._sasl_response(tag, mailbox_name(args[1]))
            return
        self._sasl_tag = tag
        self._send(ImapReply.CONTINUE_SASL)

    def _sasl_line(self, content: bytes) -> None:
        tag, self._sasl_tag = self._sasl_tag or "*", None
        self._sasl_response(tag, content.decode("ascii", "replace").strip())

    def _sasl_response(self, tag: str, text: str) -> None:
        """The client's PLAIN message (RFC 4616): credentials for the agent, or a refusal."""
        if text == "*":
            self._finish(tag, Command.AUTHENTICATE, CommandFailed(ImapReply.AUTH_ABORTED))
            return
        try:
            credentials = decode_plain(text)
        except Base64Error:
            self._finish(tag, Command.AUTHENTICATE, CommandFailed(ImapReply.AUTH_BAD_BASE64))
            return
        if credentials is None or not may_act_as(credentials, self.config.sasl_act_as):
            self._finish(tag, Command.AUTHENTICATE, CommandFailed(ImapReply.AUTH_FAILED))
            return
        event = CredentialsReceived(credentials.username, credentials.password,
                                    credentials.authzid)
        self._ask(tag, Command.AUTHENTICATE, event)

    def _ask(self, tag: str, command: Command, event: CredentialsReceived) -> None:
        self._pending = (tag, command)
        self.username = event.authzid or event.username
        self.session.events.append(event)

    def _enable(self, session: Session, tag: str, args: list[Token]) -> Completion:
        if not args:
            raise bad()
        if self.state is ImapState.NOT_AUTHENTICATED:
            session.send(b"* ENABLED\r\n")
            return done(ImapReply.ENABLE_IGNORED)
        enabled = b""
        for arg in args:
            if isinstance(arg, Atom) and arg.upper() == "IMAP4REV2" and not session.rev2:
                session.rev2 = True
                enabled += b" IMAP4rev2"
        session.send(b"* ENABLED" + enabled + CRLF)  # RFC 9051 §6.3.1: only what is new
        return done(ImapReply.ENABLE_DONE)

    def _idle(self, session: Session, tag: str, args: list[Token]) -> None:
        if args:
            raise bad()
        self._send(ImapReply.IDLING)
        self._idle_tag = tag
        view = session.view
        session.events.append(IdleStarted(view.folder.name if view else None))
        session.sync(expunge_allowed=True)

    def _idle_line(self, content: bytes) -> None:
        tag, self._idle_tag = self._idle_tag or "*", None
        self.session.events.append(IdleEnded())
        if content.strip().upper() == b"DONE":
            self._finish(tag, Command.IDLE, done(ImapReply.IDLE_DONE))
        else:
            self._finish(tag, Command.IDLE, CommandFailed(ImapReply.IDLE_NOT_DONE))


