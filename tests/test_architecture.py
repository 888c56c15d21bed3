"""The house rules that can be checked mechanically: layers, module sizes, lint, types."""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).parent.parent / "simulator"


def imported_modules(path: Path) -> set[str]:
    """Top-level and dotted names of every module `path` imports."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def sources(folder: str) -> list[Path]:
    return sorted((PACKAGE / folder).rglob("*.py"))


@pytest.mark.parametrize("path", sources("protocols"), ids=lambda p: p.name)
def test_protocols_are_sans_io(path: Path) -> None:
    forbidden = {"simpy", "asyncio", "socket", "rich"}
    roots = {name.split(".")[0] for name in imported_modules(path)}
    assert not roots & forbidden


@pytest.mark.parametrize("path", sources("protocols"), ids=lambda p: p.name)
def test_protocols_import_only_protocols(path: Path) -> None:
    ours = {n for n in imported_modules(path) if n.startswith("simulator")}
    assert all(n.startswith("simulator.protocols") for n in ours)


@pytest.mark.parametrize("path", sources("views"), ids=lambda p: p.name)
def test_views_only_read_the_trace(path: Path) -> None:
    ours = {n for n in imported_modules(path) if n.startswith("simulator")}
    # ... and the scenario's unit helpers, to write durations as the file does, and the
    # lazy import of the package's names.
    allowed = ("simulator.views", "simulator.trace", "simulator.fates", "simulator.scenario.units",
               "simulator.lazy")
    assert all(n.startswith(allowed) for n in ours)


@pytest.mark.parametrize("path", sources("net"), ids=lambda p: p.name)
def test_net_does_not_know_agents(path: Path) -> None:
    ours = {n for n in imported_modules(path) if n.startswith("simulator")}
    assert all(n.startswith(("simulator.net", "simulator.trace")) for n in ours)


def test_modules_stay_small() -> None:
    too_long = {
        str(p.relative_to(PACKAGE)): n
        for p in PACKAGE.rglob("*.py")
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > 420
    }
    assert not too_long


def test_ruff_is_clean() -> None:
    root = PACKAGE.parent
    result = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "simulator", "tests"],
        cwd=root, capture_output=True, text=True, check=False,
    )
    assert result.returncode == 0, result.stdout


def test_mypy_is_clean() -> None:
    """`simulator/` type-checks under the [tool.mypy] settings of pyproject.toml."""
    root = PACKAGE.parent
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "simulator"],
        cwd=root, capture_output=True, text=True, check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
