"""IMAP4rev2 (RFC 9051) as sans-I/O machines.

`wire` is the format both sides share: the tokenizer for commands and
responses (atoms, quoted strings, parenthesised lists, ``{n}``/``{n+}``
literals), sequence sets, and the helpers that quote values and write
literals.

The server (`ImapServer`) walks NOT AUTHENTICATED → AUTHENTICATED →
SELECTED → LOGOUT along the one table `TRANSITIONS` (`states.py`) and
answers in Dovecot's words (`replies.py`).  The agent decides logins
(`CredentialsReceived` → `login(mailbox)` / `reject_login()`) and runs TLS
as for SMTP and POP3 (`protocols.tls.TlsRequested` → `tls_established(version)`,
which `agents.session.pump` does by itself); after login the machine works on the
mailbox it was given, any object of the `ImapMailbox` shape (`store.py`).
Several sessions may share a mailbox: each keeps a `FolderView` of its
selected folder and learns of the others' changes after each command, or
at once in IDLE when the agent calls `notify()` (`view.py`).
"""

from simulator.protocols.imap import wire
from simulator.protocols.imap.client_states import CLIENT_TRANSITIONS
from simulator.protocols.imap.events import (
    CredentialsReceived,
    FlagsChanged,
    FolderSelected,
    IdleEnded,
    IdleStarted,
    ImapServerEvent,
    LoggedIn,
    LoggedOut,
    MessageAppended,
    MessageFetched,
    MessagesExpunged,
)
from simulator.protocols.imap.replies import REPLIES, ImapReply
from simulator.protocols.imap.server import ImapServer
from simulator.protocols.imap.session import ImapServerConfig
from simulator.protocols.imap.states import TRANSITIONS, Command, ImapState
from simulator.protocols.imap.store import ImapFolder, ImapMailbox, ImapMessage

IMAP_PORT = 143  # RFC 9051 §1.5 (IANA)
IMAPS_PORT = 993  # RFC 8314 §3: IMAP over TLS from the first byte

__all__ = [
    "CLIENT_TRANSITIONS",
    "IMAPS_PORT",
    "IMAP_PORT",
    "REPLIES",
    "TRANSITIONS",
    "Command",
    "CredentialsReceived",
    "FlagsChanged",
    "FolderSelected",
    "IdleEnded",
    "IdleStarted",
    "ImapFolder",
    "ImapMailbox",
    "ImapMessage",
    "ImapReply",
    "ImapServer",
    "ImapServerConfig",
    "ImapServerEvent",
    "ImapState",
    "LoggedIn",
    "LoggedOut",
    "MessageAppended",
    "MessageFetched",
    "MessagesExpunged",
    "wire",
]
