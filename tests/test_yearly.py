"""KPIs per reporting year (yearly.csv) and their fan across replications (issue 6).

Reporting years are 365-day blocks from the end of warm-up; a year's value is the KPI's
numerator and denominator summed over the block (sim.experiment.kpis.yearly_kpis), and the fan is the mean
and the 2.5/10/50/90/97.5 percentiles across replications (sim.experiment.stats.fan).
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from helpers import baseline, modify, scale_capacity
from scipy import stats

from sim import simulate
from sim.experiment.kpis import (
    KPI_BY_ID,
    replication_kpis,
    reporting_years,
    yearly_kpis,
)
from sim.experiment.runner import run
from sim.experiment.stats import FAN_COLUMNS, fan
from sim.outputs.charts import fan_chart, fan_grid
from sim.outputs.folders import finish_run_folder, manifest, start_run_folder

REPO = Path(__file__).resolve().parents[1]
ICSIM = Path(sys.executable).parent / "icsim"
YEARLY_COLUMNS = ["kpi", "scope", "unit", "year", "mean", "p2_5", "p10", "p50", "p90", "p97_5"]
WARMUP = 28  # short: these checks are exact identities, not steady-state estimates


def _by_key(frame: pd.DataFrame) -> dict[tuple[str, str], float]:
    return {(row.kpi, row.scope): float(row.value) for row in frame.itertuples()}


def _same(a: float, b: float, rel: float = 0.0) -> bool:
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return a == b if rel == 0.0 else math.isclose(a, b, rel_tol=rel, abs_tol=rel)


# -- reporting years -------------------------------------------------------------------------


def test_reporting_years_are_365_day_blocks_from_the_end_of_warm_up():
    s = baseline().with_run(warmup_days=100, years=(3 * 365 + 28) / 365)  # 3 years and 28 days
    assert s.run.start_date.year == 2025  # baseline starts 2025-04-01 (financial year 2025/26)
    assert reporting_years(s) == [
        (2025, 100, 465), (2026, 465, 830), (2027, 830, 1195), (2028, 1195, 1223),
    ]
    shorter = s.with_run(years=(3 * 365 + 27) / 365)  # the 27-day remainder is not reported
    assert [block[0] for block in reporting_years(shorter)] == [2025, 2026, 2027]
    assert reporting_years(s.with_run(years=20 / 365)) == []  # less than 28 days in all
    assert reporting_years(s.with_run(years=60 / 365)) == [(2025, 100, 160)]


# -- one replication: yearly values against the summary and against hand sums -------------


@pytest.fixture(scope="module")
def one_year():
    s = baseline().with_run(years=1.0, warmup_days=WARMUP)
    return s, simulate(s, 0, s.run.seed)


@pytest.fixture(scope="module")
def three_years():
    s = baseline().with_run(years=3.0, warmup_days=WARMUP)
    return s, simulate(s, 0, s.run.seed)


def test_one_year_run_yearly_value_equals_summary_value(one_year):
    s, out = one_year
    summary, _ = replication_kpis(out.daily, s, 0)
    yearly = yearly_kpis(out.daily, s, 0)
    assert list(yearly.columns) == ["replication", "year", "kpi", "scope", "unit", "value"]
    assert set(yearly["year"]) == {2025} and set(yearly["replication"]) == {0}
    assert len(yearly) == len(summary)
    assert (yearly["unit"] == yearly["kpi"].map(lambda k: KPI_BY_ID[k].unit)).all()
    whole, per_year = _by_key(summary), _by_key(yearly)
    assert per_year.keys() == whole.keys()
    different = {key: (per_year[key], whole[key]) for key in whole if not _same(per_year[key], whole[key])}
    assert different == {}
    assert not math.isnan(per_year[("admissions_per_week", "total")])


# KPIs whose denominator is a length of time (days, weeks, years): over equal blocks the
# whole-period value is the mean of the blocks' values.
ADDITIVE = (
    "admissions_per_week", "readmissions_per_week", "reablement_starts_per_week", "admissions_avoided_per_week",
    "delayed_bed_days_per_week", "p1_queue", "p2_queue", "beds_occupied", "acute_beds_occupied",
    "permanent_care_admissions_per_year", "people_per_year", "homecare_package_hours_per_year",
)


def test_three_year_run_additive_kpis_average_to_the_whole_period(three_years):
    s, out = three_years
    summary, _ = replication_kpis(out.daily, s, 0)
    yearly = yearly_kpis(out.daily, s, 0)
    assert sorted(set(yearly["year"])) == [2025, 2026, 2027]
    whole = _by_key(summary)
    checked = 0
    for (kpi, scope), group in yearly[yearly["kpi"].isin(ADDITIVE)].groupby(["kpi", "scope"]):
        assert len(group) == 3
        assert _same(group["value"].mean(), whole[(kpi, scope)], rel=1e-12), (kpi, scope)
        checked += 1
    assert checked >= 30  # every scope of every additive KPI


def test_three_year_run_ratio_kpis_equal_hand_sums_of_one_year(three_years):
    """The second reporting year (2026) from the daily accumulators, summed by hand."""
    s, out = three_years
    start, end = WARMUP + 365, WARMUP + 730
    value = _by_key(yearly_kpis(out.daily, s, 0).query("year == 2026"))

    def total(series: str, scope: str = "total") -> float:
        return float(out.daily[(series, scope)][start:end].sum())

    sites = list(s.beds.sites)
    teams = list(s.localities)
    expected = {
        ("p1_wait_days", "total"): total("reablement.wait_days", "hospital") / total("reablement.starts", "hospital"),
        ("p2_wait_days", "total"): total("beds.wait_days", "hospital") / total("beds.starts", "hospital"),
        ("bed_los_days", "total"): total("beds.los_days") / total("beds.discharges"),
        ("bed_occupancy", "total"): sum(total("beds.occupied", x) for x in sites)
        / sum(total("beds.capacity", x) for x in sites),
        ("bed_occupancy", sites[0]): total("beds.occupied", sites[0]) / total("beds.capacity", sites[0]),
        ("pathway_share_p1", "total"): total("hospital.discharges", "p1")
        / sum(total("hospital.discharges", p) for p in ("p0", "p1", "p2", "p3")),
        ("reablement_occupancy", "total"): sum(total("reablement.occupied", t) for t in teams)
        / sum(total("reablement.capacity", t) for t in teams),
        ("admissions_per_week", "total"): total("hospital.admissions") / (365 / 7),
        # a full reporting year: people counted once in the year, per year of 365 days = the count
        ("people_per_year", "admitted"): total("people", "admitted"),
    }
    for key, want in expected.items():
        assert value[key] == pytest.approx(want, rel=1e-12), key
    # distinct people admitted in a year: a whole number, and no more than the admissions
    admitted = value[("people_per_year", "admitted")]
    assert abs(admitted - round(admitted)) < 1e-9 and 0 < admitted <= total("hospital.admissions")


# -- the fan across replications --------------------------------------------------------------


def test_fan_percentiles_on_a_hand_made_frame():
    """numpy's linear percentile of n sorted values x_0..x_{n-1}: position p/100 × (n - 1).

    Values 1..5 (n = 5): P2.5 at 0.1 → 1.1, P10 at 0.4 → 1.4, P50 at 2 → 3, P90 at 3.6 → 4.6,
    P97.5 at 3.9 → 4.9; mean 3. Values 10, NaN, 30: NaN is dropped (n = 2), so position
    p/100 and P2.5 = 10.5, P10 = 12, P50 = 20, P90 = 28, P97.5 = 29.5; mean 20. All NaN: NaN.
    """
    rows = [(r, 2025, "a_kpi", "total", "days", float(r + 1)) for r in range(5)]
    rows += [(r, 2026, "a_kpi", "total", "days", v) for r, v in enumerate((10.0, float("nan"), 30.0))]
    rows += [(r, 2025, "b_kpi", "x", "people", float("nan")) for r in range(2)]
    frame = pd.DataFrame(rows, columns=["replication", "year", "kpi", "scope", "unit", "value"])
    table = fan(frame)
    assert list(table.columns) == YEARLY_COLUMNS == FAN_COLUMNS
    assert [tuple(x) for x in table[["kpi", "scope", "unit", "year"]].itertuples(index=False)] == [
        ("a_kpi", "total", "days", 2025), ("a_kpi", "total", "days", 2026), ("b_kpi", "x", "people", 2025),
    ]
    stats_ = table[["mean", "p2_5", "p10", "p50", "p90", "p97_5"]].to_numpy()
    np.testing.assert_allclose(stats_[0], [3.0, 1.1, 1.4, 3.0, 4.6, 4.9], rtol=1e-12)
    np.testing.assert_allclose(stats_[1], [20.0, 10.5, 12.0, 20.0, 28.0, 29.5], rtol=1e-12)
    assert np.isnan(stats_[2]).all()


def test_fan_chart_draws_both_bands_the_median_and_the_mean():
    rows = [(r, y, "p1_wait_days", "total", "days", float(r + y - 2024)) for r in range(5) for y in (2025, 2026, 2027)]
    table = fan(pd.DataFrame(rows, columns=["replication", "year", "kpi", "scope", "unit", "value"]))
    ax = fan_chart(table, "p1_wait_days")
    assert "p1_wait_days" in ax.get_title() and ax.get_ylabel() == "days"
    assert len(ax.collections) == 2  # P2.5–P97.5 and P10–P90 bands
    median, mean = ax.get_lines()
    np.testing.assert_allclose(median.get_xdata(), [2025, 2026, 2027])
    # year 2025 + k holds the values 1 + k .. 5 + k: median = mean = 3 + k
    np.testing.assert_allclose(median.get_ydata(), [3.0, 4.0, 5.0])
    np.testing.assert_allclose(mean.get_ydata(), [3.0, 4.0, 5.0])
    outer = ax.collections[0].get_paths()[0].vertices[:, 1]  # the outer band: P2.5 of 2025 to P97.5 of 2027
    assert outer.min() == pytest.approx(1.1) and outer.max() == pytest.approx(4.9 + 2)
    figure = fan_grid(table, ["p1_wait_days", ("bed_occupancy", "total")])
    assert len([a for a in figure.axes if a.axison]) == 1  # bed_occupancy has no rows: an empty panel
    with pytest.raises(ValueError, match="unknown KPI"):
        fan_grid(table, ["no_such_kpi"])


def test_yearly_is_the_same_serial_pooled_and_from_saved_replications(tmp_path):
    s = baseline().with_run(years=0.2, warmup_days=WARMUP)  # one part-year of 73 days
    serial = run(s, replications=3, workers=1, store=tmp_path)
    pooled = run(s, replications=3, workers=2)
    again = run(s, replications=3, store=tmp_path, on_replication=lambda r: pytest.fail(f"recomputed {r}"))
    text = serial.yearly.to_csv(index=False)
    assert text == pooled.yearly.to_csv(index=False) == again.yearly.to_csv(index=False)
    assert serial.yearly_replications.to_csv(index=False) == pooled.yearly_replications.to_csv(index=False)
    assert set(serial.yearly["year"]) == {2025}
    assert sorted(set(serial.yearly_replications["replication"])) == [0, 1, 2]


# -- long runs without growth are stable -----------------------------------------------------

STABLE_REPLICATIONS = 4


@pytest.fixture(scope="module")
def ten_stable_years():
    s = modify(baseline(), {"arrivals.annual_growth": 0.0, "run.years": 10.0})
    s = scale_capacity(s, 1.15)  # reablement and every bed site +15%: queues do not build up
    return run(s, replications=STABLE_REPLICATIONS, workers=2)


def _year_means(result, kpi: str, scope: str = "total") -> tuple[np.ndarray, np.ndarray]:
    rows = result.yearly_replications.query("kpi == @kpi and scope == @scope")
    table = rows.pivot(index="year", columns="replication", values="value")
    return table.index.to_numpy(dtype=float), table.to_numpy(dtype=float)


@pytest.mark.parametrize("kpi", ["admissions_per_week", "bed_occupancy"])
def test_zero_growth_ten_year_run_has_no_trend(ten_stable_years, kpi):
    """With zero growth, a 10-year run's yearly KPIs are statistically stable: the least-squares
    slope of the ten yearly means (over replications) against year has a 99% t confidence
    interval (8 degrees of freedom) containing 0. Each year covers a whole seasonal cycle, so
    seasonality does not make a trend; 99% rather than 95% because two KPIs are tested."""
    years, values = _year_means(ten_stable_years, kpi)
    assert len(years) == 10 and values.shape[1] == STABLE_REPLICATIONS and np.isfinite(values).all()
    fit = stats.linregress(years, values.mean(axis=1))
    half = stats.t.ppf(0.995, len(years) - 2) * fit.stderr
    assert fit.slope - half <= 0 <= fit.slope + half, (kpi, fit.slope, half)


def test_zero_growth_ten_year_run_admissions_each_year_near_the_overall_mean(ten_stable_years):
    """Every year's mean admissions per week is within 4 standard errors of the overall mean.

    Tolerance from the arrival process: a replication's admissions in a year are close to a
    Poisson count (Poisson arrivals thinned by diversion), so with m admissions a week the
    yearly count N = m × 365/7 has SD ≈ √N; readmissions cluster admissions, allowed for by
    inflating the SD by 1.5. The mean of R replications then has SD 1.5 × √N / (365/7) / √R per
    week, and a year's deviation from the 10-year mean slightly less (× √(1 - 1/10)). Four SDs
    make a false alarm among the ten years improbable (10 × P(|Z| > 4) < 1e-3)."""
    _, values = _year_means(ten_stable_years, "admissions_per_week")
    means = values.mean(axis=1)
    overall = means.mean()
    weeks = 365 / 7
    tolerance = 4 * 1.5 * math.sqrt(overall * weeks) / weeks / math.sqrt(STABLE_REPLICATIONS)
    assert tolerance < 0.02 * overall  # the check is tight: about 1.5% of ~580 admissions a week
    assert np.abs(means - overall).max() <= tolerance, (means, overall, tolerance)


def test_zero_growth_ten_year_run_bed_occupancy_each_year_near_the_overall_mean(ten_stable_years):
    """Every year's mean bed occupancy is within 4 standard errors of the overall mean.

    Occupancy is autocorrelated within a year (stays last weeks), so the SE is estimated from
    the spread between replications of the same year: the pooled within-year SD s (10 years ×
    (R - 1) = 30 degrees of freedom) gives the SE of a year's mean, s / √R. Independent
    replications make this SE unbiased whatever the autocorrelation, and a drift between years
    (what the test looks for) does not inflate it.

    So that a noisy s cannot make the check vacuous, s must stay below the noise of an
    unconstrained bed pool (M/G/∞, where the time average over T days of an occupancy with mean
    L and stays S has variance λ E[S²] / T, λ = L / E[S]); with stays of coefficient of variation
    at most 1 (E[S²] ≤ 2 E[S]²) that is at most √(2 L E[S] / 365) beds, or that ÷ funded beds
    as a proportion. A capacity-limited pool with short queues varies less than that."""
    _, values = _year_means(ten_stable_years, "bed_occupancy")
    means = values.mean(axis=1)
    overall = means.mean()
    pooled_sd = math.sqrt(values.var(axis=1, ddof=1).mean())
    summary = ten_stable_years.summary.set_index(["kpi", "scope"])["mean"]
    occupied, stay = summary[("beds_occupied", "total")], summary[("bed_los_days", "total")]
    funded = summary[("capacity_funded", "beds")]
    assert 0 < pooled_sd <= math.sqrt(2 * occupied * stay / 365) / funded, (pooled_sd, occupied, stay, funded)
    tolerance = 4 * pooled_sd / math.sqrt(STABLE_REPLICATIONS)
    assert np.abs(means - overall).max() <= tolerance, (means, overall, tolerance)


# -- the run folder --------------------------------------------------------------------------


def test_cli_run_of_two_years_writes_yearly_csv_and_fan_png(tmp_path):
    out = tmp_path / "run"
    done = subprocess.run(
        [str(ICSIM), "run", "scenarios/baseline.toml", "--years", "2", "--replications", "2", "--out", str(out), "--quiet"],
        cwd=REPO, capture_output=True, text=True, timeout=300, check=False,
    )
    assert done.returncode == 0, done.stderr
    files = {p.name for p in out.iterdir()}
    assert files == {"manifest.json", "summary.csv", "replications.csv", "weekly.csv", "yearly.csv", "fan.png"}
    assert set(json.loads((out / "manifest.json").read_text())["files"]) == files
    yearly = pd.read_csv(out / "yearly.csv")
    assert list(yearly.columns) == YEARLY_COLUMNS
    assert sorted(set(yearly["year"])) == [2025, 2026]
    assert not yearly.duplicated(["kpi", "scope", "year"]).any()
    assert set(yearly["kpi"]) == set(KPI_BY_ID)
    assert (yearly["unit"] == yearly["kpi"].map(lambda k: KPI_BY_ID[k].unit)).all()
    finite = yearly.dropna(subset=["mean"])
    assert (finite["p2_5"] <= finite["p10"]).all() and (finite["p10"] <= finite["p50"]).all()
    assert (finite["p50"] <= finite["p90"]).all() and (finite["p90"] <= finite["p97_5"]).all()
    png = (out / "fan.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 20_000  # a real image, not a stub


def test_run_folder_of_less_than_two_years_has_yearly_csv_but_no_fan(tmp_path):
    s = baseline().with_run(years=0.25, warmup_days=WARMUP)
    out = tmp_path / "run"
    store = start_run_folder(out, {"scenario": s.model_dump(mode="json")})
    result = run(s, replications=2, store=store)
    finish_run_folder(result, out, manifest(result, None, ["test"], 1.0))
    files = {p.name for p in out.iterdir()}
    assert files == {"manifest.json", "summary.csv", "replications.csv", "weekly.csv", "yearly.csv"}
    assert set(json.loads((out / "manifest.json").read_text())["files"]) == files
    yearly = pd.read_csv(out / "yearly.csv")
    assert list(yearly.columns) == YEARLY_COLUMNS
    assert set(yearly["year"]) == {2025}
    # the single (part-)year is the whole period: its mean equals summary.csv's mean
    summary = pd.read_csv(out / "summary.csv")
    merged = yearly.merge(summary, on=["kpi", "scope", "unit"], suffixes=("", "_summary"))
    assert len(merged) == len(summary)
    np.testing.assert_allclose(merged["mean"], merged["mean_summary"], rtol=1e-12, equal_nan=True)
