"""Inspector views: a mail queue, a mailbox, the copies of one message.

These draw what the `Simulation` inspectors (`sim.queue(host)`,
`sim.mailbox(address)`, `sim.message(message_id)`) return: plain records
of the world at one instant, handed in by the caller.

- `QueueView` reads like Postfix's `mailq` (the showq daemon): queue id
  with `*` while a delivery attempt is under way, size in octets, arrival
  time, the envelope sender, the reason a deferred message waits in
  parentheses, the recipients indented, and a `-- N Kbytes in M Requests.`
  footer -- or "Mail queue is empty".  Arrival times are simulated clock
  times, as everywhere in mailsim.
- `MailboxView` lists a mailbox like a POP3 client would: number, unique
  id, sender, subject, size, and STAT's totals.
- `MessageView` shows each copy -- where it is, the envelope sender beside
  the `From:` header (they can differ, and bounces go to the first), and
  the headers top to bottom with the `Received:` chain numbered bottom-up:
  1 is the oldest hop, at the bottom, added by the first MTA.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Protocol

from rich import box
from rich.console import Console, ConsoleOptions, Group, RenderResult
from rich.jupyter import JupyterMixin
from rich.table import Table
from rich.text import Text

from simulator.views.formatting import format_clock, visible

#: How `mailq` names the null sender (Postfix's `empty_address_recipient` default).
EMPTY_SENDER = "MAILER-DAEMON"
#: Recipients are indented past the id, size and arrival columns (Postfix showq).
RECIPIENT_INDENT = 41
#: Deferral reasons end at this column when they fit (Postfix showq pads to 76).
REASON_END = 76


class QueueEntryLike(Protocol):
    """What `QueueView` reads of an entry (`simulator.inspect.QueueEntry`)."""

    @property
    def queue_id(self) -> str: ...
    @property
    def arrived_at(self) -> float: ...
    @property
    def size(self) -> int: ...
    @property
    def sender(self) -> str: ...
    @property
    def recipients(self) -> Sequence[str]: ...
    @property
    def active(self) -> bool: ...
    @property
    def reason(self) -> str: ...


class MailboxEntryLike(Protocol):
    """What `MailboxView` reads of an entry (`simulator.inspect.MailboxEntry`)."""

    @property
    def uid(self) -> str: ...
    @property
    def sender(self) -> str: ...
    @property
    def subject(self) -> str: ...
    @property
    def size(self) -> int: ...


class MessageCopyLike(Protocol):
    """What `MessageView` reads of a copy (`simulator.inspect.MessageCopy`)."""

    @property
    def place(self) -> str: ...
    @property
    def host(self) -> str: ...
    @property
    def holder(self) -> str: ...
    @property
    def envelope_sender(self) -> str | None: ...
    @property
    def headers(self) -> Sequence[tuple[str, str]]: ...


class QueueView(JupyterMixin):
    """The mail queue of one MTA, as `mailq` prints it."""

    def __init__(self, host: str, entries: Iterable[QueueEntryLike], now: float) -> None:
        self.host = host
        self.entries = list(entries)
        self.now = now

    def lines(self, width: int = 80) -> list[str]:
        """The plain lines of the listing, as `mailq` would print them."""
        if not self.entries:
            return ["Mail queue is empty"]
        lines = [f"{'-Queue ID-':<10} {'--Size--':>8} {'----Arrival Time----':<20} "
                 "-Sender/Recipient-------"]
        for number, entry in enumerate(self.entries):
            if number:
                lines.append("")
            lines.extend(_entry_lines(entry, width))
        total = sum(entry.size for entry in self.entries)
        count = len(self.entries)
        lines += ["", f"-- {total // 1024} Kbytes in {count} Request{'' if count == 1 else 's'}."]
        return lines

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        yield Text(f"mailq on {self.host} at {format_clock(self.now)}", "bold")
        for line in self.lines(options.max_width):
            yield Text(visible(line), _line_style(line), overflow="fold")


def _entry_lines(entry: QueueEntryLike, width: int) -> list[str]:
    status = "*" if entry.active else " "
    sender = entry.sender or EMPTY_SENDER
    arrival = format_clock(entry.arrived_at)
    lines = [f"{entry.queue_id:<10}{status}{entry.size:>8} {arrival:<20.20} {sender}"]
    if entry.reason:
        reason = f"({entry.reason})"
        lines.append(" " * max(0, min(REASON_END, width - 2) - len(entry.reason)) + reason)
    indent = " " * RECIPIENT_INDENT
    lines += [f"{indent}{recipient}" for recipient in entry.recipients]
    return lines


def _line_style(line: str) -> str:
    stripped = line.strip()
    if stripped.startswith("(") and stripped.endswith(")"):
        return "yellow"
    return "dim" if stripped.startswith(("-Queue", "--")) else ""


class MailboxView(JupyterMixin):
    """The messages in one mailbox, numbered as POP3 numbers them."""

    def __init__(self, address: str, entries: Iterable[MailboxEntryLike]) -> None:
        self.address = address
        self.entries = list(entries)

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        if not self.entries:
            yield Text(f"The mailbox of {self.address} is empty.", "italic")
            return
        table = Table(title=f"Mailbox of {self.address}", title_justify="left",
                      title_style="bold", box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False,
                      padding=(0, 2, 0, 0), header_style="bold")
        table.add_column("#", justify="right", no_wrap=True)
        table.add_column("UID", no_wrap=True)
        table.add_column("From", overflow="fold")
        table.add_column("Subject", overflow="fold")
        table.add_column("Size", justify="right", no_wrap=True)
        for number, entry in enumerate(self.entries, start=1):
            table.add_row(str(number), entry.uid, visible(entry.sender),
                          visible(entry.subject), str(entry.size))
        total = sum(entry.size for entry in self.entries)
        count = len(self.entries)
        plural = "" if count == 1 else "s"
        yield Group(table, Text(f"{count} message{plural}, {total} octets", "dim"))


_PLACES = {
    "queue": "In the queue of {host}, as {holder}",
    "mailbox": "In the mailbox {holder} on {host}",
    "client": "Downloaded by the mail client of {holder} on {host}",
}

ENVELOPE_NOTE = (
    "The envelope sender (MAIL FROM, kept as Return-Path:) is where bounces go; "
    "From: is what the reader sees. They need not be the same."
)
RECEIVED_NOTE = "Received: headers read bottom-up: 1 is the first hop, the oldest."


class MessageView(JupyterMixin):
    """Every copy of one message: where it is, its senders, its headers."""

    def __init__(self, copies: Iterable[MessageCopyLike]) -> None:
        self.copies = list(copies)

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        if not self.copies:
            yield Text("No copy of this message is left anywhere.", "italic")
            return
        for number, copy in enumerate(self.copies):
            if number:
                yield Text("")
            yield Text(_PLACES.get(copy.place, "{place} on {host}, {holder}").format(
                place=copy.place, host=copy.host, holder=copy.holder), "bold")
            yield _senders(copy)
            yield Text(ENVELOPE_NOTE, "dim italic")
            yield _headers(copy)
            yield Text(RECEIVED_NOTE, "dim italic")


def _senders(copy: MessageCopyLike) -> Table:
    """The envelope sender and the From: header, side by side."""
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, padding=(0, 2, 0, 0),
                  header_style="bold")
    table.add_column("Envelope sender (MAIL FROM)", overflow="fold")
    table.add_column("From: header", overflow="fold")
    froms = [value for name, value in copy.headers if name.lower() == "from"]
    table.add_row(_envelope(copy.envelope_sender),
                  visible(froms[0]) if froms else Text("(none)", "dim"))
    return table


def _envelope(sender: str | None) -> Text:
    if sender is None:
        return Text("(not known here)", "dim")
    if not sender:
        return Text("<> (null sender: a bounce)", "italic")
    return Text(f"<{visible(sender)}>")


def _headers(copy: MessageCopyLike) -> Table:
    """The header fields top to bottom, Received: numbered from the bottom."""
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, padding=(0, 1, 0, 0),
                  header_style="bold")
    table.add_column("#", justify="right", no_wrap=True)
    table.add_column("Header", style="bold", no_wrap=True)
    table.add_column("Value", overflow="fold")
    hops = sum(1 for name, _ in copy.headers if name.lower() == "received")
    for name, value in copy.headers:
        number = ""
        if name.lower() == "received":
            number = str(hops)
            hops -= 1
        table.add_row(number, visible(name) + ":", visible(value))
    return table
