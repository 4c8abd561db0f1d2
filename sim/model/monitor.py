"""Daily accumulators filled as the run goes (no event log): counts, sums and time integrals.

Every series is keyed by (series, scope) and holds one value per simulated day, plus a last
"overflow" cell for anything that falls at or after the end of the run (e.g. a discharge
already decided for a time past the horizon). Analysis turns days into weeks and KPIs.
"""

from __future__ import annotations

from array import array

import numpy as np

from .series import check


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


def _spread_many(bins: np.ndarray, t0: np.ndarray, t1: np.ndarray, weight) -> None:
    """Vectorised _spread: add weight × overlap of each [t0, t1) with each day."""
    last = len(bins) - 1
    t0 = np.minimum(t0, last)
    t1 = np.minimum(t1, last)
    weight = np.broadcast_to(weight, t0.shape)
    keep = t1 > t0
    # overlap of [e, inf) with day d: 0 before day floor(e), 1 - frac(e) on it, 1 after; an
    # interval is the difference of its two ends (and ends at `last` add nothing to it)
    ends = np.concatenate((t0[keep], t1[keep]))
    signed = np.concatenate((weight[keep], -weight[keep]))
    day = ends.astype(np.int64)
    n = len(bins) + 1
    first_day = np.bincount(day, weights=signed * (day + 1 - ends), minlength=n)
    later_days = np.cumsum(np.bincount(day + 1, weights=signed, minlength=n))
    bins[:last] += (first_day + later_days)[:last]


class Level:
    """A quantity that changes by steps (queue length, beds occupied); integrated over time.

    Steps are buffered and integrated in numpy batches (a step costs two list appends).
    """

    __slots__ = ("_ends", "_values", "bins", "last", "value")

    FLUSH_EVERY = 4096  # steps buffered before integrating: memory stays flat

    def __init__(self, bins, value: float = 0.0, t: float = 0.0):
        self.bins = bins
        self.value = value
        self.last = t  # start of the first stretch not yet integrated
        self._ends: list[float] = []
        self._values: list[float] = []

    def change(self, t: float, delta: float) -> None:
        self._ends.append(t)
        self._values.append(self.value)
        self.value += delta
        if len(self._ends) >= self.FLUSH_EVERY:
            self._flush()

    def _flush(self) -> None:
        if self._ends:
            ends = np.array(self._ends)
            starts = np.concatenate(([self.last], ends[:-1]))
            _spread_many(np.frombuffer(self.bins, dtype=float), starts, ends, np.array(self._values))
            self.last = self._ends[-1]
            self._ends.clear()
            self._values.clear()

    def set(self, t: float, value: float) -> None:
        """Jump to `value` (NaN allowed: it makes the integral from now on undefined)."""
        self.close(t)
        self.value = value

    def close(self, t: float) -> None:
        self._flush()
        if self.value:
            _spread(self.bins, self.last, t, self.value)
        self.last = t


class _Days(dict):
    """(series, scope) -> days; a key is created on first use, after checking the series name."""

    def __init__(self, n_days: int):
        super().__init__()
        self._zeros = bytes(8 * (n_days + 1))

    def __missing__(self, key: tuple[str, str]) -> array:
        check(key[0])
        # arrays of C doubles: 8 bytes a day per series, a quarter of a list of floats
        days = self[key] = array("d", self._zeros)
        return days


class Monitor:
    """All accumulators of one replication, by (series, scope); series names: sim.model.series."""

    def __init__(self, n_days: int):
        self.n_days = n_days
        self._series = _Days(n_days)
        self._levels: list[Level] = []

    def count(self, series: str, scope: str, t: float, value: float = 1.0) -> None:
        """An event (or an amount, e.g. days of stay) recorded on the day of time t."""
        day = int(t)
        n = self.n_days
        self._series[series, scope][day if day < n else n] += value

    def interval(self, series: str, scope: str, t0: float, t1: float, weight: float = 1.0) -> None:
        """A known stretch of time (e.g. a P0 patient's discharge delay) added to a time integral."""
        _spread(self._series[(series, scope)], t0, t1, weight)

    def count_many(self, series: str, scope: str, times: np.ndarray, values=None) -> None:
        """`count` for many events at once."""
        bins = self.view(series, scope)
        days = np.minimum(times.astype(np.int64), self.n_days)
        bins += np.bincount(days, weights=values, minlength=len(bins))

    def intervals(self, series: str, scope: str, t0: np.ndarray, t1: np.ndarray, weight=1.0) -> None:
        """`interval` for many stretches at once."""
        _spread_many(self.view(series, scope), t0, t1, weight)

    def view(self, series: str, scope: str = "total") -> np.ndarray:
        """The days of a series as a numpy array sharing its memory (for vectorised updates)."""
        return np.frombuffer(self._series[(series, scope)], dtype=float)

    def level(self, series: str, scope: str = "total", value: float = 0.0) -> Level:
        level = Level(self._series[(series, scope)], value)
        self._levels.append(level)
        return level

    def close(self, t: float) -> None:
        for level in self._levels:
            level.close(t)

    def arrays(self) -> dict[tuple[str, str], np.ndarray]:
        # a copy of each buffer (np.array(values) would read an array.array item by item)
        return {key: np.frombuffer(values, dtype=float).copy() for key, values in self._series.items()}
