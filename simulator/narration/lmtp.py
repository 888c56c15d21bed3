"""Narrating LMTP lines: read as SMTP, except what LMTP changes (RFC 2033).

LMTP's commands are SMTP's (with LHLO for EHLO), so `smtp_line` explains
them.  What differs is the end of a transaction: the final dot gets one
reply per recipient whose RCPT was accepted, in RCPT order, and each
settles that recipient alone -- saved, refused for good, or to be tried
again.  Quota refusals get their own words: 552 5.2.2 is Dovecot's
default, 452 4.2.2 its quota_full_tempfail, and RFC 3463 sides with the
second.
"""

from __future__ import annotations

from simulator.narration import words
from simulator.narration.context import Command, NarrationContext, Session
from simulator.narration.phrases import code_sentence, fill, parse_reply, path_of, verb_and_arg
from simulator.narration.smtp import END_OF_DATA, smtp_line
from simulator.trace import TraceRecord
from simulator.trace_data import ProtocolLine

#: RFC 3463 X.2.2: mailbox full.
MAILBOX_FULL = ".2.2"


def lmtp_line(record: TraceRecord, context: NarrationContext) -> str | None:
    """Words for one LMTP line, sent by the MTA's LMTP client or the MDA."""
    session = context.session(record.session)
    line = record.payload
    if not isinstance(line, ProtocolLine):
        return None
    if line.role == "server" and session.pending:
        awaited = session.pending[0]
        if awaited.verb == END_OF_DATA:
            return _delivery_reply(record, session)
        reply = parse_reply(record.text)
        if awaited.verb == "RCPT" and reply is not None and reply.cls == 2:
            session.accepted.append(path_of(awaited.arg) or awaited.arg)
    said = smtp_line(record, context)
    if line.role == "client":
        _after_client_line(record, session, context)
    return said


def _after_client_line(record: TraceRecord, session: Session, context: NarrationContext) -> None:
    """A new transaction forgets the old recipients; the dot awaits one reply each."""
    verb, _ = verb_and_arg(record.text)
    if verb == "MAIL":
        session.accepted = []
    elif session.pending and session.pending[-1].verb == END_OF_DATA:
        context.lmtp_senders[record.peer or ""] = session.mail_from or ""
        for _ in session.accepted[1:]:
            session.pending.append(Command(END_OF_DATA))


def _delivery_reply(record: TraceRecord, session: Session) -> str | None:
    """One recipient's reply to the final dot."""
    reply = parse_reply(record.text)
    if reply is None:
        return None
    session.close_reply()
    rcpt = f"<{session.accepted.pop(0)}>" if session.accepted else "the recipient"
    fields = {"server": record.host, "client": record.peer or "?", "rcpt": rcpt,
              "code": reply.label, "sender": f"<{session.mail_from or ''}>"}
    if reply.cls == 2:
        return fill(words.LMTP_SAVED, **fields)
    if reply.status is not None and reply.status.endswith(MAILBOX_FULL):
        return fill(words.LMTP_QUOTA.get(reply.cls, words.LMTP_REFUSED), **fields)
    return fill(words.LMTP_REFUSED, code_sentence=code_sentence(reply), **fields)
