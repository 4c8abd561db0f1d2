"""Scenario builders for tests: the shipped baseline, edits by dotted path, and degenerate
scenarios whose behaviour is known from queueing theory.

Everything returns a validated, frozen `Scenario` (built through `scenario_from_dict`, so a
builder cannot produce something the schema would reject from a file).

    from helpers import baseline, modify, mmc_beds_scenario

    s = modify(baseline(), {"run.years": 0.5, "beds.sites.hub_1.beds": 50})
    q = mmc_beds_scenario(arrival_rate=0.8, beds=10, mean_los=10.0)
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import math
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

from sim.experiment.kpis import replication_kpis
from sim.inputs.loading import load_scenario, scenario_from_dict
from sim.inputs.scenario import WEEKDAYS, Scenario
from sim.model.series import check

ROOT = Path(__file__).resolve().parents[1]
BASELINE_PATH = ROOT / "scenarios" / "baseline.toml"

UNLIMITED = "unlimited"  # how a capacity is written in a scenario dict


# -- small building blocks -----------------------------------------------------------------


def deterministic(value: float) -> dict:
    """A fixed duration (0 = the step takes no time)."""
    return {"family": "deterministic", "mean": float(value)}


def exponential(mean: float) -> dict:
    return {"family": "exponential", "mean": float(mean)}


def every_weekday(probability: float = 1.0) -> dict:
    """discharge_weekday table with one probability for every day (1.0 = leave at once)."""
    return {day: float(probability) for day in WEEKDAYS}


def by_pathway(distribution: dict) -> dict:
    """The same distribution for pathways p0-p3."""
    return {p: dict(distribution) for p in ("p0", "p1", "p2", "p3")}


def constant_arrivals(rate_per_day: float) -> dict:
    """[arrivals] for a homogeneous Poisson process: no season, weekday pattern or growth."""
    return {
        "rate_per_day": float(rate_per_day),
        "monthly_factors": [1.0] * 12,
        "weekday_factors": [1.0] * 7,
        "annual_growth": 0.0,
    }


# -- baseline and edits ----------------------------------------------------------------------


@lru_cache(maxsize=1)
def baseline() -> Scenario:
    """The shipped reference scenario (scenarios/baseline.toml); frozen, so safe to share."""
    return load_scenario(BASELINE_PATH)


def modify(scenario: Scenario, changes: Mapping[str, Any]) -> Scenario:
    """A copy of `scenario` with values replaced by dotted path, re-validated.

    Keys are paths into `scenario.model_dump()`, e.g. "run.years", "acute.pathway_shares",
    "beds.sites.hub_1.beds". A value replaces whatever is at that path (a dict replaces the
    whole sub-table). Every container on the path must exist, so a misspelt table fails with
    KeyError; a misspelt leaf key is rejected by the schema (unknown keys are forbidden).
    Changes are applied in order, so a later path may edit inside a table set by an earlier one.
    """
    data = scenario.model_dump()
    for path, value in changes.items():
        *parents, leaf = path.split(".")
        node = data
        for i, key in enumerate(parents):
            if not isinstance(node, dict) or key not in node:
                raise KeyError(f"{path}: no table {'.'.join(parents[: i + 1])!r} in the scenario")
            node = node[key]
        if not isinstance(node, dict):
            raise KeyError(f"{path}: {'.'.join(parents)!r} is not a table")
        node[leaf] = copy.deepcopy(value)
    return scenario_from_dict(data, source=f"modify({scenario.meta.name})")


# -- degenerate scenarios ----------------------------------------------------------------------


# The baseline's structure switched off: one city-wide locality and team, beds in file order,
# no route levers or substitutions, readiness declared as soon as the clinical stay ends and
# every P0 leaving on their ready day: the degenerate case in which queues are textbook ones.
PLAIN_STRUCTURE: dict[str, Any] = {
    "localities": {},
    "routes": {},
    "beds.site_choice": "first_free",
    "reablement.overflow": "none",
    "acute.readiness_weekday": {day: 1.0 for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")},
    "acute.p0_same_day_share": 1.0,
}


def plain(scenario: Scenario) -> Scenario:
    """`scenario` with PLAIN_STRUCTURE."""
    return modify(scenario, PLAIN_STRUCTURE)


def mmc_beds_scenario(
    arrival_rate: float,
    beds: int | str,
    mean_los: float,
    years: float = 1.0,
    warmup_days: int = 365,
    replications: int = 10,
    seed: int = 12345,
    start_date: dt.date = dt.date(2025, 4, 1),
) -> Scenario:
    """A scenario whose hospital P2 queue is exactly an M/M/c queue (c = `beds`).

    Built from the baseline: Poisson arrivals at the constant `arrival_rate`, every arrival
    admitted (no diversion, no community referrals), nobody dies or is readmitted, everyone
    is pathway P2 with zero clinical stay and zero discharge process, and may leave on any
    day (weekday probabilities 1). So each arrival joins the bed queue on arrival, waits in
    the acute bed for one of `beds` beds at a single site (FIFO), is admitted the moment a bed
    is granted, stays an exponential(`mean_los`) time (multiplier 1, no bed discharge process,
    every outcome "home") and leaves the system.

    `beds` may be "unlimited" (then M/M/∞). Other services (reablement, placements, Home Ward)
    keep their baseline settings but nobody reaches them.
    """
    zero = deterministic(0.0)
    return modify(
        baseline(),
        {
            **PLAIN_STRUCTURE,
            "meta.name": f"mmc_beds(lambda={arrival_rate}, c={beds}, los={mean_los})",
            "run.start_date": start_date,
            "run.years": float(years),
            "run.warmup_days": int(warmup_days),
            "run.replications": int(replications),
            "run.seed": int(seed),
            "arrivals": constant_arrivals(arrival_rate),
            "front_door.diversion": {
                "admit": 1.0, "home_ward": 0.0, "assessment_home": 0.0,
                "step_up_reablement": 0.0, "step_up_bed": 0.0,
            },
            "community": {"reablement_per_day": 0.0, "bed_per_day": 0.0},
            "acute.death_share": 0.0,
            "acute.pathway_shares": {"p0": 0.0, "p1": 0.0, "p2": 1.0, "p3": 0.0},
            "acute.clinical_los": by_pathway(zero),
            "acute.discharge_process": by_pathway(zero),
            "acute.discharge_weekday": every_weekday(1.0),
            "acute.readmission_after_p0": {"share": 0.0, "delay": zero},
            "beds.site_choice": "first_free",
            "beds.los": exponential(mean_los),
            "beds.discharge_process": zero,
            "beds.discharge_weekday": every_weekday(1.0),
            "beds.outcomes": {
                "home": 1.0, "home_with_p1": 0.0, "long_term_care": 0.0, "readmitted": 0.0, "died": 0.0,
            },
            "beds.sites": {
                "site": {"beds": beds, "capacity_schedule": [], "los_multiplier": 1.0, "referral_share": 1.0}
            },
        },
    )


def unlimited_everywhere(scenario: Scenario) -> Scenario:
    """`scenario` with every capacity unlimited, readiness declared and discharge allowed on
    every day, and every P0 leaving on the ready day (no waits)."""
    changes: dict[str, Any] = {
        "home_ward.capacity": UNLIMITED,
        "reablement.capacity": UNLIMITED,
        "placements.capacity": UNLIMITED,
        "acute.readiness_weekday": every_weekday(1.0),
        "acute.p0_same_day_share": 1.0,
        "acute.discharge_weekday": every_weekday(1.0),
        "beds.discharge_weekday": every_weekday(1.0),
    }
    for name in scenario.beds.sites:
        changes[f"beds.sites.{name}.beds"] = UNLIMITED
    return modify(scenario, changes)


def no_demand(scenario: Scenario) -> Scenario:
    """`scenario` with no front-door arrivals and no community referrals."""
    return modify(
        scenario,
        {"arrivals.rate_per_day": 0.0, "community": {"reablement_per_day": 0.0, "bed_per_day": 0.0}},
    )


def scale_capacity(scenario: Scenario, factor: float, services=("reablement", "beds")) -> Scenario:
    """`scenario` with the capacity of the named services multiplied by `factor` (rounded).

    services: any of "home_ward", "reablement", "beds" (every site), "placements". Unlimited
    capacities stay unlimited; capacity schedules are left as they are.
    """
    changes: dict[str, Any] = {}

    def scaled(value):
        return value if value == float("inf") else round(value * factor)

    for service in services:
        if service == "beds":
            for name, site in scenario.beds.sites.items():
                changes[f"beds.sites.{name}.beds"] = _capacity_value(scaled(site.beds))
        else:
            changes[f"{service}.capacity"] = _capacity_value(scaled(getattr(scenario, service).capacity))
    return modify(scenario, changes)


def _capacity_value(value: float) -> int | str:
    return UNLIMITED if value == float("inf") else int(value)


def equal_priorities(scenario: Scenario) -> Scenario:
    """`scenario` with every queue rank 0, so every queue is first come, first served."""
    ranks = {"hospital": 0, "short_term_bed": 0, "community": 0}
    return modify(scenario, {f"{s}.priority": dict(ranks) for s in ("reablement", "beds", "placements")})


# -- reading results -------------------------------------------------------------------------


def kpi_values(output, scenario: Scenario) -> dict[tuple[str, str], float]:
    """{(kpi, scope): value} of one replication (`output` from `sim.model.simulate`)."""
    summary, _ = replication_kpis(output.daily, scenario, output.replication)
    return {(row.kpi, row.scope): float(row.value) for row in summary.itertuples()}


def window_sum(output, scenario: Scenario, series: str, scope: str = "total") -> float:
    """Sum of a daily series over the reported days [warmup, end) (0 if never recorded; a series
    name the model does not declare is a KeyError, so a typo cannot pass as a sum of zeros)."""
    values = output.daily.get((check(series), scope))
    if values is None:
        return 0.0
    return float(values[scenario.run.warmup_days : scenario.end_day].sum())


# -- a synthetic cost table ------------------------------------------------------------------


def cost_item(value, low=None, high=None, unit="bed_day", price_year="2024/25", index="nhscii", source="test source"):
    """One unit cost (low = high = value unless given)."""
    return {
        "value": value, "low": value if low is None else low, "high": value if high is None else high,
        "unit": unit, "price_year": price_year, "index": index, "source": source,
    }


def cost_table(**overrides) -> dict:
    """A simple cost table in round numbers, target 2024/25 (index levels 120 -> 124.8, so a
    2023/24 price is inflated by exactly 1.04), for `sim.inputs.costs.costs_from_dict`."""
    levels = {"2023/24": 120.0, "2024/25": 124.8}
    data = {
        "target_price_year": "2024/25",
        "indices": {"nhscii": {"source": "t", "levels": dict(levels)}, "pss": {"source": "t", "levels": dict(levels)}},
        "costs": {
            "acute_nctr_bed_day": cost_item(100.0, 50.0, 200.0),
            "nel_admission": cost_item(1000.0, unit="admission"),
            "ic_bed_day": cost_item(300.0),
            "care_home_week": cost_item(700.0, unit="care_home_week", index="pss"),
            "homecare_hour": cost_item(20.0, unit="homecare_hour", index="pss"),
            "funded_bed_day": cost_item(400.0, unit="funded_bed_day"),
            "reablement_episode": cost_item(1000.0, unit="reablement_episode", index="pss"),
            "virtual_ward_place_day": cost_item(80.0, unit="virtual_ward_place_day"),
            "front_door_assessment": cost_item(100.0, unit="assessment"),
        },
        "assumptions": {
            "care_home_stay_years": {"value": 2.0, "unit": "years", "source": "t"},
            "homecare_package_weeks": {"value": 52.0, "unit": "weeks", "source": "t"},
            "discount_rate": {"value": 0.0, "unit": "per year", "source": "t"},  # undiscounted: round numbers
        },
    }
    data.update(overrides)
    return data


def bed_day_costs():
    """A cost table where a funded bed day costs £100 and a waiting acute (NCTR) bed day £400:
    the trade-off the plan's cost mode weighs (`sim.inputs.costs.CostTable`)."""
    from sim.inputs.costs import costs_from_dict

    data = cost_table()
    data["costs"]["funded_bed_day"] = cost_item(100.0, unit="funded_bed_day")
    data["costs"]["acute_nctr_bed_day"] = cost_item(400.0)
    return costs_from_dict(data)


def toml_text(data: Mapping[str, Any], path: tuple[str, ...] = ()) -> str:
    """A dict of tables, strings and numbers written as TOML (every key quoted), e.g. a
    `cost_table()` to pass to the command line's --costs."""
    lines = [f"[{'.'.join(json.dumps(k) for k in path)}]"] if path else []
    lines += [f"{json.dumps(k)} = {json.dumps(v)}" for k, v in data.items() if not isinstance(v, Mapping)]
    tables = [toml_text(v, (*path, k)) for k, v in data.items() if isinstance(v, Mapping)]
    return "\n".join(lines + tables) + "\n"


def interrupted_run(scenario: Scenario, out: Path) -> None:
    """`workflows.run` of `scenario` into `out`, interrupted (as by Ctrl-C) once two replications
    are saved: the folder an interrupted run leaves, to resume."""
    import pytest

    from sim import workflows

    finished = 0

    def interrupt_after_two(replication: int) -> None:
        nonlocal finished
        finished += 1
        if finished == 2:
            raise KeyboardInterrupt

    with pytest.raises(workflows.RunInterrupted):
        workflows.run(scenario, out=out, on_replication=interrupt_after_two)


def erlang_wait(servers: int, offered: float, mean_los: float) -> float:
    """Mean wait in M/M/c (Erlang C) from the textbook sums: C(c, a) / (c μ − λ); the reference
    the planning tests check against (independent of sim.experiment.plan_search)."""
    top = offered**servers / math.factorial(servers) * servers / (servers - offered)
    p_wait = top / (sum(offered**k / math.factorial(k) for k in range(servers)) + top)
    return p_wait * mean_los / (servers - offered)
