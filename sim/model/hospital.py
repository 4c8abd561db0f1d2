"""The acute stay: clinical length of stay, then no reason to reside until the person leaves.

P0 patients and deaths meet no queue, so their whole stay is decided on admission and
written straight into the accumulators (no SimPy process): for a batch of new arrivals in
numpy (`state_free_stays`), for a readmission one at a time (`admit`). Complex discharges
(P1-P3) wait in the acute bed for their service.
"""

from __future__ import annotations

import math

import numpy as np

from . import beds, front_door, placements, reablement
from .people import PATHWAYS

DELAY_REASONS = ("process", "awaiting_p1", "awaiting_p2", "awaiting_p3", "awaiting_discharge_day")
# what `routes.substitutions` is counted by: a route other than the need, or a wait ended under pressure
SUBSTITUTION_RULES = ("home_first_p2", "home_first_p3", "p1_interim_bed", "p1_bridging", "p2_interim_care_home",
                      "died_waiting")


def admit(system, person) -> None:
    """Admit now (one person: a readmission, a Home Ward escalation or a complex arrival)."""
    t = system.env.now
    system.monitor.count("hospital.admissions", "total", t)
    system.count_person("admitted", person, t)
    if person.dies_in_hospital:
        death(system, person, t)
    elif person.pathway == 0:
        p0_stay(system, person, t)
    else:
        system.start(complex_stay(system, person))


def death(system, person, t: float) -> None:
    died = t + person.clinical_los
    system.monitor.interval("acute.occupied", "total", max(t, 0.0), died)  # t < 0: admitted before a census start
    system.monitor.count("hospital.deaths", "total", died)
    if system.records is not None:
        system.records.spell(person, t, None, died, "died")
    system.leave(person, "died", died)


def p0_stay(system, person, t: float) -> None:
    m = system.monitor
    ready = ready_time(system, person, t + person.clinical_los)
    leave, can_leave = p0_leave(system, ready, person.discharge_process, person.u_same_day, person.u_leave)
    m.interval("acute.occupied", "total", max(t, 0.0), leave)  # t < 0: admitted before a census start
    m.interval("acute.delayed", "process", ready, can_leave)
    m.interval("acute.delayed", "awaiting_discharge_day", can_leave, leave)
    _record_discharge(system, "p0", t, ready, leave)
    if system.records is not None:
        system.records.spell(person, t, ready, leave, "P0")
    system.count_person("home_from_hospital", person, leave)
    if person.readmit_after_p0:
        system.call_at(leave + person.readmit_delay, front_door.readmit, system, person, True)
    system.leave(person, "home", leave)


# the last moment of a day that still counts as that day (a same-day leaver never crosses midnight)
END_OF_DAY = 1 - 1e-6


def ready_time(system, person, clinical_end: float) -> float:
    """No reason to reside from the board round that declares it (the clinical stay ends first)."""
    return system.calendar.leave_time(clinical_end, person.u_ready, system.readiness_days)


def p0_leave(system, ready: float, process: float, u_same_day: float, u_leave: float) -> tuple[float, float]:
    """(leaves, could leave) of a P0 patient ready at `ready`: on the ready day (after the
    discharge process, before midnight) with probability p0_same_day_share, else on a later
    day, each with that weekday's discharge probability."""
    day = math.floor(ready)
    if u_same_day < system.s.acute.p0_same_day_share:
        leave = min(ready + process, day + END_OF_DAY)
        return leave, leave
    leave = system.calendar.leave_time(day + 1.5, u_leave, system.hospital_days)
    return leave, min(ready + process, leave)


def state_free_stays(system, a: dict[str, np.ndarray], pids: np.ndarray, times: np.ndarray) -> None:
    """Admit new arrivals who will die in hospital or leave on P0 (columns `a`, all admitted
    at `times`): the batch form of `admit` for them, with the same arithmetic."""
    m = system.monitor
    calendar = system.calendar
    m.count_many("hospital.admissions", "total", times)
    dies = a["dies_in_hospital"]
    died = times[dies] + a["clinical_los"][dies]
    m.intervals("acute.occupied", "total", times[dies], died)
    m.count_many("hospital.deaths", "total", died)
    m.count_many("system.left", "died", died)
    p0 = ~dies
    t = times[p0]
    ready = calendar.leave_times(t + a["clinical_los"][p0], a["u_ready"][p0], system.readiness_days)
    day = np.floor(ready)
    process = a["discharge_process"][p0]
    same_day = a["u_same_day"][p0] < system.s.acute.p0_same_day_share
    later = calendar.leave_times(day[~same_day] + 1.5, a["u_leave"][p0][~same_day], system.hospital_days)
    leave = np.minimum(ready + process, day + END_OF_DAY)
    can_leave = leave.copy()
    leave[~same_day] = later
    can_leave[~same_day] = np.minimum(ready[~same_day] + process[~same_day], later)
    m.intervals("acute.occupied", "total", t, leave)
    m.intervals("acute.delayed", "process", ready, can_leave)
    m.intervals("acute.delayed", "awaiting_discharge_day", can_leave, leave)
    m.count_many("hospital.discharges", "p0", leave)
    m.count_many("hospital.ready_day_discharges", "p0", leave[np.floor(leave) == np.floor(ready)])
    m.count_many("hospital.nr2r_days", "p0", leave, leave - ready)
    m.count_many("hospital.los_days", "p0", leave, leave - t)
    m.count_many("system.left", "home", leave)
    # People counted once a year: only someone who will be readmitted can be seen again, so
    # only they go through the per-person check; everyone else is counted directly.
    readmits = np.zeros(len(times), dtype=bool)
    readmits[p0] = a["readmit_after_p0"][p0]
    system.count_new_people("admitted", times[~readmits])
    system.count_new_people("home_from_hospital", leave[~readmits[p0]])
    back = np.flatnonzero(readmits)
    people = system.pools["front_door"].people(a, back, pids[back].tolist(), 1, times[back].tolist())
    leave_of = dict(zip(np.flatnonzero(p0).tolist(), leave.tolist()))
    for k, person in zip(back.tolist(), people):
        system.count_person("admitted", person, person.arrived)
        system.count_person("home_from_hospital", person, leave_of[k])
        system.call_at(leave_of[k] + person.readmit_delay, front_door.readmit, system, person, True)
    if system.records is not None:
        everyone = system.pools["front_door"].people(a, np.arange(len(times)), pids.tolist(), 1, times.tolist())
        left = np.empty(len(times))
        left[dies], left[p0] = died, leave
        ready_all = np.full(len(times), np.nan)
        ready_all[p0] = ready
        for person, r, out in zip(everyone, ready_all.tolist(), left.tolist()):
            if person.dies_in_hospital:
                system.records.spell(person, person.arrived, None, out, "died")
            else:
                system.records.spell(person, person.arrived, r, out, "P0")


def _record_discharge(system, pathway: str, admitted: float, ready: float, leave: float) -> None:
    m = system.monitor
    m.count("hospital.discharges", pathway, leave)
    if math.floor(leave) == math.floor(ready):  # left on the calendar day they became ready
        m.count("hospital.ready_day_discharges", pathway, leave)
    m.count("hospital.nr2r_days", pathway, leave, leave - ready)
    m.count("hospital.los_days", pathway, leave, leave - admitted)


def route(system, person) -> str:
    """Where someone goes at no reason to reside: their need, unless discharge to assess
    (home first) sends a P2 need home with P1, or a P3 need to a short-term bed first."""
    need = PATHWAYS[person.pathway]
    routes = system.s.routes
    if need == "p2" and person.u_route < routes.home_first_p2:
        return "p1"
    if need == "p3" and person.u_route < routes.home_first_p3:
        return "p2"
    return need


def complex_stay(system, person, admitted: float | None = None):
    """Process: a P1-P3 patient from admission to leaving the acute bed for their service.

    `admitted` < now: someone in a census, admitted before t = 0 (clinical_los is then their
    whole clinical stay, drawn given the days already spent)."""
    env = system.env
    admitted = env.now if admitted is None else admitted
    system.acute_occupied.change(env.now, 1)
    system.in_acute += 1
    record = system.records.spell(person, admitted) if system.records is not None else None
    ready = ready_time(system, person, admitted + person.clinical_los)
    if record is not None:
        record["ready"] = ready
    # clinical stay then the discharge process: both lengths are known now, so one event
    referred = ready + person.discharge_process
    system.monitor.interval("acute.delayed", "process", ready, referred)
    yield env.timeout(referred - env.now)
    yield from discharge(system, person, admitted, ready, env.now, record)


def _queue(system, service, person, level, sites, rules, joined: float):
    """Wait in the acute bed in the queue for `service` (a generator; `take` found no room),
    counted in `level`.

    rules: (time, name, applies) in time order; at each time, if still waiting and applies()
    is true, the wait ends there. A rule whose time is already past (someone in a census, who
    joined the list before t = 0) had its chance then and did not apply: they are still here;
    one due after the run's end never comes.
    Returns (site, None, request) once granted, or (None, name, request) when a rule ends the
    wait: the request has then left the queue, except after "p1_bridging" (the person keeps
    their place on the list and waits at home for `request.event`)."""
    env = system.env
    rules = [rule for rule in rules if env.now <= rule[0] < system.end]  # after the end: never
    event = env.event()
    request = service.queue_for(person, "hospital", sites, event, joined)
    level.change(env.now, 1)
    watch = _WaitRules(service, request, rules) if rules else None
    site = yield event
    level.change(env.now, -1)
    if watch is not None and watch.applied is not None:
        return None, watch.applied, request
    return site, None, request


class _WaitRules:
    """The rules that can end a queued wait, one timer at a time (for the next rule). The first
    that applies takes the request out of the queue (or, for a bridging package, gives it a new
    event to wait on at home) and ends the wait in the acute bed with no site.

    Plain callbacks, cheaper than a condition event per rule; bound methods, not closures that
    refer to themselves, so no reference cycle is left for the cyclic collector."""

    __slots__ = ("applied", "k", "request", "rules", "service")

    def __init__(self, service, request, rules):
        self.service, self.request, self.rules, self.k = service, request, rules, 0
        self.applied: str | None = None  # the rule that ended the wait
        service.env.timeout(rules[0][0] - service.env.now).callbacks.append(self._check)

    def _check(self, _event) -> None:
        request, env = self.request, self.service.env
        if not request.waiting:
            return
        _at, name, applies = self.rules[self.k]
        if applies():
            self.applied = name
            ended = request.event
            if name == "p1_bridging":
                request.event = env.event()  # still on the list: granted later, at home
            else:
                self.service.cancel(request)
            ended.succeed(None)
        elif self.k + 1 < len(self.rules):
            self.k += 1
            env.timeout(self.rules[self.k][0] - env.now).callbacks.append(self._check)


_AWAITING = {pathway: f"awaiting_{pathway}" for pathway in PATHWAYS[1:]}  # the delay reason of a wait, by pathway
# the pathway someone leaves the acute bed on after a substitution (else the one they were routed to)
_LEFT_FOR = {"p1_interim_bed": "p2", "p1_bridging": "p1", "p2_interim_care_home": "p3"}


def discharge(system, person, admitted: float, ready: float, joined: float, record):
    """Process: a P1-P3 patient referred at `joined`, from the wait for their service to leaving.

    Under pressure a wait can end another way (scenario `routes`): a P1 wait in an interim
    short-term bed or at home with a bridging package, a P2 wait in an interim care-home bed,
    or death while waiting."""
    env, routes = system.env, system.s.routes
    pathway = route(system, person)
    if pathway != PATHWAYS[person.pathway]:
        _substituted(system, f"home_first_{PATHWAYS[person.pathway]}")
    waiting = system.acute_delayed[_AWAITING[pathway]]
    died_at = joined + person.wait_death
    bed_site = None
    if pathway == "p1":
        service, sites = system.reablement, system.team(person)
    elif pathway == "p2":
        service, sites = system.beds, system.bed_site_wanted(person)
    else:
        service, sites = system.placements, None
    site, substitution, request = service.take(person, "hospital", sites), None, None
    if site is None:  # a wait: the rules that can end it (most people are taken at once)
        rules = [(died_at, "died_waiting", lambda: True)]
        if pathway == "p1":
            interim, bridging = routes.p1_interim_bed, routes.p1_bridging

            def free_bed():
                nonlocal bed_site
                bed_site = system.beds.take(person, "hospital", system.bed_site_wanted(person))
                return bed_site is not None

            if person.u_interim_bed < interim.share:
                rules.append((joined + interim.after_days, "p1_interim_bed", free_bed))
            if person.u_bridging < bridging.share:
                rules.append((joined + bridging.after_days, "p1_bridging", lambda: True))
        elif pathway == "p2":
            rule = routes.p2_interim_care_home
            if person.u_interim_home < rule.share:
                rules.append((joined + rule.after_days, "p2_interim_care_home", lambda: True))
        rules.sort(key=lambda r: r[0])
        site, substitution, request = yield from _queue(system, service, person, waiting, sites, rules, joined)
    if substitution is not None:
        _substituted(system, substitution)
        if substitution == "died_waiting":
            return _died_waiting(system, person, admitted, record)
    elif pathway == "p3":
        delay_ends = env.now + person.placement_delay
        if died_at < delay_ends:  # dies before the placement is arranged
            yield from system.wait("acute.delayed", "awaiting_p3", died_at)
            system.placements.release(site, present=False)
            _substituted(system, "died_waiting")
            return _died_waiting(system, person, admitted, record)
        yield from system.wait("acute.delayed", "awaiting_p3", delay_ends)
        system.placements.release(site, present=False)
    left_for = _LEFT_FOR.get(substitution, pathway)
    leave = system.calendar.leave_time(env.now, person.u_leave, system.hospital_days)
    yield from system.wait("acute.delayed", "awaiting_discharge_day", leave)
    system.acute_occupied.change(env.now, -1)
    system.in_acute -= 1
    _record_discharge(system, left_for, admitted, ready, env.now)
    if record is not None:
        record["discharge"], record["pathway"] = env.now, left_for.upper()
    system.count_person("home_from_hospital" if left_for == "p1" else "bedded_from_hospital", person, env.now)
    if substitution == "p1_bridging":  # home with a bridging package, still on the P1 list
        site = yield request.event
        yield from reablement.episode(system, person, site, "hospital", joined)
    elif substitution == "p1_interim_bed":
        yield from beds.episode(system, person, bed_site, "hospital", joined, outcome="home_with_p1", interim=True)
    elif substitution == "p2_interim_care_home":
        system.leave(person, "interim_care_home", env.now)
    elif pathway == "p1":
        yield from reablement.episode(system, person, site, "hospital", joined)
    elif pathway == "p2":
        # a P3 need assessed in a bed first (home first) goes home with P1 or to a care home
        outcome = None
        if PATHWAYS[person.pathway] == "p3":
            back_home = person.u_route / routes.home_first_p3 < routes.home_first_p3_home_share
            outcome = "home_with_p1" if back_home else "long_term_care"
        yield from beds.episode(system, person, site, "hospital", joined, outcome=outcome)
    else:
        placements.enter_care_home(system, person, "hospital", joined)


def _substituted(system, rule: str) -> None:
    system.monitor.count("routes.substitutions", rule, system.env.now)


def _died_waiting(system, person, admitted: float, record) -> None:
    """Death in the acute bed while waiting for a service."""
    now = system.env.now
    system.acute_occupied.change(now, -1)
    system.in_acute -= 1
    system.monitor.count("hospital.deaths", "total", now)
    system.monitor.count("hospital.los_days", "died_waiting", now, now - admitted)
    if record is not None:
        record["discharge"], record["pathway"] = now, "died"
    system.leave(person, "died", now)
