"""Performance: quick start-up, and `mailsim bench` measuring the simulator against bare SimPy.

Speed is measured by the benchmark, never asserted here: these tests check
what the benchmark reports (its columns, positive figures) on tiny cases,
and what start-up imports.
"""

from __future__ import annotations

import subprocess
import sys

from simulator import catalog, cli

HEAVY = ("pydantic", "rich", "networkx", "yaml", "simpy", "email", "simulator.scenario")


def modules_loaded_by(code: str) -> list[str]:
    """The heavy modules a fresh interpreter holds after running `code`."""
    probe = f"{code}\nimport sys\nprint(' '.join(m for m in {HEAVY!r} if m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          check=True)
    return done.stdout.split()


def test_import_simulator_loads_nothing_heavy() -> None:
    assert modules_loaded_by("import simulator") == []


def test_help_loads_nothing_heavy() -> None:
    code = "import simulator.cli as cli\ncli._parser().format_help()"
    assert modules_loaded_by(code) == []


def test_the_default_scenario_is_the_catalog_one() -> None:
    assert cli.DEFAULT_SCENARIO == catalog.DEFAULT_SCENARIO
