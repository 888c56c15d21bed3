"""The IMAP4rev2 client machine (RFC 9051), sans I/O, driven by a plan.

The client logs in by itself -- greeting, CAPABILITY unless the greeting
carried it, STARTTLS when configured (then CAPABILITY again, §6.2.1),
LOGIN or AUTHENTICATE PLAIN, ENABLE IMAP4rev2 on a server that also speaks
rev1 -- and then runs the `Action`s of its plan one command at a time,
tagged A0001, A0002...  With the plan empty it reports `Ready` and waits;
the agent adds actions with `perform()` whenever an event calls for it,
ends IDLE with `stop_idle()`.  TLS is the session layer's, as for SMTP and
POP3: after STARTTLS's OK the client hands out `protocols.tls.TlsRequested`
and waits for `tls_established(version)`; on port 993 the session layer
calls `tls_established(version)` before the greeting (RFC 8314), and the
client then asks for no STARTTLS.  `agents.session.pump` does both.

A desktop profile's plan is `Select(), FetchNew(), Idle()`: on `NewMail`
it calls `stop_idle()` and `perform(FetchNew(), Idle())`, and re-IDLEs so
within 29 minutes (RFC 9051 §6.3.13); a sent message goes to Sent with
`perform(Append(content))`.  Webmail plans `Select(), FetchHeaders()` and
performs `Fetch((uid,))` when the user opens a message.

Each response is read whole, literals included (`responses.py`); untagged
data becomes events (`NewMail`, `Expunged`, `FlagsChanged`, ...) in any
state, and the tagged result names a `ClientInput` that `_advance` -- the
one place the state changes -- follows along `CLIENT_TRANSITIONS`.  An
input the table does not list for the state, or bytes that are no
response, end the session with `RemoteProtocolError`; a session no server
line ended ends with the interruption of `protocols.common`.
"""

from __future__ import annotations

from collections import deque

from simulator.protocols.common import (
    CRLF,
    NEED_DATA,
    ClientEnding,
    ConnectionClosed,
    Interruption,
    LineBuffer,
    LocalProtocolError,
    NeedData,
    RemoteProtocolError,
)
from simulator.protocols.imap import client_events as ev
from simulator.protocols.imap import wire
from simulator.protocols.imap.client_events import ClientEvent
from simulator.protocols.imap.client_states import (
    ACTION_INPUTS,
    CLIENT_TRANSITIONS,
    COMMANDS,
    Action,
    Append,
    ClientInput,
    FetchNew,
    ImapClientConfig,
    ImapClientState,
    Logout,
    Mechanism,
    Move,
    Select,
    action_arguments,
    astring_argument,
    check_actions,
    fetch_arguments,
)
from simulator.protocols.imap.responses import (
    DATA_READERS,
    MAX_RESPONSE_LINE,
    Continuation,
    Data,
    ResponseCode,
    ResponseError,
    ResponseReader,
    Status,
    flag_list,
    parse_number,
    parse_uid_set,
    search_uids,
    text_of,
)
from simulator.protocols.sasl import encode_plain
from simulator.protocols.tls import TlsRequested, TlsVersion

S, On = ImapClientState, ClientInput
#: States whose tagged NO/BAD is a login that failed: the client logs out.
_LOGIN_STATES = frozenset({S.LOGIN, S.AUTHENTICATE})


class ImapClient(ClientEnding):
    """One client side of an IMAP session, sans I/O."""

    def __init__(self, config: ImapClientConfig) -> None:
        astring_argument(config.username), astring_argument(config.password)
        check_actions(config.actions)
        self.config = config
        self.state = ImapClientState.GREETING
        self.capabilities: frozenset[str] = frozenset()  # upper case
        self.tls: TlsVersion | None = None  # the TLS version once the session is encrypted
        self.exists = 0  # messages in the selected folder, as the server last said
        self._lines = LineBuffer(MAX_RESPONSE_LINE)
        self._reader = ResponseReader(self._lines)
        self._outbox = bytearray()
        self._events: deque[ClientEvent | Interruption] = deque()
        self._end_of_input = False
        self._plan: deque[Action] = deque(config.actions)
        self._action: Action | None = None  # the action whose command is in flight
        self._tags = 0
        self._tag: str | None = None
        self._command = ""  # the command in flight, as sent, for CommandRefused
        self._selected: dict[str, int | tuple[str, ...]] = {}  # SELECT's untagged data
        self._found: list[int] = []  # the UIDs of the last SEARCH
        self._copyuid: ResponseCode | None = None  # MOVE's COPYUID (§6.4.8)
        self._auth_sent = False
        self._stop_idle = False
        self._bye: str | None = None
        self._failure: str | None = None  # what made the client log out early

    # ---- public API ----

    @property
    def closed(self) -> bool:
        """True once the session is over (its last event is queued)."""
        return self.state is ImapClientState.CLOSED

    def next_event(self) -> ClientEvent | Interruption | NeedData:
        """Read responses, send what follows, and report what happened."""
        while not self._events and not self.closed:
            try:
                response = self._reader.next_response()
                if response is not None:
                    self._on_response(response)
            except ResponseError as error:
                self._cut_off(RemoteProtocolError(str(error)))
                break
            if response is None:
                if not self._end_of_input:
                    break
                self._cut_off(ConnectionClosed())  # the server closed without a word
        return self._events.popleft() if self._events else NEED_DATA

    def data_to_send(self) -> bytes:
        """Everything queued for the server since the last call."""
        data = bytes(self._outbox)
        self._outbox.clear()
        return data

    def perform(self, *actions: Action) -> None:
        """Add actions to the plan; they start at once if the client is READY.

        While IDLING they wait: the agent calls `stop_idle()` to let them go.
        """
        if self.closed or self.state is S.LOGOUT or any(isinstance(a, Logout) for a in self._plan):
            raise LocalProtocolError("the session is ending: no action can be added")
        check_actions(actions)
        self._plan.extend(actions)
        if self.state is S.READY and actions:
            self._next_action()

    def stop_idle(self) -> None:
        """End IDLE with DONE (§6.3.13); asked before "+ idling", DONE follows it."""
        if self.state is S.IDLING:
            self._advance(On.STOP_IDLE)
        elif self.state is S.IDLE:
            self._stop_idle = True
        else:
            raise LocalProtocolError(f"not idling (state {self.state.name})")

    def tls_established(self, version: TlsVersion) -> None:
        """The handshake is over: after STARTTLS's OK, or first thing on port 993.

        After STARTTLS, bytes that came before the handshake were sent in the
        clear and are refused: a man in the middle could have put them there
        (§6.2.1).
        """
        if self.state is S.GREETING and self.tls is None:
            self.tls = version  # implicit TLS (RFC 8314 §3): nothing said yet
            return
        if self.state is not S.TLS_HANDSHAKE:
            raise LocalProtocolError(f"no STARTTLS was accepted (state {self.state.name})")
        if self._lines.take(1) is not None:
            self._cut_off(RemoteProtocolError("plain-text bytes after STARTTLS's OK"))
            return
        self.tls = version
        self.capabilities = frozenset()  # §6.2.1: forget what was said in the clear
        self._advance(On.HANDSHAKE_DONE)

    # ---- reading responses ----

    def _on_response(self, response: Continuation | Status | Data) -> None:
        if self.state is S.TLS_HANDSHAKE:
            raise ResponseError("a response before the TLS handshake")
        if isinstance(response, Continuation):
            self._advance(On.CONTINUE)
        elif isinstance(response, Data):
            self._on_data(response)
        elif response.tag is None:
            self._on_untagged_status(response)
        elif response.tag != self._tag:
            raise ResponseError(f"response tagged {response.tag}, awaited {self._tag}")
        elif response.condition == "OK":
            self._advance(self._on_ok(response))
        else:
            self._advance(self._on_refused(response))

    def _on_untagged_status(self, status: Status) -> None:
        code = status.code
        if code is not None and code.name == "CAPABILITY":
            self.capabilities = frozenset(word.upper() for word in code.words())
        if status.condition == "BYE":
            if self.state is S.LOGOUT:
                self._bye = status.text
                return
            self._events.append(ev.SessionClosed(ok=False, text=status.text))
            self._advance(On.BYE)
        elif self.state is S.GREETING and status.condition in ("OK", "PREAUTH"):
            self._events.append(ev.Greeted(status.text, self.capabilities))
            if status.condition == "PREAUTH":  # §7.1.4: logged in by other means
                self._advance(On.PREAUTH)
            else:
                self._advance(self._login_input() if self.capabilities else On.GREETED)
        elif self.state is S.GREETING:
            raise ResponseError(f"greeting {status.condition}: expected OK, PREAUTH or BYE")
        elif code is not None and code.name in ("UIDVALIDITY", "UIDNEXT"):  # §7.1
            self._selected[code.name] = code.number()
        elif code is not None and code.name == "COPYUID":  # MOVE, §6.4.8
            self._copyuid = code

    def _on_data(self, data: Data) -> None:
        if data.kind == "CAPABILITY":
            self.capabilities = frozenset(text_of(token).upper() for token in data.values)
        elif data.kind == "FLAGS":
            self._selected["FLAGS"] = flag_list(data.values[0]) if data.values else ()
        elif data.kind == "EXISTS":
            self._on_exists(data.number or 0)
        elif data.kind == "EXPUNGE":
            self.exists = max(self.exists - 1, 0)
            self._events.append(ev.Expunged(data.number or 0))
        elif data.kind in ("SEARCH", "ESEARCH"):
            self._found = search_uids(data)
        elif data.kind in ("FETCH", "LIST", "STATUS"):
            event = DATA_READERS[data.kind](data)  # SELECT's LIST (§6.3.2) is not news
            if event is not None and (data.kind != "LIST" or self.state is S.LIST):
                self._events.append(event)

    def _on_exists(self, exists: int) -> None:
        """EXISTS: the folder's size (§7.4.1); outside SELECT, growth is new mail."""
        if self.state is not S.SELECT and exists > self.exists:
            self._events.append(ev.NewMail(exists))
        self.exists = exists

    # ---- tagged results: what each means for the next step ----

    def _on_ok(self, status: Status) -> ClientInput:
        code, action, state = status.code, self._action, self.state
        if code is not None and code.name == "CAPABILITY":
            self.capabilities = frozenset(word.upper() for word in code.words())
        if state is S.CAPABILITY:
            return self._login_input()
        if state is S.STARTTLS:
            self._events.append(TlsRequested())  # the server's hello names the version
        elif state in _LOGIN_STATES:
            self._events.append(ev.LoggedIn(status.text, self.capabilities))
            both = {"IMAP4REV1", "IMAP4REV2"} <= self.capabilities
            return On.ENABLE_REV2 if self.config.enable_rev2 and both else On.OK
        elif state is S.SELECT and isinstance(action, Select):
            self._events.append(self._folder_selected(action, code))
        elif state is S.SEARCH:
            self._events.append(ev.SearchResult(tuple(self._found)))
            return On.NEW_MAIL if isinstance(action, FetchNew) and self._found else On.OK
        elif state is S.MOVE and isinstance(action, Move):
            copyuid = code if code is not None and code.name == "COPYUID" else self._copyuid
            self._events.append(_moved(action, copyuid))
        elif state is S.APPEND_LITERAL and isinstance(action, Append):
            appended = code.words() if code is not None and code.name == "APPENDUID" else []
            uids = parse_uid_set(appended[1]) if len(appended) == 2 else [None]
            validity = parse_number(wire.Atom(appended[0])) if appended else None
            self._events.append(ev.MessageAppended(action.folder, validity, uids[-1]))
        elif state is S.LOGOUT:
            ok = self._failure is None
            self._events.append(ev.SessionClosed(ok, self._failure or self._bye or status.text))
        return On.OK

    def _on_refused(self, status: Status) -> ClientInput:
        code = status.code.name if status.code is not None else None
        if self.state in _LOGIN_STATES:
            self._failure = status.text
            self._events.append(ev.LoginFailed(status.text, code))
        elif self.state is S.LOGOUT:
            self._events.append(ev.SessionClosed(False, self._failure or status.text))
        else:
            if self.state in (S.CAPABILITY, S.STARTTLS):
                self._failure = status.text
            refusal = ev.CommandRefused(status.tag or "", self._command, status.condition, code,
                                     status.text)  # fmt: skip
            self._events.append(refusal)
        return On.REFUSED

    def _login_input(self) -> ClientInput:
        """How to go on once the capabilities are known (§6.2)."""
        caps, reason = self.capabilities, None
        if self.config.use_starttls and not self.tls:
            if "STARTTLS" in caps:
                return On.USE_STARTTLS
            reason = "STARTTLS not offered"
        elif self.config.mechanism is Mechanism.PLAIN:
            if "AUTH=PLAIN" in caps:
                return On.USE_AUTHENTICATE
            reason = "AUTH=PLAIN not offered"
        elif "LOGINDISABLED" not in caps:  # §6.2.3
            return On.USE_LOGIN
        reason = reason or "LOGINDISABLED"
        self._failure = reason
        self._events.append(ev.NoSafeLogin(reason))
        return On.NO_SAFE_LOGIN

    def _folder_selected(self, action: Select, code: ResponseCode | None) -> ev.FolderSelected:
        selected = self._selected
        flags = selected.get("FLAGS", ())
        read_only = action.read_only or (code is not None and code.name == "READ-ONLY")
        return ev.FolderSelected(
            action.folder, self.exists, _number(selected.get("UIDVALIDITY")),
            _number(selected.get("UIDNEXT")), flags if isinstance(flags, tuple) else (),
            read_only,
        )  # fmt: skip

    # ---- moving on and sending ----

    def _advance(self, given: ClientInput) -> None:
        """The one place the state moves along `CLIENT_TRANSITIONS`; send what follows."""
        row = CLIENT_TRANSITIONS[self.state]
        if given not in row:
            shown = "a continuation" if given is On.CONTINUE else given.value
            raise ResponseError(f"unexpected {shown} in state {self.state.name}")
        previous, self.state = self.state, row[given]
        if self.state is S.READY:
            self._tag = self._action = None
            self._next_action()
        elif self.state is S.AUTHENTICATE and previous is S.AUTHENTICATE:
            self._send_line("*" if self._auth_sent else self._plain())  # §6.2.2
            self._auth_sent = True
        elif self.state is S.APPEND_LITERAL and previous is S.APPEND:
            self._send_literal()
        elif self.state is S.IDLING and self._stop_idle:
            self._advance(On.STOP_IDLE)
        elif self.state is S.DONE:
            self._stop_idle = False
            self._send_line("DONE")
        elif self.state in COMMANDS:
            self._send_command()

    def _next_action(self) -> None:
        """READY: start the next action of the plan, or tell the agent the plan is done."""
        if not self._plan:
            self._events.append(ev.Ready())
            return
        self._action = action = self._plan.popleft()
        given = ACTION_INPUTS[type(action)]
        if isinstance(action, Append) and {"LITERAL+"} <= self.capabilities:
            given = On.DO_APPEND_NONSYNC if self.config.literal_plus else given
        self._advance(given)

    def _send_command(self) -> None:
        self._tags += 1
        self._tag = f"A{self._tags:04d}"
        if self.state is S.SELECT:
            self._selected, self.exists = {}, 0
        self._command = COMMANDS[self.state].format(**self._arguments())
        self._send_line(f"{self._tag} {self._command}")
        if self.state is S.APPEND_LITERAL:
            self._send_literal()  # LITERAL+: no "+" awaited (RFC 7888)

    def _send_literal(self) -> None:
        """APPEND's message, then the CRLF that ends the command line (§4.3)."""
        if isinstance(self._action, Append):
            self._outbox += self._action.content + CRLF

    def _send_line(self, line: str) -> None:
        self._outbox += line.encode("utf-8") + CRLF

    def _arguments(self) -> dict[str, object]:
        """The fields of the command the current state sends (see `COMMANDS`)."""
        action, config = self._action, self.config
        if self.state is S.LOGIN:
            return {"username": astring_argument(config.username),
                    "password": astring_argument(config.password)}  # fmt: skip
        if self.state is S.AUTHENTICATE:
            sasl_ir = self.capabilities & {"SASL-IR", "IMAP4REV2"}  # §6.2.2
            self._auth_sent = bool(sasl_ir)
            return {"initial": f" {self._plain()}" if sasl_ir else ""}
        if self.state is S.FETCH:
            return fetch_arguments(action, self._found)
        return action_arguments(action)

    def _plain(self) -> str:
        return encode_plain(self.config.username, self.config.password)

    def _cut_off(self, interruption: Interruption) -> None:
        """No response will come: report why and close, without LOGOUT."""
        self._events.append(interruption)
        self._advance(On.CUT_OFF)


def _number(value: int | tuple[str, ...] | None) -> int | None:
    return value if isinstance(value, int) else None


def _moved(action: Move, copyuid: ResponseCode | None) -> ev.MessagesMoved:
    """MessagesMoved, with the new UIDs when COPYUID gave them (§7.1, UIDPLUS)."""
    words = copyuid.words() if copyuid is not None else []
    new_uids = tuple(parse_uid_set(words[2])) if len(words) == 3 else ()
    return ev.MessagesMoved(action.folder, action.uids, new_uids)
