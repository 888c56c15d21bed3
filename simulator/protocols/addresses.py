"""Mail addresses compared the way mail systems compare them (RFC 5321 §2.4).

The domain part of an address is case-insensitive; the local part may be
case-sensitive, so it is kept as written.  `normalise_address` is the one
function that turns an address into the form used to compare, group and
match addresses everywhere in the simulator; the other helpers build on it.
"""

from __future__ import annotations

#: RFC 5321 §4.5.1: the one mailbox that may be named without a domain.
POSTMASTER = "postmaster"


def normalise_address(address: str) -> str:
    """`address` in the form used to compare addresses.

    Blanks and angle brackets around it are dropped and the domain is
    lower-cased; the local part stays as written (RFC 5321 §2.4).  A bare
    local part can only be `Postmaster`, which is case-insensitive
    (RFC 5321 §4.5.1), so it is lower-cased whole.
    """
    bare = address.strip().strip("<>").strip()
    local, at, domain = bare.rpartition("@")
    return f"{local}@{normalise_domain(domain)}" if at else bare.lower()


def normalise_domain(domain: str) -> str:
    """A domain name in the form used to compare: lower case (RFC 5321 §2.4)."""
    return domain.lower()


def domain_of(address: str) -> str:
    """The domain part of an address, lower-cased (the whole of a bare name)."""
    return normalise_address(address).rpartition("@")[2]


def is_postmaster(address: str) -> bool:
    """Whether `address` is the bare `<Postmaster>` every server must accept (RFC 5321 §4.5.1)."""
    return normalise_address(address) == POSTMASTER


def mailbox_key(address: str) -> str:
    """The key a mailbox is looked up by: the normalised address, local part folded too.

    Postfix folds the search string of its lookup tables to lower case
    (postconf(5), "lookup tables"), and Dovecot's user names are
    case-insensitive by default: `Alice@` and `alice@` reach one mailbox.
    """
    return normalise_address(address).lower()
