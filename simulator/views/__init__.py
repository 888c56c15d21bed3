"""Views: rich renderables that read the trace and nothing else.

Each view takes trace records (a `Trace`, a list, or records read back
from JSONL) or the fates derived from them, and renders itself to any
rich console at any width.  Views mix in `rich.jupyter.JupyterMixin`, so
the same object shows in a terminal and in a notebook.  They never reach
into agents or the network: what is not in the trace is not shown.

- `DialogueView` / `LivePrinter`: the conversation, line by line.
- `SummaryView`: one row per message and recipient, with its fate.
"""

from simulator.views.dialogue import DialogueView, LivePrinter, RecordFilter, format_record
from simulator.views.formatting import abbreviate_host, format_clock, format_duration
from simulator.views.summary import SummaryView, summary_of

__all__ = [
    "DialogueView",
    "LivePrinter",
    "RecordFilter",
    "SummaryView",
    "abbreviate_host",
    "format_clock",
    "format_duration",
    "format_record",
    "summary_of",
]
