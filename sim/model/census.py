"""A census in the model: start a replication from one, or take one of a simulated system.

Each census row is a person from the "census" attribute pool (streams "census.*": the k-th row
gets the k-th draws, so common random numbers hold across scenarios sharing a census). The
time still to go in their current stay is drawn from the stay's distribution conditional on
the time already spent, by inverse transform on the person's own uniform (stream
"census.remaining"): remaining = F⁻¹(F(a) + u (1 - F(a))) - a. After that they follow the
model's flow like anyone else. Everyone in the census enters the system at t = 0
(`system.entered`), so the accounting of people stays exact.

Someone waiting in a short-term bed for P1 or a care home (therapy over) does not re-run
therapy: they take their bed and join that list at t = 0, and which of the two they wait for
is drawn in proportion to the two outcomes' shares (stream "census.bed_onward").

Order at t = 0: people present in a service take their slots first (a census may hold more
than the capacity: nobody is turned out, new grants wait until the count falls below it),
then people awaiting P1-P3 join the queues, longest wait first, before any later arrival.
"""

from __future__ import annotations

import numpy as np

from ..errors import InputError
from ..inputs.census import PLACES, CensusRow, read_census
from ..inputs.distributions import cdf, conditional_total
from . import beds, front_door, hospital, reablement
from .people import PATHWAYS, AttributePool

PLACE_ORDER = ("home_ward", "reablement", "short_term_bed", "short_term_bed_waiting", "acute", "awaiting_p1",
               "awaiting_p2", "awaiting_p3")


def start(system, path) -> int:
    """Put the census into `system` (at t = 0, before any arrival): the rows the scenario
    carries, else the file at `path` (a scenario built in code). Returns its size."""
    carried = system.s.run.census_rows
    rows = [CensusRow(*row) for row in carried] if carried else read_census(path, system.s)
    n = len(rows)
    if n == 0:
        return 0
    pool = AttributePool(system.s, system.streams, "census")
    u_remaining = system.streams["census.remaining"].random(n)
    u_pathway = system.streams["census.acute_pathway"].random(n)
    pids = system.new_pids(n).tolist()
    people = [pool.next(pid, 1, -row.days_so_far) for pid, row in zip(pids, rows)]
    u_onward = system.streams["census.bed_onward"].random(n)
    people = _conditional_stays(system.s, rows, people, u_remaining, u_pathway, u_onward, system.los_multiplier)
    for person in people:
        system.enter(person, 0.0)
    ranks = {place: k for k, place in enumerate(PLACE_ORDER)}
    # present people first; queues longest wait first (a stable sort keeps file order on ties)
    order = sorted(range(n), key=lambda k: (ranks[rows[k].place], -rows[k].days_so_far))
    for k in order:
        _place(system, rows[k], people[k])
    return n


def acute_pathway_weights(scenario, a: np.ndarray) -> np.ndarray:
    """P(pathway | still in the clinical stay after a days) ∝ share × P(clinical stay > a), one
    row per age: the long stayers in a census are mostly complex discharges, not a fresh mix."""
    acute = scenario.acute
    shares = acute.pathway_shares.as_dict()
    w = np.column_stack([shares[p] * (1 - cdf(getattr(acute.clinical_los, p), a)) for p in PATHWAYS])
    beyond = w.sum(axis=1) <= 0  # beyond every clinical stay: the pathway mix of admissions
    w[beyond] = [shares[p] for p in PATHWAYS]
    return w / w.sum(axis=1, keepdims=True)


def _conditional_stays(s, rows, people, u, u_pathway, u_onward, multipliers) -> list:
    """People with the stay they are in replaced by its draw given the days already spent
    (vectorised by place: one bisection per distribution, not per person).

    acute: pathway drawn given the days in hospital, then the whole clinical stay
    (clinical_los) given it has lasted that long; short-term bed: the whole therapy stay
    (bed_los); reablement and Home Ward: the time still to go (reablement_duration, hw_los).
    """
    people = list(people)
    a = np.array([r.days_so_far for r in rows], dtype=float)
    place = np.array([r.place for r in rows], dtype=object)

    def each(mask, update):
        for k in np.flatnonzero(mask).tolist():
            people[k] = update(k, people[k])

    acute = place == "acute"
    if acute.any():
        weights = acute_pathway_weights(s, a[acute])
        chosen = (u_pathway[acute, None] > np.cumsum(weights, axis=1)[:, :-1]).sum(axis=1)
        pathway = np.zeros(len(rows), dtype=int)
        pathway[acute] = chosen
        total = np.zeros(len(rows))
        for k, name in enumerate(PATHWAYS):
            mask = acute & (pathway == k)
            if mask.any():
                total[mask] = conditional_total(getattr(s.acute.clinical_los, name), a[mask], u[mask])
        each(acute, lambda k, p: p._replace(pathway=int(pathway[k]), clinical_los=float(total[k])))
    waiting = place == "short_term_bed_waiting"
    if waiting.any():  # waiting in a bed for P1 or a care home: which, in proportion to those outcomes' shares
        shares = s.beds.outcomes.as_dict()
        p1_share = shares["home_with_p1"] / (shares["home_with_p1"] + shares["long_term_care"])
        each(waiting, lambda k, p: p._replace(bed_outcome="home_with_p1" if u_onward[k] < p1_share else "long_term_care"))
    for name, dist, field in (
        ("reablement", s.reablement.duration, "reablement_duration"),
        ("home_ward", s.home_ward.los, "hw_los"),
    ):
        mask = place == name
        if mask.any():
            remaining = conditional_total(dist, a[mask], u[mask]) - a[mask]
            values = dict(zip(np.flatnonzero(mask).tolist(), remaining.tolist()))
            each(mask, lambda k, p, field=field, values=values: p._replace(**{field: values[k]}))
    sites = np.array([r.site or "" for r in rows], dtype=object)
    for site, scale in multipliers.items():
        mask = (place == "short_term_bed") & (sites == site)
        if mask.any():
            total = conditional_total(s.beds.los, a[mask], u[mask], scale)
            values = dict(zip(np.flatnonzero(mask).tolist(), total.tolist()))
            each(mask, lambda k, p, values=values: p._replace(bed_los=values[k]))
    return people


def _place(system, row, person) -> None:
    a = row.days_so_far
    if row.place == "acute":
        if person.dies_in_hospital:
            hospital.death(system, person, -a)
        elif person.pathway == 0:
            hospital.p0_stay(system, person, -a)
        else:
            system.start(hospital.complex_stay(system, person, admitted=-a))
    elif row.place.startswith("awaiting_"):
        pathway = PATHWAYS.index(row.place.removeprefix("awaiting_"))
        person = person._replace(pathway=pathway, u_route=1.0)  # the list they are on is their route
        if row.site is not None:
            person = person._replace(**{"locality" if row.place == "awaiting_p1" else "preferred_site": row.site})
        system.start(_awaiting(system, person, -a))
    elif row.place == "home_ward":
        system.home_ward.place(person, "all")
        front_door.home_ward_stay(system, person, "all", "census", started=-a)
    elif row.place == "reablement":
        if row.site is not None:
            person = person._replace(locality=row.site)
        team = (system.team(person) or ("all",))[0]
        system.reablement.place(person, team)
        system.start(reablement.episode(system, person, team, "census", -a, started=-a))
    elif row.place == "short_term_bed":
        system.beds.place(person, row.site)
        system.start(beds.episode(system, person, row.site, "census", -a, admitted=-a))
    else:  # short_term_bed_waiting: therapy over, waiting for P1 or a care home since -a
        system.beds.place(person, row.site)
        system.start(beds.episode(system, person, row.site, "census", -a, admitted=-a, waiting_since=-a))


def _awaiting(system, person, joined: float):
    """Process: someone in an acute bed awaiting P1-P3 since `joined` (< 0): in the queue at t = 0."""
    system.acute_occupied.change(system.env.now, 1)
    system.in_acute += 1
    record = system.records.spell(person, joined, joined) if system.records is not None else None
    # the admission is unknown: length of stay and no-reason-to-reside days count from the referral
    yield from hospital.discharge(system, person, joined, joined, joined, record)


def size_by_place(rows) -> dict[str, int]:
    counts = dict.fromkeys(PLACE_ORDER, 0)
    for row in rows:
        counts[row.place] += 1
    return counts


# ---------------------------------------------------------------------------------------------
# A census of the model itself (we have no real census data)

_QUEUE_PLACE = {"reablement": "awaiting_p1", "beds": "awaiting_p2", "placements": "awaiting_p3"}


def census_from_state(system) -> list[CensusRow]:
    """The census of a running System at its current time (built with trace=True and records=True).

    People in acute: spells admitted and not yet discharged. Those past their clinical stay
    who have joined reablement, a bed or a placement (the trace's last 'join' since admission)
    are awaiting that pathway, days since joining (also once granted, while they wait for
    the discharge day or for the placement to be arranged); everyone else in acute, days since
    admission. Home Ward, reablement and bed episodes started and not ended: days since start,
    except people in a bed who have joined the list for reablement or a placement since their
    admission (therapy and discharge process over): waiting in the bed, days since joining.
    Community step-ups waiting at home and people holding a bed for a later admission day are
    not in acute nor in a service, so not in the census.
    """
    if system.trace is None or system.records is None:
        raise ValueError("census_from_state needs a System built with trace=True and records=True")
    now = system.env.now
    joins: dict[int, list[tuple[float, str]]] = {}
    for t, service, what, pid, *_ in system.trace:
        if what == "join" and service in _QUEUE_PLACE and pid is not None:
            joins.setdefault(pid, []).append((t, service))
    rows = []
    for spell in system.records.spells:
        admitted, left = spell["admission"], spell["discharge"]
        if admitted > now or (left is not None and left <= now):
            continue
        ready = spell["ready"]
        place, days = "acute", now - admitted
        if ready is not None and ready <= now:
            since = [(t, s) for t, s in joins.get(spell["pid"], ()) if admitted <= t <= now]
            if since:
                t, service = since[-1]
                place, days = _QUEUE_PLACE[service], now - t
        team = spell["locality"] if place == "awaiting_p1" and system.s.localities else None
        rows.append(CensusRow(place, team, days))
    for episode in system.records.episodes:
        start, end = episode["start"], episode["end"]
        if start is None or start > now or (end is not None and end <= now):
            continue
        service = episode["service"]
        if service == "bed":
            onward = [t for t, s in joins.get(episode["pid"], ()) if s in ("reablement", "placements") and start <= t <= now]
            if onward:  # therapy over: waiting in the bed for P1 or a care home since joining that list
                rows.append(CensusRow("short_term_bed_waiting", episode["site"], now - onward[-1]))
            else:
                rows.append(CensusRow("short_term_bed", episode["site"], now - start))
        elif service == "reablement":
            rows.append(CensusRow(service, episode["locality"] if system.s.localities else None, now - start))
        elif service == "home_ward":
            rows.append(CensusRow(service, None, now - start))
    order = {p: k for k, p in enumerate(PLACES)}
    rows.sort(key=lambda r: (order[r.place], r.site or "", -r.days_so_far))
    return rows


def census_at(scenario, day: float, replication: int = 0, seed: int | None = None) -> list[CensusRow]:
    """Simulate `scenario` (one replication) up to simulation day `day` and take its census."""
    from .system import System  # the System builds on this module: imported when called

    if not 0 <= day <= scenario.end_day:
        raise InputError(f"--at-day = {day}: expected a day between 0 and {scenario.end_day} (the end of the run)")
    system = System(scenario, scenario.run.seed if seed is None else seed, replication, trace=True, records=True)
    system.run(until=day)
    return census_from_state(system)
