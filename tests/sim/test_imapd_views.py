"""IMAP sessions in the views: dialogue, `imap` filter, sequence, summary, eavesdropper.

A FETCH's literal is raw message lines inside the response; the views
show them as they show a POP3 RETR's body.  A tap reads IMAP's LOGIN and
AUTHENTICATE PLAIN in clear, and only sizes once STARTTLS is done.
"""

from __future__ import annotations

import base64
import io

from rich.console import Console
from simworld import BOB, build, mail, run_world, two_providers
from test_imapd import HANDSHAKE, LOGIN, SELECT, client, with_tls

from simulator.fates import message_fates
from simulator.views import DialogueView, SequenceView, SummaryView
from simulator.views.eavesdrop import EavesdropView, eavesdropped, secrets
from simulator.world import World

FETCH = (b"a3 FETCH 1 (FLAGS BODY[])\r\n", b"a3 OK")
LOGOUT = (b"a4 LOGOUT\r\n", b"a4 OK")


def render(view: object, width: int = 120) -> str:
    console = Console(file=io.StringIO(), width=width, color_system=None)
    console.print(view)
    out = console.file
    assert isinstance(out, io.StringIO)
    return out.getvalue()


def tapped(scenario: dict) -> dict:
    scenario["eavesdroppers"] = [{"name": "spy", "link": ["bob-pc", "router"]}]
    return scenario


def read_over_imap(world: World) -> World:
    client(world, 143, [LOGIN, SELECT, FETCH, LOGOUT], at=10.0)
    return run_world(world)


def test_the_dialogue_and_its_imap_filter_show_the_session_and_the_literal() -> None:
    world = read_over_imap(build(two_providers(traffic=[mail("1s", BOB, subject="By IMAP")])))
    everything = render(DialogueView(world.trace))
    only_imap = render(DialogueView(world.trace, protocols=["imap"]))
    for text in (everything, only_imap):
        assert "a1 LOGIN bob@example.net builder" in text
        assert "Subject: By IMAP" in text  # a line of the FETCH literal
        assert "a4 OK Logout completed." in text
    assert "EHLO" in everything and "EHLO" not in only_imap
    assert "a2 SELECT INBOX" in render(SequenceView(world.trace), width=160)
    assert "By IMAP" in render(SummaryView(message_fates(world.trace)))


def test_a_tap_reads_imap_passwords_in_clear_and_only_sizes_after_starttls() -> None:
    plain = read_over_imap(build(tapped(two_providers(traffic=[mail("1s", BOB)]))))
    assert secrets(eavesdropped(plain.trace, "spy")) == [
        "user name 'bob@example.net', password 'builder' (IMAP LOGIN)"]
    assert "password 'builder'" in render(EavesdropView(plain.trace, "spy"))
    world = build(with_tls(tapped(two_providers()), require_for_auth=True))
    response = base64.b64encode(b"\0bob@example.net\0builder")
    client(world, 143, [(b"a0 STARTTLS\r\n", b"a0 OK"), HANDSHAKE,
                        (b"a1 AUTHENTICATE PLAIN " + response + b"\r\n", b"a1 OK"), LOGOUT])
    secure = run_world(world)
    assert secrets(eavesdropped(secure.trace, "spy")) == []
    assert "TLS handshake" in render(EavesdropView(secure.trace, "spy"))


def test_authenticate_plain_in_clear_is_decoded() -> None:
    world = build(tapped(two_providers()))
    response = base64.b64encode(b"\0bob@example.net\0builder")
    client(world, 143, [(b"a1 AUTHENTICATE PLAIN " + response + b"\r\n", b"a1 OK"), LOGOUT])
    world = run_world(world)
    assert secrets(eavesdropped(world.trace, "spy")) == [
        "user name 'bob@example.net', password 'builder' (AUTH PLAIN, base64)"]
