"""A person's journey: a generator of SimPy events, driven without a SimPy Process.

A SimPy Process costs two events besides the ones it waits for: an `Initialize` to start it
and the process event scheduled when it ends. A journey needs neither (nobody waits for a
journey to end, and it can start at once), and on the baseline those two are a quarter of
all events. `Journey` runs the generator now, up to its first wait, and resumes it from the
callbacks of the events it yields, as SimPy's `Process._resume` does; `ended` is called
when the generator returns.
"""

from __future__ import annotations

from collections.abc import Callable, Generator

import simpy


class _Started:
    """What a journey starts from: as if resumed by an event that succeeded with no value."""

    _ok = True
    _value = None


class Journey:
    __slots__ = ("_ended", "_generator")

    def __init__(self, generator: Generator[simpy.Event, object, object], ended: Callable[[], None]):
        self._generator = generator
        self._ended = ended
        self._resume(_Started)

    def _resume(self, event: simpy.Event) -> None:
        """Go on with the outcome of `event` up to the next event not yet processed."""
        generator = self._generator
        while True:
            try:
                if event._ok:
                    event = generator.send(event._value)
                else:
                    event._defused = True  # handed to the journey, as a Process does
                    event = generator.throw(event._value)
            except StopIteration:
                self._ended()
                return
            if event.callbacks is not None:  # not yet processed: wait for it
                event.callbacks.append(self._resume)
                return
            # already processed: go on at once with its outcome
