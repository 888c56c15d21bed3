"""Pydantic's validation errors rewritten as `Problem`s a student understands.

Two jobs.  The path: pydantic's ``loc`` also holds union tags (``"MX"``) and
``"[key]"`` markers; walking the user's own data alongside it keeps only the
steps that exist in the file.  The words: each pydantic error type maps to a
plain sentence ("missing required field", "expected an integer, got "abc"");
our own validators already raise readable messages, which pass unchanged.
Only the first `MAX_PROBLEMS_SHOWN` errors are rewritten; the rest are
counted, so a file broken in every line is answered as fast as one typo.
"""

from __future__ import annotations

import difflib
import types
from collections.abc import Callable
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from simulator.scenario.errors import (
    MAX_PROBLEMS_SHOWN,
    CrossReferenceError,
    Problem,
    describe,
    format_location,
    more_problems,
    shorten,
)

_KEY_MARKER = "[key]"
_PREFIXES = ("Value error, ", "Assertion failed, ")
_INPUT_SHOULD_BE = "Input should be "


def problems_from(error: ValidationError, data: Any, root: type[BaseModel]) -> list[Problem]:
    """Turn every error in `error` (validating `data` as `root`) into Problems."""
    problems: list[Problem] = []
    details = error.errors(include_url=False)
    for detail in details[:MAX_PROBLEMS_SHOWN]:
        cause = detail.get("ctx", {}).get("error")
        if isinstance(cause, CrossReferenceError):
            problems += [Problem(format_location(loc), text) for loc, text in cause.problems]
        else:
            location = format_location(_file_path(detail["loc"], data))
            problems.append(Problem(location, _message(detail, root)))
    if len(details) > MAX_PROBLEMS_SHOWN:
        problems.append(more_problems(len(details) - MAX_PROBLEMS_SHOWN))
    return problems


def _file_path(loc: tuple[Any, ...], data: Any) -> list[str | int]:
    """Keep the steps of `loc` that exist in `data` (plus a missing final key)."""
    path: list[str | int] = []
    node = data
    for position, step in enumerate(loc):
        last = position == len(loc) - 1
        if step == _KEY_MARKER:
            continue
        if isinstance(node, dict):
            if step in node or last:
                path.append(str(step))
                node = node.get(step)
            continue  # a union tag, not a key of the file
        if isinstance(node, list) and isinstance(step, int) and step < len(node):
            path.append(step)
            node = node[step]
            continue
        path.append(step)
        node = None
    return path


def _message(detail: ErrorDetails, root: type[BaseModel]) -> str:
    """Plain words for one pydantic error."""
    rewrite = _REWRITES.get(detail["type"])
    if rewrite is not None:
        return rewrite(detail, root)
    message = detail["msg"]
    for prefix in _PREFIXES:
        message = message.removeprefix(prefix)
    if message.startswith(_INPUT_SHOULD_BE):  # any other pydantic check, in our words
        return f"expected {message.removeprefix(_INPUT_SHOULD_BE)}, got {_got(detail)}"
    return message


def _got(detail: ErrorDetails) -> str:
    return describe(detail.get("input"))


def _ctx(detail: ErrorDetails, key: str) -> Any:
    return detail.get("ctx", {}).get(key)


def _unknown_field(detail: ErrorDetails, root: type[BaseModel]) -> str:
    name = shorten(str(detail["loc"][-1]))
    model = _model_at(root, detail["loc"][:-1])
    if model is None:
        return f"unknown field '{name}'"
    allowed = [field.alias or key for key, field in model.model_fields.items()]
    close = difflib.get_close_matches(name, allowed, n=1)
    hint = f"did you mean '{close[0]}'? " if close else ""
    return f"unknown field '{name}' ({hint}expected one of: {', '.join(allowed)})"


def _missing_tag(detail: ErrorDetails, root: type[BaseModel]) -> str:
    union = _strip(_type_at(root, detail["loc"]))
    tags = [_tag(member) for member in get_args(union)]
    shown = ", ".join(str(tag) for tag in tags if tag is not None)
    return f"missing field 'type' (expected one of: {shown})"


def _bad_tag(detail: ErrorDetails, _root: type[BaseModel]) -> str:
    expected = str(_ctx(detail, "expected_tags")).replace("'", "")
    return f"unknown type {describe(_ctx(detail, 'tag'))} (expected one of: {expected})"


def _expected(what: str) -> Callable[[ErrorDetails, type[BaseModel]], str]:
    """A rewrite saying "expected <what>, got <the input>"."""
    return lambda detail, _root: f"expected {what}, got {_got(detail)}"


def _bound(words: str, key: str) -> Callable[[ErrorDetails, type[BaseModel]], str]:
    """A rewrite saying "must be <words> <limit>, got <the input>"."""
    return lambda detail, _root: f"must be {words} {_ctx(detail, key)}, got {_got(detail)}"


def _choice(detail: ErrorDetails, _root: type[BaseModel]) -> str:
    expected = str(_ctx(detail, "expected")).replace("'", "")
    return f"expected {expected}, got {_got(detail)}"


def _too_short(detail: ErrorDetails, _root: type[BaseModel]) -> str:
    least = _ctx(detail, "min_length")
    if least == 1:
        return "must not be empty"
    return f"must have at least {least} items"


def _too_long(detail: ErrorDetails, _root: type[BaseModel]) -> str:
    actual = _ctx(detail, "actual_length")
    if actual is None and isinstance(detail.get("input"), dict | list):
        actual = len(detail["input"])
    got = f", got {actual}" if actual is not None else ""
    return f"must have at most {_ctx(detail, 'max_length')} entries{got}"


def _text_too_long(detail: ErrorDetails, _root: type[BaseModel]) -> str:
    got = detail.get("input")
    length = f", got {len(got)}" if isinstance(got, str) else ""
    return f"must be at most {_ctx(detail, 'max_length')} characters long{length}"


_REWRITES: dict[str, Callable[[ErrorDetails, type[BaseModel]], str]] = {
    "missing": lambda _detail, _root: "missing required field",
    "extra_forbidden": _unknown_field,
    "union_tag_not_found": _missing_tag,
    "union_tag_invalid": _bad_tag,
    "string_type": _expected("text"),
    "int_type": _expected("an integer"),
    "int_parsing": _expected("an integer"),
    "int_from_float": _expected("a whole number"),
    "float_type": _expected("a number"),
    "float_parsing": _expected("a number"),
    "bool_type": _expected("true or false"),
    "bool_parsing": _expected("true or false"),
    "list_type": _expected("a list"),
    "dict_type": _expected("a mapping (key: value lines)"),
    "model_type": _expected("a mapping (key: value lines)"),
    "model_attributes_type": _expected("a mapping (key: value lines)"),
    "greater_than": _bound("more than", "gt"),
    "greater_than_equal": _bound("at least", "ge"),
    "less_than": _bound("less than", "lt"),
    "less_than_equal": _bound("at most", "le"),
    "enum": _choice,
    "literal_error": _choice,
    "string_too_short": _too_short,
    "too_short": _too_short,
    "string_too_long": _text_too_long,
    "too_long": _too_long,
}


def _model_at(root: type[BaseModel], loc: tuple[Any, ...]) -> type[BaseModel] | None:
    """The model class that validates the value at `loc`, if it is a model."""
    found = _strip(_type_at(root, loc))
    return found if isinstance(found, type) and issubclass(found, BaseModel) else None


def _type_at(root: Any, loc: tuple[Any, ...]) -> Any:
    """Follow `loc` through type annotations, from `root` down."""
    current = root
    for step in loc:
        if current is None:
            return None
        current = _step(_strip(current), step)
    return current


def _step(current: Any, step: Any) -> Any:
    """The type one path step below `current` (a model, list, dict or tagged union)."""
    if isinstance(current, type) and issubclass(current, BaseModel):
        fields = current.model_fields.items()
        return next((f.annotation for key, f in fields if step in (key, f.alias)), None)
    origin = get_origin(current)
    if origin is list:
        return get_args(current)[0]
    if origin is dict:
        return None if step == _KEY_MARKER else get_args(current)[1]
    if origin in (Union, types.UnionType):
        return next((m for m in get_args(current) if _tag(m) == step), None)
    return None


def _strip(current: Any) -> Any:
    """Remove `Annotated` wrappers and an optional ``| None``."""
    while get_origin(current) is Annotated:
        current = get_args(current)[0]
    if get_origin(current) in (Union, types.UnionType):
        members = [m for m in get_args(current) if m is not type(None)]
        if len(members) == 1:
            return _strip(members[0])
    return current


def _tag(member: Any) -> Any:
    """The literal `type` tag of a tagged-union member model, if it has one."""
    if not (isinstance(member, type) and issubclass(member, BaseModel)):
        return None
    field = member.model_fields.get("type")
    if field is None or get_origin(field.annotation) is not Literal:
        return None
    return get_args(field.annotation)[0]
