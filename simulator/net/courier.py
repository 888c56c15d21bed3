"""How bytes and new connections arrive: inboxes, and the courier that fills them.

An `Inbox` is where items arrive (an endpoint's bytes, a listener's new
connections); the `Courier` puts each item in after its transit time.
`trigger` is `Event.succeed` without its calls, for the hot path.
"""

from __future__ import annotations

from heapq import heappush
from typing import TYPE_CHECKING, Any

import simpy
from simpy.events import NORMAL, PENDING

if TYPE_CHECKING:
    from simulator.net.connection import Endpoint


def trigger(event: simpy.Event, value: Any = None) -> None:
    """`event.succeed(value)` for a pending event, without its two calls (the hot path).

    The event goes into SimPy's queue now, with the next event number, as
    `Environment.schedule` puts it.
    """
    env = event.env
    event._ok, event._value = True, value
    heappush(env._queue, (env._now, NORMAL, next(env._eid), event))


def at(env: simpy.Environment, when: float) -> simpy.Event:
    """An event that fires at simulated time `when` (not before now), as a timeout would."""
    event = simpy.Event(env)
    event._ok, event._value = True, None
    heappush(env._queue, (when, NORMAL, next(env._eid), event))
    return event


class Inbox:
    """Where items arrive by `Courier`: bytes, or accepted connections.

    It keeps the events of an unbounded `simpy.Store`, one for one and in
    the same order, without the generic machinery of SimPy's resources: a
    put adds its item at once and succeeds; when the put is processed, the
    first waiting get takes the first item.  A get succeeds at once if an
    item is there.
    """

    def __init__(self, env: simpy.Environment) -> None:
        self.env = env
        self.items: list[Any] = []
        self.get_queue: list[InboxGet] = []

    def put(self, item: Any) -> simpy.Event:
        """Add `item`; the event succeeds now and, processed, hands it to a waiting get."""
        self.items.append(item)
        put = simpy.Event(self.env)
        put.callbacks.append(self._trigger_get)
        trigger(put)
        return put

    def get(self) -> InboxGet:
        """An event that yields the next item."""
        return InboxGet(self)

    def arrive(self, arrival: simpy.Event) -> None:
        """The callback of an item's timeout: put the item in."""
        self.put(arrival._value)

    def land(self, arrival: simpy.Event) -> None:
        """The callback of an item's flight (`Courier.fly`): to a waiting get at once.

        The get is processed right here, as SimPy would process it, with no
        put and no get event of its own; with nobody waiting the item waits.
        """
        item = arrival._value
        if not self.get_queue:
            self.items.append(item)
            return
        get = self.get_queue.pop(0)
        get._ok, get._value = True, item
        callbacks, get.callbacks = get.callbacks, None  # type: ignore[assignment]
        for callback in callbacks:
            callback(get)

    def _trigger_get(self, put: simpy.Event | None = None) -> None:
        if self.get_queue and self.items:
            trigger(self.get_queue.pop(0), self.items.pop(0))


class InboxGet(simpy.Event):
    """A request for the next item of an `Inbox`, served in order."""

    def __init__(self, inbox: Inbox) -> None:
        self.env, self.callbacks = inbox.env, []  # what Event.__init__ does
        self.inbox = inbox
        inbox.get_queue.append(self)
        inbox._trigger_get()

    def cancel(self) -> None:
        """Withdraw the request if no item has been taken for it yet."""
        if self._value is PENDING:
            self.inbox.get_queue.remove(self)


class Courier:
    """Puts items into inboxes after a delay, in order, with no SimPy process per item.

    `carry` keeps every event of a process per item, so a trace is the
    same byte for byte (dialogue fidelity); `fly` takes one event per item
    (session fidelity, where the order of simultaneous events may differ).

    Each item is a timeout (an event in SimPy's queue, made as
    `env.timeout` makes one) whose callback puts it into the inbox.  The
    timeouts are created as a process started at the moment of sending
    would create them: by an urgent event at that instant, so items sent
    and events scheduled at the same instant keep one order, and a trace
    stays the same byte for byte as with a process per item.  Items sent
    one after another, with nothing scheduled in between, share one urgent
    event.
    """

    def __init__(self, env: simpy.Environment) -> None:
        self.env = env
        self._batch: list[tuple[Inbox, bytes | Endpoint, float]] = []
        self._mark = -1  # the last number SimPy's event counter gave when the batch grew

    def carry(self, inbox: Inbox, item: bytes | Endpoint, delay: float) -> None:
        """Put `item` (bytes, or a new connection's server end) into `inbox` after `delay`."""
        env = self.env
        number = next(env._eid)  # one more than the last event scheduled, if none since
        if self._batch and number == self._mark + 1:
            self._mark = number
        else:
            self._batch = []
            start = simpy.Event(env)
            start.callbacks.append(self._dispatch)
            start._ok, start._value = True, self._batch
            env.schedule(start, simpy.events.URGENT)  # takes number + 1
            self._mark = number + 1
        self._batch.append((inbox, item, delay))

    def fly(self, inbox: Inbox, item: bytes | Endpoint, delay: float) -> None:
        """Put `item` into `inbox` after `delay`: one event, handed straight to a waiting get."""
        env = self.env
        arrival = simpy.Event(env)
        arrival._ok, arrival._value = True, item
        arrival.callbacks.append(inbox.land)
        heappush(env._queue, (env._now + delay, NORMAL, next(env._eid), arrival))

    def _dispatch(self, start: simpy.Event) -> None:
        batch: list[tuple[Inbox, bytes | Endpoint, float]] = start._value
        if batch is self._batch:
            self._batch = []
        env = self.env
        queue, numbers, now = env._queue, env._eid, env._now
        for inbox, item, delay in batch:  # each as `env.timeout(delay, item)` would be
            arrival = simpy.Event(env)
            arrival._ok, arrival._value = True, item
            arrival.callbacks.append(inbox.arrive)
            heappush(queue, (now + delay, NORMAL, next(numbers), arrival))
