"""Speed of the shipped baseline: people simulated per second and seconds per replication.

Prints figures; asserts nothing (speed lives here, not in tests). Run: `make bench`.
Each timed replication is the full baseline (warm-up + one reported year, all services, KPI
accumulation); start-up (imports, loading the scenario) is excluded and reported separately.
"""

from __future__ import annotations

import os
import platform
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
started = time.perf_counter()
from sim import load_scenario  # noqa: E402
from sim.kpis import replication_kpis  # noqa: E402
from sim.model import simulate  # noqa: E402

REPLICATIONS = 5


def people(daily) -> float:
    """People entering the modelled system (front door, community) over the whole run."""
    return float(daily[("system.entered", "total")].sum())


def main() -> None:
    scenario = load_scenario(ROOT / "scenarios" / "baseline.toml")
    startup = time.perf_counter() - started
    simulate(scenario, replication=99)  # warm the caches (scipy special functions, imports)
    sim_times, kpi_times, counts = [], [], []
    for r in range(REPLICATIONS):
        t0 = time.perf_counter()
        out = simulate(scenario, replication=r)
        t1 = time.perf_counter()
        replication_kpis(out.daily, scenario, r)
        t2 = time.perf_counter()
        sim_times.append(t1 - t0)
        kpi_times.append(t2 - t1)
        counts.append(people(out.daily))
    simulated_years = (scenario.end_day) / 365
    median_sim = statistics.median(sim_times)
    print(f"machine: {platform.machine()}, {os.cpu_count()} cpus, Python {sys.version.split()[0]}, {platform.platform()}")
    print(f"scenario: baseline, {scenario.run.warmup_days} warm-up days + {scenario.run.years:g} reported year(s) "
          f"= {simulated_years:.2f} simulated years per replication")
    print(f"start-up (imports + load scenario): {startup:.2f} s")
    print(f"people entering per replication (incl. warm-up): {statistics.mean(counts):,.0f}")
    print(f"seconds per replication (median of {REPLICATIONS}): simulation {median_sim:.3f} s, "
          f"KPIs {statistics.median(kpi_times):.3f} s")
    print(f"seconds per simulated year: {median_sim / simulated_years:.3f} s")
    print(f"people simulated per second (one core): {statistics.mean(counts) / median_sim:,.0f}")


if __name__ == "__main__":
    main()
