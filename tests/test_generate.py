"""Generated worlds: valid, runnable, the same for one seed, and written as loadable YAML."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
import yaml

from simulator.cli import main
from simulator.fates import Fate
from simulator.generate import generate_world, scenario_of, world_yaml
from simulator.scenario import load_scenario, validate_scenario
from simulator.scenario.limits import MAX_FILE_BYTES, MAX_MESSAGES
from simulator.simulation import Simulation


def test_a_generated_world_validates_with_everything_asked_for() -> None:
    world = generate_world(3, 4, 50, hours=0.5, check_every="2m", seed=7)
    scenario = validate_scenario(world)
    assert len(scenario.domains) == 3
    assert len(scenario.users()) == 12
    assert all(entry.user.mua and entry.user.check_every == 120 for entry in scenario.users())
    assert len(scenario.traffic) == 50
    times = [message.at for message in scenario.traffic]
    assert times == sorted(times)
    assert times[0] >= 0 and times[-1] <= 1800 < scenario.duration
    for name, domain in scenario.domains.items():
        assert [r.exchange for r in scenario.dns[name]] == [domain.mta]


def test_the_same_seed_gives_the_same_world_and_another_seed_another() -> None:
    assert generate_world(2, 3, 20, seed=5) == generate_world(2, 3, 20, seed=5)
    assert generate_world(2, 3, 20, seed=5) != generate_world(2, 3, 20, seed=6)


def test_more_than_twenty_users_get_numbered_names() -> None:
    world = generate_world(1, 45, 0)
    users = list(world["domains"]["org1.example"]["users"])
    assert users[:2] == ["alice", "bob"]
    assert users[20:22] == ["alice2", "bob2"]
    assert users[40] == "alice3"
    addresses = [host["address"] for host in world["hosts"].values()]
    assert len(set(addresses)) == len(addresses)


def test_a_generated_world_runs_and_some_mail_bounces() -> None:
    simulation = Simulation(scenario_of(generate_world(2, 3, 60, hours=0.25, seed=1)))
    simulation.run()
    fates = [fate for fate in simulation.fates() if fate.origin == "user"]
    counts = {fate.fate for fate in fates}
    assert len(fates) >= 60
    assert Fate.DELIVERED in counts and Fate.BOUNCED in counts
    assert Fate.IN_FLIGHT not in counts
    bounced = [fate for fate in fates if fate.fate is Fate.BOUNCED]
    assert all(fate.recipient.startswith("nobody") for fate in bounced)
    assert all(fate.status == "5.1.1" for fate in bounced)


def test_bigger_than_a_scenario_file_may_be_is_validated_in_slices() -> None:
    world = generate_world(1, 2, MAX_MESSAGES + 5, hours=20)
    scenario = scenario_of(world)
    assert len(scenario.traffic) == MAX_MESSAGES + 5
    assert scenario.traffic[-1].subject == f"Message {MAX_MESSAGES + 5}"


@pytest.mark.parametrize(
    "arguments", [(0, 1, 1), (1, 0, 1), (1, 1, -1), (251, 1, 1)], ids=str
)
def test_impossible_worlds_are_refused(arguments: tuple[int, int, int]) -> None:
    with pytest.raises(ValueError):
        generate_world(*arguments)


def test_the_yaml_reads_back_as_the_same_world(tmp_path: Path) -> None:
    world = generate_world(2, 3, 25, seed=3)
    text = world_yaml(world)
    assert text.startswith("# A generated world")
    path = tmp_path / "world.yaml"
    path.write_text(text, encoding="utf-8")
    assert load_scenario(path) == validate_scenario(world)


def test_mailsim_generate_writes_a_file_that_runs(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "world.yaml"
    argv = ["generate", "--domains", "2", "--users", "2", "--messages", "5", "--hours", "0.1",
            "--seed", "4", "-o", str(path)]
    assert main(argv) == 0
    assert load_scenario(path) == validate_scenario(
        generate_world(2, 2, 5, hours=0.1, seed=4)
    )
    capsys.readouterr()
    assert main(["run", str(path), "--quiet"]) == 0
    assert "delivered" in capsys.readouterr().out


def test_mailsim_generate_prints_to_standard_output(capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["generate", "--domains", "1", "--users", "2", "--messages", "3"]) == 0
    out = capsys.readouterr().out
    assert yaml.safe_load(io.StringIO(out)) == generate_world(1, 2, 3)


def test_mailsim_generate_refuses_a_world_too_big_for_a_file(capsys) -> None:  # type: ignore[no-untyped-def]
    argv = ["generate", "--domains", "1", "--users", "2", "--messages", str(MAX_MESSAGES + 1)]
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    assert f"from 1 to {MAX_MESSAGES}" in capsys.readouterr().err


def test_mailsim_generate_refuses_a_file_too_big_to_load(capsys) -> None:  # type: ignore[no-untyped-def]
    argv = ["generate", "--domains", "1", "--users", "2", "--messages", str(MAX_MESSAGES)]
    assert main(argv) == 2
    error = capsys.readouterr().err
    assert f"more than the {MAX_FILE_BYTES:,} bytes" in error
    assert "about" in error


@pytest.mark.parametrize(("argv", "says"), [
    (["--users", "3000000"], "expected a whole number from 1 to 1000"),
    (["--domains", "0"], "expected a whole number from 1 to 100"),
    (["--messages", "1e3"], "expected a whole number from 1 to 10000"),
    (["--check-every", "0s"], "expected a time longer than 0s"),
])
def test_generate_refuses_impossible_worlds_before_building_them(
    argv: list[str], says: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["generate", *argv])
    assert exit_info.value.code == 2
    assert says in capsys.readouterr().err


def test_users_can_share_pcs_and_a_world_keeps_within_the_hosts_a_scenario_may_have() -> None:
    world = generate_world(2, 5, 4, users_per_host=2)
    users = world["domains"]["org1.example"]["users"]
    assert [user["mua"] for user in users.values()] == [
        "pc1.org1.example", "pc1.org1.example", "pc2.org1.example", "pc2.org1.example",
        "pc3.org1.example"]
    pcs = [name for name in world["hosts"] if name.startswith("pc")]
    assert len(pcs) == 6 and "2 users to a PC" in world["description"]
    assert len(scenario_of(world).hosts) == 1 + 2 * 2 + 6
    big = generate_world(100, 100, 1, users_per_host=15)
    assert len(big["hosts"]) == 1 + 100 * (2 + 7) <= 1000
    with pytest.raises(ValueError, match=r"10,201 hosts.*--users-per-host 15\) would fit"):
        generate_world(100, 100, 1)


def test_mailsim_generate_says_how_many_users_to_a_pc_would_fit(capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["generate", "--domains", "100", "--users", "100", "--messages", "1"]) == 2
    assert "--users-per-host 15) would fit" in capsys.readouterr().err
