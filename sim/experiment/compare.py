"""Scenario comparison on common random numbers: paired differences against a baseline.

Every scenario is run with the baseline's run settings (seed, replications, warm-up, start
date, years), so replication r of each sees the same people; differences are taken within a
replication and their confidence interval is the paired t-interval.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ..inputs.scenario import Scenario
from .runner import RunResult, run
from .stats import paired_summary

KEYS = ["replication", "kpi", "scope", "unit"]

# People counters (KPI people_per_year, by scope) as the programme states them, with the sign
# that makes an improvement positive.
# People a year, each counted once per person in a reporting year: (counter, people_per_year
# scope, its definition in one sentence). Shown as the change, scenario − baseline, with its sign:
# a counter's name says what it counts, never whether more is better.
PEOPLE = (
    ("people_admitted", "admitted", "people admitted to hospital as an emergency at least once in the year"),
    ("people_home_from_hospital", "home_from_hospital",
     "people discharged from hospital to their own home (pathway 0 or 1) at least once in the year"),
    ("people_to_bedded_care_from_hospital", "bedded_from_hospital",
     "people discharged from hospital to a short-term bed or a care home (pathway 2 or 3) at least once in the year"),
    ("people_home_after_short_term_bed", "home_after_bed", "people who went home (with or without reablement) from a short-term bed"),
    ("people_starting_reablement", "reablement", "people who started reablement"),
    ("people_entering_permanent_care", "permanent_care", "people who entered a care home permanently"),
)


@dataclass
class Comparison:
    baseline: RunResult
    scenarios: dict[str, RunResult]
    timings: dict = field(default_factory=dict)

    def paired(self, name: str) -> pd.DataFrame:
        """Per replication: baseline value, scenario value and their difference."""
        base = self.baseline.replications.rename(columns={"value": "baseline"})
        scen = self.scenarios[name].replications.rename(columns={"value": "scenario_value"})
        merged = base.merge(scen, on=KEYS, how="outer", validate="one_to_one")
        merged["delta"] = merged["scenario_value"] - merged["baseline"]
        return merged

    def kpi_deltas(self) -> pd.DataFrame:
        """scenario, kpi, scope, unit, baseline, scenario_value, delta, ci95_low, ci95_high, replications."""
        frames = []
        for name in self.scenarios:
            frame = paired_summary(self.paired(name))
            frame.insert(0, "scenario", name)
            frames.append(frame)
        return pd.concat(frames, ignore_index=True)

    def people(self) -> pd.DataFrame:
        """People a year, each counted once per person: the baseline's, the scenario's and the
        change (scenario − baseline) with its paired 95% CI, and what each counter counts."""
        rows = []
        deltas = self.kpi_deltas()
        counts = deltas[deltas["kpi"] == "people_per_year"].set_index(["scenario", "scope"])
        for name in self.scenarios:
            for counter, scope, definition in PEOPLE:
                row = counts.loc[(name, scope)]
                rows.append((name, counter, definition, row["baseline"], row["scenario_value"], row["delta"] + 0.0,
                             row["ci95_low"], row["ci95_high"], row["replications"]))
        return pd.DataFrame(
            rows,
            columns=["scenario", "counter", "definition", "baseline", "scenario_value", "change", "ci95_low", "ci95_high",
                     "replications"],
        )


def aligned(scenario: Scenario, baseline: Scenario) -> Scenario:
    """The scenario with the baseline's run settings, so that replications pair up."""
    run_settings = baseline.run.model_dump()
    return scenario.with_run(**run_settings)


def compare(
    baseline: Scenario,
    scenarios: dict[str, Scenario],
    replications: int | None = None,
    seed: int | None = None,
    workers: int = 1,
    on_replication: Callable[[int], None] | None = None,
    store: Path | None = None,
) -> Comparison:
    """Run the baseline and each scenario on the same seed and replications. With `store`, each
    one's replications are saved in (and read back from) a folder of its own below it."""
    where = (lambda k: store / f"scenario-{k}") if store is not None else (lambda k: None)
    base_result = run(baseline, replications, seed, workers, on_replication, store=where(0))
    results = {
        name: run(aligned(scenario, baseline), replications, base_result.seed, workers, on_replication, store=where(k))
        for k, (name, scenario) in enumerate(scenarios.items(), start=1)
    }
    seconds = base_result.timings["simulation_seconds"] + sum(r.timings["simulation_seconds"] for r in results.values())
    return Comparison(base_result, results, {"simulation_seconds": round(seconds, 3), "workers": workers})
