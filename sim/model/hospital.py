"""The acute stay: clinical length of stay, then no reason to reside until the person leaves.

P0 patients and deaths meet no queue, so their whole stay is decided on admission and
written straight into the accumulators (no SimPy process): most admissions cost a few
microseconds. Complex discharges (P1-P3) wait in the acute bed for their service.
"""

from __future__ import annotations

from . import beds, front_door, placements, reablement
from .people import PATHWAYS

DELAY_REASONS = ("process", "awaiting_p1", "awaiting_p2", "awaiting_p3", "awaiting_discharge_day")


def admit(system, person, t: float | None = None) -> None:
    """Admit now, or at a later time t for a person whose stay needs no process (P0, death)."""
    t = system.env.now if t is None else t
    system.monitor.count("hospital.admissions", "total", t)
    system.count_person("admitted", person, t)
    if person.dies_in_hospital:
        _death(system, person, t)
    elif person.pathway == 0:
        _p0_stay(system, person, t)
    else:
        assert t == system.env.now, "a complex stay starts as an event at its own time"
        system.start(complex_stay(system, person), person)


def _death(system, person, t: float) -> None:
    died = t + person.clinical_los
    system.monitor.interval("acute.occupied", "total", t, died)
    system.monitor.count("hospital.deaths", "total", died)
    if system.records is not None:
        system.records.spell(person, t, None, died, "died")
    system.leave(person, "died", died)


def _p0_stay(system, person, t: float) -> None:
    m = system.monitor
    ready = t + person.clinical_los
    can_leave = ready + person.discharge_process
    leave = system.calendar.leave_time(can_leave, person.u_leave, system.hospital_days)
    m.interval("acute.occupied", "total", t, leave)
    m.interval("acute.delayed", "process", ready, can_leave)
    m.interval("acute.delayed", "awaiting_discharge_day", can_leave, leave)
    _record_discharge(system, "p0", t, ready, leave)
    if system.records is not None:
        system.records.spell(person, t, ready, leave, "P0")
    system.count_person("home_from_hospital", person, leave)
    if person.readmit_after_p0:
        system.call_at(leave + person.readmit_delay, front_door.readmit, system, person, True)
    system.leave(person, "home", leave)


def _record_discharge(system, pathway: str, admitted: float, ready: float, leave: float) -> None:
    m = system.monitor
    m.count("hospital.discharges", pathway, leave)
    m.count("hospital.nr2r_days", pathway, leave, leave - ready)
    m.count("hospital.los_days", pathway, leave, leave - admitted)


def complex_stay(system, person):
    """Process: a P1-P3 patient from admission to leaving the acute bed for their service."""
    env = system.env
    admitted = env.now
    system.acute_occupied.change(admitted, 1)
    system.in_acute += 1
    record = system.records.spell(person, admitted) if system.records is not None else None
    yield env.timeout(person.clinical_los)
    ready = env.now
    if record is not None:
        record["ready"] = ready
    yield from system.hold(system.acute_delayed["process"], env.timeout(person.discharge_process))
    pathway = PATHWAYS[person.pathway]
    joined = env.now
    waiting = system.acute_delayed[f"awaiting_{pathway}"]
    if pathway == "p1":
        site = yield from system.hold(waiting, system.reablement.request(person, "hospital"))
    elif pathway == "p2":
        site = yield from system.hold(waiting, system.beds.request(person, "hospital", system.bed_site_wanted(person)))
    else:
        site = yield from system.hold(waiting, system.placements.request(person, "hospital"))
        yield from system.hold(waiting, env.timeout(person.placement_delay))
        system.placements.release(site, present=False)
    leave = system.calendar.leave_time(env.now, person.u_leave, system.hospital_days)
    yield from system.hold(system.acute_delayed["awaiting_discharge_day"], env.timeout(leave - env.now))
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
