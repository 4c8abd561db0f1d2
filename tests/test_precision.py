"""Replications chosen by precision (--precision): the batching rule on hand-worked cases, and on
real runs the promise that N replications found this way are exactly `--replications N`."""

from __future__ import annotations

import math
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from sim import workflows
from sim.errors import InputError
from sim.experiment.precision import headline_widths, relative_widths, until_precise
from sim.experiment.stats import t_interval
from sim.inputs.loading import load_scenario


def short(name: str):
    """A library scenario with a short warm-up and year: the batching, not the flow, is under test."""
    return load_scenario(name).with_run(warmup_days=20, years=0.08)


def shrinking(scale: float, calls: list[int]):
    """A stand-in simulation whose one figure's relative half-width is scale / √n, as a CI's is."""

    def simulate(n: int) -> int:
        calls.append(n)
        return n

    return simulate, lambda n: pd.Series({"figure": scale / math.sqrt(n)})


def test_stops_at_the_first_look_within_the_target_and_not_far_past_what_is_needed():
    calls: list[int] = []
    simulate, widths = shrinking(0.2, calls)
    n, done = until_precise(simulate, widths, target=0.02, cap=10_000)
    needed = math.ceil((0.2 / 0.02) ** 2)  # 0.2/√n <= 0.02 from n = 100
    assert done.reached and n == calls[-1] == done.replications
    assert 0.2 / math.sqrt(n) <= 0.02
    assert n <= math.ceil(needed * 1.1) + 2  # aimed at most 10% past the need
    assert all(0.2 / math.sqrt(k) > 0.02 for k in calls[:-1])  # every earlier look was short of it
    assert calls == sorted(set(calls))  # never looks twice at the same size or goes back


def test_stops_at_the_cap_and_says_so():
    calls: list[int] = []
    simulate, widths = shrinking(1.0, calls)
    n, done = until_precise(simulate, widths, target=0.01, cap=50)  # would need 10,000
    assert n == 50 and calls[-1] == 50 and not done.reached
    assert "not reached by the cap of 50" in done.sentence()


def test_a_figure_with_a_zero_mean_is_not_judged_but_named():
    shares = relative_widths(["a", "b", "c"], [10.0, 0.0, np.nan], [9.0, -1.0, np.nan], [11.0, 1.0, np.nan])
    assert shares["a"] == pytest.approx(0.1) and np.isnan(shares["b"]) and np.isnan(shares["c"])
    _, done = until_precise(lambda n: n, lambda n: shares, target=0.2, cap=20)
    assert done.reached and done.skipped == ["b", "c"] and "not judged" in done.sentence()


@pytest.mark.parametrize("target, cap", [(0.0, 100), (1.0, 100), (-0.1, 100), (0.02, 1)])
def test_impossible_settings_are_refused(target, cap):
    with pytest.raises(InputError):
        until_precise(lambda n: n, lambda n: pd.Series({"x": 0.0}), target, cap)


def test_a_precision_run_equals_the_plain_run_of_as_many_replications():
    """The batches continue the same replications, so the result is --replications N exactly."""
    found = workflows.run(short("baseline"), precision=0.04, replications=16, workers=2)
    n = found.precision.replications
    assert 10 < n <= 16, found.precision.as_dict()  # a first batch of 10 was not enough for ±4%
    plain = workflows.run(short("baseline"), replications=n, workers=1)
    pd.testing.assert_frame_equal(found.result.replications, plain.result.replications)
    assert found.result.scenario.run.replications == n
    widths = headline_widths(found.result.summary)
    if found.precision.reached:  # the stated precision is the summary's own
        assert widths.max() <= 0.04
    assert widths.max() == pytest.approx(found.precision.looks[-1].relative_half_width)
    # the half-width is the t-interval's, recomputed here from the replications
    one = found.result.replications
    values = one[(one["kpi"] == found.precision.looks[-1].widest) & (one["scope"] == "total")]["value"].to_numpy()
    mean, low, high = t_interval(values)
    assert (high - low) / 2 / abs(mean) == pytest.approx(found.precision.looks[-1].relative_half_width)


def test_a_precision_compare_records_it_and_pairs_as_many_replications(tmp_path):
    outcome = workflows.compare(short("baseline"), [short("beds_plus_12")], precision=0.5, replications=20, out=tmp_path / "c")
    n = outcome.precision.replications
    plain = workflows.compare(short("baseline"), [short("beds_plus_12")], replications=n)
    pd.testing.assert_frame_equal(outcome.tables["kpi_deltas"], plain.tables["kpi_deltas"])
    manifest = (tmp_path / "c" / "manifest.json").read_text()
    assert '"precision"' in manifest and f'"replications": {n},' in manifest
    assert outcome.comparison.baseline.scenario.run.replications == n


@pytest.mark.parametrize("args, expected", [
    (["run", "baseline", "--precision", "0"], "--precision = 0.0"),
    (["compare", "baseline", "homefirst", "--precision", "2"], "--precision = 2.0"),
    (["run", "--resume", "nowhere", "--precision", "0.1"], "--resume: give only the run folder"),
])
def test_bad_precision_settings_get_one_line_and_exit_2(tmp_path, args, expected):
    done = subprocess.run([sys.executable, "-m", "sim", *args], capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert done.returncode == 2 and expected in done.stderr, done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and not list(tmp_path.iterdir())


def test_an_interrupted_precision_run_resumes_its_batches(tmp_path):
    out = tmp_path / "run"
    seen = []

    def stop_after_twelve(replication: int) -> None:
        seen.append(replication)
        if len(seen) == 12:
            raise KeyboardInterrupt

    with pytest.raises(workflows.RunInterrupted):
        workflows.run(short("baseline"), precision=0.04, replications=16, out=out, on_replication=stop_after_twelve)
    resumed = workflows.run(resume=out)
    assert resumed.precision is not None and resumed.resumed >= 10
    plain = workflows.run(short("baseline"), replications=resumed.precision.replications)
    pd.testing.assert_frame_equal(resumed.result.replications, plain.result.replications)
