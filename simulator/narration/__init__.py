"""Narration: each trace record explained in plain words, for a student.

Theory of operation.  A `Narrator` reads a trace in order, one record at a
time, and answers with a sentence or None (body lines, closes and notes
need none).  Protocol lines are understood the way the programs themselves
understand them: a client's line by its command verb, a server's by its
reply code, class and RFC 3463 enhanced code (never by its free text), each
matched to the command it answers.  What one record needs from earlier ones
-- the MX answer, the session's state, a queue id's envelope sender --
lives in a small `NarrationContext`.  Every sentence comes from the tables
in `words` (protocol lines) and `record_words` (everything else);
`narration_text` puts one on screen.
"""

from simulator.narration.context import NarrationContext
from simulator.narration.narrator import Narrator, narrate
from simulator.narration.render import NARRATION_STYLE, narration_text

__all__ = [
    "NARRATION_STYLE",
    "NarrationContext",
    "Narrator",
    "narrate",
    "narration_text",
]
