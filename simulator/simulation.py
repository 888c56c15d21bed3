"""The `Simulation`: the one way a scenario runs, whole or step by step.

A `Simulation` wraps a built `World` with an explicit life cycle:

- `start()` writes `sim.start` once, at time 0;
- `step()` plays up to the next *happening* (the SimPy event that wrote
  one or more trace records) and returns those records; `peek()` says when
  the next SimPy event falls and which process it wakes, without running it;
- `run(until)` plays on to a simulated time, or to the end;
- `finish()` closes the books exactly once: what is still queued or in an
  Outbox is written to the trace, then `sim.end`.

Steps and runs only ever call `simpy.Environment.step` on the events before
the end of the scenario, so any mix of them gives the same trace as one
plain run, byte for byte.  Between steps the inspectors (`mailbox`,
`queue`, `message`) read the world as it is at that instant; the views
read the trace.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import simpy

from simulator.fidelity import Fidelity
from simulator.trace import SCHEMA_VERSION, Kind, TraceRecord
from simulator.trace_data import SimEnd, SimStart
from simulator.world import World

if TYPE_CHECKING:
    from simulator.fates import MessageFate
    from simulator.inspect import MailboxEntry, MessageCopy, QueueEntry
    from simulator.scenario.models import Scenario
    from simulator.trace import Trace
    from simulator.views import (
        DialogueView,
        FollowView,
        SequenceView,
        SummaryView,
        TopologyView,
    )
    from simulator.views.eavesdrop import EavesdropView


#: What `Simulation.peek` names when the next event starts a server's accept loop.
SERVERS_LISTEN = "(servers start listening)"


@dataclass(frozen=True, slots=True)
class Upcoming:
    """The next SimPy event: when it falls and the process it wakes up.

    `process` is the name an agent started the process under (for example
    ``"qmgr mail.example.org: F6B646BF40"``), or None for an event no agent
    process waits on (a packet in transit), or `SERVERS_LISTEN` when the
    servers' accept loops start.  `time` is None once nothing is
    left before the end of the scenario.
    """

    time: float | None
    process: str | None = None


class Simulation:
    """One scenario with one seed, played out on request.

    Build it with `Simulation.load(name_or_path)` or `Simulation(scenario)`;
    `simulator.run(...)` gives a finished one.  `keep_trace=False` streams
    records to the trace's sinks only, so a long run keeps no history.
    `fidelity="session"` plays each session whole and keeps only what
    happens to the mail (`simulator.fidelity`): for big worlds.
    """

    def __init__(
        self, scenario: Scenario, seed: int | None = None, *, keep_trace: bool = True,
        fidelity: Fidelity | str = Fidelity.DIALOGUE,
    ) -> None:
        from simulator.scenario.builder import build_world

        self.scenario: Scenario | None = scenario
        self._attach(build_world(scenario, seed=seed, keep_trace=keep_trace,
                                 fidelity=Fidelity(fidelity)))

    @classmethod
    def of_world(cls, world: World) -> Simulation:
        """A simulation of a world built by hand (tests, experiments), not from a scenario."""
        simulation = cls.__new__(cls)
        simulation.scenario = None
        simulation._attach(world)
        return simulation

    def _attach(self, world: World) -> None:
        self.world = world
        self._started = False
        self._finished = False
        self._fresh: list[TraceRecord] = []
        world.trace.subscribe(self._fresh.append)

    @classmethod
    def load(
        cls, name_or_path: str | Path, seed: int | None = None, *, keep_trace: bool = True,
        fidelity: Fidelity | str = Fidelity.DIALOGUE,
    ) -> Simulation:
        """A simulation of a bundled scenario (by name) or of a scenario file."""
        from simulator import catalog
        from simulator.scenario import load_scenario

        return cls(load_scenario(catalog.resolve(str(name_or_path))), seed,
                   keep_trace=keep_trace, fidelity=fidelity)

    # -- life cycle ---------------------------------------------------------

    @property
    def trace(self) -> Trace:
        """Every record so far (see `Trace.select` for filters)."""
        return self.world.trace

    @property
    def now(self) -> float:
        """The simulated time, in seconds since the start."""
        return float(self.world.env.now)

    @property
    def duration(self) -> float:
        """How long the scenario runs, in simulated seconds."""
        return self.world.duration

    @property
    def seed(self) -> int:
        """The seed of this run."""
        return self.world.seed

    @property
    def started(self) -> bool:
        """Whether `sim.start` has been written."""
        return self._started

    @property
    def finished(self) -> bool:
        """Whether the books are closed (`sim.end` written)."""
        return self._finished

    def start(self) -> list[TraceRecord]:
        """Write `sim.start` (once, at time 0); returns the records written."""
        if not self._started:
            self._started = True
            world = self.world
            world.trace.emit(
                Kind.SIM_START, "mailsim", world.name,
                SimStart(seed=world.seed, duration=world.duration,
                         hosts=tuple(sorted(world.topology.hosts)), schema=SCHEMA_VERSION,
                         fidelity=world.fidelity.value),
            )
        return self._take()

    def step(self) -> list[TraceRecord]:
        """Play up to the next happening and return its records.

        A happening is the SimPy event that wrote trace records: a protocol
        line, a DNS answer, a delivery.  When nothing is left before the
        end, the books are closed and the closing records are returned;
        after that, a step returns an empty list.
        """
        if self._finished:
            return []
        if not self._started:
            return self.start()
        env = self.world.env
        while not self._fresh:
            if env.peek() >= self.duration:
                return self.finish()
            env.step()
        return self._take()

    def peek(self) -> Upcoming:
        """The next SimPy event before the end, without running it."""
        env = self.world.env
        if self._finished or env.peek() >= self.duration:
            return Upcoming(None)
        return Upcoming(env.peek(), self._waiting_process())

    def run(self, until: float | None = None) -> list[TraceRecord]:
        """Play every event before `until` (simulated seconds), or to the end.

        Running to the end (no `until`, or one at or past the scenario's
        duration) also closes the books.  Returns the records written, but
        for a streamed trace (`keep_trace=False`) only those that close the
        books: the others have gone to the sinks, and none are held.
        """
        records = self.start() if not self._started else []
        limit = self.duration if until is None else min(until, self.duration)
        self._play_before(limit)
        self._advance_clock(limit)
        records += self._take()
        if until is None or until >= self.duration:
            records += self.finish()
        return records

    def _play_before(self, limit: float) -> None:
        """Step through every event due before `limit`: the hot loop of a run.

        It reads the head of SimPy's queue (a heap of (time, priority, id,
        event)) as `Environment.peek` does, without a call per event.  A
        streamed trace's records are dropped as they come: the sinks have them.
        """
        env = self.world.env
        queue, step = env._queue, env.step  # the queue is read only, never changed
        if self.world.trace.keeps:
            while queue and queue[0][0] < limit:
                step()
            return
        fresh = self._fresh
        while queue and queue[0][0] < limit:
            step()
            if fresh:
                fresh.clear()

    def finish(self) -> list[TraceRecord]:
        """Close the books (once): report what is still waiting, then `sim.end`.

        Finishing early stops the run at the current instant; `interrupted`
        marks it so in `sim.end` (for example after Ctrl-C).
        """
        if self._finished:
            return []
        records = self.start() if not self._started else []
        world = self.world
        interrupted = world.env.peek() < self.duration
        self._advance_clock(self.duration)
        self._finished = True
        for mta in world.mtas.values():
            mta.queue.report_remaining()
        for mua in (*world.muas.values(), *world.other_devices):
            mua.report_remaining()
        if interrupted:
            world.trace.emit(Kind.SIM_END, "mailsim", "interrupted", SimEnd(interrupted=True))
        else:
            world.trace.emit(Kind.SIM_END, "mailsim", "", SimEnd())
        return records + self._take()

    def _advance_clock(self, to: float) -> None:
        """Move the clock to `to` when no event falls before it.

        `Environment.run(until)` stops by an urgent event of its own, which
        runs before the ordinary events due at `to` too (only a process's
        start or an interrupt is urgent, and those are never scheduled
        ahead); SimPy puts it back, empty, at the head of the queue, and
        one more step drops it.
        """
        env = self.world.env
        if env.peek() >= to > env.now:
            env.run(until=to)
            env.step()

    def _take(self) -> list[TraceRecord]:
        taken = list(self._fresh)
        self._fresh.clear()
        return taken

    def _waiting_process(self) -> str | None:
        """The name of the agent process the next event resumes, if any.

        SimPy keeps its event queue as a heap of (time, priority, id, event);
        the event's callbacks name the processes that wait on it.
        """
        queue = self.world.env._queue  # read only, never changed
        if not queue:
            return None
        event = queue[0][3]
        for callback in event.callbacks or ():
            name = self.world.ctx.processes.name_of(getattr(callback, "__self__", None))
            if name is not None:
                return SERVERS_LISTEN if self._starts_listening(event, name) else name
        return None

    def _starts_listening(self, event: simpy.events.Event, name: str) -> bool:
        """Whether `event` starts a server's accept loop ("smtpd mail.example.org:25"):
        no happening of its own, only the listening socket it waits on."""
        if not isinstance(event, simpy.events.Initialize):
            return False
        listening = {f"{listener.host}:{listener.port}"
                     for listener in self.world.ctx.network.listeners()}
        return name.rpartition(" ")[2] in listening

    # -- inspectors: the world at this instant -------------------------------

    def fates(self) -> list[MessageFate]:
        """What became of every message so far, per recipient (from the trace)."""
        from simulator.fates import message_fates

        return message_fates(self.trace)

    def mailbox(self, address: str) -> list[MailboxEntry]:
        """The messages in `address`'s mailbox now."""
        from simulator.inspect import mailbox_entries

        return mailbox_entries(self.world, address)

    def queue(self, host: str) -> list[QueueEntry]:
        """The mail queue of the MTA on `host` now, like Postfix's `mailq`."""
        from simulator.inspect import queue_entries

        return queue_entries(self.world, host)

    def message(self, message_id: str) -> list[MessageCopy]:
        """Every copy of a message now, wherever it is, with its headers."""
        from simulator.inspect import message_copies

        return message_copies(self.world, message_id)

    # -- views: rich renderables of the trace so far -------------------------

    def dialogue(self, **filters: Any) -> DialogueView:
        """The conversation so far (filters: protocols, host, message, session, full)."""
        from simulator.views import DialogueView

        return DialogueView(self.trace, **filters)

    def sequence(self, **filters: Any) -> SequenceView:
        """A sequence diagram of the run so far, one lifeline per host (same filters)."""
        from simulator.views import SequenceView

        self._needs_lines("a sequence diagram")
        return SequenceView(self.trace, **filters)

    def follow(self, message_id: str | None = None) -> FollowView:
        """One message hop by hop, with its waiting times (default: the first one written)."""
        from simulator.views import FollowView

        if message_id is None:
            composed = self.trace.select(Kind.MAIL_COMPOSED)
            if not composed:
                raise ValueError("no message has been written yet")
            message_id = composed[0].message or ""
        elif not message_id.startswith("<"):
            message_id = f"<{message_id}>"
        return FollowView(self.trace, message_id)

    def topology(self) -> TopologyView:
        """Hosts, roles, links, domains and users of the scenario."""
        from simulator.views import TopologyView

        if self.scenario is None:
            raise ValueError("this simulation was built by hand, not from a scenario")
        return TopologyView(self.scenario)

    def eavesdrop(self, name: str) -> EavesdropView:
        """What the scenario's eavesdropper `name` saw (of the kept trace)."""
        from simulator.views.eavesdrop import EavesdropView

        self._needs_lines("an eavesdropper")
        return EavesdropView(self.trace, name)

    def _needs_lines(self, what: str) -> None:
        """ValueError at session fidelity: its trace holds no protocol lines to show."""
        if self.world.fidelity is Fidelity.SESSION:
            raise ValueError(f"{what} shows the protocol lines, and a session-fidelity run "
                             "records none: load it with fidelity='dialogue'")

    def summary(self) -> SummaryView:
        """One row per message and recipient with its fate so far."""
        from simulator.views import SummaryView

        return SummaryView(self.fates())

    def __repr__(self) -> str:
        state = "finished" if self._finished else "started" if self._started else "not started"
        clock = "" if math.isnan(self.now) else f" at {self.now:g}s"
        fidelity = " session fidelity" if self.world.fidelity is Fidelity.SESSION else ""
        return f"<Simulation {self.world.name!r} seed={self.seed}{fidelity} {state}{clock}>"


def run(
    name_or_path: str | Path, seed: int | None = None, *,
    fidelity: Fidelity | str = Fidelity.DIALOGUE,
) -> Simulation:
    """Load a scenario, play it to the end and return the finished simulation."""
    simulation = Simulation.load(name_or_path, seed, fidelity=fidelity)
    simulation.run()
    return simulation
