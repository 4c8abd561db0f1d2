"""Statistics across replications, in one place: the t-interval of a mean (of KPI values, or of
paired differences), and the fan of yearly values.

A replication is one independent draw of the whole system; the interval is the Student-t 95%
confidence interval of the mean over replications, so it holds the simulation's stochastic
uncertainty at the scenario's inputs, not the uncertainty in the inputs themselves.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

COVERAGE = 0.95
_T_QUANTILE = 0.975  # two-sided 95%: the upper 2.5% point of Student's t
FAN_PERCENTILES = (2.5, 10, 50, 90, 97.5)
SUMMARY_COLUMNS = ["kpi", "scope", "unit", "mean", "ci95_low", "ci95_high", "p10", "p90", "replications"]
FAN_COLUMNS = ["kpi", "scope", "unit", "year", "mean", "p2_5", "p10", "p50", "p90", "p97_5"]
PAIRED_COLUMNS = ["kpi", "scope", "unit", "baseline", "scenario_value", "delta", "ci95_low", "ci95_high", "replications"]
NAN = float("nan")


def t_interval(values: np.ndarray) -> tuple[float, float, float]:
    """(mean, low, high): the mean of `values` and its 95% Student-t confidence interval
    (NaN bounds with fewer than two values, all NaN with none)."""
    n = len(values)
    mean = float(values.mean()) if n else NAN
    if n < 2:
        return mean, NAN, NAN
    half = float(stats.t.ppf(_T_QUANTILE, n - 1) * values.std(ddof=1) / np.sqrt(n))
    return mean, mean - half, mean + half


def prediction_interval(values: np.ndarray) -> tuple[float, float]:
    """The 95% Student-t prediction interval for one more value like `values` (e.g. the history
    mean of one more replication): mean ± t × sd × √(1 + 1/n); NaN with fewer than two."""
    n = len(values)
    if n < 2:
        return NAN, NAN
    half = float(stats.t.ppf(_T_QUANTILE, n - 1) * values.std(ddof=1) * np.sqrt(1 + 1 / n))
    return float(values.mean()) - half, float(values.mean()) + half


def _finite(group: pd.DataFrame) -> np.ndarray:
    values = group["value"].to_numpy(dtype=float)
    return values[np.isfinite(values)]


def summarise(replications: pd.DataFrame, by: tuple[str, ...] = ("kpi", "scope", "unit")) -> pd.DataFrame:
    """Across replications, per group (default: KPI, scope, unit) of finite values: mean, 95%
    t-interval of the mean, P10 and P90, and the number of replications."""
    rows = []
    for key, group in replications.groupby(list(by), sort=False):
        values = _finite(group)
        mean, low, high = t_interval(values)
        p10, p90 = np.percentile(values, [10, 90]) if len(values) else (NAN, NAN)
        rows.append((*key, mean, low, high, float(p10), float(p90), len(values)))
    return pd.DataFrame(rows, columns=[*by, *SUMMARY_COLUMNS[3:]])


def paired_summary(paired: pd.DataFrame) -> pd.DataFrame:
    """Per KPI, scope and unit of paired replications (columns baseline, scenario_value, delta):
    the means, the mean difference and its paired 95% t-interval, over replications where both
    values are defined."""
    rows = []
    for (kpi, scope, unit), group in paired.groupby(["kpi", "scope", "unit"], sort=False):
        both = group.dropna(subset=["baseline", "scenario_value"])
        n = len(both)
        delta, low, high = t_interval(both["delta"].to_numpy(dtype=float))
        base = float(both["baseline"].mean()) if n else NAN
        scenario = float(both["scenario_value"].mean()) if n else NAN
        rows.append((kpi, scope, unit, base, scenario, delta, low, high, n))
    return pd.DataFrame(rows, columns=PAIRED_COLUMNS)


def fan(yearly_replications: pd.DataFrame) -> pd.DataFrame:
    """Across replications, per KPI, scope and reporting year: the mean and the 2.5th, 10th,
    50th, 90th and 97.5th percentiles (numpy's linear interpolation) of the finite values (NaN
    where there are none). Columns: FAN_COLUMNS."""
    rows = []
    for (kpi, scope, unit, year), group in yearly_replications.groupby(["kpi", "scope", "unit", "year"], sort=False):
        values = _finite(group)
        if len(values):
            figures = [float(values.mean()), *(float(p) for p in np.percentile(values, FAN_PERCENTILES))]
        else:
            figures = [NAN] * (1 + len(FAN_PERCENTILES))
        rows.append((kpi, scope, unit, int(year), *figures))
    return pd.DataFrame(rows, columns=FAN_COLUMNS)
