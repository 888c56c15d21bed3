"""The summary view: a table of message fates with a footer of counts."""

from __future__ import annotations

import functools
import io
import math

import pytest
import yaml
from rich.console import Console, RenderableType
from rich.style import Style

from simulator import catalog
from simulator.fates import Fate, MessageFate, message_fates
from simulator.scenario import validate_scenario
from simulator.simulation import Simulation
from simulator.trace import Kind, Trace
from simulator.trace_data import MailComposed, MailDelivered
from simulator.views import SummaryView, format_duration, summary_of
from simulator.views.summary import fit_widths

ALICE = "alice@example.org"
REJECTED = "550 5.1.1 <nobody@example.net>: Recipient address rejected: User unknown"
TIMEOUT = "connect to mail.example.org[192.0.2.1]:25: Connection timed out"


def fate(recipient: str, outcome: Fate, **fields: object) -> MessageFate:
    values: dict[str, object] = {
        "message_id": "<1.alice@example.org>",
        "sender": ALICE,
        "recipient": recipient,
        "subject": "Hello",
        "origin": "user",
        "composed_at": 10.0,
        "fate": outcome,
        "ended_at": None if outcome is Fate.IN_FLIGHT else 11.234,
    }
    values.update(fields)
    return MessageFate(**values)  # type: ignore[arg-type]


FATES = [
    fate("bob@example.net", Fate.DELIVERED, hops=2),
    fate("carol@example.net", Fate.DELIVERED, hops=3, ended_at=262.0),
    fate("nobody@example.net", Fate.BOUNCED, status="5.1.1", detail=REJECTED),
    fate(
        ALICE,
        Fate.QUEUED,
        message_id="<b1.mail@example.net>",
        sender="",
        subject="Undelivered Mail Returned to Sender",
        origin="bounce",
        original="<1.alice@example.org>",
        ended_at=7510.0,
        detail=TIMEOUT,
    ),
]


def render(renderable: RenderableType, width: int) -> str:
    console = Console(file=io.StringIO(), width=width, color_system=None, force_terminal=False)
    console.print(renderable)
    return console.file.getvalue()  # type: ignore[attr-defined]


def row_of(out: str, text: str) -> str:
    return next(line for line in out.splitlines() if text in line)


def styles_of(renderable: RenderableType, text: str) -> list[Style]:
    console = Console(file=io.StringIO(), width=120, force_terminal=True, color_system="truecolor")
    return [
        seg.style for seg in console.render(renderable) if seg.text.strip() == text and seg.style
    ]


@pytest.mark.parametrize(
    ("seconds", "human"),
    [
        (0.25, "0.250 s"),
        (1.234, "1.234 s"),
        (59.9, "59.900 s"),
        (252.0, "4 m 12 s"),
        (7500.0, "2 h 05 m"),
        (90000.0, "1 d 1 h"),
        (None, "—"),
        (math.nan, "—"),
    ],
)
def test_format_duration(seconds: float | None, human: str) -> None:
    assert format_duration(seconds) == human


@pytest.mark.parametrize("width", [80, 120])
def test_table_fits_the_width(width: int) -> None:
    lines = render(SummaryView(FATES), width).splitlines()
    assert max(len(line) for line in lines) <= width
    assert lines[0].strip() == "Messages"


def test_wide_table_has_one_line_per_row() -> None:
    lines = render(SummaryView(FATES), 160).splitlines()
    assert len(lines) == 1 + 2 + len(FATES) + 1  # title, header and rule, rows, footer


def test_a_narrower_table_wraps_the_reasons_instead_of_cutting_them() -> None:
    out = render(SummaryView(FATES), 120)
    assert "…" not in out
    assert "Status/Detail" in out
    assert len(out.splitlines()) > 1 + 2 + len(FATES) + 1


@pytest.mark.parametrize("width", [80, 120])
def test_rows_show_fate_and_time(width: int) -> None:
    out = render(SummaryView(FATES), width)
    assert "delivered   1.234 s" in row_of(out, "bob@")
    assert "delivered  4 m 12 s" in row_of(out, "carol@")
    assert "bounced     1.234 s" in row_of(out, "nobody@")
    assert "queued     2 h 05 m" in row_of(out, "bounce of")


def test_wide_table_shows_everything_in_full() -> None:
    out = render(SummaryView(FATES), 120)
    header = row_of(out, "Message ")
    assert header.split() == ["Message", "From", "To", "Fate", "Time", "Hops", "Status/Detail"]
    assert "bounce of “Hello”  <>" in out
    assert "alice@example.org  carol@example.net" in out
    assert row_of(out, "bob@example.net").rstrip().endswith("1.234 s     2")
    assert "5.1.1 Recipient address rejected:" in row_of(out, "nobody@")
    wider = render(SummaryView(FATES), 160)
    assert "5.1.1 Recipient address rejected: User unknown" in wider
    assert TIMEOUT in wider
    assert "…" not in wider


def test_narrow_table_keeps_hops_and_puts_details_below() -> None:
    out = render(SummaryView(FATES), 80)
    assert row_of(out, "Message ").split()[-2:] == ["Time", "Hops"]
    assert "Status/Detail" not in out
    assert "nobody@example.net: 5.1.1 Recipient address rejected" in out
    assert "bounce of" in out


def test_footer_counts_fates() -> None:
    out = render(SummaryView(FATES), 80)
    assert out.splitlines()[-1] == "2 delivered · 1 bounced · 1 queued"


def test_in_flight_is_shown_never_hidden() -> None:
    view = SummaryView([*FATES, fate("dave@example.net", Fate.IN_FLIGHT)])
    out = render(view, 80)
    assert "in flight" in row_of(out, "dave@")
    assert "—" in row_of(out, "dave@")
    assert out.splitlines()[-1] == "2 delivered · 1 bounced · 1 queued · 1 in flight"


def test_empty_summary() -> None:
    out = render(SummaryView([]), 80)
    assert "Messages" in out
    assert out.splitlines()[-1] == "0 delivered · 0 bounced · 0 queued"


@pytest.mark.parametrize(
    ("word", "colour"),
    [("delivered", "green"), ("bounced", "red"), ("queued", "yellow"), ("in flight", "magenta")],
)
def test_fates_are_coloured(word: str, colour: str) -> None:
    view = SummaryView([*FATES, fate("dave@example.net", Fate.IN_FLIGHT)])
    styles = styles_of(view, word)
    assert styles
    assert all(style.color is not None and style.color.name == colour for style in styles)


def test_summary_of_a_trace() -> None:
    now = [0.0]
    trace = Trace(clock=lambda: now[0])
    composed = MailComposed(sender=ALICE, recipients=("bob@example.net",), subject="Hi",
                            origin="user")
    trace.emit(Kind.MAIL_COMPOSED, "alice-pc", "", composed, message="<1@x>")
    now[0] = 2.5
    delivered = MailDelivered(recipient="bob@example.net", mailbox="bob@example.net", hops=2,
                              uid="1", queue_id="7B3C")
    trace.emit(Kind.MAIL_DELIVERED, "mx", "", delivered, message="<1@x>")
    view = summary_of(trace)
    assert view.fates == tuple(message_fates(trace))
    assert "Hi" in render(view, 80)
    assert render(view, 80).splitlines()[-1] == "1 delivered · 0 bounced · 0 queued"


def test_subject_control_characters_are_made_visible() -> None:
    out = render(SummaryView([fate("bob@x", Fate.DELIVERED, subject="Hi\x1b[2J")]), 80)
    assert "Hi␛[2J" in out


def test_summary_renders_in_jupyter() -> None:
    bundle = SummaryView(FATES)._repr_mimebundle_(include=[], exclude=[])
    assert "1 bounced" in bundle["text/plain"]


@pytest.mark.parametrize(
    ("naturals", "minimums", "available", "shares", "widths"),
    [
        ([5, 10], [5, 5], 20, None, [5, 10]),
        ([20, 20], [5, 5], 20, None, [10, 10]),
        ([20, 40], [5, 5], 30, [1, 2], [10, 20]),
        ([20, 20], [15, 15], 20, None, [15, 15]),
    ],
)
def test_fit_widths(
    naturals: list[int],
    minimums: list[int],
    available: int,
    shares: list[int] | None,
    widths: list[int],
) -> None:
    assert fit_widths(naturals, minimums, available, shares) == widths


def test_a_bounce_without_its_original_shows_its_own_id() -> None:
    orphan = fate(ALICE, Fate.DELIVERED, message_id="<b2.mail@example.net>", origin="bounce")
    assert "bounce of b2.mail" in render(SummaryView([orphan]), 120)


def test_a_bounce_of_a_message_without_subject_names_the_original_id() -> None:
    original = fate("x@nowhere.example", Fate.BOUNCED, subject="", message_id="<abc@example.org>")
    dsn = fate(ALICE, Fate.DELIVERED, message_id="<b3@mx>", origin="bounce",
               original="<abc@example.org>")
    assert "bounce of (abc)" in render(SummaryView([original, dsn]), 120)


LONG_ADDRESS = "bartholomew.the-very-long-named.recipient@example.net"


@functools.cache
def unknown_user_run(recipient: str) -> tuple[MessageFate, ...]:
    """Scenario 02 (a typo in the recipient), sent to `recipient` instead."""
    data = yaml.safe_load(catalog.resolve("02-unknown-user").read_text(encoding="utf-8"))
    data["traffic"][0]["to"] = [recipient]
    simulation = Simulation(validate_scenario(data))
    simulation.run()
    return tuple(simulation.fates())


def column_text(out: str, name: str, following: str | None) -> str:
    """Everything written in one column of the table, rows joined, spaces dropped."""
    lines = out.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("Message "))
    start = lines[header].index(name)
    stop = lines[header].index(following) if following else None
    body = lines[header + 2 :]
    rows = [line for line in body if not line.startswith(("1 delivered", "bbo@", LONG_ADDRESS))]
    return "".join("".join(line[start:stop].split()) for line in rows)


@pytest.mark.parametrize("width", [80, 100, 120, 160])
@pytest.mark.parametrize("recipient", ["bbo@example.net", LONG_ADDRESS])
def test_addresses_and_reasons_are_never_cut(width: int, recipient: str) -> None:
    fates = unknown_user_run(recipient)
    out = render(SummaryView(fates), width)
    assert "…" not in out
    assert max(len(line) for line in out.splitlines()) <= width
    assert recipient in column_text(out, "To", "Fate")
    assert "alice@example.org" in column_text(out, "From", "To")
    reason = "5.1.1 Recipient address rejected: User unknown in virtual mailbox table"
    if "Status/Detail" in out:
        assert "".join(reason.split()) in column_text(out, "Status/Detail", None)
    else:
        assert f"{recipient}: {reason}" in " ".join(out.split())
    assert "Lunch on Friday?" in " ".join(out.split())


def test_a_long_address_wraps_at_its_dots() -> None:
    lines = render(SummaryView(unknown_user_run(LONG_ADDRESS)), 80).splitlines()
    start, stop = lines[1].index("To"), lines[1].index("Fate")
    pieces = [line[start:stop].strip() for line in lines[3:6]]
    assert pieces == ["bartholomew", ".the-very-long-named", ".recipient@example.net"]


# -- a big run: summarised, not listed ------------------------------------------------


def many(count: int) -> list[MessageFate]:
    """`count` copies: mostly delivered in 1..count seconds, every 50th bounced, every 70th
    queued, and one in flight."""
    fates = []
    for number in range(count):
        recipient = f"user{number}@example.net"
        if number % 50 == 7:
            fates.append(fate(recipient, Fate.BOUNCED, status="5.1.1", detail=REJECTED,
                              message_id=f"<{number}@x>"))
        elif number % 70 == 3:
            fates.append(fate(recipient, Fate.QUEUED, detail=TIMEOUT, message_id=f"<{number}@x>"))
        elif number == count // 2:
            fates.append(fate(recipient, Fate.IN_FLIGHT, message_id=f"<{number}@x>"))
        else:
            fates.append(fate(recipient, Fate.DELIVERED, hops=2, message_id=f"<{number}@x>",
                              ended_at=10.0 + number + 1))
    return fates


def test_up_to_max_rows_every_copy_is_listed() -> None:
    view = SummaryView(many(200))
    assert not view.summarised
    out = render(view, 200)
    assert "user199@example.net" in out
    assert "summarised" not in out


def test_more_copies_are_summarised_per_fate_with_times() -> None:
    fates = many(1000)
    view = SummaryView(fates)
    assert view.summarised
    out = render(view, 120)
    assert "Messages: 1,000 copies, summarised" in out
    assert row_of(out, "delivered  ").split()[:3] == ["delivered", "964", "96.4%"]
    assert row_of(out, "bounced  ").split()[:2] == ["bounced", "20"]
    assert row_of(out, "queued  ").split()[:2] == ["queued", "15"]
    assert row_of(out, "in flight  ").split()[:3] == ["in", "flight", "1"]
    assert out.splitlines()[-1] == "964 delivered · 20 bounced · 15 queued · 1 in flight"
    assert len(out.splitlines()) < 60


def test_the_summary_groups_problems_by_status_with_an_example() -> None:
    out = render(SummaryView(many(1000)), 160)
    assert "Not delivered, by status" in out
    bounced = row_of(out, "user7@")
    assert bounced.split()[:3] == ["5.1.1", "bounced", "20"]
    assert "user7@example.net: 5.1.1 Recipient address rejected" in bounced
    assert row_of(out, "user3@").split()[:3] == ["—", "queued", "15"]


def test_the_worst_copies_come_first_in_flight_then_each_problem_then_the_slowest() -> None:
    view = SummaryView(many(1000))
    worst = view.worst(6)
    assert [f.fate for f in worst] == [Fate.IN_FLIGHT, Fate.BOUNCED, Fate.QUEUED,
                                       Fate.DELIVERED, Fate.DELIVERED, Fate.DELIVERED]
    assert worst[1].recipient == "user7@example.net"  # the first of the biggest group
    assert [f.recipient for f in worst[3:]] == [f"user{n}@example.net" for n in (999, 998, 997)]
    out = render(view, 160)
    assert "The 10 copies to look at first" in out
    assert "user999@example.net" in out and "user5@example.net" not in out


def test_median_95th_percentile_and_slowest_times() -> None:
    fates = [fate(f"u{n}@x", Fate.DELIVERED, ended_at=10.0 + n) for n in range(1, 301)]
    out = render(SummaryView(fates), 120)
    assert row_of(out, "delivered  ").split() == [
        "delivered", "300", "100.0%", "2", "m", "30", "s", "4", "m", "45", "s", "5", "m", "0", "s"
    ]


def test_a_hundred_thousand_copies_render_as_a_short_summary() -> None:
    out = render(SummaryView(many(100_000)), 100)
    assert "Messages: 100,000 copies, summarised" in out
    assert len(out.splitlines()) < 80
    assert out.splitlines()[-1] == "96,570 delivered · 2,000 bounced · 1,429 queued · 1 in flight"
