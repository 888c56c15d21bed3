"""IMAP server properties (hypothesis): hostile input never raises and always
gets well-formed answers; under random commands from two sessions and
outside changes, UIDs only grow, UIDVALIDITY stays, EXISTS/EXPUNGE keep each
client's count right, and both sessions converge on the folder."""

from __future__ import annotations

import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from imap_server_harness import Harness, sample_mailbox

from simulator.mailstore import Mailbox
from simulator.protocols.imap import ImapState

#: RFC 9051 §9: untagged, continuation, or a tag (ASTRING-CHARs but "+") and a status.
_RESPONSE = re.compile(rb'(\* |\+ |[^\x00-\x20\x7f-\xff(){%*"\\+]+ (OK|NO|BAD) )')
_WORDS = [b"NOOP", b"LOGIN", b"SELECT", b"FETCH", b"UID", b"STORE", b"APPEND", b"IDLE", b"DONE",
          b"SEARCH", b"LIST", b"STATUS", b"AUTHENTICATE", b"ENABLE", b"CLOSE", b"LOGOUT",
          b"EXPUNGE", b"MOVE", b"COPY", b"CREATE", b"RENAME", b"DELETE", b"EXAMINE"]
_ARGS = [b"INBOX", b"alice", b"secret", b"1", b"1:*", b"*", b"0", b"4294967296", b"(FLAGS)",
         b"BODY[]", b"BODY.PEEK[HEADER]<0.10>", b"+FLAGS", b"(\\Deleted)", b'""', b'"a\\"b"',
         b"(", b")", b"{3}\r\nabc", b"{2+}\r\nxy", b"{99999999999}", b"RETURN", b"(ALL)", b"NOT",
         b"OR", b"Trash", b"PLAIN", b"%", b"\x00", b"\xff", b"[", b"]", b"\\"]


def _well_formed(output: bytes) -> bool:
    """Every line the server sent is untagged, a continuation or a tagged status."""
    lines = output.split(b"\r\n")
    if lines[-1] != b"":
        return False
    inside_literal = 0
    for line in lines[:-1]:
        if inside_literal > 0:
            inside_literal -= len(line) + 2
            continue
        if not _RESPONSE.match(line):
            return False
        size = re.search(rb"\{(\d+)\}$", line)
        inside_literal = int(size.group(1)) if size else 0
    return True


def _start(state: str) -> Harness:
    harness = Harness()
    if state == "auth":
        harness.login()
    elif state == "selected":
        harness.select()
    return harness


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(["none", "auth", "selected"]), st.lists(st.binary(max_size=80), max_size=8))
def test_random_bytes_never_raise(state: str, chunks: list[bytes]) -> None:
    harness = _start(state)
    output = b""
    for chunk in chunks:
        output += harness.send(chunk)
    assert _well_formed(output)
    assert harness.server.state in ImapState
    if harness.server.closed:
        assert harness.send(b"z NOOP\r\n") == b""


_command = st.builds(
    lambda tag, word, args: tag + b" " + word + b"".join(b" " + a for a in args) + b"\r\n",
    st.sampled_from([b"a1", b"", b"*", b"t+", b"x(y"]),
    st.sampled_from(_WORDS),
    st.lists(st.sampled_from(_ARGS), max_size=5),
)


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(["none", "auth", "selected"]), st.lists(_command, max_size=10))
def test_hostile_commands_get_bad_no_or_bye(state: str, commands: list[bytes]) -> None:
    harness = _start(state)
    output = b""
    for command in commands:
        output += harness.send(command)
    assert _well_formed(output)
    assert len(harness.mailbox.folders) >= 4  # nothing got lost on the way
    for folder in harness.mailbox:
        uids = [m.uid for m in folder.messages]
        assert uids == sorted(set(uids)) and all(uid < folder.uidnext for uid in uids)


# ---- two sessions and outside changes on one mailbox ----

_ACTIONS = st.lists(st.tuples(
    st.sampled_from(["store-deleted", "store-seen", "unstore", "expunge", "uid-expunge", "append",
                     "move", "copy", "fetch", "search", "deliver", "pop3-remove", "noop", "close"]),
    st.integers(min_value=0, max_value=1),  # which session
    st.integers(min_value=1, max_value=6),  # a message number or UID
), max_size=25)


class ClientModel:
    """What a client knows of the selected folder, from EXISTS and EXPUNGE alone."""

    def __init__(self, count: int) -> None:
        self.count = count

    def read(self, output: bytes) -> None:
        for number, kind in re.findall(rb"^\* (\d+) (EXISTS|EXPUNGE)\r$", output, re.M):
            if kind == b"EXISTS":
                assert int(number) >= self.count  # EXISTS never shrinks the mailbox
                self.count = int(number)
            else:
                assert 1 <= int(number) <= self.count
                self.count -= 1


def _command_for(action: str, n: int) -> bytes:
    commands = {
        "store-deleted": b"s STORE %d +FLAGS (\\Deleted)\r\n",
        "store-seen": b"s UID STORE %d +FLAGS.SILENT (\\Seen)\r\n",
        "unstore": b"s STORE %d -FLAGS (\\Deleted)\r\n",
        "expunge": b"e EXPUNGE\r\n", "uid-expunge": b"e UID EXPUNGE %d\r\n",
        "append": b"a APPEND INBOX {12+}\r\nSubject: x\r\n\r\n",
        "move": b"m UID MOVE %d Trash\r\n", "copy": b"c COPY %d Trash\r\n",
        "fetch": b"f FETCH %d (UID FLAGS BODY[])\r\n", "search": b"q SEARCH UNSEEN\r\n",
        "noop": b"n NOOP\r\n", "close": b"x CLOSE\r\ny SELECT INBOX\r\n",
    }
    template = commands[action]
    return template % n if b"%d" in template else template


def _outside(mailbox: Mailbox, action: str, n: int) -> None:
    if action == "deliver":
        mailbox.file("INBOX", b"Subject: mail %d\r\n\r\nbody\r\n" % n, None, 100.0)
    else:  # a POP3 session's UPDATE state removes the first n messages
        mailbox.inbox.remove([m.uid for m in mailbox.inbox.messages[:n]])


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_ACTIONS)
def test_two_sessions_stay_consistent_and_converge(actions: list[tuple[str, int, int]]) -> None:
    mailbox = sample_mailbox()
    sessions = [Harness(mailbox).select(), Harness(mailbox).select()]
    models = [ClientModel(3), ClientModel(3)]
    validity = {folder.name: folder.uidvalidity for folder in mailbox}
    highest = {folder.name: folder.uidnext for folder in mailbox}
    for action, who, n in actions:
        if action in ("deliver", "pop3-remove"):
            _outside(mailbox, action, n)
            continue
        output = sessions[who].send(_command_for(action, n))
        if action == "close":
            models[who] = ClientModel(len(mailbox.inbox.messages))
            output = output[output.index(b"x OK"):]
        models[who].read(output)
        for folder in mailbox:
            uids = [m.uid for m in folder.messages]
            assert uids == sorted(set(uids)) and all(uid < folder.uidnext for uid in uids)
            assert folder.uidvalidity == validity[folder.name]
            assert folder.uidnext >= highest[folder.name]
            highest[folder.name] = folder.uidnext
    expected = [m.uid for m in mailbox.inbox.messages]
    for session, model in zip(sessions, models, strict=True):
        model.read(session.send(b"z NOOP\r\n"))
        assert model.count == len(expected)
        assert session.send(b"z2 NOOP\r\n") == b"z2 OK NOOP completed.\r\n"  # all told
        if expected:
            fetched = session.send(b"u FETCH 1:* UID\r\n")
            assert re.findall(rb"^\* \d+ FETCH \(UID (\d+)\)", fetched, re.M) == [
                b"%d" % uid for uid in expected]
            assert re.findall(rb"^\* (\d+) FETCH", fetched, re.M) == [
                b"%d" % n for n in range(1, len(expected) + 1)]
