"""The message model's short roads give what the `email` package gives, byte for byte.

`compose` writes plain drafts with byte operations and `header_values`
reads plain header sections the same way; both must agree with the
`email` package (the long road) on every input, plain or not.
"""

from __future__ import annotations

import email.policy
from datetime import UTC, datetime
from email.message import EmailMessage
from email.parser import BytesHeaderParser
from email.utils import format_datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.protocols.message import (
    Draft,
    compose,
    first_header,
    header_values,
    received_count,
)

ATOM = st.from_regex(r"[A-Za-z0-9_%+.-]{1,12}", fullmatch=True)
ADDRESS = st.one_of(
    st.builds(lambda local, domain: f"{local}@{domain}", ATOM, ATOM),
    st.just('"Bob Smith" <bob@example.net>'),
    st.just("Al <al@example.org>"),
)
PRINTABLE = st.text(st.characters(min_codepoint=0, max_codepoint=0x7F), max_size=90)
TEXT = st.one_of(PRINTABLE, st.text(max_size=30), st.sampled_from(
    ["", "Hi", "=?utf-8?q?caf=C3=A9?=", " lead", "trail ", "two  spaces", "x" * 72, "x" * 73,
     "(comment) \"quoted\" back\\slash", "Zoë"]
))
BODY = st.one_of(
    st.text(st.characters(min_codepoint=0, max_codepoint=0x7F), max_size=300),
    st.text(max_size=100),
    st.lists(st.integers(70, 82).map(lambda n: "y" * n), max_size=4).map("\n".join),
)
WHEN = datetime(2027, 3, 4, 5, 6, 7, tzinfo=UTC)


def composed_by_email(draft: Draft, message_id: str, user_agent: str | None) -> bytes:
    msg = EmailMessage(policy=email.policy.SMTP)
    msg["From"] = draft.sender
    msg["To"] = ", ".join(draft.recipients)
    msg["Subject"] = draft.subject
    msg["Date"] = format_datetime(WHEN)
    msg["Message-ID"] = message_id
    if user_agent:
        msg["User-Agent"] = user_agent
    msg.set_content(draft.body or "\n")
    return msg.as_bytes()


def values_by_email(content: bytes, name: str) -> list[str]:
    headers = BytesHeaderParser(policy=email.policy.compat32).parsebytes(content)
    return [" ".join(str(v).split()) for v in headers.get_all(name, [])]


@settings(max_examples=400, deadline=None)
@given(ADDRESS, st.lists(ADDRESS, min_size=1, max_size=6), TEXT, BODY,
       st.one_of(st.none(), TEXT), st.sampled_from(["<1f2e@example.org>", "<a.b@c>", "<x@@y>"]))
def test_compose_writes_what_the_email_package_writes(
    sender: str, to: list[str], subject: str, body: str, agent: str | None, message_id: str
) -> None:
    draft = Draft(sender, tuple(to), subject, body)
    try:
        expected = composed_by_email(draft, message_id, agent)
    except (ValueError, TypeError):  # the email package refuses it: nothing to compare
        return
    assert compose(draft, date=WHEN, message_id=message_id, user_agent=agent) == expected


FIELD_LINE = st.one_of(
    st.sampled_from(["Received: from a\r\n\tby b; Mon", "received:  x ", "Subject: Hi",
                     "Message-ID: <1@x>", " folded on", "\tand on", "From alice", ":empty",
                     "X-Bare\rCR: 1", "Bad line", "To: b\nc", "Subject: caf\xe9", ""]),
    st.text(st.sampled_from("Rr:eived \t-xX;\r\n"), max_size=12),
)


@settings(max_examples=600, deadline=None)
@given(st.lists(FIELD_LINE, max_size=8), st.sampled_from(["\r\n\r\nbody\r\n", "\r\n", ""]),
       st.sampled_from(["Received", "subject", "Message-ID", "To", "X-Bare\rCR"]))
def test_header_values_reads_what_the_email_package_reads(
    lines: list[str], tail: str, name: str
) -> None:
    content = ("\r\n".join(lines) + tail).encode("utf-8", "surrogateescape")
    expected = values_by_email(content, name)
    assert header_values(content, name) == expected
    assert first_header(content, name) == (expected[0] if expected else None)
    assert received_count(content) == len(values_by_email(content, "Received"))


def test_a_composed_message_reads_back() -> None:
    draft = Draft("alice@example.org", ("bob@example.net", "carol@example.com"), "Lunch?",
                  "Noon at the usual place.\n")
    content = compose(draft, date=WHEN, message_id="<42@example.org>", user_agent="mutt")
    assert content.startswith(b"From: alice@example.org\r\nTo: bob@example.net, ")
    assert content.endswith(b"\r\n\r\nNoon at the usual place.\r\n")
    assert header_values(content, "to") == ["bob@example.net, carol@example.com"]
    assert first_header(content, "Message-ID") == "<42@example.org>"
