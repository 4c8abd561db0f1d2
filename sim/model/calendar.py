"""Calendar effects: demand by day (season × weekday × growth) and the discharge-day rule."""

from __future__ import annotations

import math

import numpy as np

from ..inputs.scenario import Scenario
from ..units import DAYS_PER_YEAR


class Calendar:
    def __init__(self, scenario: Scenario):
        self.scenario = scenario
        first = scenario.date_of(0.0)
        self._weekday0 = first.weekday()  # Monday = 0
        days = np.arange(scenario.end_day)
        dates = [scenario.date_of(float(d)) for d in days]
        self.month = np.array([d.month - 1 for d in dates])
        self.weekday = (self._weekday0 + days) % 7
        self.season_growth = np.asarray(scenario.arrivals.monthly_factors)[self.month] * self.growth(dates)

    def growth(self, dates) -> np.ndarray:
        """Demand on each date relative to the start date: a population projection's demand
        index if the scenario has one, else compound annual growth."""
        arrivals, start = self.scenario.arrivals, self.scenario.run.start_date
        if arrivals.population is not None:
            index = arrivals.population.demand_index([start, *dates])
            return index[1:] / index[0]
        years_from_start = np.array([(d - start).days for d in dates]) / DAYS_PER_YEAR
        return (1 + arrivals.annual_growth) ** years_from_start

    def weekday_of(self, t: float) -> int:
        return (self._weekday0 + math.floor(t)) % 7

    def front_door_rates(self) -> np.ndarray:
        """Expected front-door arrivals on each day of the run."""
        a = self.scenario.arrivals
        return a.rate_per_day * self.season_growth * np.asarray(a.weekday_factors)[self.weekday]

    def community_rates(self, per_day: float) -> np.ndarray:
        """Expected community referrals per day: same season and growth, no weekday pattern."""
        return per_day * self.season_growth

    def leave_time(self, t: float, u: float, day_probabilities: tuple[float, ...]) -> float:
        """When a person able to leave from time t actually leaves.

        On each day a person still waiting leaves with that weekday's probability, independently
        of other days (one uniform u per person, rescaled day by day, drives the sequence, so
        common random numbers hold). On the first day they leave at t; on a later day at midday.
        """
        day = math.floor(t)
        weekday = (self._weekday0 + day) % 7
        p = day_probabilities[weekday]
        if u < p:
            return t
        while True:
            u = min((u - p) / (1 - p), 0.999999999999)  # rounding must not reach 1
            day += 1
            weekday = (weekday + 1) % 7
            p = day_probabilities[weekday]
            if u < p:
                return day + 0.5

    def leave_times(self, t: np.ndarray, u: np.ndarray, day_probabilities: tuple[float, ...]) -> np.ndarray:
        """`leave_time` for many people at once (the same arithmetic, so the same answers)."""
        probs = np.asarray(day_probabilities, dtype=float)
        day = np.floor(t)
        weekday = (self._weekday0 + day.astype(np.int64)) % 7
        p = probs[weekday]
        leave = t.copy()
        waiting = np.flatnonzero(u >= p)
        u, p, day, weekday = u[waiting], p[waiting], day[waiting], weekday[waiting]
        while waiting.size:
            u = np.minimum((u - p) / (1 - p), 0.999999999999)
            day += 1
            weekday = (weekday + 1) % 7
            p = probs[weekday]
            goes = u < p
            leave[waiting[goes]] = day[goes] + 0.5
            stay = ~goes
            waiting, u, p, day, weekday = waiting[stay], u[stay], p[stay], day[stay], weekday[stay]
        return leave


def poisson_arrival_times(rng: np.random.Generator, rates: np.ndarray, first_day: int) -> np.ndarray:
    """Arrival times for days first_day.. with the given daily rates (constant within a day)."""
    counts = rng.poisson(rates)
    days = np.repeat(np.arange(first_day, first_day + len(rates)), counts)
    times = days + rng.random(days.size)
    times.sort()
    return times
