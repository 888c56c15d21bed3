"""Narrating POP3 lines: commands, +OK / -ERR answers, and messages retrieved.

POP3 answers carry no numbers, so an answer means what the command it
answers makes it mean (RFC 1939 §3).  The narrator follows the session's
states as the server does -- AUTHORIZATION until PASS succeeds, then
TRANSACTION, and UPDATE after QUIT -- and counts the messages marked with
DELE, because only UPDATE removes them.
"""

from __future__ import annotations

from simulator.narration import words
from simulator.narration.content import Carrier, content_line
from simulator.narration.context import Command, NarrationContext, Session
from simulator.narration.phrases import encrypted, fill, plural, verb_and_arg
from simulator.trace import TraceRecord

OK = "+OK"
ERR = "-ERR"
#: Commands whose +OK is followed by lines up to a lone "." (RFC 1939 §3);
#: LIST and UIDL only without an argument.
_MULTILINE = frozenset({"RETR", "TOP", "LIST", "UIDL", "CAPA"})
#: Commands whose multi-line answer is a message.
_MESSAGE = frozenset({"RETR", "TOP"})
#: Commands that end the AUTHORIZATION state when they succeed.
_LOGINS = frozenset({"PASS", "APOP", "AUTH"})


def pop3_line(record: TraceRecord, context: NarrationContext) -> str | None:
    """Words for one POP3 line, sent by a client or a server."""
    session = context.session(record.session)
    role = record.role
    if role == "client":
        return _command(record, session)
    if role == "server":
        return _answer(record, session)
    return None


def _command(record: TraceRecord, session: Session) -> str | None:
    verb, arg = verb_and_arg(record.text)
    session.pending.append(Command(verb, arg))
    template = words.POP3_COMMANDS.get(verb)
    if verb == "PASS" and encrypted(record):
        template = words.PASS_IN_TLS
    if template is None:
        return None
    return fill(template, client=record.host, server=record.peer, arg=arg,
                password=fill(words.PASSWORD_SEEN, password=arg) if verb == "PASS" else "",
                update=words.QUIT_UPDATE if session.logged_in else "")


def _answer(record: TraceRecord, session: Session) -> str | None:
    line = record.text
    if session.multiline is not None:
        return _listing_line(record, session)
    ok, err = line.startswith(OK), line.startswith(ERR)
    if not (ok or err):
        return None  # e.g. a SASL "+ " challenge
    if not session.greeted and not session.pending:
        session.greeted = True
        return _greeting(record, ok)
    session.greeted = True
    command = session.close_reply() or Command("")
    if ok:
        return _ok(record, session, command)
    return _err(record, command)


def _greeting(record: TraceRecord, ok: bool) -> str:
    if ok:
        return fill(words.POP3_OK["greeting"], server=record.host, client=record.peer)
    return _err(record, Command(""))


def _listing_line(record: TraceRecord, session: Session) -> str | None:
    """A line of a multi-line answer: a message's text, or a listing."""
    if record.text == ".":
        session.multiline = None
        session.text.stop()
        return None
    if session.multiline in _MESSAGE:
        return content_line(record.text, session.text, Carrier("pop3", record.host))
    return None


def _ok(record: TraceRecord, session: Session, command: Command) -> str | None:
    verb = command.verb
    if verb in _MULTILINE and not (verb in ("LIST", "UIDL") and command.arg):
        session.multiline = verb
        if verb in _MESSAGE:
            session.text.start()
    if verb in _LOGINS:
        session.logged_in = True
    elif verb == "DELE":
        session.marked += 1
    elif verb == "RSET":
        session.marked = 0
    elif verb == "STAT":
        return _stat(record.text)
    elif verb == "QUIT":
        return _quit(session)
    template = words.POP3_OK.get(verb)
    return fill(template, server=record.host, arg=command.arg) if template else None


def _stat(line: str) -> str | None:
    """ "+OK 1 2090": the drop listing (RFC 1939 §5)."""
    fields = line.split()
    if len(fields) < 3 or not (fields[1].isdigit() and fields[2].isdigit()):
        return None
    return fill(words.STAT_ANSWER, count=fields[1], size=fields[2],
                messages=plural(int(fields[1]), "message"))


def _quit(session: Session) -> str:
    if not session.logged_in:
        return words.QUIT_UNAUTHORIZED
    if session.marked:
        return fill(words.QUIT_DELETED, messages=plural(session.marked, "message"))
    return words.QUIT_KEPT


def _err(record: TraceRecord, command: Command) -> str:
    rest = record.text[len(ERR):].strip()
    code = rest[1:rest.find("]")] if rest.startswith("[") and "]" in rest else ""
    meaning = words.POP3_RESPONSE_CODES.get(code.upper())
    if meaning is not None:
        why = f": {meaning}"
    else:
        why = words.POP3_ERR_PASS if command.verb in _LOGINS else ""
    return fill(words.POP3_ERR, server=record.host, why=why)
