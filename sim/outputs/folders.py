"""Output folders and their manifests (provenance: version, commit, time, command, platform).

The run folder: manifest.json, summary.csv, replications.csv, weekly.csv, yearly.csv and,
when the run reports two or more years, fan.png. Compare, plan and synth folders: their tables
and manifest.json, written whole (`write_folder`).

No file in a run folder is ever half-written. `icsim run` creates the folder at the start
with run.json (the resolved scenario and run settings) and a replications/ folder that
receives each finished replication (renamed into place); at the end the final files are
written into a staging folder inside it and renamed into place (manifest.json last), then
run.json and replications/ are removed. A folder that still holds run.json is an interrupted
run, continued with `icsim run --resume OUT`. Other commands write their folder whole into a
temporary sibling and rename it into place.
"""

from __future__ import annotations

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

from ..errors import InputError
from ..experiment.kpis import KPIS
from ..experiment.replication import icsim_version
from ..experiment.runner import RunResult, WeeklyOnDisk
from ..files import claim_out_dir, staged, write_atomic
from ..inputs.reading import read_json

LIBRARIES = ("simpy", "numpy", "scipy", "pandas", "pydantic")


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


def provenance(command: list[str]) -> dict:
    """Who made this folder: version, commit, time, command, platform."""
    return {
        "icsim_version": icsim_version(),
        "git_commit": git_commit(),
        "created_utc": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "command": command,
        "platform": {
            "python": sys.version.split()[0],
            "machine": platform.machine(),
            "system": platform.system(),
            "cpus": os.cpu_count(),
            **{lib: _version(lib) for lib in LIBRARIES},
        },
    }


def draws_fan(result: RunResult) -> bool:
    """fan.png is drawn when the run reports two or more years."""
    return result.yearly_replications["year"].nunique() >= 2


def run_files(result: RunResult) -> list[str]:
    """The files of a finished run folder."""
    return ["manifest.json", *(f"{t}.csv" for t in RUN_TABLES), *(["fan.png"] if draws_fan(result) else [])]


def manifest(result: RunResult, scenario_file: str | None, command: list[str], wall_seconds: float,
             sources: dict[str, str] | None = None) -> dict:
    """`sources`: each scenario key path's documented source (sim.inputs.sources), for reports."""
    return {
        **provenance(command),
        "scenario_file": scenario_file,
        "files": run_files(result),
        "seed": result.seed,
        "replications": int(result.replications["replication"].nunique()),
        "years": result.scenario.run.years,
        "warmup_days": result.scenario.run.warmup_days,
        "timings": {**result.timings, "wall_seconds": round(wall_seconds, 3)},
        "kpis": {k.id: {"unit": k.unit, "definition": k.definition} for k in KPIS},
        "scenario": result.scenario.model_dump(mode="json"),
        "sources": sources or {},
    }


def _version(lib: str) -> str:
    try:
        return metadata.version(lib)
    except metadata.PackageNotFoundError:
        return "unknown"


RUN_FILE = "run.json"
RUN_TABLES = ("summary", "replications", "weekly", "yearly")
REPLICATIONS_DIR = "replications"
RUN_FORMAT = "icsim-run/1"


def start_run_folder(out: Path, settings: dict) -> Path:
    """Create the (new or empty) run folder with run.json and replications/; return the store."""
    out = Path(out)
    claim_out_dir(out, RUN_FILE)
    out.chmod(0o755)
    write_atomic(out / RUN_FILE, json.dumps({"format": RUN_FORMAT, **settings}, indent=2, default=str) + "\n")
    store = out / REPLICATIONS_DIR
    store.mkdir(exist_ok=True)
    return store


def read_run_settings(out: Path) -> dict:
    """The settings of an interrupted run, for --resume."""
    out = Path(out)
    if not out.is_dir():
        raise InputError(f"--resume {out}: no such run folder")
    path = out / RUN_FILE
    if not path.is_file():
        if (out / "manifest.json").is_file():
            raise InputError(f"--resume {out}: this run is already complete (manifest.json, no {RUN_FILE})")
        raise InputError(f"--resume {out}: not an interrupted icsim run ({RUN_FILE} missing)")
    settings = read_json(path, "run file")
    if not isinstance(settings, dict) or settings.get("format") != RUN_FORMAT or not isinstance(settings.get("scenario"), dict):
        raise InputError(f"{path}: expected an icsim run file ({RUN_FORMAT})")
    for leftover in (out / REPLICATIONS_DIR).glob(".rep-*.tmp"):  # a write cut short by a kill
        leftover.unlink(missing_ok=True)
    (out / REPLICATIONS_DIR).mkdir(exist_ok=True)
    return settings


def finish_run_folder(result: RunResult, out: Path, manifest_data: dict) -> Path:
    """Write the final files into a started run folder, each renamed into place (manifest.json
    last), then remove run.json and replications/: the folder ends as an uninterrupted run's."""
    out = Path(out)
    yearly = result.yearly
    tables = {"summary": result.summary, "replications": result.replications, "yearly": yearly}
    staging = Path(tempfile.mkdtemp(prefix=".final.", dir=out))
    try:
        for name in RUN_TABLES:
            if name == "weekly":  # streamed: a long run's weekly rows are never in memory together
                write_weekly(result, staging / "weekly.csv")
            else:
                tables[name].to_csv(staging / f"{name}.csv", index=False)
        figures = []
        if draws_fan(result):
            from .charts import fan_grid  # matplotlib is imported only when a fan is drawn

            fan_grid(yearly).savefig(staging / "fan.png", dpi=110)
            figures.append("fan.png")
        (staging / "manifest.json").write_text(json.dumps(manifest_data, indent=2, default=str) + "\n")
        for name in [*(f"{t}.csv" for t in RUN_TABLES), *figures, "manifest.json"]:
            (staging / name).chmod(0o644)
            os.replace(staging / name, out / name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    if result.weekly_on_disk is not None:  # the store goes next: from now on the weekly rows are weekly.csv
        result.weekly_on_disk = WeeklyOnDisk(file=out / "weekly.csv")
    shutil.rmtree(out / REPLICATIONS_DIR, ignore_errors=True)
    (out / RUN_FILE).unlink(missing_ok=True)
    return out


def write_weekly(result: RunResult, path: Path) -> None:
    """weekly.csv, written a replication at a time when the rows are on disk (the replication
    store, where the workers left each one's rows as weekly.csv lines), so they are never all in
    memory; byte for byte the file one table would give."""
    with open(path, "wb") as file:
        for chunk in result.weekly_csv():
            file.write(chunk)


def write_folder(out: Path, tables: dict, manifest_data: dict, documents: dict | None = None,
                 files: dict | None = None) -> Path:
    """Write `<name>.csv` for each table, manifest.json, any other `<name>.json` documents and
    any other files (`files`: file name -> a function that writes it to the path it is given),
    all or nothing."""
    with staged(out) as staging:
        for name, table in tables.items():
            table.to_csv(staging / f"{name}.csv", index=False)
        for name, write in (files or {}).items():
            write(staging / name)
        for name, document in {"manifest": manifest_data, **(documents or {})}.items():
            (staging / f"{name}.json").write_text(json.dumps(document, indent=2, default=str) + "\n")
    return Path(out)
