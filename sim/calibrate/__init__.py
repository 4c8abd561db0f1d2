"""Calibration from a historic extract: data quality -> fitted scenario -> validation.

    extract folder (docs/data-contract.md)
      -> read_extract: clean frames + data-quality report
      -> fit_scenario: every identifiable input, with n and fit statistic
      -> params.toml: a scenario `icsim run` accepts (base scenario for what cannot be fitted)
      -> validation: the calibrated model over the history vs observed weekly KPIs
    With train_until, fitting sees only data before that date, and the validation scores the
    forecast of the weeks after it (a backtest).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import time
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import InputError
from ..files import staged
from ..inputs.loading import load_scenario, scenario_from_dict
from ..outputs.folders import provenance
from ..units import DAYS_PER_YEAR
from .extract import read_extract, write_quality_report
from .params import DAY, fit_scenario, merged_scenario
from .toml_out import render_scenario
from .validate import compare_weeks, failing, gate_warning, plot_weeks, quality_markdown

IDENTIFIERS = ("person_id", "spell_id", "episode_id")


def extract_manifest(folder: Path) -> dict:
    """The extract's own manifest.json (history start, extract date), if it has one."""
    path = Path(folder) / "manifest.json"
    try:
        return json.loads(path.read_text()) if path.exists() else {}
    except json.JSONDecodeError as exc:
        raise InputError(f"{path}: not valid JSON: {exc}") from None


def history_start_of(folder: Path, spells: pd.DataFrame) -> tuple[dt.date, str]:
    """The first day of the history, and how it was found.

    An extract of activity in a period also holds spells admitted earlier and still open, so
    the first admission is not the start. The extract's manifest.json (`history_start`, as
    `icsim synth` writes) is used if present; otherwise the first day with at least 90% of the
    median daily admissions, which can be a few days early (say so in the fits table).
    """
    start = extract_manifest(folder).get("history_start")
    if start:
        return pd.Timestamp(start).date(), "the extract's manifest.json"
    daily = spells["admission_ts"].dt.floor("D").value_counts().sort_index()
    full = daily[daily >= 0.9 * daily.median()]
    return full.index[0].date(), "first day with >= 90% of median daily admissions (no manifest.json)"


def censor_at(spells: pd.DataFrame, episodes: pd.DataFrame, cutoff: pd.Timestamp) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The extract as it would have been on `cutoff` (for a backtest)."""
    spells = spells[spells["admission_ts"] < cutoff].copy()
    for column in ("ready_ts", "discharge_ts"):
        spells.loc[spells[column] >= cutoff, column] = pd.NaT
    spells.loc[spells["discharge_ts"].isna(), "pathway"] = None
    episodes = episodes[episodes["referral_ts"] < cutoff].copy()
    for column in ("start_ts", "end_ts"):
        episodes.loc[episodes[column] >= cutoff, column] = pd.NaT
    episodes.loc[episodes["start_ts"].isna(), "end_ts"] = pd.NaT
    gone = episodes["end_ts"].isna()
    episodes.loc[gone, "outcome"] = None
    episodes.loc[gone, "care_hours_end"] = np.nan
    return spells, episodes


def scenario_name(out: Path) -> str:
    """The calibrated scenario's meta.name: the calibration folder's own name, as one path
    component (`icsim run` puts a scenario's name into its default run folder's name). The
    path is made absolute first, so `calibration/new/..` is named "calibration" and `.` after
    the working folder; separators and control characters become `_`; an empty name (the
    root) becomes "calibration"."""
    name = Path(os.path.abspath(out)).name
    name = re.sub(r"[\\/\x00-\x1f\x7f]", "_", name).strip()
    return name if name not in ("", ".", "..") else "calibration"


def calibrate(folder: Path, out: Path, base_path: Path, train_until: dt.date | None = None,
              replications: int = 10, workers: int = 1, command: list[str] | None = None) -> Path:
    started = time.perf_counter()
    extract = read_extract(folder, extract_manifest(folder).get("extract_date"))
    base = load_scenario(base_path)
    history_start, found = history_start_of(folder, extract.spells)
    fit_until = extract.extract_date
    spells, episodes = extract.spells, extract.episodes
    if train_until is not None:
        fit_until = pd.Timestamp(train_until)
        if not pd.Timestamp(history_start) + 56 * DAY <= fit_until < extract.extract_date:
            raise InputError(f"--train-until = {train_until}: expected a date at least 8 weeks after the history "
                             f"starts ({history_start}) and before the extract date ({extract.extract_date.date()})")
        spells, episodes = censor_at(spells, episodes, fit_until)
    try:
        fitted = fit_scenario(spells, episodes, base, history_start, fit_until)
    except ValueError as exc:
        raise InputError(f"{folder}: cannot fit: {exc}") from None
    fitted.comments[("run", "start_date")] = f"history start: {found}"
    data = merged_scenario(base, fitted)
    name = scenario_name(out)
    data["meta"] = {"name": name, "description": f"calibrated from {Path(folder).name} ({history_start} to {fit_until.date()})"}
    fitted.comments[("meta", "name")] = "the calibration folder"
    fitted.comments[("meta", "description")] = "the extract folder and the history fitted"
    scenario = scenario_from_dict(data, source=f"{out}/params.toml")
    relative_base = Path(base_path).resolve()
    full_years = (extract.extract_date.normalize() - pd.Timestamp(history_start)) / DAY / DAYS_PER_YEAR
    over_history = scenario.with_run(years=round(full_years, 6))
    from_week = 0 if train_until is None else int((fit_until - pd.Timestamp(history_start)) / DAY) // 7
    weekly, table = compare_weeks(over_history, extract.spells, extract.episodes, replications, workers, from_week)
    warning = gate_warning(failing(table), "backtest" if train_until else "validation")
    header = [
        *warning,
        f"{name}: calibrated by `icsim calibrate` from {Path(folder).name}",
        f"history {history_start} to {extract.extract_date.date()}" + (f"; fitted on data before {train_until}" if train_until else ""),
        "Every fitted figure says what it was fitted from, the sample size (counts under 5 shown as <5), the",
        f"method and a fit statistic; the rest is inherited from the base scenario {relative_base.name}.",
    ]
    text = render_scenario(scenario.model_dump(mode="python"), fitted.comments, header,
                           f"inherited from {relative_base.name} (not identifiable from the extract)")

    with staged(out) as staging:
        (staging / "params.toml").write_text(text)
        reloaded = load_scenario(staging / "params.toml")
        if reloaded != scenario:
            raise AssertionError("params.toml does not reload to the fitted scenario")
        write_quality_report(extract.quality, staging / "quality.csv", suppress_small=True)  # counts 1-4 -> "<5"
        (staging / "quality.md").write_text(quality_markdown(table, warning, "backtest" if train_until else "validation", extract.quality))
        pd.DataFrame(fitted.fits).to_csv(staging / "fits.csv", index=False)
        table.to_csv(staging / ("backtest.csv" if train_until else "validation.csv"), index=False)
        weekly.to_csv(staging / ("backtest_weekly.csv" if train_until else "validation_weekly.csv"), index=False)
        plot_weeks(weekly, staging / "plots", "backtest" if train_until else "validation")
        manifest = {
            **provenance(command or []),
            "extract_folder": str(folder),
            "base_scenario": str(base_path),
            "history_start": str(history_start),
            "extract_date": str(extract.extract_date),
            "train_until": str(train_until) if train_until else None,
            "replications": replications,
            "seed": scenario.run.seed,
            "wall_seconds": round(time.perf_counter() - started, 3),
        }
        (staging / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    return Path(out)


__all__ = ["IDENTIFIERS", "calibrate", "censor_at", "history_start_of", "scenario_name"]
