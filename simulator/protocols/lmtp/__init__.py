"""Sans-I/O LMTP (RFC 2033): the MTA's hand-off to the mailbox server.

LMTP is SMTP for a server that keeps no queue: the client says LHLO
instead of EHLO, and after the final dot the server answers once for every
recipient it accepted, in RCPT order, so each recipient is delivered,
deferred or bounced on its own.  Here it is SMTP's machines in another
dialect -- `LmtpServer` and `LmtpClient` subclass `SmtpServer` and
`SmtpClient` with LMTP's own tables (`TRANSITIONS`, `CLIENT_TRANSITIONS`)
and Dovecot's reply texts (`REPLIES`).

RFC 2033 §5: LMTP must not run on port 25.  Dovecot's `service lmtp`
listens on a unix socket by default; `inet_listener lmtp { port = 24 }`
puts it on TCP port 24, as here, so the MTA may sit on another host.
"""

from simulator.protocols.lmtp.client import DeliveryResult, LmtpClient
from simulator.protocols.lmtp.replies import CAPABILITIES, REPLIES, LmtpReply, reply
from simulator.protocols.lmtp.server import LmtpServer
from simulator.protocols.lmtp.states import CLIENT_TRANSITIONS, COMMANDS, TRANSITIONS

LMTP_PORT = 24  # Dovecot's inet_listener lmtp, as commonly configured (RFC 2033 §5: not 25)

__all__ = [
    "CAPABILITIES",
    "CLIENT_TRANSITIONS",
    "COMMANDS",
    "LMTP_PORT",
    "REPLIES",
    "TRANSITIONS",
    "DeliveryResult",
    "LmtpClient",
    "LmtpReply",
    "LmtpServer",
    "reply",
]
