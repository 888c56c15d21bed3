"""Real TLS for `mailsim serve`: a throw-away certificate, and TLS over memory buffers.

Inside the simulation TLS is modelled (`protocols.tls`); a real mail
program's TLS must be real.  `ThrowAwayCa` makes, when serving starts, a
certificate authority of its own (python-trio's trustme) and a server
certificate it signs for ``localhost``, ``127.0.0.1`` and ``::1``.  The
CA's certificate is written to a file whose path and SHA-256 fingerprint
`mailsim serve` prints, for a client to trust (``curl --cacert FILE``,
``openssl s_client -CAfile FILE``); it is gone when serving stops.  Each
simulated host's TLS version is kept: a host set to TLS 1.2 speaks only
TLS 1.2 to a real client too, so the trace's handshake record stays true.

`TlsLayer` is one connection's TLS without I/O (`ssl.SSLObject` over two
`ssl.MemoryBIO`s): ciphertext from the socket in, plaintext out, and back.
"""

from __future__ import annotations

import contextlib
import hashlib
import ssl
from pathlib import Path

from simulator.protocols.tls import TlsVersion

#: Plaintext read from a TLS layer at once.
READ_SIZE = 65536
#: The first octet of every TLS handshake record (RFC 8446 §5.1, content type 22):
#: a client that starts TLS after STARTTLS sends it first.
HANDSHAKE_RECORD = 0x16
_SSL_VERSIONS = {TlsVersion.TLS1_2: ssl.TLSVersion.TLSv1_2,
                 TlsVersion.TLS1_3: ssl.TLSVersion.TLSv1_3}
#: The names the server certificate is good for: loopback only.
SERVER_NAMES = ("localhost", "127.0.0.1", "::1")


class ThrowAwayCa:
    """A certificate authority made for one serving, and the server contexts it signs."""

    def __init__(self, directory: Path) -> None:
        import trustme  # brings `cryptography`: loaded only when serving TLS

        # RSA keys, as the modelled handshake's sizes and TLS 1.2 cipher assume
        rsa = trustme.KeyType.RSA
        ca = trustme.CA(organization_name="mailsim serve, throw-away", key_type=rsa)
        self._issued = ca.issue_cert(*SERVER_NAMES, key_type=rsa)
        self.path = directory / "mailsim-ca.pem"
        ca.cert_pem.write_to_path(str(self.path))
        digest = hashlib.sha256(ssl.PEM_cert_to_DER_cert(ca.cert_pem.bytes().decode())).hexdigest()
        #: As ``openssl x509 -fingerprint -sha256`` prints it.
        self.fingerprint = ":".join(digest[i:i + 2] for i in range(0, len(digest), 2)).upper()
        self._contexts: dict[TlsVersion, ssl.SSLContext] = {}

    def context(self, version: TlsVersion) -> ssl.SSLContext:
        """A server context that speaks only `version`, with the throw-away certificate."""
        context = self._contexts.get(version)
        if context is None:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.minimum_version = context.maximum_version = _SSL_VERSIONS[version]
            self._issued.configure_cert(context)
            self._contexts[version] = context
        return context


class TlsLayer:
    """The server's side of one real TLS connection, without I/O.

    `receive` takes what the socket read and returns the plaintext it
    held; `send` takes plaintext (kept until the handshake is done);
    `outgoing` is what to write to the socket.  `closed` once the client
    ended TLS or broke it.
    """

    def __init__(self, context: ssl.SSLContext) -> None:
        self._incoming, self._outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
        self._tls = context.wrap_bio(self._incoming, self._outgoing, server_side=True)
        self._unsent = bytearray()
        self.established = False
        self.closed = False

    def receive(self, data: bytes) -> bytes:
        """Ciphertext from the client; the plaintext it completes."""
        self._incoming.write(data)
        self._advance()
        plain = bytearray()
        while self.established and not self.closed:
            try:
                chunk = self._tls.read(READ_SIZE)
            except ssl.SSLWantReadError:
                break
            except ssl.SSLError:  # close_notify (SSLZeroReturnError) or a broken record
                self.closed = True
                break
            if not chunk:  # the client's close_notify, as an SSLObject reports it (curl's)
                self.closed = True
                break
            plain += chunk
        return bytes(plain)

    def send(self, plain: bytes) -> None:
        """Plaintext for the client, encrypted once the handshake is done."""
        self._unsent += plain
        self._advance()

    def outgoing(self) -> bytes:
        """The octets to write to the socket now."""
        return self._outgoing.read()

    def close(self) -> None:
        """Say close_notify (RFC 8446 §6.1); the client's own is not waited for."""
        if self.established and not self.closed:
            with contextlib.suppress(ssl.SSLError):
                self._tls.unwrap()
        self.closed = True

    def _advance(self) -> None:
        if not self.established and not self.closed:
            try:
                self._tls.do_handshake()
            except ssl.SSLWantReadError:
                return
            except ssl.SSLError:  # the client refused our certificate, or spoke no TLS
                self.closed = True
                return
            self.established = True
        if self.established and self._unsent and not self.closed:
            self._tls.write(bytes(self._unsent))
            self._unsent.clear()
