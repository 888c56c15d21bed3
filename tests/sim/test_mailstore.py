"""The mailbox store keeps IMAP's rules: UIDs grow, UIDVALIDITY changes, quotas hold."""

from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from simulator.mailstore import (
    DELETED,
    INBOX,
    SEEN,
    Folder,
    Mailbox,
    StoredMessage,
    StoreError,
    StoreRefusal,
)


def by_uid(folder: Folder, uid: int) -> StoredMessage | None:
    return next((m for m in folder.messages if m.uid == uid), None)


def mailbox(quota: int | None = None) -> Mailbox:
    return Mailbox("bob@example.net", "builder", quota=quota)


def test_a_new_mailbox_has_the_standard_folders_with_distinct_uidvalidity() -> None:
    box = mailbox()
    assert list(box.folders) == [INBOX, "Drafts", "Sent", "Trash"]
    assert len({folder.uidvalidity for folder in box}) == 4
    assert box.folder("Sent").special_use == "\\Sent"


def test_inbox_is_case_insensitive_and_other_names_are_not() -> None:
    box = mailbox()
    assert box.folder("inbox") is box.inbox
    assert box.folder("sent") is None
    box.create("inBox.Lists")
    assert "INBOX.Lists" in box.folders


def test_expunge_announces_sequence_numbers_valid_one_after_another() -> None:
    inbox = mailbox().inbox
    for n in range(5):
        inbox.append(b"m%d" % n, None, 0.0)
    for uid in (2, 3, 5):
        by_uid(inbox, uid).flags.add(DELETED)
    # Removing 2 makes 3 the new 2; then 5 (now 3) goes.
    assert inbox.expunge() == [2, 2, 3]
    assert [m.uid for m in inbox.messages] == [1, 4]
    assert inbox.uidnext == 6


def test_uid_expunge_touches_only_the_given_uids() -> None:
    inbox = mailbox().inbox
    for _ in range(3):
        inbox.append(b"m", None, 0.0, flags=[DELETED])
    assert inbox.expunge([2]) == [2]
    assert [m.uid for m in inbox.messages] == [1, 3]


def test_a_folder_made_again_under_an_old_name_has_a_greater_uidvalidity() -> None:
    box = mailbox()
    first = box.create("Projects").uidvalidity
    box.delete("Projects")
    assert box.create("Projects").uidvalidity > first


def refused(action: Callable[[], object]) -> tuple[StoreRefusal, str]:
    with pytest.raises(StoreError) as caught:
        action()
    return caught.value.reason, caught.value.folder


def test_refusals_say_why_in_no_protocol_s_words() -> None:
    box = mailbox()
    assert refused(lambda: box.delete("inbox")) == (StoreRefusal.INBOX_CANNOT_BE_DELETED, INBOX)
    assert refused(lambda: box.delete("Nope")) == (StoreRefusal.NO_SUCH_FOLDER, "Nope")
    assert refused(lambda: box.create("Sent")) == (StoreRefusal.ALREADY_EXISTS, "Sent")
    assert refused(lambda: box.create("a..b")) == (StoreRefusal.INVALID_NAME, "a..b")
    assert refused(lambda: box.file("Nope", b"x", None, 0.0)) == (
        StoreRefusal.NO_SUCH_FOLDER, "Nope")


def test_renaming_inbox_is_refused_as_dovecot_with_maildir_does() -> None:
    box = mailbox()
    box.inbox.append(b"hello", None, 0.0)
    assert refused(lambda: box.rename("Inbox", "Old")) == (
        StoreRefusal.INBOX_CANNOT_BE_RENAMED, INBOX)
    assert [m.content for m in box.inbox.messages] == [b"hello"] and box.folder("Old") is None


def test_renaming_a_folder_renames_its_inferiors_with_their_uidvalidity() -> None:
    box = mailbox()
    validities = {name: box.create(name).uidvalidity for name in ("x", "x.y", "x.y.z", "xy")}
    box.folder("x.y").append(b"kept", None, 0.0)
    box.rename("x", "z")
    assert box.folder("x") is box.folder("x.y") is None
    assert box.folder("xy") is not None  # a sibling whose name merely starts alike stays
    for old, new in (("x", "z"), ("x.y", "z.y"), ("x.y.z", "z.y.z")):
        assert box.folder(new).uidvalidity == validities[old] and box.folder(new).name == new
    assert [m.content for m in box.folder("z.y").messages] == [b"kept"]
    assert refused(lambda: box.rename("z", "z.w")) == (StoreRefusal.INVALID_NAME, "z.w")
    box.create("q.y")
    assert refused(lambda: box.rename("z", "q")) == (StoreRefusal.ALREADY_EXISTS, "q")


def test_renaming_keeps_uidvalidity_and_uids() -> None:
    box = mailbox()
    folder = box.create("A")
    folder.append(b"x", None, 0.0)
    validity = folder.uidvalidity
    box.rename("A", "B")
    assert box.folder("A") is None
    assert box.folder("B").uidvalidity == validity
    assert box.folder("B").uidnext == 2


def test_the_quota_counts_every_folder() -> None:
    box = mailbox(quota=10)
    box.file("Sent", b"123456", None, 0.0)
    assert box.has_room_for(4) and not box.has_room_for(5)
    assert refused(lambda: box.file(INBOX, b"12345", None, 0.0)) == (
        StoreRefusal.OVER_QUOTA, INBOX)
    assert box.used == 6


def test_pop3_removal_ignores_flags_and_keeps_uids_growing() -> None:
    inbox = mailbox().inbox
    first = inbox.append(b"a", None, 0.0, flags=[SEEN])
    inbox.append(b"b", None, 0.0)
    assert inbox.remove([first.uid]) == [1]
    assert inbox.append(b"c", None, 0.0).uid == 3
    # Dovecot's pop3_uidl_format %08Xu%08Xv: UID 2, then INBOX's UIDVALIDITY
    assert inbox.messages[0].pop3_uid == f"00000002{inbox.uidvalidity:08X}"


@given(st.lists(st.tuples(st.sampled_from(["append", "delete", "expunge"]), st.integers(1, 8))))
def test_uids_only_grow_and_stay_sorted_under_any_sequence(ops: list[tuple[str, int]]) -> None:
    inbox = mailbox().inbox
    highest = 0
    for op, n in ops:
        if op == "append":
            uid = inbox.append(b"x", None, 0.0).uid
            assert uid > highest
            highest = uid
        elif op == "delete" and (message := by_uid(inbox, n)) is not None:
            message.flags.add(DELETED)
        elif op == "expunge":
            before = len(inbox.messages)
            announced = inbox.expunge()
            assert len(inbox.messages) == before - len(announced)
        uids = [m.uid for m in inbox.messages]
        assert uids == sorted(set(uids))
        assert inbox.uidnext == highest + 1
