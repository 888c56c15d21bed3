"""The client-side bundled scenarios: each lesson asserted on the trace.

`pop3-vs-imap`: with POP3 the phone never sees what the laptop downloaded
and deleted; with IMAP both devices see everything, the \\Seen flag set on
one shows on the other, and IDLE brings mail in a second instead of at
the next poll (RFC 2177).  `webmail`: the MUA is on the provider's web
server; the browser speaks only HTTPS.  `eavesdropper-imap`: plain IMAP
gives the password away, IMAPS only sizes.
"""

from __future__ import annotations

import pytest

from simulator.profiles import READS_AFTER
from simulator.simulation import Simulation
from simulator.trace import Kind, TraceRecord
from simulator.views.eavesdrop import eavesdropped, secrets

Records = tuple[TraceRecord, ...]


def run(name: str) -> Records:
    simulation = Simulation.load(name)
    simulation.run()
    return simulation.trace.records


@pytest.fixture(scope="module")
def pop3_vs_imap() -> Records:
    return run("pop3-vs-imap")


@pytest.fixture(scope="module")
def webmail() -> Records:
    return run("webmail")


def fetched(records: Records, user: str) -> list[TraceRecord]:
    return [r for r in records if r.kind is Kind.MAIL_FETCHED and r.data["user"] == user]


def delivered_at(records: Records, recipient: str) -> float:
    return next(r.time for r in records
                if r.kind is Kind.MAIL_DELIVERED and r.data["recipient"] == recipient)


def lines(records: Records, session: str) -> list[str]:
    return [r.text for r in records if r.kind is Kind.LINE and r.session == session]


def sessions_from(records: Records, host: str, port: int) -> list[str]:
    return [r.session or "" for r in records if r.kind is Kind.TCP_CONNECT
            and r.host == host and r.data["port"] == port]


# --- pop3-vs-imap -------------------------------------------------------------------------


def test_with_pop3_the_phone_never_sees_what_the_laptop_downloaded(pop3_vs_imap: Records) -> None:
    assert [r.host for r in fetched(pop3_vs_imap, "bob@example.org")] == ["bob-laptop"]
    assert fetched(pop3_vs_imap, "bob@example.org")[0].protocol == "pop3"
    phone = sessions_from(pop3_vs_imap, "bob-phone", 110)
    assert len(phone) == 2  # at 5:00 and 10:00
    for session in phone:
        assert "+OK 0 0" in lines(pop3_vs_imap, session)
    laptop = lines(pop3_vs_imap, sessions_from(pop3_vs_imap, "bob-laptop", 110)[0])
    assert "DELE 1" in laptop and "QUIT" in laptop


def test_with_imap_both_devices_get_the_message_and_the_read_flag_follows(
    pop3_vs_imap: Records,
) -> None:
    copies = fetched(pop3_vs_imap, "carol@example.org")
    assert [r.host for r in copies] == ["carol-laptop", "carol-phone"]
    assert copies[0].message == copies[1].message
    assert copies[0].protocol == copies[1].protocol == "imap"
    assert [r.data.get("seen", False) for r in copies] == [False, True]
    phone = lines(pop3_vs_imap, sessions_from(pop3_vs_imap, "carol-phone", 993)[1])
    assert any(text.startswith("* 1 FETCH (UID 1 FLAGS (\\Seen)") for text in phone)


def test_the_laptop_downloads_unread_and_marks_read_when_carol_opens_it(
    pop3_vs_imap: Records,
) -> None:
    (session,) = sessions_from(pop3_vs_imap, "carol-laptop", 993)
    said = lines(pop3_vs_imap, session)
    assert "A0005 UID FETCH 1 BODY.PEEK[]" in said  # downloaded is not read
    downloaded = fetched(pop3_vs_imap, "carol@example.org")[0].time
    store = next(r for r in pop3_vs_imap if r.kind is Kind.LINE and r.session == session
                 and r.text.endswith("UID STORE 1 +FLAGS (\\Seen)"))
    assert store.time - downloaded == pytest.approx(READS_AFTER, abs=1.0)


def test_idle_brings_the_mail_in_a_second_polling_at_the_next_check(
    pop3_vs_imap: Records,
) -> None:
    arrived = delivered_at(pop3_vs_imap, "carol@example.org")
    laptop, phone = fetched(pop3_vs_imap, "carol@example.org")
    assert laptop.time - arrived < 1.0
    assert phone.time == pytest.approx(300.0, abs=1.0)
    (session,) = sessions_from(pop3_vs_imap, "carol-laptop", 993)
    said = lines(pop3_vs_imap, session)
    idle = said.index("A0003 IDLE")
    assert said[idle + 1] == "+ idling"
    assert said.index("* 1 EXISTS") < said.index("DONE") < said.index("A0003 OK Idle completed.")
    pushed = next(r.time for r in pop3_vs_imap if r.kind is Kind.LINE and r.session == session
                  and r.text == "* 1 EXISTS")
    assert 30.0 < pushed < 31.0  # the lesson: within a second of alice's Send at 0:30
    assert all(r.protocol != "pop3" for r in pop3_vs_imap if r.host.startswith("carol"))


def test_the_reply_is_submitted_then_saved_to_sent(pop3_vs_imap: Records) -> None:
    (session,) = sessions_from(pop3_vs_imap, "carol-laptop", 993)
    said = lines(pop3_vs_imap, session)
    append = next(text for text in said if " APPEND Sent (\\Seen)" in text)
    tag = append.split(" ")[0]
    assert any(text.startswith(f"{tag} OK [APPENDUID") for text in said[said.index(append):])
    submitted = next(r.time for r in pop3_vs_imap if r.kind is Kind.LINE
                     and r.text.startswith("250 2.0.0 Ok: queued") and r.peer == "carol-laptop")
    appended = next(r.time for r in pop3_vs_imap if r.kind is Kind.LINE and r.text == append)
    assert submitted < appended


# --- webmail ------------------------------------------------------------------------------


def test_the_browser_speaks_only_https_and_every_line_is_encrypted(webmail: Records) -> None:
    ports = {r.data["port"] for r in webmail if r.kind is Kind.TCP_CONNECT and r.host == "alice-pc"}
    assert ports == {443}
    https = [r for r in webmail if r.kind is Kind.LINE and r.protocol == "https"]
    assert https and all(r.data["encrypted"] for r in https)
    requests = [r.text for r in https if r.host == "alice-pc" and " HTTP/1.1" in r.text]
    assert requests[:2] == ["GET /?_task=mail&_action=refresh HTTP/1.1",
                            "POST /?_task=mail&_action=send HTTP/1.1"]
    assert "GET /?_task=mail&_action=show&_uid=1 HTTP/1.1" in requests


def test_the_webmail_is_the_mua_on_the_provider_network(webmail: Records) -> None:
    composed = next(r for r in webmail if r.kind is Kind.MAIL_COMPOSED
                    and r.data["from"] == "alice@example.org")
    assert composed.host == "webmail.example.org"
    (submission,) = sessions_from(webmail, "webmail.example.org", 587)
    assert "User-Agent: Roundcube Webmail" in lines(webmail, submission)
    imap = sessions_from(webmail, "webmail.example.org", 143)
    refreshes = [r for r in webmail if r.kind is Kind.LINE and r.host == "alice-pc"
                 and r.text.startswith("GET /?_task=mail&_action=refresh")]
    assert len(imap) > len(refreshes)  # a fresh IMAP login for every request, and Sent
    appended = [s for s in imap if any(t.startswith("A0003 APPEND Sent") for t in
                                       lines(webmail, s))]
    assert len(appended) == 1


def test_alice_reads_the_answer_in_her_browser_bob_gets_it_by_idle(webmail: Records) -> None:
    (shown,) = fetched(webmail, "alice@example.org")
    assert shown.host == "webmail.example.org" and shown.data["via"] == "alice-pc"
    assert shown.time == pytest.approx(60.0, abs=1.0)  # the page's refresh, once a minute
    (bobs,) = fetched(webmail, "bob@example.net")
    assert bobs.host == "bob-laptop" and bobs.time - delivered_at(webmail, "bob@example.net") < 1


def test_home_wifi_sees_only_sizes_the_provider_lan_sees_the_password(webmail: Records) -> None:
    home = eavesdropped(webmail, "home-wifi")
    assert {s.session for s in home} == set(sessions_from(webmail, "alice-pc", 443))
    assert [s for s in home if not s.readable]
    readable = {s.text for s in home if s.readable}
    assert not any("HTTP/1.1" in text or "_action" in text for text in readable)
    assert secrets(home) == []
    assert not any("wonderland" in s.text or "Photos" in s.text for s in home)
    assert any("wonderland" in found for found in secrets(eavesdropped(webmail, "provider-lan")))


# --- eavesdropper-imap --------------------------------------------------------------------


def test_plain_imap_gives_the_password_away_imaps_only_sizes() -> None:
    records = run("eavesdropper-imap")
    seen = eavesdropped(records, "cafe-wifi")
    plain = sessions_from(records, "alice-laptop", 143)
    secure = sessions_from(records, "alice-laptop", 993)
    texts = [s.text for s in seen if s.session in plain]
    # Thunderbird's SASL PLAIN: base64 of "\0alice@oldmail.example\0sunshine" (RFC 4616)
    assert "A0001 AUTHENTICATE PLAIN AGFsaWNlQG9sZG1haWwuZXhhbXBsZQBzdW5zaGluZQ==" in texts
    assert "the meeting is at 10 in room 4." in texts
    hidden = [s for s in seen if s.session in secure and not s.readable]
    assert hidden and all(s.octets > 0 for s in hidden)
    shown = {s.text for s in seen if s.session in secure and s.readable}
    assert not any("LOGIN" in text or "FETCH" in text for text in shown)
    found = " ".join(secrets(seen))
    assert "sunshine" in found and "wonderland" not in found
