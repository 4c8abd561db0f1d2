"""Demand by day and the discharge-day rule, against hand-worked values."""

import datetime as dt
import math

import numpy as np
import pytest
from helpers import baseline, modify

from sim.inputs.loading import load_scenario
from sim.model.calendar import Calendar, poisson_arrival_times

BASELINE = load_scenario("scenarios/baseline.toml")
NATIONAL_2023_PROFILE = (0.85, 1.08, 1.15, 1.17, 1.24, 0.89, 0.63)  # Mon..Sun, [DailySitRep] in docs/sources.md


def test_rate_on_a_given_day_is_base_times_month_times_weekday_times_growth():
    """A synthetic demand pattern in round numbers (only January, February, Monday and Tuesday
    differ from 1), so each day's rate is worked by hand and a month or weekday read one place
    off, or growth counted from the wrong day, gives another number."""
    months = [1.2, 0.8] + [1.0] * 10  # Jan 1.2, Feb 0.8: mean 1
    weekdays = [1.4, 0.6] + [1.0] * 5  # Mon 1.4, Tue 0.6: mean 1
    scenario = modify(baseline(), {"arrivals": {
        "rate_per_day": 100.0, "monthly_factors": months, "weekday_factors": weekdays, "annual_growth": 0.1,
    }})  # start 2025-04-01 after a 180-day warm-up
    rates = Calendar(scenario).front_door_rates()
    expected = {
        dt.date(2026, 1, 5): 100 * 1.2 * 1.4 * 1.1 ** (279 / 365),  # Monday, 279 days after the start: ≈ 180.696
        dt.date(2026, 2, 3): 100 * 0.8 * 0.6 * 1.1 ** (308 / 365),  # Tuesday, 308 days after: ≈ 52.021
        dt.date(2025, 1, 7): 100 * 1.2 * 0.6 * 1.1 ** (-84 / 365),  # Tuesday in the warm-up, 84 days before: ≈ 70.438
    }
    for date, rate in expected.items():
        assert math.isclose(rates[int(scenario.time_of(date))], rate, rel_tol=1e-12), date
    assert rates[int(scenario.time_of(dt.date(2026, 1, 5)))] == pytest.approx(180.696, abs=5e-4)


def test_leave_time_is_immediate_when_every_day_accepts():
    cal = Calendar(BASELINE)
    for t in (0.2, 3.7, 100.99):
        for u in (0.0, 0.5, 0.999999):
            assert cal.leave_time(t, u, (1.0,) * 7) == t


def test_leave_day_probabilities_are_independent_daily_chances():
    """P(leave on day k) = (1-p1)...(1-p_{k-1}) p_k for the weekdays met from the first day."""
    cal = Calendar(BASELINE)
    probs = (0.5, 0.25, 1.0, 1.0, 1.0, 1.0, 1.0)
    t = float(next(d for d in range(7) if cal.weekday_of(d) == 0)) + 0.3  # a Monday, 07:12
    u = np.random.default_rng(1).random(200_000)
    leave = np.array([cal.leave_time(t, x, probs) for x in u])
    day_offset = np.floor(leave - math.floor(t)).astype(int)
    observed = np.bincount(day_offset, minlength=3)[:3] / len(u)
    expected = [0.5, 0.5 * 0.25, 0.5 * 0.75]  # Monday, Tuesday, Wednesday (certain)
    assert np.allclose(observed, expected, atol=0.005)  # ≈ 4 standard errors at n = 200,000
    assert np.all(leave[day_offset == 0] == t)  # same day: at the time they could leave
    assert np.all(leave[day_offset > 0] % 1 == 0.5)  # later days: at midday


def test_default_weekday_probabilities_reproduce_the_national_discharge_profile():
    """Clinical stays end evenly over the week; board rounds declare readiness with the
    baseline's readiness probabilities; a P0 patient leaves on the ready day with the
    baseline's same-day share, else on a later day with its discharge probabilities (the
    model's rule: `Calendar.leave_time`, as sim/model/hospital.py applies it). The baseline's
    values were solved (docs/weekday-readiness.md) so that discharges by weekday follow the 2023
    national profile and 86.5% leave on the ready day: run the rule on many people and compare."""
    cal = Calendar(BASELINE)
    readiness = BASELINE.acute.readiness_weekday.as_tuple()
    discharge = BASELINE.acute.discharge_weekday.as_tuple()
    same_day = BASELINE.acute.p0_same_day_share
    rng = np.random.default_rng(7)
    clinical_end = rng.uniform(14, 14 + 7 * 40, 300_000)
    u_ready, u_same, u_leave = rng.random((3, clinical_end.size))
    ready = cal.leave_times(clinical_end, u_ready, readiness)
    later = cal.leave_times(np.floor(ready) + 1.5, u_leave, discharge)
    leave = np.where(u_same < same_day, np.floor(ready), later)
    weekdays = np.array([cal.weekday_of(t) for t in leave])
    share = np.bincount(weekdays, minlength=7) / len(leave)
    expected = np.asarray(NATIONAL_2023_PROFILE) / sum(NATIONAL_2023_PROFILE)
    assert np.allclose(share, expected, atol=0.004)  # shares ≈ 0.14; se ≈ 0.0006
    assert np.mean(np.floor(leave) == np.floor(ready)) == pytest.approx(0.865, abs=0.003)


@pytest.mark.parametrize("rate", [0.0, 0.3, 25.0])
def test_poisson_arrivals_by_day(rate):
    rng = np.random.default_rng(3)
    rates = np.full(2000, rate)
    times = poisson_arrival_times(rng, rates, first_day=10)
    assert np.all(np.diff(times) >= 0)
    assert np.all((times >= 10) & (times < 2010))
    n = rates.sum()
    assert abs(len(times) - n) <= 5 * math.sqrt(max(n, 1))  # Poisson: sd = sqrt(mean)
    if rate:
        counts = np.bincount(np.floor(times).astype(int) - 10, minlength=2000)
        assert abs(counts.var() / counts.mean() - 1) < 0.15  # Poisson dispersion ≈ 1
