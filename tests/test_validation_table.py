"""The validation page (sim/outputs/validation.py, scripts/validation.py): verdicts worked by hand
on small made-up results, the anchors file, and one small real run writing the page."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from sim.errors import InputError
from sim.experiment.kpis import KPI_IDS
from sim.inputs.anchors import Anchor, load_anchors
from sim.outputs.validation import (
    MEETS,
    NOT_AVAILABLE,
    NOT_MODELLED,
    OUTSIDE,
    Results,
    RunInfo,
    evaluate,
    evaluate_one,
    fmt,
    render,
)

ROOT = Path(__file__).resolve().parents[1]
ANCHORS = ROOT / "calibration" / "anchors.toml"
T3 = stats.t.ppf(0.975, 3)  # four replications


def anchor(**fields) -> Anchor:
    base = {"id": "x", "figure": "a published figure", "source": "[001]", "kind": "level", "scenarios": ["baseline"]}
    return Anchor.model_validate({**base, **fields})


def frame(rows: dict[tuple[str, str, str], list[float]], unit: str = "days") -> pd.DataFrame:
    """(scenario, kpi, scope) -> one value per replication, as compare's replications table."""
    return pd.DataFrame(
        [(scenario, r, kpi, scope, unit, v) for (scenario, kpi, scope), values in rows.items() for r, v in enumerate(values)],
        columns=["scenario", "replication", "kpi", "scope", "unit", "value"],
    )


@pytest.fixture(scope="module")
def results() -> Results:
    reps = frame({
        ("baseline", "p1_wait_days", "total"): [4, 5, 4, 5],
        ("baseline", "p2_wait_days", "total"): [2, 3, 2, 3],
        ("baseline", "bed_los_days", "total"): [40, 41, 42, 43],
        ("homefirst", "bed_los_days", "total"): [32, 33, 33, 34],
        ("baseline", "nr2r_los_days", "total"): [10, 8, 10, 8],
        ("homefirst", "nr2r_los_days", "total"): [6.5, 5.2, 6.5, 5.2],
        ("baseline", "admissions_per_week", "total"): [500, 510, 505, 495],
        ("homefirst", "admissions_per_week", "total"): [480, 490, 485, 475],
        ("baseline", "people_per_year", "reablement"): [8000, 8000, 8000, 8000],
        ("homefirst", "people_per_year", "reablement"): [8400, 8400, 8400, 8400],
    })
    shares = frame({
        ("baseline", "pathway_share_p2", "total"): [0.05, 0.05, 0.05, 0.05],
        ("homefirst", "pathway_share_p2", "total"): [0.04, 0.055, 0.03, 0.05],  # deltas -0.01, +0.005, -0.02, 0
        ("baseline", "pathway_share_p3", "total"): [0.03, 0.03, 0.03, 0.03],
        ("homefirst", "pathway_share_p3", "total"): [0.02, 0.021, 0.019, 0.02],  # deltas -0.01, -0.009, -0.011, -0.01
        ("baseline", "bed_occupancy", "total"): [0.9, 0.9, 0.9, 0.9],
        ("baseline", "bed_occupancy", "hub_1"): [0.95, 0.96, 0.94, 0.95],
        ("baseline", "bed_occupancy", "hub_2"): [0.75, 0.76, 0.74, 0.75],  # spread 0.20 each replication
        ("baseline", "bed_occupancy", "hub_3"): [0.85, 0.86, 0.84, 0.85],
    }, unit="proportion")
    weekly = pd.DataFrame(
        [("homefirst", r, w, "home_ward_starts_per_week", "total", "people/week", 40 + r + (w == 3) * 20)
         for r in range(4) for w in range(6)],
        columns=["scenario", "replication", "week", "kpi", "scope", "unit", "value"],
    )  # busiest week: 60, 61, 62, 63
    benefit = pd.DataFrame([
        ("homefirst", "acute_nr2r_bed_days", 1e6, 5e6, 9e6, 4),
        ("homefirst", "net", 8e6, 15e6, 22e6, 4),
    ], columns=["scenario", "component", "low", "central", "high", "replications"])
    run_rate = pd.DataFrame([("homefirst", "total", 7e6, 10e6, 12e6)], columns=["scenario", "item", "low", "central", "high"])
    return Results(pd.concat([reps, shares], ignore_index=True), weekly, benefit, run_rate)


def test_level_in_range_meets_with_its_t_interval(results):
    row = evaluate_one(anchor(kpi="p1_wait_days", low=3.0, high=6.5), results)
    half = T3 * np.std([4, 5, 4, 5], ddof=1) / 2
    assert row.verdict == MEETS
    assert row.value == pytest.approx(4.5) and row.replications == 4
    assert (row.low, row.high) == pytest.approx((4.5 - half, 4.5 + half))


def test_level_below_the_range_is_outside_by_the_distance(results):
    row = evaluate_one(anchor(kpi="p2_wait_days", low=5.0, high=11.0), results)
    assert (row.verdict, row.side) == (OUTSIDE, "below")
    assert row.distance == pytest.approx(2.5)  # mean 2.5, target from 5


def test_a_floor_alone_and_a_ceiling_alone():
    reps = frame({("baseline", "p0_same_day_share", "total"): [0.86, 0.87, 0.85, 0.86]}, unit="proportion")
    floor = evaluate_one(anchor(kpi="p0_same_day_share", low=0.84), Results(reps))
    ceiling = evaluate_one(anchor(kpi="p0_same_day_share", high=0.80), Results(reps))
    assert floor.verdict == MEETS
    assert (ceiling.verdict, ceiling.side) == (OUTSIDE, "above")
    assert ceiling.distance == pytest.approx(0.06)


def test_paired_difference_is_taken_within_replications(results):
    row = evaluate_one(anchor(kind="paired_difference", scenarios=["baseline", "homefirst"], kpi="bed_los_days",
                              low=-8.4, high=-8.2), results)
    deltas = np.array([-8, -8, -9, -9])
    half = T3 * deltas.std(ddof=1) / 2
    assert row.value == pytest.approx(-8.5)
    assert (row.low, row.high) == pytest.approx((-8.5 - half, -8.5 + half))
    assert (row.baseline, row.scenario) == pytest.approx((41.5, 33.0))
    assert (row.verdict, row.side) == (OUTSIDE, "below")
    assert row.distance == pytest.approx(0.1)


def test_relative_change_per_replication(results):
    row = evaluate_one(anchor(kind="relative_change", scenarios=["baseline", "homefirst"], kpi="nr2r_los_days",
                              low=-0.38, high=-0.31), results)
    assert row.value == pytest.approx(-0.35)  # 6.5/10 - 1 and 5.2/8 - 1, both -0.35
    assert row.high - row.low == pytest.approx(0, abs=1e-12)
    assert row.verdict == MEETS


def test_scale_turns_a_weekly_change_into_a_yearly_one(results):
    row = evaluate_one(anchor(kind="paired_difference", scenarios=["baseline", "homefirst"], kpi="admissions_per_week",
                              scale="365/7", low=-1256, high=-786), results)
    assert row.value == pytest.approx(-20 * 365 / 7)  # -1,042.9 a year
    assert row.verdict == MEETS


def test_confidence_interval_below_zero_rule(results):
    """The P2-share anchor: met only if the paired interval's upper end is below zero."""
    rule = {"kind": "paired_difference", "scenarios": ["baseline", "homefirst"], "rule": "interval", "high": 0.0}
    mixed = evaluate_one(anchor(kpi="pathway_share_p2", **rule), results)
    deltas = np.array([-0.01, 0.005, -0.02, 0.0])
    upper = deltas.mean() + T3 * deltas.std(ddof=1) / 2
    assert mixed.value < 0  # the mean is below zero ...
    assert (mixed.verdict, mixed.side) == (OUTSIDE, "above")  # ... but the interval is not
    assert mixed.distance == pytest.approx(upper)
    clear = evaluate_one(anchor(kpi="pathway_share_p3", **rule), results)
    assert clear.verdict == MEETS and clear.high < 0


def test_missing_kpi_scope_or_scenario_is_not_available_not_an_error(results):
    pair = {"kind": "paired_difference", "scenarios": ["baseline", "homefirst"], "low": 0}
    cases = [
        anchor(kpi="substitutions_per_week", low=0),  # a KPI the lead will add
        anchor(kpi="people_per_year", scope="locality_north", **pair),  # a scope that does not exist yet
        anchor(kpi="p1_wait_days", scenarios=["winter_surge"], low=0),  # a scenario that was not run
        anchor(kpi="nr2r_patient_share", scope="total", future=True, low=0.1),
    ]
    rows = evaluate(cases, results, KPI_IDS)
    assert [r.verdict for r in rows] == [NOT_AVAILABLE] * 4
    assert "substitutions_per_week" in rows[0].reason and "locality_north" in rows[1].reason
    assert "winter_surge" in rows[2].reason and "future" in rows[3].reason


def test_spread_over_sites_and_busiest_week(results):
    spread = evaluate_one(anchor(kpi="bed_occupancy", scope="*", statistic="spread", high=0.15), results)
    assert spread.value == pytest.approx(0.20)  # hub_1 - hub_2 in every replication; total left out
    assert (spread.verdict, spread.side) == (OUTSIDE, "above") and spread.distance == pytest.approx(0.05)
    week = evaluate_one(anchor(kpi="home_ward_starts_per_week", scenarios=["homefirst"], statistic="max_week",
                               low=50, high=70), results)
    assert week.value == pytest.approx(61.5)  # mean of 60, 61, 62, 63
    assert week.verdict == MEETS


def test_benefit_uses_the_net_row_and_the_run_rate_total(results):
    target = {"kind": "benefit", "scenarios": ["baseline", "homefirst"], "low": 13.8e6, "high": 23.7e6}
    net = evaluate_one(anchor(table="benefit", **target), results)
    assert (net.verdict, net.value, net.low, net.high) == (MEETS, 15e6, 8e6, 22e6)
    rate = evaluate_one(anchor(table="run_rate", **target), results)
    assert (rate.verdict, rate.side) == (OUTSIDE, "below") and rate.distance == pytest.approx(3.8e6)
    assert evaluate_one(anchor(table="benefit", **target), Results(results.replications)).verdict == NOT_AVAILABLE


def test_not_modelled_needs_a_reason_and_is_not_evaluated(results):
    row = evaluate_one(anchor(kind="not_modelled", scenarios=[], note="outside the model"), results)
    assert row.verdict == NOT_MODELLED
    with pytest.raises(ValueError, match="note"):
        anchor(kind="not_modelled", scenarios=[])


def test_page_counts_verdicts_and_writes_differences_of_shares_in_pp(results):
    anchors = [
        anchor(id="A", kpi="p1_wait_days", low=3.0, high=6.5),
        anchor(id="B", kind="paired_difference", scenarios=["baseline", "homefirst"], kpi="pathway_share_p2",
               rule="interval", high=0.0, format="share"),
        anchor(id="C", kpi="substitutions_per_week", low=1),
        anchor(id="D", kind="not_modelled", scenarios=[], note="why not"),
    ]
    info = RunInfo("2026-01-01", "abc123", 4, 7, 1.0, 180, "2025-04-01", ("baseline", "homefirst"))
    page = render(evaluate(anchors, results, KPI_IDS), info)
    assert "**1 meet, 1 outside, 1 not available, 1 not modelled** (4 anchors)" in page
    assert "abc123" in page and "Master seed 7" in page and "replication noise only" in page
    assert "the interval's upper end is" in page and " pp above the target" in page
    for name in "ABCD":
        assert sum(line.startswith(f"| {name} |") for line in page.splitlines()) == 1
    assert fmt(0.165, "share", signed=True, difference=True) == "+16.5 pp"
    assert fmt(-0.259, "percent", signed=True) == "−25.9%"
    assert fmt(13.8e6, "money", trim=True) == "£13.8m"
    assert fmt(-1256, "count", signed=True, unit="admissions/year") == "−1,256 admissions/year"


# ---------------------------------------------------------------------------------------------
# the anchors file


def test_anchors_file_loads_and_names_known_kpis():
    anchors = load_anchors(ANCHORS)
    ids = {a.id for a in anchors}
    assert {f"V{i}" for i in range(1, 19)} <= ids
    assert {"P1_wait", "P2_wait", "P0_same_day", "B_short_stays", "B_site_spread", "HF_p2_share"} <= ids
    for a in anchors:
        if a.modelled and a.kind != "benefit":
            if a.future:
                assert a.kpi not in KPI_IDS, f"{a.id}: KPI {a.kpi} is in the registry now; drop future = true"
            else:
                assert a.kpi in KPI_IDS, f"{a.id}: KPI {a.kpi!r} is not in sim.experiment.kpis; mark it future = true"


def test_bad_anchor_is_one_line_naming_it(tmp_path):
    bad = tmp_path / "anchors.toml"
    bad.write_text('[[anchor]]\nid = "Q"\nfigure = "f"\nsource = "s"\nkind = "level"\nscenarios = ["baseline"]\nkpi = "p1_wait_days"\n')
    with pytest.raises(InputError, match=r"anchor Q.*expected a target"):
        load_anchors(bad)
    bad.write_text(2 * '[[anchor]]\nid = "Q"\nfigure = "f"\nsource = "s"\nkind = "not_modelled"\nnote = "n"\n')
    with pytest.raises(InputError, match="twice"):
        load_anchors(bad)


# ---------------------------------------------------------------------------------------------
# one small real run


def test_script_writes_a_page_with_one_row_per_anchor(tmp_path):
    out = tmp_path / "validation.md"
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "validation.py"), "--replications", "2", "--years", "0.2", "--out", str(out)],
        capture_output=True, text=True, cwd=tmp_path, timeout=300,
    )
    assert done.returncode == 0, done.stderr
    page = out.read_text()
    lines = page.splitlines()
    anchors = load_anchors(ANCHORS)
    for a in anchors:
        rows = [line for line in lines if line.startswith(f"| {a.id} |")]
        assert len(rows) == 1, a.id
        if a.modelled and not a.future:  # every KPI and scope named in the file exists in a real run
            assert "not available" not in rows[0], rows[0]
    assert f"({len(anchors)} anchors)" in page and "each 2 replications" in page
