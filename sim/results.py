"""The run folder: manifest.json, summary.csv, replications.csv, weekly.csv.

The folder is written whole into a temporary sibling and renamed into place, so a run
folder never holds a half-written file.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
from importlib import metadata
from pathlib import Path

from .errors import InputError
from .kpis import KPIS
from .runner import RunResult

LIBRARIES = ("simpy", "numpy", "scipy", "pandas", "pydantic")


def package_version() -> str:
    try:
        return metadata.version("icsim")
    except metadata.PackageNotFoundError:
        return "unknown"


def git_commit() -> str:
    """The commit of the icsim checkout running (with '+dirty' if it has local changes)."""
    here = Path(__file__).resolve().parent
    try:
        commit = subprocess.run(
            ["git", "-C", str(here), "rev-parse", "HEAD"], capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(here), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True, text=True, check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return commit + ("+dirty" if dirty else "")


def check_out_dir(out: Path) -> None:
    """Refuse to overwrite: a published figure must keep pointing at the run that made it."""
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise InputError(f"{out}: output folder already exists and is not empty; choose another --out")


def provenance(command: list[str]) -> dict:
    """Who made this folder: version, commit, time, command, platform."""
    return {
        "icsim_version": package_version(),
        "git_commit": git_commit(),
        "created_utc": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "command": command,
        "platform": {
            "python": sys.version.split()[0],
            "machine": platform.machine(),
            "system": platform.system(),
            "cpus": os.cpu_count(),
            **{lib: _version(lib) for lib in LIBRARIES},
        },
    }


def manifest(result: RunResult, scenario_file: str | None, command: list[str], wall_seconds: float) -> dict:
    return {
        **provenance(command),
        "scenario_file": scenario_file,
        "seed": result.seed,
        "replications": int(result.replications["replication"].nunique()),
        "years": result.scenario.run.years,
        "warmup_days": result.scenario.run.warmup_days,
        "timings": {**result.timings, "wall_seconds": round(wall_seconds, 3)},
        "kpis": {k.id: {"unit": k.unit, "definition": k.definition} for k in KPIS},
        "scenario": result.scenario.model_dump(mode="json"),
    }


def _version(lib: str) -> str:
    try:
        return metadata.version(lib)
    except metadata.PackageNotFoundError:
        return "unknown"


def write_run_folder(result: RunResult, out: Path, manifest_data: dict) -> Path:
    tables = {"summary": result.summary, "replications": result.replications, "weekly": result.weekly}
    return write_folder(out, tables, manifest_data)


def write_folder(out: Path, tables: dict, manifest_data: dict, documents: dict | None = None) -> Path:
    """Write `<name>.csv` for each table, manifest.json and any other `<name>.json`
    documents, all or nothing."""
    with staged(out) as staging:
        for name, table in tables.items():
            table.to_csv(staging / f"{name}.csv", index=False)
        for name, document in {"manifest": manifest_data, **(documents or {})}.items():
            (staging / f"{name}.json").write_text(json.dumps(document, indent=2, default=str) + "\n")
    return Path(out)


@contextlib.contextmanager
def staged(out: Path):
    """A private staging folder beside `out`, renamed to `out` when the block succeeds."""
    out = Path(out)
    check_out_dir(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        staging.chmod(0o755)  # mkdtemp makes it private; a run folder is for sharing
        yield staging
        if out.exists():
            out.rmdir()  # empty (checked above)
        os.replace(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
