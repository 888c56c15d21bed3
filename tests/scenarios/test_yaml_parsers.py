"""Which parser reads a scenario file: libyaml where it reads as PyYAML does, else pure Python.

A "?" in a flow collection ends a plain scalar for PyYAML and not for
libyaml (``to: [bob?]``); a "?" in block context -- a lesson's questions --
is read alike by both, so such a file may take libyaml's quick road.
"""

from __future__ import annotations

import pytest

from simulator.scenario.safe_yaml import FastLoader, _scanners_may_differ, read_yaml

QUESTIONS_FIRST = """\
lesson:
  questions:
    - Who asks DNS for the MX record? Why?
    - ? is a question mark at the start
    - "quoted? yes"
  # a comment? also fine
? explicit key
: its value
hosts:
  a: {address: 192.0.2.1, roles: [mua]}
"""


@pytest.mark.parametrize(
    ("text", "differ"),
    [
        (QUESTIONS_FIRST, False),
        ("to: [bob?]\n", True),
        ("a: [x]\nb: why?\n", True),  # after a "[": maybe in flow context, so pure Python
        ("a: {b: c}\nq: ?\n", True),
        ("a:\tb\n", True),
        ("a: |#\n  x\n", True),
        ("plain: text\n", False),
    ],
)
def test_only_a_question_mark_that_may_be_in_flow_context_needs_pure_python(
    text: str, differ: bool
) -> None:
    assert _scanners_may_differ(text) is differ


@pytest.mark.skipif(FastLoader is None, reason="PyYAML built without libyaml")
def test_questions_before_any_flow_collection_read_alike_by_both_parsers() -> None:
    fast = read_yaml(QUESTIONS_FIRST, fast=True)
    assert fast == read_yaml(QUESTIONS_FIRST, fast=False)
    assert fast["lesson"]["questions"][1] == {"is a question mark at the start": None}
    assert fast["explicit key"] == "its value"
