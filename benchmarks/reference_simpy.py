"""Speed reference: a minimal plain-SimPy model of the same pathways as icsim's baseline.

The baseline's flow as a competent SimPy user would write it, to measure "people simulated per
second per core" of plain SimPy. Every person is a SimPy process (P0 patients and deaths too);
capacity is `simpy.Resource` (Home Ward, reablement, placements if finite) and a
`simpy.PriorityStore` of bed tokens. Attributes come from one numpy generator in blocks of 1024
people via the scenario's distributions (`.from_uniform`); arrivals follow icsim's calendar
(season x weekday x growth), discharges its discharge-weekday rule (`Calendar.leave_time`).

Left out on purpose: KPIs, monitors, levels, records, traces, person ids, reablement hours (a
KPI-only attribute) and common random numbers (one stream, not one per attribute).
Simplifications: FIFO queues (the baseline's priorities are all equal); no capacity schedules
(the baseline has none); bed site choice is "first_free" only: one token per bed valued by site
index, so a get takes the first site in scenario order with a free bed, all sites sharing one
FIFO queue (icsim's rule). The count returned is what icsim counts as entering: front-door
arrivals, community referrals and P0 patients readmitted from home.
"""

from __future__ import annotations

import math
import time
from collections import namedtuple
from pathlib import Path

import numpy as np
import simpy

from sim.model.calendar import Calendar

ROOT = Path(__file__).resolve().parents[1]
BLOCK = 1024
ADMIT, HOME_WARD, ASSESSMENT_HOME, STEP_UP_REABLEMENT, STEP_UP_BED = range(5)
R_READMITTED, R_LONG_TERM_CARE = 2, 3  # reablement outcomes: independent, homecare, readmitted, ltc, died
B_HOME, B_HOME_WITH_P1, B_LONG_TERM_CARE, B_READMITTED, B_DIED = range(5)

Person = namedtuple(
    "Person",
    "diversion pathway dies clinical_los process u_leave readmit readmit_delay hw_los hw_escalates "
    "reablement_duration reablement_outcome bed_los bed_outcome bed_process u_bed_leave placement_delay",
)


def _choice(u: np.ndarray, shares) -> np.ndarray:
    return np.searchsorted(np.cumsum(list(shares))[:-1], u, side="right")


class Reference:
    def __init__(self, s, seed: int, counts: dict | None = None):
        self.s = s
        self.env = env = simpy.Environment()
        self.rng = np.random.default_rng(seed)
        self.calendar = Calendar(s)
        self.acute_days = s.acute.discharge_weekday.as_tuple()
        self.bed_days = s.beds.discharge_weekday.as_tuple()
        self.home_ward = simpy.Resource(env, s.home_ward.capacity)
        self.reablement = simpy.Resource(env, s.reablement.capacity)
        self.beds = simpy.PriorityStore(env)
        sites = list(s.beds.sites.values())
        for k, site in enumerate(sites):
            for _ in range(site.beds):
                self.beds.put(k)
        self.los_multiplier = [site.los_multiplier for site in sites]
        cap = s.placements.capacity
        self.placements = None if math.isinf(cap) else simpy.Resource(env, int(cap))
        self.entered = 0
        self.counts = counts  # optional flow counters for sanity checks (None: off)
        self._people = iter(())

    def _draw(self, n: int) -> list[Person]:
        s, u = self.s, self.rng.random
        a, re, beds = s.acute, s.reablement, s.beds
        pathway = _choice(u(n), a.pathway_shares.as_dict().values())
        u_los, u_proc = u(n), u(n)
        clinical, process = np.empty(n), np.empty(n)
        for k, name in enumerate(("p0", "p1", "p2", "p3")):
            m = pathway == k
            clinical[m] = getattr(a.clinical_los, name).from_uniform(u_los[m])
            process[m] = getattr(a.discharge_process, name).from_uniform(u_proc[m])
        columns = (
            _choice(u(n), s.front_door.diversion.as_dict().values()), pathway, u(n) < a.death_share,
            clinical, process, u(n), u(n) < a.readmission_after_p0.share,
            a.readmission_after_p0.delay.from_uniform(u(n)), s.home_ward.los.from_uniform(u(n)),
            u(n) < s.home_ward.escalation_share, re.duration.from_uniform(u(n)),
            _choice(u(n), re.outcomes.as_dict().values()), beds.los.from_uniform(u(n)),
            _choice(u(n), beds.outcomes.as_dict().values()), beds.discharge_process.from_uniform(u(n)), u(n),
            s.placements.delay.from_uniform(u(n)),
        )  # fmt: skip
        return list(map(Person._make, zip(*(c.tolist() for c in columns))))

    def person(self) -> Person:
        p = next(self._people, None)
        if p is None:
            self._people = iter(self._draw(BLOCK))
            p = next(self._people)
        return p

    def _times(self, rates: np.ndarray) -> list[float]:
        days = np.repeat(np.arange(len(rates)), self.rng.poisson(rates))
        return np.sort(days + self.rng.random(days.size)).tolist()

    def source(self, times: list[float], start):
        env = self.env
        for t in times:
            yield env.timeout(t - env.now)
            self.entered += 1
            start(self.person())

    def arrive(self, p: Person) -> None:
        """Front door: divert if the service has room now, else admit."""
        env, d = self.env, p.diversion
        if d == HOME_WARD and self.home_ward.count < self.home_ward.capacity:
            env.process(self.home_ward_stay(p, self.home_ward.request()))
        elif d == ASSESSMENT_HOME:
            return  # home at once
        elif d == STEP_UP_REABLEMENT and self.reablement.count < self.reablement.capacity:
            env.process(self.reablement_episode(p, self.reablement.request()))
        elif d == STEP_UP_BED and self.beds.items:
            env.process(self.bed_stay(p, self.beds.get(), None))
        else:
            env.process(self.admission(p))

    def home_ward_stay(self, p: Person, req):
        yield req
        yield self.env.timeout(p.hw_los)
        self.home_ward.release(req)
        if p.hw_escalates:
            yield from self.admission(p)

    def admission(self, p: Person):
        env = self.env
        if p.dies:
            yield env.timeout(p.clinical_los)
            return
        if p.pathway == 0:
            leave = self.calendar.leave_time(env.now + p.clinical_los + p.process, p.u_leave, self.acute_days)
            yield env.timeout(leave - env.now)
            if p.readmit:
                yield env.timeout(p.readmit_delay)
                self.entered += 1  # re-enters the system from home
                self.arrive(self.person())
            return
        yield env.timeout(p.clinical_los + p.process)  # clinical stay, then discharge process
        if p.pathway == 1:
            req = self.reablement.request()
            yield req  # waits in the acute bed
            yield from self.discharge_day(p.u_leave, self.acute_days)
            yield from self.reablement_episode(p, req)
        elif p.pathway == 2:
            get = self.beds.get()
            yield get
            yield from self.discharge_day(p.u_leave, self.acute_days)
            yield from self.bed_stay(p, get, None)
        else:
            yield from self.placement(p)
            yield from self.discharge_day(p.u_leave, self.acute_days)

    def discharge_day(self, u: float, days):
        env = self.env
        leave = self.calendar.leave_time(env.now, u, days)
        if leave > env.now:
            yield env.timeout(leave - env.now)

    def placement(self, p: Person):
        if self.placements is None:
            yield self.env.timeout(p.placement_delay)
        else:
            with self.placements.request() as req:
                yield req
                yield self.env.timeout(p.placement_delay)

    def reablement_episode(self, p: Person, req):
        yield req  # granted already, or wait at home (community step-up)
        if self.counts is not None:
            self.counts["reablement"] += 1
        yield self.env.timeout(p.reablement_duration)
        self.reablement.release(req)
        if p.reablement_outcome == R_READMITTED:
            self.arrive(self.person())
        elif p.reablement_outcome == R_LONG_TERM_CARE:
            yield from self.placement(p)

    def bed_stay(self, p: Person, get, admit_days):
        env = self.env
        site = yield get  # granted already, or wait at home (community step-up)
        if admit_days is not None:
            yield from self.discharge_day(p.u_leave, admit_days)
        if self.counts is not None:
            self.counts["beds"] += 1
        therapy = p.bed_los * self.los_multiplier[site]
        outcome = p.bed_outcome
        if outcome in (B_DIED, B_READMITTED):
            yield env.timeout(therapy)
            self.beds.put(site)
            if outcome == B_READMITTED:
                self.arrive(self.person())
            return
        yield env.timeout(therapy + p.bed_process)
        req = None
        if outcome == B_HOME_WITH_P1:
            req = self.reablement.request()
            yield req  # waits in the bed
        elif outcome == B_LONG_TERM_CARE:
            yield from self.placement(p)
        yield from self.discharge_day(p.u_bed_leave, self.bed_days)
        self.beds.put(site)
        if req is not None:
            yield from self.reablement_episode(p, req)

    def run(self) -> int:
        env, s, cal = self.env, self.s, self.calendar

        def step_up_reablement(p):
            env.process(self.reablement_episode(p, self.reablement.request()))

        def step_up_bed(p):
            env.process(self.bed_stay(p, self.beds.get(), self.bed_days))

        env.process(self.source(self._times(cal.front_door_rates()), self.arrive))
        env.process(self.source(self._times(cal.community_rates(s.community.reablement_per_day)), step_up_reablement))
        env.process(self.source(self._times(cal.community_rates(s.community.bed_per_day)), step_up_bed))
        env.run(until=s.end_day)
        return self.entered


def run_reference(scenario, seed: int) -> int:
    """Simulate scenario.end_day days; return the number of people who entered (front door + community)."""
    return Reference(scenario, seed).run()


if __name__ == "__main__":
    from sim import load_scenario

    scenario = load_scenario(ROOT / "scenarios" / "baseline.toml")
    run_reference(scenario, seed=99)  # warm-up call (imports, scipy special functions)
    for seed in range(3):
        t0 = time.perf_counter()
        people = run_reference(scenario, seed)
        seconds = time.perf_counter() - t0
        print(f"people {people:,}  seconds {seconds:.3f}  people/second {people / seconds:,.0f}")
