"""The speed-ups of issue 17 against the slower code they replace: each fast path must do
exactly what the plain form does (same events in the same order, same accumulators)."""

from __future__ import annotations

import numpy as np
import pytest
import simpy
from helpers import ROOT

import sim.model.system as system_module
from sim import load_scenario
from sim.model.system import System, run_until


def _busy(env: simpy.Environment, log: list) -> None:
    """Processes that meet every case the run loop handles: ties in time (processed in the order
    scheduled), events at exactly the stop time (not processed), urgent events (a process
    starting) and a failure that a process handles."""

    def ticker(name: str, step: float):
        while True:
            yield env.timeout(step)
            log.append((env.now, name))

    def fails(event):
        yield env.timeout(1.5)
        event.fail(ValueError("no room"))

    def catches(event):
        try:
            yield event
        except ValueError as error:
            log.append((env.now, f"caught {error}"))
        env.process(ticker("late", 0.25))  # started mid-run: an urgent Initialize event

    failing = env.event()
    env.process(ticker("a", 0.5))
    env.process(ticker("b", 1.0))  # ties with "a" at every whole time
    env.process(fails(failing))
    env.process(catches(failing))


@pytest.mark.parametrize("until", [4.0, 3.75, 7])
def test_run_until_processes_the_same_events_as_simpy_run(until):
    logs, clocks = [], []
    for run in (lambda env: env.run(until=until), lambda env: run_until(env, until)):
        env, log = simpy.Environment(), []
        _busy(env, log)
        run(env)
        logs.append(log)
        clocks.append(env.now)
    assert logs[0] == logs[1]
    assert clocks[0] == clocks[1] == until
    assert logs[0][-1][0] < until  # events due at the stop time are left for later


def test_run_until_can_be_called_again_from_where_it_stopped():
    logs = []
    for run in (lambda env, t: env.run(until=t), run_until):
        env, log = simpy.Environment(), []
        _busy(env, log)
        run(env, 2.25)
        run(env, 5.0)
        logs.append((log, env.now))
    assert logs[0] == logs[1]


def test_run_until_crashes_on_a_failure_nobody_handles():
    def lost(env: simpy.Environment) -> simpy.Environment:
        """An environment in which an event fails at time 1 with nobody to handle it."""
        env.timeout(1.0).callbacks.append(lambda _event: env.event().fail(KeyError("lost")))
        return env

    for run in (lambda env: env.run(until=5.0), lambda env: run_until(env, 5.0)):
        with pytest.raises(KeyError):
            run(lost(simpy.Environment()))
    env = simpy.Environment()
    with pytest.raises(ValueError):
        run_until(env, 0.0)  # as SimPy: the stop time must be ahead of the clock


def _accumulators(scenario, fast: bool) -> tuple[dict, dict]:
    system = System(scenario, scenario.run.seed, replication=2)
    if fast:
        system.run()
    else:  # the same run driven by SimPy's own Environment.run
        try:
            system_module.run_until = lambda env, until: env.run(until=until)
            system.run()
        finally:
            system_module.run_until = run_until
    return system.monitor.arrays(), system.end_state()


@pytest.mark.parametrize("name", ["baseline.toml", "homefirst.toml"])
def test_a_replication_is_identical_with_simpy_run(name):
    """The whole model: every daily accumulator and the end state equal to the last bit."""
    scenario = load_scenario(ROOT / "scenarios" / name).with_run(years=0.25, warmup_days=30)
    fast, fast_state = _accumulators(scenario, fast=True)
    slow, slow_state = _accumulators(scenario, fast=False)
    assert fast.keys() == slow.keys()
    for key in fast:
        assert np.array_equal(fast[key], slow[key], equal_nan=True), key
    assert fast_state == slow_state
