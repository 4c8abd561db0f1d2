"""The fast plan search (sim.experiment.plan_search) against exhaustive evaluation and the grid
search: the same answer from fewer simulated candidates and replication-years."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from helpers import bed_day_costs, erlang_wait, mmc_beds_scenario, modify

from sim.experiment.plan import evaluate, parse_target, plan
from sim.experiment.plan_search import _years_of, erlang_c_servers, erlang_c_wait, horizon_years, needed

KEYS = (("p2_wait_days", "total"), ("bed_occupancy", "total"), ("requests_per_week", "beds"),
        ("starts_per_week", "beds"), ("delayed_bed_days_per_week", "awaiting_p2"))


def growing_beds(replications: int = 8):
    """M/M/c beds whose demand grows 15% a year: λ = 0.5/day × 1.15^t, stays of mean 10 days,
    so the place-demand is about 5 beds at the start of the first year, 5.75 of the second and
    6.6 of the third: the beds needed rise from year to year."""
    base = mmc_beds_scenario(0.5, 6, 10.0, years=3, warmup_days=60, replications=replications, seed=7)
    return modify(base, {"arrivals.annual_growth": 0.15})


def exhaustive(scenario, target, confidence, capacities) -> pd.DataFrame:
    """Every capacity in `capacities` simulated in full (all replications, the whole run) by the
    grid search's own evaluation: per year and capacity, P(met) and whether it meets."""
    frames = [evaluate(scenario, "beds", c, target) for c in capacities]
    table = pd.concat(frames, ignore_index=True)
    table["meets"] = table["probability_target_met"] >= confidence
    return table


@pytest.mark.parametrize("n, confidence, need", [(20, 0.9, 18), (60, 0.5, 30), (10, 0.7, 7), (8, 0.75, 6), (7, 0.9, 7)])
def test_replications_needed_to_meet_the_confidence(n, confidence, need):
    """P(met) is the share of n replications meeting the target: 18 of 20 give exactly 0.9
    (17 give 0.85); 7 of 10 give 0.7 as the mean of booleans computes it."""
    assert needed(n, confidence) == need
    assert need / n >= confidence > (need - 1) / n


def test_a_run_stopped_after_a_year_reproduces_that_year_exactly():
    """What makes simulating a candidate only up to the year asked about exact: every KPI
    of years 1 and 2 of a run stopped at the first four-week arrival chunk after year 2 equals
    the whole three-year run's, bit for bit (a run stopped exactly at the year's end does not:
    its last arrival chunk is shorter and draws differently)."""
    scenario = growing_beds()
    short = scenario.with_run(years=horizon_years(scenario, 2))
    assert 2 < short.run.years < 2 + 28 / 365 and short.end_day % 28 == 0
    for replication in (0, 1):
        whole, _ = _years_of(scenario, scenario.run.seed, replication, KEYS)
        part, _ = _years_of(short, short.run.seed, replication, KEYS)
        assert whole.shape == (len(KEYS), 3) and part.shape == (len(KEYS), 2)
        np.testing.assert_array_equal(part, whole[:, :2])


def test_fast_search_finds_the_erlang_c_capacity_as_the_grid_does():
    """M/M/c: λ = 1/day, exponential stays of mean 5 days (a = 5 beds of demand). Erlang C: mean
    waits 0.81 d with 7 beds, 0.28 d with 8, so "p2_wait_days <= 0.5" met in at least half the
    replications needs 8 beds. Both searches find 8 with the same P(met) and offered load (the
    chosen capacity is completed to all replications); the fast one simulates fewer candidates
    and replications, and settles 7 beds before simulating all 20 of its replications."""
    assert erlang_wait(7, 5.0, 5.0) > 0.5 > erlang_wait(8, 5.0, 5.0)
    scenario = mmc_beds_scenario(1.0, 6, 5.0, years=1, warmup_days=60, replications=20)
    target = parse_target("p2_wait_days <= 0.5")
    fast_stats, grid_stats = {}, {}
    fast, fast_evaluations = plan(scenario, "beds", target, 0.5, max_capacity=10, stats=fast_stats)
    grid, _ = plan(scenario, "beds", target, 0.5, max_capacity=10, search="grid", stats=grid_stats)
    assert fast.iloc[0]["capacity"] == grid.iloc[0]["capacity"] == 8
    columns = ["capacity", "offered_load", "probability_target_met"]
    pd.testing.assert_frame_equal(fast[columns], grid[columns])
    assert fast_stats["candidates"] < grid_stats["candidates"]
    assert fast_stats["replications"] < grid_stats["replications"]
    assert fast_stats["replication_years"] < grid_stats["replication_years"]
    seven = fast_evaluations.set_index("capacity").loc[7]
    assert seven["meets"] == "no" and seven["replications"] < 20 and seven["probability_target_met"] < 0.5


@pytest.mark.parametrize("offered, mean_los, wait", [(5.0, 5.0, 0.5), (20.0, 10.0, 1.0), (0.5, 3.0, 0.01), (80.0, 18.0, 2.0)])
def test_erlang_c_warm_start_matches_the_textbook_formula(offered, mean_los, wait):
    """The search's Erlang C (Erlang B recursion, stable for large c) against the textbook sums:
    the same mean wait, and the least servers whose wait is within the limit."""
    servers = int(erlang_c_servers(offered, mean_los, wait))
    for c in range(int(offered) + 1, servers + 3):
        assert erlang_c_wait(c, offered, mean_los) == pytest.approx(erlang_wait(c, offered, mean_los), rel=1e-9)
    assert erlang_wait(servers, offered, mean_los) <= wait
    assert servers == int(offered) + 1 or erlang_wait(servers - 1, offered, mean_los) > wait  # the least such


def test_fast_search_equals_exhaustive_evaluation_over_growing_years():
    """Demand grows 15% a year (growing_beds). Every capacity from 8 to 11 beds is simulated in
    full (8 replications, three years): 8 misses "p2_wait_days <= 1" (in 6 of 8 replications)
    every year and in each year P(met) rises with capacity, so the least capacity meeting it
    is well defined (9, 9 and 10 beds). The fast search must give it for every year, with the
    exhaustive P(met) and offered load, from fewer replication-years than those four
    capacities took (the grid search tries seven; test_fast_search_finds_the_erlang_c_capacity
    compares the two searches)."""
    scenario = growing_beds()
    target, confidence = parse_target("p2_wait_days <= 1"), 0.75
    window = range(8, 12)
    table = exhaustive(scenario, target, confidence, window)
    least = {}
    for year, rows in table.groupby("year"):
        rows = rows.sort_values("capacity")
        assert rows["probability_target_met"].is_monotonic_increasing and not rows["meets"].iloc[0], rows
        least[year] = int(rows.loc[rows["meets"], "capacity"].min())
    assert list(least.values()) == [9, 9, 10]
    stats = {}
    fast, _ = plan(scenario, "beds", target, confidence, stats=stats)
    assert dict(zip(fast["year"], fast["capacity"])) == least
    full = table.set_index(["year", "capacity"])
    for row in fast.itertuples():
        assert row.probability_target_met == round(full.loc[(row.year, row.capacity), "probability_target_met"], 4)
        assert row.offered_load == pytest.approx(full.loc[(row.year, row.capacity), "offered_load"], abs=1e-4)
    assert stats["replication_years"] < len(window) * 8 * scenario.end_day / 365


def test_fast_search_is_the_same_for_any_number_of_workers():
    """Spare workers simulate the next replications speculatively, but a result is used only
    where one worker would have asked for it: plan and evaluations are identical."""
    scenario = mmc_beds_scenario(1.0, 6, 5.0, years=1, warmup_days=60, replications=12)
    target = parse_target("p2_wait_days <= 0.5")
    one = plan(scenario, "beds", target, 0.5, max_capacity=10)
    two = plan(scenario, "beds", target, 0.5, max_capacity=10, workers=2)
    pd.testing.assert_frame_equal(one[0], two[0])
    pd.testing.assert_frame_equal(one[1], two[1])


def test_fast_cost_mode_equals_the_grid_search():
    """Cost mode prices the candidates from the least meeting the target up, each over all its
    replications: the fast search gives the grid search's choice and costs. A funded bed day at
    £100 and an acute bed day waiting at £400 (test_plan.py's cost-mode case, smaller: λ =
    1/day, stays of 5 days, target "p2_wait_days <= 1" met in half the replications)."""
    costs = bed_day_costs()
    scenario = mmc_beds_scenario(1.0, 6, 5.0, years=1, warmup_days=60, replications=8)
    target = parse_target("p2_wait_days <= 1")
    fast, fast_evaluations = plan(scenario, "beds", target, 0.5, objective="cost", costs=costs, max_capacity=12)
    grid, grid_evaluations = plan(scenario, "beds", target, 0.5, objective="cost", costs=costs, max_capacity=12,
                                  search="grid")
    pd.testing.assert_frame_equal(fast, grid)
    priced = fast_evaluations.dropna(subset=["yearly_cost"]).set_index("capacity")["yearly_cost"]
    reference = grid_evaluations.set_index("capacity")["yearly_cost"]
    assert len(priced) >= 3
    assert priced.to_numpy() == pytest.approx(reference.loc[priced.index].to_numpy(), rel=1e-12)
