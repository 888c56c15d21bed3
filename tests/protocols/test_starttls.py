"""STARTTLS (RFC 3207) and STLS (RFC 2595) in the machines: wire tables, no bytes of TLS.

The session layer runs the handshake; here it is stood in for by calling
`tls_established()` when a machine hands out `TlsRequested`.
"""

from __future__ import annotations

import base64

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.protocols.common import NEED_DATA, TlsUnavailable
from simulator.protocols.pop3 import Pop3Client, Pop3ClientConfig, Pop3Server, Pop3ServerConfig
from simulator.protocols.pop3.client import Pop3ClientState
from simulator.protocols.pop3.server import CredentialsReceived
from simulator.protocols.smtp import (
    AuthReceived,
    ClientState,
    Envelope,
    MailFromReceived,
    ServerState,
    SmtpClient,
    SmtpClientConfig,
    SmtpReply,
    SmtpServer,
    SmtpServerConfig,
    TransactionResult,
    reply,
)
from simulator.protocols.tls import (
    FLIGHTS,
    TlsPolicy,
    TlsRequested,
    TlsVersion,
    chosen_version,
    flight,
    is_handshake,
    server_hello,
)

HOST = "mail.example.org"
TLS13 = TlsVersion.TLS1_3


def smtp_server(**config: object) -> SmtpServer:
    server = SmtpServer(SmtpServerConfig(hostname=HOST, **config))  # type: ignore[arg-type]
    server.greet()
    server.data_to_send()
    return server


def say(server: SmtpServer | Pop3Server, line: bytes) -> tuple[list[str], object]:
    """Feed one line: the reply lines and the event handed out."""
    server.receive_data(line + b"\r\n")
    event = server.next_event()
    if isinstance(event, MailFromReceived) and isinstance(server, SmtpServer):
        server.respond(reply(SmtpReply.MAIL_OK))
    return server.data_to_send().decode().split("\r\n")[:-1], event


def encrypted(server: SmtpServer | Pop3Server) -> None:
    """Stand in for the session layer: the handshake asked for is done."""
    server.tls_established(TLS13)


# -- SMTP server --------------------------------------------------------------------

SMTP_CASES = [  # (config, lines before, in TLS?, line, expected last reply line)
    ({"starttls": True}, [b"EHLO c"], False, b"STARTTLS", "220 2.0.0 Ready to start TLS"),
    ({"starttls": True}, [], False, b"STARTTLS", "220 2.0.0 Ready to start TLS"),
    ({"starttls": True}, [b"EHLO c"], False, b"STARTTLS now", "501 5.5.4 Syntax: STARTTLS"),
    ({"starttls": True}, [b"EHLO c"], True, b"STARTTLS", "554 5.5.1 Error: TLS already active"),
    ({}, [b"EHLO c"], False, b"STARTTLS", "502 5.5.1 Error: command not implemented"),
    ({}, [b"EHLO c"], False, b"STARTTLS x", "501 5.5.4 Syntax: STARTTLS"),  # syntax first
    ({"starttls": True}, [b"EHLO c"], True, b"STARTTLS x", "501 5.5.4 Syntax: STARTTLS"),
    ({"starttls": True}, [b"EHLO c", b"MAIL FROM:<a@b>"], False, b"STARTTLS",
     "503 5.5.1 Error: MAIL transaction in progress"),
    ({"starttls": True, "offer_auth": True, "tls_auth_only": True}, [b"EHLO c"], False,
     b"AUTH PLAIN " + base64.b64encode(b"\0alice\0secret"),
     "530 5.7.0 Must issue a STARTTLS command first"),
    ({"starttls": True, "offer_auth": True, "tls_auth_only": True}, [b"EHLO c"], True,
     b"AUTH PLAIN", "334 "),
]


@pytest.mark.parametrize(("config", "before", "in_tls", "line", "expected"), SMTP_CASES)
def test_smtp_starttls_wire(config, before, in_tls, line, expected) -> None:  # type: ignore[no-untyped-def]
    server = smtp_server(**config)
    if in_tls:
        encrypted(server)
    for earlier in before:
        say(server, earlier)
    replies, _ = say(server, line)
    assert replies[-1] == expected


def test_ehlo_offers_starttls_only_in_clear_and_auth_only_inside_tls() -> None:
    server = smtp_server(starttls=True, offer_auth=True, tls_auth_only=True)
    clear, _ = say(server, b"EHLO c")
    assert "250-STARTTLS" in clear and not any("AUTH" in line for line in clear)
    replies, event = say(server, b"STARTTLS")
    assert replies == ["220 2.0.0 Ready to start TLS"]
    assert event == TlsRequested(TLS13)
    encrypted(server)
    inside, _ = say(server, b"EHLO c")
    assert "250-AUTH PLAIN" in inside and not any("STARTTLS" in line for line in inside)


def test_after_starttls_the_server_forgets_everything() -> None:
    server = smtp_server(starttls=True, smtpd_helo_required=True)
    say(server, b"EHLO c")
    say(server, b"STARTTLS")
    encrypted(server)
    assert server.state is ServerState.GREETED and server.helo_name is None  # RFC 3207 §4.2
    replies, _ = say(server, b"MAIL FROM:<a@b>")
    assert replies == ["503 5.5.1 Error: send HELO/EHLO first"]


def test_commands_sent_in_clear_after_starttls_are_dropped() -> None:
    """CVE-2011-0411: a command pipelined behind STARTTLS must not run inside TLS."""
    server = smtp_server(starttls=True)
    say(server, b"EHLO c")
    server.receive_data(b"STARTTLS\r\nMAIL FROM:<evil@x>\r\n")
    assert isinstance(server.next_event(), TlsRequested)
    encrypted(server)
    assert server.next_event() is NEED_DATA
    assert server.data_to_send() == b"220 2.0.0 Ready to start TLS\r\n"
    assert server.envelope is None


# -- POP3 server --------------------------------------------------------------------

POP3_CASES = [  # (config, in TLS?, line, expected first response line)
    ({"starttls": True}, False, b"STLS", "+OK Begin TLS negotiation now."),
    ({"starttls": True}, True, b"STLS", "-ERR TLS is already active."),
    ({}, False, b"STLS", "-ERR TLS support isn't enabled."),
    ({"starttls": True}, False, b"STLS now", "-ERR STLS: Too many arguments."),
    ({"starttls": True, "disable_plaintext_auth": True}, False, b"USER alice",
     "-ERR [AUTH] Plaintext authentication disallowed on non-secure (SSL/TLS) connections."),
    ({"starttls": True, "disable_plaintext_auth": True}, False, b"AUTH PLAIN",
     "-ERR [AUTH] Plaintext authentication disallowed on non-secure (SSL/TLS) connections."),
    ({"starttls": True, "disable_plaintext_auth": True}, True, b"USER alice", "+OK"),
]


@pytest.mark.parametrize(("config", "in_tls", "line", "expected"), POP3_CASES)
def test_pop3_stls_wire(config, in_tls, line, expected) -> None:  # type: ignore[no-untyped-def]
    server = Pop3Server(Pop3ServerConfig(hostname=HOST, **config))
    server.greet()
    server.data_to_send()
    if in_tls:
        encrypted(server)
    replies, _ = say(server, line)
    assert replies[0] == expected


def test_stls_only_in_authorization_and_capa_lists_it_in_clear() -> None:
    server = Pop3Server(Pop3ServerConfig(hostname=HOST, starttls=True,
                                         disable_plaintext_auth=True))
    server.greet()
    server.data_to_send()
    capa, _ = say(server, b"CAPA")
    assert "STLS" in capa and "USER" not in capa  # Dovecot hides USER in clear
    replies, event = say(server, b"STLS")
    assert replies == ["+OK Begin TLS negotiation now."]
    assert event == TlsRequested(TLS13)
    encrypted(server)
    capa, _ = say(server, b"CAPA")
    assert "STLS" not in capa and "USER" in capa
    say(server, b"USER alice")
    server.receive_data(b"PASS secret\r\n")
    server.next_event()
    server.login([])
    server.data_to_send()
    replies, _ = say(server, b"STLS")
    assert replies == ["-ERR STLS not allowed in TRANSACTION state."]  # RFC 2595 §4


# -- the clients ----------------------------------------------------------------------

ENVELOPE = Envelope("bob@example.net", ("alice@example.org",))


def ehlo_reply(*keywords: str) -> bytes:
    lines = [HOST, "PIPELINING", *keywords, "8BITMIME"]
    return "".join(f"250{'-' if i < len(lines) - 1 else ' '}{text}\r\n"
                   for i, text in enumerate(lines)).encode()


def smtp_client(policy: TlsPolicy) -> SmtpClient:
    client = SmtpClient(SmtpClientConfig(helo_name="c", tls=policy), [(ENVELOPE, b"Hi\r\n")])
    client.receive_data(b"220 mail ESMTP\r\n")
    assert client.next_event() is NEED_DATA
    client.data_to_send()
    return client


@pytest.mark.parametrize("policy", [TlsPolicy.MAY, TlsPolicy.REQUIRE])
def test_client_starttls_when_offered_then_ehlo_again(policy: TlsPolicy) -> None:
    client = smtp_client(policy)
    client.receive_data(ehlo_reply("STARTTLS"))
    assert client.next_event() is NEED_DATA
    assert client.data_to_send() == b"STARTTLS\r\n"
    client.receive_data(b"220 2.0.0 Ready to start TLS\r\n")
    assert client.next_event() == TlsRequested()
    client.tls_established(TLS13)
    assert client.data_to_send() == b"EHLO c\r\n"  # RFC 3207 §4.2
    assert client.extensions == {}


def test_opportunistic_client_goes_on_in_clear_when_not_offered_or_refused() -> None:
    client = smtp_client(TlsPolicy.MAY)
    client.receive_data(ehlo_reply())
    client.next_event()
    assert client.data_to_send().startswith(b"MAIL FROM:")
    client = smtp_client(TlsPolicy.MAY)
    client.receive_data(ehlo_reply("STARTTLS"))
    client.next_event()
    client.data_to_send()
    client.receive_data(b"454 4.7.0 TLS not available due to local problem\r\n")
    client.next_event()
    assert client.state is ClientState.MAIL and client.tls is None


def test_a_client_that_requires_tls_quits_when_none_is_offered() -> None:
    client = smtp_client(TlsPolicy.REQUIRE)
    client.receive_data(ehlo_reply("AUTH PLAIN"))
    result = client.next_event()
    assert isinstance(result, TransactionResult)
    assert result.outcome == TlsUnavailable()
    assert client.data_to_send() == b"QUIT\r\n"  # no password went in clear


def test_a_reply_during_the_handshake_breaks_the_protocol() -> None:
    client = smtp_client(TlsPolicy.MAY)
    client.receive_data(ehlo_reply("STARTTLS"))
    client.next_event()
    client.receive_data(b"220 2.0.0 Ready to start TLS\r\n")
    assert client.next_event() == TlsRequested()
    client.receive_data(b"250 injected\r\n")
    assert isinstance(client.next_event(), TransactionResult)
    assert client.closed


def test_pop3_client_stls_before_login() -> None:
    client = Pop3Client(Pop3ClientConfig("alice", "secret", starttls=True))
    client.receive_data(b"+OK Dovecot ready.\r\n")
    assert client.next_event() is NEED_DATA
    assert client.data_to_send() == b"STLS\r\n"
    client.receive_data(b"+OK Begin TLS negotiation now.\r\n")
    assert client.next_event() == TlsRequested()
    assert client.data_to_send() == b""  # nothing in clear before the handshake
    client.tls_established(TLS13)
    assert client.data_to_send() == b"USER alice\r\n"
    refused = Pop3Client(Pop3ClientConfig("alice", "secret", starttls=True))
    refused.receive_data(b"+OK ready.\r\n-ERR TLS support isn't enabled.\r\n")
    refused.next_event()
    assert refused.state is Pop3ClientState.QUIT
    assert b"PASS" not in refused.data_to_send()


def test_client_and_server_pair_through_starttls() -> None:
    """A client and server back to back agree, the handshake stood in for."""
    server = smtp_server(starttls=True)
    client = SmtpClient(SmtpClientConfig(helo_name="c", tls=TlsPolicy.MAY),
                        [(ENVELOPE, b"Hi\r\n")])
    client.receive_data(b"220 mail ESMTP\r\n")
    for _ in range(40):
        client.next_event()
        server.receive_data(client.data_to_send())
        event = server.next_event()
        if isinstance(event, TlsRequested):
            server.tls_established(TLS13)
        elif event is not NEED_DATA:
            answer = {"MailFromReceived": SmtpReply.MAIL_OK, "RcptToReceived": SmtpReply.RCPT_OK}
            server.respond(reply(answer.get(type(event).__name__, SmtpReply.QUEUED),
                                 queue_id="1"))
        client.receive_data(server.data_to_send())
        if isinstance(client.next_event(), TlsRequested):
            client.tls_established(TLS13)
        if client.closed:
            break
    assert client.tls is TLS13 and server.tls is TLS13 and client.closed


# -- the modelled handshake bytes ------------------------------------------------------


@pytest.mark.parametrize("version", list(TlsVersion))
def test_server_hello_names_the_version_and_flights_have_their_sizes(version: TlsVersion) -> None:
    suite = FLIGHTS[version]
    hello = server_hello(version, suite.flights[1])
    assert len(hello) == suite.flights[1] and chosen_version(hello) is version
    assert all(len(flight(size)) == size and is_handshake(flight(size))
               for size in suite.flights)
    assert suite.round_trips == len(suite.flights) // 2  # RFC 8446: 1, RFC 5246: 2
    assert chosen_version(b"EHLO x\r\n") is None and not is_handshake(b"EHLO x\r\n")


# -- hostile input (hypothesis) ---------------------------------------------------------

TOKENS = [b"EHLO c\r\n", b"STARTTLS\r\n", b"STARTTLS x\r\n", b"AUTH PLAIN AGEAYg==\r\n",
          b"MAIL FROM:<a@b>\r\n", b"RCPT TO:<c@d>\r\n", b"DATA\r\n", b".\r\n", b"QUIT\r\n",
          b"STLS\r\n", b"USER a\r\n", b"PASS b\r\n", b"CAPA\r\n"]


@settings(max_examples=150, deadline=None)
@given(chunks=st.lists(st.one_of(st.binary(max_size=80), st.sampled_from(TOKENS)), max_size=25),
       auth_only=st.booleans())
def test_hostile_input_around_starttls_never_raises(chunks: list[bytes], auth_only: bool) -> None:
    smtp = SmtpServer(SmtpServerConfig(hostname=HOST, starttls=True, offer_auth=True,
                                       tls_auth_only=auth_only))
    pop3 = Pop3Server(Pop3ServerConfig(hostname=HOST, starttls=True,
                                       disable_plaintext_auth=auth_only))
    smtp.greet()
    pop3.greet()
    for chunk in chunks:
        for server in (smtp, pop3):
            server.receive_data(chunk)
            while (event := server.next_event()) is not NEED_DATA:
                if isinstance(event, TlsRequested):
                    server.tls_established(TLS13)
                elif isinstance(server, SmtpServer):
                    refuse = isinstance(event, AuthReceived)
                    server.respond(reply(SmtpReply.AUTH_FAILED if refuse else SmtpReply.MAIL_OK))
                elif isinstance(event, CredentialsReceived):
                    server.reject_login()
            server.data_to_send()
    assert smtp.tls in (None, TLS13) and pop3.tls in (None, TLS13)
