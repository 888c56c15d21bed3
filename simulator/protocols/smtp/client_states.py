"""The SMTP client's tables: its states, what moves it, and what it says.

The client's state is the command whose reply it awaits (RFC 5321 §4.1).
`CLIENT_TRANSITIONS` is the one literal table the client moves along: for
each state, what the reply it got means for the client (`ClientInput`) and
the state that follows.  Entering a state sends that state's command from
`COMMANDS` -- unless the command is already on the wire: when the server
offers PIPELINING (RFC 2920), entering a state of `PIPELINED_AFTER` sends
the commands of the states that follow it as one group, and the client
then reads their replies in order, one state at a time.  Tests and
`mailsim explain` read these tables; the client obeys them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from enum import Enum


class ClientState(Enum):
    """The command whose reply the client awaits."""

    GREETING = "greeting"  # connected, waiting for 220
    EHLO = "ehlo"
    LHLO = "lhlo"  # LMTP only (RFC 2033 §4.1): instead of EHLO, no HELO fallback
    HELO = "helo"  # EHLO got 5yz: RFC 5321 §3.2 fallback
    STARTTLS = "starttls"  # RFC 3207 §4
    TLS_HANDSHAKE = "tls_handshake"  # 220 to STARTTLS: the session layer's handshake
    AUTH = "auth"  # AUTH PLAIN with the initial response (RFC 4954 §4)
    AUTH_CANCEL = "auth_cancel"  # "*": the server asked for more than PLAIN needs
    MAIL = "mail"
    RCPT = "rcpt"
    DATA = "data"  # waiting for 354
    CONTENT = "content"  # content and final dot sent, waiting for the verdict
    # LMTP only (RFC 2033 §4.2): the final dot gets one reply per accepted
    # recipient; the first came, the others are awaited
    DELIVERY_REPLIES = "delivery_replies"
    # PIPELINING: MAIL, or every RCPT, was refused; the replies to the rest of
    # the group are read and dropped (RFC 2920 §3.1: the client checks them all)
    REST_OF_GROUP = "rest_of_group"
    LONE_DOT = "lone_dot"  # DATA got 354 with no recipient: "." alone (RFC 2920 §3.1)
    RSET = "rset"  # after a transaction that ended early
    QUIT = "quit"
    CLOSED = "closed"


class ClientInput(Enum):
    """What the awaited reply (or the lack of one) means for the client's next step.

    The values are what `mailsim explain` shows on each arrow.
    """

    ACCEPTED = "2yz"
    AUTHENTICATE = "2yz with AUTH PLAIN to use"
    START_TLS = "2yz with STARTTLS to use"
    TLS_NOT_OFFERED = "2yz without STARTTLS, TLS required"
    TLS_ESTABLISHED = "handshake done"
    # STARTTLS refused and the client is opportunistic (Postfix "may"): on in clear
    CLEAR_AUTHENTICATE = "4yz/5yz, AUTH in clear"
    CLEAR_SEND_MAIL = "4yz/5yz, mail in clear"
    CLEAR_NOTHING_TO_SEND = "4yz/5yz, nothing to send"
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
    # PIPELINING (RFC 2920): the commands after this one are on the wire already
    REFUSED_IN_GROUP = "4yz/5yz, rest of group sent"
    NONE_ACCEPTED_IN_GROUP = "none accepted, DATA sent"
    REPLY_OWED = "any reply, more owed"
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
        On.START_TLS: C.STARTTLS, On.TLS_NOT_OFFERED: C.QUIT,
        On.REFUSED_PERMANENTLY: C.HELO, On.REFUSED_TEMPORARILY: C.QUIT,  # RFC 5321 §3.2
        On.CLOSING: C.CLOSED, On.CUT_OFF: C.CLOSED,
    },
    C.STARTTLS: {  # refused: on in clear if opportunistic (Postfix "may"), else QUIT
        On.ACCEPTED: C.TLS_HANDSHAKE, On.CLEAR_AUTHENTICATE: C.AUTH,
        On.CLEAR_SEND_MAIL: C.MAIL, On.CLEAR_NOTHING_TO_SEND: C.QUIT, On.REFUSED: C.QUIT,
        On.CLOSING: C.CLOSED, On.CUT_OFF: C.CLOSED,
    },
    C.TLS_HANDSHAKE: {  # RFC 3207 §4.2: the client must say EHLO again
        On.TLS_ESTABLISHED: C.EHLO, On.CUT_OFF: C.CLOSED,
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
    C.MAIL: {
        On.ACCEPTED: C.RCPT, On.REFUSED: C.RSET, On.REFUSED_IN_GROUP: C.REST_OF_GROUP,
        On.CLOSING: C.CLOSED, On.CUT_OFF: C.CLOSED,
    },
    C.RCPT: {
        On.NEXT_RECIPIENT: C.RCPT, On.SOME_ACCEPTED: C.DATA, On.NONE_ACCEPTED: C.RSET,
        On.NONE_ACCEPTED_IN_GROUP: C.REST_OF_GROUP, On.CLOSING: C.CLOSED, On.CUT_OFF: C.CLOSED,
    },
    C.DATA: {
        On.GO_AHEAD: C.CONTENT, On.REFUSED: C.RSET, On.CLOSING: C.CLOSED, On.CUT_OFF: C.CLOSED,
    },
    C.CONTENT: {  # RFC 5321 §6.1: a 2yz here hands responsibility over
        On.MORE_MAIL: C.MAIL, On.NO_MORE_MAIL: C.QUIT, On.CLOSING: C.CLOSED, On.CUT_OFF: C.CLOSED,
    },
    C.REST_OF_GROUP: {  # RFC 2920 §3.1: DATA may get 354 all the same: send "." alone
        On.REPLY_OWED: C.REST_OF_GROUP, On.GO_AHEAD: C.LONE_DOT, On.REFUSED: C.RSET,
        On.CLOSING: C.CLOSED, On.CUT_OFF: C.CLOSED,
    },
    C.LONE_DOT: {
        On.MORE_MAIL: C.MAIL, On.NO_MORE_MAIL: C.QUIT, On.CLOSING: C.CLOSED, On.CUT_OFF: C.CLOSED,
    },
    C.RSET: {
        On.MORE_MAIL: C.MAIL, On.NO_MORE_MAIL: C.QUIT, On.CLOSING: C.CLOSED, On.CUT_OFF: C.CLOSED,
    },
    C.QUIT: {On.ANY: C.CLOSED, On.CUT_OFF: C.CLOSED},
    C.CLOSED: {},
}  # fmt: skip
del C, On

#: After a refused STARTTLS, what the opportunistic client's next step is called.
IN_CLEAR: dict[ClientInput, ClientInput] = {
    ClientInput.AUTHENTICATE: ClientInput.CLEAR_AUTHENTICATE,
    ClientInput.SEND_MAIL: ClientInput.CLEAR_SEND_MAIL,
    ClientInput.NOTHING_TO_SEND: ClientInput.CLEAR_NOTHING_TO_SEND,
}

#: The command each state sends on entry (RFC 5321 §4.1.1; AUTH: RFC 4954 §4;
#: SIZE: RFC 1870 §3; BODY: RFC 6152 §2).  CONTENT sends the dot-stuffed
#: message instead; REST_OF_GROUP sends nothing.
COMMANDS: dict[ClientState, str] = {
    ClientState.EHLO: "EHLO {helo_name}",
    ClientState.HELO: "HELO {helo_name}",
    ClientState.STARTTLS: "STARTTLS",
    ClientState.AUTH: "AUTH PLAIN {response}",
    ClientState.AUTH_CANCEL: "*",
    ClientState.MAIL: "MAIL FROM:<{sender}>{size}{body}",
    ClientState.RCPT: "RCPT TO:<{recipient}>",
    ClientState.DATA: "DATA",
    ClientState.LONE_DOT: ".",
    ClientState.RSET: "RSET",
    ClientState.QUIT: "QUIT",
}
#: The SIZE parameter of MAIL, when the server announced SIZE (RFC 1870 §3).
SIZE_PARAMETER = " SIZE={size}"
#: The BODY parameter of MAIL for content with octets above 127, when the
#: server announced 8BITMIME (RFC 6152 §2); 7-bit content goes without it.
BODY_8BITMIME = " BODY=8BITMIME"

#: With PIPELINING (RFC 2920 §3.1), the states whose commands go out in one
#: group with the command of the state entered, before any reply is read:
#: MAIL, one RCPT per recipient, then DATA, which must end a group since the
#: content waits for its 354 -- what Postfix's smtp client sends
#: (smtp_proto.c).  EHLO and AUTH are never grouped: their replies decide
#: what comes next (AUTH keeps its initial response, RFC 4954 §4).  RFC 2920
#: would also let QUIT follow the final dot or RSET in one group, as Postfix
#: does when it keeps no connection cache; this client waits for the reply
#: to the dot first, so the hand-over of responsibility (RFC 5321 §6.1) is
#: seen before QUIT, and a further transaction can still be added.
PIPELINED_AFTER: dict[ClientState, tuple[ClientState, ...]] = {
    ClientState.MAIL: (ClientState.RCPT, ClientState.DATA),
}


def mail_parameters(content: bytes, extensions: Mapping[str, str]) -> dict[str, str]:
    """The `size` and `body` fields of the MAIL command for `content`.

    SIZE= when the server announced SIZE (RFC 1870 §3); BODY=8BITMIME for
    content with an octet above 127 when it announced 8BITMIME (RFC 6152
    §2), none for 7-bit content (7BIT is the default).  Postfix's smtp
    decides by the encoding its cleanup daemon found (and may send BODY=7BIT
    for declared 7-bit MIME, smtp_proto.c); here the octets decide.  To a
    server without 8BITMIME, 8-bit content goes as it is: RFC 6152 §3 would
    have the client convert it to 7 bits first (Postfix turns 8-bit MIME
    parts into quoted-printable unless disable_mime_output_conversion =
    yes); this client leaves that out.
    """
    size = SIZE_PARAMETER.format(size=len(content)) if "SIZE" in extensions else ""
    eight_bit = "8BITMIME" in extensions and not content.isascii()
    return {"size": size, "body": BODY_8BITMIME if eight_bit else ""}


class Violation(Enum):
    """How a server's bytes can break the protocol, in the client's words."""

    MALFORMED = "malformed reply: {line}"
    TOO_LONG = "reply line too long ({length} octets)"
    TOO_MANY_LINES = "reply of more than {count} lines"
    UNEXPECTED = "unexpected {code} reply in state {state}"  # RFC 5321 §4.3.2


def ehlo_extensions(lines: Sequence[str]) -> dict[str, str]:
    """The keywords (upper-case) and parameters of an EHLO reply's lines (RFC 5321 §4.1.1.1)."""
    found: dict[str, str] = {}
    for line in lines[1:]:
        keyword, _, params = line.strip().partition(" ")
        if keyword:
            found[keyword.upper()] = params.strip()
    return found
