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


class Journey:
    __slots__ = ("_ended", "_generator")

    def __init__(self, generator: Generator[simpy.Event, object, object], ended: Callable[[], None]):
        self._generator = generator
        self._ended = ended
        self._step(None, None)

    def _resume(self, event: simpy.Event) -> None:
        if event._ok:
            self._step(event._value, None)
        else:
            event._defused = True  # handed to the journey, as a Process does
            self._step(None, event._value)

    def _step(self, value, error: BaseException | None) -> None:
        generator = self._generator
        while True:
            try:
                event = generator.send(value) if error is None else generator.throw(error)
            except StopIteration:
                self._ended()
                return
            if event.callbacks is not None:  # not yet processed: wait for it
                event.callbacks.append(self._resume)
                return
            # already processed: go on at once with its outcome
            if event._ok:
                value, error = event._value, None
            else:
                event._defused = True
                value, error = None, event._value
