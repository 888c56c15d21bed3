"""The user's browser showing their provider's webmail: HTTPS requests on a beat.

The page refreshes the message list every `check_every` seconds (Roundcube's
``refresh_interval``, 60 s by default) and the user opens each new message
at once; writing a message is one POST.  Each round of requests goes on one
HTTPS connection to the webmail (port 443, TLS first, HTTP/1.1 keep-alive,
RFC 9112 §9.3).  The browser is no mail client: it never speaks SMTP or
IMAP -- the webmail (`agents.webmail`) does that on the provider's network.
"""

from __future__ import annotations

import json
from collections.abc import Generator
from typing import Any
from urllib.parse import urlencode

import simpy

from simulator.agents.context import SimContext
from simulator.agents.mua import MuaConfig
from simulator.agents.reader import Reader
from simulator.agents.reading import on_a_beat
from simulator.agents.session import Wire
from simulator.agents.submission import Unsent
from simulator.agents.tls import handshake
from simulator.agents.webmail import SESSION_COOKIE, Webmail
from simulator.net.connection import EOF_MARK, ConnectError
from simulator.protocols import http
from simulator.protocols.message import Draft
from simulator.protocols.tls import TlsVersion

#: Modelling assumption: how long the browser waits for a page (Firefox network.http.
#: response.timeout is 300 s).
PAGE_TIMEOUT = 300.0
USER_AGENT = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
FORM = ("Content-Type", "application/x-www-form-urlencoded")


class Browser:
    """One user's browser on one device, signed in to the provider's webmail."""

    def __init__(self, ctx: SimContext, host: str, webmail: Webmail, config: MuaConfig) -> None:
        self.ctx = ctx
        self.host = host
        self.config = config
        self.webmail = webmail
        self.inbox: list[bytes] = []  # the messages the user has opened
        # One name and one bound method for all the sends: a scenario may have many.
        self._sending, self._send_draft = f"browser {host}: send", self._send
        self._cookie = webmail.sign_in(config)
        ctx.start(f"browser {host}: {config.client} for {config.address}",
                  on_a_beat(ctx, config.check_every, self._visit))

    @property
    def outbox(self) -> list[Unsent]:
        """What the webmail has not handed over yet for this user."""
        return self.webmail.accounts[self.config.address].outbox.items

    def send_at(self, at: float, draft: Draft) -> None:
        """Have the user write `draft` in the webmail page and press Send at time `at`."""
        self.ctx.start_at(at, self._sending, self._send_draft, draft)

    def report_remaining(self) -> None:
        """The webmail reports what it could not send for the user (end of the run)."""
        self.webmail.report_remaining(self.config.address)

    def _send(self, draft: Draft) -> Generator[simpy.events.Event, Any, None]:
        form = urlencode({"_to": ",".join(draft.recipients), "_subject": draft.subject,
                          "_message": draft.body})
        yield from self._visit(self._request("POST", "send", f"{form}\r\n".encode(), (FORM,)))

    def _visit(
        self, first: http.HttpMessage | None = None
    ) -> Generator[simpy.events.Event, Any, None]:
        """One HTTPS connection: `first` (or a refresh), then open each new message."""
        endpoint = yield from self.ctx.network.connect(self.host, self.webmail.host,
                                                       http.HTTPS_PORT)
        if isinstance(endpoint, ConnectError):
            return
        wire, patience = Wire(endpoint), Reader(endpoint, PAGE_TIMEOUT)
        reader = http.MessageReader()
        outcome = yield from handshake(wire, patience, None, True)
        pending = [("page", first) if first else ("refresh", self._request("GET", "refresh"))]
        while pending and isinstance(outcome, TlsVersion):
            kind, request = pending.pop(0)
            wire.send(http.encode(request))
            answer = yield from _response(patience, reader)
            if answer is None:
                break
            if kind == "refresh":
                pending += [("show", self._request("GET", f"show&_uid={uid}"))
                            for uid in _uids(answer)]
            elif kind == "show" and answer.start.endswith(" 200 OK"):
                self.inbox.append(answer.body)
        patience.stop()
        wire.close()

    def _request(self, method: str, action: str, body: bytes = b"",
                 extra: tuple[tuple[str, str], ...] = ()) -> http.HttpMessage:
        headers = (("User-Agent", USER_AGENT), ("Cookie", f"{SESSION_COOKIE}={self._cookie}"),
                   *extra)
        return http.request(method, f"/?_task=mail&_action={action}", self.webmail.host,
                            body, headers)


def _response(
    patience: Reader, reader: http.MessageReader
) -> Generator[simpy.events.Event, Any, http.HttpMessage | None]:
    """The webmail's next response, or None if it closed, stayed silent or sent garbage."""
    while True:
        try:
            message = reader.next_message()
        except http.HttpError:
            return None
        if message is not None:
            return message
        data = yield from patience.read()
        if data is None or data == EOF_MARK:
            return None
        reader.feed(data)


def _uids(answer: http.HttpMessage) -> list[int]:
    """The UIDs a refresh listed (one JSON object a line)."""
    rows = [json.loads(line) for line in answer.body.decode("utf-8").splitlines() if line]
    return [row["uid"] for row in rows if isinstance(row, dict) and "uid" in row]
