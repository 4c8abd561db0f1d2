"""Calibration recovers a system it did not generate (issue 13), and one it did.

The extract comes from tests/independent_extract.py, a generator deliberately unlike icsim's
model (plain FIFO servers, referral at ready, no weekday rhythm, gamma and Weibull stays, no
bed exit process): calibration is scored on whether the calibrated model reproduces that
history, KPI by KPI, not on whether it recovers its own assumptions.

Tolerances come from the sample, not fixed percentages. For each KPI the observed history
mean is one realisation: its standard error is estimated from its weekly series, allowing for
autocorrelation (occupancies and moving averages carry over from week to week, so 104 weeks
hold far fewer independent observations). If the calibrated model is right, its mean over R
replications differs from the observed mean by noise of standard error se × √(1 + 1/R) (the
model's history mean varies from run to run as the observed one does). A KPI passes when the
difference is within K of those standard errors plus a small modelling allowance.

The same rule is applied to an extract from icsim's own `synth` (the baseline's plain
structure with 10% more capacity, two years): there calibration must recover a model built
like its own, including the bed exit, the care-home wait in the bed and the weekday rhythm of
discharges that the independent generator lacks.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from helpers import plain, scale_capacity
from independent_extract import KPI_NAMES, write_independent_extract

from sim.calibrate import calibrate
from sim.calibrate.extract import read_extract
from sim.calibrate.observed import OBSERVABLE
from sim.calibrate.synth import synthesize
from sim.inputs.loading import load_scenario

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "scenarios" / "baseline.toml"
SEED = 13
YEARS = 2.0  # ≈ 29,000 spells and 11,000 episodes: calibrate takes ≈ 15 s with 5 replications
REPLICATIONS = 5
# K = 3: under the normal approximation a right model fails a KPI by chance in 0.27% of runs
# (about 4% for the 14 KPIs together); the seed is fixed, so a failure is deterministic. The
# standard error estimate was checked against the generator itself: over 16 seeds the spread
# (sd) of each KPI's history mean was 0.5 to 1.35 times the estimate, so K = 3 estimated
# standard errors is at least ≈ 2.2 true ones.
K = 3
# Modelling allowance on top of the noise: the calibrated model may differ from the generator
# in ways no planner would act on. 3% of a level (≈ 2 of 66 short-term beds, ≈ 8 of 265 acute
# beds, ≈ 0.1 day of NR2R) and 1 percentage point of a share; the calibration gate's own
# thresholds (10%, 2 points) are looser, so this test is the stricter check.
LEVEL_ALLOWANCE = 0.03
SHARE_ALLOWANCE = 0.01
# The KPIs the issue calls headline: demand, NR2R, occupancies, lengths of stay, pathway shares
# and starts. Every other KPI the validation compares (OBSERVABLE: the P1 and P2 waits, the
# short-stay and same-day shares, reablement effectiveness) is checked by the same rule.
HEADLINE = (
    "admissions_per_week", "nr2r_los_days", "acute_beds_occupied", "beds_occupied", "bed_los_days",
    "pathway_share_p0", "pathway_share_p1", "pathway_share_p2", "pathway_share_p3",
    "reablement_starts_per_week", "home_ward_starts_per_week",
)  # fmt: skip
OTHERS = tuple(kpi for kpi, scope in OBSERVABLE if scope == "total" and kpi not in HEADLINE)
# What sets each tolerance (se estimated from the 104 observed weeks; τ = the autocorrelation
# time, values at SEED 13), so 3 × se × √1.2 + allowance:
#   admissions_per_week, home_ward_starts_per_week: counts of ≈ 281 and ≈ 25 a week, close to
#     Poisson and independent week to week (τ ≈ 1.2, 1.1): se 1.9 and 0.39 a week; the 3%
#     allowance (8.4 and 0.75) is as large again;
#   reablement_starts_per_week, reablement_effectiveness_hours: 6- and 8-week moving averages,
#     so neighbouring weeks share data (τ ≈ 4): se 0.52 a week and 0.03 hours;
#   acute_beds_occupied, beds_occupied: time averages of stays of 1-3 weeks and of queues, which
#     carry over from week to week (τ ≈ 3.7, 3.1): se 2.4 and 1.05 beds, allowance 8 and 1.7 beds;
#   nr2r_los_days, bed_los_days: means over ≈ 80 complex discharges and ≈ 18 bed exits a week,
#     weeks nearly independent: se 0.10 and 0.27 days; the allowance is 0.09 and 0.64 days;
#   pathway shares, bed_short_stay_share: binomial shares of ≈ 270 discharges and ≈ 18 bed exits
#     a week: se 0.1-0.3 and 1 percentage point; the 1-point allowance dominates the first;
#   p0_same_day_share: 1 in every week (P0 leave the moment they are ready), se 0: the 1-point
#     allowance alone.


def standard_error_of_mean(weekly: np.ndarray) -> float:
    """Standard error of the mean of an autocorrelated series: sd × √(τ / n), τ the integrated
    autocorrelation time 1 + 2 Σ ρ_k, summed by Geyer's initial positive sequence (pairs
    ρ_2m + ρ_2m+1 while they stay positive), the standard estimator for MCMC output. τ is at
    least 1: never narrower than the independent-weeks standard error."""
    x = np.asarray(weekly, dtype=float)
    x = x[np.isfinite(x)]
    n = len(x)
    d = x - x.mean()
    variance = float(d @ d) / n
    if n < 4 or variance == 0:
        return 0.0
    rho = [float(d[: n - k] @ d[k:]) / n / variance for k in range(n)]
    tau = -1.0
    for m in range(n // 2):
        pair = rho[2 * m] + rho[2 * m + 1]
        if pair <= 0:
            break
        tau += 2 * pair
    return math.sqrt(variance * max(tau, 1.0) / n)


@dataclass
class History:
    folder: Path
    generated: dict = field(repr=False)  # write_independent_extract's answer: truth, true KPIs, rows
    table: pd.DataFrame = field(repr=False)  # validation.csv, scope total, by kpi
    weekly: pd.DataFrame = field(repr=False)  # validation_weekly.csv, scope total


def _calibrated(folder: Path, generated: dict) -> History:
    """Calibrate the extract in `folder` on the baseline and read its validation (scope total)."""
    out = folder.parent / "calibration"
    calibrate(folder, out, BASELINE, replications=REPLICATIONS, workers=1)
    table = pd.read_csv(out / "validation.csv")
    weekly = pd.read_csv(out / "validation_weekly.csv")
    return History(folder, generated, table[table["scope"] == "total"].set_index("kpi"), weekly[weekly["scope"] == "total"])


@pytest.fixture(scope="module")
def history(tmp_path_factory) -> History:
    folder = tmp_path_factory.mktemp("independent") / "extract"
    return _calibrated(folder, write_independent_extract(folder, seed=SEED, years=YEARS))


@pytest.fixture(scope="module")
def own_history(tmp_path_factory) -> History:
    truth = scale_capacity(plain(load_scenario(BASELINE)), 1.1)
    return _calibrated(synthesize(truth, years=YEARS, seed=SEED, out=tmp_path_factory.mktemp("own") / "extract"), {})


def _tolerance(kpi: str, table: pd.DataFrame, weekly: pd.DataFrame) -> tuple[float, float]:
    """(tolerance, se of the observed history mean) for one KPI (module docstring)."""
    row = table.loc[kpi]
    se = standard_error_of_mean(weekly.loc[weekly["kpi"] == kpi, "observed"].to_numpy())
    allowance = SHARE_ALLOWANCE if row["unit"] == "proportion" else LEVEL_ALLOWANCE * abs(row["observed_mean"])
    return K * se * math.sqrt(1 + 1 / REPLICATIONS) + allowance, se


def test_the_extract_keeps_to_the_data_contract(history):
    """Every row of the independent extract is usable: no rule drops, excludes or corrects one
    (a bed referral still waiting at the extract date has no site yet: kept, as the contract says)."""
    generated = history.generated
    extract = read_extract(history.folder, generated["extract_date"])
    quality = extract.quality
    touched = quality[(quality["rows_broken"] > 0) & (quality["action"] != "kept")]
    assert touched.empty, touched[["file", "rule", "rows_broken", "action"]].to_string()
    assert len(extract.spells) == generated["rows"]["spells"]
    assert len(extract.episodes) == generated["rows"]["ic_episodes"]


@pytest.mark.parametrize("kpi", [k for k in HEADLINE + OTHERS if k in KPI_NAMES])
def test_observed_kpis_match_the_generators_own_log(history, kpi):
    """icsim's observed KPIs (from the extract) against the generator's own (from its event
    log, pooled over the history's full weeks). They differ only in how weeks are pooled (a
    mean of weekly ratios; moving averages start once their window is full) and in timestamps
    rounded to the second: well within one standard error of the history mean."""
    _, se = _tolerance(kpi, history.table, history.weekly)
    observed, truth = history.table.loc[kpi, "observed_mean"], history.generated["kpis"][kpi]
    assert abs(observed - truth) <= se + 1e-9 * abs(truth), f"{kpi}: extract {observed:.4g}, generator's log {truth:.4g}, se {se:.3g}"


def _assert_reproduced(history: History, kpi: str) -> None:
    table = history.table
    assert kpi in table.index, f"{kpi}: no row in validation.csv"
    tolerance, se = _tolerance(kpi, table, history.weekly)
    row = table.loc[kpi]
    difference = row["simulated_mean"] - row["observed_mean"]
    assert abs(difference) <= tolerance, (
        f"{kpi}: observed {row['observed_mean']:.4g}, simulated {row['simulated_mean']:.4g} "
        f"(difference {difference:+.3g}; tolerance {tolerance:.3g} = {K} × se {se:.3g} × √(1 + 1/{REPLICATIONS}) + allowance); "
        f"weeks in the 95% band {row['share_weeks_in_95_band']:.0%}"
    )


@pytest.mark.parametrize("kpi", HEADLINE + OTHERS)
def test_the_calibrated_model_reproduces_the_history(history, kpi):
    _assert_reproduced(history, kpi)


@pytest.mark.parametrize("kpi", HEADLINE + OTHERS)
def test_calibrating_icsims_own_extract_reproduces_it(own_history, kpi):
    _assert_reproduced(own_history, kpi)
