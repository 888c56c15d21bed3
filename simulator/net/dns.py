"""DNS: the records a scenario declares, and MX resolution for MTAs.

The resolver answers from one in-memory zone set, with the rules a real
recursive resolver and RFC 5321 §5.1 give a sending MTA: MX records sorted by
preference (equal preferences in random order), an implicit MX pointing at
the domain itself when it has an A record but no MX, and NXDOMAIN for names
that do not exist.
"""

from __future__ import annotations

import random
from collections import defaultdict
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
    """The answer to one query: a response code and the record texts."""

    qname: str
    qtype: str
    rcode: Rcode
    answers: tuple[str, ...]


class Resolver:
    """Holds A, MX and TXT records and answers queries about them."""

    def __init__(self) -> None:
        self._a: dict[str, list[str]] = defaultdict(list)
        self._mx: dict[str, list[MxRecord]] = defaultdict(list)
        self._txt: dict[str, list[str]] = defaultdict(list)

    def add_a(self, name: str, address: str) -> None:
        """Add an address record."""
        self._a[_norm(name)].append(address)

    def add_mx(self, name: str, record: MxRecord) -> None:
        """Add a mail exchanger record."""
        self._mx[_norm(name)].append(MxRecord(record.preference, _norm(record.exchange)))

    def add_txt(self, name: str, text: str) -> None:
        """Add a text record."""
        self._txt[_norm(name)].append(text)

    def exists(self, name: str) -> bool:
        """Whether any record at all is held for `name`."""
        key = _norm(name)
        return key in self._a or key in self._mx or key in self._txt

    def query(self, name: str, qtype: str) -> DnsAnswer:
        """Answer one query of type A, MX or TXT."""
        key = _norm(name)
        table: dict[str, list[str]] = {
            "A": self._a.get(key, []),
            "MX": [str(mx) for mx in sorted(self._mx.get(key, []), key=_by_preference)],
            "TXT": self._txt.get(key, []),
        }
        rcode = Rcode.NOERROR if self.exists(key) else Rcode.NXDOMAIN
        return DnsAnswer(key, qtype, rcode, tuple(table.get(qtype, [])))

    def mail_exchangers(self, domain: str, rng: random.Random) -> list[MxRecord]:
        """The MX hosts to try for `domain`, best first (RFC 5321 §5.1).

        Lower preference first; records with equal preference are shuffled
        so load spreads.  With no MX record but an A record, the domain is
        its own implicit MX with preference 0.  An empty list means the
        domain cannot receive mail.
        """
        key = _norm(domain)
        records = self._mx.get(key, [])
        if not records:
            return [MxRecord(0, key)] if key in self._a else []
        groups: dict[int, list[MxRecord]] = defaultdict(list)
        for record in records:
            groups[record.preference].append(record)
        ordered: list[MxRecord] = []
        for preference in sorted(groups):
            group = list(groups[preference])
            rng.shuffle(group)
            ordered.extend(group)
        return ordered


def _norm(name: str) -> str:
    return name.rstrip(".").lower()


def _by_preference(record: MxRecord) -> tuple[int, str]:
    return (record.preference, record.exchange)
