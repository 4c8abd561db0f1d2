"""Capacity planning: for each year, the least capacity of a service that meets a target with
a stated probability (or, in cost mode, the capacity with the least cost of capacity plus delay).

Every candidate capacity is simulated with the same seed and replications, so candidates see
the same people (common random numbers) and differences between them are the capacity's
doing, not noise. A candidate applies from the start of the run to its end; the answer for a
year is the least such capacity meeting the target in that year. The search assumes the chance
of meeting the target does not fall as capacity rises (true of waits and queues).

Two searches give that answer: "fast" (the default, sim.experiment.plan_search) simulates a
candidate only over the years up to the one asked about and only for as many replications as
settle whether it meets the target, warm-started from the offered load; "grid" simulates
every candidate it tries over all n replications and the whole run (the reference).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import InputError
from ..inputs.costs import CostTable
from ..inputs.loading import scenario_from_dict
from ..inputs.scenario import Scenario
from ..model.calendar import Calendar
from ..units import DAYS_PER_YEAR, WEEKS_PER_YEAR
from .benefit import episodes_per_place_day, place_day_price
from .kpis import KPI_BY_ID, reporting_years
from .plan_search import PILOT_REPLICATIONS, Grid, Replications, Search, erlang_c_servers
from .runner import run

SERVICES = ("beds", "reablement")
OCCUPANCY_KPI = {"beds": "bed_occupancy", "reablement": "reablement_occupancy"}
WAITING_REASON = {"beds": "awaiting_p2", "reablement": "awaiting_p1"}  # acute bed days the service's queue costs
PLACE_DAY_COMPONENT = {"beds": "funded_capacity_beds", "reablement": "funded_capacity_reablement"}  # benefit components
OWN_WAIT = {"beds": "p2_wait_days", "reablement": "p1_wait_days"}  # the wait Erlang C can warm-start a search for
SEARCHES = ("fast", "grid")
_TARGET = re.compile(r"^\s*([a-z][a-z0-9_]*)(?:\[([a-z0-9_]+)\])?\s*(<=|>=)\s*([-+]?[0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)\s*$")


@dataclass(frozen=True)
class Target:
    """A KPI condition such as `p2_wait_days <= 2` (scope "total" unless given: `kpi[scope]`)."""

    kpi: str
    scope: str
    op: str
    value: float

    def met(self, values: np.ndarray) -> np.ndarray:
        """Whether each value meets the target (an undefined value does not)."""
        with np.errstate(invalid="ignore"):
            return (values <= self.value) if self.op == "<=" else (values >= self.value)

    def __str__(self) -> str:
        scope = "" if self.scope == "total" else f"[{self.scope}]"
        return f"{self.kpi}{scope} {self.op} {self.value:g}"


def parse_target(text: str) -> Target:
    match = _TARGET.match(text)
    if not match:
        raise InputError(f'--target {text!r}: expected "KPI <= number" or "KPI >= number", e.g. "p2_wait_days <= 2"')
    kpi, scope, op, value = match.groups()
    if kpi not in KPI_BY_ID:
        raise InputError(f"--target {text!r}: unknown KPI {kpi!r}; expected one of {', '.join(sorted(KPI_BY_ID))}")
    return Target(kpi, scope or "total", op, float(value))


def current_capacity(scenario: Scenario, service: str) -> int:
    if service == "beds":
        return int(sum(site.beds for site in scenario.beds.sites.values()))
    return int(scenario.reablement.capacity)


def with_capacity(scenario: Scenario, service: str, capacity: int) -> Scenario:
    """The scenario with `capacity` places for the whole run (the service's dated capacity
    changes are dropped). Beds are shared out over sites in proportion to their current
    beds, largest remainders first, so the total is exact."""
    if service not in SERVICES:
        raise InputError(f"--service {service!r}: expected one of {', '.join(SERVICES)}")
    data = scenario.model_dump(mode="python")
    if service == "reablement":
        if math.isinf(scenario.reablement.capacity):
            raise InputError("reablement.capacity is unlimited: nothing to plan")
        data["reablement"]["capacity"] = int(capacity)
        data["reablement"]["capacity_schedule"] = []
    else:
        sites = data["beds"]["sites"]
        now = np.array([site["beds"] for site in sites.values()], dtype=float)
        if not np.isfinite(now).all() or now.sum() == 0:
            raise InputError("beds: every site needs a finite number of beds > 0 in total to share out a plan")
        share = now / now.sum() * capacity
        beds = np.floor(share).astype(int)
        for k in np.argsort(-(share - beds), kind="stable")[: capacity - beds.sum()]:
            beds[k] += 1
        for site, n in zip(sites.values(), beds.tolist()):
            site["beds"] = n
            site["capacity_schedule"] = []
    return scenario_from_dict(data, f"{scenario.meta.name} with {service} = {capacity}")


def evaluate(scenario: Scenario, service: str, capacity: int, target: Target, **run_options) -> pd.DataFrame:
    """Simulate one candidate capacity: per year, the share of replications meeting the target,
    the offered load, the target KPI's mean and the yearly costs' drivers."""
    result = run(with_capacity(scenario, service, capacity), **run_options)
    yearly = result.yearly_replications
    wide = yearly.pivot_table(index=["year", "replication"], columns=["kpi", "scope"], values="value", dropna=False)
    if (target.kpi, target.scope) not in wide.columns:
        scopes = sorted(s for k, s in wide.columns if k == target.kpi)
        raise InputError(f"--target {target}: KPI {target.kpi} has no scope {target.scope!r}; expected one of {', '.join(scopes)}")
    values = wide[(target.kpi, target.scope)].to_numpy()
    # offered load = arrival rate × mean time a place is held ÷ capacity; the mean time held is
    # occupied place-days ÷ starts (Little's law), so offered load = occupancy × requests ÷ starts
    with np.errstate(invalid="ignore", divide="ignore"):
        offered = (
            wide[(OCCUPANCY_KPI[service], "total")].to_numpy()
            * wide[("requests_per_week", service)].to_numpy()
            / wide[("starts_per_week", service)].to_numpy()
        )
    frame = pd.DataFrame({
        "year": wide.index.get_level_values("year"),
        "met": target.met(values),
        "offered_load": offered,
        "target_value": values,
        "waiting_bed_days_per_week": wide[("delayed_bed_days_per_week", WAITING_REASON[service])].to_numpy(),
        "starts_per_week": wide[("starts_per_week", service)].to_numpy(),
    })
    out = frame.groupby("year").agg(
        probability_target_met=("met", "mean"),
        offered_load=("offered_load", "mean"),
        target_mean=("target_value", "mean"),
        waiting_bed_days_per_week=("waiting_bed_days_per_week", "mean"),
        starts_per_week=("starts_per_week", "mean"),
    ).reset_index()
    out.insert(1, "capacity", int(capacity))
    out["replications"] = len(frame) // max(1, out["year"].nunique())
    return out


def plan(
    scenario: Scenario,
    service: str,
    target: Target,
    confidence: float,
    years: tuple[int, int] | None = None,
    objective: str = "target",
    costs: CostTable | None = None,
    max_capacity: int | None = None,
    on_candidate: Callable[[int], None] | None = None,
    step: int = 1,
    search: str = "fast",
    stats: dict | None = None,
    **run_options,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(plan, evaluations): the capacity chosen for each year, and every candidate simulated.

    objective "target": the least capacity whose probability of meeting `target` in that year
    is at least `confidence`. objective "cost": among capacities meeting the target, the one
    with the least yearly cost of funded places plus acute bed days spent waiting for them.
    `step`: capacities are searched in steps of this many places from today's (an answer is
    then the least capacity on that grid; 1 gives the exact least capacity).
    `search`: "fast" (default) or "grid" (every candidate over all replications and years);
    both give the same answer where the chance of meeting the target rises with capacity.
    `stats`, if given, receives what was simulated (candidates, replications, replication-years).
    """
    if step < 1:
        raise InputError(f"--step {step}: expected a whole number of places >= 1")
    if not 0 < confidence < 1:
        raise InputError(f"--confidence {confidence}: expected a probability between 0 and 1 (exclusive)")
    if objective not in ("target", "cost"):
        raise InputError(f"--objective {objective!r}: expected target or cost")
    if objective == "cost" and costs is None:
        raise InputError("--objective cost needs a cost table (--costs)")
    if search not in SEARCHES:
        raise InputError(f"--search {search!r}: expected one of {', '.join(SEARCHES)}")
    if search == "fast":
        return _fast_plan(scenario, service, target, confidence, years, objective, costs, max_capacity, on_candidate,
                          step, stats, **run_options)
    now = current_capacity(scenario, service)
    ceiling = max_capacity or 4 * max(now, 1)
    cache: dict[int, pd.DataFrame] = {}

    def at(capacity: int) -> pd.DataFrame:
        if capacity not in cache:
            cache[capacity] = evaluate(scenario, service, capacity, target, **run_options)
            if on_candidate:
                on_candidate(capacity)
        return cache[capacity]

    first = at(now)
    place_day = _place_day(service, costs, first, now) if objective == "cost" else math.nan
    all_years = first["year"].tolist()
    wanted = _wanted(all_years, years)

    def meets(capacity: int, year: int) -> bool:
        row = at(capacity).set_index("year").loc[year]
        return bool(row["probability_target_met"] >= confidence)

    # lowest capacity worth trying: below the offered load's place-demand, queues grow without bound
    low_bound = _low_bound(first["offered_load"], now)
    # candidates lie on a grid: today's capacity + k × step (k may be negative), at least 1
    lowest_k = -((now - low_bound) // step)
    high_k, top_k = 0, max(0, (ceiling - now) // step)
    while not all(meets(now + high_k * step, y) for y in wanted) and high_k < top_k:
        high_k = min(top_k, high_k + max(1, math.ceil((now + high_k * step) * 0.5 / step)))  # × 1.5
    high = now + high_k * step
    rows = []
    for year in wanted:
        if not meets(high, year):
            chosen = None
        else:
            lo, hi = lowest_k - 1, high_k  # invariant: hi meets; lo does not (or is below the bound)
            while hi - lo > 1:
                mid = (lo + hi) // 2
                if meets(now + mid * step, year):
                    hi = mid
                else:
                    lo = mid
            chosen = now + hi * step
            if objective == "cost":
                chosen = _least_cost(at, confidence, year, chosen, ceiling, costs, step, place_day)
        current = at(now).set_index("year").loc[year]
        found = None if chosen is None else at(chosen).set_index("year").loc[year]
        rows.append(_plan_row(service, year, chosen, now, ceiling, current, found))
    evaluations = pd.concat(cache.values(), ignore_index=True).sort_values(["year", "capacity"], ignore_index=True)
    evaluations["meets"] = np.where(evaluations["probability_target_met"] >= confidence, "yes", "no")
    if stats is not None:
        n = int(evaluations["replications"].max())
        stats.update(search="grid", candidates=len(cache), replications=len(cache) * n,
                     replication_years=len(cache) * n * scenario.end_day / DAYS_PER_YEAR)
    return pd.DataFrame(rows), _finish_evaluations(evaluations, service, objective, costs, place_day)


def _wanted(all_years: list[int], years: tuple[int, int] | None) -> list[int]:
    if years is not None and (years[0] < all_years[0] or years[1] > all_years[-1]):
        raise InputError(
            f"--years {years[0]}-{years[1]}: the run reports {all_years[0]}-{all_years[-1]}; "
            "expected years within them (move run.start_date or lengthen run.years)"
        )
    return [y for y in all_years if years is None or years[0] <= y <= years[1]]


def _low_bound(offered_load: pd.Series, now: int) -> int:
    """The lowest capacity worth trying: the least yearly place-demand (offered load × today's
    capacity); below it queues grow without bound."""
    demand = (offered_load * now).min()
    return max(1, math.floor(demand) if np.isfinite(demand) else 1)


def _finish_evaluations(evaluations: pd.DataFrame, service: str, objective: str, costs, place_day: float) -> pd.DataFrame:
    evaluations.insert(0, "service", service)
    if objective == "cost":
        n = evaluations["replications"].max()
        evaluations["yearly_cost"] = [
            _yearly_cost(r.capacity, r.waiting_bed_days_per_week, costs, place_day) if r.replications == n else math.nan
            for r in evaluations.itertuples()
        ]
    return evaluations


def _fast_plan(scenario, service, target, confidence, years, objective, costs, max_capacity, on_candidate, step, stats,
               workers: int = 1, replications: int | None = None, seed: int | None = None):
    """`plan` by the fast search (sim.experiment.plan_search): the same answer."""
    now = current_capacity(scenario, service)
    with_capacity(scenario, service, now)  # checks the service can be planned
    ceiling = max_capacity or 4 * max(now, 1)
    n = scenario.run.replications if replications is None else replications
    keys = ((target.kpi, target.scope), (OCCUPANCY_KPI[service], "total"), ("requests_per_week", service),
            ("starts_per_week", service), ("delayed_bed_days_per_week", WAITING_REASON[service]))
    reps = Replications(
        scenario, lambda capacity, run_years: with_capacity(scenario.with_run(years=run_years), service, capacity),
        keys, target.met, target.op == "<=", n, confidence, scenario.run.seed if seed is None else seed, workers, on_candidate,
    )
    try:
        all_years = reps.labels
        wanted = _wanted(all_years, years)
        index = [all_years.index(y) for y in wanted]
        # pilot: a few replications of today's capacity over the whole run (place-demand per year)
        if objective == "cost":  # the place-day price needs today's service in full, as the grid search has it
            reps.complete(now, len(all_years) - 1)
        else:
            reps.pilot(now, min(n, PILOT_REPLICATIONS))
        today = pd.DataFrame([reps.row(now, j) for j in range(len(all_years))])
        place_day = _place_day(service, costs, today, now) if objective == "cost" else math.nan
        low_bound = _low_bound(today["offered_load"], now)
        grid = Grid(now, step, -((now - low_bound) // step), max(0, (ceiling - now) // step))
        finder = Search(reps, grid, _growth(scenario), (today["offered_load"] * now).tolist(),
                        _first_margin(service, target, today, now))
        rows = []
        for position, j in enumerate(index):
            k = finder.year(j, index[position + 1 :])
            chosen = None if k is None else grid.capacity(k)
            if chosen is not None:
                reps.complete(chosen, j)
                if objective == "cost":
                    def at(capacity: int, j: int = j) -> pd.DataFrame:
                        reps.complete(capacity, j)
                        return pd.DataFrame([reps.row(capacity, j)])

                    chosen = _least_cost(at, confidence, all_years[j], chosen, ceiling, costs, step, place_day)
            found = None if chosen is None else pd.Series(reps.row(chosen, j))
            rows.append(_plan_row(service, all_years[j], chosen, now, ceiling, pd.Series(reps.row(now, j)), found))
    finally:
        reps.close()
    evaluations = reps.frame().sort_values(["year", "capacity"], ignore_index=True)
    if stats is not None:
        stats.update(search="fast", candidates=reps.cost.candidates, replications=reps.cost.replications,
                     replication_years=reps.cost.replication_years,
                     replication_years_used=reps.cost.replication_years_used, questions=reps.log)
    return pd.DataFrame(rows), _finish_evaluations(evaluations, service, objective, costs, place_day)


def _growth(scenario: Scenario) -> list[float]:
    """Expected arrivals a day averaged over each reporting year (season × growth; relative)."""
    rates = Calendar(scenario).season_growth
    return [float(rates[start:end].mean()) for _, start, end in reporting_years(scenario)]


def _first_margin(service: str, target: Target, today: pd.DataFrame, now: int) -> float:
    """Places above the first year's place-demand the search starts from: what Erlang C (one
    pooled M/M/c queue) needs for a mean wait within a wait target of the service, which
    real queues (weekdays, localities, a bad year in 1 - confidence of them) exceed, so the
    search mostly climbs through candidates that miss, the cheap ones; for another target,
    the square root of the demand."""
    first = today.iloc[0]
    demand = first["offered_load"] * now
    if target.kpi == OWN_WAIT[service] and target.op == "<=" and target.scope == "total" and first["starts_per_week"] > 0:
        held = demand / (first["starts_per_week"] / 7)  # mean time a place is held (Little's law)
        servers = erlang_c_servers(demand, held, target.value)
        if math.isfinite(servers):
            return servers - demand
    return math.sqrt(demand) if demand > 0 else math.nan


def _place_day(service: str, costs: CostTable, today: pd.DataFrame, now: int) -> float:
    """The price of a funded place-day, as the benefit prices it (the same components, so a cost
    file's `use` applies to both): per funded bed day, or per reablement episode × the episodes a
    place delivers a day in the service as it runs today (a property of the service, not of the
    candidate capacity: extra places cost money whether used or not)."""
    rate = float(np.mean(episodes_per_place_day(today["starts_per_week"].to_numpy(), np.full(len(today), float(now)))))
    price = place_day_price(PLACE_DAY_COMPONENT[service], costs, rate)
    if not price > 0:
        raise InputError(f"--objective cost: a {service} place-day has no price ({costs.unit_cost(PLACE_DAY_COMPONENT[service]).key} "
                         f"with {now} places today and {rate:g} episodes a place-day); expected a service running today")
    return price


def _yearly_cost(capacity: int, waiting_bed_days_per_week: float, costs: CostTable, place_day: float) -> float:
    """Funded places for a year plus the acute bed days spent waiting for them (central costs)."""
    bed_day = costs.unit_cost("acute_nr2r_bed_days").central
    return capacity * place_day * DAYS_PER_YEAR + waiting_bed_days_per_week * WEEKS_PER_YEAR * bed_day


def _least_cost(at, confidence, year, least, ceiling, costs, step, place_day) -> int:
    """The cheapest capacity for the year among those meeting the target, from the least one up.

    A capacity Δ places above `least` costs Δ × 365 × (place-day cost) more and saves at most
    the whole waiting cost at `least`, so nothing beyond least + waiting cost ÷ (365 × place-day
    cost) can be cheaper: that bounds the search, whatever today's capacity (at most about 8
    capacities of the search grid are simulated)."""
    place_year = _yearly_cost(1, 0.0, costs, place_day)
    waiting = _yearly_cost(0, at(least).set_index("year").loc[year, "waiting_bed_days_per_week"], costs, place_day)
    bounded = place_year > 0 and math.isfinite(waiting)
    top = min(ceiling, least + math.floor(waiting / place_year)) if bounded else ceiling
    stride = step * max(1, (top - least) // step // 8)
    best, best_cost = least, math.inf
    for capacity in range(least, top + 1, stride):
        row = at(capacity).set_index("year").loc[year]
        if row["probability_target_met"] < confidence:
            continue
        cost = _yearly_cost(capacity, row["waiting_bed_days_per_week"], costs, place_day)
        if cost < best_cost:
            best, best_cost = capacity, cost
    return best


def _plan_row(service: str, year: int, chosen: int | None, now: int, ceiling: int, current: pd.Series,
              found: pd.Series | None) -> dict:
    """A year of the plan from today's figures (`current`) and the chosen capacity's (`found`)."""
    row = {"year": year, "service": service}
    if chosen is None:
        row.update(capacity=math.nan, offered_load=math.nan, probability_target_met=math.nan)
        warning = f"target not met with up to {ceiling} places"
    else:
        row.update(capacity=chosen, offered_load=round(found["offered_load"], 4),
                   probability_target_met=round(found["probability_target_met"], 4))
        warning = ""
    row.update(capacity_now=now, offered_load_now=round(current["offered_load"], 4),
               probability_target_met_now=round(current["probability_target_met"], 4),
               replications_now=int(current["replications"]))
    overloaded = [name for name, load in (("now", current["offered_load"]), ("planned", row["offered_load"]))
                  if load >= 1]
    if overloaded:
        warning = "; ".join(filter(None, [warning, (
            f"offered load >= 1 ({' and '.join(overloaded)}): demand exceeds capacity, queues grow without bound "
            "and yearly averages depend on the run length"
        )]))
    row["warning"] = warning
    return row
