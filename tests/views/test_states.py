"""The state-table view draws the protocols' literal transition tables."""

import io

import pytest
from rich.console import Console

from simulator.cli import main
from simulator.protocols import imap, pop3, smtp
from simulator.protocols.imap.states import AFTER_FAILURE
from simulator.views.states import StateTableView


def test_smtp_rows_group_commands_by_next_state() -> None:
    rows = dict(StateTableView("SMTP", smtp.TRANSITIONS).rows())
    assert rows["GREETED"] == (
        "HELO, EHLO → READY; NOOP, RSET, VRFY, STARTTLS → stays; QUIT → CLOSED; MAIL → MAIL"
    )
    assert "STARTTLS → GREETED" in rows["READY"]  # RFC 3207 §4.2: all is forgotten
    assert "DATA → DATA" in rows["RCPT"]
    assert rows["DATA"] == "<CRLF>.<CRLF> → READY"
    assert rows["CLOSED"] == ""


def test_pop3_quit_in_transaction_leads_to_update() -> None:
    rows = dict(StateTableView("POP3", pop3.TRANSITIONS).rows())
    assert rows["TRANSACTION"].endswith("QUIT → UPDATE")
    assert "PASS, AUTH → TRANSACTION" in rows["AUTHORIZATION"]
    assert "STLS" in rows["AUTHORIZATION"] and "STLS" not in rows["TRANSACTION"]


def test_cli_explain_draws_the_clients_tls_states(capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["explain", "smtp-client"]) == 0
    assert "tls_handshake" in capsys.readouterr().out.lower()
    assert main(["explain", "pop3-client"]) == 0
    assert "STLS" in capsys.readouterr().out


def test_table_fits_80_columns() -> None:
    out = io.StringIO()
    Console(file=out, width=80, color_system=None).print(
        StateTableView("SMTP server", smtp.TRANSITIONS)
    )
    lines = out.getvalue().splitlines()
    assert max(len(line) for line in lines) <= 80
    assert any("AUTH → AUTH" in line for line in lines)


def test_cli_explain(capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["explain", "pop3"]) == 0
    assert "UPDATE" in capsys.readouterr().out


@pytest.mark.parametrize(("name", "own", "foreign"), [
    ("imap", "BAD", ["MAIL", "PASS", "PIPELINING"]),
    ("imap-client", "tagged response", ["SMTP", "PIPELINING"]),
    ("pop3", "-ERR", ["MAIL", "PIPELINING"]),
    ("smtp-client", "PIPELINING", ["IMAP"]),
])
def test_each_table_has_its_own_footer_left_aligned(capsys, name: str, own: str,  # type: ignore[no-untyped-def]
                                                    foreign: list[str]) -> None:
    assert main(["explain", name]) == 0
    out = capsys.readouterr().out
    lines = out.rstrip().splitlines()
    blank = max(n for n, line in enumerate(lines) if not line.strip())
    footer = "\n".join(lines[blank + 1:])
    assert own in footer and not any(word in footer for word in foreign)
    assert not any(line.startswith(" ") for line in lines[blank + 1:])


def test_a_failed_select_is_drawn_leaving_selected(capsys) -> None:  # type: ignore[no-untyped-def]
    view = StateTableView("IMAP", imap.TRANSITIONS, after_failure=AFTER_FAILURE)
    rows = dict(view.rows())  # RFC 9051 §6.3.2: the old mailbox is closed either way
    assert rows["SELECTED"].endswith("; failed SELECT, EXAMINE → AUTHENTICATED")
    assert "failed" not in rows["AUTHENTICATED"]
    assert main(["explain", "imap", "--format", "mermaid"]) == 0
    assert "SELECTED --> AUTHENTICATED : failed SELECT, EXAMINE" in capsys.readouterr().out
