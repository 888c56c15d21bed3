"""The bundled scenarios: where they live and how to name them.

Scenario files ship in the project's `scenarios/` folder (and, in a
non-editable install, under `<prefix>/share/mailsim/scenarios`).  Users can
name one by path or by its file name without `.yaml`, e.g.
`02-unknown-user`.  A bare name that is neither a file nor a bundled
scenario is answered with the bundled names and the closest match.
"""

from __future__ import annotations

import sys
from pathlib import Path

from simulator.scenario.errors import Problem, ScenarioError, printable
from simulator.scenario.loader import read_scenario_data

DEFAULT_SCENARIO = "01-first-email"
_SUFFIXES = (".yaml", ".yml")

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

    A path that matches no file is returned as it is, so the loader can say
    that the file does not exist; a bare name (no folder, no ``.yaml``)
    that is no bundled scenario either raises a `ScenarioError` listing
    the bundled ones.
    """
    path = Path(name)
    if path.exists():
        return path
    files = bundled()
    for candidate in files:
        if name in (candidate.stem, candidate.name):
            return candidate
    if _is_bare_name(name):
        raise ScenarioError(name, [Problem("", _not_bundled(name, [f.stem for f in files]))])
    return path


def _is_bare_name(name: str) -> bool:
    """A name without a folder or a YAML suffix: meant as a bundled scenario."""
    path = Path(name)
    return len(path.parts) == 1 and "/" not in name and path.suffix.lower() not in _SUFFIXES


def _not_bundled(name: str, names: list[str]) -> str:
    """Say that no file or bundled scenario is called `name`, and which ones exist."""
    import difflib  # only for a name that is not found

    if not names:
        return "file not found, and no bundled scenarios were found"
    close = difflib.get_close_matches(name, names, n=1, cutoff=0.5)
    hint = f"did you mean '{close[0]}'? " if close else ""
    listed = ", ".join(names)
    return f"file not found, and no bundled scenario has that name ({hint}bundled: {listed})"


def title_of(path: Path) -> str:
    """The `name:` of a scenario file, read without validating the rest."""
    try:
        data = read_scenario_data(path)
    except ScenarioError:
        return "(unreadable)"
    if not isinstance(data, dict):
        return "(not a scenario)"
    return printable(str(data.get("name", "")))
