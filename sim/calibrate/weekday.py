"""Weekday readiness and discharge: the steady state of the two-step day rule, and its inverse.

The mechanism (time in days; day d covers [d, d + 1); weekday k = 0 is Monday). A weekday
activity vector a = (a_Mon..a_Sun), each in (0, 1], is the chance that on a given day the team
acts for someone waiting:

1. Readiness. A clinical stay ending on a day of weekday k is declared ready that day with
   probability a_k; otherwise on each later day independently with that day's probability.
2. Discharge (pathway 0). With probability s the person leaves on the ready day. Otherwise the
   first chance is the next day, then each later day, each with that weekday's probability a.

A wait whose first chance falls on weekday k is geometric with weekday-varying success
probabilities: a cyclic chain over the weekdays. Summing over whole weeks (a geometric series
in Π = ∏(1 − a_i)) gives the chance it ends on weekday m in closed form:

    G[k, m] = a_m ∏_{i=0}^{t-1} (1 − a_{k+i}) / (1 − Π),    t = (m − k) mod 7, indices mod 7.

With clinical ends spread over weekdays by weights q (summing to 1), the ready days are
R = q G and the discharge days D_m = s R_m + (1 − s) Σ_k R_k G[(k + 1) mod 7, m]. Each row of G sums
to 1, so Σ D = 1 and the discharge profile relative to the daily mean is 7 D.

Solving: the profile gives 6 independent equations (it is normalised), the ready-day share one
more, for 8 unknowns (a and s). A later discharge is on a later day by construction, so the
ready-day share is s itself: that equation fixes s, and a one-parameter family of a matches the
profile. The scale is fixed by max(a) = 1: on the busiest day the team acts for everyone
waiting (the most active reading of the data: less active ones fit as well, with longer waits;
see `busiest_activity`). Which day is busiest is not assumed: each is tried with a = 1 there,
and the solution with all a ≤ 1 kept.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import optimize

from ..inputs.scenario import WEEKDAYS

EXACT = 1e-9  # a solve whose profile misses by less than this is an exact solution
DECIMALS = 8  # stored activity: solver noise removed, the profile still reproduced to ~1e-8
LOWEST_ACTIVITY = 1e-6  # a must stay above 0 for every wait to end


@dataclass(frozen=True)
class WeekdayFit:
    """Activity by weekday and same-day share that reproduce a weekday discharge profile.

    `residual` is the largest absolute gap between the profile the stored (rounded) activity
    gives and the target profile rescaled to mean 1; `exact` says whether the solve itself
    matched it (to 1e-9) with every a in (0, max]. `misses` holds, for each weekday tried as the
    busiest (a = max there, the others in (0, max]), the largest profile gap of its best fit: one
    near 0 and the rest well above it means only that day can be the busiest.
    """

    activity: tuple[float, ...]  # Mon..Sun; max is busiest_activity, 1 unless asked otherwise
    same_day_share: float
    residual: float
    exact: bool
    profile: tuple[float, ...]  # what `activity` gives, mean 1
    misses: tuple[float, ...]  # Mon..Sun as the busiest day
    note: str


def _vector(values, name: str) -> np.ndarray:
    array = np.asarray(values, dtype=float)
    if array.shape != (7,):
        raise ValueError(f"{name}: expected 7 values, Monday to Sunday; got shape {array.shape}")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name}: every value must be a finite number; got {array.tolist()}")
    return array


def _activity(activity) -> np.ndarray:
    a = _vector(activity, "activity")
    if np.any(a <= 0) or np.any(a > 1):
        raise ValueError(f"activity: each value must be in (0, 1] (a probability, above 0 so every wait ends); got {a.tolist()}")
    return a


def _share(same_day_share: float) -> float:
    s = float(same_day_share)
    if not 0 <= s <= 1:  # also false for NaN
        hint = f" ({s:g}% is {s / 100:g})" if 1 < s <= 100 else ""
        raise ValueError(f"same_day_share = {s:g}: expected a proportion between 0 and 1{hint}")
    return s


def _weights(completion_weights) -> np.ndarray:
    if completion_weights is None:
        return np.full(7, 1 / 7)
    q = _vector(completion_weights, "completion_weights")
    if np.any(q < 0) or q.sum() <= 0:
        raise ValueError(f"completion_weights: expected weights ≥ 0 with a positive total; got {q.tolist()}")
    return q / q.sum()


def completion_weights_from(start_weights, durations) -> np.ndarray:
    """Weekday weights of the days stays end (7 values summing to 1), for stays starting on
    weekdays in proportion to `start_weights`, at a uniform time within the day, and lasting
    one of the equally likely `durations` (days; e.g. a distribution's quantiles at midpoints).

    A stay of length L from a uniform start ends floor(L) days later with chance 1 − frac(L)
    and floor(L) + 1 days later otherwise.
    """
    starts = _weights(start_weights)
    length = np.asarray(durations, dtype=float).ravel()
    if length.size == 0 or not np.all(np.isfinite(length)) or np.any(length < 0):
        raise ValueError("durations: expected finite lengths of stay ≥ 0 (days)")
    whole = np.floor(length)
    later = np.bincount(whole.astype(np.int64) % 7, weights=1 - (length - whole), minlength=7)
    later += np.bincount((whole.astype(np.int64) + 1) % 7, weights=length - whole, minlength=7)
    later /= length.size  # later[t]: chance the stay ends t (mod 7) days after its start day
    return np.array([starts @ later[(m - np.arange(7)) % 7] for m in range(7)])


def _first_week(activity) -> tuple[np.ndarray, float]:
    """f[k, t]: the chance a wait whose first chance is on weekday k ends t days later (t < 7),
    and Π = ∏(1 − a), the chance it runs past the first seven chances."""
    a = _activity(activity)
    f = np.empty((7, 7))
    for k in range(7):
        waiting = 1.0
        for t in range(7):
            m = (k + t) % 7
            f[k, t] = waiting * a[m]
            waiting *= 1 - a[m]
    return f, float(np.prod(1 - a))


def wait_end_weekdays(activity) -> np.ndarray:
    """G[k, m]: the chance that a wait whose first chance is on weekday k ends on weekday m."""
    f, whole_week = _first_week(activity)
    g = np.empty((7, 7))
    for k in range(7):
        g[k, (k + np.arange(7)) % 7] = f[k]
    return g / (1 - whole_week)  # all later weeks repeat the first, scaled by Π each time


def mean_days_waited(activity, first_chance_weights=None) -> float:
    """Mean whole days from the first chance to the day a wait ends, for first chances on
    weekdays in proportion to the weights (default even). T = 7J + t with J whole weeks passed
    (P(J = j) ∝ Π^j), so E[T | k] = (Σ_t t f[k, t] + 7Π) / (1 − Π)."""
    f, whole_week = _first_week(activity)
    by_first_day = (f @ np.arange(7) + 7 * whole_week) / (1 - whole_week)
    return float(_weights(first_chance_weights) @ by_first_day)


def ready_day_distribution(activity, completion_weights=None) -> np.ndarray:
    """Share of readiness declarations on each weekday (7 values summing to 1)."""
    return _weights(completion_weights) @ wait_end_weekdays(activity)


def discharge_profile(activity, same_day_share: float, completion_weights=None) -> np.ndarray:
    """Discharges by weekday relative to the daily mean (7 values, mean 1), in steady state."""
    g = wait_end_weekdays(activity)
    s = _share(same_day_share)
    ready = _weights(completion_weights) @ g
    next_day = np.roll(ready, 1)  # those not leaving on the ready day first try the day after
    discharges = s * ready + (1 - s) * (next_day @ g)
    return 7 * discharges / discharges.sum()


def _target(profile) -> np.ndarray:
    p = _vector(profile, "profile")
    if np.any(p <= 0):
        raise ValueError(f"profile: every weekday needs discharges above 0; got {p.tolist()}")
    return 7 * p / p.sum()  # published figures are rounded, so their mean is only close to 1


def solve_weekday(profile, same_day_share: float, completion_weights=None, busiest_activity: float = 1.0) -> WeekdayFit:
    """Activity by weekday and same-day share giving `profile` (rescaled to mean 1).

    max(a) = busiest_activity fixes the scale: 1 (the default, the documented choice) says the
    busiest day acts for everyone waiting; a lower value gives a less active reading of the
    same profile, with longer waits.
    """
    target = _target(profile)
    s = _share(same_day_share)
    q = _weights(completion_weights)
    top = float(busiest_activity)
    if not LOWEST_ACTIVITY < top <= 1:
        raise ValueError(f"busiest_activity = {top:g}: expected a probability in (0, 1]")
    solves = []
    for busiest in range(7):
        others = [k for k in range(7) if k != busiest]

        def activity_of(x, others=others):
            a = np.full(7, top)
            a[others] = x
            return a

        def gaps(x, activity_of=activity_of):
            # 6 of the 7 equations: both profiles average 1, so the 7th follows
            return (discharge_profile(activity_of(x), s, q) - target)[:6]

        found = optimize.least_squares(gaps, np.full(6, 0.7 * top), bounds=(LOWEST_ACTIVITY, top), xtol=1e-15, ftol=1e-15, gtol=1e-15)
        a = activity_of(found.x)
        solves.append((float(np.max(np.abs(discharge_profile(a, s, q) - target))), busiest, a))
    misses = tuple(solve[0] for solve in solves)
    solves.sort(key=lambda solve: solve[0])
    miss, busiest, a = solves[0]
    activity = tuple(round(float(x), DECIMALS) for x in a)
    fitted = discharge_profile(activity, s, q)
    exact = miss < EXACT
    if exact:
        also = [WEEKDAYS[b].title() for m, b, _ in solves[1:] if m < EXACT]
        note = (f"exact: {WEEKDAYS[busiest].title()} is the busiest day (a = {top:g}), every a in (0, {top:g}]"
                + (f"; other exact solutions with {', '.join(also)} busiest" if also else ""))
    else:
        note = (f"no exact solution with every a in (0, {top:g}]: best fit has {WEEKDAYS[busiest].title()} busiest "
                f"and misses the profile by up to {miss:.3g}")
    return WeekdayFit(activity, s, float(np.max(np.abs(fitted - target))), exact,
                      tuple(round(float(x), DECIMALS) for x in fitted), misses, note)


__all__ = ["WeekdayFit", "completion_weights_from", "discharge_profile", "mean_days_waited", "ready_day_distribution", "solve_weekday", "wait_end_weekdays"]
