"""The acute front door: arrivals, admission avoidance (diversion, Home Ward) and community step-up."""

from __future__ import annotations

from . import beds, hospital, reablement
from .calendar import poisson_arrival_times

CHUNK_DAYS = 28  # arrivals are generated four weeks at a time: memory stays flat over long runs


def _arrival_times(system, rates, stream: str):
    """Arrival times, chunk by chunk (the chunking is fixed, so the draws do not depend on it)."""
    rng = system.streams[stream]
    for first in range(0, len(rates), CHUNK_DAYS):
        yield from poisson_arrival_times(rng, rates[first : first + CHUNK_DAYS], first).tolist()


def arrivals(system):
    """Process: non-elective arrivals (65+) at the acute front door.

    Someone admitted straight away (or sent home from assessment) who will leave on P0 or die
    meets no capacity, so their stay does not depend on the state of the system: it is
    written down as soon as they are drawn, without an event. Everyone else arrives as an
    event at their own time.
    """
    env = system.env
    for t in _arrival_times(system, system.calendar.front_door_rates(), "front_door.arrival_times"):
        person = system.new_person("front_door", t)
        if person.diversion in ("admit", "assessment_home") and (person.dies_in_hospital or person.pathway == 0):
            system.enter(person, t)
            arrive(system, person, t)
        else:
            yield env.timeout(t - env.now)  # now may differ from t in the last bit: use now
            system.enter(person, env.now)
            arrive(system, person)


def readmit(system, person, from_home: bool = False) -> None:
    """The same person comes back to the front door, with the needs of a new spell.

    `from_home`: they had left the modelled system (a P0 discharge) and now re-enter it;
    otherwise they come straight from a service (reablement, short-term bed).
    """
    t = system.env.now
    again = system.pools["readmission"].next(person.pid, person.spell + 1, t)
    system.monitor.count("readmissions", "total", t)
    if from_home:
        system.enter(again, t)
    arrive(system, again)


def arrive(system, person, t: float | None = None) -> None:
    """Divert the person if their intended avoidance service has room; otherwise admit.

    `t` is the arrival time if it is later than now (the state-free case in `arrivals`).
    """
    t = system.env.now if t is None else t
    system.monitor.count("front_door.arrivals", "total", t)
    target = person.diversion
    # A diversion takes its slot at once (the request is granted on the spot, since the
    # service has room), so nobody arriving at the same instant can take it first.
    if target == "home_ward" and system.home_ward.has_room():
        site = system.home_ward.request(person, "front_door").value
        system.start(home_ward_stay(system, person, site), person)
    elif target == "assessment_home":
        _avoided(system, "assessment_home", t)
        system.leave(person, "home", t)
    elif target == "step_up_reablement" and system.reablement.has_room():
        _avoided(system, target, t)
        site = system.reablement.request(person, "front_door").value
        system.start(reablement.episode(system, person, site, "front_door", t), person)
    elif target == "step_up_bed" and system.beds.has_room(system.bed_site_wanted(person)):
        _avoided(system, target, t)
        site = system.beds.request(person, "front_door", system.bed_site_wanted(person)).value
        system.start(beds.episode(system, person, site, "front_door", t), person)
    else:
        hospital.admit(system, person, t)


def _avoided(system, route: str, t: float) -> None:
    system.monitor.count("admissions_avoided", route, t)


def home_ward_stay(system, person, site: str):
    """Process: a Home Ward (virtual ward) stay; some escalate to an acute admission at its end."""
    env, ward = system.env, system.home_ward
    ward.occupy(site, person)
    system.monitor.count("home_ward.starts", "total", env.now)
    record = None
    if system.records is not None:
        record = system.records.episode(person, "home_ward", "front_door", None, env.now, env.now)
    yield env.timeout(person.hw_los)
    ward.release(site)
    if record is not None:
        record["end"], record["outcome"] = env.now, "escalated" if person.hw_escalates else "home"
    if person.hw_escalates:
        system.monitor.count("home_ward.escalations", "total", env.now)
        hospital.admit(system, person)
    else:
        _avoided(system, "home_ward", env.now)
        system.leave(person, "home", env.now)


def community_referrals(system, service: str):
    """Process: step-up referrals from the community straight into reablement or a bed."""
    env = system.env
    per_day = getattr(system.s.community, f"{service}_per_day")
    stream = f"community.{service}_times"
    for t in _arrival_times(system, system.calendar.community_rates(per_day), stream):
        yield env.timeout(t - env.now)
        person = system.new_person("community", t)
        system.enter(person, t)
        system.monitor.count("community.referrals", service, t)
        journey = reablement.step_up if service == "reablement" else beds.step_up
        system.start(journey(system, person, "community"), person)
