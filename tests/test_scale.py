"""Scale-out and long runs: Dask gives the same bytes as serial and a process pool; an
interrupted run (Ctrl-C or a kill) resumes to exactly the uninterrupted output; and the memory
of one replication does not grow in proportion to the horizon."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sim import load_scenario
from sim.errors import InputError
from sim.experiment.runner import run
from sim.outputs.folders import read_run_settings

REPO = Path(__file__).resolve().parents[1]
ICSIM = str(Path(sys.executable).parent / "icsim")
FINAL = ("summary.csv", "replications.csv", "weekly.csv", "yearly.csv")


def frames(result) -> dict[str, str]:
    return {
        "summary": result.summary.to_csv(index=False),
        "replications": result.replications.to_csv(index=False),
        "weekly": result.weekly.to_csv(index=False),
    }


def test_serial_process_pool_and_dask_give_byte_identical_output():
    pytest.importorskip("dask.distributed")
    scenario = load_scenario(REPO / "scenarios" / "baseline.toml").with_run(years=0.1)
    serial = run(scenario, replications=4, workers=1)
    pooled = run(scenario, replications=4, workers=2)
    dask = run(scenario, replications=4, workers=2, backend="dask")  # LocalCluster of 2 processes
    assert frames(pooled) == frames(serial)
    assert frames(dask) == frames(serial)
    assert dask.timings["backend"] == "dask"
    assert len(dask.end_states) == 4


def test_saved_replications_are_reused_not_recomputed(tmp_path):
    """A store filled by one run feeds the next: nothing is recomputed and the bytes are equal
    (every float round-trips exactly)."""
    scenario = load_scenario(REPO / "scenarios" / "baseline.toml").with_run(years=0.1)
    first = run(scenario, replications=3, store=tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"rep-00000{r}.npz" for r in range(3)]
    computed = []
    again = run(scenario, replications=3, store=tmp_path, on_replication=computed.append)
    assert computed == [] and frames(again) == frames(first)


ARGS = ["--replications", "6", "--years", "0.3", "--quiet"]


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("scale") / "whole"
    subprocess.run([ICSIM, "run", "scenarios/baseline.toml", *ARGS, "--out", str(out)], cwd=REPO, check=True,
                   capture_output=True)
    assert sorted(p.name for p in out.iterdir()) == sorted([*FINAL, "manifest.json"])
    return out


def interrupt(out: Path, sig: int) -> subprocess.CompletedProcess:
    """Start a run, wait until two replications are saved, then send `sig`."""
    process = subprocess.Popen([ICSIM, "run", "scenarios/baseline.toml", *ARGS, "--out", str(out)], cwd=REPO,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while len(list((out / "replications").glob("rep-*.npz"))) < 2:
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "no replication saved within 60 s"
        time.sleep(0.02)
    process.send_signal(sig)
    stdout, stderr = process.communicate(timeout=60)
    return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)


def resume_and_compare(out: Path, uninterrupted: Path) -> None:
    files = sorted(p.name for p in (out / "replications").iterdir())
    saved = [name for name in files if name.endswith(".npz")]
    assert 2 <= len(saved) < 6, files  # interrupted midway: some, not all
    # no half-written file: each saved replication (.npz) and its weekly rows as CSV lines (.weekly.csv)
    assert all(name.startswith("rep-") and name.endswith((".npz", ".weekly.csv")) for name in files), files
    assert not (out / "manifest.json").exists()
    done = subprocess.run([ICSIM, "run", "--resume", str(out), "--quiet"], cwd=REPO, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert f"{len(saved)} resumed" in done.stdout
    assert sorted(p.name for p in out.iterdir()) == sorted(p.name for p in uninterrupted.iterdir())
    for name in FINAL:
        assert (out / name).read_bytes() == (uninterrupted / name).read_bytes(), name
    ours, theirs = (json.loads((d / "manifest.json").read_text()) for d in (out, uninterrupted))
    for manifest in (ours, theirs):
        del manifest["timings"], manifest["created_utc"]
    ours["command"] = theirs["command"] = None  # different --out, otherwise the original command
    assert ours == theirs


def test_ctrl_c_stops_cleanly_and_resume_gives_the_uninterrupted_output(tmp_path, uninterrupted):
    out = tmp_path / "run"
    stopped = interrupt(out, signal.SIGINT)
    assert stopped.returncode == 130, stopped.stderr
    assert "Traceback" not in stopped.stderr
    lines = stopped.stderr.strip().splitlines()
    assert len(lines) == 1 and f"icsim run --resume {out}" in lines[0], stopped.stderr
    resume_and_compare(out, uninterrupted)


def test_a_killed_run_resumes_to_the_uninterrupted_output(tmp_path, uninterrupted):
    out = tmp_path / "run"
    stopped = interrupt(out, signal.SIGKILL)
    assert stopped.returncode == -signal.SIGKILL
    resume_and_compare(out, uninterrupted)


def test_run_folder_rules(tmp_path, uninterrupted):
    """A new run still refuses a non-empty folder; --resume wants a folder an interrupted run left."""
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "x").write_text("x")
    new = subprocess.run([ICSIM, "run", "scenarios/baseline.toml", *ARGS, "--out", str(busy)], cwd=REPO,
                         capture_output=True, text=True)
    assert new.returncode == 2 and "not empty" in new.stderr
    for folder, message in ((busy, "not an interrupted icsim run"), (uninterrupted, "already complete"),
                            (tmp_path / "nope", "no such run folder")):
        with pytest.raises(InputError, match=message):
            read_run_settings(folder)
    again = subprocess.run([ICSIM, "run", "--resume", str(uninterrupted)], cwd=REPO, capture_output=True, text=True)
    assert again.returncode == 2 and "already complete" in again.stderr and "Traceback" not in again.stderr


PEAK = """
import sys, tracemalloc
from sim import load_scenario
from sim.experiment.runner import _one
s = load_scenario("scenarios/baseline.toml")
# a steady system: no growth, and reablement 15% above the baseline's near-critical load (with
# growth the baseline's queues, and so the people in the system, grow year on year)
data = s.model_dump(mode="python")
data["arrivals"]["annual_growth"] = 0.0
data["reablement"]["capacity"] = round(s.reablement.capacity * 1.15)
s = type(s).model_validate(data).with_run(years=float(sys.argv[1]))
tracemalloc.start()
_one(s, s.run.seed, 0)  # simulate and compute the KPIs
print(tracemalloc.get_traced_memory()[1])
"""


def test_memory_of_a_replication_does_not_grow_with_the_horizon():
    """Peak traced memory of one replication (warm-up, simulation and KPIs) at 4 years vs 1 year,
    of a steady system (no demand growth, reablement below its critical load).

    Bound: < 2x. The daily accumulators are unavoidably linear in days (one float per day for
    each of a few hundred series: ~1 MB a year), but everything else (people in the system,
    queues, SimPy events) depends on occupancy, not on the horizon, and dominates a 1-year run.
    A model whose memory is bounded apart from those accumulators is far under 2x; one that keeps
    per-person records for the whole horizon approaches 4x. The two horizons run in parallel
    subprocesses (a clean heap each; tracemalloc slows the model ~4x)."""
    procs = {years: subprocess.Popen([sys.executable, "-c", PEAK, str(years)], cwd=REPO, stdout=subprocess.PIPE, text=True)
             for years in (1, 4)}
    peak = {years: int(p.communicate(timeout=120)[0]) for years, p in procs.items()}
    assert all(p.returncode == 0 for p in procs.values())
    assert peak[4] < 2 * peak[1], f"peak {peak[1] / 1e6:.1f} MB at 1 y, {peak[4] / 1e6:.1f} MB at 4 y"
