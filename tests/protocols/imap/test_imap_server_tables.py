"""The IMAP server's tables and the shape it asks of the store: the one
transition table (RFC 9051 §3), the reply table, `mailsim explain imap`,
and `simulator.mailstore` satisfying the store Protocol (checked by mypy)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from simulator.cli import main
from simulator.protocols.imap import REPLIES, TRANSITIONS, Command, ImapReply, ImapState
from simulator.protocols.imap.replies import reply_line
from simulator.protocols.imap.states import AFTER_FAILURE, parse_command

ROOT = Path(__file__).resolve().parents[3]


def test_every_state_has_a_row_and_logout_accepts_nothing() -> None:
    assert set(TRANSITIONS) == set(ImapState)
    assert TRANSITIONS[ImapState.LOGOUT] == {}


def test_any_state_commands_and_logout() -> None:
    for state in (ImapState.NOT_AUTHENTICATED, ImapState.AUTHENTICATED, ImapState.SELECTED):
        row = TRANSITIONS[state]
        assert row[Command.CAPABILITY] is state and row[Command.NOOP] is state
        assert row[Command.LOGOUT] is ImapState.LOGOUT


def test_login_only_before_and_mailbox_commands_only_after() -> None:
    before = TRANSITIONS[ImapState.NOT_AUTHENTICATED]
    assert before[Command.LOGIN] is before[Command.AUTHENTICATE] is ImapState.AUTHENTICATED
    assert Command.SELECT not in before and Command.FETCH not in before
    authenticated = TRANSITIONS[ImapState.AUTHENTICATED]
    assert Command.LOGIN not in authenticated and Command.FETCH not in authenticated
    assert authenticated[Command.SELECT] is ImapState.SELECTED
    selected = TRANSITIONS[ImapState.SELECTED]
    assert selected[Command.CLOSE] is selected[Command.UNSELECT] is ImapState.AUTHENTICATED
    assert set(authenticated) - {Command.SELECT, Command.EXAMINE} <= set(selected)
    assert AFTER_FAILURE == {Command.SELECT: ImapState.AUTHENTICATED,
                             Command.EXAMINE: ImapState.AUTHENTICATED}


def test_command_names() -> None:
    assert parse_command("fetch") is Command.FETCH
    assert parse_command("UID", "move") is Command.UID_MOVE
    assert parse_command("UID") is None and parse_command("UID", "LOGIN") is None
    assert parse_command("UID FETCH") is None and parse_command("XYZZY") is None


def test_every_reply_has_a_text_and_tagging_follows_it() -> None:
    assert set(REPLIES) == set(ImapReply)
    assert reply_line(ImapReply.NOOP_DONE, "a7") == b"a7 OK NOOP completed.\r\n"
    assert reply_line(ImapReply.IDLING, "a7") == b"+ idling\r\n"
    assert reply_line(ImapReply.BYE_LOGOUT, "a7") == b"* BYE Logging out\r\n"


def test_explain_draws_the_server_table(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["explain", "imap"]) == 0
    out = capsys.readouterr().out
    assert "IMAP4rev2 server (RFC 9051)" in out and "NOT_AUTHENTICATED" in out
    assert main(["explain", "imap", "--format", "mermaid"]) == 0
    assert capsys.readouterr().out.startswith("stateDiagram-v2")


def test_the_mailstore_has_the_shape_the_server_needs(tmp_path: Path) -> None:
    check = tmp_path / "shape.py"
    check.write_text(
        "from simulator.mailstore import Folder, Mailbox, StoredMessage\n"
        "from simulator.protocols.imap.store import ImapFolder, ImapMailbox, ImapMessage\n"
        "mailbox: ImapMailbox = Mailbox('a@example.org', 'pw')\n"
        "folder: ImapFolder = Folder('INBOX', 1)\n"
        "message: ImapMessage = StoredMessage(1, b'', None, 0.0)\n",
        encoding="utf-8",
    )
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--no-incremental", str(check)],
        cwd=ROOT, capture_output=True, text=True, check=False,
    )
    assert result.returncode == 0, result.stdout
