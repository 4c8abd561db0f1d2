"""Financial benefit of a scenario against a baseline, in annual £ at the cost table's price year.

Two views (formulas, categories and limits in docs/benefit.md):

* `benefit`: flow-based. For each replication r, the scenario's annual volumes minus the
  baseline's (common random numbers: replication r of both saw the same people), times a unit
  cost. Positive = saving. `central` is the mean over replications at central unit costs;
  `low`/`high` bound a 90% uncertainty interval of the *mean annual* benefit, combining
  simulation error (the paired replications' mean, Student t) with unit-cost uncertainty (each
  unit cost a PERT distribution over its low/central/high), by Monte Carlo: one draw of each
  unit cost is shared by every component, and by every scenario of a compare (the draws are
  keyed by the seed and the cost item), so their correlations hold. `year_p10`/`year_p90` are
  the 10th and 90th percentiles over replications at central costs: the spread of one
  simulated year, not uncertainty about the effect.
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
from ..model.streams import Streams
from ..units import DAYS_PER_YEAR, WEEKS_PER_YEAR

INTERVAL = 0.90  # coverage of low-high
DRAWS = 20_000  # Monte Carlo draws of (mean volumes, unit costs)
RANGE_METHOD = (
    "central = mean annual benefit over the paired replications at central unit costs; low-high = a 90% "
    "uncertainty interval of that mean (5th-95th percentiles), combining simulation error (Student t on the "
    "paired replications) with unit-cost uncertainty (PERT over each cost's low/central/high, one draw shared by "
    "every component and scenario); year_p10-year_p90 = the spread of one simulated year at central costs"
)
CATEGORIES = {
    "capacity released": "usually not cash-releasing (fixed staffing; beds refilled) unless capacity is closed",
    "cost avoidance": "avoided activity or future spend; cash only if the payment or placement is actually avoided",
    "cost-out": "usually cash-releasing to the council (spot-purchased home care)",
    "cost (funded capacity)": "cash: funded capacity is paid for whether it is used or not",
}
# Who saves (or pays) each component, and whether the saving is cash: the partners the Better
# Care Fund pools budgets between. Defaults from the unit-cost reference's cash caveats
# (docs/benefit.md, "Who saves"); a partnership's own contracts may differ.
PAYERS = {
    "nhs_acute": "NHS acute trust",
    "nhs_commissioner": "NHS commissioner (ICB)",
    "bcf_pool": "Better Care Fund pool (NHS and council)",
    "council_asc": "Council adult social care",
    "nhs_community": "NHS community services",
}
# what each component's cash flag says, by kind of saving
NOT_CASH_CAPACITY = "no: capacity released (fixed staffing, beds refilled) unless beds close"
NOT_CASH_BLOCK = "no under block or aligned payments (the marginal cost is below the average)"
CASH_FUNDED = "yes: funded capacity is paid for"

# what benefit.csv's money columns mean, for manifest.json and the report
BENEFIT_COLUMNS_MEANING = {
    "central": "mean annual benefit over the paired replications at central unit costs (£ a year, saving positive)",
    "low": "lower end of a 90% uncertainty interval of the mean annual benefit: simulation error and unit-cost uncertainty",
    "high": "upper end of that 90% interval",
    "year_p10": "10th percentile of one simulated year's benefit at central unit costs (year-to-year luck, not uncertainty about the effect)",
    "year_p90": "90th percentile of one simulated year's benefit at central unit costs",
}
PAYER_COLUMNS = ["payer", "payer_name", "components", "low", "central", "high", "year_p10", "year_p90"]
COLUMNS = [
    "component", "category", "payer", "cash_releasing", "in_net", "low", "central", "high", "year_p10", "year_p90",
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
    payer: str  # a key of PAYERS: who saves (or pays)
    cash_releasing: str  # whether the saving is cash, in words


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


def care_home_weeks(costs: CostTable) -> float:
    """The present value, in weeks of care, of one permanent placement: the expected stay
    (care_home_stay_years) paid weekly and discounted continuously at the discount rate,
    weeks × (1 − e^(−δT)) / (δT) with δ = ln(1 + rate)."""
    years, rate = costs.assumption("care_home_stay_years"), costs.assumption("discount_rate")
    weeks = years * DAYS_PER_YEAR / 7
    delta = math.log1p(rate)
    return weeks if delta * years == 0 else weeks * -math.expm1(-delta * years) / (delta * years)


def _nr2r_days_of_the_admitted(p: _Paired, costs: CostTable) -> np.ndarray:
    """NR2R bed days saved among the people still admitted: the change in NR2R days per
    admission × the scenario's admissions. The NR2R days of admissions avoided are inside the
    admission's cost, so they are not counted again here (docs/benefit.md, "Counted once")."""
    delayed_b, delayed_s = p.values("delayed_bed_days_per_week")
    admitted_b, admitted_s = p.values("admissions_per_week")
    per_b = np.divide(delayed_b, admitted_b, out=np.zeros_like(delayed_b), where=admitted_b > 0)
    per_s = np.divide(delayed_s, admitted_s, out=np.zeros_like(delayed_s), where=admitted_s > 0)
    return (per_s - per_b) * admitted_s * WEEKS_PER_YEAR


def episodes_per_place_day(starts_per_week, places):
    """Reablement episodes a funded place delivers a day: starts ÷ place-days (0 without places)."""
    starts = np.asarray(starts_per_week, dtype=float)
    place_days = np.where(np.isfinite(places), places, 0.0) * DAYS_PER_YEAR
    return np.divide(starts * WEEKS_PER_YEAR, place_days, out=np.zeros_like(starts), where=place_days > 0)


def place_day_price(component: str, costs: CostTable, episodes_a_place_day: float = 0.0, case: str = "central") -> float:
    """The price of one funded place for a day, as the benefit prices it: the component's unit
    cost, or, for a cost per reablement episode, that × the episodes a place delivers a day."""
    item = costs.unit_cost(component)
    value = getattr(item, case)
    return value * episodes_a_place_day if item.unit == "reablement_episode" else value


def _reablement_places_as_episodes(p: _Paired, costs: CostTable) -> np.ndarray:
    """Funded reablement capacity, in the episodes it delivers a year: Δ funded places × 365 ×
    the baseline's episodes per funded place-day (its starts ÷ its place-days, replication by
    replication). The published cost is per case; dividing it by an assumed episode length
    would not match the model's own episodes and occupancy (docs/benefit.md)."""
    places = _capacity_delta("reablement")(p, costs)  # Δ funded place-days a year
    starts_b, _ = p.values("reablement_starts_per_week")
    funded_b, _ = p.values("capacity_funded", "reablement", finite=False)
    return places * episodes_per_place_day(starts_b, funded_b)


def _assessments(p: _Paired, costs: CostTable) -> np.ndarray:
    """Front-door assessment (CDAT), in the people assessed a year it pays for. With funded
    places: Δ funded place-days × the baseline's assessments per place-day, paid used or not.
    With no capacity set (unlimited, the default: its size is unpublished) there are no places
    to fund, so the change in people assessed is costed per assessment done (docs/benefit.md)."""
    b, s = p.values("capacity_funded", "assessment", finite=False)
    unlimited = ~np.isfinite(b) & ~np.isfinite(s)
    done_b, _ = p.values("admissions_avoided_per_week", "assessment_home")
    activity = p.delta("admissions_avoided_per_week", "assessment_home") * WEEKS_PER_YEAR
    places = _capacity_delta("assessment")(p, costs)  # refuses a change from or to unlimited
    return np.where(unlimited, activity, places * episodes_per_place_day(done_b, b))


COMPONENTS: tuple[_Component, ...] = (
    _Component("acute_nr2r_bed_days", "capacity released", "acute bed days/year", _nr2r_days_of_the_admitted,
               "nhs_acute", NOT_CASH_CAPACITY),
    _Component("admissions_avoided", "cost avoidance", "admissions/year",
               lambda p, c: (p.delta("admissions_per_week") - p.delta("readmissions_per_week")) * WEEKS_PER_YEAR,
               "nhs_commissioner", NOT_CASH_BLOCK),
    _Component("readmissions", "cost avoidance", "admissions/year",
               lambda p, c: p.delta("readmissions_per_week") * WEEKS_PER_YEAR, "nhs_commissioner", NOT_CASH_BLOCK),
    _Component("short_term_bed_days", "capacity released", "short-term bed days/year",
               lambda p, c: p.delta("beds_occupied") * DAYS_PER_YEAR, "bcf_pool", "only for spot-purchased beds"),
    _Component("long_term_care", "cost avoidance", "care-home weeks (present value)",
               lambda p, c: p.delta("permanent_care_admissions_per_year") * care_home_weeks(c), "council_asc",
               "yes for council-funded placements, net of contributions; self-funders save their own money"),
    _Component("homecare_hours", "cost-out", "homecare hours",
               lambda p, c: -p.delta("homecare_hours_avoided_per_year") * c.assumption("homecare_package_weeks"),
               "council_asc", "yes: spot-purchased home care"),
    _Component("funded_capacity_beds", "cost (funded capacity)", "funded place-days/year", _capacity_delta("beds"),
               "bcf_pool", CASH_FUNDED),
    _Component("funded_capacity_reablement", "cost (funded capacity)", "funded places as episodes/year",
               _reablement_places_as_episodes, "council_asc", CASH_FUNDED),
    _Component("funded_capacity_home_ward", "cost (funded capacity)", "funded place-days/year", _capacity_delta("home_ward"),
               "nhs_community", CASH_FUNDED),
    _Component("funded_capacity_assessment", "cost (funded capacity)", "people assessed/year (or funded places as assessments)",
               _assessments, "nhs_community", CASH_FUNDED),
)


def benefit(baseline_reps: pd.DataFrame, scenario_reps: pd.DataFrame, costs: CostTable, seed: int = 0) -> pd.DataFrame:
    """The benefit table of `benefit_tables` (one row per component and the net)."""
    return benefit_tables(baseline_reps, scenario_reps, costs, seed)[0]


def benefit_tables(baseline_reps: pd.DataFrame, scenario_reps: pd.DataFrame, costs: CostTable,
                   seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Annual financial benefit of the scenario over the baseline: (one row per component +
    "net", one row per payer: who saves what, of the components in the net).

    Inputs are replications frames (replication, kpi, scope, unit, value). For replication r:
    benefit = −(scenario volume − baseline volume)_r × unit cost, so positive = saving. Columns
    (module docstring): central, low/high (90% interval of the mean annual benefit), year_p10/
    year_p90 (one year's spread). `seed` keys the Monte Carlo draws: the same seed gives the same
    unit-cost draws in every scenario of a compare. `in_net` says whether the component enters
    the net: short_term_bed_days does not when short-term beds are funded (finite capacity),
    because their cost is then counted once, in funded_capacity_beds.
    """
    b = _Benefit(baseline_reps, scenario_reps, costs, seed)
    rows = []
    for k, (comp, cost) in enumerate(zip(COMPONENTS, b.cost_items, strict=True)):
        rows.append({
            "component": comp.name, "category": comp.category, "payer": comp.payer, "cash_releasing": comp.cash_releasing,
            "in_net": bool(b.in_net[k]),
            **_summary(b.draws[:, k], b.per_year[:, k]),
            "unit_cost_low": cost.low, "unit_cost_central": cost.central, "unit_cost_high": cost.high,
            "cost_unit": cost.unit, "price_year": costs.price_year,
            "volume_change_central": float(b.volumes[:, k].mean()) + 0.0, "volume_unit": comp.volume_unit,
            "replications": b.n,
        })
    rows.append({
        "component": "net", "category": "net", "payer": "", "cash_releasing": "", "in_net": True,
        **_summary(b.net_draws, b.per_year[:, b.in_net].sum(axis=1)),
        "unit_cost_low": math.nan, "unit_cost_central": math.nan, "unit_cost_high": math.nan,
        "cost_unit": "", "price_year": costs.price_year, "volume_change_central": math.nan, "volume_unit": "",
        "replications": b.n,
    })
    frame = pd.DataFrame(rows, columns=COLUMNS)
    frame.attrs["range_method"] = RANGE_METHOD
    payers = []
    for payer, name in PAYERS.items():
        mine = np.array([comp.payer == payer for comp in COMPONENTS]) & b.in_net
        if mine.any():
            payers.append({"payer": payer, "payer_name": name,
                           "components": ", ".join(comp.name for comp, m in zip(COMPONENTS, mine, strict=True) if m),
                           **_summary(b.draws[:, mine].sum(axis=1), b.per_year[:, mine].sum(axis=1))})
    return frame, pd.DataFrame(payers, columns=PAYER_COLUMNS)


def net_by_replication(baseline_reps: pd.DataFrame, scenario_reps: pd.DataFrame, costs: CostTable) -> np.ndarray:
    """Each replication's annual net benefit at central unit costs: the simulation's part of the
    net's uncertainty, which more replications reduce (`--precision`)."""
    b = _Benefit(baseline_reps, scenario_reps, costs, seed=0)
    return b.per_year[:, b.in_net].sum(axis=1)


def largest_drivers(rows: pd.DataFrame, n: int = 3) -> pd.DataFrame:
    """The `n` components in the net with the largest central benefit or cost, largest first,
    from one scenario's benefit table (in memory, or read back from benefit.csv)."""
    parts = rows[(rows["component"] != "net") & (rows["in_net"].astype(str).str.lower() == "true")]
    return parts.reindex(parts["central"].abs().sort_values(ascending=False).index).head(n)


class _Benefit:
    """The Monte Carlo of one comparison: per component the replications' annual volumes, the
    draws of the mean annual benefit and the benefit of each replication at central costs."""

    def __init__(self, baseline_reps: pd.DataFrame, scenario_reps: pd.DataFrame, costs: CostTable, seed: int):
        paired = _Paired(baseline_reps, scenario_reps)
        self.n = len(paired.replications)
        if self.n == 0:
            raise InputError("replications: none; expected at least one replication")
        beds_b, beds_s = paired.values("capacity_funded", "beds", finite=False)
        beds_funded = bool(np.all(np.isfinite(beds_b)) and np.all(np.isfinite(beds_s)))
        self.volumes = np.column_stack([comp.volume(paired, costs) for comp in COMPONENTS])  # replication × component
        self.cost_items = [costs.unit_cost(comp.name) for comp in COMPONENTS]
        self.in_net = np.array([not (comp.name == "short_term_bed_days" and beds_funded) for comp in COMPONENTS])
        central_cost = np.array([cost.central for cost in self.cost_items])
        self.draws = -_mean_draws(self.volumes, seed) * _cost_draws(self.cost_items, seed)  # draw × component
        self.per_year = -self.volumes * central_cost  # replication × component, at central costs

    @property
    def net_draws(self) -> np.ndarray:
        return self.draws[:, self.in_net].sum(axis=1)


YEAR_COLUMNS = ["year", "realisation", "discount_factor", "central", "low", "high", "present_value_central"]


def benefit_over_years(baseline_yearly: pd.DataFrame, scenario_yearly: pd.DataFrame, costs: CostTable, seed: int,
                       realisation: list[float] | tuple[float, ...] = ()) -> pd.DataFrame:
    """The net benefit of each reporting year (mean annual benefit of that year, 90% interval),
    the share realised that year (the scenario's realisation profile: its last value holds for
    later years; none = all), the discount factor (1 + rate)^−k for the k-th year (the first
    undiscounted) and the present value; a last row "npv" sums the realised, discounted years,
    with a 90% interval from the same Monte Carlo (the years share the unit-cost draws and the
    replication weights, so their uncertainties add up as they should)."""
    rate = costs.assumption("discount_rate")
    years = sorted(int(y) for y in baseline_yearly["year"].unique())
    rows, npv = [], 0.0
    for k, year in enumerate(years):
        base = baseline_yearly[baseline_yearly["year"] == year].drop(columns="year")
        scen = scenario_yearly[scenario_yearly["year"] == year].drop(columns="year")
        b = _Benefit(base, scen, costs, seed)
        share = float(realisation[min(k, len(realisation) - 1)]) if len(realisation) else 1.0
        factor = (1 + rate) ** -k
        summary = _summary(b.net_draws, b.per_year[:, b.in_net].sum(axis=1))
        npv = npv + share * factor * b.net_draws
        rows.append({"year": str(year), "realisation": share, "discount_factor": factor, "central": summary["central"],
                     "low": summary["low"], "high": summary["high"],
                     "present_value_central": share * factor * summary["central"] + 0.0})
    central = sum(r["present_value_central"] for r in rows)
    tail = 100 * (1 - INTERVAL) / 2
    rows.append({"year": "npv", "realisation": math.nan, "discount_factor": math.nan, "central": central + 0.0,
                 "low": float(np.percentile(npv, tail)) + 0.0, "high": float(np.percentile(npv, 100 - tail)) + 0.0,
                 "present_value_central": central + 0.0})
    return pd.DataFrame(rows, columns=YEAR_COLUMNS)


SENSITIVITY_COLUMNS = ["cost_item", "cost_unit", "unit_cost_low", "unit_cost_high", "net_at_low", "net_at_high", "swing"]


def sensitivity(baseline_reps: pd.DataFrame, scenario_reps: pd.DataFrame, costs: CostTable) -> pd.DataFrame:
    """One-way sensitivity of the net's central (mean annual benefit): each unit cost at its low
    and its high with every other at central, largest swing first (a tornado chart's rows)."""
    b = _Benefit(baseline_reps, scenario_reps, costs, seed=0)
    counted = [k for k in range(len(COMPONENTS)) if b.in_net[k]]
    mean_volume = b.volumes.mean(axis=0)

    def net(key: str, case: str) -> float:
        return -sum(mean_volume[k] * getattr(b.cost_items[k], case if b.cost_items[k].key == key else "central") for k in counted)

    rows = []
    for key in dict.fromkeys(b.cost_items[k].key for k in counted):
        item = next(b.cost_items[k] for k in counted if b.cost_items[k].key == key)
        low, high = net(key, "low") + 0.0, net(key, "high") + 0.0
        rows.append({"cost_item": key, "cost_unit": item.unit, "unit_cost_low": item.low, "unit_cost_high": item.high,
                     "net_at_low": low, "net_at_high": high, "swing": abs(high - low)})
    return pd.DataFrame(rows, columns=SENSITIVITY_COLUMNS).sort_values("swing", ascending=False, kind="stable").reset_index(drop=True)


def _mean_draws(volumes: np.ndarray, seed: int) -> np.ndarray:
    """Draws of the mean annual volume change of every component, jointly: the replications'
    mean plus a multivariate Student t error with the covariance of that mean (R − 1 degrees of
    freedom). z @ (V − mean) / √(R(R − 1)) with z standard normal has exactly covariance S / R,
    S the replications' covariance, without factorising S (components may be collinear).
    With one replication there is no estimate of the simulation error: the mean alone."""
    n = len(volumes)
    mean = volumes.mean(axis=0)
    if n < 2:
        return np.broadcast_to(mean, (DRAWS, len(mean)))
    rng = Streams(seed, 0)["benefit.simulation_error"]
    normal = rng.standard_normal((DRAWS, n)) @ (volumes - mean) / math.sqrt(n * (n - 1))
    scale = np.sqrt((n - 1) / rng.chisquare(n - 1, DRAWS))
    return mean + normal * scale[:, None]


def _cost_draws(items, seed: int) -> np.ndarray:
    """PERT draws of each component's unit cost, one stream per cost item (so components and
    scenarios sharing an item share its draws)."""
    streams = Streams(seed, 0)
    columns = {}
    for item in items:
        if item.key not in columns:
            columns[item.key] = pert(streams[f"benefit.unit_cost.{item.key}"], item.low, item.central, item.high, DRAWS)
    return np.column_stack([columns[item.key] for item in items])


def pert(rng: np.random.Generator, low: float, mode: float, high: float, size: int) -> np.ndarray:
    """Beta-PERT draws over [low, high] with the given mode (λ = 4): mean (low + 4 mode + high) / 6."""
    if high <= low:
        return np.full(size, float(mode))
    alpha = 1 + 4 * (mode - low) / (high - low)
    beta = 1 + 4 * (high - mode) / (high - low)
    return low + (high - low) * rng.beta(alpha, beta, size)


def _summary(draws: np.ndarray, per_year: np.ndarray) -> dict[str, float]:
    tail = 100 * (1 - INTERVAL) / 2
    return {
        "low": float(np.percentile(draws, tail)) + 0.0,
        "central": float(per_year.mean()) + 0.0,
        "high": float(np.percentile(draws, 100 - tail)) + 0.0,
        "year_p10": float(np.percentile(per_year, 10)) + 0.0,
        "year_p90": float(np.percentile(per_year, 90)) + 0.0,
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
    "differs from the flow-based benefit."
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

    stay_weeks = care_home_weeks(costs)
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


__all__ = ["BENEFIT_COLUMNS_MEANING", "CATEGORIES", "COMPONENTS", "INTERVAL", "PAYERS", "RANGE_METHOD", "benefit", "benefit_over_years", "benefit_tables", "episodes_per_place_day", "pert", "place_day_price", "run_rate", "sensitivity"]
