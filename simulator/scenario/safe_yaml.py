"""A YAML reader for untrusted scenario files: plain data, bounded in every direction.

`read_yaml` turns text into plain Python data (dicts, lists, strings,
numbers, booleans, None) or raises a `yaml.YAMLError` whose `problem` and
`problem_mark` say what and where.  On top of PyYAML's safe loader it
refuses, before anything large is built:

- a key repeated in one mapping (YAML forbids it; PyYAML keeps the last);
- lists and mappings nested deeper than `MAX_DEPTH` (deep recursion);
- more than `MAX_VALUES` values or `MAX_TEXT` characters once every alias
  is expanded (the "billion laughs" alias bomb), and an alias inside its
  own anchor (a cycle);
- numbers longer than `MAX_NUMBER_LENGTH` characters, or too large for a
  float, and ``"\\ud800"`` escapes that leave half a surrogate pair;
- every tag but the plain ones: no ``!!python/...``, ``!!binary``, ``!!set``
  (unordered), ``!!omap``.  Dates such as ``2024-05-01`` stay text.

Parsing uses libyaml's C parser when PyYAML has it, with the same checks
in Python; if the C parser finds any fault, the pure-Python parser reads
the file again, so every message is worded the same on every machine.  A
file with a tab, a "?", a byte-order mark after its start or a comment
straight after a block scalar's "|" or ">" is read by the pure-Python
parser alone: libyaml accepts these where PyYAML's scanner refuses them
(``to: [bob?]``), and a file must get the same answer wherever it is
checked.  (The scenario fuzz test compares both parsers on its mutants.)
Only a "?" that may stand inside a flow collection counts -- one after the
file's first "[" or "{": before it, every "?" is in block context (or in a
comment or a scalar), where both scanners read it alike, as a lesson's
questions are.
"""

from __future__ import annotations

import math
import re
from typing import TYPE_CHECKING, Any

import yaml
from yaml.composer import Composer
from yaml.constructor import SafeConstructor
from yaml.events import AliasEvent, MappingStartEvent, ScalarEvent, SequenceStartEvent
from yaml.nodes import MappingNode, Node, ScalarNode
from yaml.parser import Parser
from yaml.reader import Reader
from yaml.resolver import Resolver
from yaml.scanner import Scanner

from simulator.scenario.errors import describe, shorten
from simulator.scenario.limits import MAX_DEPTH, MAX_NUMBER_LENGTH, MAX_TEXT, MAX_VALUES

_TAG = "tag:yaml.org,2002:"
_MERGE_TAG = _TAG + "merge"
_ALLOWED = "text, numbers, true/false, null, lists and mappings"
_SURROGATE = re.compile("[\ud800-\udfff]")
_SCANNERS_DIFFER = re.compile("[\t\ufeff]|[|>][-+0-9]*#")  # libyaml and PyYAML differ
_FLOW_START = re.compile(r"[\[{]")  # the first "[" or "{" may open a flow collection


class RefusedYaml(yaml.MarkedYAMLError):
    """YAML that is well formed but not accepted in a scenario (a limit, a tag, a key)."""

    def __init__(self, problem: str, mark: Any) -> None:
        super().__init__(problem=problem, problem_mark=mark)
        self.refusal = problem  # what is refused, in words


class _BoundedComposer(Composer):
    """Builds the node graph, counting depth and the size every alias expands to."""

    def __init__(self) -> None:
        super().__init__()
        self._depth = 0
        self._values = 0
        self._chars = 0
        self._open: set[str] = set()  # anchors of the lists and mappings being read
        self._sizes: dict[str, tuple[int, int]] = {}  # anchor -> (values, characters)

    if TYPE_CHECKING:  # the parser mixed in beside this composer provides it

        def peek_event(self) -> Any: ...

    def compose_node(self, parent: Node | None, index: Any) -> Node | None:
        event = self.peek_event()
        if isinstance(event, AliasEvent):
            return self._compose_alias(parent, index, event)
        collection = isinstance(event, SequenceStartEvent | MappingStartEvent)
        if collection and self._depth >= MAX_DEPTH:
            message = f"lists and mappings are nested more than {MAX_DEPTH} levels deep"
            raise RefusedYaml(message, event.start_mark)
        before = (self._values, self._chars)
        chars = 0
        if isinstance(event, ScalarEvent):
            chars = len(event.value)
            _refuse_surrogates(event)
        self._grow(1, chars, event.start_mark, None)
        anchor = event.anchor
        if anchor is not None and collection:
            self._open.add(anchor)
        self._depth += collection
        node = super().compose_node(parent, index)
        self._depth -= collection
        if anchor is not None:
            self._open.discard(anchor)
            self._sizes[anchor] = (self._values - before[0], self._chars - before[1])
        return node

    def _compose_alias(self, parent: Node | None, index: Any, event: AliasEvent) -> Node | None:
        anchor = event.anchor
        assert anchor is not None  # the parser gives every alias its anchor's name
        name = shorten(anchor)
        if anchor in self._open:
            message = f"alias *{name} is inside its own anchor &{name}: a value cannot hold itself"
            raise RefusedYaml(message, event.start_mark)
        node = super().compose_node(parent, index)  # an unknown alias is an error here
        self._grow(*self._sizes[anchor], event.start_mark, name)
        return node

    def _grow(self, values: int, chars: int, mark: Any, alias: str | None) -> None:
        """Count what was read (or what an alias repeats); refuse past the limits."""
        self._values += values
        self._chars += chars
        if self._values <= MAX_VALUES and self._chars <= MAX_TEXT:
            return
        what = f"{MAX_VALUES} values" if self._values > MAX_VALUES else f"{MAX_TEXT} characters"
        if alias is None:
            raise RefusedYaml(f"the scenario holds more than {what}", mark)
        message = f"alias *{alias} makes the scenario too big: more than {what} once expanded"
        raise RefusedYaml(message, mark)


def _refuse_surrogates(event: ScalarEvent) -> None:
    """A "\\ud83d" escape gives half a UTF-16 pair: no character, and no UTF-8 either."""
    found = _SURROGATE.search(event.value)
    if found is not None:
        message = (
            f"\\u{ord(found.group()):04x} is half of a UTF-16 surrogate pair, not a character; "
            "write the character itself, or an escape such as \\U0001F600"
        )
        raise RefusedYaml(message, event.start_mark)


class _StrictConstructor(SafeConstructor):
    """Builds plain data only, from the plain YAML tags, and rejects repeated keys."""

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[Any, Any]:
        if not isinstance(node, MappingNode):  # "!!map" on a scalar or a list
            return super().construct_mapping(node, deep=deep)  # which says so
        first_line: dict[Any, int] = {}
        for key_node, _value in node.value:
            if key_node.tag == _MERGE_TAG:
                continue  # "<<: *base" may legitimately be overridden
            key = self.construct_object(key_node, deep=deep)
            try:
                repeated = key in first_line
            except TypeError:
                continue  # unhashable key: the base class reports it
            if repeated:
                problem = f"duplicate key {describe(key)} (first on line {first_line[key]})"
                raise RefusedYaml(problem, key_node.start_mark)
            first_line[key] = key_node.start_mark.line + 1
        return super().construct_mapping(node, deep=deep)

    def construct_number(self, node: ScalarNode) -> int | float:
        """An integer or float; refuse one too long to read or too large to use."""
        text = self.construct_scalar(node)
        if len(text) > MAX_NUMBER_LENGTH:
            raise RefusedYaml(
                f"number {describe(text)} is longer than {MAX_NUMBER_LENGTH} characters",
                node.start_mark,
            )
        number: int | float
        try:
            if node.tag == _TAG + "int":
                number = super().construct_yaml_int(node)
            else:
                number = super().construct_yaml_float(node)
        except (ValueError, IndexError):  # an explicit !!int or !!float on other text
            raise RefusedYaml(f"{describe(text)} is not a number", node.start_mark) from None
        if isinstance(number, float) and math.isinf(number) and "inf" not in text.lower():
            raise RefusedYaml(f"number {describe(text)} is too large", node.start_mark)
        return number

    def construct_boolean(self, node: ScalarNode) -> bool:
        try:
            return bool(super().construct_yaml_bool(node))
        except KeyError:  # an explicit !!bool on other text
            text = self.construct_scalar(node)
            raise RefusedYaml(f"{describe(text)} is not true or false", node.start_mark) from None

    def construct_text(self, node: ScalarNode) -> str:
        """Dates, "=" and "<<" outside a merge: kept as the text they are."""
        return str(self.construct_scalar(node))

    def construct_unsupported(self, node: Node) -> Any:
        tag = shorten(str(node.tag).replace(_TAG, "!!"))
        message = f"YAML tag {tag} is not allowed: a scenario holds {_ALLOWED}"
        raise RefusedYaml(message, node.start_mark)


_StrictConstructor.yaml_constructors = {
    _TAG + "null": SafeConstructor.construct_yaml_null,
    _TAG + "bool": _StrictConstructor.construct_boolean,
    _TAG + "int": _StrictConstructor.construct_number,
    _TAG + "float": _StrictConstructor.construct_number,
    _TAG + "str": SafeConstructor.construct_yaml_str,
    _TAG + "seq": SafeConstructor.construct_yaml_seq,
    _TAG + "map": SafeConstructor.construct_yaml_map,
    _TAG + "timestamp": _StrictConstructor.construct_text,
    _TAG + "value": _StrictConstructor.construct_text,
    _MERGE_TAG: _StrictConstructor.construct_text,
    None: _StrictConstructor.construct_unsupported,
}
_StrictConstructor.yaml_multi_constructors = {}


class PureLoader(Reader, Scanner, Parser, _BoundedComposer, _StrictConstructor, Resolver):
    """The scenario loader in pure Python: the reference for every message."""

    def __init__(self, stream: str) -> None:
        Reader.__init__(self, stream)
        Scanner.__init__(self)
        Parser.__init__(self)
        _BoundedComposer.__init__(self)
        _StrictConstructor.__init__(self)
        Resolver.__init__(self)


def _fast_loader() -> type | None:
    """The same loader on libyaml's C parser, if PyYAML was built with it."""
    if not yaml.__with_libyaml__:
        return None
    from yaml._yaml import CParser

    class FastLoader(_BoundedComposer, CParser, _StrictConstructor, Resolver):
        """libyaml parses; composing (with its limits) and constructing stay in Python."""

        def __init__(self, stream: str) -> None:
            CParser.__init__(self, stream)
            _BoundedComposer.__init__(self)
            _StrictConstructor.__init__(self)
            Resolver.__init__(self)

    return FastLoader


FastLoader = _fast_loader()


def read_yaml(text: str, *, fast: bool = True) -> Any:
    """The one YAML document in `text` as plain data (None if empty), or a `yaml.YAMLError`."""
    if fast and FastLoader is not None and not _scanners_may_differ(text):
        try:
            return _load(FastLoader, text)
        except yaml.YAMLError:
            pass  # read again below, for the reference wording of the fault
    return _load(PureLoader, text)


def _scanners_may_differ(text: str) -> bool:
    """Whether libyaml and PyYAML's scanner might read `text` differently (see above).

    In flow context PyYAML ends a plain scalar at "?" and libyaml does not;
    flow context begins at a "[" or "{", so a "?" before the first of them
    is read alike.
    """
    if _SCANNERS_DIFFER.search(text):
        return True
    flow = _FLOW_START.search(text)
    return flow is not None and text.rfind("?") > flow.start()


def _load(loader_class: type, text: str) -> Any:
    loader = loader_class(text)
    try:
        return loader.get_single_data()
    finally:
        loader.dispose()
