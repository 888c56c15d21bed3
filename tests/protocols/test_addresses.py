"""One way to normalise an address, one pattern for RFC 3463 status codes."""

from __future__ import annotations

import pytest

from simulator.fates import address_key, enhanced_status
from simulator.protocols.addresses import (
    domain_of,
    is_postmaster,
    mailbox_key,
    normalise_address,
)
from simulator.protocols.message import unique_recipients
from simulator.protocols.status import (
    find_enhanced_status,
    leading_enhanced_status,
    status_class,
)


@pytest.mark.parametrize(
    ("address", "normalised"),
    [
        ("Alice@Example.ORG", "Alice@example.org"),  # RFC 5321 §2.4: local part kept
        (" <bob@example.net> ", "bob@example.net"),
        ('"a@b"@Example.com', '"a@b"@example.com'),  # the last "@" separates the domain
        ("Postmaster", "postmaster"),  # RFC 5321 §4.5.1: case-insensitive
    ],
)
def test_normalise_address(address: str, normalised: str) -> None:
    assert normalise_address(address) == normalised
    assert address_key(address) == normalised  # the trace readers use the same function


def test_helpers_build_on_the_normalised_form() -> None:
    assert domain_of("Alice@Example.ORG") == "example.org"
    assert mailbox_key("Alice@Example.ORG") == "alice@example.org"
    assert is_postmaster("<POSTMASTER>") and not is_postmaster("postmaster@example.org")
    assert unique_recipients(["a@X.org", "a@x.ORG", "A@x.org"]) == ["a@X.org", "A@x.org"]


@pytest.mark.parametrize(
    ("text", "status"),
    [
        ("550 5.1.1 <u@x.org>: User unknown", "5.1.1"),
        ("deferred: lost connection (4.4.2).", "4.4.2"),
        ("connect to mx[192.0.2.25]:25: Connection refused", None),  # an address, no code
        ("250 Ok", None),
        ("3.1.1 is no class", None),
    ],
)
def test_find_enhanced_status(text: str, status: str | None) -> None:
    assert find_enhanced_status(text) == status
    assert enhanced_status(text) == status


@pytest.mark.parametrize(
    ("text", "code", "status"),
    [("2.1.0 Ok", 250, "2.1.0"), ("5.1.0 odd", 250, None), ("2.0.0", 250, "2.0.0"),
     ("2.0.0x", 250, None), ("Ok 2.0.0", 250, None)],
)  # fmt: skip
def test_leading_enhanced_status_matches_the_reply_class(
    text: str, code: int, status: str | None
) -> None:
    assert leading_enhanced_status(text, code) == status


def test_status_class() -> None:
    assert [status_class(s) for s in ("2.0.0", "4.4.2", "5.7.1")] == [2, 4, 5]
