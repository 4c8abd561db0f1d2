"""The calibration's validation gate: a calibration that does not reproduce its history says
so in its banner, in params.toml and quality.md, and under --strict in its exit code; one
that does passes quietly."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from helpers import plain, scale_capacity
from typer.testing import CliRunner

import sim.calibrate as calibration
from sim.calibrate import calibrate
from sim.calibrate.synth import synthesize
from sim.calibrate.validate import FAILS, OUTSIDE, WITHIN, verdict
from sim.cli import app
from sim.experiment.stats import prediction_interval
from sim.inputs.loading import load_scenario

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "scenarios" / "baseline.toml"


def test_prediction_interval_hand_worked():
    # values 1, 2, 3: mean 2, sd 1, t(0.975, 2 df) = 4.302653; half-width 4.302653 × √(1 + 1/3)
    low, high = prediction_interval(np.array([1.0, 2.0, 3.0]))
    assert (low, high) == pytest.approx((2 - 4.302653 * math.sqrt(4 / 3), 2 + 4.302653 * math.sqrt(4 / 3)), abs=1e-6)
    assert all(math.isnan(v) for v in prediction_interval(np.array([5.0])))


@pytest.mark.parametrize("observed, simulated, unit, expected", [
    (100.0, 101.0, "beds", WITHIN),        # inside the interval 95-105
    (100.0, 108.0, "beds", OUTSIDE),       # outside 103-113, but 8% off is under the 10% tolerance
    (100.0, 120.0, "beds", FAILS),         # outside and 20% off
    (0.30, 0.31, "proportion", OUTSIDE),   # 1 percentage point: within the 2 pp tolerance
    (0.30, 0.33, "proportion", FAILS),     # 3 pp
])  # fmt: skip
def test_verdict(observed, simulated, unit, expected):
    # the interval is the simulated mean ± 5% (beds) or ± 0.5 pp (shares)
    half = 0.005 if unit == "proportion" else 5.0
    assert verdict(observed, simulated, simulated - half, simulated + half, unit) == expected


@pytest.fixture(scope="module")
def plain_extract(tmp_path_factory):
    # the baseline's plain structure with 10% more capacity (as test_calibrate's history)
    truth = scale_capacity(plain(load_scenario(BASELINE)), 1.1)
    return synthesize(truth, years=1, seed=8, out=tmp_path_factory.mktemp("gate") / "extract")


def test_a_calibration_that_reproduces_its_history_passes(plain_extract, tmp_path):
    out = calibrate(plain_extract, tmp_path / "cal", BASELINE, replications=4)
    table = pd.read_csv(out / "validation.csv")
    assert (table["verdict"] != FAILS).all(), table.loc[table["verdict"] == FAILS, ["kpi", "observed_mean", "simulated_mean"]]
    assert not (out / "params.toml").read_text().startswith("# WARNING")
    assert "Every compared KPI passes the gate." in (out / "quality.md").read_text()


def test_a_calibration_that_does_not_says_so_everywhere(plain_extract, tmp_path, monkeypatch):
    """Arrivals fitted at twice their rate cannot reproduce the admissions: the banner, the
    params.toml header and quality.md name the KPI; --strict exits with 3, otherwise 0."""
    fit = calibration.fit_scenario

    def doubled(*args, **kwargs):
        fitted = fit(*args, **kwargs)
        fitted.data["arrivals"]["rate_per_day"] *= 2
        return fitted

    monkeypatch.setattr(calibration, "fit_scenario", doubled)
    runner = CliRunner()
    strict = runner.invoke(app, ["calibrate", str(plain_extract), "--out", str(tmp_path / "a"), "-n", "2", "--strict"])
    assert strict.exit_code == 3, strict.output
    assert "admissions_per_week" in strict.output and "calibration gate" in strict.output
    header = (tmp_path / "a" / "params.toml").read_text().splitlines()[:3]
    assert header[0].startswith("# WARNING") and any("admissions_per_week" in line for line in header)
    rows = [line for line in (tmp_path / "a" / "quality.md").read_text().splitlines() if line.startswith("| admissions_per_week")]
    assert rows and rows[0].rstrip(" |").endswith(FAILS)
    lenient = runner.invoke(app, ["calibrate", str(plain_extract), "--out", str(tmp_path / "b"), "-n", "2"])
    assert lenient.exit_code == 0 and "admissions_per_week" in lenient.output
