"""Every bundled scenario runs end to end, and the key facts of each are true.

The facts were checked by hand against the scenario file's own comment,
RFC 5321 (SMTP), RFC 1939 (POP3), RFC 4616 (AUTH PLAIN) and RFC 3464
(delivery status notifications).  They are read from the trace, and from
the copy the receiving user's client downloaded.
"""

from __future__ import annotations

import base64
import email
import email.policy
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path

import pytest

from simulator import catalog
from simulator.fates import Fate, message_fates
from simulator.scenario import load_scenario
from simulator.simulation import Simulation
from simulator.trace import Kind, TraceRecord
from simulator.world import World

ALICE = "alice@example.org"
BOB = "bob@example.net"
TYPO = "bbo@example.net"
ORG_MTA = "mail.example.org"
NET_MTA = "mail.example.net"


@dataclass(frozen=True)
class Run:
    """A finished simulation: the world (for the clients' inboxes) and its records."""

    world: World
    records: tuple[TraceRecord, ...]

    def of(self, *kinds: Kind) -> list[TraceRecord]:
        return [r for r in self.records if r.kind in kinds]

    def lines(self, protocol: str) -> list[TraceRecord]:
        return [r for r in self.of(Kind.LINE) if r.protocol == protocol]

    def session(self, session: str) -> list[TraceRecord]:
        return [r for r in self.of(Kind.LINE) if r.session == session]


def run_bundled(name: str) -> Run:
    simulation = Simulation.load(name)
    simulation.run()
    return Run(simulation.world, simulation.trace.records)


@pytest.fixture(scope="module")
def first_email() -> Run:
    return run_bundled("01-first-email")


@pytest.fixture(scope="module")
def unknown_user() -> Run:
    return run_bundled("02-unknown-user")


def parse(content: bytes) -> EmailMessage:
    message = email.message_from_bytes(content, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


def sessions_on_port(run: Run, port: int) -> list[str]:
    """The session ids whose lines went to or from `port`, in order of appearance."""
    found: dict[str, None] = {}
    for record in run.lines("smtp") + run.lines("pop3"):
        if record.data.get("port") == port and record.session is not None:
            found.setdefault(record.session, None)
    return list(found)


def reply_to(lines: list[TraceRecord], command: str, *, exact: bool = False) -> TraceRecord:
    """The server line that answered the client line that starts with (or is) `command`.

    In POP3 it is the next server line.  An SMTP client may send several
    commands before reading a reply (PIPELINING, RFC 2920 §3.1), and the
    replies come in the order of the commands: the n-th command of the
    session gets the n-th reply after the greeting.
    """
    for index, record in enumerate(lines):
        text = record.text.upper()
        sent = text == command if exact else text.startswith(command)
        if record.data.get("role") == "client" and sent:
            if record.protocol == "smtp":
                return smtp_replies(lines)[commands_of(lines).index(record)]
            return next(r for r in lines[index + 1:] if r.data.get("role") == "server")
    raise AssertionError(f"no client line {command!r} in the session")


def commands_of(lines: list[TraceRecord]) -> list[TraceRecord]:
    """The client's SMTP commands in one session, the final "." of a message among them."""
    commands, in_content = [], False
    for record in lines:
        if record.data.get("role") == "server":
            in_content = in_content or record.text.startswith("354")
        elif not in_content or record.text == ".":  # a content "." is sent as ".."
            commands.append(record)
            in_content = False
    return commands


def smtp_replies(lines: list[TraceRecord]) -> list[TraceRecord]:
    """The last line of each SMTP reply after the greeting (RFC 5321 §4.2.1), in order."""
    finals = [r for r in lines if r.data.get("role") == "server" and r.text[3:4] != "-"]
    return finals[1:]


def retrieved_lines(lines: list[TraceRecord]) -> tuple[int, list[str]]:
    """The octet count and the wire lines of the first POP3 RETR answer."""
    texts = [r.text for r in lines]
    start = next(i for i, r in enumerate(lines) if r.text.startswith("RETR "))
    status = next(i for i in range(start + 1, len(lines)) if texts[i].startswith("+OK"))
    end = texts.index(".", status + 1)
    octets = int(texts[status].split()[1])
    return octets, texts[status + 1:end]


def unstuff(lines: list[str]) -> list[str]:
    """Undo dot-stuffing as a receiving client does (RFC 1939 §3, RFC 5321 §4.5.2)."""
    return [line[1:] if line.startswith(".") else line for line in lines]


# --- every bundled scenario -------------------------------------------------


def test_both_bundled_scenarios_are_found() -> None:
    names = [path.stem for path in catalog.bundled()]
    assert "01-first-email" in names
    assert "02-unknown-user" in names
    assert catalog.DEFAULT_SCENARIO in names


@pytest.mark.parametrize("path", catalog.bundled(), ids=lambda path: path.stem)
def test_bundled_scenario_loads_runs_and_settles_every_message(path: Path) -> None:
    scenario = load_scenario(path)
    records = Simulation(scenario).run()

    assert records[0].kind is Kind.SIM_START
    assert records[0].text == scenario.name
    assert records[-1].kind is Kind.SIM_END
    assert records[-1].time == pytest.approx(scenario.duration)
    assert [r.seq for r in records] == list(range(len(records)))
    composed = [r for r in records if r.kind is Kind.MAIL_COMPOSED]
    assert len(composed) >= len(scenario.traffic) >= 1
    fates = message_fates(records)
    copies = {(r.message, addr) for r in composed for addr in r.data["to"]}
    assert {(f.message_id, f.recipient) for f in fates} == copies
    unsettled = [f for f in fates if not f.fate.is_final]
    assert unsettled == []


@pytest.mark.parametrize("path", catalog.bundled(), ids=lambda path: path.stem)
def test_bundled_scenario_starts_with_a_comment_saying_what_it_shows(path: Path) -> None:
    first = path.read_text(encoding="utf-8").splitlines()[0]
    assert first.startswith("# ")
    assert catalog.title_of(path)


# --- 01-first-email ---------------------------------------------------------


def the_message(run: Run) -> TraceRecord:
    (composed,) = run.of(Kind.MAIL_COMPOSED)
    return composed


def test_first_email_is_delivered_to_bob_over_two_hops(first_email: Run) -> None:
    composed = the_message(first_email)
    assert composed.host == "alice-pc"
    assert composed.data["from"] == ALICE
    assert list(composed.data["to"]) == [BOB]
    assert composed.data["origin"] == "user"

    (fate,) = message_fates(first_email.records)
    assert (fate.recipient, fate.fate, fate.hops) == (BOB, Fate.DELIVERED, 2)
    (delivered,) = first_email.of(Kind.MAIL_DELIVERED)
    assert delivered.host == NET_MTA
    assert delivered.message == composed.message
    assert delivered.data["mailbox"] == BOB
    assert first_email.of(Kind.MAIL_BOUNCED, Kind.MAIL_DEFERRED, Kind.MAIL_QUEUED) == []


def test_first_email_asks_dns_for_the_mx_of_example_net(first_email: Run) -> None:
    queries = [
        r for r in first_email.of(Kind.DNS_QUERY)
        if r.data["qname"] == "example.net" and r.data["qtype"] == "MX"
    ]
    assert [q.host for q in queries] == [ORG_MTA]
    answer = next(
        r for r in first_email.of(Kind.DNS_ANSWER)
        if r.data["qname"] == "example.net" and r.data["qtype"] == "MX"
    )
    assert answer.data["rcode"] == "NOERROR"
    assert list(answer.data["answers"]) == ["10 mail.example.net"]
    # RFC 5321 §5.1: the exchange's address is looked up before connecting.
    relay_connect = next(r for r in first_email.of(Kind.TCP_CONNECT) if r.data["port"] == 25)
    assert answer.seq < relay_connect.seq


def test_first_email_is_submitted_on_587_with_auth_plain(first_email: Run) -> None:
    (session,) = sessions_on_port(first_email, 587)
    lines = first_email.session(session)
    assert {(r.host, r.peer) for r in lines if r.data["role"] == "client"} == {
        ("alice-pc", ORG_MTA)
    }
    auth = next(r for r in lines if r.text.startswith("AUTH PLAIN"))
    # RFC 4616: authzid NUL authcid NUL passwd, base64-encoded.
    assert base64.b64decode(auth.text.split()[2]) == b"\0alice@example.org\0wonderland"
    assert reply_to(lines, "AUTH").text.startswith("235 2.7.0")
    mail_from = next(r for r in lines if r.text.startswith("MAIL FROM:"))
    assert auth.seq < mail_from.seq  # AUTH is required before MAIL on submission
    assert reply_to(lines, "MAIL FROM").text.startswith("250 ")
    assert reply_to(lines, "RCPT TO").text.startswith("250 ")
    assert reply_to(lines, "DATA").text.startswith("354 ")


def test_first_email_is_relayed_on_port_25_and_queued_there(first_email: Run) -> None:
    (session,) = sessions_on_port(first_email, 25)
    lines = first_email.session(session)
    assert lines[0].host == NET_MTA and lines[0].text.startswith("220 ")
    verbs = [r.text.partition(" ")[0] for r in lines if r.data["role"] == "client"]
    assert [v for v in verbs if v in ("EHLO", "MAIL", "RCPT", "DATA", "QUIT")] == [
        "EHLO", "MAIL", "RCPT", "DATA", "QUIT",
    ]
    assert "AUTH" not in verbs  # MTA to MTA relay needs no login
    assert "EHLO mail.example.org" in [r.text for r in lines]
    assert next(r for r in lines if r.text.startswith("MAIL FROM:")).text.startswith(
        "MAIL FROM:<alice@example.org>"
    )
    assert "RCPT TO:<bob@example.net>" in [r.text for r in lines]
    end_of_data = reply_to(lines, ".", exact=True)  # the reply to the terminating dot
    assert end_of_data.host == NET_MTA
    assert end_of_data.text.startswith("250 2.0.0 Ok: queued as ")
    queue_id = end_of_data.text.rsplit(" ", 1)[1]
    entered = [r for r in first_email.of(Kind.QUEUE_ENTER) if r.host == NET_MTA]
    assert [r.data["queue_id"] for r in entered] == [queue_id]
    (relayed,) = [r for r in first_email.of(Kind.MAIL_RELAYED) if r.host == ORG_MTA]
    assert relayed.data["relay"] == NET_MTA
    assert relayed.data["relay"] == NET_MTA
    assert relayed.data["reply"] == end_of_data.text


def bob_copy(run: Run) -> bytes:
    (copy,) = run.world.muas[BOB].inbox
    return copy


def test_bob_fetches_the_message_over_pop3_and_the_mailbox_is_emptied(first_email: Run) -> None:
    composed = the_message(first_email)
    (fetched,) = first_email.of(Kind.MAIL_FETCHED)
    assert fetched.host == "bob-pc"
    assert fetched.message == composed.message
    assert fetched.data["user"] == BOB
    (delivered,) = first_email.of(Kind.MAIL_DELIVERED)
    assert fetched.data["uid"] == delivered.data["uid"]
    assert fetched.time > delivered.time
    assert first_email.world.mdas[NET_MTA].mailboxes[BOB].messages == []
    # On the wire: the message was marked deleted and the session ended with QUIT
    # (RFC 1939 §6: deletions happen in the UPDATE state only).
    fetch_session = pop3_session_of(first_email, "bob-pc", "RETR 1")
    texts = [r.text for r in fetch_session]
    assert texts.index("DELE 1") < texts.index("QUIT")
    assert reply_to(fetch_session, "QUIT").text.startswith("+OK")
    # Bob's next check finds the mailbox empty.
    later = [r for r in first_email.lines("pop3")
             if r.host == "bob-pc" and r.text == "STAT" and r.seq > fetched.seq]
    assert later, "bob's client never checked again"
    assert reply_to(first_email.session(later[-1].session), "STAT").text == "+OK 0 0"


def pop3_session_of(run: Run, client: str, command: str) -> list[TraceRecord]:
    """The lines of the POP3 session in which `client` sent `command`."""
    (session,) = {r.session for r in run.lines("pop3") if r.host == client and r.text == command}
    assert session is not None
    return run.session(session)


def test_bobs_copy_has_one_received_header_per_mta_hop(first_email: Run) -> None:
    copy = parse(bob_copy(first_email))
    received = copy.get_all("Received")
    assert len(received) == 2
    # Each MTA prepends its own: the newest (mail.example.net's) is on top.
    assert " by mail.example.net " in " ".join(received[0].split())
    assert " by mail.example.org " in " ".join(received[1].split())
    assert "ESMTPA" in received[1]  # RFC 3848: authenticated submission
    assert copy.get_all("Return-Path") == ["<alice@example.org>"]
    assert copy.get_all("Delivered-To") == [BOB]
    assert copy["Message-ID"] == the_message(first_email).message
    assert copy["Subject"] == "Hello Bob"


def test_bobs_copy_on_the_pop3_wire_matches_what_his_client_stored(first_email: Run) -> None:
    octets, wire = retrieved_lines(pop3_session_of(first_email, "bob-pc", "RETR 1"))
    copy = bob_copy(first_email)
    assert octets == len(copy)
    assert "\r\n".join(unstuff(wire)) + "\r\n" == copy.decode("utf-8")
    assert sum(1 for line in wire if line.startswith("Received:")) == 2


def test_a_leading_dot_is_stuffed_on_the_wire_and_unstuffed_in_the_mailbox(
    first_email: Run,
) -> None:
    stuffed = "..A line that starts with a dot survives the trip (dot-stuffing)."
    smtp_data = [r for r in first_email.lines("smtp") if r.data["role"] == "client"]
    ports = sorted({r.data["port"] for r in smtp_data if r.text == stuffed})
    assert ports == [25, 587]  # RFC 5321 §4.5.2, on both SMTP legs
    assert not any(r.text == stuffed[1:] for r in smtp_data)
    body_lines = bob_copy(first_email).decode("utf-8").split("\r\n")
    assert stuffed[1:] in body_lines
    assert stuffed not in body_lines


# --- 02-unknown-user --------------------------------------------------------


def original_and_bounce(run: Run) -> tuple[TraceRecord, TraceRecord]:
    composed = run.of(Kind.MAIL_COMPOSED)
    (original,) = [r for r in composed if r.data["origin"] == "user"]
    (bounce,) = [r for r in composed if r.data["origin"] == "bounce"]
    return original, bounce


def test_the_remote_mta_refuses_the_unknown_user_at_rcpt(unknown_user: Run) -> None:
    (session,) = sessions_on_port(unknown_user, 25)
    lines = unknown_user.session(session)
    assert reply_to(lines, "RCPT TO:<BBO@EXAMPLE.NET>").text.startswith("550 5.1.1 ")
    refusal = reply_to(lines, "RCPT TO")
    assert (refusal.host, refusal.peer) == (NET_MTA, ORG_MTA)
    # PIPELINING (RFC 2920 §3.1): DATA went with the RCPT; with no recipient
    # accepted Postfix refuses it, and the client sends no message but RSET.
    assert reply_to(lines, "DATA").text == "554 5.5.1 Error: no valid recipients"
    assert [r.text for r in lines if r.data["role"] == "client"][-2:] == ["RSET", "QUIT"]
    assert unknown_user.of(Kind.MAIL_DEFERRED) == []  # a 5yz reply is never retried


def test_the_original_message_bounces_with_status_5_1_1(unknown_user: Run) -> None:
    original, bounce = original_and_bounce(unknown_user)
    assert list(original.data["to"]) == [TYPO]
    (bounced,) = unknown_user.of(Kind.MAIL_BOUNCED)
    assert bounced.host == ORG_MTA
    assert bounced.message == original.message
    assert bounced.data["recipient"] == TYPO
    assert bounced.data["status"] == "5.1.1"
    assert bounced.data["reply"].startswith("550 5.1.1")
    assert bounced.data["bounce_id"] == bounce.message
    fates = {(f.message_id, f.recipient): f for f in message_fates(unknown_user.records)}
    assert fates[original.message, TYPO].fate is Fate.BOUNCED
    assert fates[original.message, TYPO].status == "5.1.1"


def test_the_bounce_is_sent_from_the_null_sender_and_delivered_to_alice(
    unknown_user: Run,
) -> None:
    original, bounce = original_and_bounce(unknown_user)
    assert bounce.host == ORG_MTA
    assert bounce.data["from"] == ""
    assert list(bounce.data["to"]) == [ALICE]
    assert bounce.data["original"] == original.message
    entered = [r for r in unknown_user.of(Kind.QUEUE_ENTER) if r.message == bounce.message]
    assert [r.data["from"] for r in entered] == [""]  # MAIL FROM:<> (RFC 5321 §4.5.5)
    (delivered,) = [r for r in unknown_user.of(Kind.MAIL_DELIVERED)
                    if r.message == bounce.message]
    assert delivered.data["recipient"] == ALICE
    fates = {(f.message_id, f.recipient): f for f in message_fates(unknown_user.records)}
    assert fates[bounce.message, ALICE].fate is Fate.DELIVERED
    assert fates[bounce.message, ALICE].origin == "bounce"


def test_alice_fetches_a_multipart_report_naming_the_original(unknown_user: Run) -> None:
    original, bounce = original_and_bounce(unknown_user)
    (fetched,) = unknown_user.of(Kind.MAIL_FETCHED)
    assert fetched.host == "alice-pc"
    assert fetched.message == bounce.message
    assert fetched.data["user"] == ALICE
    (content,) = unknown_user.world.muas[ALICE].inbox
    text = content.decode("utf-8")
    assert original.message in text
    assert "Status: 5.1.1" in text.split("\r\n")
    dsn = parse(content)
    assert dsn.get_content_type() == "multipart/report"
    assert dsn.get_param("report-type") == "delivery-status"  # RFC 3464 §2
    assert dsn.get_all("Return-Path") == ["<>"]
    assert dsn["Message-ID"] == bounce.message
    kinds = [part.get_content_type() for part in dsn.iter_parts()]
    assert kinds[:2] == ["text/plain", "message/delivery-status"]
    assert "Final-Recipient: rfc822; bbo@example.net" in text
    assert "Action: failed" in text
