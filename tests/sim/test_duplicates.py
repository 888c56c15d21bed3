"""One mailbox, one copy: the duplicate filter runs after aliases are expanded.

The domain part of an address is case-insensitive, and the mail servers
here look mailboxes up without regard to case (a scenario may not have two
users whose names differ only in case).  Postfix expands aliases before it
removes duplicates, so two addresses that end in one mailbox -- `bob` and
`BOB`, or `bob` and `postmaster` when bob reads postmaster mail -- give one
copy per queue entry.  Each address still gets its own final record.
"""

from __future__ import annotations

import pytest
from simworld import (
    ALICE,
    BOB,
    NET_MTA,
    ORG_MTA,
    fates_by_recipient,
    final_records,
    mail,
    mailbox,
    records,
    run_world,
    two_providers,
)

from simulator.fates import Fate, address_key
from simulator.trace import Kind


def _checking_every(minutes: int, scenario: dict) -> dict:
    for domain in scenario["domains"].values():
        for user in domain["users"].values():
            if "mua" in user:
                user["check_every"] = f"{minutes}m"
    return scenario


@pytest.mark.parametrize(
    ("sender", "to", "host", "box"),
    [
        (ALICE, [BOB, "BOB@example.net"], NET_MTA, BOB),  # relayed, then delivered
        (ALICE, [BOB, "postmaster@example.net"], NET_MTA, BOB),  # bob reads postmaster mail
        (ALICE, ["Bob@Example.NET", "postmaster@EXAMPLE.net", BOB], NET_MTA, BOB),
        (BOB, [ALICE, "Alice@example.org"], ORG_MTA, ALICE),  # delivered at the first MTA
        (BOB, ["postmaster@example.org", ALICE], ORG_MTA, ALICE),
    ],
)
def test_addresses_of_one_mailbox_get_one_copy(
    sender: str, to: list[str], host: str, box: str
) -> None:
    world = run_world(_checking_every(2, two_providers(traffic=[mail("1s", to, sender=sender)])))
    message = records(world.trace, Kind.MAIL_COMPOSED)[0].message
    stored = [r for r in records(world.trace, Kind.MAIL_DELIVERED, message=message)
              if not r.data.get("duplicate_of")]
    assert len(stored) == 1
    assert stored[0].data["mailbox"] == box
    fetched = records(world.trace, Kind.MAIL_FETCHED, message=message)
    assert len(fetched) == 1  # downloaded once
    assert len(world.muas[box].inbox) == 1
    assert mailbox(world, host, box) == []  # downloaded and deleted
    fates = {address_key(f.recipient): f for f in fates_by_recipient(world.trace).values()}
    assert [fates[address_key(rcpt)].fate for rcpt in to] == [Fate.DELIVERED] * len(to)
    # Each address has its one final record; every one names the one copy.
    finals = [found for (msg, _), found in final_records(world.trace).items() if msg == message]
    assert [len(found) for found in finals] == [1] * len(finals)
    assert {found[0].data["uid"] for found in finals} == {stored[0].data["uid"]}


def test_a_duplicate_says_which_copy_it_shares() -> None:
    world = run_world(two_providers(traffic=[mail("1s", [BOB, "BOB@example.net"])]))
    first, second = records(world.trace, Kind.MAIL_DELIVERED)
    assert (first.data["recipient"], second.data["recipient"]) == (BOB, "BOB@example.net")
    assert "duplicate_of" not in first.data
    assert second.data["duplicate_of"] == BOB
    assert second.data["hops"] == first.data["hops"] == 2
    assert len(mailbox(world, NET_MTA, BOB)) == 1
