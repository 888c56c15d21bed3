"""Narrating SMTP lines: a client's commands, and each reply read by its code.

A reply is matched to the command it answers the way a client does it: a
queue of commands sent and not yet answered (so pipelined commands work
too), with the final dot of DATA counting as a command of its own.  What a
4yz or 5yz to MAIL, RCPT or the final dot means for the message depends on
who is sending: a mail client on the submission port tells its user, an MTA
defers or bounces.
"""

from __future__ import annotations

import base64
import binascii

from simulator.narration import words
from simulator.narration.content import Carrier, content_line
from simulator.narration.context import Command, NarrationContext, Session, Stream
from simulator.narration.phrases import (
    ReplyCode,
    code_sentence,
    encrypted,
    fill,
    parameter,
    parse_reply,
    path_of,
    verb_and_arg,
)
from simulator.trace import TraceRecord
from simulator.trace_data import ProtocolLine

#: Submission ports: the client is a user's mail client (RFC 6409, RFC 8314).
SUBMISSION_PORTS = frozenset({587, 465})
#: Replies to these commands decide what becomes of the message.
_FATEFUL = frozenset({"MAIL", "RCPT", "."})
#: The final dot of DATA, as a pending command.
END_OF_DATA = "."


def smtp_line(record: TraceRecord, context: NarrationContext) -> str | None:
    """Words for one SMTP line, sent by a client or a server."""
    session = context.session(record.session)
    line = record.payload
    if not isinstance(line, ProtocolLine):
        return None
    session.port = line.port
    role = line.role
    if role == "client":
        return _client_line(record, session)
    if role == "server":
        return _server_line(record, session, context)
    return None


# -- the client ----------------------------------------------------------------------


def _client_line(record: TraceRecord, session: Session) -> str | None:
    line = record.text
    if session.text.stream is not Stream.NONE:
        return _data_line(record, session)
    if session.challenged:
        session.challenged = False
        template = words.AUTH_CANCEL if line.strip() == "*" else words.AUTH_RESPONSE
        return fill(template, client=record.host)
    verb, arg = verb_and_arg(line)
    session.pending.append(Command(verb, arg))
    if verb == "MAIL":
        return _mail_from(arg, session)
    if verb == "RCPT":
        arg = f"<{path_of(arg) or arg}>"
    if verb == "AUTH":
        return _auth(record.host, arg, encrypted(record))
    said = words.SMTP_COMMANDS.get(verb)
    return fill(said, client=record.host, server=record.peer, arg=arg) if said else None


def _data_line(record: TraceRecord, session: Session) -> str | None:
    """A line of the message after 354: its text, or the final dot."""
    if record.text == END_OF_DATA:
        session.text.stop()
        session.pending.append(Command(END_OF_DATA))
        return fill(words.FINAL_DOT, client=record.host)
    carrier = Carrier("smtp", record.host, session.mail_from)
    return content_line(record.text, session.text, carrier)


def _mail_from(arg: str, session: Session) -> str:
    sender = path_of(arg)
    session.mail_from = sender
    if sender == "":
        sentence = words.MAIL_NULL_SENDER
    else:
        sentence = fill(words.SMTP_COMMANDS["MAIL"], arg=f"<{sender or arg}>")
    size = parameter(arg, "SIZE")
    return sentence + fill(words.MAIL_SIZE, size=size) if size else sentence


def _auth(client: str, arg: str, inside_tls: bool) -> str:
    mechanism, _, initial = arg.partition(" ")
    mechanism = mechanism.upper()
    template = words.AUTH_MECHANISMS.get(mechanism)
    if mechanism == "PLAIN" and inside_tls:
        template = words.PLAIN_IN_TLS
    if template is None:
        return fill(words.AUTH_OTHER, client=client, arg=mechanism)
    credentials = _plain_credentials(initial) if mechanism == "PLAIN" else ""
    return fill(template, client=client, credentials=credentials)


def _plain_credentials(initial: str) -> str:
    """What anyone on the path reads in an AUTH PLAIN response (RFC 4616 §2)."""
    try:
        decoded = base64.b64decode(initial.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return ""
    parts = decoded.split("\0")
    if len(parts) != 3:
        return ""
    _authzid, user, password = parts
    return fill(words.AUTH_CREDENTIALS, user=user, password=password)


# -- the server ----------------------------------------------------------------------


def _server_line(record: TraceRecord, session: Session, context: NarrationContext) -> str | None:
    reply = parse_reply(record.text)
    if reply is None:
        return None
    greeting = not session.greeted and not session.pending
    command = None if greeting else session.answered()
    index = _follow_reply(session, reply, greeting, command)
    if greeting:
        return _greeting(record, reply) if index == 0 else None
    if command is None:
        return code_sentence(reply) if index == 0 else None
    if command.verb == "DATA" and reply.cls == 3:
        session.text.start()
    if command.verb == "EHLO" and index > 0:
        return _extension(record.text)
    if index > 0:
        return None  # a multi-line reply is explained once, at its first line
    return _reply_words(record, session, context, command, reply)


def _follow_reply(
    session: Session, reply: ReplyCode, greeting: bool, command: Command | None
) -> int:
    """Note one reply line; return its index within its (multi-line) reply."""
    index = session.replied_lines
    if not reply.last:
        session.replied_lines += 1
        return index
    session.replied_lines = 0
    if greeting:
        session.greeted = True
    elif command is not None and command.verb == "AUTH" and reply.cls == 3:
        session.challenged = True  # the AUTH goes on: the client answers the challenge
    else:
        session.greeted = True
        session.close_reply()
    return index


def _greeting(record: TraceRecord, reply: ReplyCode) -> str:
    template = words.SMTP_AFTER.get(("greeting", reply.cls))
    if template is None:
        return code_sentence(reply)
    return fill(template, server=record.host, client=record.peer, code=reply.label)


def _extension(line: str) -> str | None:
    """One EHLO keyword line: "250-SIZE 10240000"."""
    keyword, arg = verb_and_arg(line[4:])
    template = words.EXTENSIONS.get(keyword)
    return fill(template, arg=arg) if template else None


def _reply_words(
    record: TraceRecord,
    session: Session,
    context: NarrationContext,
    command: Command,
    reply: ReplyCode,
) -> str:
    fields = {"server": record.host, "code": reply.label, "arg": command.arg}
    if record.peer is not None:  # `fill` reads a missing field as "?"
        fields["client"] = record.peer
    if command.verb == "RCPT":
        fields["arg"] = f"<{path_of(command.arg) or command.arg}>"
    if command.verb == END_OF_DATA and reply.cls == 2:
        return _queued(session, context, fields)
    if command.verb in _FATEFUL and reply.cls in (4, 5) and reply.code != 421:
        return _refusal(session, command, reply, fields)
    template = words.SMTP_AFTER.get((command.verb, reply.cls))
    if template is not None:
        return fill(template, **fields)
    sentence = code_sentence(reply)
    tail = words.CLASS_TAILS.get(reply.cls)
    return f"{sentence}. {tail}" if tail else sentence


def _queued(session: Session, context: NarrationContext, fields: dict[str, str]) -> str:
    """The final dot accepted: the server owns the message now."""
    queue_id = context.last_queued.pop(fields["server"], None)
    as_id = fill(words.QUEUED_AS, queue_id=queue_id) if queue_id else ""
    forgets = words.FORGETS_CLIENT if session.port in SUBMISSION_PORTS else words.FORGETS_MTA
    return fill(words.QUEUED, as_id=as_id, forgets=forgets, **fields)


def _refusal(
    session: Session, command: Command, reply: ReplyCode, fields: dict[str, str]
) -> str:
    """A 4yz or 5yz to MAIL, RCPT or the final dot: what becomes of the message."""
    if session.port in SUBMISSION_PORTS:
        sending = "submission"
    elif session.mail_from == "":
        sending = "bounce"
    else:
        sending = "relay"
    consequence = fill(words.CONSEQUENCES[(sending, reply.cls)], client=fields["client"],
                       sender=session.mail_from or "as given in MAIL FROM")
    lead = fill(words.REFUSES, **fields) if command.verb == "RCPT" else ""
    return f"{lead}{code_sentence(reply)}. {consequence}"
