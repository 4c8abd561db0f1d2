"""sim.jobs: workflows run in detached child processes, each with a job folder (job.json, log.txt)
that a web page reads back after a refresh. These tests start real children (`python -m
sim.jobs`) on tiny runs: a 0.1-year compare of two replications, one-replication runs."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sim import jobs
from sim.errors import InputError
from sim.inputs.library import library_file

TINY = {"replications": 2, "years": 0.1}  # a compare's folder takes ~10 s here, most of it the HTML report
LONG = {"scenario": "baseline", "replications": 500, "years": 1.0}  # minutes: only ever cancelled or killed


def _workspace(root: Path) -> Path:
    workspace = root / "workspace"
    workspace.mkdir()
    baseline = library_file("baseline.toml").resolve()
    (workspace / "variant.toml").write_text(
        f'extends = "{baseline.as_posix()}"\n\n[meta]\nname = "variant"\ndescription = "hub 1 gains beds"\n\n'
        '[run]\nseed = 7\n\n[beds.sites.hub_1]\nbeds = 50\n'
    )
    return workspace


def _stop_all(workspace: Path) -> None:
    for job in jobs.jobs(workspace):
        if job.state == "running":
            jobs.cancel(job.folder)


def _pid(job: jobs.Job) -> int:
    return int((job.folder / jobs.PID_FILE).read_text())


def _until(predicate, seconds: float, what: str):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"not within {seconds} s: {what}")


@pytest.fixture(scope="module")
def compared(tmp_path_factory):
    """One compare job, its job.json read in a loop while it ran: (workspace, job, what was read)."""
    workspace = _workspace(tmp_path_factory.mktemp("compare"))
    job = jobs.start(workspace, "compare", "beds test", baseline="baseline", scenarios=["variant.toml"], **TINY)
    seen, unreadable = [], []
    try:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            text = (job.folder / jobs.JOB_FILE).read_text()
            try:
                record = json.loads(text)
            except json.JSONDecodeError:
                unreadable.append(text)
                continue
            seen.append(record)
            if record["state"] != "running":
                break
            time.sleep(0.01)
    finally:
        _stop_all(workspace)
    return workspace, jobs.wait(job.folder, 10), seen, unreadable


def test_a_compare_job_runs_in_the_background_and_writes_its_folder(compared):
    workspace, job, _, _ = compared
    assert job.state == "done", (job.error, (job.folder / jobs.LOG_FILE).read_text())
    assert job.kind == "compare" and job.label == "beds test" and job.error is None and job.finished
    assert job.result.parent == workspace / "runs" and job.result.name.startswith("compare-beds test-")
    assert (job.result / "manifest.json").is_file() and (job.result / "kpi_deltas.csv").is_file()
    # compare's on_start counts every replication of every scenario: (baseline + 1 variant) x 2
    assert job.total == job.done == 4 and job.fraction == 1.0
    manifest = json.loads((job.result / "manifest.json").read_text())
    assert manifest["command"][:4] == ["icsim-app", "compare", "baseline", "variant.toml"]
    assert manifest["scenario_files"] == ["variant.toml"]  # relative to the workspace the child runs in
    # the variant's own seed is replaced by the baseline's: the workflow's warning reaches the job
    assert len(job.messages) == 1 and "run.seed = 7" in job.messages[0] and "baseline's are used" in job.messages[0]


def test_job_json_is_always_whole_and_progress_only_grows(compared):
    _, _, seen, unreadable = compared
    assert not unreadable
    assert len(seen) > 3  # read while it ran, not only at the end
    assert seen[0]["state"] == "running" and seen[-1]["state"] == "done"
    done = [record["done"] for record in seen]
    assert done == sorted(done) and done[-1] == 4
    assert {record["total"] for record in seen} <= {None, 4}


def test_runs_lists_finished_folders_and_skips_broken_ones(compared):
    workspace, job, _, _ = compared
    runs_dir = workspace / "runs"
    (runs_dir / "broken").mkdir()
    (runs_dir / "broken" / "manifest.json").write_text('{"baseline": ')
    (runs_dir / "not_a_dict").mkdir()
    (runs_dir / "not_a_dict" / "manifest.json").write_text("[1, 2]")
    (runs_dir / "interrupted").mkdir()
    (runs_dir / "interrupted" / "manifest.json").write_text("{}")
    (runs_dir / "interrupted" / "run.json").write_text("{}")
    listed = jobs.runs(workspace)
    assert [entry.folder for entry in listed] == [job.result]
    entry = listed[0]
    assert entry.kind == "compare" and entry.name == job.result.name
    assert entry.scenarios == ("baseline", "variant") and entry.replications == 2
    assert entry.seconds is not None and entry.seconds > 0 and entry.created
    assert jobs.runs(workspace / "nowhere") == []


def test_jobs_lists_the_workspace_jobs_newest_first(compared):
    workspace, job, _, _ = compared
    listed = jobs.jobs(workspace)
    assert [j.id for j in listed] == [job.id]
    (workspace / "jobs" / "half-made").mkdir()  # a folder without job.json is not a job
    assert [j.id for j in jobs.jobs(workspace)] == [job.id]
    with pytest.raises(InputError, match="not a readable job file"):
        jobs.read(workspace / "jobs" / "half-made")


def test_a_bad_scenario_name_fails_the_job_with_the_command_line_message(tmp_path):
    workspace = _workspace(tmp_path)
    job = jobs.start(workspace, "compare", "bad", baseline="baseline", scenarios=["no_such_scenario"], **TINY)
    job = jobs.wait(job.folder, 60)
    cli = subprocess.run([sys.executable, "-m", "sim", "compare", "baseline", "no_such_scenario", "--replications",
                          "2", "--years", "0.1"], cwd=workspace, capture_output=True, text=True)
    assert cli.returncode == 2
    assert job.state == "failed"
    assert job.error == cli.stderr.strip().removeprefix("error: ")
    assert "no_such_scenario: file not found" in job.error
    assert "\n" not in job.error and "Traceback" not in (job.folder / jobs.LOG_FILE).read_text()
    assert not job.result.exists()  # the empty folder reserved for it is given back


def test_requests_a_job_cannot_take_are_refused_before_any_job_exists(tmp_path):
    workspace = _workspace(tmp_path)
    outside = tmp_path / "outside.toml"
    outside.write_text((workspace / "variant.toml").read_text())
    (workspace / "link.toml").symlink_to(outside)
    refused = [
        ("simulate", {"scenario": "baseline"}),  # an unknown kind
        ("run", {"scenario": "baseline", "out": "/tmp/elsewhere"}),  # not an argument a front end gives
        ("run", {"scenario": "baseline", "years": {"value": 1}}),  # not a JSON value a job takes
        ("run", {"scenario": "baseline", "years": float("nan")}),
        ("run", {"scenario": "baseline", "replications": "2"}),
        ("run", {"scenario": "baseline", "replications": True}),
        ("run", {"scenario": Path("variant.toml")}),
        ("run", {}),  # no scenario
        ("run", {"scenario": str(outside)}),  # a file outside the workspace
        ("run", {"scenario": "../outside.toml"}),
        ("run", {"scenario": "link.toml"}),  # inside, but it resolves outside
        ("run", {"scenario": "bad\x00name.toml"}),
        ("compare", {"baseline": "baseline", "scenarios": ["variant.toml", str(outside)]}),
        ("compare", {"baseline": "baseline", "scenarios": "variant.toml"}),
        ("calibrate", {"extract": str(tmp_path)}),
        ("plan", {"scenario": "baseline", "service": "beds", "target": "p2_wait_days <= 2", "costs": "/etc/passwd"}),
    ]
    for kind, arguments in refused:
        with pytest.raises(InputError):
            jobs.start(workspace, kind, "x", **arguments)
    with pytest.raises(InputError, match="file inside the workspace"):
        jobs.start(workspace, "run", "x", scenario=str(outside))
    assert jobs.jobs(workspace) == [] and not (workspace / "runs").exists()


def test_labels_become_one_safe_folder_name(tmp_path):
    assert jobs.safe_label("../../etc/passwd") == ".._.._etc_passwd"
    assert jobs.safe_label("a\\b\nc\x00d") == "a_b_c_d"
    assert jobs.safe_label("..") == "" and jobs.safe_label("  ") == ""
    assert len(jobs.safe_label("é" * 300).encode()) <= jobs.MAX_LABEL_BYTES
    workspace = _workspace(tmp_path)
    out = jobs._reserve(workspace / "runs", "run", "../../x", jobs.dt.datetime(2030, 1, 2, 3, 4, 5))
    again = jobs._reserve(workspace / "runs", "run", "../../x", jobs.dt.datetime(2030, 1, 2, 3, 4, 5))
    assert out == workspace / "runs" / "run-.._.._x-20300102-030405" and again.name == out.name + "-2"


def test_cancel_stops_the_process_group(tmp_path):
    workspace = _workspace(tmp_path)
    job = jobs.start(workspace, "run", "long", **LONG)
    try:
        _until(lambda: jobs.read(job.folder).total == 500, 60, "the run has started simulating")
        pid = _pid(job)
        cancelled = jobs.cancel(job.folder)
    finally:
        _stop_all(workspace)
    assert cancelled.state == "cancelled" and cancelled.finished and cancelled.error is None
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    with pytest.raises(ProcessLookupError):
        os.killpg(pid, 0)
    assert jobs.read(job.folder).state == "cancelled"
    assert jobs.cancel(job.folder).state == "cancelled"  # again: nothing to do
    assert jobs.runs(workspace) == []  # the interrupted run folder (run.json) is not a finished one


def test_a_killed_child_reads_as_failed(tmp_path):
    workspace = _workspace(tmp_path)
    job = jobs.start(workspace, "run", "long", **LONG)
    try:
        _until(lambda: jobs.read(job.folder).total == 500, 60, "the run has started simulating")
        os.killpg(_pid(job), signal.SIGKILL)
        # another process (a restarted server) sees it too: to it, the unreaped child is a zombie
        probe = f"from sim import jobs; job = jobs.read({str(job.folder)!r}); print(job.state, job.error, sep='|')"
        elsewhere = _until(lambda: (out := subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                                                          check=True).stdout.strip()) != "running|None" and out,
                           20, "another process reads the job as ended")
        failed = _until(lambda: (j := jobs.read(job.folder)).state != "running" and j, 10, "the job reads as ended")
    finally:
        _stop_all(workspace)
    assert elsewhere == f"failed|{jobs.STOPPED}"
    assert failed.state == "failed" and failed.error == jobs.STOPPED
    assert json.loads((job.folder / jobs.JOB_FILE).read_text())["state"] == "running"  # read() only reads


def test_two_jobs_started_at_once_both_finish(tmp_path):
    workspace = _workspace(tmp_path)
    started = time.monotonic()
    first = jobs.start(workspace, "run", "twin", scenario="baseline", replications=1, years=0.1)
    second = jobs.start(workspace, "run", "twin", scenario="variant.toml", replications=1, years=0.1)
    assert time.monotonic() - started < 5  # start returns at once; the children work
    assert first.state == second.state == "running" and first.result != second.result
    try:
        ends = [jobs.wait(job.folder, 120) for job in (first, second)]
    finally:
        _stop_all(workspace)
    for job in ends:
        assert job.state == "done", job.error
        assert job.done == job.total == 1
        assert (job.result / "manifest.json").is_file() and (job.result / "summary.csv").is_file()
    listed = jobs.runs(workspace)
    assert {e.folder for e in listed} == {first.result, second.result}
    assert all(e.kind == "run" and e.replications == 1 for e in listed)
    assert {e.scenarios for e in listed} == {("baseline",), ("variant",)}
    assert [j.id for j in jobs.jobs(workspace)] == [second.id, first.id]


def test_a_crash_fails_the_job_with_one_line_and_the_traceback_in_the_log(tmp_path, monkeypatch, capsys):
    """The child's body, run in this process: a workflow raising something other than InputError."""
    import sim.workflows

    def crash(*args, **kwargs):
        raise ValueError("cannot convert\nsecond line")

    monkeypatch.setattr(sim.workflows, "compare", crash)
    monkeypatch.chdir(tmp_path)  # the child moves into the workspace
    workspace = _workspace(tmp_path).resolve()
    folder = workspace / "jobs" / "20300101-000000-000000-abcdef"
    folder.mkdir(parents=True)
    record = {"format": jobs.JOB_FORMAT, "id": folder.name, "kind": "compare", "label": "x",
              "arguments": {"baseline": "baseline", "scenarios": ["variant.toml"]}, "state": "running", "done": 0,
              "total": None, "messages": [], "error": None, "result": str(workspace / "runs" / "x"),
              "started": "2030-01-01T00:00:00+00:00", "finished": None}
    (folder / jobs.JOB_FILE).write_text(json.dumps(record))
    assert jobs.main([str(folder)]) == 1
    job = jobs._job(folder, json.loads((folder / jobs.JOB_FILE).read_text()))
    assert job.state == "failed" and job.error == "ValueError: cannot convert" and job.finished
    assert "Traceback" in capsys.readouterr().err


def test_progress_writes_are_throttled_but_the_end_is_always_written(tmp_path, monkeypatch):
    writes = []
    monkeypatch.setattr(jobs, "_write", lambda folder, record: writes.append(dict(record)))
    progress = jobs._Progress(tmp_path, {"state": "running", "done": 0, "total": None, "messages": []})
    progress.on_start(200, 0)
    for r in range(199):
        progress.on_step(r)
    assert len(writes) <= 3  # on_start, and perhaps one more if this machine paused
    progress.on_step(199)
    assert writes[-1]["done"] == 200  # reaching the total is always written
    progress.notify("a warning")
    progress.finish("done")
    assert writes[-1]["state"] == "done" and writes[-1]["messages"] == ["a warning"]
