"""The clients' transition tables have the servers' shape, so `mailsim explain` can draw them."""

from __future__ import annotations

import io
from enum import Enum

import pytest
from rich.console import Console

from simulator.protocols import lmtp, pop3, smtp
from simulator.views import states_mermaid
from simulator.views.states import CLIENT_HEADING, StateTableView

CLIENT_TABLES = [
    pytest.param("SMTP client (RFC 5321)", smtp.CLIENT_TRANSITIONS, id="smtp-client"),
    pytest.param("LMTP client (RFC 2033)", lmtp.CLIENT_TRANSITIONS, id="lmtp-client"),
    pytest.param("POP3 client (RFC 1939)", pop3.CLIENT_TRANSITIONS, id="pop3-client"),
]


@pytest.mark.parametrize(("title", "table"), CLIENT_TABLES)
def test_a_client_table_maps_states_to_inputs_to_states(title: str, table: dict) -> None:
    states = type(next(iter(table)))
    for row in table.values():
        assert set(row.values()) <= set(table)  # every state reached has a row
        assert all(isinstance(given, Enum) and type(target) is states
                   for given, target in row.items())  # fmt: skip


@pytest.mark.parametrize(("title", "table"), CLIENT_TABLES)
def test_a_client_table_is_drawn_as_a_table_and_in_mermaid(title: str, table: dict) -> None:
    out = io.StringIO()
    view = StateTableView(title, table, heading=CLIENT_HEADING, caption="Cut off: ...")
    Console(file=out, width=80, color_system=None).print(view)
    drawn = out.getvalue()
    assert title in drawn and "Reply → next state" in drawn
    assert max(len(line) for line in drawn.splitlines()) <= 80
    rows = dict(view.rows())
    assert rows["GREETING"].endswith("cut off → CLOSED")
    mermaid = states_mermaid(title, table)
    assert "[*] --> GREETING" in mermaid and "CLOSED --> [*]" in mermaid


def test_the_smtp_client_rows_read_as_the_dialogue_goes() -> None:
    rows = dict(StateTableView("SMTP client", smtp.CLIENT_TRANSITIONS).rows())
    assert rows["DATA"] == "354 → CONTENT; 4yz/5yz → RSET; 421, cut off → CLOSED"
    assert rows["EHLO"].startswith("2yz with AUTH PLAIN to use → AUTH; 2yz with mail to send")
    assert "5yz → HELO" in rows["EHLO"]  # RFC 5321 §3.2
