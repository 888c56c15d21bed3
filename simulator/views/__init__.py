"""Views: rich renderables that read the trace and nothing else.

Each view takes trace records (a `Trace`, a list, or records read back
from JSONL) or the fates derived from them, and renders itself to any
rich console at any width.  Views mix in `rich.jupyter.JupyterMixin`, so
the same object shows in a terminal and in a notebook.  They never reach
into agents or the network: what is not in the trace is not shown.

- `DialogueView` / `LivePrinter`: the conversation, line by line.
- `SummaryView`: one row per message and recipient, with its fate.
- `SequenceView`: hosts as lifelines, commands and replies as arrows.
- `FollowView`: one message hop by hop, with its waiting times.
- `TopologyView`: the hosts, links, mail domains and users of a scenario.
- `EavesdropView`: what an eavesdropper on a link or host saw (`eavesdrop`).
- `QueueView`, `MailboxView`, `MessageView`: what the inspectors of a
  `Simulation` return (a queue like `mailq`, a mailbox, a message's copies).
- `RunProgress`: the progress bar of a run that prints no transcript.
- `sequence_mermaid`, `states_mermaid`, `record_console`: exports for
  slides (Mermaid, SVG, HTML, text).

Each name is imported from its module on first use, so that a command
loads only the views it shows (a run without `--view sequence` never
builds the sequence view's machinery).
"""

from typing import TYPE_CHECKING

from simulator.lazy import lazy_names

if TYPE_CHECKING:
    from simulator.views.dialogue import DialogueView, LivePrinter, RecordFilter, format_record
    from simulator.views.export import record_console, sequence_mermaid, states_mermaid
    from simulator.views.follow import FollowView
    from simulator.views.formatting import abbreviate_host, format_clock, format_duration
    from simulator.views.inspectors import MailboxView, MessageView, QueueView
    from simulator.views.progress import RunProgress
    from simulator.views.sequence import SequenceView
    from simulator.views.summary import SummaryView, summary_of
    from simulator.views.topology import TopologyView

#: The module of each name this package offers.
_HOMES = {
    "DialogueView": "dialogue",
    "LivePrinter": "dialogue",
    "RecordFilter": "dialogue",
    "format_record": "dialogue",
    "record_console": "export",
    "sequence_mermaid": "export",
    "states_mermaid": "export",
    "FollowView": "follow",
    "abbreviate_host": "formatting",
    "format_clock": "formatting",
    "format_duration": "formatting",
    "MailboxView": "inspectors",
    "MessageView": "inspectors",
    "QueueView": "inspectors",
    "RunProgress": "progress",
    "SequenceView": "sequence",
    "SummaryView": "summary",
    "summary_of": "summary",
    "TopologyView": "topology",
}

__all__ = [
    "DialogueView",
    "FollowView",
    "LivePrinter",
    "MailboxView",
    "MessageView",
    "QueueView",
    "RecordFilter",
    "RunProgress",
    "SequenceView",
    "SummaryView",
    "TopologyView",
    "abbreviate_host",
    "format_clock",
    "format_duration",
    "format_record",
    "record_console",
    "sequence_mermaid",
    "states_mermaid",
    "summary_of",
]


__getattr__ = lazy_names(__name__, _HOMES)
