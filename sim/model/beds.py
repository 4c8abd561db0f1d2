"""P2: short-term (rehab and recovery) beds across several sites.

A stay is the therapy length of stay (× the site's multiplier), then, for people going on
home or to long-term care, a discharge process, any wait for onward care spent in the bed
(bed blocking; the wait for reablement can be at home instead, `p1_wait`), and the wait for a
discharge day. Each delayed bed day is counted by reason.
"""

from __future__ import annotations

from . import front_door, placements, reablement

DELAY_REASONS = ("process", "awaiting_p1", "awaiting_placement", "awaiting_discharge_day")
# A short-term bed stay is "short" below 27 days: the length the Leeds community-bed programme
# reports its stays against (docs/model.md, KPI bed_short_stay_share).
SHORT_STAY_DAYS = 27


def step_up(system, person, source: str):
    """Process: a step-up referral from the community into a bed (waiting at home).

    Admission from home follows the bed base's discharge-day pattern (the same staff admit).
    """
    env = system.env
    joined = env.now
    site = system.beds.take(person, source, system.bed_site_wanted(person))
    if site is None:
        site = yield system.beds.request(person, source, system.bed_site_wanted(person))
    leave = system.calendar.leave_time(env.now, person.u_leave, system.bed_days)
    if leave > env.now:
        yield env.timeout(leave - env.now)
    yield from episode(system, person, site, source, joined)


def episode(system, person, site: str, source: str, joined: float, admitted: float | None = None,
            waiting_since: float | None = None, outcome: str | None = None, interim: bool = False):
    """Process: a short-term bed stay, from admission to leaving the bed.

    `outcome`: where the stay ends, if not the person's drawn bed outcome (a P3 need assessed
    in a bed). `interim`: a bed taken only to wait for P1 (no therapy, no discharge process).

    `admitted` < now: a stay under way at a census start (not counted as an admission again;
    bed_los is then the whole therapy stay, drawn given the days already spent).
    `waiting_since` < now: at a census start, therapy and discharge process are over and the
    person has been waiting for onward care (their outcome) since then; the stay's length is
    counted from then, as the admission is unknown."""
    env, beds_service, m = system.env, system.beds, system.monitor
    delayed = system.bed_delayed
    beds_service.occupy(site, person)
    if admitted is None:
        reablement.record_start(system, "beds", person, source, joined)
        m.count("beds.admissions", site, env.now)
        admitted = env.now
    record = system.records.episode(person, "bed", source, site, joined, admitted) if system.records is not None else None
    therapy_ends = admitted if interim else admitted + person.bed_los * system.los_multiplier[site]
    outcome = outcome or person.bed_outcome
    p1_site = None
    if outcome in ("died", "readmitted"):
        yield env.timeout(therapy_ends - env.now)
    else:
        if waiting_since is None and not interim:
            # therapy then the discharge process: both lengths are known now, so one event
            referred = therapy_ends + person.bed_process
            m.interval("beds.delayed", "process", therapy_ends, referred)
            yield env.timeout(referred - env.now)
        onward_joined = env.now if waiting_since is None else waiting_since
        if outcome == "home_with_p1" and system.s.beds.p1_wait == "in_bed":
            p1_site = yield from system.acquire(
                system.reablement, person, "short_term_bed", delayed["awaiting_p1"], system.team(person)
            )
        elif outcome == "long_term_care":
            placement = yield from system.acquire(
                system.placements, person, "short_term_bed", delayed["awaiting_placement"]
            )
            yield from system.wait("beds.delayed", "awaiting_placement", env.now + person.bed_placement_delay)
            system.placements.release(placement, present=False)
        leave = system.calendar.leave_time(env.now, person.u_bed_leave, system.bed_days)
        yield from system.wait("beds.delayed", "awaiting_discharge_day", leave)
    beds_service.release(site)
    now = env.now
    short = now - admitted < SHORT_STAY_DAYS
    for scope in ("total", site):
        m.count("beds.discharges", scope, now)
        m.count("beds.los_days", scope, now, now - admitted)
        if short:
            m.count("beds.short_stays", scope, now)
    m.count("beds.outcomes", outcome, now)
    if record is not None:
        record["end"], record["outcome"] = now, outcome
    if outcome in ("home", "home_with_p1"):
        system.count_person("home_after_bed", person, now)
    if outcome == "home":
        system.leave(person, "home", now)
    elif outcome == "home_with_p1":
        if p1_site is None:  # p1_wait = "at_home": the wait for a place is at home
            p1_site = system.reablement.take(person, "short_term_bed", system.team(person))
            if p1_site is None:
                p1_site = yield system.reablement.request(person, "short_term_bed", system.team(person))
        yield from reablement.episode(system, person, p1_site, "short_term_bed", onward_joined)
    elif outcome == "long_term_care":
        placements.enter_care_home(system, person, "short_term_bed", onward_joined)
    elif outcome == "readmitted":
        front_door.readmit(system, person)
    else:
        system.leave(person, "died", now)
