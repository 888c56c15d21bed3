"""Reading a connection with patience: one watchdog timer per session.

A session waiting for its peer's bytes gives up after `seconds` of
silence.  Silence counts from when the last bytes either side sent have
arrived: at the deadline, if bytes are still on the wire either way (TCP
delivers a big message segment by segment), the session waits `seconds`
more from then, and checks again at that deadline.

A timeout per read would leave a dead timer in SimPy's queue for every
chunk received, minutes long, so thousands of them at once in a busy
hour.  A `Reader` keeps one timer, its watchdog, instead.  Each wait
takes the place in SimPy's queue that its timeout would have taken: the
deadline, and the event number SimPy would have given that timeout then.
A watchdog that comes up at an earlier place (set for an earlier wait)
puts itself back at the current one; at the current one it wakes the
session, which then looks at the wire.  The session waits on an event of
its own that the bytes or the watchdog trigger, whichever comes first:
one step after them, as a wait on "bytes or timeout" would resume it.
So every event falls in the order a timeout per read gives, ties included.
"""

from __future__ import annotations

from collections.abc import Generator
from heapq import heappush
from typing import Any

import simpy
from simpy.events import NORMAL, PENDING

from simulator.net.connection import Endpoint
from simulator.net.courier import InboxGet, trigger


class Reader:
    """The receiving side of one session: the peer's next bytes, or None after silence."""

    def __init__(self, endpoint: Endpoint, seconds: float) -> None:
        self.endpoint = endpoint
        self.env = endpoint.network.env
        self.seconds = seconds
        self._arrival: InboxGet | None = None  # the read under way, if any
        self._wake: simpy.Event | None = None  # what the session waits on meanwhile
        #: Where the current wait's timeout would be in SimPy's queue: (deadline, event id).
        self._due = (0.0, 0)
        self._timer: simpy.Event | None = None  # the watchdog, while in SimPy's queue
        self._timer_at = self._due  # and its place there

    def read(self) -> Generator[simpy.Event, Any, bytes | None]:
        """The peer's next bytes (EOF_MARK once it has closed), or None after silence."""
        env, endpoint = self.env, self.endpoint
        self._arrival = arrival = endpoint.inbox.get()
        arrival.callbacks.append(self._arrived)
        while True:
            self._wake = wake = simpy.Event(env)
            self._due = (env.now + self.seconds, next(env._eid))  # a timeout's place, now
            if self._timer is None:
                self._arm()
            yield wake
            if arrival._value is not PENDING:  # the bytes came, if only with the deadline
                self._arrival = self._wake = None
                return arrival._value  # an endpoint's inbox holds bytes
            if not (endpoint.receiving() or endpoint.peer.receiving()):
                break
        self._arrival = self._wake = None
        arrival.cancel()
        return None

    def stop(self) -> None:
        """The session is over: the watchdog, still queued, will wake nobody."""
        if self._timer is not None:
            self._timer.callbacks = []

    def _arrived(self, arrival: simpy.Event) -> None:
        wake = self._wake
        if arrival is self._arrival and wake is not None and wake._value is PENDING:
            trigger(wake)

    def _arm(self) -> None:
        """Put the watchdog at the current wait's place in SimPy's queue."""
        self._timer = timer = simpy.Event(self.env)
        timer._ok, timer._value = True, None
        timer.callbacks.append(self._expire)
        self._timer_at = due = self._due
        heappush(self.env._queue, (due[0], NORMAL, due[1], timer))

    def _expire(self, timer: simpy.Event) -> None:
        self._timer = None
        wake = self._wake
        if wake is None or wake._value is not PENDING:
            return  # no wait under way, or the bytes came: the next wait sets the watchdog
        if self._timer_at is self._due:
            trigger(wake)
        else:
            self._arm()
