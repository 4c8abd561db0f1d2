"""Weekly rows streamed to disk: a run with a store can leave each replication's weekly rows in its
file (`run(..., keep_weekly=False)`), so the parent process never holds them all; the run
folder's weekly.csv is then written a replication at a time and is byte for byte the file one
gathered table gives, for any number of workers and after an interrupted run is resumed."""

from __future__ import annotations

import gc
from pathlib import Path

import pandas as pd
import pytest
from helpers import interrupted_run

from sim import load_scenario, workflows
from sim.experiment import replication as store_module
from sim.experiment.runner import RunResult, read_weekly_csv, run
from sim.outputs.folders import write_weekly

REPO = Path(__file__).resolve().parents[1]
N = 3
TABLES = ("summary.csv", "replications.csv", "weekly.csv", "yearly.csv")


def small(years: float = 0.1, **changes):
    return load_scenario(REPO / "scenarios" / "baseline.toml").with_run(years=years, warmup_days=14, **changes)


@pytest.fixture(scope="module")
def scenario():
    return small(replications=N)


@pytest.fixture(scope="module")
def gathered(scenario) -> RunResult:
    """The run with every weekly row in memory (no store)."""
    return run(scenario, replications=N)


@pytest.fixture
def streamed(monkeypatch):
    """workflows.run leaves the weekly rows in the store whenever it has one (a run folder)."""
    real = workflows.run_replications

    def leaving_weekly_on_disk(*args, **kwargs):
        return real(*args, **{**kwargs, "keep_weekly": kwargs.get("store") is None})

    monkeypatch.setattr(workflows, "run_replications", leaving_weekly_on_disk)


def test_streamed_weekly_csv_is_byte_identical_to_the_gathered_table(scenario, gathered, streamed, tmp_path):
    outcome = workflows.run(scenario, out=tmp_path / "run")
    assert outcome.result.weekly_on_disk is not None  # the streamed path was taken
    expected = gathered.weekly.to_csv(index=False).encode("utf-8")
    assert (tmp_path / "run" / "weekly.csv").read_bytes() == expected
    assert (tmp_path / "run" / "replications.csv").read_bytes() == gathered.replications.to_csv(index=False).encode()


def test_streamed_folder_equals_the_in_memory_folder(scenario, tmp_path, monkeypatch):
    real = workflows.run_replications
    folders = {}
    for keep in (True, False):
        monkeypatch.setattr(workflows, "run_replications", lambda *a, keep=keep, **k: real(*a, **{**k, "keep_weekly": keep}))
        outcome = workflows.run(scenario, out=tmp_path / f"keep-{keep}")
        assert (outcome.result.weekly_on_disk is None) == keep
        folders[keep] = outcome.folder
    kept, left = folders[True], folders[False]
    assert not (left / "replications").exists() and not (left / "run.json").exists()
    assert sorted(p.name for p in left.iterdir()) == sorted(p.name for p in kept.iterdir())
    for name in TABLES:
        assert (left / name).read_bytes() == (kept / name).read_bytes(), name


def test_streamed_weekly_csv_is_the_same_for_one_and_two_workers(scenario, streamed, tmp_path):
    one = workflows.run(scenario, out=tmp_path / "one", workers=1).folder
    two = workflows.run(scenario, out=tmp_path / "two", workers=2).folder
    for name in TABLES:
        assert (one / name).read_bytes() == (two / name).read_bytes(), name


def test_an_interrupted_streamed_run_resumes_to_the_same_files(scenario, streamed, tmp_path):
    whole = workflows.run(scenario, out=tmp_path / "whole").folder
    out = tmp_path / "run"
    interrupted_run(scenario, out)
    assert not (out / "weekly.csv").exists() and not (out / "manifest.json").exists()  # nothing claims completeness
    assert len(list((out / "replications").glob("rep-*.npz"))) == 2
    resumed = workflows.run(resume=out, workers=2)
    assert resumed.resumed == 2
    for name in TABLES:
        assert (out / name).read_bytes() == (whole / name).read_bytes(), name
    assert not (out / "replications").exists() and not (out / "run.json").exists()


def _weekly_frames_alive() -> set[int]:
    gc.collect()
    return {id(o) for o in gc.get_objects() if isinstance(o, pd.DataFrame) and "week" in o.columns and len(o)}


def test_the_parent_holds_no_weekly_rows_until_asked(scenario, gathered, tmp_path):
    before = _weekly_frames_alive()
    store = tmp_path / "store"
    result = run(scenario, replications=N, workers=2, store=store, keep_weekly=False)
    assert _weekly_frames_alive() <= before  # no replication's weekly rows are held after the run
    assert result._weekly is None and result.weekly_on_disk.store == store
    # asked for, they are read from the store: exactly the gathered table, dtypes and all
    pd.testing.assert_frame_equal(result.weekly, gathered.weekly, check_exact=True)
    assert result._weekly is None  # not cached: each ask reads the disk again
    pieces = list(result.weekly_frames())
    assert [set(p["replication"]) for p in pieces] == [{r} for r in range(N)]


def test_a_finished_folder_answers_weekly_from_its_csv(scenario, gathered, streamed, tmp_path):
    outcome = workflows.run(scenario, out=tmp_path / "run")
    assert outcome.result.weekly_on_disk.file == tmp_path / "run" / "weekly.csv"
    assert not (tmp_path / "run" / "replications").exists()
    pd.testing.assert_frame_equal(outcome.result.weekly, gathered.weekly, check_exact=True)
    pd.testing.assert_frame_equal(read_weekly_csv(tmp_path / "run" / "weekly.csv"), gathered.weekly, check_exact=True)


def test_an_in_memory_run_is_as_before(scenario, gathered, tmp_path):
    assert gathered.weekly_on_disk is None and isinstance(gathered.weekly, pd.DataFrame)
    assert set(gathered.weekly["replication"]) == set(range(N))
    write_weekly(gathered, tmp_path / "weekly.csv")
    assert (tmp_path / "weekly.csv").read_bytes() == gathered.weekly.to_csv(index=False).encode()
    with pytest.raises(ValueError, match="store"):
        run(scenario, replications=1, keep_weekly=False)


def test_weekly_stays_a_constructor_argument(gathered):
    copy = RunResult(scenario=gathered.scenario, seed=gathered.seed, replications=gathered.replications,
                     weekly=gathered.weekly, end_states=gathered.end_states)
    assert copy.weekly is gathered.weekly and copy.weekly_on_disk is None
    assert "weekly" not in repr(copy)


def test_weekly_lines_files_are_used_when_intact_and_formatted_again_when_not(scenario, gathered, tmp_path, monkeypatch):
    store = tmp_path / "store"
    result = run(scenario, replications=N, store=store, keep_weekly=False)
    expected = gathered.weekly.to_csv(index=False).encode("utf-8")
    assert sorted(p.name for p in store.glob("*.weekly.csv")) == [f"rep-{r:06d}.weekly.csv" for r in range(N)]
    with monkeypatch.context() as patched:  # intact lines files: no replication's rows are decoded
        patched.setattr(store_module, "decode_replication", _refuse)
        write_weekly(result, tmp_path / "intact.csv")
    assert (tmp_path / "intact.csv").read_bytes() == expected
    changed = store / "rep-000000.weekly.csv"
    changed.write_bytes(changed.read_bytes().replace(b",", b";", 1))
    (store / "rep-000001.weekly.csv").unlink()
    write_weekly(result, tmp_path / "repaired.csv")
    assert (tmp_path / "repaired.csv").read_bytes() == expected


def _refuse(*args, **kwargs):
    raise AssertionError("decoded a replication whose weekly lines file is intact")
