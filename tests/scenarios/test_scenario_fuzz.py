"""Fuzzing scenario files: every mutant of a good file is accepted, or answered in plain lines.

The mutants start from each bundled scenario and from the README's example
and get one to three changes: a line deleted or duplicated (a missing or
repeated key), a key or value retyped (huge numbers, NaN, dates, control
characters, YAML tags, aliases, odd durations), deep nesting, alias bombs,
control characters, random byte flips, truncation, other line endings, an
oversized file.  `mailsim validate` must answer each with status 0, or with
status 2 and one printable line per problem, each starting with the file's
name, never a traceback, within a generous time.  Some valid mutants are
also run, and both YAML parsers (libyaml and pure Python) must agree on
every mutant.

The mutants are the same on every run (a seeded `random.Random` per
mutant, so a failure names one that can be replayed); set
``MAILSIM_FUZZ_MUTANTS`` to try more than the default 1000.
"""

from __future__ import annotations

import os
import random
import re
import time
import traceback
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from simulator import catalog
from simulator.cli import main
from simulator.scenario import load_scenario
from simulator.scenario.limits import MAX_FILE_BYTES
from simulator.scenario.safe_yaml import FastLoader, read_yaml

SEED = 6_2026
MUTANTS = int(os.environ.get("MAILSIM_FUZZ_MUTANTS", "1000"))
RUN_EVERY = 50  # run one valid mutant in this many (a run costs far more than a check)
COMPARE_EVERY = 4  # read one mutant in this many with both YAML parsers
MUTANT_SECONDS = 10.0  # generous: a hang, not a slow machine, should trip it
MAX_FAILURES_SHOWN = 5

README = Path(__file__).parents[2] / "README.md"

HOSTILE_VALUES = [
    "", "~", "[]", "{}", "-1", "-0", "-0.0", "0", ".nan", ".NaN", ".inf", "-.inf",
    "1.0e+400", "-1.0e+400", "9" * 5000, "9" * 60, "0x" + "f" * 300, "0b" + "1" * 90,
    "1:2:3:4:5:6:7", "yes", "no", "2024-05-01", "2001-12-14t21:59:43.10-05:00", "=", "<<",
    "!!binary aGVsbG8=", "!!set {a, b}", "!!python/object:os.system x",
    "!!python/object/apply:os.system [ls]", "!!int abc", "!!float x", "!!bool maybe",
    "!!omap [{a: 1}]", "!!timestamp x", "!local x", "!!str 12", "!!null x",
    '"\\x1b[31mred"', '"a\\nb"', '"\\u2028x"', '"\\ud800"', '"\\0"', '"\\e]0;title\\a"',
    '"\\u202egnp.exe"', '"a\\tb"', '"\\r"', "x" * 20000, "365d", "366d", "100000000d",
    "9" * 400 + "s", "31535999s", "1us", "1e-300", "0.0000001", "0bit", "1000Gbit",
    "2000Gbit", "0.5bit", "*nope", "&a [*a]", "{a: 1, a: 2}", "[" * 25 + "x" + "]" * 25,
    "'unclosed", '"unclosed', "a: b: c", "- x", "@at", "`tick", "%percent", "? x",
    "|\n  literal", ">-\n  folded", "[mta, mta]", "[mta, mda, mua]", "198.51.100.25",
    "2001:db8::1", "alice@example.org", "[alice@example.org]", "mail.example.org",
    "bob-pc", "a" * 300 + ".org", "1" * 20,
]
HOSTILE_KEYS = [
    '"a\\nb"', '"\\x1b[2J"', "1", "null", "true", "[a]", "{a: 1}", '"' + "k" * 5000 + '"',
    "name", "<<", "hosts", "traffic", "lattency", "from", "to", '"\\u2028"', "-1.5",
    "2024-05-01", "!!python/name:os.system x",
]
INVISIBLE = [
    "\x00", "\x01", "\x07", "\x08", "\x1b", "\x7f", "\x85", "\u2028", "\u2029", "\ufeff",
    "\ufffe", "\u202e", "\t", "\r", "\x0b", "\x0c",
]
TAGS = ["!!str", "!!int", "!!float", "!!bool", "!!null", "!!map", "!!seq", "!!binary",
        "!!set", "!!timestamp", "!!python/tuple", "!custom", "!"]

_VALUE_RE = re.compile(r"(?<=: )[^,}\]\n#]+")
_KEY_RE = re.compile(r"[\w.@-]+(?=:( |$))", re.M)

Mutation = Callable[[random.Random, str], str | bytes]


def _replace_match(rng: random.Random, text: str, pattern: re.Pattern[str], new: str) -> str:
    found = list(pattern.finditer(text))
    if not found:
        return text
    match = rng.choice(found)
    return text[: match.start()] + new + text[match.end():]


def delete_line(rng: random.Random, text: str) -> str:
    lines = text.splitlines(keepends=True)
    del lines[rng.randrange(len(lines))]
    return "".join(lines)


def duplicate_line(rng: random.Random, text: str) -> str:
    lines = text.splitlines(keepends=True)
    line = rng.choice(lines)
    lines.insert(rng.randrange(len(lines) + 1), line)
    return "".join(lines)


def retype_value(rng: random.Random, text: str) -> str:
    return _replace_match(rng, text, _VALUE_RE, rng.choice(HOSTILE_VALUES))


def retype_key(rng: random.Random, text: str) -> str:
    return _replace_match(rng, text, _KEY_RE, rng.choice(HOSTILE_KEYS))


def tag_value(rng: random.Random, text: str) -> str:
    found = list(_VALUE_RE.finditer(text))
    if not found:
        return text
    match = rng.choice(found)
    return text[: match.start()] + rng.choice(TAGS) + " " + text[match.start():]


def invisible_character(rng: random.Random, text: str) -> str:
    at = rng.randrange(len(text) + 1)
    return text[:at] + rng.choice(INVISIBLE) * rng.choice([1, 1, 3]) + text[at:]


def deep_nesting(rng: random.Random, text: str) -> str:
    depth = rng.choice([5, 18, 19, 20, 21, 100, 1000, 50_000])
    opening, closing = rng.choice([("[", "]"), ("{a: ", "}"), ("- ", "")])
    if opening == "- ":
        return text + "deep: " + "- " * depth + "x\n"
    return _replace_match(rng, text, _VALUE_RE, opening * depth + "x" + closing * depth)


def alias(rng: random.Random, text: str) -> str:
    """An anchor on one value and an alias (or a merge) in place of another."""
    found = list(_VALUE_RE.finditer(text))
    if len(found) < 2:
        return text
    first, second = sorted(rng.sample(found, 2), key=lambda m: m.start())
    use = rng.choice(["*x", "*x", "{<<: *x}", "*y"])
    return (text[: first.start()] + "&x " + text[first.start(): second.start()] + use
            + text[second.end():])


def alias_bomb(rng: random.Random, text: str) -> str:
    levels = rng.randrange(1, 12)
    width = rng.choice([2, 9, 30])
    lines = [f"lol0: &a0 [{', '.join(['lol'] * width)}]"]
    for level in range(1, levels + 1):
        lines.append(f"lol{level}: &a{level} [" + ", ".join([f"*a{level - 1}"] * width) + "]")
    return text + "\n".join(lines) + "\n"


def flip_bytes(rng: random.Random, text: str) -> bytes:
    data = bytearray(text.encode("utf-8"))
    for _ in range(rng.randrange(1, 9)):
        data[rng.randrange(len(data))] = rng.randrange(256)
    return bytes(data)


def truncate(rng: random.Random, text: str) -> str:
    return text[: rng.randrange(len(text))]


def line_endings(rng: random.Random, text: str) -> str:
    choice = rng.randrange(5)
    if choice == 0:
        return text.replace("\n", "\r\n")
    if choice == 1:
        return text.replace("\n", "\r")
    if choice == 2:
        return "\ufeff" + text
    if choice == 3:
        return text.replace("  ", "\t", rng.randrange(1, 4))
    return text + "---\nname: second document\n"


def repeat_block(rng: random.Random, text: str) -> str:
    """Many copies of one line: long lists, repeated keys, large files."""
    lines = text.splitlines(keepends=True)
    line = rng.choice(lines)
    at = rng.randrange(len(lines) + 1)
    lines[at:at] = [line] * rng.choice([10, 300, 2000])
    return "".join(lines)


def oversized(rng: random.Random, text: str) -> str:
    return text + "#" * (MAX_FILE_BYTES - len(text.encode("utf-8")) + rng.choice([-1, 0, 1]))


MUTATIONS: list[tuple[Mutation, int]] = [
    (delete_line, 6), (duplicate_line, 5), (retype_value, 14), (retype_key, 6),
    (tag_value, 3), (invisible_character, 4), (deep_nesting, 2), (alias, 3),
    (alias_bomb, 2), (flip_bytes, 4), (truncate, 2), (line_endings, 2), (repeat_block, 2),
    (oversized, 1),
]


def seed_texts() -> list[tuple[str, str]]:
    """The good files every mutant starts from: the bundled scenarios and the README's example."""
    texts = [(path.stem, path.read_text(encoding="utf-8")) for path in catalog.bundled()]
    example = re.search(r"```yaml\n(.*?)```", README.read_text(encoding="utf-8"), re.S)
    assert example is not None
    texts.append(("readme-example", example.group(1)))
    return texts


def mutant(number: int, seeds: list[tuple[str, str]]) -> tuple[str, bytes]:
    """Mutant `number`: its origin and bytes, the same on every run."""
    rng = random.Random(f"{SEED}:{number}")
    origin, text = rng.choice(seeds)
    operations, weights = zip(*MUTATIONS, strict=True)
    content: str | bytes = text
    for mutation in rng.choices(operations, weights, k=rng.choice([1, 1, 2, 3])):
        if isinstance(content, bytes):
            content = content.decode("utf-8", errors="replace")
        content = mutation(rng, content) or " "
    data = content if isinstance(content, bytes) else content.encode("utf-8", "surrogatepass")
    return origin, data


def answer_problems(path: Path, status: int, out: str, err: str) -> list[str]:
    """What is wrong with `mailsim validate`'s answer, if anything."""
    wrong = []
    if status not in (0, 2):
        wrong.append(f"exit status {status}")
    if "Traceback" in out + err:
        wrong.append("a traceback")
    if status == 2:
        lines = err.split("\n")
        if not err.endswith("\n") or not lines[0]:
            wrong.append("no message, or no final line break")
        for line in lines[:-1]:
            if not line.startswith(f"{path}: "):
                wrong.append(f"a line not naming the file: {line[:120]!r}")
            if not line.isprintable():
                wrong.append(f"an unprintable character in {line[:120]!r}")
    if status == 0 and (err or "OK" not in out or not out.replace("\n", "").isprintable()):
        wrong.append(f"an accepted file with a strange answer: {out[:120]!r} {err[:120]!r}")
    return wrong


def parsers_disagree(data: bytes) -> str | None:
    """Whether libyaml and the pure-Python parser read `data` differently.

    A fault found with libyaml is worded by a second, pure-Python reading,
    so only what libyaml accepts needs comparing.
    """
    if FastLoader is None or len(data) > MAX_FILE_BYTES:
        return None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None
    outcomes = []
    for fast in (True, False):
        try:
            outcomes.append(repr(read_yaml(text, fast=fast)))
        except yaml.YAMLError as err:
            if fast:
                return None
            outcomes.append(f"{type(err).__name__}: {err}")
        except Exception:
            return f"reading raised {traceback.format_exc()[-600:]}"
    if outcomes[0] == outcomes[1]:
        return None
    return f"libyaml: {outcomes[0][:600]!r}, pure Python: {outcomes[1][:600]!r}"


def light(path: Path) -> bool:
    """Whether a valid mutant runs in well under a second (short, few polls, little mail)."""
    scenario = load_scenario(path)
    checks = sum(scenario.duration / user.check_every for _, _, user in scenario.users()
                 if user.mua is not None)
    mail = sum(len(m.body) * len(m.to) for m in scenario.traffic)
    return scenario.duration <= 86400 and checks <= 2000 and mail <= 100_000


def test_every_mutant_is_accepted_or_answered_in_plain_lines(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    seeds = seed_texts()
    failures: list[str] = []
    valid = runs = 0
    run_due = True
    for number in range(MUTANTS):
        origin, data = mutant(number, seeds)
        path = tmp_path / f"mutant-{number}.yaml"
        path.write_bytes(data)
        started = time.perf_counter()
        try:
            status = main(["validate", str(path)])
        except Exception:  # the very thing this test looks for
            status = -1
            print(traceback.format_exc())
        elapsed = time.perf_counter() - started
        out, err = capsys.readouterr()
        wrong = answer_problems(path, status, out, err)
        if elapsed > MUTANT_SECONDS:
            wrong.append(f"took {elapsed:.1f} s")
        disagreement = parsers_disagree(data) if number % COMPARE_EVERY == 0 else None
        if disagreement:
            wrong.append(disagreement)
        if status == 0:
            valid += 1
            run_due = run_due or valid % RUN_EVERY == 0
            if run_due and light(path):
                run_due = False
                runs += 1
                wrong += run_problems(path, capsys)
        if wrong:
            failures.append(f"mutant {number} (from {origin}): {'; '.join(wrong)}\n"
                            f"  file: {data[:300]!r}\n  stderr: {err[:300]!r}")
        path.unlink()
    assert not failures, f"{len(failures)} bad answers:\n" + "\n".join(
        failures[:MAX_FAILURES_SHOWN])
    assert valid >= MUTANTS // 20, "too few valid mutants: the mutations are too rough"
    assert runs >= 1 or valid == 0


def run_problems(path: Path, capsys: pytest.CaptureFixture[str]) -> list[str]:
    """What went wrong running a valid mutant, if anything."""
    try:
        status = main(["run", str(path), "--quiet"])
    except Exception:
        return [f"run raised: {traceback.format_exc()[-600:]}"]
    out, err = capsys.readouterr()
    if status != 0 or "Traceback" in out + err:
        return [f"run exit status {status}: {err[:300]!r}"]
    return []
