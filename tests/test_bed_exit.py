"""How a short-term bed stay ends, hand-worked: the wait for a care home from a bed and where
people wait for reablement after a bed (beds.placement_delay, beds.p1_wait)."""

from __future__ import annotations

import pytest
from helpers import deterministic, mmc_beds_scenario, modify

from sim.model import simulate

OUTCOMES = ("home", "home_with_p1", "long_term_care", "readmitted", "died")


def _beds_ending_in(outcome: str, changes: dict) -> dict:
    """Daily series of a year in which everyone goes straight to a bed (unlimited beds) for a
    10-day therapy stay, no discharge process, any day a discharge day, ending in `outcome`."""
    scenario = modify(mmc_beds_scenario(1.0, "unlimited", 10.0, years=1, warmup_days=60, replications=1), {
        "beds.los": deterministic(10.0),
        "beds.outcomes": {name: float(name == outcome) for name in OUTCOMES},
        "placements.capacity": "unlimited",
        **changes,
    })
    return simulate(scenario, 0).daily


def _total(daily: dict, series: str, scope: str) -> float:
    return float(daily[(series, scope)].sum()) if (series, scope) in daily else 0.0


@pytest.mark.parametrize("bed_delay, stay", [(None, 10 + 30), (deterministic(4.0), 10 + 4), (deterministic(0.0), 10)])
def test_the_care_home_wait_from_a_bed(bed_delay, stay):
    """The placement delay from acute is 30 days; from a bed it is beds.placement_delay when set
    (4 days, or none), else the same 30: every stay lasts therapy + that wait exactly."""
    changes = {"placements.delay": deterministic(30.0)}
    if bed_delay is not None:
        changes["beds.placement_delay"] = bed_delay
    daily = _beds_ending_in("long_term_care", changes)
    discharges = _total(daily, "beds.discharges", "total")
    assert discharges > 300
    assert _total(daily, "beds.los_days", "total") == pytest.approx(stay * discharges, rel=1e-9)


@pytest.mark.parametrize("where", ["in_bed", "at_home"])
def test_where_people_wait_for_reablement_after_a_bed(where):
    """No reablement places at all: waiting in the bed, nobody ever leaves it; waiting at home,
    everyone leaves after exactly the 10-day therapy stay and nobody starts reablement."""
    daily = _beds_ending_in("home_with_p1", {"reablement.capacity": 0, "beds.p1_wait": where})
    admitted = _total(daily, "beds.admissions", "site")
    discharges = _total(daily, "beds.discharges", "total")
    assert admitted > 300 and _total(daily, "reablement.starts", "short_term_bed") == 0
    if where == "in_bed":
        assert discharges == 0
    else:
        assert discharges >= admitted - 10  # all but those admitted in the last 10 days
        assert _total(daily, "beds.los_days", "total") == pytest.approx(10 * discharges, rel=1e-9)
