"""The SMTP client's tables: its states, what moves it, and what it says.

The client sends one command at a time and waits for its reply (RFC 5321
§4.1).  Its state is the command whose reply it awaits.  `CLIENT_TRANSITIONS`
is the one literal table the client moves along: for each state, what the
reply it got means for the client (`ClientInput`) and the state that
follows.  Entering a state sends that state's command from `COMMANDS`.
Tests and `mailsim explain` read these tables; the client obeys them.
"""

from __future__ import annotations

from enum import Enum


class ClientState(Enum):
    """The command whose reply the client awaits."""

    GREETING = "greeting"  # connected, waiting for 220
    EHLO = "ehlo"
    HELO = "helo"  # EHLO got 5yz: RFC 5321 §3.2 fallback
    AUTH = "auth"  # AUTH PLAIN with the initial response (RFC 4954 §4)
    AUTH_CANCEL = "auth_cancel"  # "*": the server asked for more than PLAIN needs
    MAIL = "mail"
    RCPT = "rcpt"
    DATA = "data"  # waiting for 354
    CONTENT = "content"  # content and final dot sent, waiting for the verdict
    RSET = "rset"  # after a transaction that ended early
    QUIT = "quit"
    CLOSED = "closed"


class ClientInput(Enum):
    """What the awaited reply (or the lack of one) means for the client's next step.

    The values are what `mailsim explain` shows on each arrow.
    """

    ACCEPTED = "2yz"
    AUTHENTICATE = "2yz with AUTH PLAIN to use"
    SEND_MAIL = "2yz with mail to send"
    NOTHING_TO_SEND = "2yz with nothing to send"
    CHALLENGE = "334"
    GO_AHEAD = "354"
    REFUSED = "4yz/5yz"
    REFUSED_TEMPORARILY = "4yz"
    REFUSED_PERMANENTLY = "5yz"
    NEXT_RECIPIENT = "any reply with recipients left"
    SOME_ACCEPTED = "last RCPT answered and some accepted"
    NONE_ACCEPTED = "last RCPT answered and none accepted"
    MORE_MAIL = "any reply with mail left"
    NO_MORE_MAIL = "any reply with no mail left"
    ANY = "any reply"
    CLOSING = "421"  # RFC 5321 §3.8: the server is closing the channel
    CUT_OFF = "cut off"  # no reply will come: closed, timed out, broken, garbled


C, On = ClientState, ClientInput
#: For each awaited reply, what it means and the state it leads to.
CLIENT_TRANSITIONS: dict[ClientState, dict[ClientInput, ClientState]] = {
    C.GREETING: {  # RFC 5321 §3.1: after a 554 greeting the client says QUIT
        On.ACCEPTED: C.EHLO, On.REFUSED: C.QUIT, On.CLOSING: C.CLOSED, On.CUT_OFF: C.CLOSED,
    },
    C.EHLO: {
        On.AUTHENTICATE: C.AUTH, On.SEND_MAIL: C.MAIL, On.NOTHING_TO_SEND: C.QUIT,
        On.REFUSED_PERMANENTLY: C.HELO, On.REFUSED_TEMPORARILY: C.QUIT,  # RFC 5321 §3.2
        On.CLOSING: C.CLOSED, On.CUT_OFF: C.CLOSED,
    },
    C.HELO: {
        On.SEND_MAIL: C.MAIL, On.NOTHING_TO_SEND: C.QUIT, On.REFUSED: C.QUIT,
        On.CLOSING: C.CLOSED, On.CUT_OFF: C.CLOSED,
    },
    C.AUTH: {  # RFC 4954 §4: "*" cancels an exchange the client cannot go on with
        On.SEND_MAIL: C.MAIL, On.NOTHING_TO_SEND: C.QUIT, On.CHALLENGE: C.AUTH_CANCEL,
        On.REFUSED: C.QUIT, On.CLOSING: C.CLOSED, On.CUT_OFF: C.CLOSED,
    },
    C.AUTH_CANCEL: {
        On.SEND_MAIL: C.MAIL, On.NOTHING_TO_SEND: C.QUIT, On.REFUSED: C.QUIT,
        On.CLOSING: C.CLOSED, On.CUT_OFF: C.CLOSED,
    },
    C.MAIL: {On.ACCEPTED: C.RCPT, On.REFUSED: C.RSET, On.CLOSING: C.CLOSED, On.CUT_OFF: C.CLOSED},
    C.RCPT: {
        On.NEXT_RECIPIENT: C.RCPT, On.SOME_ACCEPTED: C.DATA, On.NONE_ACCEPTED: C.RSET,
        On.CLOSING: C.CLOSED, On.CUT_OFF: C.CLOSED,
    },
    C.DATA: {
        On.GO_AHEAD: C.CONTENT, On.REFUSED: C.RSET, On.CLOSING: C.CLOSED, On.CUT_OFF: C.CLOSED,
    },
    C.CONTENT: {  # RFC 5321 §6.1: a 2yz here hands responsibility over
        On.MORE_MAIL: C.MAIL, On.NO_MORE_MAIL: C.QUIT, On.CLOSING: C.CLOSED, On.CUT_OFF: C.CLOSED,
    },
    C.RSET: {
        On.MORE_MAIL: C.MAIL, On.NO_MORE_MAIL: C.QUIT, On.CLOSING: C.CLOSED, On.CUT_OFF: C.CLOSED,
    },
    C.QUIT: {On.ANY: C.CLOSED, On.CUT_OFF: C.CLOSED},
    C.CLOSED: {},
}  # fmt: skip
del C, On

#: The command each state sends on entry (RFC 5321 §4.1.1; AUTH: RFC 4954 §4;
#: SIZE: RFC 1870 §3).  CONTENT sends the dot-stuffed message instead.
COMMANDS: dict[ClientState, str] = {
    ClientState.EHLO: "EHLO {helo_name}",
    ClientState.HELO: "HELO {helo_name}",
    ClientState.AUTH: "AUTH PLAIN {response}",
    ClientState.AUTH_CANCEL: "*",
    ClientState.MAIL: "MAIL FROM:<{sender}>{size}",
    ClientState.RCPT: "RCPT TO:<{recipient}>",
    ClientState.DATA: "DATA",
    ClientState.RSET: "RSET",
    ClientState.QUIT: "QUIT",
}
#: The SIZE parameter of MAIL, when the server announced SIZE (RFC 1870 §3).
SIZE_PARAMETER = " SIZE={size}"


class Violation(Enum):
    """How a server's bytes can break the protocol, in the client's words."""

    MALFORMED = "malformed reply: {line}"
    TOO_LONG = "reply line too long ({length} octets)"
    TOO_MANY_LINES = "reply of more than {count} lines"
    UNEXPECTED = "unexpected {code} reply in state {state}"  # RFC 5321 §4.3.2
