"""IMAP server: literals both ways (RFC 9051 §4.3, §7.5; LITERAL+ RFC 7888),
APPEND (§6.3.12, APPENDUID RFC 4315) and the limits Dovecot keeps."""

from __future__ import annotations

from imap_server_harness import DAY, Harness, sample_mailbox

from simulator.protocols.imap import ImapState, MessageAppended
from simulator.protocols.imap.wire import Atom, ParenList, String, tokenize

NOTE = b"From: alice@example.org\r\nSubject: Draft\r\n\r\nHello\r\n"


def test_append_with_a_synchronizing_literal() -> None:
    harness = Harness().login()
    command = b"a APPEND Drafts (\\Draft $Todo) \"05-Mar-2026 10:00:00 +0100\" {%d}\r\n" % len(NOTE)
    assert harness.send(command) == b"+ OK\r\n"
    assert harness.lines(NOTE + b"\r\n") == ["a OK [APPENDUID 2 1] Append completed."]
    stored = harness.mailbox.folders["Drafts"].messages[0]
    assert stored.content == NOTE and stored.flags == {"\\Draft", "$Todo"}
    assert stored.internal_date == 3 * DAY  # 09:00 UTC on 5 March, three days after the epoch
    assert harness.events[-1] == MessageAppended("Drafts", 1, len(NOTE))


def test_append_with_a_non_synchronizing_literal_gets_no_continuation() -> None:
    harness = Harness().login()
    reply = harness.lines(b"a APPEND Sent {%d+}\r\n" % len(NOTE) + NOTE + b"\r\n")
    assert reply == ["a OK [APPENDUID 3 1] Append completed."]
    assert harness.mailbox.folders["Sent"].messages[0].internal_date == 5 * DAY  # the clock


def test_append_literal_arriving_byte_by_byte() -> None:
    harness = Harness().login()
    out = b""
    for byte in b"a APPEND INBOX {%d}\r\n" % len(NOTE) + NOTE + b"\r\n":
        out += harness.send(bytes([byte]))
    assert out == b"+ OK\r\na OK [APPENDUID 1 4] Append completed.\r\n"


def test_append_to_the_selected_folder_reports_exists() -> None:
    harness = Harness().select()
    harness.send(b"a APPEND INBOX {%d}\r\n" % len(NOTE))
    assert harness.lines(NOTE + b"\r\n") == ["* 4 EXISTS", "a OK [APPENDUID 1 4] Append completed."]


def test_append_to_a_missing_folder_is_refused_before_the_literal() -> None:
    harness = Harness().login()
    assert harness.lines(b"a APPEND Nope {5}\r\n") == [
        "a NO [TRYCREATE] Mailbox doesn't exist: Nope"]
    assert harness.lines(b"b NOOP\r\n") == ["b OK NOOP completed."]


def test_append_over_quota_is_refused_like_dovecot() -> None:
    mailbox = sample_mailbox(quota=600)
    harness = Harness(mailbox).login()
    assert harness.lines(b"a APPEND INBOX {100}\r\n") == [
        "a NO [OVERQUOTA] Quota exceeded (mailbox for user is full)"]
    assert len(mailbox.inbox.messages) == 3


def test_a_refused_non_synchronizing_literal_is_read_and_thrown_away() -> None:
    harness = Harness().login()
    reply = harness.lines(b"a APPEND Nope {9+}\r\nb NOOP\r\n\r\nc NOOP\r\n")
    assert reply == ["a NO [TRYCREATE] Mailbox doesn't exist: Nope", "c OK NOOP completed."]


def test_empty_and_oversized_appends() -> None:
    harness = Harness().login()
    assert harness.lines(b"a APPEND INBOX {0}\r\n") == ["a NO Can't save a zero byte message."]
    assert harness.lines(b"b APPEND INBOX {99999999}\r\n") == [
        "b NO [TOOBIG] Mail size is over the limit of 10240000 bytes."]
    assert not harness.server.closed
    assert harness.lines(b"c APPEND INBOX {99999999+}\r\n") == ["* BYE Literal size too large"]
    assert harness.server.closed


def test_append_before_login_is_refused_without_continuation() -> None:
    harness = Harness()
    assert harness.lines(b"a APPEND INBOX {5}\r\n") == [
        "a BAD Error in IMAP command received by server."]


def test_append_syntax_errors() -> None:
    harness = Harness().login()
    assert harness.lines(b'a APPEND INBOX "not a literal"\r\n') == [
        "a BAD Error in IMAP command APPEND: Invalid arguments."]
    harness.send(b'b APPEND INBOX "yesterday" {5}\r\n')
    assert harness.lines(b"hello\r\n") == [
        "b BAD Error in IMAP command APPEND: Invalid internal date."]


def test_a_literal_in_another_command_larger_than_a_line_may_be_ends_the_session() -> None:
    harness = Harness().login()
    assert harness.lines(b"a SELECT {70000}\r\n") == ["* BYE Literal size too large"]
    assert harness.server.closed


def test_an_over_long_line_is_answered_and_skipped() -> None:
    harness = Harness().login()
    reply = harness.lines(b"a SELECT " + b"x" * 70000 + b"\r\nb NOOP\r\n")
    assert reply == ["* BAD Error in IMAP command: Too long argument.", "b OK NOOP completed."]


def test_an_unterminated_literal_just_waits() -> None:
    harness = Harness().login()
    assert harness.send(b"a APPEND INBOX {20}\r\nonly part") == b"+ OK\r\n"
    assert harness.server.state is ImapState.AUTHENTICATED and not harness.server.closed
    assert len(harness.mailbox.inbox.messages) == 3


def test_fetched_bodies_are_literals_a_reader_can_take_back() -> None:
    harness = Harness().select()
    data = harness.send(b"a FETCH 2 (UID BODY.PEEK[])\r\n")
    first_line = data.split(b"\r\n", 1)[0]
    assert first_line.endswith(b"{%d}" % len(harness.mailbox.inbox.messages[1].content))
    response = data[: data.index(b"\r\na OK")]
    tokens = tokenize(response)
    assert tokens[:3] == [Atom("*"), Atom("2"), Atom("FETCH")]
    items = tokens[3]
    assert isinstance(items, ParenList)
    assert items.items[:3] == (Atom("UID"), Atom("2"), Atom("BODY[]"))
    assert items.items[3] == String(harness.mailbox.inbox.messages[1].content, literal=True)
    assert "\\Seen" not in harness.mailbox.inbox.messages[1].flags  # PEEK


def test_body_without_peek_sets_seen_and_reports_it() -> None:
    harness = Harness().select()
    reply = harness.lines(b"a FETCH 2 BODY[TEXT]\r\n")
    assert reply[-2].endswith(" FLAGS (\\Seen))") and reply[-1] == "a OK Fetch completed."
    assert "\\Seen" in harness.mailbox.inbox.messages[1].flags
    assert harness.lines(b"b NOOP\r\n") == ["b OK NOOP completed."]  # already told


def test_examine_never_sets_seen() -> None:
    harness = Harness().login()
    harness.send(b"e EXAMINE INBOX\r\n")
    harness.send(b"a FETCH 2 RFC822\r\n")
    assert "\\Seen" not in harness.mailbox.inbox.messages[1].flags
