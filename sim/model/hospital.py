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
    ready = t + person.clinical_los
    can_leave = ready + person.discharge_process
    leave = system.calendar.leave_time(can_leave, person.u_leave, system.hospital_days)
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


def state_free_stays(system, a: dict[str, np.ndarray], pids: np.ndarray, times: np.ndarray) -> None:
    """Admit new arrivals who will die in hospital or leave on P0 (columns `a`, all admitted
    at `times`): the batch form of `admit` for them, with the same arithmetic."""
    m = system.monitor
    m.count_many("hospital.admissions", "total", times)
    dies = a["dies_in_hospital"]
    died = times[dies] + a["clinical_los"][dies]
    m.intervals("acute.occupied", "total", times[dies], died)
    m.count_many("hospital.deaths", "total", died)
    m.count_many("system.left", "died", died)
    p0 = ~dies
    t = times[p0]
    ready = t + a["clinical_los"][p0]
    can_leave = ready + a["discharge_process"][p0]
    leave = system.calendar.leave_times(can_leave, a["u_leave"][p0], system.hospital_days)
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


def complex_stay(system, person, admitted: float | None = None):
    """Process: a P1-P3 patient from admission to leaving the acute bed for their service.

    `admitted` < now: someone in a census, admitted before t = 0 (clinical_los is then their
    whole clinical stay, drawn given the days already spent)."""
    env = system.env
    admitted = env.now if admitted is None else admitted
    system.acute_occupied.change(env.now, 1)
    system.in_acute += 1
    record = system.records.spell(person, admitted) if system.records is not None else None
    ready = admitted + person.clinical_los
    if record is not None:
        record["ready"] = ready
    # clinical stay then the discharge process: both lengths are known now, so one event
    referred = ready + person.discharge_process
    system.monitor.interval("acute.delayed", "process", ready, referred)
    yield env.timeout(referred - env.now)
    yield from discharge(system, person, admitted, ready, env.now, record)


def discharge(system, person, admitted: float, ready: float, joined: float, record):
    """Process: a P1-P3 patient referred at `joined`, from the wait for their service to leaving."""
    env = system.env
    pathway = PATHWAYS[person.pathway]
    waiting = system.acute_delayed[f"awaiting_{pathway}"]
    if pathway == "p1":
        site = yield from system.acquire(system.reablement, person, "hospital", waiting)
    elif pathway == "p2":
        site = yield from system.acquire(system.beds, person, "hospital", waiting, system.bed_site_wanted(person))
    else:
        site = yield from system.acquire(system.placements, person, "hospital", waiting)
        yield from system.wait("acute.delayed", "awaiting_p3", env.now + person.placement_delay)
        system.placements.release(site, present=False)
    leave = system.calendar.leave_time(env.now, person.u_leave, system.hospital_days)
    yield from system.wait("acute.delayed", "awaiting_discharge_day", leave)
    system.acute_occupied.change(env.now, -1)
    system.in_acute -= 1
    _record_discharge(system, pathway, admitted, ready, env.now)
    if record is not None:
        record["discharge"], record["pathway"] = env.now, pathway.upper()
    system.count_person("home_from_hospital" if pathway == "p1" else "bedded_from_hospital", person, env.now)
    if pathway == "p1":
        yield from reablement.episode(system, person, site, "hospital", joined)
    elif pathway == "p2":
        yield from beds.episode(system, person, site, "hospital", joined)
    else:
        placements.enter_care_home(system, person, "hospital", joined)
