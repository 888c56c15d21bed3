"""IMAP server: folders (RFC 9051 §6.3.4-6.3.11) and odd command lines."""

from __future__ import annotations

from imap_server_harness import Harness

from simulator.protocols.imap import FolderSelected, ImapState


def test_an_empty_or_bad_tag_is_not_echoed() -> None:
    harness = Harness()
    assert harness.lines(b" NOOP\r\n") == ["* BAD Error in IMAP command received by server."]
    assert harness.lines(b"a+b NOOP\r\n") == ["* BAD Error in IMAP command received by server."]


def test_hierarchy_in_list_and_percent() -> None:
    harness = Harness().login()
    assert harness.lines(b"c1 CREATE Work.Reports\r\n") == ["c1 OK Create completed."]
    assert harness.lines(b"c2 CREATE Work\r\n") == ["c2 OK Create completed."]
    assert harness.lines(b'l1 LIST "" Work%\r\n') == [
        '* LIST (\\HasChildren) "." Work', "l1 OK List completed."]
    assert harness.lines(b'l2 LIST Work. *\r\n') == [
        '* LIST (\\HasNoChildren) "." Work.Reports', "l2 OK List completed."]
    assert harness.lines(b'l3 LIST "" (inbox "Dr*")\r\n') == [
        '* LIST (\\HasNoChildren) "." INBOX',
        '* LIST (\\HasNoChildren \\Drafts) "." Drafts', "l3 OK List completed."]


def test_rename_keeps_uidvalidity_and_messages() -> None:
    harness = Harness().login()
    before = harness.mailbox.folders["Trash"].uidvalidity
    assert harness.lines(b"r RENAME Trash Bin\r\n") == ["r OK Rename completed."]
    assert harness.lines(b"s STATUS Bin (UIDVALIDITY MESSAGES)\r\n") == [
        f"* STATUS Bin (UIDVALIDITY {before} MESSAGES 0)", "s OK Status completed."]
    assert harness.lines(b"t RENAME Bin Sent\r\n") == [
        "t NO [ALREADYEXISTS] Target mailbox already exists"]


def test_rename_takes_the_inferiors_along_and_inbox_is_refused() -> None:
    harness = Harness().login()
    harness.send(b"c CREATE Work\r\nd CREATE Work.Reports\r\n")
    assert harness.lines(b"r RENAME Work Jobs\r\n") == ["r OK Rename completed."]  # §6.3.6
    assert harness.lines(b'l LIST "" "J*"\r\n')[:2] == [
        '* LIST (\\HasChildren) "." Jobs',
        '* LIST (\\HasNoChildren) "." Jobs.Reports']
    assert harness.lines(b"i RENAME INBOX Old\r\n") == [
        "i NO [CANNOT] Renaming INBOX isn't supported."]


def test_list_percent_shows_the_levels_above_a_nested_folder() -> None:
    """RFC 9051 §6.3.9: a level of hierarchy that is no mailbox is listed, \\NonExistent
    in rev2 (it implies \\Noselect, RFC 5258 §3.4), \\Noselect to an IMAP4rev1 client."""
    harness = Harness().login()
    assert harness.lines(b"c CREATE a.b.c\r\n") == ["c OK Create completed."]
    assert harness.lines(b'l LIST "" "a%"\r\n') == [
        '* LIST (\\Noselect \\HasChildren) "." a', "l OK List completed."]
    assert harness.lines(b'm LIST "" "a.%"\r\n') == [
        '* LIST (\\Noselect \\HasChildren) "." a.b', "m OK List completed."]
    assert harness.lines(b'n LIST "" "a*"\r\n') == [
        '* LIST (\\HasNoChildren) "." a.b.c', "n OK List completed."]
    harness.send(b"e ENABLE IMAP4rev2\r\n")
    assert '* LIST (\\NonExistent \\HasChildren) "." a' in harness.lines(b'o LIST "" "%"\r\n')


def test_a_folder_made_again_gets_a_new_uidvalidity() -> None:
    harness = Harness().login()
    harness.send(b"c CREATE Work\r\n")
    first = harness.mailbox.folders["Work"].uidvalidity
    harness.send(b"d DELETE Work\r\ne CREATE Work\r\n")
    assert harness.mailbox.folders["Work"].uidvalidity > first


def test_names_with_spaces_are_quoted() -> None:
    harness = Harness().login()
    assert harness.lines(b'c CREATE "Old Mail"\r\n') == ["c OK Create completed."]
    assert harness.lines(b'l LIST "" "Old*"\r\n')[0] == (
        '* LIST (\\HasNoChildren) "." "Old Mail"')
    assert harness.lines(b'x EXAMINE "Old Mail"\r\n')[-1] == "x OK [READ-ONLY] Examine completed"
    assert harness.events[-1] == FolderSelected("Old Mail", True, 0)


def test_a_failed_select_leaves_no_folder_selected() -> None:
    harness = Harness().select()
    harness.send(b"s SELECT Nope\r\n")
    assert harness.server.state is ImapState.AUTHENTICATED
    assert harness.lines(b"f FETCH 1 UID\r\n") == ["f BAD No mailbox selected."]


def test_read_only_folders_refuse_changes_like_dovecot() -> None:
    harness = Harness().login()
    harness.send(b"x EXAMINE INBOX\r\n")
    assert harness.lines(b"s STORE 1 +FLAGS (\\Deleted)\r\n") == [
        "s OK Store ignored with read-only mailbox."]
    assert harness.lines(b"e EXPUNGE\r\n") == ["e OK Expunge ignored: Mailbox is read-only."]
    assert harness.lines(b"m MOVE 1 Trash\r\n") == ["m NO [READ-ONLY] Mailbox is read-only."]
    assert harness.mailbox.inbox.messages[0].flags == {"\\Seen"}
