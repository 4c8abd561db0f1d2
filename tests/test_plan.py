"""Capacity planning (`icsim plan`) against queueing theory and hand-worked cases."""

from __future__ import annotations

import datetime as dt
import itertools
import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from helpers import BASELINE_PATH, baseline, bed_day_costs, cost_item, cost_table, erlang_wait, mmc_beds_scenario, modify, plain

from sim.errors import InputError
from sim.experiment.benefit import place_day_price
from sim.experiment.plan import _yearly_cost, current_capacity, parse_target, plan, with_capacity
from sim.inputs.costs import costs_from_dict


def test_plan_finds_the_erlang_c_capacity():
    """λ = 2/day, exponential stays of mean 10 d (a = 20 beds of demand). Erlang C gives mean
    waits 1.39 d with 23 beds and 0.75 d with 24, so "p2_wait_days <= 1.0" needs 24 beds.
    A year's mean wait scatters around its expectation (waits are strongly correlated), so
    the plan asks for the least capacity meeting the target in at least half of 60
    replications: at 24 beds the yearly mean is below 1.0 far more often than not, at 23 far
    less often, and the answer must be 24. Offered load there is a/c = 0.833."""
    assert erlang_wait(23, 20, 10) > 1.0 > erlang_wait(24, 20, 10)
    scenario = mmc_beds_scenario(2.0, 22, 10.0, years=1, warmup_days=365, replications=60)
    chosen, evaluations = plan(scenario, "beds", parse_target("p2_wait_days <= 1.0"), 0.5, max_capacity=26)
    assert len(chosen) == 1
    row = chosen.iloc[0]
    assert row["capacity"] == 24, evaluations
    assert row["offered_load"] == pytest.approx(20 / 24, rel=0.03)
    assert row["offered_load_now"] == pytest.approx(20 / 22, rel=0.03)
    # the candidates' verdicts rise with capacity (common random numbers keep them ordered), and
    # so do the probabilities of those simulated over all 60 replications (the fast search
    # settles a candidate far from the boundary with fewer)
    ordered = evaluations.sort_values("capacity")
    verdicts = ordered.loc[ordered["meets"] != "", "meets"].tolist()
    assert verdicts == sorted(verdicts), ordered
    probability = ordered.loc[ordered["replications"] == 60, "probability_target_met"].to_numpy()
    assert len(probability) >= 1 and (probability[1:] >= probability[:-1]).all()


def test_capacity_found_is_monotone_in_the_target():
    """A looser wait target never needs more beds; the loosest and tightest differ (so the
    check could fail). Erlang C: Wq(21..25) = 7.6, 2.8, 1.39, 0.75, 0.42 d."""
    scenario = mmc_beds_scenario(2.0, 22, 10.0, years=1, warmup_days=365, replications=8)
    found = []
    for limit in (0.3, 1.0, 10.0):
        chosen, _ = plan(scenario, "beds", parse_target(f"p2_wait_days <= {limit}"), 0.5, max_capacity=30)
        found.append(chosen.iloc[0]["capacity"])
    assert all(a >= b for a, b in itertools.pairwise(found)), found
    assert found[0] > found[-1], found


def test_overloaded_service_is_flagged():
    """18 beds for 20 beds of demand: offered load 20/18 = 1.11 > 1; the plan row says queues
    grow without bound rather than presenting the average as meaningful."""
    scenario = mmc_beds_scenario(2.0, 18, 10.0, years=1, warmup_days=100, replications=4)
    chosen, _ = plan(scenario, "beds", parse_target("p2_wait_days <= 2"), 0.5, max_capacity=30)
    row = chosen.iloc[0]
    assert row["offered_load_now"] > 1
    assert "grow without bound" in row["warning"]
    assert row["capacity"] > 20


def test_beds_are_shared_over_sites_in_proportion():
    """Sites of 4, 2 and 3 beds (9) given 17: exact shares 17/9 × (4, 2, 3) = 7.556, 3.778,
    5.667. Whole beds first (7 + 3 + 5 = 15), then the 2 left go to the largest remainders,
    0.778 (b) and 0.667 (c): 7, 4, 6 = 17 exactly. (Rounding each share would give 8, 4, 6 = 18;
    giving the spare beds to the first sites would give 8, 4, 5.) Dated changes are dropped."""
    site = {"capacity_schedule": [], "los_multiplier": 1.0}
    base = modify(plain(baseline()), {"beds.sites": {
        "a": {**site, "beds": 4, "referral_share": 0.5, "capacity_schedule": [{"date": dt.date(2025, 6, 1), "capacity": 6}]},
        "b": {**site, "beds": 2, "referral_share": 0.25},
        "c": {**site, "beds": 3, "referral_share": 0.25},
    }})
    assert current_capacity(base, "beds") == 9
    planned = with_capacity(base, "beds", 17)
    assert {name: s.beds for name, s in planned.beds.sites.items()} == {"a": 7, "b": 4, "c": 6}
    assert current_capacity(planned, "beds") == 17
    assert all(s.capacity_schedule == () for s in planned.beds.sites.values())
    assert with_capacity(base, "reablement", 450).reablement.capacity == 450


@pytest.mark.parametrize(
    "text, message",
    [("p2_wait <= 2", "unknown KPI 'p2_wait'"), ("p2_wait_days < = 2", "expected"), ("p2_wait_days == 2", "expected")],
)
def test_bad_targets_are_one_line_errors(text, message):
    with pytest.raises(InputError) as error:
        parse_target(text)
    assert message in str(error.value) and "\n" not in str(error.value)


def test_cli_plan_writes_plan_csv(tmp_path):
    """The M/M/c beds case (a = 20) over two reported years, given to the CLI as a run
    manifest: plan.csv has a row per year with the stated columns; each year's capacity meets
    "p2_wait_days <= 2" with the stated confidence and exceeds the place demand a = 20."""
    scenario = mmc_beds_scenario(2.0, 22, 10.0, years=2, warmup_days=200, replications=6)
    manifest = tmp_path / "input.json"
    manifest.write_text(json.dumps({"scenario": scenario.model_dump(mode="json")}))
    out = tmp_path / "plan"
    done = subprocess.run(
        [str(Path(sys.executable).with_name("icsim")), "plan", str(manifest), "--service", "beds",
         "--target", "p2_wait_days <= 2", "--confidence", "0.6", "--years", "2025-2026", "--out", str(out), "-q"],
        check=False, capture_output=True, text=True, cwd=Path(__file__).resolve().parents[1],
    )
    assert done.returncode == 0, done.stderr
    table = pd.read_csv(out / "plan.csv")
    assert list(table.columns[:5]) == ["year", "service", "capacity", "offered_load", "probability_target_met"]
    assert table["year"].tolist() == [2025, 2026]
    assert (table["capacity"] > 20).all() and (table["offered_load"] < 1).all()
    assert (table["probability_target_met"] >= 0.6).all()
    assert (out / "evaluations.csv").exists() and (out / "manifest.json").exists()
    # the manifest says what the search simulated: every candidate in evaluations.csv, and at
    # most all replications of each over the whole run
    searched = json.loads((out / "manifest.json").read_text())["search"]
    evaluations = pd.read_csv(out / "evaluations.csv")
    assert searched["search"] == "fast" and searched["candidates"] == evaluations["capacity"].nunique()
    assert 0 < searched["replication_years_used"] <= searched["replication_years"]


def test_cli_plan_bad_years_is_one_line_error(tmp_path):
    done = subprocess.run(
        [str(Path(sys.executable).with_name("icsim")), "plan", str(BASELINE_PATH), "--service", "beds",
         "--target", "p2_wait_days <= 2", "--years", "2030-2026", "--out", str(tmp_path / "p")],
        check=False, capture_output=True, text=True, cwd=Path(__file__).resolve().parents[1],
    )
    assert done.returncode == 2
    assert done.stderr.strip().count("\n") == 0 and "--years '2030-2026'" in done.stderr
    assert not (tmp_path / "p").exists()


def test_cost_mode_picks_the_cheapest_capacity_meeting_the_target():
    """Cost mode: yearly cost = places × 365 × £/place-day + acute bed days waiting a week ×
    365/7 × £/NCTR bed day (central costs). A synthetic cost table makes the trade-off real: a
    funded bed day at £100, a waiting acute bed day at £400. Today's 21 beds miss
    "p2_wait_days <= 3" (Erlang C: Wq(21) = 7.6 d), so the search runs up to the 30-bed ceiling
    and prices every capacity from the least meeting the target up to 30. Erlang C: the mean
    queue Lq = λ Wq is 5.6 at 22 beds and 1.5 at 24, so two beds more (2 × 365 × £100 = £73,000)
    save about 4.1 × 365 × £400 ≈ £600,000 of waiting: the cheapest capacity lies above the
    least meeting the target. Each candidate's cost is worked by hand from its row of
    evaluations, and the chosen capacity is the cheapest of those meeting the target."""
    costs = bed_day_costs()
    scenario = mmc_beds_scenario(2.0, 21, 10.0, years=1, warmup_days=200, replications=8)
    target = parse_target("p2_wait_days <= 3")
    least, _ = plan(scenario, "beds", target, 0.5, max_capacity=30)
    cheapest, evaluations = plan(scenario, "beds", target, 0.5, objective="cost", costs=costs, max_capacity=30)
    by_hand = evaluations["capacity"] * 365 * 100.0 + evaluations["waiting_bed_days_per_week"] * 365 / 7 * 400.0
    assert evaluations["yearly_cost"].to_numpy() == pytest.approx(by_hand.to_numpy(), rel=1e-12)
    meeting = evaluations[evaluations["probability_target_met"] >= 0.5]
    assert len(meeting) >= 5  # the choice is made among several priced candidates
    chosen, fewest = cheapest.iloc[0]["capacity"], least.iloc[0]["capacity"]
    assert chosen > fewest
    assert meeting.set_index("capacity").loc[chosen, "yearly_cost"] == meeting["yearly_cost"].min()


def test_cost_mode_prices_as_the_benefit_does_with_the_cost_files_overrides():
    """A cost file's `use` (component -> cost item) applies to the plan's yearly cost as it does
    to the benefit: one cost table, one price for an acute bed day waiting. In the synthetic
    table an acute bed day costs £100; an override item of £250 at 2023/24 prices is inflated by
    124.8 / 120 = 1.04 to £260. No places and 7 bed days a week waiting = 365 bed days a year:
    365 × £260 = £94,900 with the override, 365 × £100 = £36,500 without. Places: 10 beds ×
    365 × £400 (funded bed day); 10 reablement places × 365 × £50 (a place-day: £1,000 an episode
    × 0.05 episodes a place-day, 20-day episodes with places always full)."""
    data = cost_table()
    data["costs"]["acute_excess_bed_day"] = cost_item(250.0, 200.0, 300.0, price_year="2023/24")
    plain = costs_from_dict(data)
    data["use"] = {"acute_nr2r_bed_days": "acute_excess_bed_day"}
    overridden = costs_from_dict(data)
    assert overridden.unit_cost("acute_nr2r_bed_days").central == pytest.approx(260)  # as the benefit prices it
    bed_place = place_day_price("funded_capacity_beds", overridden)
    assert _yearly_cost(0, 7.0, overridden, bed_place) == pytest.approx(94_900)
    assert _yearly_cost(0, 7.0, plain, bed_place) == pytest.approx(36_500)
    assert _yearly_cost(10, 0.0, overridden, bed_place) == pytest.approx(1_460_000)
    reablement_place = place_day_price("funded_capacity_reablement", overridden, episodes_a_place_day=0.05)
    assert _yearly_cost(10, 0.0, overridden, reablement_place) == pytest.approx(182_500)


def test_cost_mode_answer_does_not_depend_on_todays_capacity():
    """Candidates are simulated on common random numbers, so a capacity's yearly cost is the same
    whatever today's capacity is, and so must be the cheapest capacity. Starting from 24 beds,
    which already meet "p2_wait_days <= 3" (Erlang C: Wq(24) = 0.75 d), the search must still
    price capacities above 24: a bed more costs 365 × £100 = £36,500 a year, and the waiting it
    saves is bounded by the waiting cost at the least capacity meeting the target."""
    costs = bed_day_costs()
    target = parse_target("p2_wait_days <= 3")
    chosen = {}
    for today in (21, 24):
        scenario = mmc_beds_scenario(2.0, today, 10.0, years=1, warmup_days=200, replications=8)
        found, evaluations = plan(scenario, "beds", target, 0.5, objective="cost", costs=costs, max_capacity=30)
        chosen[today] = found.iloc[0]["capacity"]
        meeting = evaluations[evaluations["probability_target_met"] >= 0.5]
        assert meeting.set_index("capacity").loc[chosen[today], "yearly_cost"] == meeting["yearly_cost"].min()
    assert chosen[24] == chosen[21] > 24
