"""Memory beyond live state: a run holds what waits, not what has happened.

A streamed run (`keep_trace=False`) keeps queued messages, open sessions
and mailboxes; it does not keep one object per message already sent or
downloaded.  Counted, never measured in bytes of RAM: the processes alive
while the traffic waits for its turn, the message-sized byte strings the
world holds at the end of a run, and the bookkeeping sets that must empty.
"""

from __future__ import annotations

import gc
import sys
import types
from collections.abc import Generator
from typing import Any, cast

import simpy

from simulator.agents.context import DueProcesses, SimContext
from simulator.agents.mua import Mua
from simulator.generate import generate_world, scenario_of
from simulator.mailstore import LocalFolder, Spool
from simulator.simulation import Simulation
from simulator.trace import Kind

#: A byte string this long is a message (or a good part of one), not a token or a line.
MESSAGE_SIZED = 300


def generated(messages: int) -> Simulation:
    """A small generated world: 2 providers of 3 users, a quarter of an hour of traffic."""
    return Simulation(scenario_of(generate_world(2, 3, messages, hours=0.25, seed=1)),
                      keep_trace=False)


def message_sized_bytes(root: object) -> int:
    """How many message-sized byte strings `root` reaches (modules, code and classes aside)."""
    module_dicts = {id(vars(m)) for m in list(sys.modules.values()) if m is not None}
    opaque = (types.ModuleType, type, types.FunctionType, types.BuiltinFunctionType,
              types.CodeType)
    seen: set[int] = set()
    stack, count = [root], 0
    while stack:
        obj = stack.pop()
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        if isinstance(obj, bytes | bytearray | memoryview):
            count += len(obj) >= MESSAGE_SIZED
        elif not isinstance(obj, opaque) and id(obj) not in module_dicts:
            stack.extend(gc.get_referents(obj))
    return count


def test_the_traffic_waits_on_timers_not_in_a_process_per_message() -> None:
    few, many = generated(20), generated(200)
    assert len(few.world.ctx.processes.alive()) == len(many.world.ctx.processes.alive())
    assert len(few.world.env._queue) == len(many.world.env._queue)  # SimPy's queue too
    few.run(until=1.0)
    many.run(until=1.0)
    assert len(few.world.env._queue) == len(many.world.env._queue)
    waiting = {name for name, _ in many.world.ctx.processes.alive()}
    assert not any(name.endswith(": send") for name in waiting)


def test_after_a_run_the_world_holds_no_message_it_has_done_with() -> None:
    simulation = generated(200)
    simulation.run()
    world = simulation.world
    downloaded = sum(len(mua.inbox) for mua in world.muas.values())
    assert downloaded >= 150  # most of the mail reached its readers' clients
    assert message_sized_bytes(world) < 20  # only what still waits: here, nearly nothing
    assert world.ctx.handovers == set()
    assert all(not mta.queue.entries for mta in world.mtas.values())
    assert len(world.ctx.processes.alive()) <= len(generated(20).world.ctx.processes.alive())


def test_a_client_gives_back_every_message_it_downloaded() -> None:
    simulation = Simulation(scenario_of(generate_world(1, 2, 8, hours=0.1, seed=2)))
    simulation.run()
    fetched = [r for r in simulation.trace if r.kind == Kind.MAIL_FETCHED]
    inboxes = [mua.inbox for mua in simulation.world.muas.values()]
    assert sum(len(inbox) for inbox in inboxes) == len(fetched) > 0
    for record in fetched:
        [copy] = [c for c in simulation.message(record.message or "") if c.place == "client"]
        assert copy.values("Message-ID") == [record.message]


def test_a_local_folder_reads_back_what_it_was_given() -> None:
    spool = Spool()
    assert spool.read(0, 0) == b""
    first, second = LocalFolder(spool), LocalFolder(spool)
    first.append(b"Subject: one\r\n\r\nbody\r\n")
    second.append(b"Subject: two\r\n\r\n")
    first.append(b"")
    first.append(b"Subject: three\r\n\r\n")
    assert len(first) == 3 and bool(first) and not LocalFolder(spool)
    assert first[0] == b"Subject: one\r\n\r\nbody\r\n" and first[-1] == b"Subject: three\r\n\r\n"
    assert first[1:] == [b"", b"Subject: three\r\n\r\n"]
    assert list(second) == [b"Subject: two\r\n\r\n"] and second == [b"Subject: two\r\n\r\n"]
    assert LocalFolder(Spool()) == [] and first != second
    assert b"" in first and repr(first) == "LocalFolder(3 messages)"


def test_due_processes_start_when_sleeping_ones_would_have_woken() -> None:
    """Ties at one instant keep their order: a due start takes the place of a
    process started then that sleeps until its time, in a batch or alone,
    made before the run or during it."""
    plan = [("sleeps", 5.0, "a"), ("due", 5.0, "b"), ("due", 3.0, "c"), ("due", 5.0, "d"),
            ("sleeps", 3.0, "e"), ("due", 5.0, "f"), ("due", 0.0, "g"), ("due", 3.0, "h")]
    later = [("due", 1.0, "i"), ("sleeps", 4.0, "j"), ("due", 4.0, "k"), ("due", 2.0, "l")]

    def order(due: bool) -> list[str]:
        env = simpy.Environment()
        ctx = SimContext(env, cast(Any, None), cast(Any, None), 0)
        woken: list[str] = []

        def job(tag: str) -> Generator[simpy.events.Event, Any, None]:
            woken.append(f"{tag}@{env.now:g}")
            yield env.timeout(0)
            woken.append(tag + " done")

        def sleeper(at: float, tag: str) -> Generator[simpy.events.Event, Any, None]:
            yield env.timeout(max(0.0, at - env.now))
            yield from job(tag)

        def make(steps: list[tuple[str, float, str]]) -> None:
            for how, at, tag in steps:
                if how == "due" and due:
                    ctx.start_at(at, tag, job, tag)
                else:
                    ctx.start(tag, sleeper(at, tag))

        make(plan)
        env.run(until=2.0)
        make(later)
        env.run()
        return woken

    expected = order(due=False)
    assert order(due=True) == expected
    assert expected[:3] == ["g@0", "g done", "i@2"] and len(expected) == 24


def test_the_stepper_names_a_due_send_by_its_client() -> None:
    simulation = generated(5)
    mua = next(iter(simulation.world.muas.values()))
    assert isinstance(mua, Mua)
    queue = simulation.world.env._queue
    names = {simulation.world.ctx.processes.name_of(getattr(callback, "__self__", None))
             for *_, event in queue for callback in event.callbacks or ()
             if isinstance(getattr(callback, "__self__", None), DueProcesses)}
    assert f"{mua.config.client} {mua.config.address}: send" in names


def test_a_pop3_client_forgets_the_uids_of_what_it_deleted() -> None:
    """Deleting at QUIT (RFC 1939 §6), a client need not skip those UIDs again (§7)."""
    simulation = generated(200)
    simulation.run()
    readers = [mua.reader for mua in simulation.world.muas.values()]
    assert sum(len(mua.inbox) for mua in simulation.world.muas.values()) >= 150
    assert sum(len(getattr(reader, "_known_uids", ())) for reader in readers) == 0
