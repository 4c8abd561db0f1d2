"""Replications chosen by precision (`--precision`): run in batches until every headline figure's
95% confidence interval half-width is within a stated share of its value, or a cap is reached.

Each batch continues the same replications (0..n-1 of the same seed; the earlier ones are read
back from a store, not recomputed), so the answer after N replications is exactly the answer
`--replications N` gives. The next batch aims at the size the half-widths call for: a half-width
shrinks as 1/√n, so n × (width / target)², plus a margin.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TypeVar

import numpy as np
import pandas as pd

from ..errors import InputError
from .kpis import HEADLINE_KPIS
from .stats import t_interval

FIRST_BATCH = 10  # replications before the first look: fewer give a poor estimate of the spread
DEFAULT_CAP = 1000  # the most replications a precision run takes unless --replications says otherwise
MARGIN = 1.1  # aim 10% past the estimate, as the estimated spread is itself noisy
R = TypeVar("R")


@dataclass(frozen=True)
class Look:
    """The figures after one batch: the widest relative half-width and whose it is."""

    replications: int
    widest: str
    relative_half_width: float


@dataclass
class Precision:
    """How a precision run went: the target, the cap, every look, and the figures it could not
    judge (a mean of zero or undefined has no relative width)."""

    target: float
    cap: int
    looks: list[Look] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)

    @property
    def replications(self) -> int:
        return self.looks[-1].replications if self.looks else 0

    @property
    def reached(self) -> bool:
        return bool(self.looks) and self.looks[-1].relative_half_width <= self.target

    def sentence(self) -> str:
        last = self.looks[-1]
        widest = f"widest: {last.widest} ±{last.relative_half_width:.1%}"
        if self.reached:
            said = f"precision ±{self.target:.1%} reached with {last.replications} replications ({widest})"
        else:
            said = f"precision ±{self.target:.1%} not reached by the cap of {self.cap} replications ({widest})"
        return said + (f"; not judged (mean 0 or undefined): {', '.join(self.skipped)}" if self.skipped else "")

    def as_dict(self) -> dict:
        return {"target_relative_half_width": self.target, "cap": self.cap, "replications": self.replications,
                "reached": self.reached, "skipped": self.skipped,
                "looks": [{"replications": k.replications, "widest": k.widest,
                           "relative_half_width": round(k.relative_half_width, 6)} for k in self.looks]}


def check_target(target: float, cap: int) -> None:
    if not 0 < target < 1:
        raise InputError(f"--precision = {target}: expected a share of the value between 0 and 1, e.g. 0.02 for ±2%")
    if cap < 2:
        raise InputError(f"--replications = {cap}: with --precision, the most replications to run; expected at least 2")


def relative_widths(names: Iterable[str], means: Iterable[float], lows: Iterable[float], highs: Iterable[float]) -> pd.Series:
    """Each figure's 95% half-width as a share of |mean| (NaN where the mean is 0 or undefined)."""
    mean, low, high = (np.asarray(list(v), dtype=float) for v in (means, lows, highs))
    with np.errstate(divide="ignore", invalid="ignore"):
        share = (high - low) / 2 / np.abs(mean)
    share[~np.isfinite(share) | (mean == 0)] = np.nan
    return pd.Series(share, index=list(names), dtype=float)


def headline_widths(summary: pd.DataFrame) -> pd.Series:
    """A run's headline KPIs (system-wide): relative half-widths of their 95% CIs."""
    rows = summary[summary["kpi"].isin(HEADLINE_KPIS) & (summary["scope"] == "total")]
    return relative_widths(rows["kpi"], rows["mean"], rows["ci95_low"], rows["ci95_high"])


def net_benefit_widths(per_replication: dict[str, np.ndarray]) -> pd.Series:
    """Each scenario's net benefit (per replication, at central unit costs): relative half-width
    of its paired 95% CI. This is the simulation's share of the uncertainty, the one more
    replications reduce; the unit costs' share is fixed."""
    names, means, lows, highs = [], [], [], []
    for name, values in per_replication.items():
        mean, low, high = t_interval(np.asarray(values, dtype=float))
        names.append(f"net benefit of {name}")
        means.append(mean), lows.append(low), highs.append(high)
    return relative_widths(names, means, lows, highs)


def next_size(n: int, widest: float, target: float, cap: int) -> int:
    """The replications the next look should have: enough, if the spread holds, to meet the target."""
    wanted = math.ceil(n * (widest / target) ** 2 * MARGIN)
    return min(cap, max(n + 2, wanted))


def until_precise(simulate: Callable[[int], R], widths: Callable[[R], pd.Series], target: float, cap: int,
                  first: int = FIRST_BATCH) -> tuple[R, Precision]:
    """simulate(n) -> the result of replications 0..n-1; widths(result) -> relative half-widths by
    figure. Batches until the widest judged figure is within `target`, or `cap` replications."""
    check_target(target, cap)
    done = Precision(target, cap)
    n = min(cap, max(2, first))
    while True:
        result = simulate(n)
        shares = widths(result)
        judged = shares.dropna()
        done.skipped = sorted(set(shares.index) - set(judged.index))
        if judged.empty:
            raise InputError("--precision: no headline figure has a nonzero mean to judge the precision by; "
                             "use --replications instead")
        widest = str(judged.idxmax())
        done.looks.append(Look(n, widest, float(judged.max())))
        if judged.max() <= target or n >= cap:
            return result, done
        n = next_size(n, float(judged.max()), target, cap)
