"""Weekday readiness and discharge (sim/calibrate/weekday.py): the analytic steady state against
simulations of the mechanism, hand-worked cases, the national solve, and input checks."""

import runpy
from pathlib import Path

import numpy as np
import pytest
from helpers import baseline

from sim.calibrate.weekday import (
    completion_weights_from,
    discharge_profile,
    mean_days_waited,
    ready_day_distribution,
    solve_weekday,
    wait_end_weekdays,
)
from sim.model.calendar import Calendar

NATIONAL_2023_PROFILE = (0.85, 1.08, 1.15, 1.17, 1.24, 0.89, 0.63)  # Mon..Sun, NHS England 2023
SAME_DAY_SHARE = 0.865  # NHS England Discharge Ready Date data 2024-25: 86-87% of P0
# Deliberately uneven and nowhere 1, so that 5% of waits run past a whole week (∏(1 − a) = 0.051).
ACTIVITY = (0.3, 0.5, 0.2, 0.4, 0.6, 0.15, 0.1)
WEIGHTS = (0.20, 0.16, 0.15, 0.14, 0.14, 0.10, 0.11)
Z = 5.0  # standard errors allowed: 15 comparisons, fixed seeds, so a real gap fails and noise does not


def first_day_of_success(first_day: np.ndarray, activity, rng: np.random.Generator) -> np.ndarray:
    """Independently of the module: try day by day with a fresh uniform each day, weekday = day % 7."""
    a = np.asarray(activity)
    day = first_day.copy()
    waiting = np.arange(day.size)
    while waiting.size:
        fails = rng.random(waiting.size) >= a[day[waiting] % 7]
        waiting = waiting[fails]
        day[waiting] += 1
    return day


def weekday_shares_within_error(days: np.ndarray, expected_profile: np.ndarray) -> None:
    """Shares of `days` by weekday (day % 7) against expected_profile / 7, to Z binomial errors."""
    share = np.bincount(days % 7, minlength=7) / days.size
    expected = np.asarray(expected_profile) / 7
    error = np.sqrt(expected * (1 - expected) / days.size)
    assert np.all(np.abs(share - expected) < Z * error), (share * 7, expected * 7)


def test_analytic_profile_agrees_with_a_simulation_of_the_mechanism():
    """A million people: clinical ends on weekdays drawn from the weights, readiness and then
    discharge by day-by-day trials. Ready days, discharge days, the ready-day share and the days
    waited for readiness all agree with the closed forms within sampling error (≈ 0.0003 per
    weekday share)."""
    rng = np.random.default_rng(20240701)
    n = 1_000_000
    s = 0.7
    clinical_end = rng.choice(7, size=n, p=WEIGHTS)
    ready = first_day_of_success(clinical_end, ACTIVITY, rng)
    same_day = rng.random(n) < s
    leave = ready.copy()
    leave[~same_day] = first_day_of_success(ready[~same_day] + 1, ACTIVITY, rng)

    weekday_shares_within_error(ready, 7 * ready_day_distribution(ACTIVITY, WEIGHTS))
    waited = ready - clinical_end
    assert abs(waited.mean() - mean_days_waited(ACTIVITY, WEIGHTS)) < Z * waited.std() / np.sqrt(n)
    weekday_shares_within_error(leave, discharge_profile(ACTIVITY, s, WEIGHTS))
    share = np.mean(leave == ready)
    assert abs(share - s) < Z * np.sqrt(s * (1 - s) / n)


def test_analytic_profile_agrees_with_the_models_leave_times():
    """The same mechanism through the model's own `Calendar.leave_times` (one rescaled uniform per
    person, continuous clinical ends, a start date that is not a Monday): the profile is the
    analytic one, so the lead can wire the rule into the model with these figures."""
    calendar = Calendar(baseline())
    rng = np.random.default_rng(7)
    n = 300_000
    s = 0.6
    first_monday = (7 - calendar.weekday_of(0.0)) % 7  # day number whose weekday is Monday
    weekday_of_end = rng.choice(7, size=n, p=WEIGHTS)
    clinical_end = first_monday + weekday_of_end + 7 * rng.integers(0, 20, size=n) + rng.random(n)
    ready = calendar.leave_times(clinical_end, rng.random(n), ACTIVITY)
    leave = ready.copy()
    later = rng.random(n) >= s
    leave[later] = calendar.leave_times(np.floor(ready[later]) + 1.5, rng.random(int(later.sum())), ACTIVITY)

    days = np.floor(leave).astype(np.int64) - first_monday  # day % 7 is now the weekday, Monday = 0
    weekday_shares_within_error(days, discharge_profile(ACTIVITY, s, WEIGHTS))
    share = np.mean(np.floor(leave) == np.floor(ready))
    assert abs(share - s) < Z * np.sqrt(s * (1 - s) / n)


def test_every_wait_ends_on_some_weekday_and_the_profile_averages_1():
    g = wait_end_weekdays(ACTIVITY)
    assert np.allclose(g.sum(axis=1), 1, atol=1e-14)
    assert discharge_profile(ACTIVITY, 0.3, WEIGHTS).mean() == pytest.approx(1, abs=1e-14)


def test_everyone_acted_for_at_once_and_leaving_the_ready_day_gives_the_weights_back():
    weights = np.arange(1.0, 8.0)  # Mon 1 .. Sun 7, total 28
    np.testing.assert_allclose(discharge_profile(np.ones(7), 1.0, weights), weights / 4, rtol=1e-14)
    np.testing.assert_allclose(ready_day_distribution(np.ones(7), weights), weights / 28, rtol=1e-14)


def test_everyone_acted_for_at_once_and_leaving_the_next_day_shifts_the_weights_one_day():
    weights = np.arange(1.0, 8.0)
    # Sunday's clinical ends (7) leave on Monday, Monday's (1) on Tuesday, ...
    np.testing.assert_allclose(discharge_profile(np.ones(7), 0.0, weights), np.array([7, 1, 2, 3, 4, 5, 6]) / 4, rtol=1e-14)


def test_a_half_chance_on_monday_spreads_monday_ends_over_two_days():
    """All stays end on a Monday, a_Mon = 0.5 and every other day 1: half are ready on Monday and
    half on Tuesday. Leaving on the ready day, that is the discharge split; leaving the day
    after, it moves to Tuesday and Wednesday."""
    activity = (0.5, 1, 1, 1, 1, 1, 1)
    mondays = (1, 0, 0, 0, 0, 0, 0)
    np.testing.assert_allclose(ready_day_distribution(activity, mondays), [0.5, 0.5, 0, 0, 0, 0, 0], atol=1e-15)
    np.testing.assert_allclose(discharge_profile(activity, 1.0, mondays), [3.5, 3.5, 0, 0, 0, 0, 0], atol=1e-14)
    np.testing.assert_allclose(discharge_profile(activity, 0.0, mondays), [0, 3.5, 3.5, 0, 0, 0, 0], atol=1e-14)
    # s = 0.8: Monday 0.8 × 0.5; Tuesday 0.8 × 0.5 + 0.2 × 0.5; Wednesday 0.2 × 0.5
    np.testing.assert_allclose(discharge_profile(activity, 0.8, mondays), 7 * np.array([0.4, 0.5, 0.1, 0, 0, 0, 0]), atol=1e-14)


def test_mean_days_waited_is_the_geometric_mean_for_even_activity_and_counts_whole_weeks():
    assert mean_days_waited(np.ones(7)) == 0
    assert mean_days_waited(np.full(7, 0.5)) == pytest.approx(1.0, abs=1e-14)  # (1 − p) / p
    assert mean_days_waited(np.full(7, 0.1)) == pytest.approx(9.0, abs=1e-12)
    # only Mondays act: from a Monday 0 days, from a Tuesday 6 days
    mondays = (1, 1e-300, 1e-300, 1e-300, 1e-300, 1e-300, 1e-300)
    assert mean_days_waited(mondays, (0, 1, 0, 0, 0, 0, 0)) == pytest.approx(6.0)
    assert mean_days_waited(mondays) == pytest.approx(sum(range(7)) / 7)


def test_stays_of_whole_days_move_the_start_weights_and_part_days_split_them():
    weights = np.arange(1.0, 8.0)
    np.testing.assert_allclose(completion_weights_from(weights, [7.0, 14.0]), weights / 28, atol=1e-15)
    np.testing.assert_allclose(completion_weights_from(weights, [1.0]), np.roll(weights, 1) / 28, atol=1e-15)
    # a quarter-day stay from a uniform start: three in four end the same day
    mondays = completion_weights_from((1, 0, 0, 0, 0, 0, 0), [0.25, 8.25])
    np.testing.assert_allclose(mondays, [0.375, 0.5, 0.125, 0, 0, 0, 0], atol=1e-15)


def test_the_national_profile_is_solved_exactly_with_friday_the_busiest_day():
    fit = solve_weekday(NATIONAL_2023_PROFILE, SAME_DAY_SHARE)
    target = np.array(NATIONAL_2023_PROFILE) / np.mean(NATIONAL_2023_PROFILE)  # published to 2 dp: mean 1.0014
    np.testing.assert_allclose(discharge_profile(fit.activity, fit.same_day_share), target, atol=1e-6)
    assert fit.same_day_share == SAME_DAY_SHARE
    assert fit.exact and fit.residual < 1e-6
    assert all(0 < a <= 1 for a in fit.activity)
    assert max(fit.activity) == fit.activity[4] == 1.0  # Friday
    assert fit.note.startswith("exact: Fri")
    assert fit.misses[4] < 1e-9 and min(fit.misses[:4] + fit.misses[5:]) > 0.1  # no other day can be the busiest
    np.testing.assert_allclose(fit.profile, target, atol=1e-6)


def test_a_less_active_reading_fits_the_same_profile_with_longer_waits():
    """The scale choice: with Friday acting for 70% rather than everyone, the profile is still
    matched, every day acts less, and readiness takes longer."""
    full = solve_weekday(NATIONAL_2023_PROFILE, SAME_DAY_SHARE)
    less = solve_weekday(NATIONAL_2023_PROFILE, SAME_DAY_SHARE, busiest_activity=0.7)
    assert less.exact and less.residual < 1e-6 and max(less.activity) == less.activity[4] == 0.7
    assert all(x < y for x, y in zip(less.activity, full.activity))
    assert mean_days_waited(less.activity) > mean_days_waited(full.activity)


def test_a_known_activity_is_recovered_from_its_own_profile():
    """With max(a) = 1 the activity is identified: generate a profile and solve it back, with
    uneven completion weights and Thursday the busiest day."""
    activity = (0.45, 0.7, 0.8, 1.0, 0.95, 0.5, 0.35)
    profile = discharge_profile(activity, 0.6, WEIGHTS)
    fit = solve_weekday(profile, 0.6, WEIGHTS)
    assert fit.exact
    np.testing.assert_allclose(fit.activity, activity, atol=1e-6)


def test_a_profile_out_of_reach_gets_the_best_fit_and_says_so():
    """A Sunday with a trillionth of the discharges would need activity below the floor (1e-6)."""
    fit = solve_weekday((1, 1, 1, 1, 1, 1, 1e-12), 0.5)
    assert not fit.exact
    assert fit.residual > 1e-9
    assert fit.note.startswith("no exact solution")


@pytest.mark.parametrize(("call", "message"), [
    (lambda: solve_weekday((1, 1, 1, 1, 1, 1), 0.5), r"profile: expected 7 values, Monday to Sunday; got shape \(6,\)"),
    (lambda: solve_weekday((1, 1, 1, 1, 1, 1, 0), 0.5), "profile: every weekday needs discharges above 0"),
    (lambda: solve_weekday(NATIONAL_2023_PROFILE, 86.5), r"same_day_share = 86.5: expected a proportion between 0 and 1 \(86.5% is 0.865\)"),
    (lambda: solve_weekday(NATIONAL_2023_PROFILE, -0.1), "same_day_share = -0.1: expected a proportion between 0 and 1"),
    (lambda: solve_weekday(NATIONAL_2023_PROFILE, 1.2), "same_day_share = 1.2: expected a proportion between 0 and 1"),
    (lambda: solve_weekday(NATIONAL_2023_PROFILE, float("nan")), "same_day_share = nan"),
    (lambda: solve_weekday(NATIONAL_2023_PROFILE, 0.5, busiest_activity=0), r"busiest_activity = 0: expected a probability in \(0, 1\]"),
    (lambda: discharge_profile((1, 1, 1, 1, 1, 1, 0), 0.5), r"activity: each value must be in \(0, 1\]"),
    (lambda: discharge_profile((1, 1, 1, 1, 1, 1, 1.2), 0.5), r"activity: each value must be in \(0, 1\]"),
    (lambda: discharge_profile(np.ones(7), 0.5, (1, -1, 1, 1, 1, 1, 1)), "completion_weights: expected weights ≥ 0"),
    (lambda: discharge_profile(np.ones(7), 0.5, np.ones(8)), "completion_weights: expected 7 values"),
    (lambda: completion_weights_from(np.ones(7), [1.0, -2.0]), "durations: expected finite lengths of stay ≥ 0"),
])
def test_bad_input_is_refused_with_a_clear_message(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_the_derivation_in_docs_is_what_the_script_prints(capsys):
    root = Path(__file__).resolve().parents[1]
    runpy.run_path(str(root / "calibration" / "weekday_readiness.py"), run_name="__main__")
    printed = capsys.readouterr().out
    assert printed == (root / "docs" / "weekday-readiness.md").read_text(), \
        "docs/weekday-readiness.md is stale: regenerate it with calibration/weekday_readiness.py"
