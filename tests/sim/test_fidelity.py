"""Session fidelity: the same fates at the same instants as dialogue fidelity, for less.

A session-fidelity run plays the same agents and protocol machines, so
every record about the mail -- composed, queued, relayed, deferred,
delivered, bounced, and the notes -- must come out the same, at the same
instant, with the same words; only the wire (lines, TCP, TLS, DNS) is left
out.  Checked on every bundled scenario and on generated worlds, with
users on their own PCs and on shared ones, and clients checking so often
that mail lands as skipped checks log in (`agents.catchup`).
"""

from __future__ import annotations

import io
import json
from collections import Counter
from collections.abc import Generator
from pathlib import Path
from typing import Any

import pytest
import simpy
import yaml
from rich.console import Console

from simulator import catalog
from simulator.agents import catchup, mda, pop3_client
from simulator.agents.catchup import Opening
from simulator.agents.context import SimContext
from simulator.agents.reading import Asleep, on_a_beat
from simulator.fidelity import WIRE_KINDS, Fidelity
from simulator.generate import generate_world, scenario_of
from simulator.protocols.pop3 import CredentialsReceived
from simulator.scenario import load_scenario, validate_scenario
from simulator.scenario.models import Scenario
from simulator.simulation import Simulation
from simulator.trace import Kind, TraceRecord

Happening = tuple[str, str, str | None, float, str]


def happenings(simulation: Simulation) -> Counter[Happening]:
    """What the trace says happened to the mail: every record but the wire and sim.start."""
    return Counter(
        (record.kind.value, record.host, record.message, round(record.time, 9), record.text)
        for record in simulation.trace
        if record.kind not in WIRE_KINDS and record.kind is not Kind.SIM_START
    )


def played(scenario: Scenario, fidelity: str) -> Simulation:
    simulation = Simulation(scenario, fidelity=fidelity)
    simulation.run()
    return simulation


def assert_agree(scenario: Scenario) -> None:
    dialogue, session = played(scenario, "dialogue"), played(scenario, "session")
    assert session.fates() == dialogue.fates()
    ours, theirs = happenings(session), happenings(dialogue)
    assert ours == theirs, (sorted((ours - theirs).elements())[:5],
                            sorted((theirs - ours).elements())[:5])


@pytest.mark.parametrize("name", [path.stem for path in catalog.bundled()])
def test_every_bundled_scenario_has_the_same_fates_at_the_same_instants(name: str) -> None:
    from simulator.scenario import load_scenario

    assert_agree(load_scenario(catalog.resolve(name)))


@pytest.mark.parametrize(("seed", "users_per_host", "check_every"),
                         [(1, 1, "5m"), (2, 3, "1m"), (3, 2, "30s"), (5, 2, "15s")])
def test_generated_worlds_have_the_same_fates_at_the_same_instants(
    seed: int, users_per_host: int, check_every: str
) -> None:
    world = generate_world(3, 6, 150, hours=0.5, check_every=check_every, seed=seed,
                           users_per_host=users_per_host)
    assert_agree(scenario_of(world))


TWO_POP3_DEVICES = """
name: two POP3 devices on one mailbox
seed: 1
duration: 8m
hosts:
  backbone: {address: 203.0.113.1}
  mail.example.org:
    {address: 198.51.100.25, roles: [mta, mda], links: [{to: backbone, latency: 5ms}]}
  pc1: {address: 192.0.2.10, roles: [mua], links: [{to: backbone, latency: 10ms}]}
  pc2: {address: 192.0.2.11, roles: [mua], links: [{to: backbone, latency: 10ms}]}
  pc3: {address: 192.0.2.12, roles: [mua], links: [{to: backbone, latency: 10ms}]}
dns: {example.org: [{type: MX, preference: 10, exchange: mail.example.org}]}
domains:
  example.org:
    mta: mail.example.org
    mda: mail.example.org
    users:
      bob: {password: b, devices: [{host: pc1, check_every: 1m}, {host: pc2, check_every: 1m}]}
      alice: {password: a, mua: pc3, check_every: 1m}
traffic:
  - {at: 10s, from: alice@example.org, to: [bob@example.org], subject: one, body: "1"}
  - {at: 70s, from: alice@example.org, to: [bob@example.org], subject: two, body: "2"}
"""


def test_two_pop3_clients_of_one_mailbox_contend_for_its_lock_alike(tmp_path: Path) -> None:
    path = tmp_path / "two.yaml"
    path.write_text(TWO_POP3_DEVICES, encoding="utf-8")
    scenario = load_scenario(path)
    assert_agree(scenario)
    session = played(scenario, "session")
    assert any("[IN-USE]" in record.text for record in session.trace)


def test_a_link_going_down_wakes_sleeping_clients() -> None:
    raw = yaml.safe_load(catalog.resolve("01-first-email").read_text(encoding="utf-8"))
    raw.pop("lesson")
    raw["duration"] = "20m"
    scenario = validate_scenario(raw, source="<test>")
    seen = []
    for fidelity in ("dialogue", "session"):
        simulation = Simulation(scenario, fidelity=fidelity)
        simulation.run(until=600)
        simulation.world.topology.set_link_up("alice-pc", "isp-a", False)
        simulation.run()
        seen.append(happenings(simulation))
    assert seen[0] == seen[1]
    assert any("cannot reach the incoming server" in happening[4] for happening in seen[1])


def test_a_session_trace_leaves_the_wire_out_and_says_so() -> None:
    session = Simulation.load("01-first-email", fidelity="session")
    session.run()
    kinds = {record.kind for record in session.trace}
    assert not kinds & WIRE_KINDS
    assert {Kind.MAIL_COMPOSED, Kind.MAIL_DELIVERED, Kind.MAIL_FETCHED} <= kinds
    start = json.loads(session.trace.records[0].to_json())
    assert start["data"]["fidelity"] == "session"
    dialogue = Simulation.load("01-first-email")
    dialogue.run()
    assert "fidelity" not in json.loads(dialogue.trace.records[0].to_json())["data"]
    assert dialogue.world.fidelity is Fidelity.DIALOGUE


def test_an_unknown_fidelity_is_refused() -> None:
    with pytest.raises(ValueError, match="'line'"):
        Simulation.load("01-first-email", fidelity="line")


def count_pop3_sessions(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Every server-side POP3 session played from now on, in a list."""
    played: list[object] = []
    original = mda.Pop3Session.run

    def counting(self: Any, *args: Any, **keywords: Any) -> Any:
        played.append(self)
        return original(self, *args, **keywords)

    monkeypatch.setattr(mda.Pop3Session, "run", counting)
    return played


def test_a_check_that_would_find_nothing_new_is_not_played(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    idle = scenario_of(generate_world(2, 3, 0, hours=2, check_every="1m"))
    sessions = count_pop3_sessions(monkeypatch)
    played(idle, "dialogue")
    every_check = len(sessions)
    sessions.clear()
    played(idle, "session")
    assert len(sessions) == 6  # each client's first check, which found the mailbox empty
    assert every_check > 100 * len(sessions)


def test_after_a_download_the_next_check_is_not_played_while_nothing_changes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    one = scenario_of(generate_world(1, 3, 1, hours=1, check_every="1m", seed=3))
    sessions = count_pop3_sessions(monkeypatch)
    session = played(one, "session")
    assert [r.kind for r in session.trace].count(Kind.MAIL_FETCHED) == 1
    assert len(sessions) == 3 + 1  # each client's first check, and the one that downloads


def test_mail_arriving_wakes_a_sleeping_client_for_the_next_beat() -> None:
    world = generate_world(1, 2, 1, hours=0.25, check_every="1m", seed=4)
    scenario = scenario_of(world)
    session = played(scenario, "session")
    dialogue = played(scenario, "dialogue")
    fetched = [r.time for r in session.trace if r.kind is Kind.MAIL_FETCHED]
    assert fetched == [r.time for r in dialogue.trace if r.kind is Kind.MAIL_FETCHED]
    assert len(fetched) == 1


def test_mail_landing_before_a_skipped_checks_login_is_fetched_by_that_check(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    caught_up: list[Opening] = []

    def watched(*args: Any) -> Opening | None:
        opening = catchup.play_opening(*args)
        if opening is not None and opening.first_event_at > args[1].client.network.env.now:
            caught_up.append(opening)
        return opening

    monkeypatch.setattr(pop3_client, "play_opening", watched)
    world = generate_world(3, 6, 150, hours=0.5, check_every="30s", seed=3, users_per_host=2)
    assert_agree(scenario_of(world))  # the downloads too, at the same instants
    assert caught_up  # this world has such mail (its seed was picked for it)
    assert all(isinstance(opening.event, CredentialsReceived) for opening in caught_up)


def run_beats(
    events: dict[int, float | None], period: float, end: float
) -> tuple[list[float], list[tuple[float, float]]]:
    """When `on_a_beat` runs its check, the check going to sleep after some calls.

    `events` maps the number of a call (0, 1, ...) to the instant the event
    it sleeps until fires (None: never).  Returns the instants of the calls,
    and (instant, beat) of every wake-up with the last beat it was handed.
    """
    env = simpy.Environment()
    ctx = SimContext(env, None, None, 0)  # type: ignore[arg-type]
    calls: list[float] = []
    woken: list[tuple[float, float]] = []

    def wake_up(beat: float) -> Generator[simpy.Event, Any, None]:
        woken.append((env.now, beat))
        yield env.timeout(0)

    def check() -> Generator[simpy.Event, Any, Asleep | None]:
        number = len(calls)
        calls.append(env.now)
        yield env.timeout(0.25)  # a check takes a while
        if number not in events:
            return None
        until = simpy.Event(env)
        at = events[number]
        if at is not None:
            env.process(_fire(env, until, at))
        return Asleep(until, wake_up)

    env.process(on_a_beat(ctx, period, check, first_after=period))
    env.run(until=end)
    return calls, woken


def _fire(env: simpy.Environment, event: simpy.Event, at: float) -> Generator[Any, Any, None]:
    yield env.timeout(at - env.now)
    event.succeed()


def test_a_check_sleeps_through_the_beats_until_its_event_then_keeps_the_beat() -> None:
    assert run_beats({}, 2.0, 9.0) == ([2.0, 4.0, 6.0, 8.0], [])
    # asleep after the check at 2: woken at 7.5, told of the beat at 6, checks again at 8
    assert run_beats({0: 7.5}, 2.0, 13.0) == ([2.0, 8.0, 10.0, 12.0], [(7.5, 6.0)])
    # an event on a beat: that beat's check is played
    assert run_beats({0: 8.0}, 2.0, 11.0) == ([2.0, 8.0, 10.0], [(8.0, 6.0)])
    assert run_beats({1: None}, 2.0, 30.0) == ([2.0, 4.0], [])


def test_records_seen_by_a_sink_are_the_records_kept() -> None:
    seen: list[TraceRecord] = []
    session = Simulation.load("02-unknown-user", fidelity="session")
    session.trace.subscribe(seen.append)
    session.run()
    assert seen == list(session.trace.records)
    assert [record.seq for record in seen] == list(range(len(seen)))


# -- mailsim run --fidelity session ---------------------------------------------------


def test_mailsim_run_at_session_fidelity_tells_the_mail_and_says_so(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    from simulator.cli import main

    monkeypatch.setenv("COLUMNS", "80")
    assert main(["run", "01-first-email", "--fidelity", "session"]) == 0
    printed = capsys.readouterr().out
    # no peers to show: one host column, wide enough for whole names at 80 columns
    assert "+00:10.154 mail.example.org MAIL F6B646BF40: queued" in printed
    out = " ".join(printed.split())
    assert "session fidelity: what happens to the mail, not the protocol lines" in out
    assert "downloaded" in out and "1 delivered · 0 bounced · 0 queued" in out
    assert "What to look for" not in out  # the lesson points at lines it would not see
    assert "EHLO" not in out


@pytest.mark.parametrize("extra", [["--view", "sequence"], ["--eavesdropper", "cafe-wifi"],
                                   ["--protocol", "smtp"], ["--session", "s1"]])
def test_what_needs_the_lines_is_refused_at_session_fidelity(
    extra: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    from simulator.cli import main

    assert main(["run", "eavesdropper", "--fidelity", "session", *extra]) == 2
    err = capsys.readouterr().err
    assert "session-fidelity run records none: use --fidelity dialogue" in err
    assert extra[0] in err and "needs the protocol lines" in err


def test_the_views_of_lines_refuse_a_session_run_from_python() -> None:
    session = Simulation.load("eavesdropper", fidelity="session")
    session.run()
    assert not session.trace.select(Kind.TAP)  # nobody to listen to: no lines
    for view in (session.sequence, lambda: session.eavesdrop("cafe-wifi")):
        with pytest.raises(ValueError, match="records none: load it with fidelity='dialogue'"):
            view()
    assert "session fidelity" in repr(session)
    console = Console(width=80, file=io.StringIO())
    console.print(session.dialogue())  # what happens to the mail, whole host names
    assert "mail.example.net     MAIL" in console.file.getvalue()  # type: ignore[attr-defined]
