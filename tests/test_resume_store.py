"""The replication store of a run folder (`replications/rep-*.npz`) is data, never code: a file
that is crafted, damaged, truncated, changed or written for another replication, seed, scenario
or icsim version is not used; it is recomputed, the run says so, and the results are exactly
those of a fresh run. Every value round-trips exactly."""

from __future__ import annotations

import io
import pickle
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from helpers import interrupted_run

from sim import load_scenario
from sim.experiment import replication as store_module
from sim.experiment.replication import (
    FRAMES,
    ReplicationResult,
    ReplicationStoreWarning,
    UnusableReplication,
    decode_replication,
    encode_replication,
    load_replication,
    replication_file,
    save_replication,
    scenario_key,
)
from sim.experiment.runner import _one, run

REPO = Path(__file__).resolve().parents[1]
ICSIM = str(Path(sys.executable).parent / "icsim")
N = 2


def small(years: float = 0.1, **changes):
    return load_scenario(REPO / "scenarios" / "baseline.toml").with_run(years=years, warmup_days=14, **changes)


def outputs(result) -> dict:
    return {
        "replications": result.replications.to_csv(index=False),
        "weekly": result.weekly.to_csv(index=False),
        "yearly": result.yearly_replications.to_csv(index=False),
        "end_states": result.end_states,
    }


@pytest.fixture(scope="module")
def scenario():
    return small()


@pytest.fixture(scope="module")
def fresh(scenario):
    """An uninterrupted run with no store."""
    return outputs(run(scenario, replications=N))


@pytest.fixture(scope="module")
def filled(scenario, tmp_path_factory) -> Path:
    """A store holding every replication of `scenario` (copied by each test that changes it)."""
    store = tmp_path_factory.mktemp("filled")
    run(scenario, replications=N, store=store)
    assert sorted(p.name for p in store.iterdir()) == [f"rep-{r:06d}.npz" for r in range(N)]
    return store


def resume(scenario, store: Path, **options):
    """Run with `store`; return the result, the warnings and the replications computed."""
    said, computed = [], []
    result = run(scenario, replications=N, store=store, notify=said.append, on_replication=computed.append, **options)
    return result, said, sorted(computed)


def copy_of(filled: Path, tmp_path: Path) -> Path:
    store = tmp_path / "replications"
    shutil.copytree(filled, store)
    return store


# ---------------------------------------------------------------------------------------------
# round trip


def test_round_trip_preserves_every_value_and_dtype(scenario):
    result = _one(scenario, scenario.run.seed, 1)
    key = scenario_key(scenario)
    back = decode_replication(encode_replication(result, key, scenario.run.seed), 1, key, scenario.run.seed)
    assert back.replication == 1
    for name in FRAMES:
        ours, theirs = getattr(result, name), getattr(back, name)
        assert len(ours) > 0, name
        pd.testing.assert_frame_equal(theirs, ours, check_exact=True)
        for column in ours.select_dtypes("float").columns:  # bit for bit
            assert ours[column].to_numpy().tobytes() == theirs[column].to_numpy().tobytes()
        assert theirs.to_csv(index=False) == ours.to_csv(index=False)
    assert back.end_state == result.end_state
    assert [type(v) for v in back.end_state.values()] == [type(v) for v in result.end_state.values()]


def test_round_trip_of_awkward_values():
    """NaN (with its payload), -0.0, infinities, the smallest subnormal, missing and odd strings,
    an empty frame, and float and nested values in the end state."""
    nan_payload = np.frombuffer(np.uint64(0x7FF8_0000_0000_1234).tobytes(), dtype=np.float64)[0]
    floats = np.array([np.nan, nan_payload, -0.0, np.inf, -np.inf, 5e-324, 0.1 + 0.2], dtype=np.float64)
    odd = pd.DataFrame({
        "replication": np.arange(7, dtype=np.int64),
        "kpi": pd.Series(["a", None, "", "nul\0end", "é∂😀", "a", "\ud800"], dtype="object"),
        "flag": np.array([True, False] * 3 + [True]),
        "value": floats,
    })
    empty = pd.DataFrame({"replication": pd.Series([], dtype=np.int64), "kpi": pd.Series([], dtype="str"),
                          "value": pd.Series([], dtype=np.float64)})
    end_state = {"people": 3, "mean": 0.1 + 0.2, "none": None, "nested": {"list": [1, 2.5, "x"]}, "flag": True}
    result = ReplicationResult(4, odd, empty, end_state, odd.iloc[:0])
    back = decode_replication(encode_replication(result, "k", 9), 4, "k", 9)
    for name in FRAMES:
        pd.testing.assert_frame_equal(getattr(back, name), getattr(result, name), check_exact=True)
    assert back.summary["value"].to_numpy().tobytes() == floats.tobytes()
    assert back.end_state == end_state and type(back.end_state["people"]) is int


def test_a_value_json_would_change_is_refused_when_saving(tmp_path):
    frame = pd.DataFrame({"value": [1.0]})
    with pytest.raises(TypeError, match="tuple"):
        save_replication(tmp_path, ReplicationResult(0, frame, frame, {"queue": (1, 2)}, frame), "k", 1)


# ---------------------------------------------------------------------------------------------
# crafted files are never executed


class Payload:
    """Unpickling this creates `marker`: what a crafted file would do instead."""

    def __init__(self, marker: Path):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_a_crafted_pickle_where_a_replication_is_expected_is_never_executed(scenario, fresh, filled, tmp_path):
    store = copy_of(filled, tmp_path)
    marker = tmp_path / "executed"
    crafted = pickle.dumps(Payload(marker))
    (store / "rep-000000.pkl").write_bytes(crafted)  # the name the pickle store used
    replication_file(store, 1).write_bytes(crafted)  # where this store looks
    result, said, computed = resume(scenario, store)
    assert not marker.exists(), "the crafted pickle was executed"
    assert computed == [1]
    assert any("rep-000001.npz" in line and "not used" in line for line in said), said
    assert any("pickle" in line for line in said), said
    assert outputs(result) == fresh


def test_an_npz_with_a_pickled_member_is_never_executed(scenario, fresh, filled, tmp_path):
    store = copy_of(filled, tmp_path)
    marker = tmp_path / "executed"
    buffer = io.BytesIO()
    np.savez(buffer, meta=np.array([Payload(marker)], dtype=object), sha256=np.array([Payload(marker)], dtype=object))
    replication_file(store, 0).write_bytes(buffer.getvalue())
    result, said, computed = resume(scenario, store)
    assert not marker.exists(), "the pickled member was executed"
    assert computed == [0] and len(said) == 1 and "rep-000000.npz" in said[0] and "unreadable" in said[0]
    assert outputs(result) == fresh


# ---------------------------------------------------------------------------------------------
# damaged, changed, truncated: recomputed, with a warning naming the file and the reason


def test_a_tampered_file_is_recomputed_with_a_warning(scenario, fresh, filled, tmp_path):
    store = copy_of(filled, tmp_path)
    path = replication_file(store, 1)
    data = bytearray(path.read_bytes())
    middle = len(data) // 2
    data[middle : middle + 8] = bytes(b ^ 0xFF for b in data[middle : middle + 8])
    path.write_bytes(bytes(data))
    result, said, computed = resume(scenario, store)
    assert computed == [1] and len(said) == 1 and str(path) in said[0] and "recomputing" in said[0], said
    assert outputs(result) == fresh
    key = scenario_key(scenario)
    load_replication(store, 1, key, scenario.run.seed)  # rewritten whole: usable again
    assert resume(scenario, store)[1:] == ([], [])


def test_a_changed_value_in_an_intact_archive_fails_the_checksum(scenario, fresh, filled, tmp_path):
    """An archive re-saved with one number changed (its zip CRCs consistent): only the checksum
    can tell."""
    store = copy_of(filled, tmp_path)
    path = replication_file(store, 0)
    with np.load(path, allow_pickle=False) as archive:
        arrays = {key: archive[key] for key in archive.files}
    column = next(key for key in arrays if key.startswith("summary.") and arrays[key].dtype == np.float64)
    arrays[column] = arrays[column].copy()
    arrays[column][0] += 1.0
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)
    path.write_bytes(buffer.getvalue())
    with pytest.raises(UnusableReplication, match="checksum"):
        load_replication(store, 0, scenario_key(scenario), scenario.run.seed)
    result, said, computed = resume(scenario, store)
    assert computed == [0] and len(said) == 1 and "checksum" in said[0] and str(path) in said[0]
    assert outputs(result) == fresh


@pytest.mark.parametrize("keep", [0, 10, 0.5, -1])
def test_a_truncated_file_is_recomputed_with_a_warning(scenario, fresh, filled, tmp_path, keep):
    store = copy_of(filled, tmp_path)
    path = replication_file(store, 0)
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep) if isinstance(keep, float) else keep if keep >= 0 else len(data) - 1])
    result, said, computed = resume(scenario, store)
    assert computed == [0] and len(said) == 1 and str(path) in said[0] and "recomputing" in said[0], said
    assert outputs(result) == fresh


def test_an_archive_that_unpacks_too_large_is_not_read(scenario, filled, monkeypatch):
    """A zip bomb: the members' declared sizes are checked before anything is unpacked."""
    monkeypatch.setattr(store_module, "MAX_UNPACKED", 1000)
    with pytest.raises(UnusableReplication, match="unpacks to over 1000 bytes"):
        load_replication(filled, 0, scenario_key(scenario), scenario.run.seed)


# ---------------------------------------------------------------------------------------------
# identity: another replication, seed, scenario or version


def test_a_file_of_another_replication_is_refused(scenario, fresh, filled, tmp_path):
    store = copy_of(filled, tmp_path)
    shutil.copyfile(replication_file(store, 0), replication_file(store, 1))
    result, said, computed = resume(scenario, store)
    assert computed == [1] and len(said) == 1 and "replication 0, this run's is 1" in said[0], said
    assert outputs(result) == fresh


def test_files_of_another_seed_are_refused(scenario, filled, tmp_path):
    store = copy_of(filled, tmp_path)
    other = scenario.run.seed + 1
    result, said, computed = resume(scenario, store, seed=other)
    assert computed == [0, 1] and len(said) == N and all(f"seed {scenario.run.seed}, this run's is {other}" in s for s in said)
    assert outputs(result) == outputs(run(scenario, replications=N, seed=other))


def test_files_of_another_scenario_are_refused(filled, tmp_path):
    store = copy_of(filled, tmp_path)
    other = small(years=0.11)
    result, said, computed = resume(other, store)
    assert computed == [0, 1] and len(said) == N and all("scenario sha256" in s for s in said), said
    assert outputs(result) == outputs(run(other, replications=N))


def test_files_of_another_icsim_version_are_recomputed(scenario, fresh, filled, tmp_path, monkeypatch):
    store = copy_of(filled, tmp_path)
    monkeypatch.setattr(store_module, "icsim_version", lambda: "0.0.1-other")
    result, said, computed = resume(scenario, store)
    assert computed == [0, 1] and all("icsim version" in s and "0.0.1-other" in s for s in said), said
    assert outputs(result) == fresh


def test_without_notify_the_runner_warns(scenario, fresh, filled, tmp_path):
    store = copy_of(filled, tmp_path)
    replication_file(store, 1).write_bytes(b"not an archive")
    with pytest.warns(ReplicationStoreWarning, match="rep-000001.npz"):
        result = run(scenario, replications=N, store=store)
    assert outputs(result) == fresh and result.resumed == 1


def test_the_scenario_key_survives_the_run_file(scenario):
    """--resume rebuilds the scenario from run.json: its key must be the same."""
    import json

    from sim.inputs.scenario import Scenario

    back = Scenario.model_validate_json(json.dumps(json.loads(json.dumps(scenario.model_dump(mode="json"), default=str))))
    assert scenario_key(back) == scenario_key(scenario)


# ---------------------------------------------------------------------------------------------
# the command: --resume of a folder with a damaged file


def test_resume_of_a_run_folder_with_a_damaged_file(tmp_path):
    from sim import workflows

    scenario = small(years=0.05, replications=3)
    whole = workflows.run(scenario, out=tmp_path / "whole")

    out = tmp_path / "run"
    interrupted_run(scenario, out)
    saved = sorted((out / "replications").glob("rep-*.npz"))
    assert len(saved) == 2
    saved[0].write_bytes(saved[0].read_bytes()[:-40])
    done = subprocess.run([ICSIM, "run", "--resume", str(out), "--quiet"], cwd=REPO, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr and saved[0].name in done.stderr and "recomputing" in done.stderr
    for name in ("summary.csv", "replications.csv", "weekly.csv", "yearly.csv"):
        assert (out / name).read_bytes() == (whole.folder / name).read_bytes(), name
