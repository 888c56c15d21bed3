"""The MTA hands local mail to the MDA over LMTP; the MDA keeps it in the store.

Postfix with `virtual_transport = lmtp:inet:<mda host>:24` and Dovecot
behind it: one LMTP session per message and MDA, one reply per recipient
after the dot (RFC 2033 §4.2), each settling its recipient alone.
"""

from __future__ import annotations

from simworld import (
    BOB,
    NET_MTA,
    add_host,
    build,
    fates_by_recipient,
    mail,
    one,
    records,
    run_world,
    two_providers,
    with_user,
)

from simulator.fates import Fate
from simulator.mailstore import SEEN
from simulator.trace import Kind

CAROL = "carol@example.net"
STORE = "mda.example.net"
QUOTA = "Quota exceeded (mailbox for user is full)"


def test_one_session_carries_every_recipient_and_each_gets_its_reply() -> None:
    world = run_world(with_user(two_providers(traffic=[mail("1s", [BOB, CAROL])]), CAROL))
    connect = one([r for r in records(world.trace, Kind.TCP_CONNECT, host=NET_MTA)
                   if r.data["port"] == 24])
    assert connect.peer == NET_MTA and connect.data["rtt"] == 0.0  # loopback
    server = [r.text for r in world.trace if r.session == connect.session
              and r.kind is Kind.LINE and r.data["role"] == "server"]
    saved = [text for text in server if text.endswith(" Saved")]
    assert [text.split()[2] for text in saved] == ["<bob@example.net>", "<carol@example.net>"]
    fates = fates_by_recipient(world.trace)
    assert fates[BOB].fate is fates[CAROL].fate is Fate.DELIVERED


def test_the_mta_logs_each_lmtp_delivery_as_postfix_lmtp_does() -> None:
    """Postfix lmtp(8): to=<rcpt>, relay=host[addr]:24, ..., status=sent (250 2.0.0 ... Saved);
    the MDA records the delivery, so the ledger still counts one."""
    world = run_world(with_user(two_providers(traffic=[mail("1s", [BOB, CAROL])]), CAROL))
    sent = records(world.trace, Kind.MAIL_RELAYED, host=NET_MTA)
    assert [(r.data["recipient"], r.data["relay"]) for r in sent] == [
        (BOB, f"{NET_MTA}:24"), (CAROL, f"{NET_MTA}:24")]
    assert all(r.data["reply"].startswith("250 2.0.0 <") and r.data["reply"].endswith(" Saved")
               for r in sent)
    assert len(records(world.trace, Kind.MAIL_DELIVERED, recipient=BOB)) == 1
    assert fates_by_recipient(world.trace)[BOB].fate is Fate.DELIVERED


def test_over_quota_is_permanent_by_default_and_only_for_that_recipient() -> None:
    scenario = with_user(two_providers(traffic=[mail("1s", [BOB, CAROL])]), CAROL, quota=300)
    world = run_world(scenario)
    bounced = one(records(world.trace, Kind.MAIL_BOUNCED, recipient=CAROL))
    assert bounced.data["status"] == "5.2.2"
    assert bounced.data["reply"] == f"552 5.2.2 <carol@example.net> {QUOTA}"
    assert fates_by_recipient(world.trace)[BOB].fate is Fate.DELIVERED  # bob's fitted
    assert world.mdas[NET_MTA].mailboxes[CAROL].messages == []


def test_quota_full_tempfail_defers_until_the_queue_gives_up() -> None:
    scenario = with_user(two_providers(traffic=[mail("1s", CAROL)], duration="30m"), CAROL,
                         quota=300)
    scenario["domains"]["example.net"]["quota_full_tempfail"] = True
    world = run_world(scenario)
    deferred = records(world.trace, Kind.MAIL_DEFERRED, recipient=CAROL)
    assert len(deferred) >= 3 and {r.data["status"] for r in deferred} == {"4.2.2"}
    assert deferred[0].data["reply"] == f"452 4.2.2 <carol@example.net> {QUOTA}"
    assert not records(world.trace, Kind.MAIL_BOUNCED)
    assert fates_by_recipient(world.trace)[CAROL].fate is Fate.QUEUED  # 5 days to go


def test_a_users_quota_wins_over_the_domains() -> None:
    scenario = with_user(two_providers(traffic=[mail("1s", [BOB, CAROL])]), CAROL, quota="1MB")
    scenario["domains"]["example.net"]["quota"] = 300
    world = run_world(scenario)
    assert world.mdas[NET_MTA].mailboxes[CAROL].quota == 1024**2
    assert fates_by_recipient(world.trace)[CAROL].fate is Fate.DELIVERED
    assert fates_by_recipient(world.trace)[BOB].fate is Fate.BOUNCED


def separate_mda(scenario: dict) -> dict:
    """example.net's mailboxes on a host of their own, on a LAN link to its MTA."""
    add_host(scenario, STORE, "203.0.113.26", roles=("mda",), link_to=NET_MTA,
             latency="200us")
    scenario["domains"]["example.net"]["mda"] = STORE
    scenario["hosts"][NET_MTA]["roles"] = ["mta"]
    return scenario


def test_an_mda_on_another_host_gets_the_mail_over_the_lan() -> None:
    world = run_world(separate_mda(two_providers(traffic=[mail("1s", BOB)])))
    connect = one(records(world.trace, Kind.TCP_CONNECT, host=NET_MTA))
    assert (connect.peer, connect.data["port"]) == (STORE, 24)
    delivered = one(records(world.trace, Kind.MAIL_DELIVERED, recipient=BOB))
    assert delivered.host == STORE
    assert NET_MTA not in world.mdas and len(world.mdas[STORE].mailboxes[BOB].messages) == 1


def test_an_mda_out_of_reach_defers_the_local_recipients() -> None:
    world = build(separate_mda(two_providers(traffic=[mail("1s", BOB)], duration="10m")))
    world.topology.set_link_up(NET_MTA, STORE, False)  # the LAN is down
    run_world(world)
    deferred = records(world.trace, Kind.MAIL_DEFERRED, recipient=BOB)
    assert deferred and {r.data["status"] for r in deferred} == {"4.4.1"}
    assert deferred[0].data["reply"] == (
        "connect to mda.example.net[203.0.113.26]:24: Connection timed out")
    assert fates_by_recipient(world.trace)[BOB].fate is Fate.QUEUED


def test_pop3_retr_marks_seen_and_dele_removes_with_uids_that_only_grow() -> None:
    scenario = two_providers(traffic=[mail("1s", BOB), mail("5m", BOB)], duration="12m")
    scenario["domains"]["example.net"]["users"]["bob"].update(check_every="4m")
    world = run_world(scenario)
    inbox = world.mdas[NET_MTA].mailboxes[BOB].inbox
    assert inbox.messages == []  # downloaded and deleted at 4m and 8m
    assert inbox.uidnext == 3  # UIDs 1 and 2 were used and are never reused
    fetched = [r.data["uid"] for r in records(world.trace, Kind.MAIL_FETCHED)]
    assert fetched == ["0000000100000001", "0000000200000001"]  # Dovecot's %08Xu%08Xv


def test_leave_on_server_keeps_the_message_marked_seen() -> None:
    scenario = two_providers(traffic=[mail("1s", BOB)])
    scenario["domains"]["example.net"]["users"]["bob"].update(keep_on_server=True,
                                                               check_every="2m")
    world = run_world(scenario)
    (kept,) = world.mdas[NET_MTA].mailboxes[BOB].messages
    assert SEEN in kept.flags  # Dovecot: RETR sets \Seen unless pop3_no_flag_updates
    assert not world.mdas[NET_MTA].mailboxes[BOB].pop3_locked
    assert fates_by_recipient(world.trace)[BOB].fate is Fate.DELIVERED
