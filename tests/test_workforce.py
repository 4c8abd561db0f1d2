"""Reablement as staff hours (sim/model/workforce.py) on hand-worked cases, and team overflow."""

from __future__ import annotations

from collections import namedtuple

import pytest
import simpy
from helpers import kpi_values, modify

from sim.model import simulate
from sim.model.monitor import Monitor
from sim.model.service import Service
from sim.model.workforce import HoursService

Who = namedtuple("Who", "pid hours_start hours_end duration")


def make(capacities, days=40, overflow_after=None):
    env = simpy.Environment()
    monitor = Monitor(days)
    svc = HoursService(env, monitor, "reablement", capacities, lambda p: (p.hours_start, p.hours_end, p.duration),
                       overflow_after=overflow_after)
    return env, monitor, svc


def run_people(env, svc, people, sites=None):
    """Each (who, arrival) requests, starts at once when granted, stays `duration` days."""
    started = {}

    def person(who, arrive):
        yield env.timeout(arrive)
        site = yield svc.request(who, "hospital", sites)
        started[who.pid] = env.now
        svc.occupy(site, who)
        yield env.timeout(who.duration)
        svc.release(site, person=who)

    for who, arrive in people:
        env.process(person(who, arrive))
    env.run(until=60)
    return started


def test_constant_needs_behave_like_places():
    """20 hours a week, three people needing 10 h each for 5 days, all at t = 0: two start at
    once, the third when the first ends (t = 5), exactly as two places would."""
    env, _, svc = make({"team": 20})
    people = [(Who(k, 10.0, 10.0, 5.0), 0.0) for k in (1, 2, 3)]
    assert run_people(env, svc, people) == {1: 0.0, 2: 0.0, 3: 5.0}


def test_a_falling_need_frees_hours_at_the_daily_review():
    """15 hours a week. A needs 10 h falling to 0 over 10 days, so A holds 10 − t h at day t.
    B (10 h) fits once 10 − t + 10 ≤ 15, i.e. t ≥ 5: the review at midnight of day 5 takes B."""
    env, _, svc = make({"team": 15})
    people = [(Who("A", 10.0, 0.0, 10.0), 0.0), (Who("B", 10.0, 10.0, 3.0), 0.2)]
    assert run_people(env, svc, people) == {"A": 0.0, "B": 5.0}


def test_first_come_first_served_no_small_need_overtakes():
    """12 hours: A holds 8 for 4 days; B needs 6 (does not fit), C then needs 2 (would fit) but
    waits behind B; when A ends both fit (6 + 2 ≤ 12) and start together at t = 4."""
    env, _, svc = make({"team": 12})
    people = [(Who("A", 8.0, 8.0, 4.0), 0.0), (Who("B", 6.0, 6.0, 4.0), 1.0), (Who("C", 2.0, 2.0, 4.0), 2.0)]
    assert run_people(env, svc, people) == {"A": 0.0, "B": 4.0, "C": 4.0}


def test_committed_hours_fall_in_a_straight_line():
    """10 h a week falling to 4 over 6 days: 7 h half way, 4 h at the end, until released."""
    env, _, svc = make({"team": 40})
    who = Who("A", 10.0, 4.0, 6.0)
    assert svc.take(who, "hospital") == "team"
    svc.occupy("team", who)
    env.run(until=3.0)
    assert svc.committed("team") == pytest.approx(7.0)
    env.run(until=8.0)
    assert svc.committed("team") == pytest.approx(4.0)


# -- teams and overflow, in places -------------------------------------------------------------


def _north_then_overflow(overflow, joins=1.0):
    """(site, start) of B, who joins at `joins` and waits for the north team while A holds it
    for 10 days."""
    env = simpy.Environment()
    svc = Service(env, Monitor(30), "reablement", {"north": 1, "south": 1}, overflow_after=overflow)
    started = {}

    def person(pid, arrive, stay):
        yield env.timeout(arrive)
        site = yield svc.request(Who(pid, 0, 0, 0), "hospital", ("north",))
        started[pid] = (site, env.now)
        yield env.timeout(stay)
        svc.release(site, present=False)

    env.process(person("A", 0.0, 10.0))
    env.process(person("B", joins, 1.0))
    env.run(until=30)
    return started["B"]


def test_overflow_after_days_takes_any_team_with_room():
    """Two teams of one place. North is busy for 10 days with A; B (north) waits. Without
    overflow B starts at 10 in north. With overflow after 3 days, checked at the daily review
    at midnight: B joining at 1 is due at 4, a midnight, and starts then in the idle south
    team; B joining at 1.5 is due at 4.5 and starts at the next midnight, 5."""
    assert _north_then_overflow(None) == ("north", 10.0)
    assert _north_then_overflow(3.0) == ("south", 4.0)
    assert _north_then_overflow(3.0, joins=1.5) == ("south", 5.0)


def test_hours_scenario_runs_and_reports_hours_occupancy(scenario_hours):
    scenario, out = scenario_hours
    k = kpi_values(out, scenario)
    assert 0.5 < k[("reablement_occupancy", "total")] <= 1.0
    assert k[("reablement_starts_per_week", "total")] > 0


@pytest.fixture(scope="module")
def scenario_hours():
    from helpers import baseline

    base = baseline()
    # the baseline's places × its mean starting hours (10 h a week): the same staff in hours
    scenario = modify(base, {"reablement.capacity_unit": "hours_per_week", "reablement.capacity": 3650,
                             "run.years": 0.25, "run.warmup_days": 60})
    return scenario, simulate(scenario, 0)
