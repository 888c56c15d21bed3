"""The Simulation life cycle: start, step, peek, run(until), finish, and the inspectors.

The central promise: any mix of steps and runs writes the same trace as
one plain run, byte for byte.
"""

from __future__ import annotations

import random

import pytest

import simulator
from simulator import catalog
from simulator.simulation import Simulation, Upcoming
from simulator.trace import Kind

BUNDLED = [path.stem for path in catalog.bundled()]


def plain(name: str) -> list[str]:
    return [record.to_json() for record in simulator.run(name).trace]


@pytest.mark.parametrize("name", BUNDLED)
def test_stepping_to_the_end_writes_the_same_bytes_as_one_run(name: str) -> None:
    simulation = Simulation.load(name)
    stepped = []
    while not simulation.finished:
        stepped += simulation.step()
    assert [r.to_json() for r in stepped] == plain(name)
    assert [r.to_json() for r in simulation.trace] == plain(name)
    assert simulation.step() == []


@pytest.mark.parametrize("name", BUNDLED)
@pytest.mark.parametrize("mix", range(4))
def test_any_mix_of_steps_and_runs_gives_the_same_trace(name: str, mix: int) -> None:
    rng = random.Random(mix)
    simulation = Simulation.load(name)
    returned = []
    while not simulation.finished:
        choice = rng.choice(["step", "steps", "until", "peek"])
        if choice == "step":
            returned += simulation.step()
        elif choice == "steps":
            for _ in range(rng.randint(1, 30)):
                returned += simulation.step()
        elif choice == "peek":
            simulation.peek()
        else:
            returned += simulation.run(until=simulation.now + rng.choice([0.0, 0.01, 1.0, 60.0]))
            if rng.random() < 0.2:
                returned += simulation.run()
    assert [r.to_json() for r in simulation.trace] == plain(name)
    assert [r.to_json() for r in returned] == plain(name)


def test_start_writes_sim_start_once_at_time_zero() -> None:
    simulation = Simulation.load("01-first-email")
    simulation.run(until=10.3)
    assert simulation.now == pytest.approx(10.3)
    simulation.start()
    simulation.run()
    starts = simulation.trace.select(Kind.SIM_START)
    assert len(starts) == 1 and starts[0].time == 0.0 and starts[0].seq == 0
    assert [r.kind for r in simulation.trace][-1] is Kind.SIM_END


def test_finish_closes_the_books_exactly_once() -> None:
    simulation = Simulation.load("01-first-email")
    simulation.run()
    assert simulation.finished
    assert simulation.finish() == [] and simulation.run() == []
    assert len(simulation.trace.select(Kind.SIM_END)) == 1
    assert simulation.now == simulation.duration


def test_finishing_early_is_marked_interrupted_and_reports_what_waits() -> None:
    simulation = Simulation.load("01-first-email")
    simulation.run(until=10.5)  # the message sits in mail.example.org's queue
    closing = simulation.finish()
    assert [r.kind for r in closing][-1] is Kind.SIM_END
    assert closing[-1].data["interrupted"] is True
    queued = [r for r in closing if r.kind is Kind.MAIL_QUEUED]
    assert [r.data["recipient"] for r in queued] == ["bob@example.net"]


def test_step_returns_one_happening_at_one_instant() -> None:
    simulation = Simulation.load("01-first-email")
    assert [r.kind for r in simulation.step()] == [Kind.SIM_START]
    for _ in range(20):
        records = simulation.step()
        assert records and len({r.time for r in records}) == 1
        assert records[0].time == simulation.now


def test_peek_tells_the_next_event_without_running_it() -> None:
    simulation = Simulation.load("01-first-email")
    simulation.start()
    before = len(simulation.trace)
    upcoming = simulation.peek()
    assert isinstance(upcoming, Upcoming) and upcoming.time is not None
    assert len(simulation.trace) == before
    simulation.run(until=9.0)
    upcoming = simulation.peek()
    assert upcoming.time == pytest.approx(10.0)  # alice writes at 10 s
    assert upcoming.process == "Thunderbird alice@example.org: send"
    simulation.run()
    assert simulation.peek() == Upcoming(None)


def test_every_live_agent_process_has_a_handle() -> None:
    simulation = Simulation.load("01-first-email")
    names = [name for name, _ in simulation.world.ctx.processes.alive()]
    assert "smtpd mail.example.org:25" in names
    assert "pop3d mail.example.net:110" in names
    assert any(name.startswith("Thunderbird bob@example.net") for name in names)
    simulation.run(until=11.0)
    process = dict(simulation.world.ctx.processes.alive())
    assert process["smtpd mail.example.org:587"].is_alive


def test_inspectors_read_the_world_at_this_instant() -> None:
    simulation = Simulation.load("01-first-email")
    simulation.run(until=10.5)
    [entry] = simulation.queue("mail.example.org")
    assert entry.recipients == ("bob@example.net",) and entry.sender == "alice@example.org"
    message_id = entry.message_id
    assert message_id is not None
    [copy] = simulation.message(message_id)
    assert (copy.place, copy.host) == ("queue", "mail.example.org")
    assert len(copy.values("Received")) == 1
    simulation.run(until=12.0)  # delivered to bob's mailbox, not yet downloaded
    [stored] = simulation.mailbox("bob@example.net")
    assert stored.subject == "Hello Bob" and stored.message_id == message_id
    [copy] = simulation.message(message_id)
    assert copy.place == "mailbox" and copy.envelope_sender == "alice@example.org"
    assert len(copy.values("Received")) == 2
    assert simulation.queue("mail.example.org") == []
    with pytest.raises(KeyError, match="runs no MTA"):
        simulation.queue("alice-pc")
    with pytest.raises(KeyError, match="no mailbox"):
        simulation.mailbox("nobody@example.net")


def test_select_filters_the_trace() -> None:
    simulation = simulator.run("02-unknown-user")
    smtp = simulation.trace.select("line", protocol="smtp")
    refusals = [r for r in smtp if r.text.startswith("550")]
    assert len(refusals) == 1 and refusals[0].host == "mail.example.net"
    assert all(r.kind is Kind.MAIL_BOUNCED for r in simulation.trace.select([Kind.MAIL_BOUNCED]))
    session = refusals[0].session
    assert session and all(r.session == session for r in simulation.trace.select(session=session))
    assert all("alice-pc" in (r.host, r.peer) for r in simulation.trace.select(host="alice-pc"))
    with pytest.raises(ValueError):
        simulation.trace.select("no.such.kind")


def test_the_package_exports_the_api() -> None:
    finished = simulator.run("01-first-email", seed=4)
    assert finished.finished and finished.seed == 4
    assert [f.fate.value for f in finished.fates()] == ["delivered"]
    assert simulator.Simulation is Simulation


def test_the_clock_reaches_the_end_even_with_an_event_due_exactly_then() -> None:
    simulation = Simulation.load("01-first-email")  # bob checks mail every 2 min: 120, 240, 360 s
    simulation.run(until=240.0)
    assert simulation.now == 240.0
    # the 240 s check is still due
    assert simulation.trace.select(Kind.TCP_CONNECT)[-1].time < 240.0
    simulation.run(until=240.5)
    assert simulation.trace.select(Kind.TCP_CONNECT)[-1].time >= 240.0


def test_a_streamed_run_holds_no_records() -> None:
    simulation = Simulation.load("01-first-email", keep_trace=False)
    seen: list[str] = []
    simulation.trace.subscribe(lambda record: seen.append(record.to_json()))
    simulation.run(until=200.0)
    assert simulation._fresh == []  # nothing grows with simulated time
    closing = simulation.run()
    assert [r.kind for r in closing][-1] is Kind.SIM_END
    assert seen == plain("01-first-email")
