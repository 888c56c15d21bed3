"""Steps: the trace summarised as arrows and notes, for sequence diagrams.

A sequence diagram does not need every record: `sequence_steps` turns the
records into `Step`s, each an arrow between two hosts (a command, a reply,
a TCP connection, a DNS query or answer) or a note on one host's lifeline
(queued, relayed, delivered, bounced...).  On the way it summarises:

- a message body -- the client's lines between 354 and the final "." --
  becomes one "message (N lines)" arrow, and so does the message a POP3
  server sends after RETR or TOP;
- a multi-line reply (EHLO's "250-" lines, a UIDL or LIST listing) is one
  arrow;
- a POP3 check that finds an empty maildrop (STAT answers "+OK 0 ...") is
  one arrow for the whole session, unless `compact` is off;
- DNS queries go to, and answers come from, a pseudo-host named `DNS`.

`full=True` keeps every protocol line as its own arrow.  The terminal view
(`views.sequence`) and the Mermaid export (`views.export`) draw the same
steps.  Everything is one or two passes over the records.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from enum import StrEnum

from simulator.trace import Kind, TraceRecord
from simulator.trace_data import (
    DnsAnswer,
    DnsQuery,
    MailBounced,
    MailComposed,
    MailDeferred,
    MailDelivered,
    MailFetched,
    MailQueued,
    MailRelayed,
    ProtocolLine,
    QueueEnter,
    QueueLeave,
    TcpConnect,
    TcpRefused,
)
from simulator.views.formatting import visible
from simulator.views.scope import select_records

#: The pseudo-host DNS arrows go to and come from.
DNS = "DNS"

#: POP3 commands answered with a multi-line response (RFC 1939 §3, RFC 2449 §5);
#: LIST and UIDL only without an argument.
_POP3_MULTILINE = frozenset({"RETR", "TOP", "CAPA"})
_POP3_LISTINGS = frozenset({"LIST", "UIDL"})

# RFC 5321 §4.2.1: "250-" continues a reply, "250 " (or a bare code) ends it.
_CONTINUED = re.compile(r"^\d{3}-")
_LAST_REPLY_LINE = re.compile(r"^\d{3}(?: |$)")

#: Listings longer than this show only their first items.
_LISTING_ITEMS = 3


class StepKind(StrEnum):
    """What an arrow or note stands for."""

    COMMAND = "command"  # a client's line
    REPLY = "reply"  # a server's line
    CONNECT = "connect"  # a TCP connection opened
    REFUSED = "refused"  # a TCP connection that failed
    QUERY = "query"  # a DNS question
    ANSWER = "answer"  # a DNS answer
    NOTE = "note"  # a happening on one host: queued, delivered, bounced...


@dataclass(frozen=True, slots=True)
class Step:
    """One arrow from `source` to `target`, or a note on `source` (`target` None).

    `tone` is the kind of record a note comes from ("mail.delivered",
    "note"...), so a face can colour it.
    """

    time: float
    kind: StepKind
    source: str
    label: str
    target: str | None = None
    tone: str = ""

    @property
    def is_note(self) -> bool:
        """True for a note on a lifeline, False for an arrow."""
        return self.target is None


def sequence_steps(
    records: Iterable[TraceRecord],
    *,
    protocols: Iterable[str] | None = None,
    host: str | None = None,
    message: str | None = None,
    session: str | None = None,
    full: bool = False,
    compact: bool = True,
) -> list[Step]:
    """The steps of the records that pass the filters, in trace order.

    The filters are the dialogue's: `protocols` keeps categories ("smtp",
    "pop3", "dns", "tcp", "mail", "note"), `host` the records with that
    host at either end, `session` one session, and `message` one
    Message-ID -- with the whole sessions that carried it, the POP3
    session that downloaded it and the DNS lookups made while it waited
    in a queue.
    """
    shown = select_records(
        records, protocols=protocols, host=host, message=message, session=session
    )
    quiet = {} if full or not compact else _empty_checks(shown)
    builder = _Builder(quiet, full)
    for record in shown:
        builder.feed(record)
    return builder.finish()


@dataclass(frozen=True, slots=True)
class _Check:
    """A POP3 session that found nothing to download."""

    client: str
    server: str


def _empty_checks(records: list[TraceRecord]) -> dict[str, _Check]:
    """POP3 sessions whose STAT found an empty maildrop ("+OK 0 ...")."""
    asked_stat: dict[str, bool] = {}
    checks: dict[str, _Check] = {}
    for r in records:
        if r.kind is not Kind.LINE or (r.protocol or "").lower() != "pop3" or not r.session:
            continue
        if r.role == "client":
            asked_stat[r.session] = _verb(r.text) == "STAT"
        elif asked_stat.get(r.session) and r.text.startswith("+OK 0 ") and r.peer:
            checks[r.session] = _Check(client=r.peer, server=r.host)
    return checks


def _verb(line: str) -> str:
    """The command word of a client line, upper case."""
    return line.split(" ", 1)[0].upper()


@dataclass
class _Block:
    """Lines of one multi-line unit being gathered: a body, a reply, a listing."""

    index: int  # where its step sits in the list
    sender: str
    shape: str  # "content", "reply", "message" or "listing"
    lines: list[str] = field(default_factory=list)

    def ends_with(self, text: str) -> bool:
        """True if `text` is the last line of the unit."""
        if self.shape == "reply":
            return bool(_LAST_REPLY_LINE.match(text))
        return text == "."

    def label(self) -> str:
        """The one-line summary of the gathered lines."""
        lines = self.lines
        done = lines[-1] == "." if self.shape != "reply" else True
        cut = "" if done else ", cut short"
        inner = lines[:-1] if done else lines
        if self.shape == "content":
            return f"message ({_lines(len(inner))}{cut})"
        if self.shape == "reply":
            return f"{lines[0]} (+{_lines(len(lines) - 1)})"
        if self.shape == "message":
            return f"{lines[0]} + message ({_lines(len(inner) - 1)}{cut})"
        return f"{lines[0]} ({_listing(inner[1:])}{cut})"


def _lines(count: int) -> str:
    return f"{count} line" if count == 1 else f"{count} lines"


def _listing(items: list[str]) -> str:
    """"1 0000000100000001, 2 0000000200000001", shortened when long; "empty" when none."""
    if not items:
        return "empty"
    if len(items) <= _LISTING_ITEMS:
        return ", ".join(items)
    return ", ".join(items[: _LISTING_ITEMS - 1]) + f", … {_lines(len(items))}"


class _Builder:
    """Turns records into steps, one record at a time."""

    def __init__(self, quiet: dict[str, _Check], full: bool) -> None:
        self.steps: list[Step] = []
        self._quiet = quiet
        self._quiet_drawn: set[str] = set()
        self._full = full
        self._blocks: dict[str, _Block] = {}
        self._in_data: set[str] = set()  # sessions after a 354 reply
        self._multiline: set[str] = set()  # POP3 sessions awaiting a multi-line answer
        self._retrieving: set[str] = set()  # ... that is a message (RETR, TOP)

    def feed(self, record: TraceRecord) -> None:
        """Take one record into account."""
        if record.session in self._quiet:
            self._quiet_check(record)
        elif record.kind is Kind.LINE:
            self._line(record)
        else:
            step = record_step(record)
            if step is not None:
                self.steps.append(step)

    def finish(self) -> list[Step]:
        """The steps, with any unit cut short by the end of the records closed."""
        for session in list(self._blocks):
            self._close(session)
        return self.steps

    def _quiet_check(self, record: TraceRecord) -> None:
        session = record.session or ""
        if session not in self._quiet_drawn:
            self._quiet_drawn.add(session)
            check = self._quiet[session]
            self.steps.append(Step(record.time, StepKind.COMMAND, check.client,
                                   "POP3 check: no new mail", check.server))

    def _line(self, record: TraceRecord) -> None:
        session = record.session or ""
        block = self._blocks.get(session)
        if block is not None:
            if record.host == block.sender:
                block.lines.append(record.text)
                if block.ends_with(record.text):
                    self._close(session)
                return
            self._close(session)  # the other side spoke first: the unit was cut short
        shape = None if self._full else self._opens(record, session)
        self._track(record, session)
        step = _line_step(record)
        if shape is not None:
            self._blocks[session] = _Block(len(self.steps), record.host, shape, [record.text])
        self.steps.append(step)

    def _opens(self, record: TraceRecord, session: str) -> str | None:
        """The kind of multi-line unit this line starts, if any."""
        if record.role != "server":
            return "content" if session in self._in_data and record.text != "." else None
        if _CONTINUED.match(record.text):
            return "reply"
        if session in self._multiline and record.text.startswith("+OK"):
            return "message" if session in self._retrieving else "listing"
        return None

    def _track(self, record: TraceRecord, session: str) -> None:
        """Remember what the next lines of this session will be."""
        if record.role == "server":
            self._multiline.discard(session)
            if record.text.startswith("354"):
                self._in_data.add(session)
            return
        self._in_data.discard(session)
        if (record.protocol or "").lower() == "pop3":
            verb, _, argument = record.text.partition(" ")
            verb = verb.upper()
            multiline = verb in _POP3_MULTILINE or (verb in _POP3_LISTINGS and not argument)
            _toggle(self._multiline, session, multiline)
            _toggle(self._retrieving, session, verb in ("RETR", "TOP"))

    def _close(self, session: str) -> None:
        block = self._blocks.pop(session)
        self._in_data.discard(session)
        step = self.steps[block.index]
        self.steps[block.index] = replace(step, label=visible(block.label()))


def _toggle(names: set[str], name: str, on: bool) -> None:
    if on:
        names.add(name)
    else:
        names.discard(name)


def _line_step(record: TraceRecord) -> Step:
    """One protocol line as an arrow from its sender to its receiver."""
    kind = StepKind.REPLY if record.role == "server" else StepKind.COMMAND
    label = visible(record.text)
    if record.peer == record.host:  # loopback (LMTP to the MDA on the MTA's host): one lifeline
        port = record.payload_as(ProtocolLine).port  # ... and the port tells the sides apart
        label = f":{port}→ {label}" if record.role == "server" else f"→:{port} {label}"
    return Step(record.time, kind, record.host, label, record.peer or record.host)


def record_step(record: TraceRecord) -> Step | None:
    """The arrow or note of a record other than a protocol line, if it has one."""
    data = record.payload
    if isinstance(data, TcpConnect):
        label = f"TCP connect :{data.port}"
        return Step(record.time, StepKind.CONNECT, record.host, label, record.peer)
    if isinstance(data, TcpRefused):
        label = f"TCP connect :{data.port} {data.reason or 'refused'}"
        return Step(record.time, StepKind.REFUSED, record.host, label, record.peer)
    if isinstance(data, DnsQuery):
        label = f"{data.qtype}? {data.qname}"
        return Step(record.time, StepKind.QUERY, record.host, label, DNS)
    if isinstance(data, DnsAnswer):
        return Step(record.time, StepKind.ANSWER, DNS, _answer(data), record.host)
    words = note_text(record)
    if words is None:
        return None
    return Step(record.time, StepKind.NOTE, record.host, visible(words), tone=record.kind.value)


def _answer(data: DnsAnswer) -> str:
    """"10 mail.example.net" or "NXDOMAIN": what DNS said."""
    if data.rcode != "NOERROR":
        return data.rcode
    return ", ".join(data.answers) if data.answers else "no records"


def note_text(record: TraceRecord) -> str | None:
    """The short words of a note on a host's lifeline; None for no note."""
    data = record.payload
    if isinstance(data, MailComposed):
        to = ", ".join(data.recipients)
        if data.origin == "bounce":
            return f"bounce {record.message} composed for {to}"
        return f"composed “{data.subject}” for {to}"
    if isinstance(data, QueueEnter):
        return f"queued as {data.queue_id}"
    if isinstance(data, QueueLeave):
        return None if data.reason == "done" else f"{data.queue_id} removed ({data.reason})"
    if isinstance(data, MailRelayed):
        return f"{data.queue_id} relayed to {data.relay}"
    if isinstance(data, MailDeferred):
        return f"{data.queue_id} deferred: {data.reply}"
    if isinstance(data, MailDelivered):
        return f"delivered to mailbox {data.mailbox}"
    if isinstance(data, MailBounced):
        words = f"<{data.recipient}> bounced: {data.reply}"
        return f"{words}; DSN {data.bounce_id}" if data.bounce_id else words
    if isinstance(data, MailQueued):
        return f"{data.queue_id} still queued: {data.reason}"
    if isinstance(data, MailFetched):
        return f"{data.user} downloaded “{data.subject}”"
    return record.text if record.kind is Kind.NOTE else None


def lifelines(steps: Iterable[Step], hosts: Iterable[str] | None = None) -> list[str]:
    """The columns of a diagram: `hosts` as given, else every host in order of appearance.

    With `hosts` given, the DNS column is added when a listed host talks to DNS.
    """
    seen: dict[str, None] = {}
    for step in steps:
        for name in (step.source, step.target):
            if name is not None:
                seen.setdefault(name)
    if hosts is None:
        return list(seen)
    chosen = list(dict.fromkeys(hosts))
    if DNS in seen and DNS not in chosen and _asks_dns(steps, chosen):
        chosen.append(DNS)
    return chosen


def _asks_dns(steps: Iterable[Step], hosts: list[str]) -> bool:
    return any(step.target == DNS and step.source in hosts for step in steps)


def drawable(steps: Iterable[Step], columns: list[str]) -> list[Step]:
    """The steps whose ends all have a column; narration notes always stay."""
    names = set(columns)
    return [
        step for step in steps
        if (step.source in names and (step.target is None or step.target in names))
        or (step.is_note and step.tone == Kind.NOTE.value)
    ]
