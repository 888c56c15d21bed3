"""The README tells the truth: its example scenario loads, its quick start is two commands."""

import re
from pathlib import Path

from simulator.cli import main

README = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")


def test_the_example_scenario_is_valid(tmp_path: Path) -> None:
    example = re.search(r"```yaml\n(.*?)```", README, re.S)
    assert example is not None
    path = tmp_path / "example.yaml"
    path.write_text(example.group(1), encoding="utf-8")
    assert main(["validate", str(path)]) == 0


def test_quick_start_has_exactly_two_commands() -> None:
    section = README.split("## Quick start", 1)[1].split("##", 1)[0]
    block = re.search(r"```sh\n(.*?)```", section, re.S)
    assert block is not None
    commands = [line for line in block.group(1).splitlines() if line.strip()]
    assert commands == ["pip install -e . && mailsim", "pip install -e '.[test]' && pytest"]


def test_ci_runs_the_readme_test_command() -> None:
    ci = (Path(__file__).parent.parent / ".ci" / "run").read_text(encoding="utf-8")
    assert ci.rstrip().splitlines()[-1] == "pip install -e '.[test]' && pytest"


def test_the_python_example_runs_and_says_what_the_comments_say() -> None:
    section = README.split("## Use it from Python", 1)[1].split("\n## ", 1)[0]
    example = re.search(r"```python\n(.*?)```", section, re.S)
    assert example is not None
    lines = example.group(1).splitlines()
    namespace: dict[str, object] = {}
    exec("\n".join(lines[:-2]), namespace)  # all but the last two: values to look at
    fates = eval(lines[-3].split("#")[0], namespace)
    assert fates == [("bbo@example.net", "bounced", "5.1.1"), ("alice@example.org",
                                                               "delivered", None)]
    for line in lines[-2:]:
        assert eval(line.split("#")[0], namespace)

