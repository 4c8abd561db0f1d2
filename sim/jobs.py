"""Workflows run in the background for a front end (the web app): each job is a detached child
process that outlives the page that started it, and a folder that says how it is going.

A job is `<workspace>/jobs/<id>/` holding `job.json` (the request, the state and the progress,
always replaced whole: sim.files.write_atomic), `log.txt` (the child's output: warnings, and a
traceback if it crashed) and `pid` (written once by the process that started it). The child,
`python -m sim.jobs <job folder>`, calls the workflow with the request's arguments and writes its
folder to `<workspace>/runs/<kind>-<label>-<time>/` (named when the job starts, so a page can
show where the result will be).

Nothing a browser sends becomes a path by itself: the workspace is the server's, a label is
made into one safe name, and a scenario is a library name or a file that resolves (symlinks
followed) inside the workspace; anything else is refused with an InputError before a job
exists. The child runs in the workspace, so a relative file is read from there and a bad
input fails the job with the same one line `icsim` prints there.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import math
import os
import secrets
import signal
import subprocess
import sys
import threading
import time
import tomllib
import traceback
from dataclasses import dataclass
from pathlib import Path

from .errors import InputError
from .files import write_atomic

KINDS = ("run", "compare", "plan", "calibrate")
STATES = ("running", "done", "failed", "cancelled")

JOBS_DIR, RUNS_DIR = "jobs", "runs"
JOB_FILE, LOG_FILE, PID_FILE = "job.json", "log.txt", "pid"
JOB_FORMAT = "icsim-job/1"
STOPPED = "the run stopped without finishing (see log.txt)"
WRITE_EVERY = 0.25  # seconds between progress writes of job.json (the final state is always written)
START_GRACE = 60.0  # seconds a job may show no pid file (its starter died between Popen and the write)
MAX_LABEL = 200  # characters of a label as the user gave it
MAX_LABEL_BYTES = 80  # of the label's part of a folder name (a file name holds 255 bytes)
ERROR_CHARS = 500

# what each kind accepts from a front end: argument -> what it must be
_SCENARIO, _SCENARIOS, _FILE, _FOLDER = "scenario", "scenarios", "file", "folder"
_INT, _NUMBER, _TEXT, _YEARS = "int", "number", "text", "years"
ARGUMENTS: dict[str, dict[str, str]] = {
    "run": {"scenario": _SCENARIO, "replications": _INT, "seed": _INT, "years": _NUMBER, "workers": _INT},
    "compare": {"baseline": _SCENARIO, "scenarios": _SCENARIOS, "replications": _INT, "seed": _INT,
                "years": _NUMBER, "workers": _INT, "costs": _FILE},
    "plan": {"scenario": _SCENARIO, "service": _TEXT, "target": _TEXT, "confidence": _NUMBER, "years": _YEARS,
             "objective": _TEXT, "replications": _INT, "seed": _INT, "max_capacity": _INT, "step": _INT,
             "workers": _INT, "costs": _FILE},
    "calibrate": {"extract": _FOLDER, "base": _SCENARIO, "train_until": _TEXT, "replications": _INT,
                  "workers": _INT},
}
REQUIRED = {"run": ("scenario",), "compare": ("baseline", "scenarios"), "plan": ("scenario", "service", "target"),
            "calibrate": ("extract",)}
_POSITIONAL = {"run": ("scenario",), "compare": ("baseline", "scenarios"), "plan": ("scenario",),
               "calibrate": ("extract",)}

_children: dict[str, subprocess.Popen] = {}  # jobs this process started, polled so that none stays a zombie


@dataclass(frozen=True)
class Job:
    id: str  # sortable: time stamp + short random suffix
    folder: Path  # <workspace>/jobs/<id>
    kind: str
    label: str  # what the user called it
    state: str  # "running", "done", "failed", "cancelled"
    done: int  # replications (or plan candidates) finished
    total: int | None  # None until the workflow says
    messages: tuple[str, ...]  # warnings from the workflow, in order
    error: str | None  # one line, when failed
    result: Path | None  # the output folder (runs/...): where it will be while running, what was written once done
    started: str  # ISO time
    finished: str | None

    @property
    def fraction(self) -> float | None:
        """Share finished, 0-1 (None while the total is unknown)."""
        if not self.total:
            return None
        return min(1.0, max(0.0, self.done / self.total))


@dataclass(frozen=True)
class RunEntry:
    folder: Path
    kind: str  # "run", "compare", "plan" or "calibration"
    name: str  # the folder's name
    created: str  # ISO time (the manifest's created_utc)
    replications: int | None
    seconds: float | None  # wall time the workflow took
    scenarios: tuple[str, ...]  # scenario names (a compare: the baseline first)


# ---------------------------------------------------------------------------------------------
# the front end's side


def start(workspace: Path, kind: str, label: str, **arguments) -> Job:
    """Check the request, create the job folder and start the child; returns at once (state
    "running"). InputError, and no job, for a kind, an argument or a value it cannot take."""
    workspace = _workspace(workspace)
    if kind not in KINDS:
        raise InputError(f"job kind = {kind!r}: expected one of {', '.join(KINDS)}")
    if not isinstance(label, str) or len(label) > MAX_LABEL:
        raise InputError(f"label: expected a text of at most {MAX_LABEL} characters")
    _checked(workspace, kind, arguments)
    _prune()
    now = dt.datetime.now().astimezone()
    job_id = f"{now:%Y%m%d-%H%M%S-%f}-{secrets.token_hex(3)}"
    folder = workspace / JOBS_DIR / job_id
    folder.mkdir(parents=True)
    out = _reserve(workspace / RUNS_DIR, kind, label, now)
    record = {
        "format": JOB_FORMAT, "id": job_id, "kind": kind, "label": label, "arguments": arguments,
        "state": "running", "done": 0, "total": None, "messages": [], "error": None, "result": str(out),
        "started": now.isoformat(timespec="seconds"), "finished": None,
    }
    _write(folder, record)
    try:
        with open(folder / LOG_FILE, "ab") as log:
            child = subprocess.Popen(
                [sys.executable, "-m", "sim.jobs", str(folder)], stdin=subprocess.DEVNULL, stdout=log,
                stderr=subprocess.STDOUT, start_new_session=True, env={**os.environ, "PYTHONUNBUFFERED": "1"},
            )
    except OSError as exc:
        record.update(state="failed", error=_one_line(exc), finished=_now())
        _write(folder, record)
        _remove_if_empty(out)
        return _job(folder, record)
    _children[str(folder)] = child
    write_atomic(folder / PID_FILE, f"{child.pid}\n")
    return _job(folder, record)


def read(job_folder: Path) -> Job:
    """The job as its folder says. A "running" job whose process is gone reads as failed
    ("the run stopped without finishing"); job.json itself is left as the child wrote it."""
    folder = Path(job_folder)
    record = _load(folder)
    job = _job(folder, record)
    if job.state == "running" and not _running(folder, job):
        job = _replace(job, state="failed", error=STOPPED)
    return job


def jobs(workspace: Path) -> list[Job]:
    """The workspace's jobs, newest first (a folder that is not a readable job is skipped)."""
    _prune()
    root = Path(workspace) / JOBS_DIR
    found = []
    for folder in _subfolders(root):
        with contextlib.suppress(InputError):
            found.append(read(folder))
    return sorted(found, key=lambda job: job.id, reverse=True)


def cancel(job_folder: Path) -> Job:
    """Stop a running job: its whole process group (the child and any worker processes) gets
    SIGTERM, then SIGKILL if still there after a few seconds; the job ends "cancelled". A job
    that has already ended is returned as it is."""
    folder = Path(job_folder)
    job = read(folder)
    if job.state != "running":
        return job
    pid = _pid(folder)
    if pid is not None and _alive(pid, folder):
        for sig, grace in ((signal.SIGTERM, 5.0), (signal.SIGKILL, 5.0)):
            _signal_group(pid, sig)
            if _wait_gone(pid, folder, grace):
                break
    record = _load(folder)
    if record.get("state") == "running":  # not finished meanwhile
        record.update(state="cancelled", finished=_now(), error=None)
        _write(folder, record)
        if record.get("result"):
            _remove_if_empty(Path(record["result"]))
    return read(folder)


def wait(job_folder: Path, timeout: float) -> Job:
    """Poll until the job is no longer running; TimeoutError after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        job = read(job_folder)
        if job.state != "running":
            return job
        if time.monotonic() >= deadline:
            raise TimeoutError(f"{job_folder}: still running after {timeout:g} s ({job.done} of {job.total} done)")
        time.sleep(0.1)


def runs(workspace: Path) -> list[RunEntry]:
    """The finished result folders in <workspace>/runs/, newest first. A folder that is not one
    (an interrupted run with run.json, a folder still being written, a broken manifest) is skipped."""
    found = []
    for folder in _subfolders(Path(workspace) / RUNS_DIR):
        with contextlib.suppress(OSError, ValueError, TypeError, KeyError, AttributeError):
            entry = _run_entry(folder)
            if entry is not None:
                found.append(entry)
    return sorted(found, key=lambda e: (_instant(e.created), e.name), reverse=True)


# ---------------------------------------------------------------------------------------------
# checking a request


def _workspace(workspace: Path) -> Path:
    path = Path(workspace).resolve()
    if not path.is_dir():
        raise InputError(f"workspace {workspace}: no such folder")
    return path


def _checked(workspace: Path, kind: str, arguments: dict) -> dict:
    """The arguments to call the workflow with (None values dropped: the workflow's default)."""
    allowed = ARGUMENTS[kind]
    unknown = sorted(set(arguments) - set(allowed))
    if unknown:
        raise InputError(f"{kind}: unknown argument {unknown[0]!r}; expected some of {', '.join(allowed)}")
    for name, value in arguments.items():
        _check_json(f"{kind}: {name}", value)
    missing = [name for name in REQUIRED[kind] if arguments.get(name) is None]
    if missing:
        raise InputError(f"{kind}: {missing[0]} missing")
    given = {name: value for name, value in arguments.items() if value is not None}
    for name, value in given.items():
        what = f"{kind}: {name} = {value!r}"
        rule = allowed[name]
        if rule == _INT and (isinstance(value, bool) or not isinstance(value, int)):
            raise InputError(f"{what}: expected a whole number")
        if rule == _NUMBER and (isinstance(value, bool) or not isinstance(value, int | float)):
            raise InputError(f"{what}: expected a number")
        if rule == _TEXT and not isinstance(value, str):
            raise InputError(f"{what}: expected a text")
        if rule == _YEARS and (isinstance(value, bool) or not isinstance(value, str | int)):
            raise InputError(f"{what}: expected a year or a range of years, e.g. 2026-2035")
        if rule == _SCENARIO:
            _inside(workspace, value, what, library=True)
        if rule == _SCENARIOS:
            if not isinstance(value, list) or not value:
                raise InputError(f"{what}: expected a list of scenarios")
            for item in value:
                _inside(workspace, item, f"{kind}: {name}: {item!r}", library=True)
        if rule in (_FILE, _FOLDER):
            _inside(workspace, value, what, library=False)
    return given


def _check_json(what: str, value) -> None:
    """JSON values only: text, numbers (finite), true/false, null and lists of them."""
    if value is None or isinstance(value, str | bool | int):
        return
    if isinstance(value, float):
        if not math.isfinite(value):
            raise InputError(f"{what} = {value}: expected a finite number")
        return
    if isinstance(value, list):
        for item in value:
            _check_json(what, item)
        return
    raise InputError(f"{what}: a {type(value).__name__}; expected text, a number, true/false, null or a list")


def _inside(workspace: Path, value, what: str, library: bool) -> None:
    """A library scenario's name (when `library`), or a path that resolves inside the workspace
    (relative to it; symlinks followed). Whether the file exists is the workflow's to say."""
    from .inputs.library import scenario_names

    names = scenario_names()
    expected = (f"expected a library scenario ({', '.join(names)}) or a file inside the workspace" if library
                else "expected a path inside the workspace")
    if not isinstance(value, str) or not value.strip():
        raise InputError(f"{what}: {expected}")
    try:
        path = Path(value)
        if library and value in names and not (workspace / path).is_file():  # as resolve_scenario reads a bare name
            return
        target = (workspace / path).resolve()
    except (OSError, RuntimeError, ValueError):  # a NUL byte, a symlink loop
        raise InputError(f"{what}: {expected}") from None
    if not target.is_relative_to(workspace):
        raise InputError(f"{what}: {expected}")


def safe_label(label: str) -> str:
    """A label as one path component (the calibration's rule for a scenario name: separators
    and control characters become `_`), cut to MAX_LABEL_BYTES; "" when nothing is left."""
    from .calibrate import scenario_name

    flat = label.replace("/", "_").replace("\\", "_")
    if flat.strip() in ("", ".", ".."):
        return ""
    name = scenario_name(Path(os.sep, flat))
    return name.encode("utf-8")[:MAX_LABEL_BYTES].decode("utf-8", errors="ignore").strip()


def _reserve(runs_dir: Path, kind: str, label: str, now: dt.datetime) -> Path:
    """Claim runs/<kind>-<label>-<time> (an empty folder: the workflow may write into it, no
    other job can take it); "-2", "-3"... when a job with the same label started that second."""
    runs_dir.mkdir(parents=True, exist_ok=True)
    base = "-".join(part for part in (kind, safe_label(label), f"{now:%Y%m%d-%H%M%S}") if part)
    for n in range(1, 1000):
        out = runs_dir / (base if n == 1 else f"{base}-{n}")
        try:
            out.mkdir()
            return out
        except FileExistsError:
            continue
    raise InputError(f"{runs_dir}: no free folder name for {base}")


# ---------------------------------------------------------------------------------------------
# job.json


def _now() -> str:
    return dt.datetime.now().astimezone().isoformat(timespec="seconds")


def _write(folder: Path, record: dict) -> None:
    write_atomic(folder / JOB_FILE, json.dumps(record, indent=2, ensure_ascii=False) + "\n")


def _load(folder: Path) -> dict:
    path = Path(folder) / JOB_FILE
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"{path}: not a readable job file: {exc}") from None
    if not isinstance(record, dict) or record.get("format") != JOB_FORMAT or record.get("kind") not in KINDS \
            or record.get("state") not in STATES:
        raise InputError(f"{path}: expected an icsim job file ({JOB_FORMAT})")
    return record


def _job(folder: Path, record: dict) -> Job:
    total = record.get("total")
    return Job(
        id=str(record["id"]), folder=Path(folder), kind=record["kind"], label=str(record.get("label", "")),
        state=record["state"], done=int(record.get("done") or 0), total=int(total) if total is not None else None,
        messages=tuple(str(m) for m in record.get("messages") or ()), error=record.get("error"),
        result=Path(record["result"]) if record.get("result") else None, started=str(record.get("started", "")),
        finished=record.get("finished"),
    )


def _replace(job: Job, **changes) -> Job:
    return Job(**{**job.__dict__, **changes})


# ---------------------------------------------------------------------------------------------
# the child process, seen from outside


def _pid(folder: Path) -> int | None:
    try:
        return int((Path(folder) / PID_FILE).read_text().strip())
    except (OSError, ValueError):
        return None


def _running(folder: Path, job: Job) -> bool:
    pid = _pid(folder)
    if pid is None:  # started a moment ago, its pid not yet written (or its starter died then)
        try:
            age = (dt.datetime.now().astimezone() - dt.datetime.fromisoformat(job.started)).total_seconds()
        except ValueError:
            return False
        return age < START_GRACE
    return _alive(pid, folder)


def _alive(pid: int, folder: Path) -> bool:
    """Whether the job's child is still running: the pid exists, is not a zombie, and (where
    /proc tells) is this job's `python -m sim.jobs <folder>` rather than a reused pid."""
    child = _children.get(str(folder))
    if child is not None:  # started by this process: its exit status says (and polling reaps it)
        return child.poll() is None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        command = Path(f"/proc/{pid}/cmdline").read_bytes()
    except (OSError, IndexError):  # no /proc (macOS), or it ended just now
        return True
    if state in ("Z", "X"):
        return False
    return not command or Path(folder).name.encode() in command  # empty while it exits


def _signal_group(pid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, sig)  # start_new_session: the child leads its own group


def _group_gone(pid: int) -> bool:
    try:
        os.killpg(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def _wait_gone(pid: int, folder: Path, seconds: float) -> bool:
    """Whether the child and its group (worker processes) end within `seconds`."""
    deadline = time.monotonic() + seconds
    while True:
        if not _alive(pid, folder) and _group_gone(pid):
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.05)


def _prune() -> None:
    """Reap the children of this process that have exited."""
    for key, child in list(_children.items()):
        if child.poll() is not None:
            del _children[key]


def _remove_if_empty(folder: Path) -> None:
    with contextlib.suppress(OSError):
        folder.rmdir()  # only ever removes an empty folder: the reservation of a job that wrote nothing


def _subfolders(root: Path) -> list[Path]:
    try:
        return [p for p in root.iterdir() if not p.name.startswith(".") and p.is_dir() and not p.is_symlink()]
    except OSError:
        return []


# ---------------------------------------------------------------------------------------------
# result folders


def _instant(text: str) -> float:
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        return 0.0
    return (moment if moment.tzinfo else moment.astimezone()).timestamp()


def _run_entry(folder: Path) -> RunEntry | None:
    """What a finished folder holds, told apart as load_folder (sim.outputs.report_folder) does:
    a compare has baseline, scenarios and kpi_deltas.csv; a plan its service, target and
    plan.csv; a run its scenario and summary.csv; a calibration params.toml and its extract."""
    path = folder / "manifest.json"
    if (folder / "run.json").exists() or not path.is_file():
        return None
    manifest = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(manifest, dict):
        return None
    if isinstance(manifest.get("baseline"), dict) and isinstance(manifest.get("scenarios"), dict) \
            and (folder / "kpi_deltas.csv").is_file():
        kind, names = "compare", [_name(manifest["baseline"]), *manifest["scenarios"]]
    elif "service" in manifest and "target" in manifest and (folder / "plan.csv").is_file():
        kind, names = "plan", [_name(manifest.get("scenario"))]
    elif isinstance(manifest.get("scenario"), dict) and (folder / "summary.csv").is_file():
        kind, names = "run", [_name(manifest["scenario"])]
    elif "extract_folder" in manifest and (folder / "params.toml").is_file():
        params = tomllib.loads((folder / "params.toml").read_text(encoding="utf-8"))
        kind, names = "calibration", [_name(params)]
    else:
        return None
    created = manifest.get("created_utc")
    if not isinstance(created, str):
        created = dt.datetime.fromtimestamp(path.stat().st_mtime).astimezone().isoformat(timespec="seconds")
    replications = manifest.get("replications")
    timings = manifest.get("timings")
    seconds = timings.get("wall_seconds") if isinstance(timings, dict) else manifest.get("wall_seconds")
    return RunEntry(
        folder=folder, kind=kind, name=folder.name, created=created,
        replications=replications if isinstance(replications, int) and not isinstance(replications, bool) else None,
        seconds=float(seconds) if isinstance(seconds, int | float) and not isinstance(seconds, bool) else None,
        scenarios=tuple(str(n) for n in names if n),
    )


def _name(scenario) -> str:
    meta = scenario.get("meta") if isinstance(scenario, dict) else None
    return str(meta.get("name", "")) if isinstance(meta, dict) else ""


# ---------------------------------------------------------------------------------------------
# the child process: python -m sim.jobs <job folder>


def _one_line(exc: BaseException) -> str:
    """An exception as one line: its type and the first line of its message."""
    text = next((line.strip() for line in str(exc).splitlines() if line.strip()), "")
    if not isinstance(exc, InputError):
        text = f"{type(exc).__name__}: {text}" if text else type(exc).__name__
    if isinstance(exc, OSError) and exc.strerror:  # as the icsim command says it
        text = f"{exc.filename or 'writing the output'}: {exc.strerror}"
    return str(InputError(text))[:ERROR_CHARS]  # control characters escaped


class _Progress:
    """The workflow's callbacks, written into job.json at most every WRITE_EVERY seconds (and
    whenever the count reaches the total, and at the end)."""

    def __init__(self, folder: Path, record: dict):
        self.folder, self.record = folder, record
        self.lock = threading.Lock()
        self.last = 0.0

    def on_start(self, total: int, done: int) -> None:
        with self.lock:
            self.record.update(total=int(total), done=int(done))
            self._write()

    def on_step(self, _which=None) -> None:  # a replication finished, or a plan candidate simulated
        with self.lock:
            self.record["done"] += 1
            self._maybe()

    def notify(self, text: str) -> None:
        with self.lock:
            self.record["messages"].append(str(text))
            self._maybe()

    def finish(self, state: str, error: str | None = None) -> None:
        with self.lock:
            self.record.update(state=state, error=error, finished=_now())
            self._write()

    def _maybe(self) -> None:
        total = self.record.get("total")
        if time.monotonic() - self.last >= WRITE_EVERY or (total and self.record["done"] >= total):
            self._write()

    def _write(self) -> None:
        _write(self.folder, self.record)
        self.last = time.monotonic()


def _command(kind: str, arguments: dict) -> list[str]:
    """What the manifest records as the command: the app, the kind, then the arguments in the
    command line's form."""
    words = ["icsim-app", kind]
    for name in _POSITIONAL[kind]:
        value = arguments.get(name)
        words += [str(v) for v in value] if isinstance(value, list) else ([str(value)] if value is not None else [])
    for name, value in arguments.items():
        if name not in _POSITIONAL[kind]:
            words += [f"--{name.replace('_', '-')}", str(value)]
    return words


def _call(kind: str, arguments: dict, out: Path, progress: _Progress) -> None:
    from . import workflows

    command = _command(kind, arguments)
    if kind == "run":
        workflows.run(out=out, command=command, on_start=progress.on_start, on_replication=progress.on_step,
                      notify=progress.notify, **arguments)
    elif kind == "compare":
        workflows.compare(out=out, command=command, on_start=progress.on_start, on_replication=progress.on_step,
                          notify=progress.notify, **arguments)
    elif kind == "plan":
        if isinstance(arguments.get("years"), int):
            arguments = {**arguments, "years": str(arguments["years"])}
        workflows.plan(out=out, command=command, on_candidate=progress.on_step, **arguments)
    else:
        outcome = workflows.calibrate(arguments.pop("extract"), out, command=command, **arguments)
        for line in outcome.warning:
            if line.strip():
                progress.notify(line.strip())


def execute(job_folder: Path) -> str:
    """Run the job in this process (the child's body): the workflow, then its final state in
    job.json. Returns that state. A failure is one line in job.json; a crash's traceback goes to
    stderr (log.txt) only."""
    folder = Path(job_folder).resolve()
    record = _load(folder)
    record.update(state="running", done=0, total=None, messages=[], error=None, finished=None)
    progress = _Progress(folder, record)
    workspace = folder.parent.parent
    out = Path(record["result"])
    try:
        if folder.parent.name != JOBS_DIR:
            raise InputError(f"{folder}: expected a job folder <workspace>/{JOBS_DIR}/<id>")
        os.chdir(workspace)  # relative files are the workspace's (imports are not: sys.path[0] is absolute)
        arguments = _checked(workspace, record["kind"], record.get("arguments") or {})  # again: files may have changed
        _call(record["kind"], arguments, out, progress)
    except (InputError, OSError) as exc:
        message = _one_line(exc)
        print(f"error: {message}", file=sys.stderr)
        progress.finish("failed", message)
    except BaseException as exc:  # a crash still ends the job, with one line
        traceback.print_exc()
        progress.finish("failed", _one_line(exc))
    else:
        progress.finish("done")
    if record["state"] != "done":
        _remove_if_empty(out)
    return record["state"]


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1:
        print("usage: python -m sim.jobs <workspace>/jobs/<id>", file=sys.stderr)
        return 2
    try:
        state = execute(Path(argv[0]))
    except InputError as exc:  # no readable job.json: nothing to report into
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0 if state == "done" else 1


if __name__ == "__main__":
    sys.exit(main())
