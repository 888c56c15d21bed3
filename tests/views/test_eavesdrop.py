"""The eavesdropper view on hand-made traces: where a tap sees, what it reads, what it sizes."""

from __future__ import annotations

import base64
import io
from typing import Any

from rich.console import Console
from synthetic import payload

from simulator.trace import Kind, TraceRecord
from simulator.trace_data import Tap
from simulator.views.eavesdrop import EavesdropView, eavesdropped, secrets, sees

PATH = ["laptop", "ap", "router", "mail"]


def record(seq: int, time: float, kind: Kind, host: str = "laptop", text: str = "",
           peer: str | None = "mail", session: str | None = "s1", **data: Any) -> TraceRecord:
    return TraceRecord(seq, time, kind, host, text, peer, "smtp", session, None,
                       payload=payload(kind, **data))


def trace(*lines: TraceRecord, tap: dict[str, Any] | None = None) -> list[TraceRecord]:
    tapped = record(0, 0.0, Kind.TAP, "mailsim", "", None, None,
                    **(tap or {"name": "spy", "link": ["ap", "laptop"]}))
    connect = record(1, 1.0, Kind.TCP_CONNECT, port=587, rtt=0.01, path=PATH)
    return [tapped, connect, *lines]


def test_a_link_tap_sees_either_direction_and_a_host_tap_every_route_through_it() -> None:
    path = tuple(PATH)
    assert sees(Tap(name="a", link=("ap", "laptop")), path)
    assert sees(Tap(name="a", link=("router", "ap")), path)
    assert not sees(Tap(name="a", link=("laptop", "router")), path)  # not adjacent on the path
    assert sees(Tap(name="h", host="router"), path) and sees(Tap(name="h", host="mail"), path)
    assert not sees(Tap(name="h", host="elsewhere"), path)


def test_a_tap_off_the_route_sees_nothing() -> None:
    records = trace(record(2, 1.1, Kind.LINE, text="EHLO laptop", role="client", port=587),
                    tap={"name": "spy", "link": ["mail", "backup"]})
    assert eavesdropped(records, "spy") == []
    assert eavesdropped(records, "nobody") == []


def test_auth_plain_is_decoded_and_user_pass_read() -> None:
    response = base64.b64encode(b"\0alice@example.org\0wonderland").decode()
    records = trace(
        record(2, 1.1, Kind.LINE, text=f"AUTH PLAIN {response}", role="client", port=587),
        record(3, 1.2, Kind.LINE, text="USER bob", role="client", port=587),
        record(4, 1.3, Kind.LINE, text="PASS se cret", role="client", port=587),
        record(5, 1.4, Kind.LINE, text="AUTH PLAIN !!notbase64", role="client", port=587),
    )
    assert secrets(eavesdropped(records, "spy")) == [
        "user name 'alice@example.org', password 'wonderland' (AUTH PLAIN, base64)",
        "user name 'bob'", "password 'se cret'",
    ]


def test_encrypted_lines_of_one_instant_are_one_record_with_its_overhead() -> None:
    records = trace(
        record(2, 1.1, Kind.TLS_HANDSHAKE, text="TLS ...", port=587, version="TLSv1.3",
               cipher="TLS_AES_256_GCM_SHA384", bits=256, round_trips=1, seconds=0.02,
               overhead=22),
        record(3, 1.2, Kind.LINE, "mail", "250-mail", "laptop", role="server", port=587,
               encrypted=True),
        record(4, 1.2, Kind.LINE, "mail", "250 8BITMIME", "laptop", role="server", port=587,
               encrypted=True),
        record(5, 1.3, Kind.LINE, text="QUIT", role="client", port=587, encrypted=True),
    )
    seen = eavesdropped(records, "spy")
    assert [s.text for s in seen[:2]] == [
        "TCP connection to port 587",
        "TLS handshake: TLSv1.3, TLS_AES_256_GCM_SHA384; from here on only sizes and times",
    ]
    sizes = [(s.sender, s.octets, s.readable) for s in seen[2:]]
    assert sizes == [("mail", len("250-mail\r\n250 8BITMIME\r\n") + 22, False),
                     ("laptop", len("QUIT\r\n") + 22, False)]
    assert secrets(seen) == []


def lines(*exchange: tuple[str, str], protocol: str = "smtp") -> list[TraceRecord]:
    """A tapped trace of one plain session: (role, text) pairs in order."""
    records = trace()
    for seq, (role, text) in enumerate(exchange, start=2):
        host, peer = ("laptop", "mail") if role == "client" else ("mail", "laptop")
        records.append(TraceRecord(seq, 1.0 + seq / 10, Kind.LINE, host, text, peer, protocol,
                                   "s1", None, payload=payload(Kind.LINE, role=role, port=587)))
    return records


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def test_message_text_and_server_lines_are_never_read_as_credentials() -> None:
    records = lines(("client", "DATA"), ("server", "354 End data with <CR><LF>.<CR><LF>"),
                    ("client", "Pass me the salt"), ("client", "User guide attached"),
                    ("client", "."), ("server", "250 2.0.0 Ok: queued as 1"),
                    ("server", "PASS this on"))
    assert secrets(eavesdropped(records, "spy")) == []


def test_an_imap_literal_is_data_and_login_is_read_after_its_tag() -> None:
    body = "Pass the salt\r\nUser: me\r\n"
    records = lines(("client", "a1 LOGIN alice \"won der\""), ("server", "a1 OK Logged in"),
                    ("client", f"a2 APPEND Sent {{{len(body)}}}"), ("server", "+ OK"),
                    ("client", "Pass the salt"), ("client", "User: me"), ("client", ""),
                    ("server", "a2 OK Append completed."), ("client", "a3 PASS x"),
                    protocol="imap")
    assert secrets(eavesdropped(records, "spy")) == [
        "user name 'alice', password 'won der' (IMAP LOGIN)"]


def test_sasl_responses_after_a_challenge_are_decoded() -> None:
    plain = b64("\0bob\0hunter2")
    records = lines(("client", "a1 AUTHENTICATE PLAIN"), ("server", "+ "),
                    ("client", plain), ("server", "a1 OK Logged in"), protocol="imap")
    assert secrets(eavesdropped(records, "spy")) == [
        "user name 'bob', password 'hunter2' (AUTH PLAIN, base64)"]
    records = lines(("client", "AUTH LOGIN"), ("server", f"334 {b64('Username:')}"),
                    ("client", b64("carol")), ("server", f"334 {b64('Password:')}"),
                    ("client", b64("s3cret")), ("server", "235 2.7.0 Authentication successful"),
                    ("client", b64("\0x\0y")))
    assert secrets(eavesdropped(records, "spy")) == [
        "user name 'carol' (AUTH LOGIN, base64)", "password 's3cret' (AUTH LOGIN, base64)"]


def test_a_handshake_is_seen_from_its_client_hello_before_any_protected_line() -> None:
    records = trace(
        record(2, 1.2, Kind.TLS_HANDSHAKE, text="TLS ...", port=465, version="TLSv1.2",
               cipher="ECDHE-RSA-AES256-GCM-SHA384", bits=256, round_trips=2, seconds=0.1,
               overhead=29),
        record(3, 1.3, Kind.LINE, "mail", "220 mail", "laptop", role="server", port=465,
               encrypted=True),
    )
    seen = eavesdropped(records, "spy")
    assert [(s.time, s.readable) for s in seen] == [(1.0, True), (1.1, True), (1.3, False)]


def test_the_table_says_its_times_are_send_times() -> None:
    out = io.StringIO()
    Console(file=out, width=100, color_system=None).print(EavesdropView(trace(), "spy"))
    assert "Sent at" in out.getvalue()  # not when the bytes crossed the tap: the trace lacks it
