"""Names and addresses in a scenario: DNS names, IP addresses, e-mail addresses.

Each is a pydantic `Annotated` string type that checks syntax and stores a
canonical form: DNS names lower-case without a trailing dot (DNS is
case-insensitive, RFC 4343), IP addresses as `ipaddress` prints them, and
e-mail addresses with a lower-case domain (local parts are case-sensitive,
RFC 5321 §2.4).
"""

from __future__ import annotations

import ipaddress
import re
from typing import Annotated

from pydantic import AfterValidator, Field
from pydantic_core import PydanticCustomError

from simulator.protocols.addresses import normalise_domain
from simulator.protocols.smtp.commands import is_domain, is_local_part
from simulator.scenario.errors import describe

# RFC 1035 §2.3.4: a label is 1..63 octets, a name at most 255 octets on the
# wire, i.e. 253 characters in dotted text.  Underscores are allowed because
# owner names such as _dmarc.example.org carry them (RFC 8552).
MAX_LABEL_LENGTH = 63
MAX_NAME_LENGTH = 253
# RFC 5321 §4.5.3.1.1 and §4.5.3.1.2.
MAX_LOCAL_PART_LENGTH = 64
MAX_DOMAIN_LENGTH = 255

_LABEL_RE = re.compile(rf"^(?!-)[a-z0-9_-]{{1,{MAX_LABEL_LENGTH}}}(?<!-)$")

NAME_HINT = 'expected a name such as "mail.example.org" or "alice-pc", got {got}'
ADDRESS_HINT = 'expected an e-mail address such as "alice@example.org", got {got}: {reason}'


def check_dns_name(name: str) -> str:
    """Check DNS name syntax; return the name unchanged (used for mapping keys)."""
    canonical = name.removesuffix(".").lower()
    labels = canonical.split(".")
    if len(canonical) > MAX_NAME_LENGTH or not all(map(_LABEL_RE.match, labels)):
        raise PydanticCustomError("dns_name", NAME_HINT, {"got": describe(name)})
    return name


def canonical_dns_name(name: str) -> str:
    """Check DNS name syntax; return it lower-case without the trailing dot."""
    return normalise_domain(check_dns_name(name).removesuffix("."))


def canonical_ip_address(text: str) -> str:
    """Check an IPv4 or IPv6 address; return it as `ipaddress` writes it."""
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        raise PydanticCustomError(
            "ip_address",
            'expected an IPv4 or IPv6 address such as "192.0.2.10", got {got}',
            {"got": describe(text)},
        ) from None


def canonical_ipv4_address(text: str) -> str:
    """Check an IPv4 address (what an A record holds, RFC 1035 §3.4.1)."""
    address = canonical_ip_address(text)
    if ipaddress.ip_address(address).version != 4:
        raise PydanticCustomError(
            "ipv4_address",
            'an A record holds an IPv4 address such as "198.51.100.80", got {got}',
            {"got": describe(text)},
        )
    return address


def _address_problem(address: str) -> str | None:
    """Say what is wrong with an e-mail address's syntax, or None if nothing is."""
    if address.count("@") != 1:
        return 'it needs exactly one "@"'
    local, domain = address.split("@")
    if not local:
        return 'nothing before the "@"'
    if len(local) > MAX_LOCAL_PART_LENGTH:
        return f'the part before the "@" is longer than {MAX_LOCAL_PART_LENGTH} characters'
    if not domain or len(domain) > MAX_DOMAIN_LENGTH:
        return f'the part after the "@" must be 1 to {MAX_DOMAIN_LENGTH} characters'
    if any(char.isspace() for char in address):
        return "it contains a space"
    if not is_local_part(local):
        return (
            'the part before the "@" may hold letters, digits, dots between words and '
            "!#$%&'*+/=?^_`{|}~- (RFC 5321 §4.1.2)"
        )
    if not is_domain(domain.removesuffix(".")):
        return 'the part after the "@" must be a domain name such as "example.org"'
    return None


def canonical_email_address(address: str) -> str:
    """Check e-mail address syntax (RFC 5321 §4.5.3.1); lower-case its domain."""
    reason = _address_problem(address)
    if reason is not None:
        raise PydanticCustomError(
            "email_address", ADDRESS_HINT, {"got": describe(address), "reason": reason}
        )
    local, domain = address.split("@")
    return f"{local}@{normalise_domain(domain.removesuffix('.'))}"


def check_local_part(local: str) -> str:
    """Check a mailbox name (the part before the "@")."""
    if _address_problem(f"{local}@example.org") is not None:
        raise PydanticCustomError(
            "local_part",
            'expected a user name such as "alice" or "j.doe" (letters, digits, dots '
            'between words, no "@" or spaces, at most 64 characters), got {got}',
            {"got": describe(local)},
        )
    return local


DnsName = Annotated[
    str,
    AfterValidator(canonical_dns_name),
    Field(description="A DNS name; trailing dot optional, case-insensitive."),
]
"""A DNS name, stored lower-case without the trailing dot."""

NameKey = Annotated[str, AfterValidator(check_dns_name)]
"""A DNS name used as a mapping key; kept verbatim so error paths match the file."""

IpAddress = Annotated[str, AfterValidator(canonical_ip_address)]
"""An IPv4 or IPv6 address as text."""

Ipv4Address = Annotated[str, AfterValidator(canonical_ipv4_address)]
"""An IPv4 address as text."""

EmailAddress = Annotated[str, AfterValidator(canonical_email_address)]
"""An e-mail address ``local@domain``."""

LocalPart = Annotated[str, AfterValidator(check_local_part)]
"""A user name: the part of an address before the "@"."""
