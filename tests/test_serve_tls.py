"""`mailsim serve` with real TLS: imaplib, poplib and smtplib trust a throw-away CA.

The scenario `eavesdropper` gives mail.example.org TLS 1.3 and
mail.example.net TLS 1.2.  Each real session's TLS is real on the socket
and modelled in the trace: a `tls.handshake` record from `real-pc`, and
every line after it marked encrypted.  Loopback only, free ports, stopped
by the test that started it.
"""

from __future__ import annotations

import contextlib
import http.client
import imaplib
import poplib
import smtplib
import ssl
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import pytest
from test_serve import NET, ORG, PATIENCE, SPEED, delivered, real_port

from simulator.protocols.tls import TlsVersion
from simulator.realtls import ThrowAwayCa, TlsLayer
from simulator.serve import Server
from simulator.simulation import Simulation
from simulator.trace import Kind, TraceRecord

IMAP, IMAPS, POP3S, SUBMISSION = 143, 993, 995, 587


@pytest.fixture
def server() -> Iterator[Server]:
    served = Server(Simulation.load("eavesdropper"), port_base=0, speed=SPEED)
    served.serve_in_thread()
    try:
        yield served
    finally:
        served.close()


def trusting(server: Server) -> ssl.SSLContext:
    """A client context that trusts the server's throw-away CA, and nothing else."""
    assert server.ca is not None
    return ssl.create_default_context(cafile=str(server.ca.path))


def handshakes(server: Server) -> list[TraceRecord]:
    return [r for r in server.simulation.trace.select(Kind.TLS_HANDSHAKE) if r.host == "real-pc"]


def real_lines(server: Server, port: int) -> list[TraceRecord]:
    sessions = {r.session for r in server.simulation.trace.select(Kind.TCP_CONNECT)
                if r.data.get("real") and r.data["port"] == port}
    return [r for r in server.simulation.trace.select(Kind.LINE) if r.session in sessions]


def test_every_port_is_served_and_the_banner_names_the_certificate(server: Server) -> None:
    ports = {(p.host, p.port) for p in server.ports}
    assert {(ORG, 465), (ORG, 993), (ORG, 995), (NET, 993)} <= ports
    assert server.ca is not None and server.ca.path.exists()
    banner = server.banner("served")
    assert str(server.ca.path) in banner and server.ca.fingerprint in banner
    assert len(server.ca.fingerprint.split(":")) == 32  # SHA-256


def test_imaps_on_993_with_imaplib(server: Server) -> None:
    with imaplib.IMAP4_SSL("127.0.0.1", real_port(server, ORG, IMAPS),
                           ssl_context=trusting(server), timeout=PATIENCE) as client:
        assert "STARTTLS" not in client.capabilities  # TLS already
        assert client.sock.version() == "TLSv1.3"  # the host's own version
        assert client.sock.cipher()[0] == "TLS_AES_256_GCM_SHA384"
        client.login("alice@example.org", "wonderland")
        assert client.select("INBOX")[0] == "OK"
        client.logout()
    server.close()
    (done,) = handshakes(server)
    assert (done.peer, done.data["port"], done.data["version"]) == (ORG, IMAPS, "TLSv1.3")
    lines = real_lines(server, IMAPS)
    assert lines and all(r.data.get("encrypted") for r in lines)
    assert any(r.text.startswith("* OK [CAPABILITY") for r in lines)


def test_starttls_on_143_with_imaplib_and_a_tls_12_host(server: Server) -> None:
    client = imaplib.IMAP4("127.0.0.1", real_port(server, NET, IMAP), timeout=PATIENCE)
    assert "STARTTLS" in client.capabilities
    client.starttls(ssl_context=trusting(server))
    assert client.sock.version() == "TLSv1.2"
    assert client.sock.cipher()[0] == "ECDHE-RSA-AES256-GCM-SHA384"  # as the trace says
    client.login("bob@example.net", "builder")
    client.logout()
    server.close()
    (done,) = handshakes(server)
    assert (done.peer, done.data["version"], done.data["cipher"]) == (
        NET, "TLSv1.2", "ECDHE-RSA-AES256-GCM-SHA384")
    said = {r.text: bool(r.data.get("encrypted")) for r in real_lines(server, IMAP)}
    assert said[next(t for t in said if t.endswith(" STARTTLS"))] is False
    assert said[next(t for t in said if " LOGIN " in t)] is True  # the password went encrypted


def test_pop3s_on_995_with_poplib(server: Server) -> None:
    mailbox = poplib.POP3_SSL("127.0.0.1", real_port(server, ORG, POP3S),
                              context=trusting(server), timeout=PATIENCE)
    mailbox.user("alice@example.org")
    assert mailbox.pass_("wonderland").startswith(b"+OK")
    assert mailbox.quit().startswith(b"+OK")
    server.close()
    assert [r.data["port"] for r in handshakes(server)] == [POP3S]
    assert all(r.data.get("encrypted") for r in real_lines(server, POP3S))


def test_smtp_starttls_on_587_then_the_mail_goes_through(server: Server) -> None:
    message = EmailMessage()
    message["From"], message["To"] = "alice@example.org", "bob@example.net"
    message["Subject"], message["Message-ID"] = "Over real TLS", "<tls.1@example.org>"
    message.set_content("Hello Bob.\n")
    with smtplib.SMTP("127.0.0.1", real_port(server, ORG, SUBMISSION),
                      local_hostname="student-pc", timeout=PATIENCE) as client:
        client.starttls(context=trusting(server))
        client.login("alice@example.org", "wonderland")
        client.send_message(message)
    assert server.wait_until(delivered("<tls.1@example.org>"), PATIENCE)
    server.close()
    (done,) = handshakes(server)
    assert done.data["port"] == SUBMISSION
    said = real_lines(server, SUBMISSION)
    auth = next(r for r in said if r.text.startswith("AUTH PLAIN"))
    assert auth.data.get("encrypted")


def test_a_client_that_does_not_trust_the_certificate_is_refused_and_serving_goes_on(
    server: Server,
) -> None:
    with pytest.raises(ssl.SSLCertVerificationError):
        imaplib.IMAP4_SSL("127.0.0.1", real_port(server, ORG, IMAPS),
                          ssl_context=ssl.create_default_context(), timeout=PATIENCE)
    with imaplib.IMAP4_SSL("127.0.0.1", real_port(server, ORG, IMAPS),
                           ssl_context=trusting(server), timeout=PATIENCE) as client:
        assert client.noop()[0] == "OK"


def test_the_webmail_answers_https_on_443_with_http_client() -> None:
    """curl or `http.client` reach the simulated webmail: real TLS, a true 401 without a cookie."""
    with Server(Simulation.load("webmail"), port_base=0, speed=SPEED) as served:
        served.serve_in_thread()
        web = next(p for p in served.ports if p.port == 443)
        assert web.service == "webmail for browsers"
        assert "https://127.0.0.1:PORT/" in served.banner("served")
        connection = http.client.HTTPSConnection("127.0.0.1", web.real_port,
                                                 context=trusting(served), timeout=PATIENCE)
        try:
            connection.request("GET", "/")
            answer = connection.getresponse()
            assert (answer.status, answer.read()) == (401, b"")
        finally:
            connection.close()
        assert served.wait_until(lambda _: any(r.data["port"] == 443
                                               for r in handshakes(served)), PATIENCE)
        assert next(r.text for r in real_lines(served, 443)) == "GET / HTTP/1.1"


def test_a_client_that_says_close_notify_ends_its_tls(tmp_path: Path) -> None:
    """curl ends TLS with close_notify (RFC 8446 §6.1): the layer sees it closed, and
    does not read on for ever (the serving loop then spun)."""
    ca = ThrowAwayCa(tmp_path)
    layer = TlsLayer(ca.context(TlsVersion.TLS1_3))
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    client = ssl.create_default_context(cafile=str(ca.path)).wrap_bio(
        incoming, outgoing, server_hostname="localhost")
    for _ in range(4):  # the handshake's flights, both ways
        with contextlib.suppress(ssl.SSLWantReadError):
            client.do_handshake()
        layer.receive(outgoing.read())
        incoming.write(layer.outgoing())
    assert layer.established
    with contextlib.suppress(ssl.SSLWantReadError):
        client.unwrap()
    assert layer.receive(outgoing.read()) == b"" and layer.closed
