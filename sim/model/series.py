"""The daily series the model records, declared once: the vocabulary of Monitor and the KPIs.

A series is named "<part>.<measure>" and kept by scope (a site, a source, a reason, a pathway,
"total"). Recording or reading a name not declared here is an error, so a typo can never turn
into a KPI of silent zeros.
"""

from __future__ import annotations

# Services with capacity and a queue (sim.model.service.Service): each keeps these series.
SERVICES = ("home_ward", "assessment", "reablement", "beds", "placements")
SERVICE_MEASURES = (
    "capacity",  # time integral of funded places, by site
    "occupied",  # time integral of places in use, by site
    "requests",  # requests for a place, by source (the demand a capacity meets)
    "queue",  # time integral of people waiting, by source
    "starts",  # people starting, by source
    "wait_days",  # their waits (start - request), summed on the day they start, by source
)

SERIES: frozenset[str] = frozenset(
    {f"{service}.{measure}" for service in SERVICES for measure in SERVICE_MEASURES}
    | {
        "system.entered", "system.left",  # people entering and leaving the modelled system (by route)
        "people",  # distinct people with an experience, once per reporting year (by counter)
        "front_door.arrivals", "readmissions", "admissions_avoided",  # by avoidance route
        "community.referrals",  # step-up referrals, by service
        "home_ward.escalations",
        "hospital.admissions", "hospital.deaths",
        "hospital.discharges", "hospital.nr2r_days", "hospital.los_days",  # by pathway, on the discharge day
        "hospital.ready_day_discharges",  # discharges on the calendar day the person became ready, by pathway
        "acute.occupied", "acute.delayed",  # time integrals; delayed by reason
        "beds.admissions", "beds.discharges", "beds.los_days", "beds.outcomes", "beds.delayed",
        "beds.short_stays",  # discharges after a stay shorter than SHORT_STAY_DAYS, by site and total
        "routes.substitutions",  # a route other than the need, or a wait ended under pressure, by rule
        "locality.p1_wait_days", "locality.p1_starts",  # hospital P1 waits and starts, by home locality
        "locality.p2_wait_days", "locality.p2_starts",  # hospital P2 waits and starts, by home locality
        "reablement.hours_committed",  # time integral of staff hours a week committed, by team (hours mode)
        "reablement.ends", "reablement.hours_end", "reablement.hours_reduction", "reablement.hours_reduction_n",
    }
)  # fmt: skip


def check(series: str) -> str:
    """`series` if it is declared; otherwise a KeyError naming it."""
    if series not in SERIES:
        raise KeyError(f"unknown series {series!r}: declare it in sim/model/series.py")
    return series
