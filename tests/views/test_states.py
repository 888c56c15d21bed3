"""The state-table view draws the protocols' literal transition tables."""

import io

from rich.console import Console

from simulator.cli import main
from simulator.protocols import pop3, smtp
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
