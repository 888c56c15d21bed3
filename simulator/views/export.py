"""Exports for slides and documents: Mermaid diagrams, and any view as SVG, HTML or text.

- `sequence_mermaid` writes the steps a `SequenceView` draws (see
  `views.steps`) as a Mermaid `sequenceDiagram`: one participant per host,
  `->>` for a command, `-->>` for a reply, `-x` for a refused connection,
  and `Note over` a host for queue, relay and delivery records.
- `states_mermaid` writes a protocol's `TRANSITIONS` table as a
  `stateDiagram-v2`: one edge per (state, next state), labelled with the
  commands that lead there.
- `record_console` renders any view on a recording console of a given
  width and returns it as SVG, HTML or plain text.

Mermaid's grammars reserve a few characters inside labels: `#` (entity
codes and comments), `;` (a statement separator), `%%` (comments), and in
state diagrams `:` (which ends a transition label); `<` and `>` would be
read as HTML.  `mermaid_text` writes them as Mermaid entity codes
(`#59;`, `#lt;`...), which Mermaid turns back into the characters.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable, Mapping
from enum import Enum

from rich.console import Console, RenderableType

from simulator.trace import TraceRecord
from simulator.views.formatting import format_clock, visible
from simulator.views.states import Input, State, Transitions, failed_moves
from simulator.views.steps import Step, StepKind, drawable, lifelines, sequence_steps

#: The formats `record_console` writes.
EXPORT_FORMATS = ("svg", "html", "txt")

INDENT = "    "
_ARROWS: Mapping[StepKind, str] = {
    StepKind.COMMAND: "->>",
    StepKind.REPLY: "-->>",
    StepKind.CONNECT: "->>",
    StepKind.REFUSED: "-x",
    StepKind.QUERY: "->>",
    StepKind.ANSWER: "-->>",
}

# Characters a label may not hold as they are, and their entity codes.
_ENTITIES = {"#": "#35;", ";": "#59;", "%": "#37;", "<": "#lt;", ">": "#gt;", "&": "#amp;",
             '"': "#quot;", ":": "#58;"}
_RESERVED = re.compile(r'[#;%<>&"]')
_RESERVED_OR_COLON = re.compile(r'[#;%<>&":]')
# Words that start a statement in a state diagram, so they cannot be state ids.
_STATE_KEYWORDS = frozenset({"state", "note", "class", "classdef", "default", "direction",
                             "scale", "hide", "end"})


def mermaid_text(text: str, *, colon: bool = False) -> str:
    """`text` as one line a Mermaid label can hold; `colon` codes ":" too.

    In a sequence diagram a message runs from its first ":" to the end of
    the line, so later colons are text; a state diagram's label ends at
    the next ":" and needs it coded.
    """
    line = visible(" ".join(text.split()))
    reserved = _RESERVED_OR_COLON if colon else _RESERVED
    return reserved.sub(lambda match: _ENTITIES[match.group(0)], line)


def participant_id(host: str, taken: Iterable[str] = ()) -> str:
    """A Mermaid participant id for a host name: letters, digits and "_" only.

    Ids start with "H_", so no host name can collide with a keyword of
    the grammar (`loop`, `alt`, `end`, `note`...).
    """
    base = "H_" + re.sub(r"\W", "_", host, flags=re.ASCII)
    taken = set(taken)
    name, number = base, 2
    while name in taken:
        name, number = f"{base}_{number}", number + 1
    return name


def sequence_mermaid(
    records: Iterable[TraceRecord],
    hosts: Iterable[str] | None = None,
    *,
    protocols: Iterable[str] | None = None,
    host: str | None = None,
    message: str | None = None,
    session: str | None = None,
    full: bool = False,
    compact: bool = True,
    times: bool = True,
) -> str:
    """A Mermaid `sequenceDiagram` of the records: the steps `SequenceView` draws.

    The arguments are `SequenceView`'s; `times` puts the simulated time at
    the start of every label.
    """
    steps = sequence_steps(records, protocols=protocols, host=host, message=message,
                           session=session, full=full, compact=compact)
    columns = lifelines(steps, hosts)
    ids: dict[str, str] = {}
    for name in columns:
        ids[name] = participant_id(name, ids.values())
    lines = ["sequenceDiagram"]
    lines += [f"{INDENT}participant {ids[name]} as {mermaid_text(name)}" for name in columns]
    for step in drawable(steps, columns):
        label = mermaid_text(f"{format_clock(step.time)} {step.label}" if times else step.label)
        lines.append(INDENT + _statement(step, label, ids, columns))
    return "\n".join(lines) + "\n"


def _statement(step: Step, label: str, ids: Mapping[str, str], columns: list[str]) -> str:
    """One arrow or note of a sequence diagram."""
    if step.target is not None:
        return f"{ids[step.source]}{_ARROWS[step.kind]}{ids[step.target]}: {label}"
    where = ids.get(step.source) or f"{ids[columns[0]]},{ids[columns[-1]]}"
    return f"Note over {where}: {label}"


def states_mermaid(title: str, transitions: Transitions[State, Input],
                   after_failure: Mapping[Input, State] | None = None) -> str:
    """A protocol's transition table as a Mermaid `stateDiagram-v2`.

    `title` becomes the diagram's accessible title (`accTitle`).  The
    first state of the table is the initial one.  Each (state, next
    state) pair is one edge labelled with its commands.  A state no command
    leaves is final if some command leads into it; otherwise it gets a note
    saying that no command leaves it (the server moves on by itself).
    `after_failure` adds the edges of inputs that move on even when they
    fail, labelled "failed ...".
    """
    ids = {state: _state_id(state) for state in transitions}
    targets = {target for moves in transitions.values() for target in moves.values()}
    for target in targets:
        ids.setdefault(target, _state_id(target))
    lines = ["stateDiagram-v2", f"{INDENT}accTitle: {mermaid_text(title)}"]
    if transitions:
        lines.append(f"{INDENT}[*] --> {ids[next(iter(transitions))]}")
    for state, moves in transitions.items():
        for target, commands in _by_target(moves).items():
            label = mermaid_text(", ".join(commands), colon=True)
            lines.append(f"{INDENT}{ids[state]} --> {ids[target]} : {label}")
        for target, commands in failed_moves(state, moves, after_failure or {}).items():
            label = mermaid_text("failed " + ", ".join(commands), colon=True)
            lines.append(f"{INDENT}{ids[state]} --> {ids[target]} : {label}")
    for state, moves in transitions.items():
        if moves:
            continue
        if state in targets:
            lines.append(f"{INDENT}{ids[state]} --> [*]")
        else:
            lines.append(f"{INDENT}note right of {ids[state]} : no command leaves this state")
    return "\n".join(lines) + "\n"


def _by_target(moves: Mapping[Input, State]) -> dict[State, list[str]]:
    """The commands of one state, grouped by the state they lead to, in table order."""
    grouped: dict[State, list[str]] = {}
    for command, target in moves.items():
        grouped.setdefault(target, []).append(str(command.value))
    return grouped


def _state_id(state: Enum) -> str:
    """The state's name as a Mermaid state id (letters, digits, "_")."""
    name = re.sub(r"\W", "_", state.name, flags=re.ASCII)
    return f"S_{name}" if name.lower() in _STATE_KEYWORDS else name


def record_console(
    renderable: RenderableType, width: int, fmt: str, *, title: str = "mailsim"
) -> str:
    """`renderable` rendered `width` cells wide, as "svg", "html" or "txt".

    SVG and HTML keep the colours (HTML with inline styles, one file);
    text has none.  `title` is the SVG window's title.
    """
    if fmt not in EXPORT_FORMATS:
        expected = ", ".join(EXPORT_FORMATS)
        raise ValueError(f"unknown export format {fmt!r}: expected one of {expected}")
    console = Console(record=True, width=width, file=io.StringIO(), color_system="truecolor",
                      force_terminal=True, force_jupyter=False, legacy_windows=False)
    console.print(renderable)
    if fmt == "svg":
        return console.export_svg(title=title)
    if fmt == "html":
        return console.export_html(inline_styles=True)
    return "".join(line.rstrip() + "\n" for line in console.export_text().splitlines())
