"""Replications: serial or in a process pool, with identical results either way.

Replication r of master seed S always uses the streams of (S, r), whichever worker runs it,
and results are gathered in replication order, so the output does not depend on --workers.
"""

from __future__ import annotations

import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import pandas as pd
from scipy import stats

from .kpis import replication_kpis
from .model import simulate
from .scenario import Scenario


@dataclass
class RunResult:
    scenario: Scenario
    seed: int
    replications: pd.DataFrame  # replication, kpi, scope, unit, value
    weekly: pd.DataFrame  # replication, week, kpi, scope, unit, value
    end_states: list[dict]
    timings: dict = field(default_factory=dict)

    @property
    def summary(self) -> pd.DataFrame:
        return summarise(self.replications)


def _one(scenario: Scenario, seed: int, replication: int):
    out = simulate(scenario, replication, seed)
    summary, weekly = replication_kpis(out.daily, scenario, replication)
    return summary, weekly, out.end_state


_worker_scenario: Scenario | None = None


def _init_worker(scenario: Scenario) -> None:
    global _worker_scenario  # the scenario is sent once per worker, not with every task
    _worker_scenario = scenario


def _one_in_worker(seed_and_replication: tuple[int, int]):
    seed, replication = seed_and_replication
    return _one(_worker_scenario, seed, replication)


def run(
    scenario: Scenario,
    replications: int | None = None,
    seed: int | None = None,
    workers: int = 1,
    on_replication: Callable[[int], None] | None = None,
) -> RunResult:
    """Run replications 0..n-1 of `scenario` and return tidy KPI frames."""
    n = scenario.run.replications if replications is None else replications
    seed = scenario.run.seed if seed is None else seed
    started = time.perf_counter()
    results = []
    if workers <= 1 or n == 1:
        for r in range(n):
            results.append(_one(scenario, seed, r))
            if on_replication:
                on_replication(r)
    else:
        with ProcessPoolExecutor(max_workers=workers, initializer=_init_worker, initargs=(scenario,)) as pool:
            for r, result in enumerate(pool.map(_one_in_worker, [(seed, r) for r in range(n)])):
                results.append(result)
                if on_replication:
                    on_replication(r)
    wall = time.perf_counter() - started
    return RunResult(
        scenario=scenario,
        seed=seed,
        replications=pd.concat([r[0] for r in results], ignore_index=True),
        weekly=pd.concat([r[1] for r in results], ignore_index=True),
        end_states=[r[2] for r in results],
        timings={"simulation_seconds": round(wall, 3), "workers": workers},
    )


def summarise(replications: pd.DataFrame) -> pd.DataFrame:
    """Across replications: mean, t-based 95% CI of the mean, P10 and P90 of each KPI and scope."""
    rows = []
    for (kpi, scope, unit), group in replications.groupby(["kpi", "scope", "unit"], sort=False):
        values = group["value"].to_numpy(dtype=float)
        values = values[np.isfinite(values)]
        n = len(values)
        mean = float(values.mean()) if n else float("nan")
        if n >= 2:
            half = float(stats.t.ppf(0.975, n - 1) * values.std(ddof=1) / np.sqrt(n))
            low, high = mean - half, mean + half
        else:
            low = high = float("nan")
        p10, p90 = (np.percentile(values, [10, 90]) if n else (float("nan"), float("nan")))
        rows.append((kpi, scope, unit, mean, low, high, float(p10), float(p90), n))
    return pd.DataFrame(
        rows, columns=["kpi", "scope", "unit", "mean", "ci95_low", "ci95_high", "p10", "p90", "replications"]
    )
