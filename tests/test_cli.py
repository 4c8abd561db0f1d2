"""The `icsim` command, run as a user runs it: a subprocess of the installed console script.

Each `icsim` start costs about 2 s of imports, so the independent invocations are launched
together once per module (three at a time) and the tests then inspect their results.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import math
import os
import re
import subprocess
import sys
import time
import tomllib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from sim.experiment.kpis import KPI_IDS
from sim.experiment.runner import run
from sim.inputs.loading import load_scenario
from sim.inputs.scenario import Scenario
from sim.outputs.display import money

REPO = Path(__file__).resolve().parents[1]
ICSIM = Path(sys.executable).parent / "icsim"
BASELINE = "scenarios/baseline.toml"
SUMMARY_COLUMNS = ["kpi", "scope", "unit", "mean", "ci95_low", "ci95_high", "p10", "p90", "replications"]
RUN_FILES = {"manifest.json", "summary.csv", "replications.csv", "weekly.csv", "yearly.csv"}  # no fan.png: < 2 years
REPLICATIONS, YEARS = 3, 0.25

# Bad scenario files in tests/data and what the error line must name (besides the file).
# (tests/test_scenario.py covers every kind of bad input through load_scenario; these check
# that the command turns them into one line and exit code 2.)
BAD_FILES = {
    "bad_unknown_key": ["run.sead", "unknown key"],
    "bad_shares": ["front_door.diversion", "0.99"],
    "bad_family": ["home_ward.los", "normal"],
    "circular_a": ["circular"],
}


def icsim(*args) -> tuple[subprocess.CompletedProcess, float]:
    # A narrow terminal: an error line must stay one line however wide the terminal is.
    env = {**os.environ, "COLUMNS": "60"}
    started = time.perf_counter()
    done = subprocess.run(
        [str(ICSIM), *map(str, args)], cwd=REPO, capture_output=True, text=True, timeout=300, env=env
    )
    return done, time.perf_counter() - started


@pytest.fixture(scope="module")
def out(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("cli")


@pytest.fixture(scope="module")
def calls(out):
    """Every independent invocation, run concurrently; name -> (CompletedProcess, seconds)."""
    short = ("--replications", "1", "--years", "0.02", "--quiet")
    commands = {
        "run": ("run", BASELINE, "--replications", REPLICATIONS, "--years", YEARS, "--out", out / "run", "--quiet"),
        "validate_baseline": ("validate", BASELINE),
        **{f"validate_{name}": ("validate", f"tests/data/{name}.toml") for name in BAD_FILES},
        "run_bad_scenario": ("run", "tests/data/bad_shares.toml", *short, "--out", out / "bad_scenario"),
        "run_replications_0": ("run", BASELINE, "--replications", "0", "--out", out / "replications_0", "--quiet"),
        "run_workers_0": ("run", BASELINE, "--workers", "0", "--out", out / "workers_0", "--quiet"),
        "run_replications_word": ("run", BASELINE, "--replications", "three", "--out", out / "replications_word"),
        "run_years_100": ("run", BASELINE, "--years", "100", "--out", out / "years_100", "--quiet"),
        "run_infinite_rate": ("run", "tests/data/bad_infinite_rate.toml", *short, "--out", out / "infinite_rate"),
        "run_one": ("run", BASELINE, *short, "--out", out / "one"),
        "help": ("--help",),
        "run_help": ("run", "--help"),
    }
    with ThreadPoolExecutor(max_workers=3) as pool:
        futures = {name: pool.submit(icsim, *args) for name, args in commands.items()}
        return {name: future.result() for name, future in futures.items()}


def snapshot(folder: Path) -> dict:
    return {
        p.name: (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime_ns, p.stat().st_mode)
        for p in sorted(folder.iterdir())
    }


def assert_one_error_line(done: subprocess.CompletedProcess, *parts: str) -> str:
    assert done.returncode == 2, (done.returncode, done.stderr)
    assert "Traceback" not in done.stderr + done.stdout
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("error: "), lines[0]
    for part in parts:
        assert part in lines[0], f"{part!r} not in {lines[0]!r}"
    return lines[0]


# ---------------------------------------------------------------------------------------------
# validate


def test_validate_baseline_exits_0(calls):
    done, _ = calls["validate_baseline"]
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert "valid" in done.stdout


@pytest.mark.parametrize("name", list(BAD_FILES))
def test_validate_bad_file_gives_one_error_line(calls, name):
    done, _ = calls[f"validate_{name}"]
    assert_one_error_line(done, f"tests/data/{name}.toml", *BAD_FILES[name])
    assert done.stdout == ""


# ---------------------------------------------------------------------------------------------
# run: bad input


def test_run_bad_scenario_writes_nothing(calls, out):
    done, _ = calls["run_bad_scenario"]
    assert_one_error_line(done, "tests/data/bad_shares.toml", "front_door.diversion")
    assert not (out / "bad_scenario").exists()


@pytest.mark.parametrize("name, option", [("run_replications_0", "--replications"), ("run_workers_0", "--workers")])
def test_run_bad_option_value(calls, out, name, option):
    done, _ = calls[name]
    assert_one_error_line(done, option, "0")
    assert not (out / name.removeprefix("run_")).exists()


def test_run_non_numeric_option(calls, out):
    """`--replications three` is bad input like `--replications 0`: one `error:` line, not a
    usage block in a box."""
    done, _ = calls["run_replications_word"]
    assert_one_error_line(done, "--replications", "three")
    assert not (out / "replications_word").exists()


def test_run_years_beyond_the_schema_limit(calls, out):
    """`--years 100` passes the CLI's own check but fails the schema (years <= 50); the line
    must still say which setting and value are wrong."""
    done, _ = calls["run_years_100"]
    line = assert_one_error_line(done)
    assert "years" in line and "100" in line, line
    assert not (out / "years_100").exists()


def test_run_infinite_arrival_rate_is_bad_input_not_a_crash(calls, out):
    done, _ = calls["run_infinite_rate"]
    assert_one_error_line(done, "tests/data/bad_infinite_rate.toml", "rate_per_day")
    assert not (out / "infinite_rate").exists()


# ---------------------------------------------------------------------------------------------
# run: the run folder


@pytest.fixture(scope="module")
def run_folder(calls, out) -> Path:
    done, _ = calls["run"]
    assert done.returncode == 0, done.stderr
    return out / "run"


@pytest.fixture(scope="module")
def summary(run_folder) -> pd.DataFrame:
    return pd.read_csv(run_folder / "summary.csv")


@pytest.fixture(scope="module")
def replications(run_folder) -> pd.DataFrame:
    return pd.read_csv(run_folder / "replications.csv")


def test_run_writes_exactly_the_four_files(run_folder, out):
    assert {p.name for p in run_folder.iterdir()} == RUN_FILES
    hidden = [p.name for p in out.iterdir() if p.name.startswith(".")]
    assert hidden == []  # no staging folder left behind


def test_summary_columns_and_every_kpi(summary):
    assert list(summary.columns) == SUMMARY_COLUMNS
    ids = set(summary["kpi"])
    missing = [k for k in KPI_IDS if k not in ids]
    assert missing == [], f"KPI ids missing from summary.csv: {missing}"
    assert ids <= set(KPI_IDS), f"unknown KPI ids: {ids - set(KPI_IDS)}"
    assert not summary.duplicated(["kpi", "scope"]).any()
    assert {"total"} <= set(summary.loc[summary["kpi"] == "admissions_per_week", "scope"])


def test_summary_nan_only_where_no_replication_has_a_value(summary):
    """A KPI whose scope had no events in a replication is NaN there; its row still exists, with
    `replications` counting the replications that had a value."""
    assert summary["replications"].between(0, REPLICATIONS).all()
    nan_mean = summary["mean"].isna()
    assert (nan_mean == (summary["replications"] == 0)).all()
    # headline totals always have events in a quarter of baseline flow
    for kpi in ("admissions_per_week", "reablement_starts_per_week", "bed_los_days", "pathway_share_p1"):
        row = summary[(summary["kpi"] == kpi) & (summary["scope"] == "total")]
        assert row["replications"].item() == REPLICATIONS


def test_summary_keeps_rows_of_kpis_without_events():
    """Ratios with a zero denominator are NaN, never dropped: with no community bed referrals
    the community bed wait is 0/0, and with unlimited reablement its occupancy is x/0."""
    base = load_scenario(REPO / BASELINE)
    data = base.with_run(years=0.1, warmup_days=14).model_dump(mode="python")
    data["community"]["bed_per_day"] = 0.0
    data["reablement"]["capacity"], data["reablement"]["capacity_schedule"] = "unlimited", ()
    table = run(Scenario.model_validate(data), replications=2).summary
    assert set(KPI_IDS) <= set(table["kpi"])
    for kpi, scope in (("community_wait_days", "beds"), ("reablement_occupancy", "total")):
        row = table[(table["kpi"] == kpi) & (table["scope"] == scope)]
        assert len(row) == 1, (kpi, scope)
        assert math.isnan(row["mean"].item()) and row["replications"].item() == 0
    row = table[(table["kpi"] == "community_wait_days") & (table["scope"] == "reablement")]
    assert row["replications"].item() == 2  # the other scope of the same KPI still has values


def test_summary_agrees_with_replications_csv(summary, replications):
    """mean, t-based 95% CI, P10 and P90 recomputed independently from replications.csv."""
    assert list(replications.columns) == ["replication", "kpi", "scope", "unit", "value"]
    assert set(replications["replication"]) == set(range(REPLICATIONS))
    assert (replications.groupby(["kpi", "scope"]).size() == REPLICATIONS).all()
    t = stats.t.ppf(0.975, REPLICATIONS - 1)
    by_key = {k: g["value"].to_numpy() for k, g in replications.groupby(["kpi", "scope"])}
    for row in summary.itertuples():
        values = by_key[(row.kpi, row.scope)]
        values = values[np.isfinite(values)]
        assert row.replications == len(values)
        if len(values) == 0:
            continue
        assert row.mean == pytest.approx(values.mean(), rel=1e-12, abs=1e-12)
        assert row.p10 == pytest.approx(np.quantile(values, 0.1), rel=1e-12, abs=1e-12)
        assert row.p90 == pytest.approx(np.quantile(values, 0.9), rel=1e-12, abs=1e-12)
        if len(values) == REPLICATIONS:
            half = t * values.std(ddof=1) / math.sqrt(len(values))
            assert row.ci95_low == pytest.approx(values.mean() - half, rel=1e-9, abs=1e-9)
            assert row.ci95_high == pytest.approx(values.mean() + half, rel=1e-9, abs=1e-9)


def test_weekly_csv(run_folder):
    weekly = pd.read_csv(run_folder / "weekly.csv")
    assert list(weekly.columns) == ["replication", "week", "kpi", "scope", "unit", "value"]
    assert set(weekly["replication"]) == set(range(REPLICATIONS))
    full_weeks = round(YEARS * 365) // 7  # 91 days -> 13 full weeks
    assert weekly["week"].between(0, full_weeks - 1).all()
    assert weekly["week"].max() == full_weeks - 1
    assert set(weekly["kpi"]) <= set(KPI_IDS)


def test_manifest(run_folder, calls):
    manifest = json.loads((run_folder / "manifest.json").read_text())
    with open(REPO / BASELINE, "rb") as f:
        raw = tomllib.load(f)
    assert manifest["seed"] == raw["run"]["seed"]
    assert manifest["replications"] == REPLICATIONS
    assert manifest["icsim_version"] == importlib.metadata.version("icsim")

    commit = manifest["git_commit"]
    assert re.fullmatch(r"[0-9a-f]{40}(\+dirty)?", commit), commit
    exists = subprocess.run(["git", "-C", str(REPO), "cat-file", "-e", commit[:40] + "^{commit}"], capture_output=True)
    assert exists.returncode == 0, f"{commit} is not a commit of this repository"

    _, seconds = calls["run"]
    wall = manifest["timings"]["wall_seconds"]
    assert 0 < wall <= seconds  # measured inside the process, so within the subprocess's time

    # the resolved scenario, with the command-line overrides applied, reloads to the same thing
    resolved = Scenario.model_validate_json(json.dumps(manifest["scenario"]))
    assert resolved == load_scenario(REPO / BASELINE).with_run(years=YEARS, replications=REPLICATIONS)


def test_one_replication_is_counted_in_the_singular(calls):
    done, _ = calls["run_one"]
    assert done.returncode == 0, done.stderr
    assert "1 replication of 'baseline'" in done.stderr + done.stdout and "1 replications" not in done.stderr + done.stdout


def test_run_refuses_an_existing_folder_and_leaves_it_untouched(run_folder, out):
    before, listing = snapshot(run_folder), sorted(p.name for p in out.iterdir())
    done, _ = icsim("run", BASELINE, "--replications", "1", "--years", "0.02", "--out", run_folder, "--quiet")
    assert_one_error_line(done, str(run_folder))
    assert snapshot(run_folder) == before
    assert sorted(p.name for p in out.iterdir()) == listing


# ---------------------------------------------------------------------------------------------
# help


def test_help_lists_the_commands(calls):
    done, _ = calls["help"]
    assert done.returncode == 0
    assert "run" in done.stdout and "validate" in done.stdout


def test_run_help_lists_the_options(calls):
    done, _ = calls["run_help"]
    assert done.returncode == 0
    for option in ("--replications", "--seed", "--years", "--workers", "--out", "--quiet"):
        assert option in done.stdout, option


def test_python_m_sim_and_library_names_work_from_any_folder(tmp_path):
    """`python -m sim` is `icsim`; a library name needs no checkout (cwd outside the repository)."""
    done = subprocess.run([sys.executable, "-m", "sim", "validate", "homefirst"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "valid. 'homefirst'" in done.stdout
    done = subprocess.run([str(ICSIM), "run", "no_such_scenario", "--out", str(tmp_path / "x")], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    assert_one_error_line(done, "no_such_scenario", "baseline", "homefirst")
    assert not (tmp_path / "x").exists()


def test_compare_ends_with_the_answer(tmp_path):
    """What a terminal shows after a compare is the answer: the net benefit with its 90% interval
    is the last panel, after the tables, followed only by the one-line summary."""
    proc, _ = icsim("compare", "scenarios/baseline.toml", "scenarios/homefirst.toml", "-n", "2", "--years", "0.25",
                    "--out", str(tmp_path / "c"))
    assert proc.returncode == 0, proc.stderr
    text = proc.stdout
    assert text.index("the answer") > text.index("annual financial benefit")
    net = pd.read_csv(tmp_path / "c" / "benefit.csv").set_index("component").loc["net"]
    answer = re.sub(r"[│╭╮╰╯─\s]+", " ", text[text.index("the answer"):])  # the panel, unwrapped
    assert "net benefit" in answer and "90% interval" in answer and money(net["central"]) in answer
