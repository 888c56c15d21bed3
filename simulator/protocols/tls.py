"""TLS, modelled: what every protocol machine shares about encryption.

No cryptography happens here.  A protocol machine that has agreed with
its peer to start TLS (SMTP STARTTLS, RFC 3207; POP3 STLS, RFC 2595; IMAP
STARTTLS, RFC 9051 §6.2.1) queues its last clear reply and hands out a
`TlsRequested` event; the session layer then runs the handshake on the
connection and calls the machine's `tls_established(version)`.  A session
on an implicit-TLS port (SMTPS 465, POP3S 995, IMAPS 993: RFC 8314 §3)
runs the handshake before the first byte of the protocol, and tells the
machine the same way.  Any machine gets TLS by raising that one event
and having that one method.

The handshake is a fixed list of flights (`FLIGHTS`), alternately from
the client and the server, whose sizes are what a capture of a real
handshake with one RSA-2048 certificate chain shows (a modelling
assumption).  The server's first flight names the version it chose, the
way a ServerHello does; `server_hello` and `chosen_version` write and
read that choice.  The rest of each flight is opaque filler.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class TlsVersion(Enum):
    """The TLS versions a server can be set to; the value is how OpenSSL names it."""

    TLS1_2 = "TLSv1.2"  # RFC 5246
    TLS1_3 = "TLSv1.3"  # RFC 8446


@dataclass(frozen=True, slots=True)
class TlsRequested:
    """The machine's last clear bytes are queued: run the handshake now.

    `version` is the server's to choose; a client leaves it None and
    learns it from the server's first flight.
    """

    version: TlsVersion | None = None


class TlsPolicy(Enum):
    """How a client treats STARTTLS/STLS (Postfix smtp_tls_security_level)."""

    NONE = "none"  # never asks for TLS: everything in clear
    MAY = "may"  # opportunistic: STARTTLS when offered, in clear when not
    REQUIRE = "encrypt"  # STARTTLS or nothing: no password goes in clear


class ConnectionSecurity(Enum):
    """A mail client's "connection security" setting, as Thunderbird names them."""

    NONE = "none"  # plain text: port 587 or 110
    STARTTLS = "starttls"  # upgrade on port 587 or 110, or give up (RFC 3207, RFC 2595)
    TLS = "tls"  # TLS from the first byte: port 465 or 995 (RFC 8314 §3)


@dataclass(frozen=True, slots=True)
class ServerTls:
    """A server host's TLS settings (Postfix smtpd_tls_*, Dovecot ssl)."""

    version: TlsVersion = TlsVersion.TLS1_3
    starttls: bool = True  # offer STARTTLS on 25/587 and STLS on 110
    implicit: bool = True  # listen on 465 and 995 too
    # Postfix smtpd_tls_auth_only, Dovecot disable_plaintext_auth: no password in clear
    require_for_auth: bool = False


@dataclass(frozen=True, slots=True)
class Suite:
    """What one version's handshake costs and what it negotiates."""

    cipher: str  # as Postfix and Dovecot log it (OpenSSL's name)
    bits: int  # symmetric key length, as in Postfix's "(256/256 bits)"
    round_trips: int  # before the client may send protected data
    flights: tuple[int, ...]  # sizes in octets, client first, then alternating
    overhead: int  # octets a TLS record adds to the data it protects


#: RFC 8446 §2: ClientHello; ServerHello..Finished; the client's Finished
#: goes with its first data -- one round trip.  RFC 5246 §7.3: ClientHello;
#: ServerHello..ServerHelloDone; ClientKeyExchange, ChangeCipherSpec and
#: Finished; the server's ChangeCipherSpec and Finished -- two round trips.
#: Ciphers: the AES-256-GCM suites OpenSSL prefers.  Overhead: 5-octet
#: record header and 16-octet GCM tag, plus the inner content type in 1.3
#: (RFC 8446 §5.2) or the 8-octet explicit nonce in 1.2 (RFC 5288 §3).
FLIGHTS: dict[TlsVersion, Suite] = {
    TlsVersion.TLS1_3: Suite("TLS_AES_256_GCM_SHA384", 256, 1, (517, 2740, 74), 22),
    TlsVersion.TLS1_2: Suite("ECDHE-RSA-AES256-GCM-SHA384", 256, 2, (517, 3120, 126, 51), 29),
}

_RECORD_HEADER = b"\x16\x03\x03"  # content type handshake (22), legacy version 3.3
_SERVER_HELLO = 2  # RFC 8446 §4: HandshakeType server_hello
_VERSION_CODES = {TlsVersion.TLS1_2: b"\x03\x03", TlsVersion.TLS1_3: b"\x03\x04"}


#: Octets of a ClientHello (OpenSSL pads it to 512 plus the record header).
CLIENT_HELLO = 517


def is_handshake(data: bytes) -> bool:
    """Whether `data` starts like a TLS handshake record (and not like a command)."""
    return data.startswith(_RECORD_HEADER)


def flight(size: int) -> bytes:
    """An opaque handshake flight of `size` octets, framed as a handshake record."""
    body = max(0, size - len(_RECORD_HEADER) - 2)
    return _RECORD_HEADER + body.to_bytes(2, "big") + b"\x00" * body


def server_hello(version: TlsVersion, size: int) -> bytes:
    """The server's first flight, naming the version it chose."""
    head = _RECORD_HEADER + b"\x00\x00" + bytes([_SERVER_HELLO]) + _VERSION_CODES[version]
    return head + b"\x00" * max(0, size - len(head))


def chosen_version(data: bytes) -> TlsVersion | None:
    """The version a server's first flight names; None if it is no ServerHello."""
    if not data.startswith(_RECORD_HEADER) or data[5:6] != bytes([_SERVER_HELLO]):
        return None
    code = data[6:8]
    return next((v for v, c in _VERSION_CODES.items() if c == code), None)
