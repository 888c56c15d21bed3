"""Folding payloads: a message body need not fill the projector.

When a client sends a message after DATA, or a server answers RETR, many
protocol lines leave one host at one instant: a *run*.  Such a run is
shown so that what matters stays on screen:

- A message is shown once.  The first time its text crosses the wire
  (usually at submission) a short one is shown whole; a long one keeps
  its header section (where `Received:` and `Message-ID:` live), the
  per-recipient fields of a delivery status notification (`Status: 5.1.1`,
  RFC 3464 §2.3), and its final "."; "[… N more lines not shown]" stands
  for the rest.
- Later hops of the same message (the relay's DATA, the POP3 download)
  show only the header fields not seen before -- the new `Received:`, the
  `Return-Path:` and `Delivered-To:` of final delivery -- and one line
  "[… body as above (N lines)]" for the rest (the known header fields
  and the body).  The message is known by its Message-ID: the record's
  `message` field, or else the `Message-ID:` field of the text itself
  (POP3 lines carry no `message`), never by comparing texts.
- Lines a lesson highlights are never folded away.

`--full` (`full=True` in the views) shows everything.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace

from simulator.trace import Kind, TraceRecord
from simulator.trace_data import ElidedLines, ProtocolLine

#: Runs up to this many lines are shown whole: replies, and short messages.
SHORT_RUN = 30
#: At most this many header lines are shown from a longer run.
MAX_HEAD = 30
#: Folding fewer lines than this would hide more than it saves.
MIN_LEFT_OUT = 4
#: Lines kept from a longer run that has no blank line (no header section).
PLAIN_HEAD = 6
#: RFC 3464 §2.3: the per-recipient fields that say what became of a copy.
DSN_FIELDS = ("final-recipient", "action", "status", "diagnostic-code")

# RFC 5322 §2.2: a field name is printable US-ASCII except ":", then ":".
_FIELD = re.compile(r"^([!-9;-~]+):")

Keep = Callable[[str], bool]


def run_key(record: TraceRecord) -> tuple[object, ...] | None:
    """Records with equal keys belong to one run; None never runs."""
    if record.kind is not Kind.LINE:
        return None
    # the role too: on a loopback connection (the LMTP hand-off to an MDA on the
    # MTA's own host) both sides are one host, and no time passes between them
    return (record.session, record.host, record.time, record.role)


@dataclass(frozen=True, slots=True)
class Payload:
    """Where a message's text lies in a run of lines.

    `fields` holds one (start, stop) index range per header field, a
    folded field with its continuation lines.
    """

    fields: tuple[tuple[int, int], ...]
    message_id: str | None


def payload_of(run: Sequence[TraceRecord]) -> Payload | None:
    """The message a run carries, if it is one: header fields, then data up to "."."""
    if len(run) < 3 or run[-1].text != ".":
        return None
    start = 1 if run[0].text.startswith("+OK") else 0  # POP3 RETR/TOP: status line first
    fields: list[tuple[int, int]] = []
    index = start
    while index < len(run) - 1:
        text = run[index].text
        if text[:1] in (" ", "\t") and fields:
            fields[-1] = (fields[-1][0], index + 1)
        elif _FIELD.match(text):
            fields.append((index, index + 1))
        else:
            break
        index += 1
    if not fields:
        return None
    return Payload(tuple(fields), _message_id(run, fields))


def _message_id(run: Sequence[TraceRecord], fields: list[tuple[int, int]]) -> str | None:
    for start, stop in fields:
        name, _, value = run[start].text.partition(":")
        if name.strip().lower() == "message-id":
            words = [value, *(run[i].text for i in range(start + 1, stop))]
            return " ".join(" ".join(words).split()) or None
    return None


def run_message(run: Sequence[TraceRecord]) -> str | None:
    """The Message-ID a run belongs to: its records' tag, or the one its text names."""
    for record in run:
        if record.message:
            return record.message
    if len(run) < 3 or run[-1].text != ".":
        return None
    payload = payload_of(run)
    return payload.message_id if payload else None


def fold(run: list[TraceRecord], keep: Keep | None = None) -> list[TraceRecord]:
    """A long run with what it does not need to show replaced by "left out" lines.

    Kept: the header section, DSN per-recipient fields, lines `keep`
    accepts, and the last line.
    """
    if len(run) <= SHORT_RUN:
        return run
    texts = [record.text for record in run]
    head = texts.index("") + 1 if "" in texts[:MAX_HEAD] else PLAIN_HEAD
    kept = set(range(head)) | {len(run) - 1} | _dsn_lines(texts) | _kept_lines(texts, keep)
    return elide(run, kept, _more_lines)


def _kept_lines(texts: Sequence[str], keep: Keep | None) -> set[int]:
    """Indices of the lines `keep` accepts, each with the continuation lines after it."""
    if keep is None:
        return set()
    kept: set[int] = set()
    for index, text in enumerate(texts):
        if keep(text):
            kept.add(index)
            following = index + 1
            while following < len(texts) and texts[following][:1] in (" ", "\t"):
                kept.add(following)
                following += 1
    return kept


def _dsn_lines(texts: Sequence[str]) -> set[int]:
    """Indices of RFC 3464 per-recipient fields, with their continuation lines."""
    lines: set[int] = set()
    inside = False
    for index, text in enumerate(texts):
        if text[:1] in (" ", "\t"):
            if inside:
                lines.add(index)
            continue
        inside = text.split(":", 1)[0].strip().lower() in DSN_FIELDS and ":" in text
        if inside:
            lines.add(index)
    return lines


def _more_lines(count: int, first: bool) -> str:
    hint = "; mailsim run --full shows them" if first else ""
    return f"[… {count} more lines not shown{hint}]"


def _as_above(count: int, first: bool) -> str:
    return f"[… body as above ({count} lines)]"


def elide(
    run: list[TraceRecord], kept: set[int], words: Callable[[int, bool], str]
) -> list[TraceRecord]:
    """`run` with each gap of unkept lines (of `MIN_LEFT_OUT` or more) as one marker line.

    Shorter gaps are shown: a marker would save nothing.
    """
    shown: list[TraceRecord] = []
    gap: list[int] = []
    markers = 0
    for index in [*range(len(run)), None]:
        if index is not None and index not in kept:
            gap.append(index)
            continue
        if len(gap) >= MIN_LEFT_OUT:
            shown.append(_marker(run[gap[0]], len(gap), words(len(gap), markers == 0)))
            markers += 1
        else:
            shown.extend(run[i] for i in gap)
        gap = []
        if index is not None:
            shown.append(run[index])
    return shown if markers else run


def _marker(record: TraceRecord, count: int, text: str) -> TraceRecord:
    line = record.payload_as(ProtocolLine)
    marker = ElidedLines(role=line.role, port=line.port, elided=count)
    return replace(record, text=text, payload=marker)


class BodyMemory:
    """What has been shown of each message so far: its header fields, by Message-ID."""

    def __init__(self) -> None:
        self._seen: dict[str, set[tuple[str, ...]]] = {}

    def shape(self, run: list[TraceRecord], keep: Keep | None = None) -> list[TraceRecord]:
        """A run as it is to be shown: whole, folded, or "as above"."""
        payload = payload_of(run)
        message = run_message(run) if payload else None
        if payload is None or message is None:
            return fold(run, keep)
        fields = {start: tuple(r.text for r in run[start:stop]) for start, stop in payload.fields}
        seen = self._seen.get(message)
        self._seen[message] = (seen or set()) | set(fields.values())
        if seen is None:
            return fold(run, keep)
        kept = set(range(payload.fields[0][0])) | {len(run) - 1}
        for start, stop in payload.fields:
            if fields[start] not in seen:
                kept |= set(range(start, stop))
        kept |= _kept_lines([record.text for record in run], keep)
        return elide(run, kept, _as_above)


class Runs:
    """Groups a stream of records into runs: records go in one at a time.

    A line is held back while its run may go on; `push` returns the units
    complete so far (a run of lines, or one other record), `flush` the run
    still held at the end.
    """

    def __init__(self) -> None:
        self._run: list[TraceRecord] = []

    def push(self, record: TraceRecord) -> list[list[TraceRecord]]:
        """Take one record; the units ready to be shown, in order."""
        key = run_key(record)
        if self._run and key == run_key(self._run[0]):
            self._run.append(record)
            return []
        ready = self.flush()
        if key is None:
            return [*ready, [record]]
        self._run = [record]
        return ready

    def flush(self) -> list[list[TraceRecord]]:
        """The run held back, if any."""
        run, self._run = self._run, []
        return [run] if run else []


def folded(records: Iterable[TraceRecord]) -> Iterator[TraceRecord]:
    """`records` with every long run of lines folded."""
    runs = Runs()
    for record in records:
        for unit in runs.push(record):
            yield from fold(unit)
    for unit in runs.flush():
        yield from fold(unit)
