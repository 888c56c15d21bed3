"""Topology: the small Internet a scenario describes, as four short tables.

- **Hosts**: name, address and roles (MTA, MDA, MUA; none for a router);
- **Links**: which hosts are joined, the one-way latency and the bandwidth,
  written as in the scenario file ("8ms", "50Mbit");
- **Mail domains**: the MX records that tell the world where to send the
  domain's mail (none means the domain's own address is the implicit MX,
  RFC 5321 §5.1), the MTA that takes it, the MDA that keeps mailboxes and,
  below the table, the web server of a domain's webmail;
- **Users**: each address, the host where its mail client runs, what the
  client is and does in words ("Thunderbird: IMAP 993 TLS, IDLE; sends 587
  STARTTLS", "POP3 110, deletes", "in the browser: webmail on ...") and
  how often it checks for mail;
- **Eavesdroppers**, when the scenario has some: the link or host each
  one listens on.

A host with TLS shows it beside its roles ("TLS 1.3").

The view reads the scenario model it is given (a `simulator.scenario.Scenario`)
and nothing else; every table fits 80 columns.
"""

from __future__ import annotations

from typing import Any

from rich import box
from rich.console import Console, ConsoleOptions, RenderResult
from rich.jupyter import JupyterMixin
from rich.table import Table
from rich.text import Text

from simulator.scenario.units import format_bandwidth, format_duration
from simulator.views.formatting import visible

ROUTER = "router"


class TopologyView(JupyterMixin):
    """Hosts, links, mail domains and users of a scenario."""

    def __init__(self, scenario: Any) -> None:
        self.scenario = scenario

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        yield Text.assemble(("Topology: ", "bold"), (visible(self.scenario.name), "bold"))
        tables = [self.hosts(), self.links(), self.domains(), self.users()]
        if self.scenario.eavesdroppers:
            tables.append(self.eavesdroppers())
        for table in tables:
            yield Text("")
            yield table

    def hosts(self) -> Table:
        """One row per host: name, address, roles."""
        table = _table("Hosts", "Host", "Address", "Roles")
        for name, host in self.scenario.hosts.items():
            roles = ", ".join(str(role.value).upper() for role in host.roles) or ROUTER
            tls = host.tls
            roles += f", TLS {tls.version.value}" if tls is not None else ""
            table.add_row(name, str(host.address), Text(roles, "dim" if not host.roles else ""))
        return table

    def links(self) -> Table:
        """One row per link, both ends, latency and bandwidth."""
        table = _table("Links", "Between", "And", "Latency", "Bandwidth")
        for end, other, link in self.scenario.links():
            table.add_row(end, other, format_duration(link.latency),
                          format_bandwidth(link.bandwidth))
        return table

    def domains(self) -> Table:
        """One row per mail domain: its MX records, MTA and MDA; its webmail below."""
        table = _table("Mail domains", "Domain", "MX", "MTA", "MDA")
        webmails = []
        for name, domain in self.scenario.domains.items():
            table.add_row(name, _exchangers(self.scenario.dns.get(name, ())), domain.mta,
                          domain.mda)
            if domain.webmail is not None:
                webmails.append(f"{name}'s webmail runs on {domain.webmail}")
        table.caption = "\n".join(webmails) or None  # below the table: 80 columns hold it
        return table

    def users(self) -> Table:
        """One row per user and device: address, client host, client, how often it checks."""
        table = _table("Users", "Address", "Client host", "Client", "Checks every")
        for domain_name, domain in self.scenario.domains.items():
            for local, user in domain.users.items():
                devices = user.clients()
                if not devices:
                    table.add_row(f"{local}@{domain_name}", Text("none", "dim"), "", "")
                for device in devices:
                    settings = device.settings
                    table.add_row(f"{local}@{domain_name}", device.host,
                                  _client(settings, domain.webmail),
                                  format_duration(settings.check_every))
        return table

    def eavesdroppers(self) -> Table:
        """One row per eavesdropper: its name and where it listens."""
        table = _table("Eavesdroppers", "Name", "Listens on")
        for tap in self.scenario.eavesdroppers:
            place = f"link {tap.link[0]} -- {tap.link[1]}" if tap.link else f"host {tap.host}"
            table.add_row(tap.name, place)
        return table


def _client(settings: Any, webmail: str | None) -> str:
    """What a device's mail client is and does, in words.

    "Thunderbird: IMAP 993 TLS, IDLE; sends 587 STARTTLS", "Thunderbird:
    POP3 110, deletes; sends 587", "Roundcube Webmail in the browser:
    webmail on webmail.example.org (HTTPS 443)".
    """
    client = visible(settings.client)
    if settings.place.value == "webmail":
        return f"{client} in the browser: webmail on {webmail} (HTTPS 443)"  # RFC 9110 §4.2.2
    access = settings.access.value
    habit = (", IDLE" if settings.idle else "") if access == "imap" else (
        ", keeps a copy" if settings.keep_on_server else ", deletes")
    mailbox = _secured(settings.mailbox_port, settings.mailbox_security.value,
                       "STLS" if access == "pop3" else "STARTTLS")  # RFC 2595 §4
    submission = _secured(settings.submission_port, settings.submission_security.value,
                          "STARTTLS")
    return f"{client}: {access.upper()} {mailbox}{habit}; sends {submission}"


def _secured(port: int, security: str, upgrade: str) -> str:
    """A port and how it is secured: "993 TLS", "587 STARTTLS", "110" in clear."""
    return {"tls": f"{port} TLS", "starttls": f"{port} {upgrade}"}.get(security, str(port))


def _exchangers(records: Any) -> Text:
    """ "10 mail.example.org", one per line by preference, or the implicit MX."""
    mx = sorted(
        (record for record in records if getattr(record, "type", None) == "MX"),
        key=lambda record: (record.preference, record.exchange),
    )
    if not mx:
        return Text("none: the domain's A record", "dim")
    return Text("\n".join(f"{record.preference} {record.exchange}" for record in mx))


def _table(title: str, *columns: str) -> Table:
    table = Table(title=title, title_justify="left", title_style="bold", box=box.SIMPLE_HEAD,
                  caption_justify="left", caption_style="",
                  show_edge=False, pad_edge=False, padding=(0, 2, 0, 0), header_style="bold",
                  expand=False)
    for column in columns:
        table.add_column(column, overflow="fold")
    return table
