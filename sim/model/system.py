"""One replication: wires the services together and runs the SimPy environment.

The flow (docs/model.md has the diagram): front door -> (diverted to Home Ward / assessment
and home / step-up reablement / step-up bed, if they have room) or admitted -> clinical stay
-> no reason to reside -> pathway P0-P3 -> discharge process -> wait for the service, in the
acute bed -> leave on a discharge day -> reablement / short-term bed / care home -> outcome
(home, ongoing homecare, readmission to the front door as the same person, long-term care,
death). Community referrals compete for the same reablement and bed capacity.
"""

from __future__ import annotations

import gc
import heapq
import math
from dataclasses import dataclass, field

import numpy as np
import simpy

from ..inputs.scenario import Scenario
from ..units import DAYS_PER_YEAR
from . import beds, census, front_door, hospital, reablement
from .calendar import Calendar
from .journey import Journey
from .monitor import Monitor
from .people import AttributePool, SpellPool
from .records import Records
from .service import Service
from .streams import Streams
from .workforce import HoursService

ALL = "all"  # the single site of a one-site service


@dataclass
class ReplicationOutput:
    """Raw accumulators of one replication (analysis lives in sim.experiment.kpis)."""

    replication: int
    daily: dict[tuple[str, str], np.ndarray]
    end_state: dict[str, float] = field(default_factory=dict)
    trace: list | None = None
    records: Records | None = None


class System:
    def __init__(self, scenario: Scenario, seed: int, replication: int, trace: bool = False, records: bool = False):
        self.s = scenario
        self.env = simpy.Environment()
        self.end = float(scenario.end_day)
        self.warmup_days = scenario.run.warmup_days
        self.monitor = Monitor(scenario.end_day)
        self.calendar = Calendar(scenario)
        self.streams = Streams(seed, replication)
        self.trace: list | None = [] if trace else None
        self.records: Records | None = Records() if records else None
        self.pools = {name: AttributePool(scenario, self.streams, name) for name in ("front_door", "community")}
        self.pools["readmission"] = SpellPool(scenario, self.streams, "readmission")
        self._next_pid = 0
        # journeys running (a generator of events or a timed callback): one per person still in the
        # system on a journey (a hand-over, e.g. Home Ward to hospital, happens within one step)
        self.journeys = 0
        self.readiness_days = scenario.acute.readiness_weekday.as_tuple()
        self.hospital_days = scenario.acute.discharge_weekday.as_tuple()
        self.bed_days = scenario.beds.discharge_weekday.as_tuple()
        m = self.monitor
        self.acute_occupied = m.level("acute.occupied")
        self.acute_delayed = {r: m.level("acute.delayed", r) for r in hospital.DELAY_REASONS}
        self.bed_delayed = {r: m.level("beds.delayed", r) for r in beds.DELAY_REASONS}
        self.in_acute = 0  # complex (process-managed) patients now in an acute bed
        self.census_people = 0  # people put in at t = 0 from the scenario's census (run.census)
        # person ids already counted, by (reporting year, counter); years long past are dropped
        self.people_seen: dict[tuple[int, str], set[int]] = {}

        def service(name, capacities, priority=None, overflow_after=None):
            return Service(self.env, m, name, capacities, priority, self.trace, overflow_after)

        sc = scenario
        self.home_ward = service("home_ward", {ALL: sc.home_ward.capacity})
        self.assessment = service("assessment", {ALL: sc.front_door.assessment.capacity})
        # unlimited assessment meets no capacity: people sent home from it need no event
        self.assessment_limited = not math.isinf(sc.front_door.assessment.capacity) or bool(
            sc.front_door.assessment.capacity_schedule
        )
        overflow = sc.reablement.overflow
        teams = sc.team_capacities(sc.reablement.capacity)
        overflow_after = None if overflow is None else overflow.after_days
        if sc.reablement.capacity_unit == "hours_per_week":
            self.reablement = HoursService(self.env, m, "reablement", teams, self._reablement_hours,
                                           sc.reablement.priority.model_dump(), self.trace, overflow_after)
        else:
            self.reablement = service("reablement", teams, sc.reablement.priority.model_dump(), overflow_after)
        # the sites (teams, bed bases) a person from each locality accepts; None: any
        self.team_of = {name: (name,) for name in sc.localities} or {ALL: None}
        nearest = sc.beds.site_choice == "nearest_acceptable"
        self.bed_sites_of = {name: (p.bed_sites or None) if nearest else None for name, p in sc.localities.items()}
        self.beds = service("beds", {n: site.beds for n, site in sc.beds.sites.items()}, sc.beds.priority.model_dump())
        self.placements = service("placements", {ALL: sc.placements.capacity}, sc.placements.priority.model_dump())
        self.los_multiplier = {n: site.los_multiplier for n, site in sc.beds.sites.items()}
        self._schedule_capacity(self.home_ward, ALL, sc.home_ward.capacity_schedule)
        self._schedule_capacity(self.assessment, ALL, sc.front_door.assessment.capacity_schedule)
        for change in sc.reablement.capacity_schedule:  # the city's places, shared among the teams
            for team, places in sc.team_capacities(change.capacity).items():
                self._schedule_change(self.reablement, team, change.date, places)
        self._schedule_capacity(self.placements, ALL, sc.placements.capacity_schedule)
        for name, site in sc.beds.sites.items():
            self._schedule_capacity(self.beds, name, site.capacity_schedule)

    # -- helpers used by the service modules ---------------------------------------------------
    def new_person(self, pool: str, t: float):
        self._next_pid += 1
        return self.pools[pool].next(self._next_pid, 1, t)

    def new_pids(self, n: int) -> np.ndarray:
        """Ids for n new people drawn as a batch."""
        first = self._next_pid + 1
        self._next_pid += n
        return np.arange(first, first + n)

    def enter(self, person, t: float) -> None:
        self.monitor.count("system.entered", "total", t)

    def leave(self, person, route: str, t: float) -> None:
        self.monitor.count("system.left", route, t)

    def count_person(self, counter: str, person, t: float) -> None:
        """Count a person once per counter and reporting year (for 'people per year').

        Reporting years run from the start date in 365-day blocks. Counts can be recorded
        ahead of time (a P0 discharge is written on admission), never more than a year ahead,
        so the ids of years two or more before the current one can be forgotten: memory
        stays flat however long the run.
        """
        warmup = self.warmup_days
        if warmup <= t < self.end:
            year = int((t - warmup) // DAYS_PER_YEAR)
            seen = self.people_seen.get((year, counter))
            if seen is None:
                seen = self.people_seen[(year, counter)] = set()
                for old in [key for key in self.people_seen if key[0] < year - 1]:
                    del self.people_seen[old]
            if person.pid not in seen:
                seen.add(person.pid)
                self.monitor.count("people", counter, t)

    def count_new_people(self, counter: str, times: np.ndarray) -> None:
        """`count_person` for people who cannot have been counted before nor be seen again."""
        reported = times[(times >= self.s.run.warmup_days) & (times < self.end)]
        self.monitor.count_many("people", counter, reported)

    def start(self, journey) -> None:
        """Run a person's journey (a generator of events) from now: only for people who meet a
        queue. It runs at once up to its first wait (sim.model.journey)."""
        self.journeys += 1
        Journey(journey, self._journey_ended)

    def _journey_ended(self) -> None:
        self.journeys -= 1

    def call_at(self, t: float, action, *args) -> None:
        """Run action(*args) at time t (a plain callback: no process needed)."""
        if t < self.end:
            event = self.env.timeout(t - self.env.now)
            event.callbacks.append(lambda _event: action(*args))

    def acquire(self, service, person, source: str, level, sites=None):
        """A slot at `service` (a generator): taken at once if free, else waited for in a
        queue while counted in `level` (e.g. acute bed days awaiting P1). Returns the site."""
        granted = service.take(person, source, sites)
        if granted is None:
            event = self.env.event()
            service.queue_for(person, source, sites, event)
            level.change(self.env.now, 1)
            granted = yield event
            level.change(self.env.now, -1)
        return granted

    def wait(self, series: str, reason: str, until: float):
        """Wait until a known time, counting the stretch as delayed days for `reason` (a generator)."""
        now = self.env.now
        if until > now:
            self.monitor.interval(series, reason, now, until)
            yield self.env.timeout(until - now)

    def _reablement_hours(self, person) -> tuple[float, float, float]:
        """(hours a week at the start, at the end, episode days) of a person's reablement; hours
        stay as they started if the episode does not end at home."""
        end = reablement.hours_at_end(self, person)
        return person.hours_start, person.hours_start if end is None else end, person.reablement_duration

    def bed_site_wanted(self, person) -> tuple[str, ...] | None:
        """The bed sites a person accepts, in order of preference (None: any, in file order)."""
        if self.s.beds.site_choice == "preferred":
            return (person.preferred_site,)
        return self.bed_sites_of.get(person.locality)

    def team(self, person) -> tuple[str, ...] | None:
        """The reablement team(s) a person can start with: their locality's (None: one city team)."""
        return self.team_of[person.locality]

    def _schedule_capacity(self, service: Service, site: str, schedule) -> None:
        for change in schedule:
            self._schedule_change(service, site, change.date, change.capacity)

    def _schedule_change(self, service: Service, site: str, date, capacity: float) -> None:
        t = self.s.time_of(date)
        if t <= 0:
            service.set_capacity(site, capacity)
        else:
            self.call_at(t, service.set_capacity, site, capacity)

    # -- run -----------------------------------------------------------------------------------
    def run(self, until: float | None = None) -> None:
        """Run to the end (or only `until` that time, e.g. to take a census: no closing then)."""
        if self.s.run.census is not None:  # the census's people first: before any arrival at t = 0
            self.census_people = census.start(self, self.s.run.census)
        self.env.process(front_door.arrivals(self))
        self.env.process(front_door.community_referrals(self, "reablement"))
        self.env.process(front_door.community_referrals(self, "bed"))
        run_until(self.env, self.end if until is None else until)
        if until is None:
            self.monitor.close(self.end)

    def end_state(self) -> dict[str, float]:
        state = {"active_people": self.journeys, "in_acute": self.in_acute, "census_people": self.census_people}
        for svc in (self.home_ward, self.assessment, self.reablement, self.beds, self.placements):
            state[f"{svc.name}.requested"] = svc.requested
            state[f"{svc.name}.granted"] = svc.granted
            state[f"{svc.name}.released"] = svc.released
            state[f"{svc.name}.waiting"] = svc.waiting
            state[f"{svc.name}.cancelled"] = svc.cancelled
            state[f"{svc.name}.allocated"] = svc.allocated
        return state


def run_until(env: simpy.Environment, until: float) -> None:
    """`env.run(until=until)`, one loop instead of a call to `env.step` per event.

    The same events in the same order: SimPy's `run` stops at an urgent event scheduled at
    `until`, so it processes exactly the events due before `until`, each as `step` does
    (callbacks in order, then a failure nobody handled crashes the run), and leaves the clock
    at `until`. Its StopSimulation handling is not needed: nothing here stops a run early.
    """
    at = until if isinstance(until, int) else float(until)
    if at <= env.now:
        raise ValueError(f"until ({at}) must be greater than the current simulation time")
    stop = env.now + (at - env.now)  # the time SimPy's own stop event would have
    queue, pop = env._queue, heapq.heappop
    while queue and queue[0][0] < stop:
        env._now, _, _, event = pop(queue)
        callbacks, event.callbacks = event.callbacks, None
        for callback in callbacks:
            callback(event)
        if not event._ok and not hasattr(event, "_defused"):
            exc = type(event._value)(*event._value.args)
            exc.__cause__ = event._value
            raise exc
    env._now = stop


def simulate(
    scenario: Scenario, replication: int, seed: int | None = None, trace: bool = False, records: bool = False
) -> ReplicationOutput:
    """Run one replication of `scenario` (seed defaults to the scenario's).

    trace: every service event (for verification); records: patient-level spells and episodes.
    """
    system = System(scenario, scenario.run.seed if seed is None else seed, replication, trace, records)
    # The run leaves little cyclic garbage (about 8,000 objects for the baseline's 1.5 years,
    # freed by the next collection), but the cyclic collector's passes over a heap full of
    # pending events cost about a seventh of the run time: pause it while SimPy runs.
    collecting = gc.isenabled()
    gc.disable()
    try:
        system.run()
    finally:
        if collecting:
            gc.enable()
    return ReplicationOutput(replication, system.monitor.arrays(), system.end_state(), system.trace, system.records)

