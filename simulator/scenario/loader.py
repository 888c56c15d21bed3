"""Read a scenario file: bytes -> text -> YAML -> `Scenario`, every failure a `ScenarioError`.

Each stage turns its own failures into `Problem`s: the file system (missing
file, a directory, a file over `MAX_FILE_BYTES`), the encoding (UTF-8
only), YAML (with line and column; `safe_yaml` also refuses repeated keys,
alias bombs, deep nesting, huge numbers and unusual tags), the top-level
shape, and finally the pydantic models (with field paths).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml
from pydantic import ValidationError

from simulator.scenario.errors import Problem, ScenarioError, describe
from simulator.scenario.limits import MAX_FILE_BYTES
from simulator.scenario.safe_yaml import RefusedYaml, read_yaml

if TYPE_CHECKING:
    from simulator.scenario.models import Scenario

JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
_YAML_LINE_BREAK = re.compile("\r\n|[\n\r\x85\u2028\u2029]")  # YAML 1.1 §5.4


def _read_text(path: Path) -> str:
    """The file's text, or a ScenarioError saying why it cannot be read."""
    try:
        with path.open("rb") as stream:
            raw = stream.read(MAX_FILE_BYTES + 1)
    except FileNotFoundError:
        raise ScenarioError(path, [Problem("", "file not found")]) from None
    except IsADirectoryError:
        raise ScenarioError(path, [Problem("", "is a directory, not a scenario file")]) from None
    except OSError as err:
        raise ScenarioError(path, [Problem("", f"cannot read: {err.strerror}")]) from None
    if len(raw) > MAX_FILE_BYTES:
        message = f"file too large: a scenario file may hold at most {MAX_FILE_BYTES} bytes"
        raise ScenarioError(path, [Problem("", message)])
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = raw[: err.start].count(b"\n") + 1
        message = f"not UTF-8 text (byte 0x{raw[err.start]:02x}); save the file as UTF-8"
        raise ScenarioError(path, [Problem(f"line {line}", message)]) from None


def _parse_yaml(text: str, source: str) -> Any:
    """The YAML document in `text`, or a ScenarioError with line and column."""
    try:
        return read_yaml(text)
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        message = err.refusal if isinstance(err, RefusedYaml) else _syntax_error(err)
        raise ScenarioError(source, [Problem(where, message)]) from None
    except yaml.reader.ReaderError as err:
        raise ScenarioError(source, [_unreadable_character(text, err)]) from None
    except yaml.YAMLError as err:
        message = " ".join(str(err).split())
        raise ScenarioError(source, [Problem("", f"YAML error: {message}")]) from None


def _syntax_error(err: yaml.MarkedYAMLError) -> str:
    """PyYAML's context ("while scanning ...", with its line) and problem, as one sentence."""
    parts = []
    if err.context:
        line = f" (line {err.context_mark.line + 1})" if err.context_mark else ""
        parts.append(f"{err.context}{line}")
    if err.problem:
        parts.append(err.problem)
    return "YAML syntax error: " + (", ".join(parts) or "invalid YAML")


def _unreadable_character(text: str, err: yaml.reader.ReaderError) -> Problem:
    """Where a character YAML does not allow in a file is, and which it is."""
    before = text[: err.position]
    breaks = list(_YAML_LINE_BREAK.finditer(before))
    column = len(before) - (breaks[-1].end() if breaks else 0) + 1
    code = err.character if isinstance(err.character, int) else 0
    message = f"YAML syntax error: invisible character U+{code:04X} is not allowed; remove it"
    return Problem(f"line {len(breaks) + 1}, column {column}", message)


def read_scenario_data(path: str | Path) -> Any:
    """The plain data of the YAML file at `path` (not yet validated), or a ScenarioError."""
    path = Path(path)
    return _parse_yaml(_read_text(path), str(path))


def load_scenario(path: str | Path) -> Scenario:
    """Read and check the scenario file at `path`; raise `ScenarioError` if it is wrong."""
    data = read_scenario_data(path)
    if data is None:
        empty = "the file is empty; a scenario needs at least 'name' and 'hosts'"
        raise ScenarioError(path, [Problem("", empty)])
    return validate_scenario(data, source=str(path))


def validate_scenario(data: dict[str, Any], source: str = "<python>") -> Scenario:
    """Check scenario `data` (as read from YAML); raise `ScenarioError` naming `source`."""
    from simulator.scenario.models import Scenario  # the models, built when first needed

    if not isinstance(data, dict):
        message = (
            "expected the scenario's fields (name, hosts, ...) as a mapping at the top "
            f"level, got {describe(data)}"
        )
        raise ScenarioError(source, [Problem("", message)])
    try:
        return Scenario.model_validate(data)
    except ValidationError as err:
        from simulator.scenario.messages import problems_from  # only a file with mistakes

        raise ScenarioError(source, problems_from(err, data, Scenario)) from None


def scenario_json_schema() -> dict[str, Any]:
    """JSON Schema of a scenario file, with field descriptions, for editors."""
    from simulator.scenario.models import Scenario

    schema = Scenario.model_json_schema(by_alias=True, mode="validation")
    return {"$schema": JSON_SCHEMA_DIALECT, **schema}
