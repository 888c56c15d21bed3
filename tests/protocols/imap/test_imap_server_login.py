"""IMAP server: LOGIN, AUTHENTICATE PLAIN (RFC 9051 §6.2.2, SASL-IR RFC 4959),
STARTTLS and LOGINDISABLED (§6.2.1, §6.2.3), LOGOUT, autologout, bad commands."""

from __future__ import annotations

import pytest
from imap_server_harness import Harness

from simulator.protocols.common import NEED_DATA
from simulator.protocols.imap import (
    CredentialsReceived,
    ImapReply,
    ImapState,
    LoggedIn,
    LoggedOut,
)
from simulator.protocols.sasl import encode_plain
from simulator.protocols.tls import TlsRequested, TlsVersion

TLS13 = TlsVersion.TLS1_3

PLAIN = encode_plain("alice", "secret").encode()


def test_authenticate_plain_with_a_continuation() -> None:
    harness = Harness()
    assert harness.send(b"a1 AUTHENTICATE PLAIN\r\n") == b"+ \r\n"
    reply = harness.lines(PLAIN + b"\r\n")
    assert reply[0].startswith("a1 OK [CAPABILITY") and reply[0].endswith("Logged in")
    assert harness.server.state is ImapState.AUTHENTICATED
    assert [type(e) for e in harness.events] == [CredentialsReceived, LoggedIn]


def test_authenticate_plain_with_an_initial_response() -> None:
    harness = Harness()
    reply = harness.lines(b"a1 AUTHENTICATE PLAIN " + PLAIN + b"\r\n")
    assert reply[0].startswith("a1 OK [CAPABILITY")
    assert harness.events[0] == CredentialsReceived("alice", "secret")


@pytest.mark.parametrize(("response", "expected"), [
    (b"*", "a1 BAD Authentication aborted by client."),
    (b"!!!not base64", "a1 BAD Invalid base64 in response"),
    (encode_plain("alice", "wrong").encode(),
     "a1 NO [AUTHENTICATIONFAILED] Authentication failed."),
    (encode_plain("alice", "secret", authzid="bob").encode(),
     "a1 NO [AUTHENTICATIONFAILED] Authentication failed."),
])
def test_authenticate_refusals(response: bytes, expected: str) -> None:
    harness = Harness()
    harness.send(b"a1 AUTHENTICATE PLAIN\r\n")
    assert harness.lines(response + b"\r\n") == [expected]
    assert harness.server.state is ImapState.NOT_AUTHENTICATED
    assert harness.lines(b"a2 NOOP\r\n") == ["a2 OK NOOP completed."]


def test_the_agent_must_answer_credentials_before_reading_on() -> None:
    harness = Harness()
    harness.server.receive_data(b"a1 LOGIN alice secret\r\na2 NOOP\r\n")
    assert isinstance(harness.server.next_event(), CredentialsReceived)
    with pytest.raises(RuntimeError):
        harness.server.next_event()
    harness.server.login(harness.mailbox)
    assert isinstance(harness.server.next_event(), LoggedIn)
    assert harness.server.next_event() is NEED_DATA
    assert harness.server.data_to_send().endswith(b"a2 OK NOOP completed.\r\n")


def test_starttls_waits_for_the_handshake_then_starts_over() -> None:
    harness = Harness(tls_available=True)
    assert b" STARTTLS " in harness.greeting
    harness.server.receive_data(b"a1 STARTTLS\r\na2 LOGIN alice secret\r\n")
    assert harness.server.next_event() == TlsRequested(TLS13)  # the version the server chooses
    assert harness.server.next_event() is NEED_DATA  # nothing read until tls_established()
    assert harness.server.data_to_send() == b"a1 OK Begin TLS negotiation now.\r\n"
    harness.server.tls_established(TLS13)
    assert harness.server.tls is TLS13
    assert harness.lines(b"a3 CAPABILITY\r\n")[0] == (
        "* CAPABILITY IMAP4rev1 IMAP4rev2 SASL-IR ENABLE IDLE LITERAL+ AUTH=PLAIN")
    assert harness.lines(b"a4 STARTTLS\r\n") == ["a4 BAD TLS is already active."]


def test_injected_command_after_starttls_is_not_run() -> None:
    harness = Harness(tls_available=True)
    harness.server.receive_data(b"a1 STARTTLS\r\na2 LOGIN alice secret\r\n")
    harness.pump()
    harness.server.tls_established(TLS13)
    harness.server.data_to_send()
    harness.pump()
    assert harness.server.state is ImapState.NOT_AUTHENTICATED
    assert harness.server.data_to_send() == b""
    assert not any(isinstance(e, CredentialsReceived) for e in harness.events)


def test_implicit_tls_needs_no_starttls_and_a_second_handshake_is_a_caller_bug() -> None:
    harness = Harness(tls_available=True)
    harness.server.tls_established(TLS13)  # port 993: TLS before anything (RFC 8314 §3)
    assert "STARTTLS" not in harness.lines(b"a1 CAPABILITY\r\n")[0]
    with pytest.raises(RuntimeError):
        harness.server.tls_established(TLS13)


def test_logindisabled_until_tls() -> None:
    harness = Harness(tls_available=True, require_tls=True)
    assert harness.greeting.startswith(
        b"* OK [CAPABILITY IMAP4rev1 IMAP4rev2 SASL-IR ENABLE IDLE LITERAL+ STARTTLS"
        b" LOGINDISABLED] Dovecot ready.")
    # Dovecot 2.3 imap-login's words: an ALERT when the password came anyway, then the NO
    alert = ("* BAD [ALERT] Plaintext authentication not allowed without SSL/TLS, but your"
             " client did it anyway. If anyone was listening, the password was exposed.")
    refusal = ("a1 NO [PRIVACYREQUIRED] Plaintext authentication disallowed on non-secure"
               " (SSL/TLS) connections.")
    assert harness.lines(b"a1 LOGIN alice secret\r\n") == [alert, refusal]
    assert harness.lines(b"a1 AUTHENTICATE PLAIN " + PLAIN + b"\r\n") == [alert, refusal]
    assert harness.lines(b"a1 AUTHENTICATE PLAIN\r\n") == [refusal]  # no password sent yet
    harness.send(b"a2 STARTTLS\r\n")
    harness.server.tls_established(TLS13)
    assert harness.lines(b"a3 LOGIN alice secret\r\n")[0].startswith("a3 OK")


def test_logout_sends_bye_then_ok_and_closes() -> None:
    harness = Harness().login()
    assert harness.lines(b"z LOGOUT\r\n") == ["* BYE Logging out", "z OK Logout completed."]
    assert harness.server.closed and harness.events[-1] == LoggedOut()
    assert harness.send(b"y NOOP\r\n") == b""


def test_autologout_and_shutdown() -> None:
    harness = Harness().login()
    assert harness.server.timeout == 30 * 60  # RFC 9051 §5.4: at least 30 minutes
    harness.server.timed_out()
    assert harness.server.data_to_send() == b"* BYE Disconnected for inactivity.\r\n"
    assert harness.server.closed
    other = Harness()
    other.server.close()
    assert other.server.data_to_send() == b"* BYE Server shutting down.\r\n"


def test_end_of_input_ends_the_session_silently() -> None:
    harness = Harness().select()
    assert harness.send(b"") == b""
    assert harness.server.closed


def test_three_bad_commands_before_login_end_the_session() -> None:
    harness = Harness()
    assert harness.lines(b"a FOO\r\n") == ["a BAD Error in IMAP command received by server."]
    assert harness.lines(b"b BAR\r\n") == ["b BAD Error in IMAP command received by server."]
    assert harness.lines(b"c BAZ\r\n") == ["* BYE Too many invalid IMAP commands."]
    assert harness.server.closed


def test_twenty_bad_commands_after_login_end_the_session() -> None:
    harness = Harness().login()
    for n in range(19):
        assert harness.lines(b"x%d FOO\r\n" % n) == [
            f"x{n} BAD Error in IMAP command FOO: Unknown command."]
    assert harness.lines(b"x19 FOO\r\n") == [
        "x19 BAD Error in IMAP command FOO: Unknown command.",
        "* BYE Too many invalid IMAP commands."]
    assert harness.server.closed


def test_a_good_command_resets_the_bad_count() -> None:
    harness = Harness()
    harness.send(b"a FOO\r\nb FOO\r\nc NOOP\r\nd FOO\r\ne FOO\r\n")
    assert not harness.server.closed


def test_reject_login_can_say_something_else() -> None:
    harness = Harness()
    harness.server.receive_data(b"a LOGIN alice secret\r\n")
    assert isinstance(harness.server.next_event(), CredentialsReceived)
    harness.server.reject_login(ImapReply.PRIVACY_REQUIRED)
    assert harness.server.data_to_send().startswith(b"a NO [PRIVACYREQUIRED]")
    with pytest.raises(RuntimeError):
        harness.server.login(harness.mailbox)
