"""The journey driver (sim.model.journey) against SimPy's own Process, on hand-made journeys:
the same things happen at the same times, with two fewer events per journey."""

from __future__ import annotations

import simpy

from sim.model.journey import Journey


def _journeys(env: simpy.Environment, log: list):
    """Three journeys that meet every case the driver handles: timeouts, an event succeeded by
    another journey (with a value), an event already processed, and a failed event."""
    shared = env.event()
    failed = env.event()

    def first():
        yield env.timeout(1.0)
        shared.succeed("handed over")
        log.append((env.now, "first succeeds shared"))
        yield env.timeout(2.0)
        failed.fail(ValueError("no room"))
        log.append((env.now, "first fails failed"))

    def second():
        value = yield shared
        log.append((env.now, f"second got {value}"))
        yield env.timeout(0.5)
        again = yield shared  # processed already: goes on at once with its value
        log.append((env.now, f"second again {again}"))

    def third():
        try:
            yield failed
        except ValueError as error:
            log.append((env.now, f"third caught {error}"))
        yield env.timeout(1.0)
        log.append((env.now, "third done"))
        return "finished"

    return [first(), second(), third()]


class _Counting(simpy.Environment):
    """An environment that counts the events it schedules."""

    scheduled = 0

    def schedule(self, event, priority=simpy.core.NORMAL, delay=0):
        self.scheduled += 1
        super().schedule(event, priority, delay)


def _run(driver: str) -> tuple[list, int, int]:
    """(log, journeys ended, events scheduled) with SimPy processes or with Journey."""
    env = _Counting()
    log: list = []
    ended = []
    for journey in _journeys(env, log):
        if driver == "process":
            env.process(journey).callbacks.append(lambda _event: ended.append(1))
        else:
            Journey(journey, lambda: ended.append(1))
    env.run()
    return log, len(ended), env.scheduled


def test_journey_does_what_a_process_does_with_two_fewer_events_each():
    process_log, process_ended, process_events = _run("process")
    journey_log, journey_ended, journey_events = _run("journey")
    expected = [
        (1.0, "first succeeds shared"),
        (1.0, "second got handed over"),
        (1.5, "second again handed over"),
        (3.0, "first fails failed"),
        (3.0, "third caught no room"),
        (4.0, "third done"),
    ]
    assert process_log == expected  # the hand-worked timeline holds for SimPy itself
    assert journey_log == expected
    assert process_ended == journey_ended == 3
    # a process costs an Initialize and its own end event; a journey neither
    assert process_events - journey_events == 2 * 3


def test_journey_runs_at_once_up_to_its_first_wait():
    env = simpy.Environment()
    steps = []

    def journey():
        steps.append("started")
        yield env.timeout(1.0)
        steps.append("resumed")

    Journey(journey(), lambda: steps.append("ended"))
    assert steps == ["started"]  # before the environment has run at all
    env.run()
    assert steps == ["started", "resumed", "ended"]
