"""icsim: a discrete-event simulation of intermediate-care flow.

    from sim import load_scenario, run
    result = run(load_scenario("scenarios/baseline.toml"), replications=10)
    result.summary            # kpi, scope, unit, mean, ci95_low, ci95_high, p10, p90, replications
"""

from .errors import InputError
from .kpis import KPI_IDS, KPIS, replication_kpis
from .model import simulate
from .runner import RunResult, run, summarise
from .scenario import Scenario, load_scenario

__all__ = [
    "InputError", "KPIS", "KPI_IDS", "RunResult", "Scenario", "load_scenario", "replication_kpis",
    "run", "simulate", "summarise",
]
