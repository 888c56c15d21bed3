"""The bundled scenarios: where they live and how to name them.

Scenario files ship in the project's `scenarios/` folder (and, in a
non-editable install, under `<prefix>/share/mailsim/scenarios`).  Users can
name one by path or by its file name without `.yaml`, e.g.
`02-unknown-user`.
"""

from __future__ import annotations

import sys
from pathlib import Path

import yaml

DEFAULT_SCENARIO = "01-first-email"

_SEARCH_PATH = (
    Path(__file__).resolve().parent.parent / "scenarios",
    Path(sys.prefix) / "share" / "mailsim" / "scenarios",
)


def scenario_dir() -> Path | None:
    """The folder holding the bundled scenarios, if it can be found."""
    return next((path for path in _SEARCH_PATH if path.is_dir()), None)


def bundled() -> list[Path]:
    """Every bundled scenario file, sorted by name."""
    folder = scenario_dir()
    return sorted(folder.glob("*.yaml")) if folder else []


def resolve(name: str) -> Path:
    """A scenario path from a path or a bundled scenario's name.

    A name that matches no file is returned as a path, so the loader can
    say that the file does not exist.
    """
    path = Path(name)
    if path.exists():
        return path
    for candidate in bundled():
        if name in (candidate.stem, candidate.name):
            return candidate
    return path


def title_of(path: Path) -> str:
    """The `name:` of a scenario file, read without validating the rest."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return "(unreadable)"
    return str(data.get("name", "")) if isinstance(data, dict) else "(not a scenario)"
