"""`mailsim serve` over IMAP: Python's imaplib reads the simulated Dovecot on loopback.

As in `test_serve.py`, every server listens on 127.0.0.1 only, on ports the
system picks, and is stopped by the test that started it.
"""

from __future__ import annotations

import imaplib
import smtplib
import time

from test_serve import NET, ORG, PATIENCE, delivered, letter, real_port

from simulator.serve import Server
from simulator.trace import Kind

IMAP, SUBMISSION = 143, 587


def submit(server: Server, message_id: str) -> None:
    """alice sends bob a letter through her provider's submission port."""
    with smtplib.SMTP("127.0.0.1", real_port(server, ORG, SUBMISSION), timeout=PATIENCE) as client:
        client.login("alice@example.org", "wonderland")
        client.send_message(letter(message_id))


def bobs_imap(server: Server) -> imaplib.IMAP4:
    client = imaplib.IMAP4("127.0.0.1", real_port(server, NET, IMAP), timeout=PATIENCE)
    client.login("bob@example.net", "builder")
    return client


def test_imaplib_selects_searches_fetches_stores_and_appends(server: Server) -> None:
    submit(server, "<imap.1@example.org>")
    assert server.wait_until(delivered("<imap.1@example.org>"), PATIENCE)
    client = bobs_imap(server)
    assert "IMAP4REV2" in client.capabilities and "IDLE" in client.capabilities
    status, (count,) = client.select("INBOX")
    assert status == "OK" and int(count) >= 1
    _, (found,) = client.search(None, "HEADER", "Message-ID", "<imap.1@example.org>")
    (number,) = found.split()
    _, (unseen,) = client.search(None, "UNSEEN")
    assert number in unseen.split()
    _, header = client.fetch(number, "(BODY.PEEK[HEADER])")
    assert b"Subject: Sent by smtplib" in header[0][1]
    _, body = client.fetch(number, "(BODY[])")
    assert b".a line with a dot" in body[0][1] and "\\\\Seen" in str(body)
    _, flags = client.store(number, "+FLAGS", "(\\Flagged)")
    assert b"\\Flagged" in flags[0]
    status, appended = client.append("Sent", "(\\Seen)", None, letter("<imap.2@example.org>")
                                     .as_bytes())
    assert status == "OK" and b"APPENDUID" in appended[0]
    assert client.logout()[0] == "BYE"
    server.close()
    inbox = server.simulation.world.mdas[NET].mailboxes["bob@example.net"]
    (stored,) = [m for m in inbox.messages if m.message_id == "<imap.1@example.org>"]
    assert {"\\Seen", "\\Flagged"} <= stored.flags
    assert [m.message_id for m in inbox.folder("Sent").messages] == ["<imap.2@example.org>"]
    said = [r.text for r in server.simulation.trace.select(Kind.LINE)
            if r.protocol == "imap" and r.host == "real-pc"]
    assert any(t.endswith(' LOGIN bob@example.net "builder"') for t in said)  # in clear


def test_idle_pushes_new_mail_to_imaplib_at_once(server: Server) -> None:
    """RFC 2177: the client idles; a delivery is told to it without polling."""
    client = bobs_imap(server)
    client.select("INBOX")
    if hasattr(client, "idle"):  # Python 3.14 has IMAP4.idle()
        with client.idle(duration=PATIENCE) as idler:
            submit(server, "<imap.idle@example.org>")
            pushed = next(kind for kind, _ in idler if kind == "EXISTS")
    else:  # earlier Pythons: IDLE and DONE by hand, with imaplib's own send and readline
        client.send(b"I1 IDLE\r\n")
        assert client.readline().startswith(b"+ ")
        submit(server, "<imap.idle@example.org>")
        started = time.monotonic()
        while not (line := client.readline()).endswith(b" EXISTS\r\n"):
            assert line, "the server hung up"
        pushed = line.split()[2].decode()
        assert time.monotonic() - started < PATIENCE
        client.send(b"DONE\r\n")
        assert client.readline().startswith(b"I1 OK")
    assert pushed == "EXISTS"
    assert server.wait_until(delivered("<imap.idle@example.org>"), PATIENCE)
    client.logout()
    server.close()
    lines = [r for r in server.simulation.trace.select(Kind.LINE) if r.protocol == "imap"]
    (arrival,) = [r for r in server.simulation.trace.select(Kind.MAIL_DELIVERED)
                  if r.message == "<imap.idle@example.org>"]
    push = next(r for r in lines if r.text.endswith(" EXISTS") and r.time >= arrival.time)
    assert push.time == arrival.time  # pushed the instant the mail was filed
