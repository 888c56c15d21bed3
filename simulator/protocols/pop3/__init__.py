"""POP3 (RFC 1939, CAPA RFC 2449, response codes RFC 3206) as sans-I/O machines.

Theory of operation.  `Pop3Server` and `Pop3Client` each own a `LineBuffer`
and an outbox.  Bytes go in with `receive_data()`; `next_event()` reads whole
lines, answers what the protocol alone can answer, and returns an event only
when the agent must act; `data_to_send()` hands out the queued bytes.

The server walks AUTHORIZATION → TRANSACTION → UPDATE → CLOSED along the
literal `TRANSITIONS` table (`states.py`); every status line comes from the
`REPLIES` table.  Two decisions belong to the agent: `CredentialsReceived`
(from USER/PASS or SASL PLAIN, RFC 5034; answer with `login(maildrop)` or
`reject_login()`) and `UpdateRequested`, the deletions to apply after QUIT.
Deletion marks live only in the session: a session that ends any other way
(`close()`, a dropped connection, too many bad commands) deletes nothing
(RFC 1939 §6).

The client runs the whole dialogue by itself, one command at a time, along
`CLIENT_TRANSITIONS`, applied in one place: greeting, USER, PASS, STAT,
UIDL, then RETR (and DELE) for every message whose unique-id it does not
know yet, then QUIT.  A session the server ends with a line ends with
`SessionClosed`; one it does not ends with the event of `protocols.common`
that says why (`ConnectionClosed` -- given `receive_data(b"")` --,
`TimedOut`, `ConnectionBroken`, `RemoteProtocolError`).

STLS (RFC 2595) is offered when configured: after `+OK Begin TLS
negotiation now.` the server hands out `TlsRequested` and the session layer
calls `tls_established()` once the handshake is done; with
`disable_plaintext_auth` USER, PASS and AUTH wait for TLS (Dovecot).  A
client with `starttls` sends STLS before logging in, or does not log in.

Multi-line responses are dot-stuffed on the way out and un-stuffed on the
way in (RFC 1939 §3); their lines may be of any length, only status lines
are limited (RFC 2449 §4).  Hostile bytes never raise: the server answers -ERR,
the client ends the session with `RemoteProtocolError`.
"""

from simulator.protocols.common import NEED_DATA, NeedData
from simulator.protocols.pop3.client import (
    CLIENT_TRANSITIONS,
    LoginFailed,
    MessageRetrieved,
    Outcome,
    Pop3Client,
    Pop3ClientConfig,
    Pop3ClientEvent,
    Pop3ClientState,
    SessionClosed,
)
from simulator.protocols.pop3.maildrop import MaildropEntry
from simulator.protocols.pop3.replies import REPLIES, Pop3Reply
from simulator.protocols.pop3.server import (
    CredentialsReceived,
    Pop3Server,
    Pop3ServerConfig,
    Pop3ServerEvent,
    UpdateRequested,
)
from simulator.protocols.pop3.states import TRANSITIONS, Pop3State
from simulator.protocols.pop3.wire import Verb

POP3_PORT = 110  # RFC 1939 §3
POP3S_PORT = 995  # RFC 8314 §3.2: POP3 over implicit TLS

__all__ = [
    "CLIENT_TRANSITIONS",
    "NEED_DATA",
    "POP3S_PORT",
    "POP3_PORT",
    "REPLIES",
    "TRANSITIONS",
    "CredentialsReceived",
    "LoginFailed",
    "MaildropEntry",
    "MessageRetrieved",
    "NeedData",
    "Outcome",
    "Pop3Client",
    "Pop3ClientConfig",
    "Pop3ClientEvent",
    "Pop3ClientState",
    "Pop3Reply",
    "Pop3Server",
    "Pop3ServerConfig",
    "Pop3ServerEvent",
    "Pop3State",
    "SessionClosed",
    "UpdateRequested",
    "Verb",
]
