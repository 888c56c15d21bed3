"""IMAP server wire tables: one command line in a given state, the exact
response lines out, and the state after (RFC 9051; Dovecot's wording).

The mailbox is `sample_mailbox()`: INBOX holds UIDs 1-3 (1 read, 2 a
multipart report, 3 flagged); Drafts, Sent and Trash are empty.
"""

from __future__ import annotations

import pytest
from imap_server_harness import Harness

from simulator.protocols.imap import ImapState

CASES: list[tuple[str, bytes, list[str], str]] = [
    ('NOT_AUTHENTICATED', b'a NOOP\r\n', [
        'a OK NOOP completed.',
    ], 'NOT_AUTHENTICATED'),
    ('NOT_AUTHENTICATED', b'a SELECT INBOX\r\n', [
        'a BAD Error in IMAP command received by server.',
    ], 'NOT_AUTHENTICATED'),
    ('NOT_AUTHENTICATED', b'LOGIN alice secret\r\n', [
        ("LOGIN BAD First parameter in line is IMAP's command tag, not the comma"
          'nd name. Add that before the command, like: a login user pass'),
    ], 'NOT_AUTHENTICATED'),
    ('NOT_AUTHENTICATED', b'a ENABLE IMAP4rev2\r\n', [
        '* ENABLED',
        'a OK ENABLE ignored in non-authenticated state.',
    ], 'NOT_AUTHENTICATED'),
    ('NOT_AUTHENTICATED', b'a STARTTLS\r\n', [
        "a BAD TLS support isn't enabled.",
    ], 'NOT_AUTHENTICATED'),
    ('NOT_AUTHENTICATED', b'a AUTHENTICATE CRAM-MD5\r\n', [
        'a NO Unsupported authentication mechanism.',
    ], 'NOT_AUTHENTICATED'),
    ('NOT_AUTHENTICATED', b'a LOGIN alice\r\n', [
        'a BAD Error in IMAP command LOGIN: Invalid arguments.',
    ], 'NOT_AUTHENTICATED'),
    ('NOT_AUTHENTICATED', b'a FROB\r\n', [
        'a BAD Error in IMAP command received by server.',
    ], 'NOT_AUTHENTICATED'),
    ('NOT_AUTHENTICATED', b'\r\n', [
        '* BAD Error in IMAP command received by server.',
    ], 'NOT_AUTHENTICATED'),
    ('NOT_AUTHENTICATED', b'a\r\n', [
        'a BAD Error in IMAP command: Missing command name.',
    ], 'NOT_AUTHENTICATED'),
    ('NOT_AUTHENTICATED', b'a LOGIN "alice secret\r\n', [
        'a BAD Error in IMAP command LOGIN: Missing \'"\'',
    ], 'NOT_AUTHENTICATED'),
    ('AUTHENTICATED', b'a FETCH 1 FLAGS\r\n', [
        'a BAD No mailbox selected.',
    ], 'AUTHENTICATED'),
    ('AUTHENTICATED', b'a CLOSE\r\n', [
        'a BAD No mailbox selected.',
    ], 'AUTHENTICATED'),
    ('AUTHENTICATED', b'a LOGIN alice secret\r\n', [
        'a BAD Error in IMAP command LOGIN: Unknown command.',
    ], 'AUTHENTICATED'),
    ('AUTHENTICATED', b'a ENABLE IMAP4rev2 FOO\r\n', [
        '* ENABLED IMAP4rev2',
        'a OK Enabled.',
    ], 'AUTHENTICATED'),
    ('AUTHENTICATED', b'a NAMESPACE\r\n', [
        '* NAMESPACE (("" ".")) NIL NIL',
        'a OK Namespace completed.',
    ], 'AUTHENTICATED'),
    ('AUTHENTICATED', b'a LIST "" ""\r\n', [
        '* LIST (\\Noselect) "." ""',
        'a OK List completed.',
    ], 'AUTHENTICATED'),
    ('AUTHENTICATED', b'a LIST "" %\r\n', [
        '* LIST (\\HasNoChildren) "." INBOX',
        '* LIST (\\HasNoChildren \\Drafts) "." Drafts',
        '* LIST (\\HasNoChildren \\Sent) "." Sent',
        '* LIST (\\HasNoChildren \\Trash) "." Trash',
        'a OK List completed.',
    ], 'AUTHENTICATED'),
    ('AUTHENTICATED', b'a LIST (SPECIAL-USE) "" *\r\n', [
        '* LIST (\\HasNoChildren \\Drafts) "." Drafts',
        '* LIST (\\HasNoChildren \\Sent) "." Sent',
        '* LIST (\\HasNoChildren \\Trash) "." Trash',
        'a OK List completed.',
    ], 'AUTHENTICATED'),
    ('AUTHENTICATED', b'a LIST "" Sent RETURN (SUBSCRIBED)\r\n', [
        '* LIST (\\HasNoChildren \\Subscribed \\Sent) "." Sent',
        'a OK List completed.',
    ], 'AUTHENTICATED'),
    ('AUTHENTICATED', b'a LIST (SUBSCRIBED) "" INBOX\r\n', [
        '* LIST (\\HasNoChildren \\Subscribed) "." INBOX',
        'a OK List completed.',
    ], 'AUTHENTICATED'),
    ('AUTHENTICATED', b'a LIST "" INBOX RETURN (STATUS (MESSAGES UNSEEN))\r\n', [
        '* LIST (\\HasNoChildren) "." INBOX',
        '* STATUS INBOX (MESSAGES 3 UNSEEN 2)',
        'a OK List completed.',
    ], 'AUTHENTICATED'),
    ('AUTHENTICATED', b'a CREATE Work.\r\n', [
        'a OK Create completed.',
    ], 'AUTHENTICATED'),
    ('AUTHENTICATED', b'a CREATE INBOX\r\n', [
        'a NO [ALREADYEXISTS] Mailbox already exists',
    ], 'AUTHENTICATED'),
    ('AUTHENTICATED', b'a DELETE INBOX\r\n', [
        "a NO [CANNOT] INBOX can't be deleted.",
    ], 'AUTHENTICATED'),
    ('AUTHENTICATED', b'a DELETE Nope\r\n', [
        "a NO [NONEXISTENT] Mailbox doesn't exist: Nope",
    ], 'AUTHENTICATED'),
    ('AUTHENTICATED', b'a RENAME Trash Bin\r\n', [
        'a OK Rename completed.',
    ], 'AUTHENTICATED'),
    ('AUTHENTICATED', b'a STATUS INBOX (MESSAGES UIDNEXT UIDVALIDITY UNSEEN SIZE DELETED)\r\n', [
        '* STATUS INBOX (MESSAGES 3 UIDNEXT 4 UIDVALIDITY 1 UNSEEN 2 SIZE 578 DELETED 0)',
        'a OK Status completed.',
    ], 'AUTHENTICATED'),
    ('AUTHENTICATED', b'a STATUS INBOX (FOO)\r\n', [
        'a BAD Error in IMAP command STATUS: Invalid status item',
    ], 'AUTHENTICATED'),
    ('AUTHENTICATED', b'a STATUS Nope (MESSAGES)\r\n', [
        "a NO [NONEXISTENT] Mailbox doesn't exist: Nope",
    ], 'AUTHENTICATED'),
    ('AUTHENTICATED', b'a EXAMINE INBOX\r\n', [
        '* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)',
        '* OK [PERMANENTFLAGS ()] Read-only mailbox.',
        '* 3 EXISTS',
        '* 0 RECENT',
        '* OK [UNSEEN 2] First unseen.',
        '* OK [UIDVALIDITY 1] UIDs valid',
        '* OK [UIDNEXT 4] Predicted next UID',
        'a OK [READ-ONLY] Examine completed',
    ], 'SELECTED'),
    ('AUTHENTICATED', b'a SELECT Nope\r\n', [
        "a NO [NONEXISTENT] Mailbox doesn't exist: Nope",
    ], 'AUTHENTICATED'),
    ('AUTHENTICATED', b'a SUBSCRIBE Sent\r\n', [
        'a OK Subscribe completed.',
    ], 'AUTHENTICATED'),
    ('SELECTED', b'a FETCH 1:* FAST\r\n', [
        ('* 1 FETCH (FLAGS (\\Seen) INTERNALDATE "02-Mar-2026 09:00:00 +0000" RFC'
          '822.SIZE 174)'),
        '* 2 FETCH (FLAGS () INTERNALDATE "04-Mar-2026 09:00:00 +0000" RFC822.SIZE 279)',
        ('* 3 FETCH (FLAGS (\\Flagged) INTERNALDATE "05-Mar-2026 09:00:00 +0000" '
          'RFC822.SIZE 125)'),
        'a OK Fetch completed.',
    ], 'SELECTED'),
    ('SELECTED', b'a FETCH 2 (BODY.PEEK[HEADER.FIELDS (Subject From)] BODY.PEEK[1])\r\n', [
        '* 2 FETCH (BODY[HEADER.FIELDS (Subject From)] {44}',
        'From: carol@example.net',
        'Subject: Report',
        '',
        ' BODY[1] {13}',
        'See attached.)',
        'a OK Fetch completed.',
    ], 'SELECTED'),
    ('SELECTED', b'a FETCH 2 BODYSTRUCTURE\r\n', [
        ('* 2 FETCH (BODYSTRUCTURE (("text" "plain" ("charset" "utf-8") NIL NIL '
          '"7bit" 13 1)("text" "csv" NIL NIL NIL "7bit" 8 2) "mixed"))'),
        'a OK Fetch completed.',
    ], 'SELECTED'),
    ('SELECTED', b'a UID FETCH 3 (BODY.PEEK[TEXT]<0.5>)\r\n', [
        '* 3 FETCH (UID 3 BODY[TEXT]<0> {5}',
        'Or on)',
        'a OK Fetch completed.',
    ], 'SELECTED'),
    ('SELECTED', b'a FETCH 4 FLAGS\r\n', [
        'a BAD Error in IMAP command FETCH: Invalid messageset',
    ], 'SELECTED'),
    ('SELECTED', b'a FETCH 1 FOO\r\n', [
        'a BAD Error in IMAP command FETCH: Unknown parameter FOO',
    ], 'SELECTED'),
    ('SELECTED', b'a FETCH 1 RFC822.HEADER\r\n', [
        '* 1 FETCH (RFC822.HEADER {148}',
        'From: Bob Smith <bob@example.org>',
        'To: alice@example.org',
        'Subject: Lunch',
        'Date: Mon, 02 Mar 2026 09:00:00 +0000',
        'Message-ID: <lunch@example.org>',
        '',
        ')',
        'a OK Fetch completed.',
    ], 'SELECTED'),
    ('SELECTED', b'a STORE 1:2 +FLAGS.SILENT (\\Deleted)\r\n', [
        'a OK Store completed.',
    ], 'SELECTED'),
    ('SELECTED', b'a STORE 3 FLAGS (\\Answered $Label1)\r\n', [
        '* 3 FETCH (FLAGS (\\Answered $Label1))',
        'a OK Store completed.',
    ], 'SELECTED'),
    ('SELECTED', b'a UID STORE 2 -FLAGS \\Seen\r\n', [
        '* 2 FETCH (FLAGS () UID 2)',
        'a OK Store completed.',
    ], 'SELECTED'),
    ('SELECTED', b'a STORE 1 +FLAGS (\\Recent)\r\n', [
        'a BAD Error in IMAP command STORE: Invalid system flag \\Recent',
    ], 'SELECTED'),
    ('SELECTED', b'a SEARCH FROM bob\r\n', [
        '* SEARCH 1 3',
        'a OK Search completed.',
    ], 'SELECTED'),
    ('SELECTED', b'a SEARCH UNSEEN NOT FLAGGED\r\n', [
        '* SEARCH 2',
        'a OK Search completed.',
    ], 'SELECTED'),
    ('SELECTED', b'a SEARCH OR SUBJECT report SEEN\r\n', [
        '* SEARCH 1 2',
        'a OK Search completed.',
    ], 'SELECTED'),
    ('SELECTED', b'a SEARCH SINCE 3-Mar-2026\r\n', [
        '* SEARCH 2 3',
        'a OK Search completed.',
    ], 'SELECTED'),
    ('SELECTED', b'a SEARCH BEFORE 4-Mar-2026 LARGER 200\r\n', [
        '* SEARCH',
        'a OK Search completed.',
    ], 'SELECTED'),
    ('SELECTED', b'a UID SEARCH RETURN () UID 2:*\r\n', [
        '* ESEARCH (TAG "a") UID ALL 2:3',
        'a OK Search completed.',
    ], 'SELECTED'),
    ('SELECTED', b'a SEARCH CHARSET KOI8-R ALL\r\n', [
        'a NO [BADCHARSET (UTF-8 US-ASCII)] Unsupported charset',
    ], 'SELECTED'),
    ('SELECTED', b'a SEARCH FOO\r\n', [
        'a BAD Error in IMAP command SEARCH: Unknown argument FOO',
    ], 'SELECTED'),
    ('SELECTED', b'a SEARCH TEXT attached\r\n', [
        '* SEARCH 2',
        'a OK Search completed.',
    ], 'SELECTED'),
    ('SELECTED', b'a COPY 1:2 Trash\r\n', [
        'a OK [COPYUID 4 1:2 1:2] Copy completed.',
    ], 'SELECTED'),
    ('SELECTED', b'a COPY 1 Nope\r\n', [
        "a NO [TRYCREATE] Mailbox doesn't exist: Nope",
    ], 'SELECTED'),
    ('SELECTED', b'a UID MOVE 2 Trash\r\n', [
        '* OK [COPYUID 4 2 1] Moved UIDs.',
        '* 2 EXPUNGE',
        'a OK Move completed.',
    ], 'SELECTED'),
    ('SELECTED', b'a MOVE 5 Trash\r\n', [
        'a BAD Error in IMAP command MOVE: Invalid messageset',
    ], 'SELECTED'),
    ('SELECTED', b'a UID COPY 9 Trash\r\n', [
        'a OK No messages found.',
    ], 'SELECTED'),
    ('SELECTED', b'a CLOSE\r\n', [
        'a OK Close completed.',
    ], 'AUTHENTICATED'),
    ('SELECTED', b'a UNSELECT\r\n', [
        'a OK Unselect completed.',
    ], 'AUTHENTICATED'),
    ('SELECTED', b'a EXPUNGE\r\n', [
        'a OK Expunge completed.',
    ], 'SELECTED'),
    ('SELECTED', b'a UID EXPUNGE 1\r\n', [
        'a OK Expunge completed.',
    ], 'SELECTED'),
    ('SELECTED', b'a SELECT Sent\r\n', [
        '* OK [CLOSED] Previous mailbox closed.',
        '* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)',
        ('* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft \\*)] Fl'
          'ags permitted.'),
        '* 0 EXISTS',
        '* 0 RECENT',
        '* OK [UIDVALIDITY 3] UIDs valid',
        '* OK [UIDNEXT 1] Predicted next UID',
        'a OK [READ-WRITE] Select completed',
    ], 'SELECTED'),
    ('SELECTED', b'a SELECT Nope\r\n', [
        '* OK [CLOSED] Previous mailbox closed.',
        "a NO [NONEXISTENT] Mailbox doesn't exist: Nope",
    ], 'AUTHENTICATED'),
    ('REV2', b'a SEARCH FROM bob\r\n', [
        '* ESEARCH (TAG "a") ALL 1,3',
        'a OK Search completed.',
    ], 'SELECTED'),
    ('REV2', b'a SELECT Sent\r\n', [
        '* OK [CLOSED] Previous mailbox closed.',
        '* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)',
        ('* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft \\*)] Fl'
          'ags permitted.'),
        '* LIST (\\HasNoChildren \\Sent) "." Sent',
        '* 0 EXISTS',
        '* OK [UIDVALIDITY 3] UIDs valid',
        '* OK [UIDNEXT 1] Predicted next UID',
        'a OK [READ-WRITE] Select completed',
    ], 'SELECTED'),
    ('SELECTED', b'a LOGOUT\r\n', [
        '* BYE Logging out',
        'a OK Logout completed.',
    ], 'LOGOUT'),
    ('SELECTED', b'a FETCH 2 (ENVELOPE INTERNALDATE)\r\n', [
        ('* 2 FETCH (ENVELOPE (NIL "Report" ((NIL NIL "carol" "example.net")) (('
          'NIL NIL "carol" "example.net")) ((NIL NIL "carol" "example.net")) ((NI'
          'L NIL "alice" "example.org")(NIL NIL "dave" "example.org")) NIL NIL NI'
          'L "<report@example.net>") INTERNALDATE "04-Mar-2026 09:00:00 +0000")'),
        'a OK Fetch completed.',
    ], 'SELECTED'),
]


def _harness(state: str) -> Harness:
    harness = Harness()
    if state == "AUTHENTICATED":
        harness.login()
    elif state == "SELECTED":
        harness.select()
    elif state == "REV2":
        harness.select(enable_rev2=True)
    return harness


@pytest.mark.parametrize(("state", "command", "expected", "after"), CASES,
                         ids=[f"{c[0]}-{c[1][:30]!r}" for c in CASES])
def test_wire_table(state: str, command: bytes, expected: list[str], after: str) -> None:
    harness = _harness(state)
    assert harness.lines(command) == expected
    assert harness.server.state is ImapState[after]


def test_greeting_names_the_capabilities_like_dovecot() -> None:
    harness = Harness()
    assert harness.greeting == (b"* OK [CAPABILITY IMAP4rev1 IMAP4rev2 SASL-IR ENABLE IDLE"
                                b" LITERAL+ AUTH=PLAIN] Dovecot ready.\r\n")


def test_login_answers_with_the_capabilities_after_login() -> None:
    harness = Harness()
    reply = harness.lines(b"t1 LOGIN alice secret\r\n")
    assert reply[0].startswith("t1 OK [CAPABILITY IMAP4rev1 IMAP4rev2 ")
    assert "UIDPLUS" in reply[0] and "MOVE" in reply[0] and "APPENDLIMIT=10240000" in reply[0]
    assert reply[0].endswith("] Logged in")
    assert harness.lines(b"t2 CAPABILITY\r\n")[-1] == "t2 OK Capability completed."


def test_a_wrong_password_is_refused_and_the_state_stays() -> None:
    harness = Harness()
    assert harness.lines(b"t1 LOGIN alice guess\r\n") == [
        "t1 NO [AUTHENTICATIONFAILED] Authentication failed."]
    assert harness.server.state is ImapState.NOT_AUTHENTICATED
    assert harness.server.username is None


def test_quoted_and_literal_credentials() -> None:
    harness = Harness()
    assert harness.send(b't1 LOGIN "alice" {6}\r\n') == b"+ OK\r\n"
    assert harness.lines(b"secret\r\n")[0].startswith("t1 OK [CAPABILITY")
    assert harness.server.username == "alice"


def test_keywords_are_case_insensitive() -> None:
    harness = Harness().login()
    assert harness.lines(b"t1 select inbox\r\n")[-1] == "t1 OK [READ-WRITE] Select completed"
    assert harness.lines(b"t2 uid fetch 1 flags\r\n")[0] == "* 1 FETCH (UID 1 FLAGS (\\Seen))"
