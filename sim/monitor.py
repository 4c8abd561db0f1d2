"""Daily accumulators filled as the run goes (no event log): counts, sums and time integrals.

Every series is keyed by (series, scope) and holds one value per simulated day, plus a last
"overflow" cell for anything that falls at or after the end of the run (e.g. a discharge
already decided for a time past the horizon). Analysis turns days into weeks and KPIs.
"""

from __future__ import annotations

from array import array
from collections import defaultdict

import numpy as np


def _spread(bins, t0: float, t1: float, weight: float) -> None:
    """Add weight × (overlap of [t0, t1) with each day) to the days' bins."""
    last = len(bins) - 1  # the overflow cell takes nothing: integrals stop at the end
    if t1 > last:
        t1 = float(last)
    if t1 <= t0:
        return
    d0 = int(t0)
    d1 = int(t1)
    if d0 == d1:
        bins[d0] += weight * (t1 - t0)
        return
    bins[d0] += weight * (d0 + 1 - t0)
    for d in range(d0 + 1, d1):
        bins[d] += weight
    if d1 < last:
        bins[d1] += weight * (t1 - d1)


class Level:
    """A quantity that changes by steps (queue length, beds occupied); integrated over time."""

    __slots__ = ("bins", "value", "last")

    def __init__(self, bins, value: float = 0.0, t: float = 0.0):
        self.bins = bins
        self.value = value
        self.last = t

    def change(self, t: float, delta: float) -> None:
        if self.value:
            _spread(self.bins, self.last, t, self.value)
        self.last = t
        self.value += delta

    def set(self, t: float, value: float) -> None:
        """Jump to `value` (NaN allowed: it makes the integral from now on undefined)."""
        if self.value:
            _spread(self.bins, self.last, t, self.value)
        self.last = t
        self.value = value

    def close(self, t: float) -> None:
        if self.value:
            _spread(self.bins, self.last, t, self.value)
        self.last = t


class Monitor:
    """All accumulators of one replication."""

    def __init__(self, n_days: int):
        self.n_days = n_days
        # arrays of C doubles: 8 bytes a day per series, a quarter of a list of floats
        self._series: dict[tuple[str, str], array] = defaultdict(lambda: array("d", bytes(8 * (n_days + 1))))
        self._levels: list[Level] = []

    def bins(self, series: str, scope: str = "total"):
        return self._series[(series, scope)]

    def count(self, series: str, scope: str, t: float, value: float = 1.0) -> None:
        """An event (or an amount, e.g. days of stay) recorded on the day of time t."""
        day = int(t)
        self._series[(series, scope)][day if day < self.n_days else self.n_days] += value

    def interval(self, series: str, scope: str, t0: float, t1: float, weight: float = 1.0) -> None:
        """A known stretch of time (e.g. a P0 patient's discharge delay) added to a time integral."""
        _spread(self._series[(series, scope)], t0, t1, weight)

    def level(self, series: str, scope: str = "total", value: float = 0.0) -> Level:
        level = Level(self._series[(series, scope)], value)
        self._levels.append(level)
        return level

    def close(self, t: float) -> None:
        for level in self._levels:
            level.close(t)

    def arrays(self) -> dict[tuple[str, str], np.ndarray]:
        return {key: np.array(values, dtype=float) for key, values in self._series.items()}
