"""Lessons in scenario files: the model, the bundled lessons, LessonView and lesson_title."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
import yaml
from rich.console import Console

from simulator import catalog
from simulator.lessons import LessonView, lesson_title
from simulator.scenario import ScenarioError, load_scenario, scenario_json_schema
from simulator.scenario import validate_scenario as validate
from simulator.scenario.models import Lesson, Scenario
from simulator.simulation import Simulation
from simulator.views.describe import describe

BUNDLED = catalog.bundled()


def bundled_data(name: str = "02-unknown-user") -> dict[str, Any]:
    return yaml.safe_load(catalog.resolve(name).read_text(encoding="utf-8"))


def with_lesson(lesson: Any) -> dict[str, Any]:
    data = bundled_data()
    data["lesson"] = lesson
    return data


def problems(lesson: Any) -> str:
    with pytest.raises(ScenarioError) as caught:
        validate(with_lesson(lesson), source="my.yaml")
    return str(caught.value)


def render(view: LessonView, width: int) -> str:
    console = Console(file=io.StringIO(), width=width, color_system=None)
    console.print(view)
    return console.file.getvalue()  # type: ignore[attr-defined]


# -- the model -----------------------------------------------------------------------------


def test_a_lesson_needs_only_a_title_and_what_it_shows() -> None:
    scenario = validate(with_lesson({"title": "Bounces", "shows": "A bounce comes back."}))
    assert scenario.lesson == Lesson(title="Bounces", shows="A bounce comes back.")
    assert scenario.lesson.questions == [] and scenario.lesson.highlight == []


def test_the_lesson_is_optional() -> None:
    data = bundled_data()
    del data["lesson"]
    assert validate(data).lesson is None


def test_an_unknown_lesson_key_is_named_with_the_expected_ones() -> None:
    said = problems({"title": "T", "shows": "S", "questoins": ["Why?"]})
    assert "my.yaml: lesson.questoins: unknown field 'questoins'" in said
    assert "did you mean 'questions'?" in said


@pytest.mark.parametrize(
    ("lesson", "where", "what"),
    [
        ({"shows": "S"}, "lesson.title", "missing"),
        ({"title": "two\nlines", "shows": "S"}, "lesson.title", "one line"),
        ({"title": "T" * 101, "shows": "S"}, "lesson.title", "100"),
        ({"title": "T", "shows": ""}, "lesson.shows", "empty"),
        ({"title": "T", "shows": "S" * 2001}, "lesson.shows", "2000"),
        ({"title": "T", "shows": "S", "questions": [""]}, "lesson.questions[0]", "empty"),
        ({"title": "T", "shows": "S", "questions": ["Why?"] * 21}, "lesson.questions", "20"),
        ({"title": "T", "shows": "S", "look_for": "one string"}, "lesson.look_for", "list"),
        ({"title": "T", "shows": "S", "highlight": ["550", "   "]}, "lesson.highlight",
         "pattern 2 must contain more than spaces"),
        ({"title": "T", "shows": "S", "highlight": ["a\tb"]}, "lesson.highlight[0]",
         "control character"),
        ("just text", "lesson", "mapping"),
    ],
)
def test_lesson_mistakes_name_the_field(lesson: Any, where: str, what: str) -> None:
    said = problems(lesson)
    assert f"my.yaml: {where}:" in said and what in said


def test_a_lesson_built_in_python_is_the_same_as_from_yaml() -> None:
    from_yaml = load_scenario(catalog.resolve("02-unknown-user"))
    assert from_yaml.lesson is not None
    rebuilt = Scenario.model_validate({**from_yaml.model_dump(by_alias=True),
                                       "lesson": Lesson(**from_yaml.lesson.model_dump())})
    assert rebuilt == from_yaml


def test_the_json_schema_describes_the_lesson() -> None:
    schema = scenario_json_schema()
    assert "lesson" in schema["properties"]
    lesson = schema["$defs"]["Lesson"]
    assert lesson["additionalProperties"] is False
    assert set(lesson["required"]) == {"title", "shows"}
    for name in ("title", "shows", "look_for", "questions", "highlight"):
        assert lesson["properties"][name]["description"]


# -- the bundled lessons ---------------------------------------------------------------------


@pytest.mark.parametrize("path", BUNDLED, ids=lambda p: p.stem)
def test_every_bundled_scenario_has_a_full_lesson(path: Path) -> None:
    lesson = load_scenario(path).lesson
    assert lesson is not None
    assert lesson.title and lesson.shows.strip()
    assert len(lesson.look_for) >= 3 and len(lesson.questions) >= 5 and lesson.highlight
    assert all(question.rstrip().endswith("?") for question in lesson.questions)


@pytest.mark.parametrize("path", BUNDLED, ids=lambda p: p.stem)
def test_every_highlight_pattern_occurs_in_the_transcript(path: Path) -> None:
    scenario = load_scenario(path)
    assert scenario.lesson is not None
    simulation = Simulation(scenario)
    simulation.run()
    simulation.finish()
    shown = [describe(record).casefold() for record in simulation.trace]
    for pattern in scenario.lesson.highlight:
        assert any(pattern.casefold() in text for text in shown), pattern


@pytest.mark.parametrize("path", BUNDLED, ids=lambda p: p.stem)
def test_bundled_files_open_with_a_short_comment_not_the_whole_lesson(path: Path) -> None:
    head = path.read_text(encoding="utf-8").split("\nname:")[0]
    assert head.startswith("# ") and len(head.splitlines()) <= 5


# -- LessonView ------------------------------------------------------------------------------------


@pytest.mark.parametrize("width", [80, 120])
@pytest.mark.parametrize("path", BUNDLED, ids=lambda p: p.stem)
def test_lesson_view_shows_everything_within_the_width(path: Path, width: int) -> None:
    scenario = load_scenario(path)
    assert scenario.lesson is not None
    out = render(LessonView(scenario, path), width)
    flat = " ".join(out.split())
    assert all(len(line) <= width for line in out.splitlines())
    assert scenario.lesson.title in out
    for heading in ("What it shows", "What to look for", "Questions",
                    "Highlighted in the transcript"):
        assert heading in out
    first_question = " ".join(scenario.lesson.questions[0].split())
    assert first_question[:40] in flat
    assert path.name in out and f"mailsim run {path.stem}" in flat
    assert all(pattern in out for pattern in scenario.lesson.highlight)


def test_brief_lesson_view_keeps_what_to_look_for_in_a_few_lines() -> None:
    path = catalog.resolve("02-unknown-user")
    scenario = load_scenario(path)
    out = render(LessonView(scenario, path, brief=True), 80)
    assert "What to look for" in out and "Highlighted" in out
    assert "What it shows" not in out and "Questions" not in out
    assert "mailsim show 02-unknown-user" in out
    assert scenario.lesson is not None
    assert len(out.splitlines()) < len(render(LessonView(scenario, path), 80).splitlines()) / 2


def test_lesson_view_without_a_lesson_shows_the_description() -> None:
    data = bundled_data()
    del data["lesson"]
    out = render(LessonView(validate(data)), 80)
    assert "Unknown user" in out and "550 5.1.1 at RCPT" in out


def test_lesson_text_is_never_read_as_markup() -> None:
    scenario = validate(with_lesson({"title": "[bold]T[/bold]", "shows": "[red]S[/red]"}))
    out = render(LessonView(scenario), 80)
    assert "[bold]T[/bold]" in out and "[red]S[/red]" in out


def test_lesson_view_renders_in_jupyter() -> None:
    path = catalog.resolve("01-first-email")
    assert hasattr(LessonView(load_scenario(path), path), "_repr_mimebundle_")


# -- lesson_title -------------------------------------------------------------------------------


@pytest.mark.parametrize("path", BUNDLED, ids=lambda p: p.stem)
def test_lesson_title_is_the_lessons_title(path: Path) -> None:
    lesson = load_scenario(path).lesson
    assert lesson is not None and lesson_title(path) == lesson.title


@pytest.mark.parametrize("path", BUNDLED, ids=lambda p: p.stem)
def test_bundled_titles_fit_one_list_line_at_80_columns(path: Path) -> None:
    assert len(f"{path.stem:<24} {lesson_title(path)}") <= 80


def test_lesson_title_falls_back_to_the_scenario_name(tmp_path: Path) -> None:
    data = bundled_data()
    del data["lesson"]
    path = tmp_path / "no-lesson.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    assert lesson_title(path) == "Unknown user"


def test_lesson_title_of_a_broken_file_does_not_raise(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("name: [unclosed\n", encoding="utf-8")
    assert lesson_title(path)
    assert lesson_title(tmp_path / "missing.yaml")
