"""Webmail: the MUA on the provider's web server, serving the user's browser over HTTPS.

Roundcube, SquirrelMail, SOGo (and, as a model, Gmail's web front end) run
on a web server in the provider's network.  The browser talks HTTPS to it
(port 443, TLS from the first byte, RFC 9110 §4.2.2): every click or
automatic refresh is one HTTP request and its response.  For each request
the webmail opens a fresh IMAP connection to the provider's MDA -- as
Roundcube and SquirrelMail do, keeping no IMAP session between requests --
logs in with the user's password, does what the page needs and logs out:

- ``GET /?_task=mail&_action=refresh``: list the messages that arrived
  since the last refresh (UIDs, senders, subjects, sizes);
- ``GET /?_task=mail&_action=show&_uid=N``: FETCH BODY[] -- the user reads
  it, the server marks it \\Seen, and `mail.fetched` is recorded here;
- ``POST /?_task=mail&_action=send``: write the message, submit it on the
  provider's network (`agents.submission`, as a desktop client does), then
  APPEND a copy to Sent.

The IMAP and submission sessions stay on the provider's network, in clear
unless the profile says otherwise (Roundcube's sample configuration talks
to ``localhost:143``); only the browser's HTTPS crosses the Internet, and an
eavesdropper on the user's Wi-Fi sees its sizes and times, never a line.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Generator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import simpy

from simulator.agents.context import SimContext
from simulator.agents.imap_client import ImapSession
from simulator.agents.mua import MuaConfig
from simulator.agents.reader import Reader
from simulator.agents.reading import record_fetched
from simulator.agents.session import Wire, serve
from simulator.agents.submission import Outbox
from simulator.agents.tls import handshake
from simulator.net.connection import EOF_MARK, Endpoint
from simulator.protocols import http
from simulator.protocols.imap import client_events as ev
from simulator.protocols.imap.client_states import Append, Fetch
from simulator.protocols.message import Draft, first_header
from simulator.protocols.tls import TlsVersion

#: nginx keepalive_timeout: an idle HTTPS connection is closed after 75 s.
KEEPALIVE_TIMEOUT = 75.0
#: The cookie naming the user's webmail session (Roundcube's is roundcube_sessid).
SESSION_COOKIE = "roundcube_sessid"
JSON = ("Content-Type", "application/json; charset=UTF-8")
HTML = ("Content-Type", "text/html; charset=UTF-8")


@dataclass(frozen=True)
class WebmailConfig:
    """A web server's webmail: its name and the TLS version of its HTTPS."""

    hostname: str
    version: TlsVersion = TlsVersion.TLS1_3


class WebmailAccount:
    """What the webmail keeps for one user: how to reach their mail, what it is sending."""

    def __init__(self, ctx: SimContext, host: str, config: MuaConfig) -> None:
        self.config = config
        self.outbox = Outbox(ctx, host, config.account, f"message-id/{config.address}")
        self.reported = False  # its Outbox reported at the end of the run


class BrowserSession:
    """One signed-in browser (its cookie): whose mail, and how far its page has listed."""

    def __init__(self, account: WebmailAccount) -> None:
        self.account = account
        self.next_uid = 1  # the lowest UID this page has not listed yet


#: A response, and what to do once it has gone out (move the page's listing on).
Answer = tuple[http.HttpMessage, Callable[[], None] | None]


class Webmail:
    """The webmail on one web server: HTTPS on 443 for the browsers of its users."""

    def __init__(self, ctx: SimContext, config: WebmailConfig) -> None:
        self.ctx = ctx
        self.config = config
        self.host = config.hostname
        self.accounts: dict[str, WebmailAccount] = {}
        self._sessions: dict[str, BrowserSession] = {}  # by cookie value
        self._cookies = ctx.rng(f"webmail-session/{self.host}")  # one stream for every sign-in
        listener = ctx.network.listen(self.host, http.HTTPS_PORT, "https")
        serve(ctx, f"https {self.host}:{http.HTTPS_PORT}", listener, self._connection)

    def sign_in(self, config: MuaConfig) -> str:
        """The user has logged in (before the run): the cookie value of their session."""
        if config.address not in self.accounts:
            self.accounts[config.address] = WebmailAccount(self.ctx, self.host, config)
        cookie = f"{self._cookies.getrandbits(96):024x}"
        self._sessions[cookie] = BrowserSession(self.accounts[config.address])
        return cookie

    def report_remaining(self, address: str) -> None:
        """Record, once, what the webmail could not hand over (end of the run).

        Roundcube keeps no Outbox: a message its SMTP server did not take is
        an error shown in the user's page, and the message is not kept.
        """
        account = self.accounts[address]
        if not account.reported:
            account.reported = True
            account.outbox.report_remaining(
                f"{account.config.client}: not sent, the page showed an error")

    def _connection(self, endpoint: Endpoint) -> Generator[simpy.events.Event, Any, None]:
        """One HTTPS connection: the handshake, then requests and responses in turn."""
        wire, patience = Wire(endpoint), Reader(endpoint, KEEPALIVE_TIMEOUT)
        outcome = yield from handshake(wire, patience, self.config.version, True)
        reader = http.MessageReader()
        while isinstance(outcome, TlsVersion):
            data = yield from patience.read()
            if data is None or data == EOF_MARK:
                break
            reader.feed(data)
            try:
                while (request := reader.next_message()) is not None:
                    answer, sent = yield from self._answer(request, endpoint.peer_host)
                    wire.send(http.encode(answer))
                    if sent is not None:
                        sent()
            except http.HttpError:
                wire.send(http.encode(http.response(400, "Bad Request")))
                break
        patience.stop()
        wire.close()

    def _answer(self, request: http.HttpMessage, browser: str) -> Generator[
            simpy.events.Event, Any, Answer]:
        method, target, _ = [*request.start.split(" "), "", ""][:3]
        query = {k: v[0] for k, v in parse_qs(urlsplit(target).query).items()}
        cookie = (request.header("Cookie") or "").partition("=")[2]
        page = self._sessions.get(cookie)
        if page is None:
            return http.response(401, "Unauthorized"), None
        action = (method, query.get("_action"))
        if action == ("GET", "refresh"):
            return (yield from self._refresh(page))
        if action == ("GET", "show") and query.get("_uid", "").isdigit():
            return (yield from self._show(page.account, int(query["_uid"]), browser)), None
        if action == ("POST", "send"):
            return (yield from self._send(page.account, request.body)), None
        return http.response(404, "Not Found"), None

    def _refresh(self, page: BrowserSession) -> Generator[simpy.events.Event, Any, Answer]:
        """List what arrived since this page's last refresh (headers only, nothing marked read).

        The page's position moves on only once the listing has gone out: a
        refresh cut off before it does lists the same messages again.
        """
        session = ImapSession(self.ctx, self.host, page.account.config.mailbox,
                              next_uid=page.next_uid, bodies=False)
        yield from session.run()
        rows = [json.dumps({"uid": h.uid, "from": first_header(h.header, "From") or "",
                            "subject": first_header(h.header, "Subject") or "",
                            "size": h.size}) for h in session.headers]
        body = "".join(f"{row}\r\n" for row in rows).encode("utf-8")

        def listed() -> None:
            page.next_uid = max(page.next_uid, session.next_uid)

        return http.response(200, "OK", body, (JSON,)), listed

    def _show(self, account: WebmailAccount, uid: int, browser: str) -> Generator[
            simpy.events.Event, Any, http.HttpMessage]:
        """Fetch one message for the page: the user reads it in the browser on `browser`."""
        config = account.config

        def shown(message: ev.MessageFetched, seen: bool) -> None:
            record_fetched(self.ctx, self.host, config.mailbox, str(message.uid),
                           message.content, protocol="imap", seen=seen, via=browser)

        session = ImapSession(self.ctx, self.host, config.mailbox, list_new=False,
                              actions=(Fetch((uid,)),), on_fetched=shown)
        yield from session.run()
        if not session.fetched:
            return http.response(404, "Not Found")
        return http.response(200, "OK", session.fetched[0].content, (HTML,))

    def _send(self, account: WebmailAccount, form: bytes) -> Generator[simpy.events.Event, Any,
                                                                        http.HttpMessage]:
        """Submit the message written in the page; save a copy to Sent."""
        fields = parse_qs(form.decode("utf-8", "replace").strip())
        config = account.config
        draft = Draft(config.address, tuple(fields.get("_to", [""])[0].split(",")),
                      fields.get("_subject", [""])[0], fields.get("_message", [""])[0])
        sent = yield from account.outbox.submit(draft)
        if sent.accepted and config.save_sent:
            session = ImapSession(self.ctx, self.host, config.mailbox, select=False,
                                  actions=(Append(sent.content),))
            yield from session.run()
        result = {"sent": sent.accepted, "message_id": sent.message_id}
        return http.response(200, "OK", f"{json.dumps(result)}\r\n".encode(), (JSON,))
