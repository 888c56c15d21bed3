"""Synthetic trace payloads for view tests: a kind's payload from the fields a test cares about.

A view test names only what it looks at (`payload(Kind.MAIL_DELIVERED,
recipient="bob@example.net")`); every other field takes a plausible value
here, as the simulator would have written one.  Keys are those of the JSONL
`data` object (`from`, `to`), so tests read like the trace files.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from simulator.trace import PAYLOADS, SCHEMA_VERSION, Kind
from simulator.trace_data import Payload

QUEUE_ID = "4F2A1B3C9D"
BOB = "bob@example.net"

DEFAULTS: Mapping[Kind, Mapping[str, Any]] = {
    Kind.SIM_START: {"seed": 1, "duration": 600, "hosts": [], "schema": SCHEMA_VERSION},
    Kind.SIM_END: {},
    Kind.TCP_CONNECT: {"port": 25, "rtt": 0.002},
    Kind.TCP_REFUSED: {"port": 25, "reason": "Connection refused"},
    Kind.TCP_CLOSE: {"port": 25},
    Kind.LINE: {"role": "client", "port": 25},
    Kind.TLS_HANDSHAKE: {"port": 25, "version": "TLSv1.3", "cipher": "TLS_AES_256_GCM_SHA384",
                         "bits": 256, "round_trips": 1, "seconds": 0.08, "overhead": 22},
    Kind.TAP: {"name": "cafe-wifi", "link": ["alice-pc", "cafe-ap"]},
    Kind.DNS_QUERY: {"qname": "example.net", "qtype": "MX"},
    Kind.DNS_ANSWER: {"qname": "example.net", "qtype": "MX", "rcode": "NOERROR", "answers": []},
    Kind.MAIL_COMPOSED: {"from": "alice@example.org", "to": [BOB], "subject": "Hello",
                         "origin": "user"},
    Kind.QUEUE_ENTER: {"queue_id": QUEUE_ID, "from": "alice@example.org", "to": [BOB]},
    Kind.QUEUE_LEAVE: {"queue_id": QUEUE_ID, "reason": "done"},
    Kind.MAIL_RELAYED: {"queue_id": QUEUE_ID, "recipient": BOB, "relay": "mail.example.net",
                        "reply": "250 2.0.0 Ok: queued as 7B3C"},
    Kind.MAIL_DEFERRED: {"queue_id": QUEUE_ID, "recipient": BOB, "attempt": 1,
                         "reply": "451 4.3.0 Temporary lookup failure", "status": "4.3.0"},
    Kind.MAIL_DELIVERED: {"recipient": BOB, "hops": 2, "uid": "1", "queue_id": "7B3C"},
    Kind.MAIL_BOUNCED: {"queue_id": QUEUE_ID, "recipient": BOB, "status": "5.1.1",
                        "reply": "550 5.1.1 <bob@example.net>: Recipient address rejected",
                        "bounce_id": None},
    Kind.MAIL_QUEUED: {"queue_id": QUEUE_ID, "recipient": BOB, "reason": "deferred"},
    Kind.MAIL_FETCHED: {"user": BOB, "uid": "1", "subject": "Hello"},
    Kind.NOTE: {},
}


def payload(kind: Kind, **data: Any) -> Payload:
    """The payload of a `kind` record: `data` over the defaults (a delivery's mailbox is
    its recipient unless named)."""
    fields = {**DEFAULTS[kind], **data}
    if kind is Kind.MAIL_DELIVERED:
        fields.setdefault("mailbox", fields["recipient"])
    return PAYLOADS[kind].from_data(fields)
