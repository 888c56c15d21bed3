"""LMTP's two tables: the server's (`TRANSITIONS`) and the client's.

LMTP is SMTP with two changes (RFC 2033 §4): LHLO instead of HELO and
EHLO -- which an LMTP server does not know -- and, after the final dot, one
reply for every recipient whose RCPT was accepted, in RCPT order.  The
server's table is SMTP's without HELO, EHLO and AUTH (Dovecot's LMTP
offers no AUTH); the client's says LHLO, never falls back to HELO, and
after the dot reads one reply per accepted recipient (`DELIVERY_REPLIES`).
Rows that are the same as SMTP's are SMTP's own.
"""

from __future__ import annotations

from simulator.protocols.smtp import (
    CLIENT_TRANSITIONS as SMTP_CLIENT_TRANSITIONS,
)
from simulator.protocols.smtp import (
    COMMANDS as SMTP_COMMANDS,
)
from simulator.protocols.smtp import (
    ClientInput,
    ClientState,
    ServerState,
    Verb,
)

S = ServerState
#: State after a command that succeeded; a verb missing here is out of sequence.
TRANSITIONS: dict[ServerState, dict[Verb, ServerState]] = {
    S.CONNECTED: {},
    S.GREETED: {
        Verb.LHLO: S.READY, Verb.NOOP: S.GREETED, Verb.RSET: S.GREETED,
        Verb.VRFY: S.GREETED, Verb.QUIT: S.CLOSED, Verb.MAIL: S.MAIL,
    },
    S.READY: {
        Verb.LHLO: S.READY, Verb.NOOP: S.READY, Verb.RSET: S.READY,
        Verb.VRFY: S.READY, Verb.QUIT: S.CLOSED, Verb.MAIL: S.MAIL,
    },
    S.MAIL: {
        Verb.LHLO: S.READY, Verb.NOOP: S.MAIL, Verb.RSET: S.READY,
        Verb.VRFY: S.MAIL, Verb.QUIT: S.CLOSED, Verb.RCPT: S.RCPT,
    },
    S.RCPT: {
        Verb.LHLO: S.READY, Verb.NOOP: S.RCPT, Verb.RSET: S.READY,
        Verb.VRFY: S.RCPT, Verb.QUIT: S.CLOSED, Verb.RCPT: S.RCPT, Verb.DATA: S.DATA,
    },
    S.DATA: {Verb.DATA_END: S.READY},  # one reply per accepted recipient (RFC 2033 §4.2)
    S.CLOSED: {},
}  # fmt: skip
del S

C, On = ClientState, ClientInput
#: For each awaited reply, what it means and the state it leads to.
CLIENT_TRANSITIONS: dict[ClientState, dict[ClientInput, ClientState]] = {
    C.GREETING: {
        On.ACCEPTED: C.LHLO, On.REFUSED: C.QUIT, On.CLOSING: C.CLOSED, On.CUT_OFF: C.CLOSED,
    },
    C.LHLO: {  # RFC 2033 §4.1: no HELO to fall back to
        On.SEND_MAIL: C.MAIL, On.NOTHING_TO_SEND: C.QUIT, On.REFUSED: C.QUIT,
        On.CLOSING: C.CLOSED, On.CUT_OFF: C.CLOSED,
    },
    C.MAIL: SMTP_CLIENT_TRANSITIONS[C.MAIL],
    C.RCPT: SMTP_CLIENT_TRANSITIONS[C.RCPT],
    C.DATA: SMTP_CLIENT_TRANSITIONS[C.DATA],
    C.CONTENT: {  # the first recipient's reply to the dot
        On.NEXT_RECIPIENT: C.DELIVERY_REPLIES, On.MORE_MAIL: C.MAIL, On.NO_MORE_MAIL: C.QUIT,
        On.CLOSING: C.CLOSED, On.CUT_OFF: C.CLOSED,
    },
    C.DELIVERY_REPLIES: {  # RFC 2033 §4.2: then one for each other accepted recipient
        On.NEXT_RECIPIENT: C.DELIVERY_REPLIES, On.MORE_MAIL: C.MAIL, On.NO_MORE_MAIL: C.QUIT,
        On.CLOSING: C.CLOSED, On.CUT_OFF: C.CLOSED,
    },
    C.REST_OF_GROUP: SMTP_CLIENT_TRANSITIONS[C.REST_OF_GROUP],
    C.LONE_DOT: SMTP_CLIENT_TRANSITIONS[C.LONE_DOT],
    C.RSET: SMTP_CLIENT_TRANSITIONS[C.RSET],
    C.QUIT: SMTP_CLIENT_TRANSITIONS[C.QUIT],
    C.CLOSED: {},
}  # fmt: skip
del C, On

#: The command each state sends on entry: SMTP's, with LHLO for EHLO and HELO
#: (RFC 2033 §4.1) and no AUTH.
COMMANDS: dict[ClientState, str] = {
    ClientState.LHLO: "LHLO {helo_name}",
    **{state: line for state, line in SMTP_COMMANDS.items() if state in CLIENT_TRANSITIONS},
}
