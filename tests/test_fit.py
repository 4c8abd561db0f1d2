"""Calibration fitting: parameter recovery from data simulated with known parameters.

Every tolerance is derived from the sampling variability of the simulated data (standard errors
reported by the fit, or binomial standard errors from the true parameters), not tuned to pass;
each test can fail if the estimator is wrong (see the comments for what a wrong estimator would
give). Seeds are fixed, so each run is deterministic.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import integrate, optimize, stats

from sim.calibrate.fit import (
    WEEKDAYS,
    fit_arrivals,
    fit_duration,
    fit_shares,
    occupancy_after,
    peak_concurrency,
    weekday_leave_probabilities,
)

# --------------------------------------------------------------------------------------------
# Arrivals
# --------------------------------------------------------------------------------------------

REF = pd.Timestamp("2021-04-01")
RATE = 30.0
MONTHLY = np.array([1.15, 1.10, 1.00, 0.95, 0.90, 0.88, 0.90, 0.92, 0.97, 1.03, 1.08, 1.12])
MONTHLY = MONTHLY / MONTHLY.mean()
WEEKDAY = np.array([1.20, 1.10, 1.05, 1.00, 1.00, 0.80, 0.85])
WEEKDAY = WEEKDAY / WEEKDAY.mean()
GROWTH = 0.05


def simulate_counts(days: int, seed: int, start=REF, overdispersion: float | None = None) -> pd.Series:
    dates = pd.date_range(start, periods=days, freq="D")
    years = (dates - REF).days.to_numpy() / 365.0
    lam = RATE * MONTHLY[dates.month - 1] * WEEKDAY[dates.day_of_week] * (1 + GROWTH) ** years
    rng = np.random.default_rng(seed)
    if overdispersion is None:
        y = rng.poisson(lam)
    else:  # gamma-Poisson mixture: variance lam + lam^2 / k
        y = rng.poisson(lam * rng.gamma(overdispersion, 1 / overdispersion, size=len(lam)))
    return pd.Series(y, index=dates)


@pytest.fixture(scope="module")
def arrivals_fit():
    counts = simulate_counts(3 * 365 + 1, seed=2024)
    return counts, fit_arrivals(counts, REF.date())


def test_arrivals_recover_rate_and_growth(arrivals_fit):
    _, fit = arrivals_fit
    # 4 standard errors: a two-sided 6e-5 chance of a false failure per parameter.
    assert abs(fit.rate_per_day - RATE) < 4 * fit.rate_se
    assert abs(fit.annual_growth - GROWTH) < 4 * fit.growth_se
    # The test can tell a wrong trend: no growth (or double the growth) is > 4 SE away.
    assert abs(0.0 - fit.annual_growth) > 4 * fit.growth_se
    assert abs(2 * GROWTH - fit.annual_growth) > 4 * fit.growth_se
    # Sanity of the SEs themselves: ~33,000 arrivals give SE(rate) ≈ 30 × sqrt(19/33000·…) < 0.5/day.
    assert 0.1 < fit.rate_se < 1.0
    assert fit.n_days == 3 * 365 + 1 and fit.months_fitted and fit.notes == []


def test_arrivals_recover_month_and_weekday_factors(arrivals_fit):
    _, fit = arrivals_fit
    mf, wf = np.array(fit.monthly_factors), np.array(fit.weekday_factors)
    assert len(mf) == 12 and len(wf) == 7
    assert abs(mf.mean() - 1) < 1e-12 and abs(wf.mean() - 1) < 1e-12
    # Each calendar month holds ~3 × 30.4 days × 30/day ≈ 2,700 arrivals, so a month factor's
    # relative SE is about sqrt(1/2700 + 1/33000) ≈ 2%: ±6% is 3 SE (checked against the
    # reported SEs too), and a fit without seasonality (all 1; truth spans 0.88..1.15) fails.
    assert np.all(np.abs(mf / MONTHLY - 1) < 0.06)
    assert np.all(np.abs(mf - MONTHLY) < 4 * np.array(fit.monthly_factor_se))
    assert np.all(np.array(fit.monthly_factor_se) < 0.03)
    # Weekdays: ~4,700 arrivals each, relative SE ≈ 1.5%.
    assert np.all(np.abs(wf - WEEKDAY) < 4 * np.array(fit.weekday_factor_se))
    assert np.all(np.abs(wf / WEEKDAY - 1) < 0.06)


def test_arrivals_normalisation_is_a_reparameterisation(arrivals_fit):
    # A Poisson GLM with an intercept and month/weekday dummies reproduces the observed totals
    # per month and per weekday (its score equations). If rescaling the factors to mean 1 had
    # changed the fit, the reparameterised intensity would not reproduce them.
    counts, fit = arrivals_fit
    mu = pd.Series(fit.intensity(counts.index), index=counts.index)
    assert mu.sum() == pytest.approx(counts.sum(), rel=1e-8)
    by_month = counts.groupby(counts.index.month).sum()
    np.testing.assert_allclose(mu.groupby(mu.index.month).sum(), by_month, rtol=1e-8)
    by_weekday = counts.groupby(counts.index.day_of_week).sum()
    np.testing.assert_allclose(mu.groupby(mu.index.day_of_week).sum(), by_weekday, rtol=1e-8)
    # Poisson data: dispersion near 1 (sd of Pearson χ²/df ≈ sqrt(2/1077) ≈ 0.04), no warning.
    assert 0.85 < fit.dispersion < 1.15 and fit.overdispersion_warning is None
    # Deviance of a correct Poisson model ≈ df (large-count regime), well inside ±20%.
    assert 0.8 < fit.deviance / (fit.n_days - fit.n_parameters) < 1.2


def test_arrivals_short_window_fixes_months():
    counts = simulate_counts(200, seed=7)  # April..October: 7 distinct months
    fit = fit_arrivals(counts, REF.date())
    assert not fit.months_fitted
    assert fit.monthly_factors == (1.0,) * 12
    assert any("month effects" in note for note in fit.notes)


def test_arrivals_overdispersion_is_flagged():
    # Gamma mixing with shape 5: variance = μ + μ²/5 ≈ 7μ at μ ≈ 30, so dispersion ≈ 7.
    fit = fit_arrivals(simulate_counts(3 * 365, seed=11, overdispersion=5.0), REF.date())
    assert fit.dispersion > 1.5
    assert fit.overdispersion_warning is not None and "overdispersion" in fit.overdispersion_warning


# --------------------------------------------------------------------------------------------
# Durations
# --------------------------------------------------------------------------------------------


def lognormal(mean, sd):
    s2 = math.log1p((sd / mean) ** 2)
    return stats.lognorm(s=math.sqrt(s2), scale=math.exp(math.log(mean) - s2 / 2))


def gamma(mean, sd):
    return stats.gamma(a=(mean / sd) ** 2, scale=sd**2 / mean)


def weibull(mean, sd):
    cv2 = (sd / mean) ** 2
    k = optimize.brentq(lambda k: math.gamma(1 + 2 / k) / math.gamma(1 + 1 / k) ** 2 - 1 - cv2, 0.1, 50)
    return stats.weibull_min(c=k, scale=mean / math.gamma(1 + 1 / k))


DURATION_CASES = [
    ("exponential", stats.expon(scale=7.0), 7.0),
    ("lognormal", lognormal(10.0, 9.0), 10.0),
    ("gamma", gamma(10.0, 6.0), 10.0),
    ("weibull", weibull(9.0, 5.5), 9.0),
]


@pytest.mark.parametrize("family,dist,mean", DURATION_CASES, ids=[c[0] for c in DURATION_CASES])
def test_duration_family_and_mean_recovered(family, dist, mean):
    x = dist.rvs(3000, random_state=np.random.default_rng(100 + len(family)))
    fit = fit_duration(x)
    assert set(fit.aic) == {"exponential", "lognormal", "gamma", "weibull"}
    # The true family is chosen, or is within 2 AIC of the best (the exponential is nested in
    # the gamma and the Weibull, so a 2-parameter fit can win by chance there).
    assert fit.family == family or fit.delta_aic[family] <= 2
    true_fit = fit.candidates[family]
    assert abs(true_fit["mean"] - mean) < 4 * true_fit["mean_se"]
    # The reported SE is the right size: for n = 3000, about sd/sqrt(n) (within a factor 2).
    assert 0.5 < true_fit["mean_se"] / (dist.std() / math.sqrt(3000)) < 2
    if fit.family != "exponential":
        assert set(fit.distribution) == {"family", "mean", "sd"}
    else:
        assert set(fit.distribution) == {"family", "mean"}
    assert fit.n == 3000 and fit.n_censored == 0
    assert 0 <= fit.ks_statistic < 1 and fit.ks_pvalue > 0.001  # a correct model is not rejected


def test_censored_lognormal_mean_recovered_where_naive_fit_is_biased():
    true = lognormal(10.0, 12.0)
    # Independent exponential censoring times, mean θ solved so that P(C < T) = 0.4:
    # P(C < T) = 1 − E[exp(−T/θ)].
    def censored_share(theta):
        return 1 - integrate.quad(lambda t: math.exp(-t / theta) * true.pdf(t), 0, np.inf, limit=200)[0]

    theta = optimize.brentq(lambda th: censored_share(th) - 0.4, 1.0, 1000.0)
    rng = np.random.default_rng(31)
    n = 3000
    t = true.rvs(n, random_state=rng)
    c = rng.exponential(theta, n)
    observed = np.minimum(t, c)
    censored = c < t
    assert 0.35 < censored.mean() < 0.45  # binomial sd 0.009 around 0.40

    # Naive: the mean of what was observed, ignoring censoring. Biased low: required to sit more
    # than X = 4 of its own standard errors below the true mean (X computed from these data).
    naive = observed.mean()
    x_bias = 4 * observed.std(ddof=1) / math.sqrt(n)
    assert 10.0 - naive > x_bias

    fit = fit_duration(observed, censored=censored, families=("lognormal",))
    assert fit.family == "lognormal" and fit.n_censored == int(censored.sum())
    assert abs(fit.mean - 10.0) < 4 * fit.mean_se
    # The censored MLE is much closer than the naive estimate.
    assert abs(fit.mean - 10.0) < (10.0 - naive) / 2
    assert "approximate with censoring" in fit.ks_note


def test_duration_small_samples_and_zeros():
    fit = fit_duration([3.0, 1.0, 2.0, 5.0])
    assert fit.distribution == {"family": "empirical", "values": [1.0, 2.0, 3.0, 5.0]}
    assert fit.notes
    # With censoring: exponential MLE = total time / events = (1+2+3+5)/3.
    fit = fit_duration([3.0, 1.0, 2.0, 5.0], censored=[False, False, True, False])
    assert fit.family == "exponential" and fit.mean == pytest.approx(11 / 3)
    with pytest.raises(ValueError, match="> 0"):
        fit_duration([0.0, 1.0, 2.0] * 5)


# --------------------------------------------------------------------------------------------
# Shares
# --------------------------------------------------------------------------------------------


def test_shares_sum_to_one_and_order():
    fit = fit_shares({"a": 1, "b": 1, "c": 1, "e": 7}, ["a", "b", "c", "d", "e"])
    assert list(fit.shares) == ["a", "b", "c", "d", "e"]
    assert abs(sum(fit.shares.values()) - 1) <= 1e-12
    assert abs(math.fsum(fit.shares.values()) - 1) <= 1e-12
    assert fit.shares["d"] == 0 and fit.shares["a"] == 0.1 and fit.n == 10
    thirds = fit_shares({"x": 1, "y": 1, "z": 1}, ["x", "y", "z"])
    assert abs(sum(thirds.shares.values()) - 1) <= 1e-12
    with pytest.raises(ValueError):
        fit_shares({"a": 1, "zz": 2}, ["a", "b"])


def test_shares_wilson_intervals_match_published_values():
    # Newcombe (1998), Stat Med 17:857, Table I, method 3 (Wilson score, no continuity
    # correction): 81/263 -> 0.2553-0.3662; 15/148 -> 0.0624-0.1605; 0/20 -> 0-0.1611;
    # 1/29 -> 0.0061-0.1718.
    cases = [(81, 263, 0.2553, 0.3662), (15, 148, 0.0624, 0.1605), (0, 20, 0.0, 0.1611), (1, 29, 0.0061, 0.1718)]
    for k, n, lo, hi in cases:
        fit = fit_shares({"yes": k, "no": n - k}, ["yes", "no"])
        assert fit.lower["yes"] == pytest.approx(lo, abs=5e-5)
        assert fit.upper["yes"] == pytest.approx(hi, abs=5e-5)


# --------------------------------------------------------------------------------------------
# Peak concurrency
# --------------------------------------------------------------------------------------------

# Intervals [start, end), window [0, 10):
#   A [1, 5)   B [2, open)   C [5, 7)   D [-3, 3) (starts before the window)
#   E [12, 15) (after the window)   F [4, 6)   G [5, 5.5)
# Open counts: [2,3) A B D = 3; [3,4) A B = 2; [4,5) A B F = 3; [5,5.5) B C F G = 4 (A leaves at
# 5 as C and G arrive: no overlap); [5.5,6) B C F = 3; [6,7) B C = 2; [7,10) B = 1. Peak 4.
# Counting A as still open at 5 would give 5; dropping the open interval B would give 3.
STARTS = [1, 2, 5, -3, 12, 4, 5]
ENDS = [5, np.nan, 7, 3, 15, 6, 5.5]


def test_peak_concurrency_hand_worked():
    assert peak_concurrency(STARTS, ENDS, 0, 10) == 4
    assert peak_concurrency(STARTS, ENDS, 6, 10) == 2  # B and C on [6, 7)
    assert peak_concurrency(STARTS, ENDS, 7, 10) == 1  # only the open B
    assert peak_concurrency(STARTS, ENDS, 15, 20) == 1  # E has ended at 15; B still open
    assert peak_concurrency(STARTS, ENDS, 2.5, 3) == 3  # D still open until 3


def test_peak_concurrency_datetimes_with_nat():
    base = pd.Timestamp("2024-03-01")
    starts = [base + pd.Timedelta(days=s) for s in STARTS]
    ends = [pd.NaT if np.isnan(e) else base + pd.Timedelta(days=e) for e in ENDS]
    assert peak_concurrency(pd.Series(starts), pd.Series(ends), base, base + pd.Timedelta(days=10)) == 4


# --------------------------------------------------------------------------------------------
# Weekday leave probabilities (discharge-day rule)
# --------------------------------------------------------------------------------------------

TRUE_P = np.array([0.35, 0.40, 0.40, 0.38, 0.45, 0.15, 0.10])


def simulate_discharge_rule(n: int, seed: int):
    """The model's rule, written out: from the ready day, each day still waiting leave with
    that weekday's probability, independently of other days."""
    rng = np.random.default_rng(seed)
    base = pd.Timestamp("2023-01-02")  # a Monday
    ready_day = rng.integers(0, 365, n)
    ready = base + pd.to_timedelta(ready_day + rng.random(n), unit="D")
    leave_day = np.empty(n, dtype=int)
    for i in range(n):
        day = ready_day[i]
        while rng.random() >= TRUE_P[(base.day_of_week + day) % 7]:
            day += 1
        leave_day[i] = day
    # Leave at midday on a later day (or the ready time on the first day), as in the model.
    leave = pd.Series(base + pd.to_timedelta(leave_day + 0.5, unit="D"))
    same = leave_day == ready_day
    leave[same] = ready[same]
    return pd.Series(ready), leave


def test_weekday_probabilities_recovered():
    ready, leave = simulate_discharge_rule(6000, seed=5)
    out = weekday_leave_probabilities(ready, leave)
    for i, day in enumerate(WEEKDAYS):
        waiting = out["waiting"][day]
        assert waiting > 1000
        # Binomial tolerance: 4 × sqrt(p(1−p)/person-days), p the true probability.
        tol = 4 * math.sqrt(TRUE_P[i] * (1 - TRUE_P[i]) / waiting)
        assert abs(out["probabilities"][day] - TRUE_P[i]) < tol, day
        assert out["lower"][day] < out["probabilities"][day] < out["upper"][day]
    assert sum(out["leavers"].values()) == 6000
    # The naive share "leavers on day d / all leavers" is not the hazard: on a Sunday it would be
    # far from 0.10 — the estimator is not that.
    assert out["probabilities"]["sun"] != pytest.approx(out["leavers"]["sun"] / 6000, abs=0.05)


def test_weekday_probabilities_with_people_still_waiting():
    ready, leave = simulate_discharge_rule(6000, seed=6)
    cutoff = pd.Timestamp("2023-10-01")  # last day fully observed
    leave = leave.where(leave.dt.normalize() <= cutoff)  # later leavers are still waiting
    keep = ready.dt.normalize() <= cutoff
    out = weekday_leave_probabilities(ready[keep], leave[keep], observed_until=cutoff)
    for i, day in enumerate(WEEKDAYS):
        tol = 4 * math.sqrt(TRUE_P[i] * (1 - TRUE_P[i]) / out["waiting"][day])
        assert abs(out["probabilities"][day] - TRUE_P[i]) < tol, day


def test_weekday_probabilities_hand_worked_and_edge_days():
    # Mon 1 Jan 2024. Person 1 ready Mon, leaves Wed (waits Mon, Tue, Wed); person 2 ready and
    # leaves Wed; person 3 ready Fri, leaves Sat; person 4 ready and leaves Thu. Waiting:
    # Mon 1, Tue 1, Wed 2, Thu 1, Fri 1, Sat 1, Sun 0. Leavers: Wed 2, Thu 1, Sat 1 (4 of 7).
    ready = pd.to_datetime(["2024-01-01 10:00", "2024-01-03 08:00", "2024-01-05 15:00", "2024-01-04 09:00"])
    leave = pd.to_datetime(["2024-01-03 12:00", "2024-01-03 17:00", "2024-01-06 12:00", "2024-01-04 11:00"])
    out = weekday_leave_probabilities(ready, leave)
    assert out["waiting"] == dict(mon=1, tue=1, wed=2, thu=1, fri=1, sat=1, sun=0)
    assert out["leavers"] == dict(mon=0, tue=0, wed=2, thu=1, fri=0, sat=1, sun=0)
    p = out["probabilities"]
    assert p["wed"] == 1.0 and p["thu"] == 1.0 and p["sat"] == 1.0
    assert p["mon"] == 0.5 and p["tue"] == 0.5 and p["fri"] == 0.5  # half a leaver / 1 waiting
    assert p["sun"] == pytest.approx(4 / 7)  # nobody waiting: pooled rate
    assert all(0 < v <= 1 for v in p.values())
    assert len(out["notes"]) == 4


def test_occupancy_after_each_moment_by_hand():
    # [0, 2), [1, 3), [2, 4) and one still open from 3: just after 2, the first has ended and
    # the third begun (2 open); just after 4 only the open one remains
    starts, ends = [0.0, 1.0, 2.0, 3.0], [2.0, 3.0, 4.0, np.nan]
    assert occupancy_after(starts, ends, [0.0, 1.0, 2.0, 2.5, 4.0]).tolist() == [1, 2, 2, 2, 1]
