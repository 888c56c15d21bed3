"""DNS: the records a scenario declares, and MX resolution for MTAs.

The resolver answers from one in-memory zone set, as a recursive resolver
would: the records held for a name, or NXDOMAIN for a name that does not
exist.  `order_exchangers` gives the order RFC 5321 §5.1 asks a sending MTA
to try MX hosts in: lower preference first, equal preferences at random.
"""

from __future__ import annotations

import ipaddress
import random
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum


class Rcode(StrEnum):
    """DNS response codes (RFC 1035 §4.1.1) the simulation produces."""

    NOERROR = "NOERROR"
    NXDOMAIN = "NXDOMAIN"


@dataclass(frozen=True, slots=True)
class MxRecord:
    """A mail exchanger for a domain (RFC 1035 §3.3.9)."""

    preference: int
    exchange: str

    def __str__(self) -> str:
        return f"{self.preference} {self.exchange}"


@dataclass(frozen=True, slots=True)
class DnsAnswer:
    """The answer to one query: a response code and the records found.

    `records` holds `MxRecord`s for MX queries and strings (addresses,
    texts) for A and TXT queries.
    """

    qname: str
    qtype: str
    rcode: Rcode
    records: tuple[MxRecord | str, ...]

    @property
    def answers(self) -> tuple[str, ...]:
        """The records as zone-file style texts, e.g. "10 mail.example.net"."""
        return tuple(str(record) for record in self.records)


class Resolver:
    """Holds A, MX and TXT records and answers queries about them."""

    def __init__(self) -> None:
        self._a: dict[str, list[str]] = defaultdict(list)
        self._aaaa: dict[str, list[str]] = defaultdict(list)
        self._mx: dict[str, list[MxRecord]] = defaultdict(list)
        self._txt: dict[str, list[str]] = defaultdict(list)

    def add_a(self, name: str, address: str) -> None:
        """Add an IPv4 address record (A, RFC 1035 §3.4.1)."""
        self._a[_norm(name)].append(address)

    def add_address(self, name: str, address: str) -> None:
        """Add an A record for an IPv4 address, an AAAA (RFC 3596) for IPv6."""
        table = self._a if ipaddress.ip_address(address).version == 4 else self._aaaa
        table[_norm(name)].append(address)

    def add_mx(self, name: str, record: MxRecord) -> None:
        """Add a mail exchanger record."""
        self._mx[_norm(name)].append(MxRecord(record.preference, _norm(record.exchange)))

    def add_txt(self, name: str, text: str) -> None:
        """Add a text record."""
        self._txt[_norm(name)].append(text)

    def exists(self, name: str) -> bool:
        """Whether any record at all is held for `name`."""
        key = _norm(name)
        return any(key in table for table in (self._a, self._aaaa, self._mx, self._txt))

    def query(self, name: str, qtype: str) -> DnsAnswer:
        """Answer one query of type A, AAAA, MX or TXT (MX sorted by preference)."""
        key = _norm(name)
        table: dict[str, list[MxRecord] | list[str]] = {
            "A": self._a.get(key, []),
            "AAAA": self._aaaa.get(key, []),
            "MX": sorted(self._mx.get(key, []), key=_by_preference),
            "TXT": self._txt.get(key, []),
        }
        rcode = Rcode.NOERROR if self.exists(key) else Rcode.NXDOMAIN
        return DnsAnswer(key, qtype, rcode, tuple(table.get(qtype, [])))


def order_exchangers(records: Sequence[MxRecord], rng: random.Random) -> list[MxRecord]:
    """The order in which to try mail exchangers (RFC 5321 §5.1).

    Lower preference first; records with equal preference are shuffled so
    that load spreads over them.
    """
    groups: dict[int, list[MxRecord]] = defaultdict(list)
    for record in records:
        groups[record.preference].append(record)
    ordered: list[MxRecord] = []
    for preference in sorted(groups):
        group = sorted(groups[preference], key=_by_preference)
        rng.shuffle(group)
        ordered.extend(group)
    return ordered


def _norm(name: str) -> str:
    return name.rstrip(".").lower()


def _by_preference(record: MxRecord) -> tuple[int, str]:
    return (record.preference, record.exchange)
