"""IMAP server: several sessions (and POP3) on one mailbox (RFC 9051 §7.5.1,
IDLE §6.3.13).  Each session learns of the others' changes after a command,
or at once while it IDLEs and the agent calls `notify()`."""

from __future__ import annotations

from imap_server_harness import Harness, sample_mailbox

from simulator.protocols.imap import IdleEnded, IdleStarted

NEW = b"Subject: new\r\n\r\nfresh\r\n"


def _pair() -> tuple[Harness, Harness]:
    mailbox = sample_mailbox()
    return Harness(mailbox).select(), Harness(mailbox).select()


def test_flags_set_by_one_session_reach_the_other_after_its_next_command() -> None:
    laptop, phone = _pair()
    laptop.send(b"a STORE 2 +FLAGS.SILENT (\\Seen)\r\n")
    assert phone.lines(b"b NOOP\r\n") == ["* 2 FETCH (FLAGS (\\Seen))", "b OK NOOP completed."]
    assert phone.lines(b"c NOOP\r\n") == ["c OK NOOP completed."]


def test_expunge_by_one_session_renumbers_the_other_in_order() -> None:
    laptop, phone = _pair()
    laptop.send(b"a STORE 1:2 +FLAGS.SILENT (\\Deleted)\r\n")
    assert laptop.lines(b"b EXPUNGE\r\n") == [
        "* 1 EXPUNGE", "* 1 EXPUNGE", "b OK Expunge completed."]
    assert phone.lines(b"c NOOP\r\n") == ["* 1 EXPUNGE", "* 1 EXPUNGE", "c OK NOOP completed."]
    assert phone.lines(b"d FETCH 1 UID\r\n") == ["* 1 FETCH (UID 3)", "d OK Fetch completed."]


def test_no_expunge_during_fetch_store_or_search_by_number() -> None:
    laptop, phone = _pair()
    laptop.send(b"a STORE 1 +FLAGS.SILENT (\\Deleted)\r\na EXPUNGE\r\n")
    assert phone.lines(b"b FETCH 1:3 UID\r\n") == [
        "* 2 FETCH (UID 2)", "* 3 FETCH (UID 3)",
        "b OK [EXPUNGEISSUED] Some messages were already expunged."]
    assert phone.lines(b"c SEARCH ALL\r\n") == ["* SEARCH 2 3", "c OK Search completed."]
    assert phone.lines(b"d UID SEARCH ALL\r\n") == [
        "* SEARCH 2 3", "* 1 EXPUNGE", "d OK Search completed."]


def test_idle_pushes_new_mail_expunges_and_flags_when_notified() -> None:
    mailbox = sample_mailbox()
    phone = Harness(mailbox).select()
    assert phone.lines(b"i IDLE\r\n") == ["+ idling"]
    assert phone.events == [IdleStarted("INBOX")] and phone.server.idling
    mailbox.file("INBOX", NEW, None, 10.0)
    phone.server.notify()
    assert phone.server.data_to_send() == b"* 4 EXISTS\r\n"
    mailbox.inbox.messages[0].flags.add("\\Deleted")
    mailbox.inbox.expunge()
    mailbox.inbox.messages[0].flags.add("\\Answered")
    phone.server.notify()
    assert phone.server.data_to_send() == b"* 1 EXPUNGE\r\n* 1 FETCH (FLAGS (\\Answered))\r\n"
    assert phone.lines(b"DONE\r\n") == ["i OK Idle completed."]
    assert phone.events[-1] == IdleEnded() and not phone.server.idling


def test_notify_outside_idle_waits_for_the_next_command() -> None:
    mailbox = sample_mailbox()
    phone = Harness(mailbox).select()
    mailbox.file("INBOX", NEW, None, 10.0)
    phone.server.notify()
    assert phone.server.data_to_send() == b""
    assert phone.lines(b"n NOOP\r\n") == ["* 4 EXISTS", "n OK NOOP completed."]


def test_idle_ended_by_something_else_than_done() -> None:
    phone = Harness().select()
    phone.send(b"i IDLE\r\n")
    assert phone.lines(b"NOOP\r\n") == ["i BAD Expected DONE."]
    assert phone.lines(b"j NOOP\r\n") == ["j OK NOOP completed."]


def test_pop3_removal_is_seen_as_expunge() -> None:
    mailbox = sample_mailbox()
    laptop = Harness(mailbox).select()
    mailbox.inbox.remove([2])  # a POP3 session's UPDATE state (RFC 1939 §6)
    assert laptop.lines(b"n NOOP\r\n") == ["* 2 EXPUNGE", "n OK NOOP completed."]


def test_deleting_the_selected_folder_ends_the_other_session() -> None:
    mailbox = sample_mailbox()
    mailbox.create("Work")
    laptop = Harness(mailbox).select("Work")
    phone = Harness(mailbox).login()
    assert phone.lines(b"d DELETE Work\r\n") == ["d OK Delete completed."]
    assert laptop.lines(b"n NOOP\r\n") == [
        "n OK NOOP completed.", "* BYE Selected mailbox was deleted, have to disconnect."]
    assert laptop.server.closed


def test_a_session_deleting_its_own_selected_folder_is_disconnected_like_dovecot() -> None:
    mailbox = sample_mailbox()
    mailbox.create("Work")
    laptop = Harness(mailbox).select("Work")
    assert laptop.lines(b"d DELETE Work\r\n") == [
        "d OK Delete completed.", "* BYE Selected mailbox was deleted, have to disconnect."]


def test_copy_into_the_other_sessions_folder_shows_up_there() -> None:
    mailbox = sample_mailbox()
    laptop = Harness(mailbox).select()
    phone = Harness(mailbox).select("Trash")
    laptop.send(b"m UID MOVE 1:2 Trash\r\n")
    assert phone.lines(b"n NOOP\r\n") == ["* 2 EXISTS", "n OK NOOP completed."]
    assert phone.lines(b"f FETCH 1:2 (UID FLAGS)\r\n") == [
        "* 1 FETCH (UID 1 FLAGS (\\Seen))", "* 2 FETCH (UID 2 FLAGS ())", "f OK Fetch completed."]


def test_close_expunges_silently() -> None:
    laptop, phone = _pair()
    laptop.send(b"a STORE 3 +FLAGS.SILENT (\\Deleted)\r\n")
    assert laptop.lines(b"c CLOSE\r\n") == ["c OK Close completed."]
    assert [m.uid for m in laptop.mailbox.inbox.messages] == [1, 2]
    assert phone.lines(b"n NOOP\r\n") == ["* 3 EXPUNGE", "n OK NOOP completed."]
