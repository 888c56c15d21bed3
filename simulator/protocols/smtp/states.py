"""The SMTP server's state table (the client's is in `client_states.py`).

`TRANSITIONS` is the server's: for each state, the state a successful
command leads to; a verb missing from a state is out of sequence (503).
A command moves on when its reply is positive (2yz, 3yz); the two
pseudo-inputs in `ENDS_ON_ANY_REPLY` move on whatever the reply.  Tests
and `mailsim explain smtp` read this table; the server obeys it.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import Enum

from simulator.protocols.smtp.commands import UNIMPLEMENTED, Verb


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


#: A dialect's table: state -> command -> the state a successful command leads to.
Transitions = Mapping[ServerState, Mapping[Verb, ServerState]]

S = ServerState
#: State after a command that succeeded; a verb missing here is out of sequence.
TRANSITIONS: dict[ServerState, dict[Verb, ServerState]] = {
    S.CONNECTED: {},
    S.GREETED: {  # Postfix smtpd_helo_required = no: MAIL needs no HELO first
        Verb.HELO: S.READY, Verb.EHLO: S.READY, Verb.NOOP: S.GREETED,
        Verb.RSET: S.GREETED, Verb.VRFY: S.GREETED, Verb.QUIT: S.CLOSED,
        Verb.MAIL: S.MAIL, Verb.STARTTLS: S.GREETED,
    },
    S.READY: {  # RFC 3207 §4.2: after STARTTLS the server forgets everything
        Verb.HELO: S.READY, Verb.EHLO: S.READY, Verb.NOOP: S.READY,
        Verb.RSET: S.READY, Verb.VRFY: S.READY, Verb.QUIT: S.CLOSED,
        Verb.MAIL: S.MAIL, Verb.AUTH: S.AUTH, Verb.STARTTLS: S.GREETED,
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



def known_verbs(transitions: Transitions) -> frozenset[Verb]:
    """The commands a dialect knows: those of its table, and those it answers 502.

    Any other verb is unknown to it (500), as LHLO is to an SMTP server and
    EHLO to an LMTP one.
    """
    return frozenset(verb for moves in transitions.values() for verb in moves) | UNIMPLEMENTED
