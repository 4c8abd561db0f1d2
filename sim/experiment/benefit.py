"""Financial benefit of a scenario against a baseline, in annual £ at the cost table's price year.

Two views (formulas, categories and limits in docs/benefit.md):

* `benefit`: flow-based. For each replication r, the scenario's annual volumes minus the
  baseline's (common random numbers: replication r of both saw the same people), times a unit
  cost. Positive = saving. Range: low = P10 over replications of the benefit at LOW unit costs,
  central = median over replications at CENTRAL unit costs, high = P90 over replications at
  HIGH unit costs. The net is summed per replication and cost case first, then the quantile
  taken, so net is not the sum of the component rows' quantiles.
* `run_rate`: the finance "run rate" view: KPI change × a baseline annual volume × unit value,
  the annualised value if the KPIs are sustained, on mean KPIs.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import InputError
from ..inputs.costs import CostTable
from ..units import DAYS_PER_YEAR, WEEKS_PER_YEAR

RANGE_METHOD = (
    "low = P10 over replications of the paired benefit at LOW unit costs; central = median at CENTRAL "
    "unit costs; high = P90 at HIGH unit costs; net summed per replication and cost case before the quantile"
)
CATEGORIES = {
    "capacity released": "usually not cash-releasing (fixed staffing; beds refilled) unless capacity is closed",
    "cost avoidance": "avoided activity or future spend; cash only if the payment or placement is actually avoided",
    "cost-out": "usually cash-releasing to the council (spot-purchased home care)",
    "cost (funded capacity)": "cash: funded capacity is paid for whether it is used or not",
}
CAPACITY_SCOPES = {"funded_capacity_beds": "beds", "funded_capacity_reablement": "reablement", "funded_capacity_home_ward": "home_ward"}

COLUMNS = [
    "component", "category", "in_net", "low", "central", "high",
    "unit_cost_low", "unit_cost_central", "unit_cost_high", "cost_unit", "price_year",
    "volume_change_central", "volume_unit", "replications",
]


class _Paired:
    """KPI values of the baseline and scenario, aligned by replication."""

    def __init__(self, baseline: pd.DataFrame, scenario: pd.DataFrame):
        self.base = _table(baseline, "baseline")
        self.scen = _table(scenario, "scenario")
        b, s = set(self.base.index), set(self.scen.index)
        if b != s:
            raise InputError(
                f"replications differ: baseline has {sorted(b)}, scenario has {sorted(s)}; "
                "expected the same replications (common random numbers pair replication r with r)"
            )
        self.replications = sorted(b)
        self.base, self.scen = self.base.loc[self.replications], self.scen.loc[self.replications]

    def values(self, kpi: str, scope: str = "total", finite: bool = True) -> tuple[np.ndarray, np.ndarray]:
        out = []
        for name, frame in (("baseline", self.base), ("scenario", self.scen)):
            if (kpi, scope) not in frame.columns:
                raise InputError(f"{name} replications: kpi {kpi!r} scope {scope!r} missing; expected it in the run's KPIs")
            v = frame[(kpi, scope)].to_numpy(dtype=float)
            if finite and not np.all(np.isfinite(v)):
                raise InputError(f"{name} replications: kpi {kpi!r} scope {scope!r} has non-finite values; expected numbers")
            out.append(v)
        return out[0], out[1]

    def delta(self, kpi: str, scope: str = "total") -> np.ndarray:
        b, s = self.values(kpi, scope)
        return s - b


def _table(reps: pd.DataFrame, name: str) -> pd.DataFrame:
    missing = {"replication", "kpi", "scope", "value"} - set(reps.columns)
    if missing:
        raise InputError(f"{name} replications: columns {sorted(missing)} missing; expected replication, kpi, scope, unit, value")
    if reps.duplicated(["replication", "kpi", "scope"]).any():
        raise InputError(f"{name} replications: duplicate (replication, kpi, scope) rows; expected one row each")
    return reps.pivot(index="replication", columns=["kpi", "scope"], values="value")


@dataclass(frozen=True)
class _Component:
    name: str
    category: str
    volume_unit: str
    volume: Callable[[_Paired, CostTable], np.ndarray]  # per replication: scenario − baseline, annual


def _capacity_delta(scope: str) -> Callable[[_Paired, CostTable], np.ndarray]:
    def volume(p: _Paired, costs: CostTable) -> np.ndarray:
        b, s = p.values("capacity_funded", scope, finite=False)
        b_unlimited, s_unlimited = ~np.isfinite(b), ~np.isfinite(s)
        if np.any(b_unlimited != s_unlimited):
            which = "baseline" if np.any(b_unlimited & ~s_unlimited) else "scenario"
            raise InputError(
                f"capacity_funded {scope}: unlimited in the {which} only; cannot cost a change from or to "
                "unlimited capacity (give both runs a funded capacity, or leave both unlimited)"
            )
        return np.where(b_unlimited, 0.0, s - b) * DAYS_PER_YEAR

    return volume


COMPONENTS: tuple[_Component, ...] = (
    _Component("acute_nr2r_bed_days", "capacity released", "acute bed days/year",
               lambda p, c: p.delta("delayed_bed_days_per_week") * WEEKS_PER_YEAR),
    _Component("admissions_avoided", "cost avoidance", "admissions/year",
               lambda p, c: (p.delta("admissions_per_week") - p.delta("readmissions_per_week")) * WEEKS_PER_YEAR),
    _Component("readmissions", "cost avoidance", "admissions/year",
               lambda p, c: p.delta("readmissions_per_week") * WEEKS_PER_YEAR),
    _Component("short_term_bed_days", "capacity released", "short-term bed days/year",
               lambda p, c: p.delta("beds_occupied") * DAYS_PER_YEAR),
    _Component("long_term_care", "cost avoidance", "care-home weeks",
               lambda p, c: p.delta("permanent_care_admissions_per_year")
               * c.assumption("care_home_stay_years") * DAYS_PER_YEAR / 7),
    _Component("homecare_hours", "cost-out", "homecare hours",
               lambda p, c: p.delta("homecare_package_hours_per_year") * c.assumption("homecare_package_weeks")),
    *(
        _Component(name, "cost (funded capacity)", "funded place-days/year", _capacity_delta(scope))
        for name, scope in CAPACITY_SCOPES.items()
    ),
)


def benefit(baseline_reps: pd.DataFrame, scenario_reps: pd.DataFrame, costs: CostTable) -> pd.DataFrame:
    """Annual financial benefit of the scenario over the baseline, one row per component + "net".

    Inputs are replications frames (replication, kpi, scope, unit, value). For replication r and
    cost case k in (low, central, high): benefit = −(scenario volume − baseline volume)_r × unit
    cost_k, so positive = saving. Columns low / central / high are
    P10 over r at low unit costs / median over r at central costs / P90 over r at high costs
    (see RANGE_METHOD). For a component that is a cost (negative), "low" is the low-unit-cost
    case and can therefore be above "high". `in_net` says whether the component enters the net:
    short_term_bed_days does not when short-term beds are funded (finite capacity), because
    their cost is then counted once, in funded_capacity_beds.
    """
    paired = _Paired(baseline_reps, scenario_reps)
    n = len(paired.replications)
    if n == 0:
        raise InputError("replications: none; expected at least one replication")
    beds_b, beds_s = paired.values("capacity_funded", "beds", finite=False)
    beds_funded = bool(np.all(np.isfinite(beds_b)) and np.all(np.isfinite(beds_s)))

    rows, net = [], {k: np.zeros(n) for k in ("low", "central", "high")}
    for comp in COMPONENTS:
        volume = comp.volume(paired, costs)
        cost = costs.unit_cost(comp.name)
        cases = {k: -volume * getattr(cost, k) + 0.0 for k in ("low", "central", "high")}  # + 0.0: no −0
        in_net = not (comp.name == "short_term_bed_days" and beds_funded)
        if in_net:
            for k in net:
                net[k] = net[k] + cases[k]
        rows.append({
            "component": comp.name, "category": comp.category, "in_net": in_net,
            **_range(cases),
            "unit_cost_low": cost.low, "unit_cost_central": cost.central, "unit_cost_high": cost.high,
            "cost_unit": cost.unit, "price_year": costs.price_year,
            "volume_change_central": float(np.median(volume)) + 0.0, "volume_unit": comp.volume_unit,
            "replications": n,
        })
    rows.append({
        "component": "net", "category": "net", "in_net": True, **_range(net),
        "unit_cost_low": math.nan, "unit_cost_central": math.nan, "unit_cost_high": math.nan,
        "cost_unit": "", "price_year": costs.price_year, "volume_change_central": math.nan, "volume_unit": "",
        "replications": n,
    })
    frame = pd.DataFrame(rows, columns=COLUMNS)
    frame.attrs["range_method"] = RANGE_METHOD
    return frame


def _range(cases: dict[str, np.ndarray]) -> dict[str, float]:
    return {
        "low": float(np.percentile(cases["low"], 10)) + 0.0,
        "central": float(np.median(cases["central"])) + 0.0,
        "high": float(np.percentile(cases["high"], 90)) + 0.0,
    }


# ---------------------------------------------------------------------------------------------
# Run-rate view

RUN_RATE_COLUMNS = [
    "item", "kpi", "scope", "kpi_baseline", "kpi_delta", "annual_volume", "volume_basis",
    "cost_item", "cost_unit", "value_per_unit_central", "low", "central", "high", "price_year", "note",
]
_RUN_RATE_NOTE = (
    "Run rate: mean KPI change × baseline annual volume × unit value, as if the KPI were sustained; "
    "it holds volumes at baseline, ignores knock-on effects between KPIs (e.g. a shorter NR2R LOS also "
    "shortens queues), counts capacity released as money and carries no funded-capacity cost, so it "
    "differs from the flow-based benefit()."
)


def _means(frame: pd.DataFrame, name: str) -> dict[tuple[str, str], float]:
    if "mean" in frame.columns:  # a summary (stats.summarise)
        column = "mean"
    elif "value" in frame.columns:  # replications
        column = "value"
    else:
        raise InputError(f"{name}: expected a replications frame (value column) or a summary (mean column)")
    grouped = frame.groupby(["kpi", "scope"])[column].mean()
    return {key: float(v) for key, v in grouped.items()}


def run_rate(baseline_summary_or_reps: pd.DataFrame, scenario_reps: pd.DataFrame, costs: CostTable) -> pd.DataFrame:
    """The finance "run rate": Σ over KPIs of ΔKPI × baseline annual volume × unit value.

    The baseline may be a summary (kpi, scope, mean, ...) or a replications frame; the scenario
    a replications frame (or summary). Deltas are scenario mean − baseline mean; low / central /
    high use low / central / high unit costs on the same mean deltas (no replication spread).
    Positive = saving. Last row is the total.
    """
    base, scen = _means(baseline_summary_or_reps, "baseline"), _means(scenario_reps, "scenario")

    def get(means: dict, kpi: str, scope: str = "total", name: str = "baseline") -> float:
        if (kpi, scope) not in means:
            raise InputError(f"{name}: kpi {kpi!r} scope {scope!r} missing; expected it in the run's KPIs")
        return means[(kpi, scope)]

    def delta(kpi: str, scope: str = "total") -> float:
        return get(scen, kpi, scope, "scenario") - get(base, kpi, scope)

    stay_weeks = costs.assumption("care_home_stay_years") * DAYS_PER_YEAR / 7
    package_weeks = costs.assumption("homecare_package_weeks")
    admissions_year = get(base, "admissions_per_week") * WEEKS_PER_YEAR
    complex_share = sum(get(base, f"pathway_share_{p}") for p in ("p1", "p2", "p3"))
    bed_los = get(base, "bed_los_days")
    bed_home = get(base, "bed_home_proportion")
    items = [
        # item, kpi, sign (+1: an increase is a saving), annual volume, volume basis, component, extra multiplier, note
        ("nr2r_los", "nr2r_los_days", -1, admissions_year * complex_share,
         "complex (P1-P3) discharges/year ≈ baseline admissions/year × (pathway_share_p1+p2+p3); admissions stand in for discharges (in-hospital deaths ignored)",
         "acute_nr2r_bed_days", 1.0, "capacity released"),
        ("bed_los", "bed_los_days", -1, get(base, "beds_occupied") * DAYS_PER_YEAR / bed_los if bed_los > 0 else 0.0,
         "short-term bed stays/year = baseline beds_occupied × 365 ÷ bed_los_days (Little's law)",
         "short_term_bed_days", 1.0, "capacity released"),
        ("admissions_avoided", "admissions_avoided_per_week", +1, WEEKS_PER_YEAR,
         "weeks/year (the KPI is already a count per week)",
         "admissions_avoided", 1.0, "cost avoidance"),
        ("bed_home_proportion", "bed_home_proportion", +1,
         get(base, "people_per_year", "home_after_bed") / bed_home if bed_home > 0 else 0.0,
         "short-term bed exits home or to long-term care/year ≈ baseline people_per_year[home_after_bed] ÷ bed_home_proportion (people, not exits)",
         "long_term_care", stay_weeks, "cost avoidance; each extra home exit valued as one care-home placement avoided (care_home_stay_years × 365/7 weeks)"),
        ("reablement_effectiveness", "reablement_effectiveness_hours", +1,
         get(base, "reablement_starts_per_week") * WEEKS_PER_YEAR,
         "reablement starts/year (baseline); overstates the episodes ending at home, over which the KPI is measured",
         "homecare_hours", package_weeks, "cost-out; hours/week reduction valued over homecare_package_weeks"),
    ]
    rows = []
    totals = {"low": 0.0, "central": 0.0, "high": 0.0}
    for item, kpi, sign, volume, basis, component, multiplier, note in items:
        d = delta(kpi)
        cost = costs.unit_cost(component)
        values = {k: sign * d * volume * multiplier * getattr(cost, k) + 0.0 for k in totals}
        for k in totals:
            totals[k] += values[k]
        rows.append({
            "item": item, "kpi": kpi, "scope": "total", "kpi_baseline": get(base, kpi), "kpi_delta": d,
            "annual_volume": volume, "volume_basis": basis, "cost_item": cost.key, "cost_unit": cost.unit,
            "value_per_unit_central": cost.central * multiplier, **values, "price_year": costs.price_year,
            "note": note,
        })
    rows.append({
        "item": "total", "kpi": "", "scope": "", "kpi_baseline": math.nan, "kpi_delta": math.nan,
        "annual_volume": math.nan, "volume_basis": "", "cost_item": "", "cost_unit": "",
        "value_per_unit_central": math.nan, **totals, "price_year": costs.price_year, "note": _RUN_RATE_NOTE,
    })
    return pd.DataFrame(rows, columns=RUN_RATE_COLUMNS)


__all__ = ["CATEGORIES", "COMPONENTS", "RANGE_METHOD", "benefit", "run_rate"]
