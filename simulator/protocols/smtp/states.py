"""The SMTP state tables: one literal table per side of the session.

`TRANSITIONS` is the server's: for each state, the state a successful
command leads to; a verb missing from a state is out of sequence (503).
A command moves on when its reply is positive (2yz, 3yz); the two
pseudo-inputs in `ENDS_ON_ANY_REPLY` move on whatever the reply.
`CLIENT_TRANSITIONS` is the client's: for each command whose reply it
awaits, the commands (states) that may follow.  Tests and
`mailsim explain smtp` read these tables; the engines obey them.
"""

from __future__ import annotations

from enum import Enum

from simulator.protocols.smtp.commands import Verb


class ServerState(Enum):
    """Where an SMTP server session stands."""

    CONNECTED = "connected"  # before the greeting; greet() -> GREETED
    GREETED = "greeted"  # 220 sent, no HELO/EHLO yet
    READY = "ready"  # introduced, no transaction
    MAIL = "mail"  # MAIL accepted, need RCPT
    RCPT = "rcpt"  # at least one RCPT accepted
    DATA = "data"  # reading message lines up to "."
    AUTH = "auth"  # AUTH in progress (waiting for the SASL response)
    CLOSED = "closed"


S = ServerState
#: State after a command that succeeded; a verb missing here is out of sequence.
TRANSITIONS: dict[ServerState, dict[Verb, ServerState]] = {
    S.CONNECTED: {},
    S.GREETED: {  # Postfix smtpd_helo_required = no: MAIL needs no HELO first
        Verb.HELO: S.READY, Verb.EHLO: S.READY, Verb.NOOP: S.GREETED,
        Verb.RSET: S.GREETED, Verb.VRFY: S.GREETED, Verb.QUIT: S.CLOSED,
        Verb.MAIL: S.MAIL,
    },
    S.READY: {
        Verb.HELO: S.READY, Verb.EHLO: S.READY, Verb.NOOP: S.READY,
        Verb.RSET: S.READY, Verb.VRFY: S.READY, Verb.QUIT: S.CLOSED,
        Verb.MAIL: S.MAIL, Verb.AUTH: S.AUTH,
    },
    S.MAIL: {
        Verb.HELO: S.READY, Verb.EHLO: S.READY, Verb.NOOP: S.MAIL,
        Verb.RSET: S.READY, Verb.VRFY: S.MAIL, Verb.QUIT: S.CLOSED,
        Verb.RCPT: S.RCPT,
    },
    S.RCPT: {
        Verb.HELO: S.READY, Verb.EHLO: S.READY, Verb.NOOP: S.RCPT,
        Verb.RSET: S.READY, Verb.VRFY: S.RCPT, Verb.QUIT: S.CLOSED,
        Verb.RCPT: S.RCPT, Verb.DATA: S.DATA,
    },
    S.DATA: {Verb.DATA_END: S.READY},
    S.AUTH: {Verb.AUTH_RESPONSE: S.READY},
    S.CLOSED: {},
}  # fmt: skip
del S

#: Inputs that end their state whatever the reply: any reply to the final
#: dot ends the transaction (RFC 5321 §4.1.1.4), any reply to the SASL
#: response ends the exchange (RFC 4954 §4).
ENDS_ON_ANY_REPLY: frozenset[Verb] = frozenset({Verb.DATA_END, Verb.AUTH_RESPONSE})


class ClientState(Enum):
    """The command whose reply the client awaits."""

    GREETING = "greeting"  # connected, waiting for 220
    EHLO = "ehlo"
    HELO = "helo"  # EHLO got 5yz: RFC 5321 §3.2 fallback
    AUTH = "auth"
    MAIL = "mail"
    RCPT = "rcpt"
    DATA = "data"  # waiting for 354
    CONTENT = "content"  # content and final dot sent, waiting for the verdict
    RSET = "rset"  # after a transaction that ended early
    QUIT = "quit"
    CLOSED = "closed"


C = ClientState
#: For each awaited reply, the states the client may move to next.
CLIENT_TRANSITIONS: dict[ClientState, frozenset[ClientState]] = {
    C.GREETING: frozenset({C.EHLO, C.QUIT, C.CLOSED}),
    C.EHLO: frozenset({C.HELO, C.AUTH, C.MAIL, C.QUIT, C.CLOSED}),
    C.HELO: frozenset({C.MAIL, C.QUIT, C.CLOSED}),
    C.AUTH: frozenset({C.AUTH, C.MAIL, C.QUIT, C.CLOSED}),  # AUTH -> AUTH: "*" cancels
    C.MAIL: frozenset({C.RCPT, C.RSET, C.CLOSED}),
    C.RCPT: frozenset({C.RCPT, C.DATA, C.RSET, C.CLOSED}),
    C.DATA: frozenset({C.CONTENT, C.RSET, C.CLOSED}),
    C.CONTENT: frozenset({C.MAIL, C.QUIT, C.CLOSED}),
    C.RSET: frozenset({C.MAIL, C.QUIT, C.CLOSED}),
    C.QUIT: frozenset({C.CLOSED}),
    C.CLOSED: frozenset(),
}
del C
