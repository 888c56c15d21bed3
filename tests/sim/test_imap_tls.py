"""The session layer drives IMAP's TLS as it drives SMTP's and POP3's: STARTTLS
on 143 (RFC 9051 §6.2.1) and TLS first on 993 (RFC 8314 §3)."""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import pytest
import simpy
from simworld import ORG_MTA, build, records, two_providers

from simulator.agents.session import Patience, pump
from simulator.mailstore import Mailbox
from simulator.net.connection import Endpoint
from simulator.protocols.imap import CredentialsReceived, ImapServer, ImapServerConfig
from simulator.protocols.imap.client import ImapClient
from simulator.protocols.imap.client_states import ImapClientConfig, Logout
from simulator.protocols.tls import TlsRequested, TlsVersion
from simulator.trace import Kind
from simulator.world import World

PORT = 1143  # no simulated server listens here


def imap_session(world: World, implicit: bool) -> tuple[ImapServer, ImapClient]:
    """An IMAP server on mail.example.org and a client on alice-pc, both run by `pump`."""
    config = ImapServerConfig(ORG_MTA, tls_available=True, require_tls=True,
                              tls_version=TlsVersion.TLS1_2)
    server = ImapServer(config)
    client = ImapClient(ImapClientConfig("alice", "secret", actions=(Logout(),),
                                         use_starttls=not implicit))
    listener = world.ctx.network.listen(ORG_MTA, PORT, "imap")
    first = TlsRequested(config.tls_version) if implicit else None

    def on_server(event: object) -> None:
        if isinstance(event, CredentialsReceived):
            server.login(Mailbox("alice", "secret"))

    def serve() -> Generator[simpy.events.Event, Any, None]:
        endpoint = yield listener.backlog.get()
        server.greet()
        yield from pump(endpoint, server, on_server, Patience(60, server.timed_out),
                        tls_first=first)

    def connect() -> Generator[simpy.events.Event, Any, None]:
        endpoint = yield from world.ctx.network.connect("alice-pc", ORG_MTA, PORT)
        assert isinstance(endpoint, Endpoint)
        yield from pump(endpoint, client, lambda event: None, Patience(60, lambda: None),
                        tls_first=TlsRequested() if implicit else None)

    world.env.process(serve())
    world.env.process(connect())
    return server, client


@pytest.mark.parametrize("implicit", [False, True])
def test_pump_runs_imap_tls_and_login_goes_encrypted(implicit: bool) -> None:
    world = build(two_providers())
    server, client = imap_session(world, implicit)
    world.env.run(until=10)
    assert server.tls is client.tls is TlsVersion.TLS1_2 and client.closed
    (done,) = records(world.trace, Kind.TLS_HANDSHAKE, port=PORT)
    lines = records(world.trace, Kind.LINE, session=done.session)
    login = next(r for r in lines if " LOGIN " in r.text)
    assert login.seq > done.seq and login.data["encrypted"]
    assert all(r.data["encrypted"] for r in lines if r.seq > done.seq)
    assert any("STARTTLS" in r.text for r in lines) is not implicit
