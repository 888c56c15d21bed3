"""The POP3 server's tables: session states, transitions, argument counts.

`TRANSITIONS` is the one literal table the server moves along; tests and
`mailsim explain pop3` read it.
"""

from __future__ import annotations

from enum import Enum

from simulator.protocols.pop3.wire import Verb


class Pop3State(Enum):
    """Session states of RFC 1939 §3, plus CLOSED once the session is over."""

    AUTHORIZATION = "AUTHORIZATION"
    TRANSACTION = "TRANSACTION"
    UPDATE = "UPDATE"
    CLOSED = "CLOSED"


_A, _T = Pop3State.AUTHORIZATION, Pop3State.TRANSACTION

# The verbs each state accepts and the state each one leads to (RFC 1939 §4-7,
# RFC 5034 §4).  PASS and AUTH reach TRANSACTION only when the agent accepts
# the credentials with `login()`.
# UPDATE accepts nothing: the server leaves it for CLOSED on its own.
TRANSITIONS: dict[Pop3State, dict[Verb, Pop3State]] = {
    Pop3State.AUTHORIZATION: {
        Verb.USER: _A,
        Verb.PASS: _T,
        Verb.APOP: _A,
        Verb.AUTH: _T,
        Verb.CAPA: _A,
        Verb.STLS: _A,  # RFC 2595 §4: only here; the client starts over after it
        Verb.QUIT: Pop3State.CLOSED,  # RFC 1939 §4: QUIT here skips UPDATE
    },
    Pop3State.TRANSACTION: {
        Verb.STAT: _T,
        Verb.LIST: _T,
        Verb.RETR: _T,
        Verb.DELE: _T,
        Verb.NOOP: _T,
        Verb.RSET: _T,
        Verb.TOP: _T,
        Verb.UIDL: _T,
        Verb.CAPA: _T,
        Verb.QUIT: Pop3State.UPDATE,  # RFC 1939 §6
    },
    Pop3State.UPDATE: {},
    Pop3State.CLOSED: {},
}

# Verbs whose transition waits for a decision by the agent.
DECIDED_BY_AGENT = frozenset({Verb.PASS, Verb.AUTH})

# (fewest, most) arguments per verb, RFC 1939 §5-7; None = no upper limit.
# USER and PASS take the rest of the line as one argument (RFC 1939 §7).
ARITY: dict[Verb, tuple[int, int | None]] = {
    Verb.USER: (1, None),
    Verb.PASS: (1, None),
    Verb.APOP: (0, None),
    Verb.AUTH: (0, 2),  # RFC 5034 §4: AUTH mechanism [initial-response]
    Verb.CAPA: (0, 0),
    Verb.STLS: (0, 0),
    Verb.STAT: (0, 0),
    Verb.LIST: (0, 1),
    Verb.RETR: (1, 1),
    Verb.DELE: (1, 1),
    Verb.NOOP: (0, 0),
    Verb.RSET: (0, 0),
    Verb.TOP: (2, 2),
    Verb.UIDL: (0, 1),
    Verb.QUIT: (0, 0),
}
