"""The topology view: hosts, links, mail domains and users of a scenario."""

from __future__ import annotations

import io

import pytest
from rich.cells import cell_len
from rich.console import Console, RenderableType

from simulator import catalog
from simulator.scenario import load_scenario
from simulator.simulation import Simulation
from simulator.views.topology import TopologyView

WIDTHS = (80, 100, 120, 160)


def render(view: RenderableType, width: int) -> str:
    out = io.StringIO()
    Console(file=out, width=width, color_system=None).print(view)
    return out.getvalue()


def render_wide(name: str) -> str:
    """A bundled scenario's topology, wide enough that no row wraps."""
    return render(TopologyView(load_scenario(catalog.resolve(name))), 200)


def row(text: str, first: str) -> list[str]:
    """The words of the table row that starts with `first`."""
    return next(line.split() for line in text.splitlines() if line.startswith(first + " "))


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("name", ["01-first-email", "02-unknown-user"])
def test_fits_the_console(name: str, width: int) -> None:
    text = render(TopologyView(Simulation.load(name).scenario), width)
    assert max(cell_len(line) for line in text.splitlines()) <= width


@pytest.mark.parametrize("width", WIDTHS)
def test_first_email(width: int) -> None:
    text = render(TopologyView(Simulation.load("01-first-email").scenario), width)
    assert text.startswith("Topology: First e-mail")
    assert row(text, "alice-pc") == ["alice-pc", "192.0.2.10", "MUA"]
    assert row(text, "isp-a") == ["isp-a", "192.0.2.1", "router"]
    assert row(text, "mail.example.org") == ["mail.example.org", "198.51.100.25", "MTA,", "MDA"]
    links = [line.split() for line in text.splitlines()]
    assert ["alice-pc", "isp-a", "8ms", "50Mbit"] in links
    assert ["mail.example.net", "backbone", "40ms", "1Gbit"] in links
    assert row(text, "example.net") == ["example.net", "10", "mail.example.net",
                                        "mail.example.net", "mail.example.net"]
    bob = row(text, "bob@example.net")  # the Client column may wrap: its first line
    assert bob[:3] == ["bob@example.net", "bob-pc", "Thunderbird:"] and bob[-1] == "2m"
    assert "POP3 110, deletes; sends 587" in " ".join(row(render_wide("01-first-email"),
                                                          "bob@example.net"))


def test_user_without_a_client_and_domain_without_mx() -> None:
    scenario = load_scenario("scenarios/02-unknown-user.yaml")
    text = render(TopologyView(scenario.model_copy(update={"dns": {}})), 100)
    assert row(text, "bob@example.net") == ["bob@example.net", "none"]
    assert row(text, "example.org")[1:5] == ["none:", "the", "domain's", "A"]



def test_tls_security_settings_and_eavesdroppers_are_shown() -> None:
    out = io.StringIO()
    Console(file=out, width=100, color_system=None).print(
        TopologyView(load_scenario(catalog.resolve("eavesdropper"))))
    text = out.getvalue()
    assert "MTA, MDA, TLS 1.3" in text and "MTA, MDA, TLS 1.2" in text
    words = " ".join(render_wide("eavesdropper").split())
    assert "alice-laptop POP3 client: POP3 995 TLS, deletes; sends 587 STARTTLS 1m" in words
    assert "bob-pc POP3 client: POP3 110, deletes; sends 465 TLS 2m" in words
    assert "cafe-wifi" in text and "link alice-laptop -- cafe-ap" in text
    assert "host backbone" in text


@pytest.mark.parametrize("width", WIDTHS)
def test_webmail_fits_the_console(width: int) -> None:
    text = render(TopologyView(load_scenario(catalog.resolve("webmail"))), width)
    assert max(cell_len(line) for line in text.splitlines()) <= width


def test_webmail_and_imap_devices_in_words() -> None:
    words = " ".join(render_wide("webmail").split())
    assert "example.org's webmail runs on webmail.example.org" in words
    assert ("alice-pc Roundcube Webmail in the browser: webmail on webmail.example.org "
            "(HTTPS 443) 1m") in words
    assert "bob-laptop Thunderbird: IMAP 993 TLS, IDLE; sends 587 STARTTLS 10m" in words
