"""Read a scenario file: bytes -> text -> YAML -> `Scenario`, every failure a `ScenarioError`.

Each stage turns its own failures into `Problem`s: the file system (missing
file, a directory), the encoding (UTF-8 only), YAML syntax (with line and
column; a key repeated in one mapping is an error, not a silent overwrite),
the top-level shape, and finally the pydantic models (with field paths).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from simulator.scenario.errors import Problem, ScenarioError, describe
from simulator.scenario.messages import problems_from
from simulator.scenario.models import Scenario

JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
_MERGE_TAG = "tag:yaml.org,2002:merge"


class _UniqueKeyLoader(yaml.SafeLoader):
    """`yaml.SafeLoader` that rejects a key repeated in one mapping."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
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
                raise yaml.constructor.ConstructorError(None, None, problem, key_node.start_mark)
            first_line[key] = key_node.start_mark.line + 1
        return super().construct_mapping(node, deep=deep)


def _read_text(path: Path) -> str:
    """The file's text, or a ScenarioError saying why it cannot be read."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ScenarioError(path, [Problem("", "file not found")]) from None
    except IsADirectoryError:
        raise ScenarioError(path, [Problem("", "is a directory, not a scenario file")]) from None
    except OSError as err:
        raise ScenarioError(path, [Problem("", f"cannot read: {err.strerror}")]) from None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = raw[: err.start].count(b"\n") + 1
        message = f"not UTF-8 text (byte 0x{raw[err.start]:02x}); save the file as UTF-8"
        raise ScenarioError(path, [Problem(f"line {line}", message)]) from None


def _parse_yaml(text: str, source: str) -> Any:
    """The YAML document in `text`, or a ScenarioError with line and column."""
    try:
        return yaml.load(text, Loader=_UniqueKeyLoader)
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        what = err.problem or err.context or "invalid YAML"
        raise ScenarioError(source, [Problem(where, f"YAML syntax error: {what}")]) from None
    except yaml.YAMLError as err:
        raise ScenarioError(source, [Problem("", f"YAML error: {err}")]) from None


def load_scenario(path: str | Path) -> Scenario:
    """Read and check the scenario file at `path`; raise `ScenarioError` if it is wrong."""
    path = Path(path)
    data = _parse_yaml(_read_text(path), str(path))
    if data is None:
        empty = "the file is empty; a scenario needs at least 'name' and 'hosts'"
        raise ScenarioError(path, [Problem("", empty)])
    return validate_scenario(data, source=str(path))


def validate_scenario(data: dict[str, Any], source: str = "<python>") -> Scenario:
    """Check scenario `data` (as read from YAML); raise `ScenarioError` naming `source`."""
    if not isinstance(data, dict):
        message = (
            "expected the scenario's fields (name, hosts, ...) as a mapping at the top "
            f"level, got {describe(data)}"
        )
        raise ScenarioError(source, [Problem("", message)])
    try:
        return Scenario.model_validate(data)
    except ValidationError as err:
        raise ScenarioError(source, problems_from(err, data, Scenario)) from None


def scenario_json_schema() -> dict[str, Any]:
    """JSON Schema of a scenario file, with field descriptions, for editors."""
    schema = Scenario.model_json_schema(by_alias=True, mode="validation")
    return {"$schema": JSON_SCHEMA_DIALECT, **schema}
