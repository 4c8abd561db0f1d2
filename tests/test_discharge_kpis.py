"""The discharge-timing KPIs against hand-worked cases: P0 leaving on the day they became ready
(p0_same_day_share), short-term bed stays under 27 days (bed_short_stay_share) and people in a
short-term bed after therapy (people_waiting_in_beds, Little's law)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from helpers import (
    by_pathway,
    constant_arrivals,
    deterministic,
    every_weekday,
    kpi_values,
    mmc_beds_scenario,
    modify,
)

from sim.model import simulate


def p0_only(same_day_share: float, process_days: float):
    """Every arrival admitted on P0 (no deaths, no readmissions, no community referrals), ready
    after 0.3 days (readiness declared at once), leaving on the ready day with probability
    `same_day_share` (`process_days` later, but before midnight), else on the next day."""
    base = mmc_beds_scenario(40.0, "unlimited", 10.0, years=0.25, warmup_days=14, replications=1)
    return modify(base, {
        "arrivals": constant_arrivals(40.0),
        "acute.pathway_shares": {"p0": 1.0, "p1": 0.0, "p2": 0.0, "p3": 0.0},
        "acute.clinical_los": by_pathway(deterministic(0.3)),
        "acute.discharge_process": by_pathway(deterministic(process_days)),
        "acute.p0_same_day_share": same_day_share,
        "acute.discharge_weekday": every_weekday(1.0),
    })


def test_everyone_leaving_when_ready_leaves_on_the_ready_day():
    k = kpi_values(simulate(p0_only(1.0, 0.0), 0), p0_only(1.0, 0.0))
    assert k[("p0_same_day_share", "total")] == 1.0
    assert k[("nr2r_los_days", "p0")] == 0.0


def test_a_same_day_discharge_never_crosses_midnight():
    """A whole day of discharge process: same-day leavers go just before midnight, so their
    no-reason-to-reside time is what is left of the ready day, 1 − (time of day), which
    averages 0.5 for arrivals spread evenly over the day (ready 0.3 d later)."""
    scenario = p0_only(1.0, 1.0)
    k = kpi_values(simulate(scenario, 0), scenario)
    assert k[("p0_same_day_share", "total")] == 1.0
    assert k[("nr2r_los_days", "p0")] == pytest.approx(0.5, abs=0.02)


def test_nobody_leaves_on_the_ready_day_when_the_share_is_zero():
    """Share 0 and every day a discharge day: everyone leaves at midday the day after."""
    scenario = p0_only(0.0, 0.0)
    k = kpi_values(simulate(scenario, 0), scenario)
    assert k[("p0_same_day_share", "total")] == 0.0
    # ready at time of day f, gone at the next midday: 1.5 − f, which averages 1.0
    assert k[("nr2r_los_days", "p0")] == pytest.approx(1.0, abs=0.02)


def test_same_day_share_is_the_scenarios_share():
    """Each person leaves on the ready day with probability 0.6 (their own uniform): the share
    is Binomial(n, 0.6) / n, checked within 4 standard errors."""
    scenario = p0_only(0.6, 0.0)
    out = simulate(scenario, 0)
    share = kpi_values(out, scenario)[("p0_same_day_share", "total")]
    n = out.daily[("hospital.discharges", "p0")][scenario.run.warmup_days : scenario.end_day].sum()
    assert n > 2000
    assert abs(share - 0.6) <= 4 * math.sqrt(0.6 * 0.4 / n), (share, n)


@pytest.mark.parametrize("mean_los", [20.0, 40.0])
def test_short_stay_share_is_the_exponential_cdf_at_27_days(mean_los):
    """Unlimited beds, no discharge process, leave any day: a stay is exactly the therapy time,
    exponential with mean m, so P(stay < 27) = 1 − exp(−27 / m): 0.741 at m = 20, 0.491 at 40.
    Bed LOS is recorded at discharge, so the share is of stays ending in the reported year."""
    scenario = mmc_beds_scenario(3.0, "unlimited", mean_los, years=1.0, warmup_days=300, replications=1)
    out = simulate(scenario, 0)
    share = kpi_values(out, scenario)[("bed_short_stay_share", "total")]
    n = out.daily[("beds.discharges", "total")][scenario.run.warmup_days : scenario.end_day].sum()
    expected = 1 - math.exp(-27 / mean_los)
    assert abs(share - expected) <= 4 * math.sqrt(expected * (1 - expected) / n), (share, expected, n)
    assert kpi_values(out, scenario)[("bed_short_stay_share", "site")] == share  # one site: its share is the total


def test_people_waiting_in_beds_is_arrivals_times_the_wait_littles_law():
    """Every bed stay ends with a 2-day discharge process (then leaves at once): by Little's law
    the people in a bed after therapy average λ × 2 = 6 at λ = 3 a day; the Poisson count of
    arrivals makes it vary by about √(λ × 2 × 2 / 365) ≈ 0.18 over a year."""
    scenario = modify(mmc_beds_scenario(3.0, "unlimited", 10.0, years=1.0, warmup_days=100, replications=1),
                      {"beds.discharge_process": deterministic(2.0)})
    k = kpi_values(simulate(scenario, 0), scenario)
    assert k[("people_waiting_in_beds", "total")] == pytest.approx(6.0, abs=0.6)
    assert k[("people_waiting_in_beds", "process")] == k[("people_waiting_in_beds", "total")]
    assert k[("people_waiting_in_beds", "total")] == pytest.approx(k[("bed_delayed_days_per_week", "total")] / 7)


NATIONAL_2023_PROFILE = (0.85, 1.08, 1.15, 1.17, 1.24, 0.89, 0.63)  # discharges by weekday ÷ daily mean ([DailySitRep])


def test_the_baseline_discharges_follow_the_national_weekday_profile_and_same_day_share():
    """The whole model (admissions by weekday, clinical stays, board-round readiness, the P0
    same-day share, waits for services) run for a year: hospital discharges by weekday within
    0.008 of the national 2023 shares (about 28,000 discharges, so sampling moves a share by
    about 0.002; admissions peaking on Mondays move it by a little more), and P0 leaving on the
    ready day within 4 binomial standard errors of 86.5%."""
    from helpers import baseline

    from sim.model.calendar import Calendar

    scenario = baseline()
    out = simulate(scenario, 0)
    first, last = scenario.run.warmup_days, scenario.end_day
    discharges = sum(out.daily[("hospital.discharges", p)] for p in ("p0", "p1", "p2", "p3"))[first:last]
    weekday = Calendar(scenario).weekday[first:last]
    share = np.bincount(weekday, weights=discharges, minlength=7) / discharges.sum()
    national = np.asarray(NATIONAL_2023_PROFILE) / sum(NATIONAL_2023_PROFILE)
    assert np.abs(share - national).max() < 0.008, (share, national)
    k = kpi_values(out, scenario)
    n = out.daily[("hospital.discharges", "p0")][first:last].sum()
    assert abs(k[("p0_same_day_share", "total")] - 0.865) <= 4 * math.sqrt(0.865 * 0.135 / n)
