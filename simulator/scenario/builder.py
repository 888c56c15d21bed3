"""Turning a validated `Scenario` into a runnable `World`.

Hosts and links become the topology; every host's name gets an A record
and the scenario's own records are added to DNS; each host's roles start
its agents: an MDA with the mailboxes (and quotas) of the domains it
keeps, an MTA final for the domains it serves -- handing their mail to
each domain's MDA over LMTP -- and a client on every device of every
user: a MUA of the device's profile, or a browser signed in to the
domain's webmail (started on its web server with its first user).  Finally
the traffic is handed to the senders' MUAs.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import simpy

from simulator.agents.browser import Browser
from simulator.agents.mda import Account, Mda, MdaConfig
from simulator.agents.mta import Mta, MtaConfig
from simulator.agents.mua import Mua, MuaConfig
from simulator.agents.webmail import Webmail, WebmailConfig
from simulator.fidelity import Fidelity
from simulator.net.dns import MxRecord as DnsMx
from simulator.net.topology import Host, Link
from simulator.profiles import Place
from simulator.protocols.addresses import POSTMASTER, mailbox_key
from simulator.protocols.message import Draft
from simulator.protocols.tls import ServerTls, TlsVersion
from simulator.scenario.clients import client_devices
from simulator.scenario.models import ARecord, MxRecord, Role, Scenario, TxtRecord
from simulator.scenario.security import Eavesdropper, HostTls
from simulator.trace import Kind
from simulator.trace_data import Tap
from simulator.world import Client, World


def build_world(
    scenario: Scenario, *, seed: int | None = None, keep_trace: bool = True,
    fidelity: Fidelity = Fidelity.DIALOGUE,
) -> World:
    """A world ready to `run()`; `seed` overrides the scenario's own."""
    world = World(
        scenario.name,
        scenario.seed if seed is None else seed,
        scenario.duration,
        keep_trace=keep_trace,
        fidelity=fidelity,
    )
    _add_network(world, scenario)
    _add_dns(world, scenario)
    _add_mail_servers(world, scenario)
    _add_clients(world, scenario)
    _add_eavesdroppers(world, scenario)
    return world


def _add_network(world: World, scenario: Scenario) -> None:
    for name, host in scenario.hosts.items():
        world.topology.add_host(Host(name, str(host.address)))
        world.resolver.add_address(name, str(host.address))
    for a, b, link in scenario.links():
        world.topology.add_link(Link(a, b, link.latency, link.bandwidth))


def _add_dns(world: World, scenario: Scenario) -> None:
    for owner, records in scenario.dns.items():
        for record in records:
            if isinstance(record, MxRecord):
                world.resolver.add_mx(owner, DnsMx(record.preference, record.exchange))
            elif isinstance(record, ARecord):
                world.resolver.add_a(owner, str(record.address))
            elif isinstance(record, TxtRecord):
                world.resolver.add_txt(owner, record.text)


def _add_mail_servers(world: World, scenario: Scenario) -> None:
    for host in scenario.hosts_with_role(Role.MDA):
        accounts = {
            entry.address: _account(scenario, entry.address, entry.domain)
            for entry in scenario.users()
            if scenario.domains[entry.domain].mda == host
        }
        aliases = {
            f"{POSTMASTER}@{name}": f"{local}@{name}"
            for name, domain in scenario.domains.items()
            if domain.mda == host and (local := domain.postmaster_user()) is not None
        }
        tls = _server_tls(scenario.hosts[host].tls)
        world.mdas[host] = Mda(world.ctx, MdaConfig(host, accounts, aliases, tls=tls))
    for host in scenario.hosts_with_role(Role.MTA):
        served = {name: d for name, d in scenario.domains.items() if d.mta == host}
        config = MtaConfig(hostname=host, domains=frozenset(served),
                           tls=_server_tls(scenario.hosts[host].tls))
        mta = Mta(world.ctx, config)
        for name, domain in served.items():
            mta.attach_mailstore(name, world.mdas[domain.mda])
        world.mtas[host] = mta


def _account(scenario: Scenario, address: str, domain_name: str) -> Account:
    """What the MDA's user database holds for `address`."""
    domain = scenario.domains[domain_name]
    local = address.rpartition("@")[0]
    return Account(domain.users[local].password, domain.quota_of(local),
                   domain.quota_full_tempfail)


def _add_clients(world: World, scenario: Scenario) -> None:
    """A client on every device of every user; the first device sends the user's traffic."""
    for address, domain_name, user in scenario.users():
        domain = scenario.domains[domain_name]
        for index, device in enumerate(client_devices(user)):
            settings = device.settings
            ids = f"message-id/{address}" + (f"/{device.host}" if index else "")
            config = MuaConfig(
                address=address, password=user.password, submission_host=domain.mta,
                mailbox_host=domain.mda, client=settings.client,
                check_every=settings.check_every, keep_on_server=settings.keep_on_server,
                submission_security=settings.submission_security,
                mailbox_security=settings.mailbox_security, access=settings.access,
                idle=settings.idle, save_sent=settings.save_sent, reads_after=settings.reads_after,
                imap_login=settings.imap_login, enable_rev2=settings.enable_rev2, ids=ids,
            )
            mua: Client
            if settings.place is Place.WEBMAIL and domain.webmail is not None:
                mua = Browser(world.ctx, device.host, _webmail(world, scenario, domain.webmail),
                              config)
            else:
                mua = Mua(world.ctx, device.host, config)
            if index:
                world.other_devices.append(mua)
            else:
                world.muas[mailbox_key(address)] = mua
    for message in scenario.traffic:
        draft = Draft(message.sender, tuple(message.to), message.subject, message.body)
        world.muas[mailbox_key(message.sender)].send_at(message.at, draft)


def _webmail(world: World, scenario: Scenario, host: str) -> Webmail:
    """The webmail on web server `host`, started when its first user is added."""
    if host not in world.webmails:
        tls = _server_tls(scenario.hosts[host].tls)
        version = tls.version if tls is not None else TlsVersion.TLS1_3  # HTTPS is always TLS
        world.webmails[host] = Webmail(world.ctx, WebmailConfig(host, version))
    return world.webmails[host]


def _server_tls(tls: HostTls | None) -> ServerTls | None:
    """A host's `tls:` block as its servers take it."""
    if tls is None:
        return None
    version = TlsVersion.TLS1_2 if tls.version == "1.2" else TlsVersion.TLS1_3
    return ServerTls(version=version, starttls=tls.starttls, implicit=tls.implicit,
                     require_for_auth=tls.require_for_auth)


def _add_eavesdroppers(world: World, scenario: Scenario) -> None:
    """Each eavesdropper gets a `tap` record at time 0; connections record their paths."""
    if not scenario.eavesdroppers:
        return
    world.ctx.network.record_paths = True
    world.ctx.start("eavesdroppers", _announce(world, scenario.eavesdroppers))


def _announce(
    world: World, eavesdroppers: list[Eavesdropper]
) -> Generator[simpy.events.Event, Any, None]:
    for tap in eavesdroppers:
        place = f"link {tap.link[0]} -- {tap.link[1]}" if tap.link else f"host {tap.host}"
        world.trace.emit(Kind.TAP, "mailsim", f"{tap.name} listens on {place}",
                         Tap(name=tap.name, link=tuple(tap.link or ()), host=tap.host))
    yield world.env.timeout(0)
