"""Follow a message: its journey hop by hop, and how long it waited where.

Read from the trace alone, a message's journey is: composed at the MUA,
received by an MTA (submission on port 587, relay on port 25) and queued
under a queue id, the DNS lookups that MTA made while it held the message,
then per recipient: relayed to the next MTA (with that server's reply),
deferred, bounced (with the status, the reply and the bounce's own
Message-ID), delivered into a mailbox, and downloaded by the recipient's
client.  Each hop that ends a wait says how long it was: the time spent in
an MTA's queue, the time spent in the mailbox until the client fetched it.

Recipients that travel together share one table; once their paths part
(one is delivered, another deferred), each gets a table of its own.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from rich import box
from rich.console import Console, ConsoleOptions, Group, RenderableType, RenderResult
from rich.jupyter import JupyterMixin
from rich.table import Table
from rich.text import Text

from simulator.fates import address_key
from simulator.trace import Kind, TraceRecord
from simulator.trace_data import (
    DnsAnswer,
    MailBounced,
    MailComposed,
    MailDeferred,
    MailDelivered,
    MailFetched,
    MailQueued,
    MailRelayed,
    ProtocolLine,
    QueueEnter,
    TcpRefused,
)
from simulator.views.formatting import (
    abbreviate_host,
    format_clock,
    format_duration,
    visible,
)
from simulator.views.scope import queue_stays

#: Ports whose dialogues are named after their role (RFC 6409, RFC 5321).
PORT_ROLES: Mapping[int, str] = {587: "submission", 25: "relay", 465: "submission over TLS"}
#: Host names are abbreviated to this many cells under 100 columns, and to HOST_CAP above.
NARROW_HOST = 12
HOST_CAP = 24
_WIDE = 100
WAITED = (
    "Waited: how long the message sat in the MTA's queue before that hop, "
    "or in the mailbox before it was downloaded."
)

_TONES: Mapping[str, str] = {
    Kind.MAIL_COMPOSED.value: "magenta",
    Kind.QUEUE_ENTER.value: "yellow",
    Kind.DNS_ANSWER.value: "dim",
    Kind.TCP_REFUSED.value: "red",
    Kind.MAIL_RELAYED.value: "yellow",
    Kind.MAIL_DEFERRED.value: "yellow",
    Kind.MAIL_BOUNCED.value: "bold red",
    Kind.MAIL_QUEUED.value: "bold yellow",
    Kind.MAIL_DELIVERED.value: "bold green",
    Kind.MAIL_FETCHED.value: "green",
}


@dataclass(frozen=True, slots=True)
class Hop:
    """One step of a journey; `recipient` None when it concerns every recipient.

    `waited` is the time the hop ended (in seconds), spent `waited_in` "queue"
    or "mailbox"; `tone` the kind of the record it comes from.
    """

    time: float
    host: str
    what: str
    tone: str
    recipient: str | None = None
    waited: float | None = None
    waited_in: str = ""


@dataclass
class Journey:
    """Everything the trace says about one message, in trace order."""

    message_id: str
    subject: str = ""
    sender: str = ""
    recipients: list[str] = field(default_factory=list)
    composed_at: float | None = None
    hops: list[Hop] = field(default_factory=list)
    ended: dict[str, tuple[str, float]] = field(default_factory=dict)  # key -> (fate, time)
    fetched: dict[str, float] = field(default_factory=dict)  # key -> time
    bounces: dict[str, str] = field(default_factory=dict)  # bounce id -> recipient

    def own(self, recipient: str) -> list[Hop]:
        """The hops that concern `recipient` alone."""
        key = address_key(recipient)
        return [hop for hop in self.hops if hop.recipient is not None
                and address_key(hop.recipient) == key]

    def common(self) -> list[Hop]:
        """The hops every recipient shares."""
        return [hop for hop in self.hops if hop.recipient is None]


def follow(records: Iterable[TraceRecord], message_id: str) -> Journey:
    """The journey of the message with this Message-ID, from the trace."""
    records = list(records)
    tracer = _Tracer(Journey(message_id), queue_stays(records, message_id))
    for record in records:
        tracer.feed(record)
    return tracer.journey


class _Tracer:
    """Builds a journey one record at a time."""

    def __init__(self, journey: Journey, stays: Mapping[str, list[tuple[float, float]]]):
        self.journey = journey
        self._stays = stays
        self._entered: dict[tuple[str, str], float] = {}  # (host, queue id) -> time
        self._delivered: dict[str, float] = {}  # recipient key -> time
        self._last_entered: float | None = None  # when the last MTA queued the message
        self._arrivals: dict[str, tuple[str, int]] = {}  # host -> (sender host, port)
        self._bounce_stored: dict[str, float] = {}  # bounce id -> time it reached a mailbox

    def feed(self, record: TraceRecord) -> None:
        journey = self.journey
        if record.message == journey.message_id:
            self._own(record)
        elif record.message in journey.bounces:
            self._bounce(record)
        elif isinstance(record.payload, DnsAnswer) and self._holding(record):
            self._add(record, _lookup(record.payload))
        elif isinstance(record.payload, TcpRefused) and self._holding(record):
            refused = record.payload
            self._add(record, f"connect to {record.peer} port {refused.port}: "
                              f"{refused.reason or 'refused'}")

    def _holding(self, record: TraceRecord) -> bool:
        return any(a <= record.time <= b for a, b in self._stays.get(record.host, ()))

    def _add(self, record: TraceRecord, what: str, recipient: str | None = None,
             since: float | None = None, place: str = "") -> None:
        waited = None if since is None else record.time - since
        self.journey.hops.append(Hop(record.time, record.host, visible(what), record.kind.value,
                                     recipient, waited, place))

    def _own(self, record: TraceRecord) -> None:
        data = record.payload
        smtp = record.protocol == "smtp"  # not LMTP or POP3: no queue entry follows those
        if isinstance(data, ProtocolLine) and data.role == "client" and record.peer and smtp:
            self._arrivals[record.peer] = (record.host, data.port)
        elif isinstance(data, MailComposed):
            self._composed(record, data)
        elif isinstance(data, QueueEnter):
            self._queued(record, data.queue_id)
        elif isinstance(data, _Outcome):
            self._outcome(record, data)
        elif isinstance(data, MailFetched):
            user = data.user
            self.journey.fetched[address_key(user)] = record.time
            self._add(record, f"downloaded by the client of {user} (POP3)", user,
                      self._delivered.get(address_key(user)), "mailbox")

    def _composed(self, record: TraceRecord, data: MailComposed) -> None:
        journey = self.journey
        journey.composed_at = record.time
        journey.sender = data.sender
        journey.subject = data.subject
        journey.recipients = list(data.recipients)
        to = ", ".join(journey.recipients)
        if data.origin == "bounce":
            self._add(record, f"bounce composed for {to}, about {data.original}")
        else:
            self._add(record, f"composed by {journey.sender or '?'} for {to}")

    def _queued(self, record: TraceRecord, queue_id: str) -> None:
        self._entered[(record.host, queue_id)] = record.time
        self._last_entered = record.time
        arrival = self._arrivals.pop(record.host, None)
        if arrival is None:
            self._add(record, f"queued as {queue_id}")
            return
        sender, port = arrival
        role = PORT_ROLES.get(port, "SMTP")
        self._add(record, f"received from {sender} on port {port} ({role}), queued as {queue_id}")

    def _outcome(self, record: TraceRecord, data: _Outcome) -> None:
        recipient = data.recipient
        since = self._entered.get((record.host, data.queue_id or "?"))
        if isinstance(data, MailDelivered):  # the MDA, over LMTP: since the last MTA queued it
            since = self._last_entered
        self._add(record, _outcome_words(data), recipient, since, "queue")
        key = address_key(recipient)
        if isinstance(data, MailDelivered):
            self._delivered[key] = record.time
        if isinstance(data, MailBounced) and data.bounce_id:
            self.journey.bounces[data.bounce_id] = recipient
        if record.kind in _FINAL and key not in self.journey.ended:
            status = None if isinstance(data, MailDelivered | MailRelayed) else data.status
            fate = f"{_FINAL[record.kind]} ({status})" if status else _FINAL[record.kind]
            self.journey.ended[key] = (fate, record.time)

    def _bounce(self, record: TraceRecord) -> None:
        bounce_id = str(record.message)
        recipient = self.journey.bounces[bounce_id]
        data = record.payload
        if isinstance(data, MailDelivered):
            self._bounce_stored[bounce_id] = record.time
            self._add(record, f"the bounce is delivered into the mailbox {data.mailbox}",
                      recipient)
        elif isinstance(data, MailFetched):
            self._add(record, f"the bounce is downloaded by {data.user}", recipient,
                      self._bounce_stored.get(bounce_id), "mailbox")


def _lookup(data: DnsAnswer) -> str:
    answers = ", ".join(data.answers)
    said = answers if data.rcode == "NOERROR" and answers else data.rcode
    return f"DNS {data.qtype} {data.qname} → {said}"


#: What happened to one recipient at one host.
_Outcome = MailRelayed | MailDeferred | MailBounced | MailDelivered | MailQueued


def _outcome_words(data: _Outcome) -> str:
    """The words of a hop that settles (or delays) one recipient."""
    match data:
        case MailRelayed():
            return f"relayed to {data.relay}: {data.reply}"
        case MailDeferred():
            return f"deferred, attempt {data.attempt}: {data.reply}"
        case MailBounced():
            why = "expired, returned" if data.expired else "bounced"
            dsn = data.bounce_id
            tail = f"; bounce {dsn} sent to the sender" if dsn else "; no bounce sent"
            return f"{why} {data.status}: {data.reply}{tail}"
        case MailDelivered():
            return f"delivered into the mailbox {data.mailbox} ({data.hops} Received: headers)"
        case MailQueued():
            return f"still in the queue when the run ended: {data.reason}"
_FINAL = {Kind.MAIL_DELIVERED: "delivered", Kind.MAIL_BOUNCED: "bounced",
          Kind.MAIL_QUEUED: "still queued"}


class FollowView(JupyterMixin):
    """The journey of one message: a table of hops with waiting times, then end to end."""

    def __init__(self, records: Iterable[TraceRecord], message_id: str) -> None:
        self.journey = follow(records, message_id)

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        journey, width = self.journey, options.max_width
        if not journey.hops:
            yield Text(f"No record of {journey.message_id} in the trace.", "italic")
            return
        yield self._title()
        for heading, hops in self._sections():
            yield _table(heading, hops, width)
        yield Group(*self._endings())

    def _title(self) -> Text:
        journey = self.journey
        title = Text.assemble(("Follow ", "bold"), (journey.message_id, "bold"))
        if journey.subject:
            title.append(f" “{visible(journey.subject)}”")
        if journey.composed_at is not None:
            to = ", ".join(journey.recipients)
            title.append(f"\nfrom {journey.sender or '<>'} to {to}", "dim")
        return title

    def _sections(self) -> list[tuple[str | None, list[Hop]]]:
        """One table for recipients that travel together, else one per recipient."""
        journey = self.journey
        names = journey.recipients or sorted({h.recipient for h in journey.hops if h.recipient})
        paths = {name: journey.own(name) for name in names}
        shapes = {tuple((h.time, h.host, h.tone) for h in hops) for hops in paths.values()}
        if len(names) <= 1 or len(shapes) == 1:
            together = [hop for hop in journey.hops if hop.recipient is None
                        or hop.recipient in names]
            return [(None, _marked(together, names))]
        return [(f"→ {name}", sorted(journey.common() + paths[name], key=lambda h: h.time))
                for name in names]

    def _endings(self) -> list[Text]:
        journey = self.journey
        start = journey.composed_at
        lines = []
        for name in journey.recipients:
            fate, at = journey.ended.get(address_key(name), ("in flight", None))
            line = Text.assemble("End to end, ", (name, "bold"), f": {fate}")
            if start is not None and at is not None:
                line.append(f" after {format_duration(at - start)}")
            fetched = journey.fetched.get(address_key(name))
            if start is not None and fetched is not None:
                line.append(f"; downloaded after {format_duration(fetched - start)}")
            lines.append(line)
        return lines


def _marked(hops: list[Hop], names: list[str]) -> list[Hop]:
    """With several recipients travelling together, each own hop names its recipient."""
    if len(names) <= 1:
        return hops
    return [hop if hop.recipient is None else
            Hop(hop.time, hop.host, f"{hop.recipient}: {hop.what}", hop.tone, hop.recipient,
                hop.waited, hop.waited_in)
            for hop in hops]


def _table(heading: str | None, hops: list[Hop], width: int) -> RenderableType:
    cap = HOST_CAP if width >= _WIDE else NARROW_HOST
    longest = max(len(hop.host) for hop in hops)
    host_width = min(cap, longest)
    table = Table(title=heading, title_justify="left", caption=WAITED, caption_justify="left",
                  box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, padding=(0, 1, 0, 0),
                  header_style="bold", expand=False)
    table.add_column("Time", style="dim", no_wrap=True)
    table.add_column("Host", style="bold", no_wrap=True, width=host_width)
    table.add_column("Hop", ratio=1, overflow="fold")
    table.add_column("Waited", justify="right", no_wrap=True)
    for hop in hops:
        waited = "" if hop.waited is None else format_duration(hop.waited)
        table.add_row(format_clock(hop.time), abbreviate_host(hop.host, host_width),
                      Text(hop.what, _TONES.get(hop.tone, "")), waited)
    return table

