"""The acute front door: arrivals, admission avoidance (diversion, Home Ward) and community step-up."""

from __future__ import annotations

import numpy as np

from . import beds, hospital, reablement
from .calendar import poisson_arrival_times
from .people import DIVERSIONS

CHUNK_DAYS = 28  # arrivals are generated four weeks at a time: memory stays flat over long runs


def _arrival_chunks(system, rates, stream: str):
    """Arrival times, four weeks at a time (the chunking is fixed, so the draws do not depend on it)."""
    rng = system.streams[stream]
    for first in range(0, len(rates), CHUNK_DAYS):
        yield poisson_arrival_times(rng, rates[first : first + CHUNK_DAYS], first)


def arrivals(system):
    """Process: non-elective arrivals (65+) at the acute front door.

    Someone admitted who will leave on P0 or die, or sent home from assessment, meets no
    capacity, so what happens to them does not depend on the state of the system: their
    stays are written down in numpy as soon as their four weeks of arrivals are drawn, with
    no event. Everyone else arrives as an event at their own time.
    """
    env, m = system.env, system.monitor
    pool = system.pools["front_door"]
    for times in _arrival_chunks(system, system.calendar.front_door_rates(), "front_door.arrival_times"):
        a = pool.draw(len(times))
        pids = system.new_pids(len(times))
        home = (a["diversion"] == DIVERSIONS.index("assessment_home")) & (not system.assessment_limited)
        admitted = (a["diversion"] == DIVERSIONS.index("admit")) & (a["dies_in_hospital"] | (a["pathway"] == 0))
        state_free = home | admitted
        m.count_many("system.entered", "total", times[state_free])
        m.count_many("front_door.arrivals", "total", times[state_free])
        m.count_many("admissions_avoided", "assessment_home", times[home])
        m.count_many("system.left", "home", times[home])
        hospital.state_free_stays(system, {k: v[admitted] for k, v in a.items()}, pids[admitted], times[admitted])
        later = np.flatnonzero(~state_free)
        for person in pool.people(a, later, pids[later].tolist(), 1, times[later].tolist()):
            yield env.timeout(person.arrived - env.now)
            system.enter(person, env.now)  # now may differ from the arrival time in the last bit
            arrive(system, person)


def readmit(system, person, from_home: bool = False) -> None:
    """The same person comes back to the front door, with the needs of a new spell.

    `from_home`: they had left the modelled system (a P0 discharge) and now re-enter it;
    otherwise they come straight from a service (reablement, short-term bed).
    """
    t = system.env.now
    # the needs of the new spell, but the same home
    again = system.pools["readmission"].next(person.pid, person.spell + 1, t)._replace(locality=person.locality)
    system.monitor.count("readmissions", "total", t)
    if from_home:
        system.enter(again, t)
    arrive(system, again)


def arrive(system, person) -> None:
    """Divert the person if their intended avoidance service has room; otherwise admit."""
    t = system.env.now
    system.monitor.count("front_door.arrivals", "total", t)
    target = person.diversion
    # A diversion takes its slot at once if the service has room (nobody arriving at the same
    # instant can take it first); otherwise the person is admitted.
    if target == "home_ward" and (site := system.home_ward.take(person, "front_door")) is not None:
        home_ward_stay(system, person, site)
    elif target == "assessment_home" and not system.assessment_limited:
        _avoided(system, "assessment_home", t)
        system.leave(person, "home", t)
    elif target == "assessment_home" and (site := system.assessment.take(person, "front_door")) is not None:
        _assessed(system, person, site)
    elif target == "step_up_reablement" and (site := system.reablement.take(person, "front_door", system.team(person))) is not None:
        _avoided(system, target, t)
        system.start(reablement.episode(system, person, site, "front_door", t))
    elif target == "step_up_bed" and (
        site := system.beds.take(person, "front_door", system.bed_site_wanted(person))
    ) is not None:
        _avoided(system, target, t)
        system.start(beds.episode(system, person, site, "front_door", t))
    else:
        hospital.admit(system, person)


def _assessed(system, person, site: str) -> None:
    """Front-door assessment, then home (a timed callback: no queue once started)."""
    now = system.env.now
    system.assessment.occupy(site, person)
    system.monitor.count("assessment.starts", "front_door", now)
    system.journeys += 1
    system.call_at(now + person.assessment_duration, _assessment_end, system, person, site)


def _assessment_end(system, person, site: str) -> None:
    system.journeys -= 1
    now = system.env.now
    system.assessment.release(site)
    _avoided(system, "assessment_home", now)
    system.leave(person, "home", now)


def _avoided(system, route: str, t: float) -> None:
    system.monitor.count("admissions_avoided", route, t)


def home_ward_stay(system, person, site: str, source: str = "front_door", started: float | None = None) -> None:
    """A Home Ward (virtual ward) stay from now for `person.hw_los` days; some escalate to an
    acute admission at its end. `started`: a stay already under way (a census start, t < 0),
    which is not counted again as a start.

    It meets no queue once started, so it is a timed callback rather than a process.
    """
    now = system.env.now
    system.home_ward.occupy(site, person)
    if started is None:
        started = now
        system.monitor.count("home_ward.starts", "total", now)
    record = None
    if system.records is not None:
        record = system.records.episode(person, "home_ward", source, None, started, started)
    system.journeys += 1
    system.call_at(now + person.hw_los, _home_ward_end, system, person, site, record)


def _home_ward_end(system, person, site: str, record) -> None:
    system.journeys -= 1
    now = system.env.now
    system.home_ward.release(site)
    if record is not None:
        record["end"], record["outcome"] = now, "escalated" if person.hw_escalates else "home"
    if person.hw_escalates:
        system.monitor.count("home_ward.escalations", "total", now)
        hospital.admit(system, person)
    else:
        _avoided(system, "home_ward", now)
        system.leave(person, "home", now)


def community_referrals(system, service: str):
    """Process: step-up referrals from the community straight into reablement or a bed."""
    env = system.env
    per_day = getattr(system.s.community, f"{service}_per_day")
    stream = f"community.{service}_times"
    for times in _arrival_chunks(system, system.calendar.community_rates(per_day), stream):
        for t in times.tolist():
            yield env.timeout(t - env.now)
            person = system.new_person("community", t)
            system.enter(person, t)
            system.monitor.count("community.referrals", service, t)
            journey = reablement.step_up if service == "reablement" else beds.step_up
            system.start(journey(system, person, "community"))
