"""P1: reablement / home rehabilitation (Active Recovery), a capacity of people at once."""

from __future__ import annotations

from . import front_door, placements

LOCALITY_SERIES = {"reablement": "locality.p1", "beds": "locality.p2"}
# the series record_start counts in, by service: (starts, wait days, by locality: starts, wait days)
_START_SERIES = {
    service: (f"{service}.starts", f"{service}.wait_days", f"{by_locality}_starts", f"{by_locality}_wait_days")
    for service, by_locality in LOCALITY_SERIES.items()
}


def record_start(system, service: str, person, source: str, joined: float) -> None:
    """A person starts a service: count it and record their wait (start of service - joined),
    by source and, for hospital discharges, by home locality."""
    m, now = system.monitor, system.env.now
    starts, wait_days, locality_starts, locality_wait_days = _START_SERIES[service]
    m.count(starts, source, now)
    m.count(wait_days, source, now, now - joined)
    if source == "hospital" and system.s.localities:
        m.count(locality_starts, person.locality, now)
        m.count(locality_wait_days, person.locality, now, now - joined)


def step_up(system, person, source: str):
    """Process: a step-up referral from the community into reablement (waiting at home)."""
    joined = system.env.now
    site = system.reablement.take(person, source, system.team(person))
    if site is None:
        site = yield system.reablement.request(person, source, system.team(person))
    yield from episode(system, person, site, source, joined)


def hours_at_end(system, person) -> float | None:
    """Weekly homecare hours a person leaves reablement with: 0 if independent, the retained
    share of their starting hours if they go on to homecare; None if they do not end at home."""
    outcome = person.reablement_outcome
    if outcome == "independent":
        return 0.0
    if outcome == "ongoing_homecare":
        return person.hours_start * float(system.s.reablement.hours_retained_share.from_uniform(person.u_hours_retained))
    return None


def episode(system, person, site: str, source: str, joined: float, started: float | None = None):
    """Process: a reablement episode, from start to its outcome.

    `started` < now: an episode under way at a census start (not counted as a start again;
    reablement_duration is then the time still to go)."""
    env, service, m = system.env, system.reablement, system.monitor
    service.occupy(site, person)
    if started is None:
        record_start(system, "reablement", person, source, joined)
        system.count_person("reablement", person, env.now)
    record = None
    if system.records is not None:
        start = env.now if started is None else started
        record = system.records.episode(person, "reablement", source, None, joined, start)
        record["hours_start"] = person.hours_start
    yield env.timeout(person.reablement_duration)
    service.release(site, person=person)
    outcome = person.reablement_outcome
    now = env.now
    hours_end = hours_at_end(system, person)
    if record is not None:
        record["end"], record["outcome"], record["hours_end"] = now, outcome, hours_end
    m.count("reablement.ends", outcome, now)
    if hours_end is not None:
        m.count("reablement.hours_reduction", "total", now, person.hours_start - hours_end)
        m.count("reablement.hours_reduction_n", "total", now)
        m.count("reablement.hours_end", outcome, now, hours_end)
        system.leave(person, "home", now)
    elif outcome == "readmitted":
        front_door.readmit(system, person)
    elif outcome == "long_term_care":
        yield from placements.from_community(system, person)
    else:
        system.leave(person, "died", now)
