"""Long message bodies are folded; short runs and other records are kept."""

import io

from rich.console import Console

from simulator.trace import Kind, Trace
from simulator.trace_data import Note, ProtocolLine
from simulator.views import DialogueView, LivePrinter
from simulator.views.collapse import fold, folded


def body_run(trace: Trace, headers: int, body: int, session: str = "s1") -> None:
    """One client run of DATA content: headers, a blank line, body, final dot."""
    texts = [f"X-Header-{n}: v" for n in range(headers)] + [""]
    texts += [f"body line {n}" for n in range(body)] + ["."]
    for text in texts:
        trace.emit(Kind.LINE, "alice-pc", text, ProtocolLine(role="client", port=25),
                   peer="mx", protocol="smtp", session=session)


def test_a_long_body_keeps_headers_blank_line_marker_and_dot() -> None:
    trace = Trace(clock=lambda: 1.0)
    body_run(trace, headers=3, body=40)
    shown = [r.text for r in fold(list(trace))]
    assert shown[:4] == ["X-Header-0: v", "X-Header-1: v", "X-Header-2: v", ""]
    assert "40 more lines not shown" in shown[4]
    assert shown[-1] == "."
    assert len(shown) == 6


def test_short_runs_and_small_bodies_stay_whole() -> None:
    trace = Trace(clock=lambda: 1.0)
    body_run(trace, headers=3, body=22)  # 27 lines: a short message stays whole
    assert len(fold(list(trace))) == len(trace)
    small = Trace(clock=lambda: 1.0)
    body_run(small, headers=26, body=3)  # 31 lines, 3 to leave out: not worth it
    assert len(fold(list(small))) == len(small)


def test_runs_split_by_session_and_time() -> None:
    clock = [1.0]
    trace = Trace(clock=lambda: clock[0])
    body_run(trace, headers=1, body=30, session="s1")
    clock[0] = 2.0
    body_run(trace, headers=1, body=30, session="s1")
    trace.emit(Kind.NOTE, "mx", "done", Note())
    shown = list(folded(trace))
    assert [r.text for r in shown].count(".") == 2
    assert sum(1 for r in shown if r.data.get("elided") == 30) == 2
    assert shown[-1].kind is Kind.NOTE


def test_dialogue_view_folds_unless_full() -> None:
    trace = Trace(clock=lambda: 1.0)
    body_run(trace, headers=2, body=40)
    out = io.StringIO()
    Console(file=out, width=100, color_system=None).print(DialogueView(trace))
    assert "40 more lines not shown" in out.getvalue()
    assert "body line 39" not in out.getvalue()
    assert len(DialogueView(trace, full=True).records) == len(trace)


def test_live_printer_folds_a_run_once_it_ends() -> None:
    out = io.StringIO()
    printer = LivePrinter(Console(file=out, width=100, color_system=None))
    clock = [1.0]
    trace = Trace(clock=lambda: clock[0])
    trace.subscribe(printer)
    body_run(trace, headers=2, body=40)
    assert out.getvalue() == ""  # held back: the run may go on
    clock[0] = 2.0  # the next instant: the run, and its instant, are over
    trace.emit(Kind.NOTE, "mx", "next", Note())
    text = out.getvalue()
    assert "40 more lines not shown" in text and "body line 0" not in text
    assert "next" not in text  # the next instant is held until it ends in turn
    printer.flush()
    assert out.getvalue().rstrip().endswith("next")
