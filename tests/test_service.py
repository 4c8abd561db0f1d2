"""Queue semantics of a capacity-limited service, on hand-worked cases."""

import math

import simpy

from sim.model.monitor import Monitor
from sim.model.service import Service


class Who:
    def __init__(self, pid):
        self.pid = pid


def make(capacities, priority=None, days=10):
    env = simpy.Environment()
    monitor = Monitor(days)
    return env, monitor, Service(env, monitor, "beds", capacities, priority)


def test_priority_rank_is_served_before_earlier_lower_rank():
    """One slot held by A; B (community, rank 1) joins before C (hospital, rank 0): C goes first."""
    env, _, svc = make({"all": 1}, priority={"hospital": 0, "community": 1})
    granted = []

    def person(pid, source, arrive, stay):
        yield env.timeout(arrive)
        site = yield svc.request(Who(pid), source)
        granted.append((pid, env.now))
        svc.occupy(site)
        yield env.timeout(stay)
        svc.release(site)

    env.process(person("A", "hospital", 0.0, 5.0))
    env.process(person("B", "community", 1.0, 1.0))
    env.process(person("C", "hospital", 2.0, 1.0))
    env.run()
    # A 0-5; C (rank 0) gets the slot at 5 and leaves at 6; B waits until 6.
    assert granted == [("A", 0.0), ("C", 5.0), ("B", 6.0)]


def test_equal_ranks_are_first_come_first_served():
    env, _, svc = make({"all": 1})
    granted = []

    def person(pid, arrive):
        yield env.timeout(arrive)
        site = yield svc.request(Who(pid), "hospital")
        granted.append(pid)
        yield env.timeout(2.0)
        svc.release(site, present=False)

    for i, t in enumerate([0.0, 0.5, 0.7, 0.9]):
        env.process(person(i, t))
    env.run()
    assert granted == [0, 1, 2, 3]


def test_capacity_cut_ends_no_stay_and_rise_admits_the_queue():
    """Two in service, capacity cut to 1 at t=1: both stay; the first release frees nothing
    (allocated 1 = capacity); capacity back to 3 at t=4 lets the queued person in at once."""
    env, _, svc = make({"all": 2})
    granted = {}

    def person(pid, arrive, stay):
        yield env.timeout(arrive)
        site = yield svc.request(Who(pid), "hospital")
        granted[pid] = env.now
        svc.occupy(site)
        yield env.timeout(stay)
        svc.release(site)

    def schedule():
        yield env.timeout(1.0)
        svc.set_capacity("all", 1)
        yield env.timeout(3.0)
        svc.set_capacity("all", 3)

    env.process(person("a", 0.0, 2.0))
    env.process(person("b", 0.0, 10.0))
    env.process(person("c", 0.5, 1.0))
    env.process(schedule())
    env.run()
    assert granted == {"a": 0.0, "b": 0.0, "c": 4.0}


def test_preferred_site_waits_for_its_own_site_only():
    env, _, svc = make({"north": 1, "south": 1})
    granted = {}

    def person(pid, site_wanted, arrive, stay):
        yield env.timeout(arrive)
        site = yield svc.request(Who(pid), "hospital", (site_wanted,))
        granted[pid] = (site, env.now)
        yield env.timeout(stay)
        svc.release(site, present=False)

    env.process(person("n1", "north", 0.0, 3.0))
    env.process(person("n2", "north", 1.0, 1.0))  # south is free, but n2 waits for north
    env.process(person("s1", "south", 2.0, 1.0))  # overtakes nobody: gets south at once
    env.run()
    assert granted == {"n1": ("north", 0.0), "n2": ("north", 3.0), "s1": ("south", 2.0)}


def test_first_free_takes_the_first_site_in_order():
    env, _, svc = make({"a": 1, "b": 1})
    sites = []

    def person(arrive):
        yield env.timeout(arrive)
        site = yield svc.request(Who(arrive), "hospital")
        sites.append(site)

    for t in (0.0, 1.0):
        env.process(person(t))
    env.run()
    assert sites == ["a", "b"]


def test_held_slot_is_lost_capacity_and_occupancy_counts_people_present():
    """A slot granted at t=0 whose person arrives at t=2 (e.g. waits for Monday): capacity is
    used from 0, occupancy (people present) only from 2. Over [0, 4): occupied = 2 bed-days."""
    env, monitor, svc = make({"all": 1}, days=4)

    def person():
        site = yield svc.request(Who(1), "hospital")
        yield env.timeout(2.0)
        svc.occupy(site)

    def second():
        yield env.timeout(1.0)
        yield svc.request(Who(2), "hospital")
        raise AssertionError("must not be granted: the only slot is held")

    env.process(person())
    env.process(second())
    env.run(until=4.0)
    monitor.close(4.0)
    daily = monitor.arrays()
    assert math.isclose(daily[("beds.occupied", "all")].sum(), 2.0)
    assert math.isclose(daily[("beds.capacity", "all")].sum(), 4.0)
    assert math.isclose(daily[("beds.queue", "hospital")].sum(), 3.0)  # person 2 waits from 1 to 4


def test_unlimited_capacity_has_undefined_occupancy():
    env, monitor, _svc = make({"all": float("inf")}, days=2)
    env.run(until=2.0)
    monitor.close(2.0)
    assert math.isnan(monitor.arrays()[("beds.capacity", "all")][:2].sum())
