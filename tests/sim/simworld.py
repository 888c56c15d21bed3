"""Builders of small simulated worlds for tests/sim, and helpers to read their traces.

Test modules import from here (`from simworld import ...`); `conftest.py`
exposes the same builders as fixtures.

`two_providers()` is the world most tests start from, as a plain scenario
dict a test can tweak before `run_world` builds and plays it:

    alice-pc ──5ms── router ──5ms── bob-pc
                     │  │  │
          1ms ───────┘  │  └─────── 20ms
    mail.example.org    5ms    mail.example.net
    (mta, mda)          │      (mta, mda)
                     stranger (no roles: a raw SMTP client)

`run_world` checks the ledger after every run: each composed message ends
delivered, bounced or visibly queued -- never lost -- and the trace says so
exactly once per recipient (`assert_one_final_record_each`).
"""

from __future__ import annotations

import copy
from collections import deque
from collections.abc import Generator, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import simpy

from simulator.agents.transfer import transfer
from simulator.fates import (
    UNKNOWN_ORIGIN,
    Fate,
    MessageFate,
    address_key,
    enhanced_status,
    message_fates,
)
from simulator.net.connection import Endpoint
from simulator.protocols.message import header_values
from simulator.protocols.smtp import Envelope, Reply, SmtpClientConfig
from simulator.scenario import validate_scenario
from simulator.scenario.builder import build_world
from simulator.simulation import Simulation
from simulator.trace import Kind, Trace, TraceRecord
from simulator.world import World

ALICE = "alice@example.org"
BOB = "bob@example.net"
ORG_MTA = "mail.example.org"
NET_MTA = "mail.example.net"
ORG_ADDRESS = "198.51.100.25"
ALICE_PC_ADDRESS = "192.0.2.10"
SMTP_PORT = 25  # RFC 5321: relay between MTAs
SUBMISSION_PORT = 587  # RFC 6409 §3.1

_TWO_PROVIDERS: dict[str, Any] = {
    "name": "two providers",
    "seed": 1,
    "duration": "5m",
    "hosts": {
        "router": {"address": "203.0.113.1"},
        "alice-pc": {
            "address": ALICE_PC_ADDRESS,
            "roles": ["mua"],
            "links": [{"to": "router", "latency": "5ms", "bandwidth": "100Mbit"}],
        },
        "bob-pc": {
            "address": "203.0.113.140",
            "roles": ["mua"],
            "links": [{"to": "router", "latency": "5ms", "bandwidth": "100Mbit"}],
        },
        "stranger": {
            "address": "192.0.2.66",
            "links": [{"to": "router", "latency": "5ms", "bandwidth": "100Mbit"}],
        },
        ORG_MTA: {
            "address": ORG_ADDRESS,
            "roles": ["mta", "mda"],
            "links": [{"to": "router", "latency": "1ms", "bandwidth": "1Gbit"}],
        },
        NET_MTA: {
            "address": "203.0.113.25",
            "roles": ["mta", "mda"],
            "links": [{"to": "router", "latency": "20ms", "bandwidth": "1Gbit"}],
        },
    },
    "dns": {
        "example.org": [{"type": "MX", "preference": 10, "exchange": ORG_MTA}],
        "example.net": [{"type": "MX", "preference": 10, "exchange": NET_MTA}],
    },
    "domains": {
        "example.org": {
            "mta": ORG_MTA,
            "mda": ORG_MTA,
            "users": {"alice": {"password": "wonderland", "mua": "alice-pc", "check_every": "1h"}},
        },
        "example.net": {
            "mta": NET_MTA,
            "mda": NET_MTA,
            "users": {"bob": {"password": "builder", "mua": "bob-pc", "check_every": "1h"}},
        },
    },
    "traffic": [],
}


def two_providers(*, traffic: list[dict[str, Any]] | None = None, **top: Any) -> dict[str, Any]:
    """A fresh copy of the two-provider world; `top` replaces top-level keys."""
    scenario = copy.deepcopy(_TWO_PROVIDERS)
    scenario.update(copy.deepcopy(top))
    if traffic is not None:
        scenario["traffic"] = traffic
    return scenario


def with_user(scenario: dict[str, Any], address: str, **settings: Any) -> dict[str, Any]:
    """`scenario` with the user at `address` added (password "secret"), or its settings updated."""
    local, _, domain = address.partition("@")
    users = scenario["domains"][domain]["users"]
    users[local] = {**users.get(local, {"password": "secret"}), **settings}
    return scenario


def mail(at: str, to: str | list[str], sender: str = ALICE, subject: str = "Hi") -> dict[str, Any]:
    """One traffic entry."""
    return {"at": at, "from": sender, "to": to, "subject": subject, "body": "Hello.\n"}


def add_host(
    scenario: dict[str, Any],
    name: str,
    address: str,
    *,
    roles: tuple[str, ...] = (),
    link_to: str | None = "router",
    latency: str = "5ms",
) -> None:
    """Add a host (linked to `link_to` unless None: then it is cut off)."""
    links = [] if link_to is None else [{"to": link_to, "latency": latency}]
    scenario["hosts"][name] = {"address": address, "roles": list(roles), "links": links}


def build(scenario: dict[str, Any]) -> World:
    """Validate the dict and build its world, not yet run."""
    return build_world(validate_scenario(scenario))


def run_world(scenario: dict[str, Any] | World) -> World:
    """Build (if needed) and run a world, then check that no message was lost."""
    world = scenario if isinstance(scenario, World) else build(scenario)
    Simulation.of_world(world).run()
    assert_no_message_lost(world.trace)
    assert_one_final_record_each(world.trace)
    return world


def assert_no_message_lost(trace: Trace) -> list[MessageFate]:
    """Every composed copy ends delivered, bounced or queued."""
    fates = message_fates(trace)
    lost = [f for f in fates if f.fate is Fate.IN_FLIGHT]
    assert not lost, f"messages lost (no final record): {lost}"
    composed = {r.message for r in trace.of_kind(Kind.MAIL_COMPOSED)}
    assert composed <= {f.message_id for f in fates}
    return fates


#: The records that settle a copy's fate: in a mailbox, returned, or still queued at the end.
FINAL_KINDS = (Kind.MAIL_DELIVERED, Kind.MAIL_BOUNCED, Kind.MAIL_QUEUED)


def final_records(trace: Iterable[TraceRecord]) -> dict[tuple[str | None, str], list[TraceRecord]]:
    """The final records of each (Message-ID, recipient), recipients as `address_key` has them."""
    found: dict[tuple[str | None, str], list[TraceRecord]] = {}
    for record in trace:
        if record.kind in FINAL_KINDS:
            key = (record.message, address_key(str(record.data.get("recipient", ""))))
            found.setdefault(key, []).append(record)
    return found


def assert_one_final_record_each(trace: Iterable[TraceRecord]) -> None:
    """Every composed (message, recipient) has exactly one final record.

    The trace never contradicts itself: a copy is delivered, bounced or
    still queued -- one of them, said once.  A composed message has no
    final record for anyone it was not composed for.  (Messages typed by a
    raw SMTP client are never composed, so only the first rule holds for them.)
    """
    records_ = list(trace)
    composed = {
        (r.message, address_key(to)) for r in records_ if r.kind is Kind.MAIL_COMPOSED
        for to in r.data.get("to", ())
    }
    finals = final_records(records_)
    several = {key: [(r.kind.value, r.host) for r in found]
               for key, found in finals.items() if len(found) > 1}
    assert not several, f"copies with more than one final record: {several}"
    missing = sorted(composed - set(finals), key=str)
    assert not missing, f"composed copies without a final record: {missing}"
    messages = {message for message, _ in composed}
    stray = sorted((key for key in finals if key[0] in messages and key not in composed), key=str)
    assert not stray, f"final records for recipients the message was not composed for: {stray}"


def assert_books_closed(records: Sequence[TraceRecord]) -> list[MessageFate]:
    """A finished run: `sim.end` last, and each composed copy settled exactly once.

    The fates follow the composed copies one for one, in order, each
    delivered, bounced or queued -- none in flight, none of unknown origin --
    and the trace says which with exactly one final record per copy.
    """
    assert records[-1].kind is Kind.SIM_END
    composed = [r for r in records if r.kind is Kind.MAIL_COMPOSED]
    copies = dict.fromkeys((r.message, address_key(to)) for r in composed for to in r.data["to"])
    fates = message_fates(records)
    assert [(f.message_id, address_key(f.recipient)) for f in fates] == list(copies)
    assert [f for f in fates if f.origin == UNKNOWN_ORIGIN] == []
    assert {f.fate for f in fates} <= {Fate.DELIVERED, Fate.BOUNCED, Fate.QUEUED}
    assert_one_final_record_each(records)
    return fates


def fates_by_recipient(trace: Trace) -> dict[str, MessageFate]:
    """The fate of each recipient (tests send one message per recipient)."""
    return {f.recipient: f for f in message_fates(trace)}


def records(trace: Trace, kind: Kind, **match: Any) -> list[TraceRecord]:
    """Records of `kind` whose attributes or data items equal `match`."""
    found = []
    for record in trace.of_kind(kind):
        ok = True
        for key, value in match.items():
            actual = getattr(record, key) if hasattr(record, key) else record.data.get(key)
            if actual != value:
                ok = False
                break
        if ok:
            found.append(record)
    return found


def one(items: list[Any]) -> Any:
    """The only element of `items`."""
    assert len(items) == 1, items
    return items[0]


def lines(trace: Trace, **match: Any) -> list[str]:
    """The text of the protocol lines matching `match` (host, peer, session...)."""
    return [r.text for r in records(trace, Kind.LINE, **match)]


def smtp_answers(lines: Sequence[TraceRecord]) -> dict[int, TraceRecord]:
    """The reply to each client line of the SMTP sessions in `lines`, by the line's seq.

    The n-th command of a session gets the n-th reply after the greeting,
    even when the client sent several before reading one (PIPELINING, RFC
    2920 §3.1: replies come in the order of the commands).  Content lines
    (after 354) share the reply to the "." that ends them.
    """
    sessions: dict[str | None, list[TraceRecord]] = {}
    for record in lines:
        if record.protocol == "smtp":
            sessions.setdefault(record.session, []).append(record)
    answers: dict[int, TraceRecord] = {}
    for said in sessions.values():
        server = said[0].host  # RFC 5321 §3.1: the server speaks first
        waiting: deque[list[TraceRecord]] = deque([[]])  # the greeting answers nothing
        content: list[TraceRecord] | None = None
        for record in said:
            if record.host != server and content is None:
                waiting.append([record])
            elif record.host != server and content is not None:
                content.append(record)
                if record.text == ".":  # a content line "." is sent as ".." (RFC 5321 §4.5.2)
                    waiting.append(content)
                    content = None
            elif record.text[3:4] != "-" and waiting:  # the last line of a reply
                answers.update((command.seq, record) for command in waiting.popleft())
                content = [] if record.text.startswith("354") else None
    return answers


def reply_to(trace: Trace, command_prefix: str, **match: Any) -> str:
    """The server line that answered the first client line starting with `command_prefix`.

    In SMTP the reply in command order (`smtp_answers`); in POP3 the next server line.
    """
    session_lines = records(trace, Kind.LINE, **match)
    answers = smtp_answers(session_lines)
    for index, record in enumerate(session_lines):
        if record.data.get("role") == "client" and record.text.startswith(command_prefix):
            if record.seq in answers:
                return answers[record.seq].text
            for later in session_lines[index + 1 :]:
                if later.session == record.session and later.data.get("role") == "server":
                    return later.text
    raise AssertionError(f"no reply to {command_prefix!r}")


def mailbox(world: World, host: str, address: str) -> list[bytes]:
    """The contents stored in a mailbox of the MDA on `host`."""
    return [m.content for m in world.mdas[host].mailboxes[address].messages]


def status_of(record: TraceRecord) -> str | None:
    """The RFC 3463 status of a deferral or bounce record (data, else its reply)."""
    return record.data.get("status") or enhanced_status(str(record.data.get("reply", "")))


def headers(content: bytes, name: str) -> list[str]:
    """Every value of header `name`, top to bottom."""
    return header_values(content, name)


@dataclass
class SmtpRun:
    """What a raw SMTP client session got back."""

    replies: dict[str, Reply] = field(default_factory=dict)
    connected: bool | None = None


def smtp_session(
    world: World,
    client: str,
    server: str,
    port: int,
    envelope: Envelope,
    content: bytes,
    *,
    at: float = 1.0,
    username: str | None = None,
    password: str | None = None,
) -> SmtpRun:
    """Schedule a raw SMTP client (SmtpClient via `transfer`) at time `at`."""
    result = SmtpRun()
    config = SmtpClientConfig(helo_name=client, username=username, password=password)

    def process() -> Generator[simpy.events.Event, Any, None]:
        yield world.env.timeout(at)
        endpoint = yield from world.ctx.network.connect(client, server, port)
        result.connected = isinstance(endpoint, Endpoint)
        if not isinstance(endpoint, Endpoint):
            return
        result.replies = yield from transfer(endpoint, config, envelope, content)

    world.env.process(process())
    return result


def raw_message(*header_lines: str, body: str = "Hello.") -> bytes:
    """A CRLF message from header lines and a body."""
    return ("\r\n".join(header_lines) + "\r\n\r\n" + body + "\r\n").encode()
