"""A run folder (`icsim run`) or compare folder (`icsim compare`) read for the report: its KPI
statistics by series, the finance tables of a compare, and the warnings its figures need."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import InputError
from ..experiment.kpis import WEEKLY_COLUMNS, WEEKLY_KPIS
from ..experiment.stats import summarise
from .display import kpi_value as fmt

OCCUPANCY_WARNING = 0.97


@dataclass
class Folder:
    path: Path
    kind: str  # "run" or "compare"
    manifest: dict
    series: list[str]  # the run's scenario name, or the baseline's then each scenario's
    stats: pd.DataFrame  # series, kpi, scope, unit, mean, ci95_low, ci95_high
    scenarios: dict[str, dict]  # series name -> resolved scenario
    summary: pd.DataFrame | None = None
    weekly: pd.DataFrame | None = None
    yearly: pd.DataFrame | None = None
    deltas: pd.DataFrame | None = None
    people: pd.DataFrame | None = None
    benefit: pd.DataFrame | None = None
    sensitivity: pd.DataFrame | None = None
    who_saves: pd.DataFrame | None = None
    run_rate: pd.DataFrame | None = None
    by_year: pd.DataFrame | None = None
    extra: dict = field(default_factory=dict)

    @property
    def run_settings(self) -> dict:
        return self.scenarios[self.series[0]].get("run", {})

    def value(self, kpi: str, scope: str = "total", series: str | None = None) -> float:
        rows = self.stats[(self.stats["series"] == (series or self.series[0])) & (self.stats["kpi"] == kpi)
                          & (self.stats["scope"] == scope)]
        return float(rows["mean"].iloc[0]) if len(rows) else float("nan")

    def scopes(self, kpi: str) -> list[str]:
        return [s for s in dict.fromkeys(self.stats[self.stats["kpi"] == kpi]["scope"]) if s != "total"]


def _csv(path: Path, columns: set[str]) -> pd.DataFrame:
    try:
        frame = pd.read_csv(path)
    except (OSError, ValueError, pd.errors.ParserError) as exc:
        raise InputError(f"{path}: not a readable CSV: {exc}") from None
    missing = columns - set(frame.columns)
    if missing:
        raise InputError(f"{path}: columns {sorted(missing)} missing; expected the file icsim writes")
    return frame


WEEKLY_CHUNK_ROWS = 1_000_000  # weekly.csv is read this many rows at a time (a 10-year, 100-replication run has millions)


def _charted_weekly(path: Path) -> pd.DataFrame:
    """The rows of weekly.csv the report charts (WEEKLY_KPIS), read a chunk at a time and
    filtered as they come, so a long run's file is never in memory whole."""
    columns = set(WEEKLY_COLUMNS)
    try:
        with pd.read_csv(path, chunksize=WEEKLY_CHUNK_ROWS, dtype={"kpi": str, "scope": str, "unit": str}) as chunks:
            kept = []
            for chunk in chunks:
                missing = columns - set(chunk.columns)
                if missing:
                    raise InputError(f"{path}: columns {sorted(missing)} missing; expected the file icsim writes")
                kept.append(chunk[chunk["kpi"].isin(WEEKLY_KPIS)])
    except (OSError, ValueError, pd.errors.ParserError) as exc:
        raise InputError(f"{path}: not a readable CSV: {exc}") from None
    if not kept:  # only a header (or nothing): as the whole file read at once would give
        return _csv(path, columns).iloc[:0]
    return kept[0] if len(kept) == 1 else pd.concat(kept)


def load_folder(path: Path) -> Folder:
    """Read a run or compare folder; InputError (one line) if it is neither."""
    path = Path(path)
    expected = "expected an icsim run folder (manifest.json, summary.csv) or compare folder (manifest.json, kpi_deltas.csv)"
    if not path.is_dir():
        raise InputError(f"{path}: no such folder; {expected}")
    if (path / "run.json").is_file():
        raise InputError(f"{path}: an unfinished run (run.json present); finish it with: icsim run --resume {path}")
    manifest_path = path / "manifest.json"
    if not manifest_path.is_file():
        raise InputError(f"{path}: manifest.json missing; {expected}")
    try:
        manifest = json.loads(manifest_path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError, OSError) as exc:
        raise InputError(f"{manifest_path}: not valid JSON: {exc}") from None
    if not isinstance(manifest, dict):
        raise InputError(f"{manifest_path}: expected a JSON object")
    if isinstance(manifest.get("scenario"), dict) and (path / "summary.csv").is_file():
        return _load_run(path, manifest)
    if isinstance(manifest.get("baseline"), dict) and isinstance(manifest.get("scenarios"), dict) \
            and (path / "kpi_deltas.csv").is_file():
        return _load_compare(path, manifest)
    raise InputError(f"{path}: {expected}")


def _load_run(path: Path, manifest: dict) -> Folder:
    name = manifest["scenario"].get("meta", {}).get("name", "run")
    summary = _csv(path / "summary.csv", {"kpi", "scope", "unit", "mean", "ci95_low", "ci95_high", "p10", "p90"})
    stats = summary.assign(series=name)[["series", "kpi", "scope", "unit", "mean", "ci95_low", "ci95_high"]]
    folder = Folder(path, "run", manifest, [name], stats, {name: manifest["scenario"]}, summary=summary)
    if (path / "weekly.csv").is_file():
        folder.weekly = _charted_weekly(path / "weekly.csv")
    if (path / "yearly.csv").is_file():
        folder.yearly = _csv(path / "yearly.csv", {"kpi", "scope", "unit", "year", "mean", "p2_5", "p10", "p50",
                                                   "p90", "p97_5"})
    return folder


def _load_compare(path: Path, manifest: dict) -> Folder:
    base = manifest["baseline"].get("meta", {}).get("name", "baseline")
    names = [base, *manifest["scenarios"]]
    deltas = _csv(path / "kpi_deltas.csv", {"scenario", "kpi", "scope", "unit", "baseline", "scenario_value", "delta",
                                            "ci95_low", "ci95_high"})
    if (path / "replications.csv").is_file():
        reps = _csv(path / "replications.csv", {"replication", "kpi", "scope", "unit", "value", "scenario"})
        by = ("series", "kpi", "scope", "unit")
        stats = summarise(reps.rename(columns={"scenario": "series"}), by)[[*by, "mean", "ci95_low", "ci95_high"]]
    else:  # means only, from the deltas
        first = deltas[deltas["scenario"] == names[1]] if len(names) > 1 else deltas.iloc[:0]
        frames = [first.assign(series=base, mean=first["baseline"])]
        frames += [deltas[deltas["scenario"] == n].assign(series=n, mean=lambda f: f["scenario_value"]) for n in names[1:]]
        stats = pd.concat(frames, ignore_index=True).assign(ci95_low=np.nan, ci95_high=np.nan)
        stats = stats[["series", "kpi", "scope", "unit", "mean", "ci95_low", "ci95_high"]]
    folder = Folder(path, "compare", manifest, names, stats, {base: manifest["baseline"], **manifest["scenarios"]},
                    deltas=deltas)
    if (path / "people.csv").is_file():
        folder.people = _csv(path / "people.csv", {"scenario", "counter", "definition", "baseline", "change", "ci95_low", "ci95_high"})
    if (path / "benefit.csv").is_file():
        folder.benefit = _csv(path / "benefit.csv", {"scenario", "component", "category", "in_net", "low", "central",
                                                     "high", "year_p10", "year_p90"})
    if (path / "benefit_by_year.csv").is_file():
        folder.by_year = _csv(path / "benefit_by_year.csv", {"scenario", "year", "realisation", "discount_factor", "central",
                                                             "low", "high", "present_value_central"})
    if (path / "run_rate.csv").is_file():
        folder.run_rate = _csv(path / "run_rate.csv", {"scenario", "item", "kpi", "kpi_delta", "annual_volume", "low", "central",
                                                      "high", "note"})
    if (path / "who_saves.csv").is_file():
        folder.who_saves = _csv(path / "who_saves.csv", {"scenario", "payer_name", "components", "low", "central", "high"})
    if (path / "sensitivity.csv").is_file():
        folder.sensitivity = _csv(path / "sensitivity.csv", {"scenario", "cost_item", "net_at_low", "net_at_high", "swing"})
    return folder


def spans_years(folder: Folder) -> list[int]:
    """The reporting years of a run's yearly.csv (none for a compare folder)."""
    if folder.yearly is None or folder.yearly.empty:
        return []
    return sorted(int(y) for y in folder.yearly["year"].unique())


def warnings(folder: Folder) -> list[str]:
    """Why the figures may be fragile: a full service, a short warm-up, few replications, less than a year."""
    found = []
    for series in folder.series:
        for kpi, service in (("bed_occupancy", "short-term beds"), ("reablement_occupancy", "reablement")):
            # the total and every site or team: one full site is a queue even when the total is not
            rows = folder.stats[(folder.stats["series"] == series) & (folder.stats["kpi"] == kpi)]
            full = [(scope, float(mean)) for scope, mean in zip(rows["scope"], rows["mean"], strict=True)
                    if math.isfinite(mean) and mean >= OCCUPANCY_WARNING]
            for scope, value in sorted(full, key=lambda item: item[0] != "total"):
                where = service if scope == "total" else f"{service} at {scope}"
                found.append(f"{series}: {where} occupancy averages {fmt(value, 'proportion')} (≥ "
                             f"{OCCUPANCY_WARNING:.0%}): queues may be growing, so means depend on the run length.")
    run = folder.run_settings
    los = folder.value("bed_los_days", "total")
    if not math.isfinite(los):
        los = float(((folder.scenarios[folder.series[0]].get("beds") or {}).get("los") or {}).get("mean", float("nan")))
    warmup = float(run.get("warmup_days", folder.manifest.get("warmup_days", 0)) or 0)
    if math.isfinite(los) and warmup < 4 * los and not run.get("census"):
        found.append(f"Warm-up {warmup:g} days is shorter than 4 × the mean short-term bed stay ({4 * los:.0f} days) and "
                     "the run has no census start (run.census): the start may still be too empty.")
    replications = int(folder.manifest.get("replications", run.get("replications", 0)) or 0)
    if replications < 10:
        found.append(f"Only {replications} replications: confidence intervals are wide and unstable (use ≥ 10).")
    years = float(folder.manifest.get("years", run.get("years", 0)) or 0)
    if years < 1:
        found.append(f"The run reports {years:g} years, less than a year: seasonal effects are not averaged out.")
    return found
