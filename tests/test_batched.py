"""The numpy batch paths against the one-at-a-time paths they stand in for.

State-free arrivals (P0, deaths) are written a batch at a time for speed, while readmissions
go through the same logic one person at a time: the two must agree exactly (up to rounding),
or the fast path would quietly change the model.
"""

from __future__ import annotations

from array import array

import numpy as np
import pytest
from helpers import baseline

from sim.model import front_door, hospital
from sim.model.calendar import Calendar
from sim.model.monitor import Level, _spread, _spread_many
from sim.model.people import AttributePool
from sim.model.streams import Streams
from sim.model.system import System


@pytest.mark.parametrize(
    "probabilities",
    [
        "baseline",
        (0.1,) * 7,
        (1.0,) * 7,
        (0.3, 0.2, 0.5, 0.9, 0.0, 0.0, 0.7),  # no discharges at the weekend... on Fri and Sat
    ],
)
def test_leave_times_in_a_batch_equal_one_at_a_time(probabilities):
    scenario = baseline()
    calendar = Calendar(scenario)
    probs = scenario.acute.discharge_weekday.as_tuple() if probabilities == "baseline" else probabilities
    rng = np.random.default_rng(3)
    t = rng.uniform(0, 500, 5000)
    u = rng.random(5000)
    one_by_one = np.array([calendar.leave_time(a, b, probs) for a, b in zip(t, u)])
    assert np.array_equal(calendar.leave_times(t, u, probs), one_by_one)


def test_spreading_many_intervals_equals_spreading_each():
    """Random stretches, some empty, some running past the end (the overflow cell takes nothing)."""
    rng = np.random.default_rng(1)
    for _ in range(200):
        n = int(rng.integers(2, 40))
        k = int(rng.integers(0, 30))
        t0 = rng.uniform(0, n + 3, k)
        t1 = t0 + rng.exponential(3, k) * (rng.random(k) < 0.8)
        t0[: k // 3] = np.floor(t0[: k // 3])  # whole-day ends too
        weight = rng.uniform(0.5, 2, k)
        each = array("d", bytes(8 * n))
        for a, b, w in zip(t0, t1, weight):
            _spread(each, a, b, w)
        batch = np.zeros(n)
        _spread_many(batch, t0, t1, weight)
        np.testing.assert_allclose(batch, np.array(each), atol=1e-12)
        assert batch[-1] == 0.0


def test_level_integral_by_hand_and_across_flushes(monkeypatch):
    """A level 0 -> 2 at t=0.5 -> 1 at t=2.25 -> 0 at t=3, closed at 4 (5 days + overflow):
    day 0: 2 × 0.5 = 1; day 1: 2; day 2: 2 × 0.25 + 1 × 0.75 = 1.25; day 3: 0."""
    expected = [1.0, 2.0, 1.25, 0.0, 0.0, 0.0]
    for flush_every in (1, 2, 4096):
        monkeypatch.setattr(Level, "FLUSH_EVERY", flush_every)
        bins = array("d", bytes(8 * 6))
        level = Level(bins)
        level.change(0.5, 2)
        level.change(2.25, -1)
        level.change(3.0, -1)
        level.close(4.0)
        assert list(bins) == pytest.approx(expected, abs=1e-12)


def test_a_pool_gives_the_kth_person_the_kth_draws_however_blocked():
    """Common random numbers: batches of any size and one-at-a-time give the same people."""
    scenario = baseline()
    batched = AttributePool(scenario, Streams(7, 0), "front_door")
    columns = [batched.draw(n) for n in (3, 1000, 250)]
    people = [p for c in columns for p in batched.people(c, np.arange(len(c["pathway"])), [0] * 2000, 1, [0.0] * 2000)]
    single = AttributePool(scenario, Streams(7, 0), "front_door", block=64)
    assert people == [single.next(0, 1, 0.0) for _ in range(len(people))]


def _readmissions(monkeypatch) -> list:
    calls: list = []
    monkeypatch.setattr(front_door, "readmit", lambda system, person, from_home: calls.append(
        (round(system.env.now, 9), person.pid, person.spell, from_home)
    ))
    return calls


def test_state_free_stays_in_a_batch_equal_admitting_each_person(monkeypatch):
    """500 days of P0 and death admissions either side of the warm-up's end: the batch writes
    the same accumulators (occupancy, delays, discharges, people counted once a year) and
    schedules the same readmissions as admitting each person at their arrival time."""
    scenario = baseline().with_run(years=0.5, warmup_days=100)
    calls = _readmissions(monkeypatch)

    batch = System(scenario, seed=11, replication=0)
    columns = batch.pools["front_door"].draw(3000)
    state_free = (columns["diversion"] == 0) & (columns["dies_in_hospital"] | (columns["pathway"] == 0))
    columns = {k: v[state_free] for k, v in columns.items()}
    n = int(state_free.sum())
    times = np.sort(np.random.default_rng(5).uniform(0, 200, n))
    pids = np.arange(1, n + 1)
    hospital.state_free_stays(batch, columns, pids, times)
    batch.env.run(until=batch.end)
    batch.monitor.close(batch.end)
    batch_calls, calls[:] = list(calls), []

    each = System(scenario, seed=11, replication=0)
    people = each.pools["front_door"].people(columns, np.arange(n), pids.tolist(), 1, times.tolist())

    def admit_each():
        for person in people:
            yield each.env.timeout(person.arrived - each.env.now)
            hospital.admit(each, person)

    each.env.process(admit_each())
    each.env.run(until=each.end)
    each.monitor.close(each.end)

    assert sum(columns["dies_in_hospital"]) > 50 and sum(columns["readmit_after_p0"] & ~columns["dies_in_hospital"]) > 50
    assert batch_calls == calls and len(calls) > 50
    a, b = batch.monitor.arrays(), each.monitor.arrays()
    assert a.keys() == b.keys()
    for key in a:
        np.testing.assert_allclose(a[key], b[key], rtol=1e-9, atol=1e-9, err_msg=str(key))
    assert a[("people", "admitted")].sum() > 0
