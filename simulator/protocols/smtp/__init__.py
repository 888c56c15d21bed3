"""Sans-I/O SMTP (RFC 5321) with AUTH PLAIN (RFC 4954): server and client.

Theory of operation: bytes go in with `receive_data()`, events come out of
`next_event()` and replies or commands queue up for `data_to_send()`;
nothing here knows sockets, SimPy or time.  The server answers every
command that needs no policy by itself (EHLO, NOOP, syntax and sequence
errors...) and hands the agent one decision at a time -- MAIL, RCPT, the
message, AUTH -- which the agent answers with `respond(reply)`.  The client
runs prepared transactions on its own -- MAIL, RCPT and DATA in one group
when the server offers PIPELINING (RFC 2920, `PIPELINED_AFTER`), BODY=8BITMIME
for 8-bit content (RFC 6152) -- and reports each recipient's and each
transaction's fate; when no reply comes it says why with the events of
`protocols.common` (`ConnectionClosed`, `TimedOut`, `ConnectionBroken`,
`RemoteProtocolError`), never with a reply of its own making.  States move
along the literal tables `TRANSITIONS` (server, `states.py`) and
`CLIENT_TRANSITIONS` (client, `client_states.py`); every reply text lives
in the one table in `replies.py`, every client command in `COMMANDS`.  Message content
ends only with <CRLF>.<CRLF>; long content lines are accepted (Postfix
line_length_limit); error limits follow Postfix smtpd (`reply_delay`
carries its smtpd_error_sleep_time for the agent to honour).  STARTTLS
(RFC 3207): a server configured to offer it answers `220 2.0.0 Ready to
start TLS` and hands out `TlsRequested`; a client set to `TlsPolicy.MAY` or
`REQUIRE` sends it when offered; either side learns of the finished
handshake through `tls_established()` and starts over as RFC 3207 §4.2 says.
"""

from simulator.protocols.smtp.auth import decode_plain, encode_plain
from simulator.protocols.smtp.client import SmtpClient, SmtpClientConfig
from simulator.protocols.smtp.client_states import (
    CLIENT_TRANSITIONS,
    COMMANDS,
    PIPELINED_AFTER,
    ClientInput,
    ClientState,
)
from simulator.protocols.smtp.commands import UNIMPLEMENTED, Verb, dot_stuff
from simulator.protocols.smtp.events import (
    AuthReceived,
    ClientEvent,
    DeliveryResult,
    Envelope,
    MailFromReceived,
    MessageReceived,
    RcptToReceived,
    RecipientResult,
    ServerEvent,
    SessionClosed,
    TransactionResult,
)
from simulator.protocols.smtp.replies import REPLIES, Extension, Reply, SmtpReply, reply
from simulator.protocols.smtp.server import SmtpServer, SmtpServerConfig, SmtpUsageError
from simulator.protocols.smtp.states import ENDS_ON_ANY_REPLY, TRANSITIONS, ServerState

SMTP_PORT = 25  # RFC 5321 §4.5.4: relay between MTAs
SUBMISSION_PORT = 587  # RFC 6409 §3.1: message submission by users
SMTPS_PORT = 465  # RFC 8314 §3.3: message submission over implicit TLS

__all__ = [
    "CLIENT_TRANSITIONS",
    "COMMANDS",
    "ENDS_ON_ANY_REPLY",
    "PIPELINED_AFTER",
    "REPLIES",
    "SMTPS_PORT",
    "SMTP_PORT",
    "SUBMISSION_PORT",
    "TRANSITIONS",
    "UNIMPLEMENTED",
    "AuthReceived",
    "ClientEvent",
    "ClientInput",
    "ClientState",
    "DeliveryResult",
    "Envelope",
    "Extension",
    "MailFromReceived",
    "MessageReceived",
    "RcptToReceived",
    "RecipientResult",
    "Reply",
    "ServerEvent",
    "ServerState",
    "SessionClosed",
    "SmtpClient",
    "SmtpClientConfig",
    "SmtpReply",
    "SmtpServer",
    "SmtpServerConfig",
    "SmtpUsageError",
    "TransactionResult",
    "Verb",
    "decode_plain",
    "dot_stuff",
    "encode_plain",
    "reply",
]
