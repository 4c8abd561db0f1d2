"""A synthetic historic extract in the data contract (docs/data-contract.md), from a known truth.

One replication of a "truth" scenario is simulated with patient-level records; spells and
episodes active at any time in the history window (as an extract of activity in a period
would hold) are written as `spells.csv` and `ic_episodes.csv`, right-censored at the extract
date (the end of the window), with the truth
saved beside them (`truth.json`, loadable by `icsim run`). With `faults`, realistic data
faults are injected and counted in `faults.json`, so that the quality checks can be tested.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd

from ..files import check_out_dir
from ..inputs.scenario import Scenario
from ..model import simulate
from ..model.streams import Streams
from ..outputs.folders import provenance, write_folder

SOURCES = {"hospital": "hospital_discharge", "short_term_bed": "hospital_discharge", "front_door": "front_door", "community": "community"}
OUTCOMES = {
    "independent": "home", "ongoing_homecare": "home_with_care", "home": "home", "home_with_p1": "home_with_care",
    "long_term_care": "long_term_care", "readmitted": "readmitted", "escalated": "readmitted", "died": "died",
}  # fmt: skip
SPELL_COLUMNS = ["spell_id", "person_id", "age", "admission_ts", "ready_ts", "discharge_ts", "pathway", "site", "locality"]
EPISODE_COLUMNS = [
    "episode_id", "person_id", "service", "site", "source", "referral_ts", "start_ts", "end_ts", "outcome",
    "care_hours_start", "care_hours_end", "locality",
]  # fmt: skip


def synthesize(truth: Scenario, years: float, seed: int, out: Path, faults: bool = False, command: list[str] | None = None) -> Path:
    out = Path(out)
    check_out_dir(out)
    scenario = truth.with_run(years=years, seed=seed, replications=1)
    records = simulate(scenario, 0, records=True).records
    first, last = float(scenario.run.warmup_days), float(scenario.end_day)
    clock = _Clock(scenario, first, last)
    ages = _ages(Streams(seed, 0), max([r["pid"] for r in records.spells] + [r["pid"] for r in records.episodes] + [0]))

    spells = [
        {
            "person_id": f"P{r['pid']:07d}", "age": int(ages[r["pid"]]), "admission_ts": clock(r["admission"]),
            "ready_ts": clock(r["ready"]), "discharge_ts": clock(r["discharge"]),
            "pathway": r["pathway"] if clock(r["discharge"]) else None, "site": "acute",
            "locality": _locality(r["locality"]),
        }
        for r in records.spells
        if r["admission"] < last and (r["discharge"] is None or r["discharge"] >= first)  # active in the window
    ]  # fmt: skip
    episodes = []
    for r in records.episodes:
        if r["referral"] >= last or (r["end"] is not None and r["end"] < first):
            continue  # not active in the window
        end = clock(r["end"])
        episodes.append({
            "person_id": f"P{r['pid']:07d}", "service": r["service"], "site": r["site"],
            "source": SOURCES[r["source"]], "referral_ts": clock(r["referral"]), "start_ts": clock(r["start"]),
            "end_ts": end, "outcome": OUTCOMES[r["outcome"]] if end else None,
            "care_hours_start": _hours(r["hours_start"]), "care_hours_end": _hours(r["hours_end"]) if end else None,
            "locality": _locality(r["locality"]),
        })  # fmt: skip
    spells_frame = pd.DataFrame(spells).sort_values("admission_ts", kind="stable")
    episodes_frame = pd.DataFrame(episodes).sort_values("referral_ts", kind="stable")
    spells_frame.insert(0, "spell_id", [f"S{i:08d}" for i in range(1, len(spells_frame) + 1)])
    episodes_frame.insert(0, "episode_id", [f"E{i:08d}" for i in range(1, len(episodes_frame) + 1)])
    injected = {}
    if faults:
        rng = Streams(seed, 0)["synth.faults"]
        spells_frame, episodes_frame, injected = inject_faults(spells_frame, episodes_frame, rng)

    manifest_data = {
        **provenance(command or []),
        "note": "synthetic extract (icsim synth); truth.json is the scenario behind it",
        "extract_date": clock(last),
        "history_start": clock(first),
        "seed": seed,
    }
    truth = {"note": "the truth scenario of this extract; `icsim run truth.json` simulates it",
             "scenario": scenario.model_dump(mode="json")}
    documents = {"truth": truth, **({"faults": injected} if faults else {})}
    tables = {"spells": spells_frame[SPELL_COLUMNS], "ic_episodes": episodes_frame[EPISODE_COLUMNS]}
    return write_folder(out, tables, manifest_data, documents)


class _Clock:
    """Simulation days -> ISO 8601 text; None (or beyond the extract date) -> blank."""

    def __init__(self, scenario: Scenario, first: float, last: float):
        self.origin = dt.datetime.combine(scenario.run.start_date, dt.time()) - dt.timedelta(days=first)
        self.last = last

    def __call__(self, t: float | None) -> str | None:
        if t is None or t > self.last:
            return None
        return (self.origin + dt.timedelta(days=t)).isoformat(timespec="seconds")


def _ages(streams: Streams, max_pid: int) -> np.ndarray:
    """Ages 65+ by person: 65 + exponential(mean 13), capped at 104 (assumption: roughly 40% 65-74,
    36% 75-84, 24% 85+, a typical shape for older emergency admissions)."""
    draws = streams["synth.age"].exponential(13.0, max_pid + 1)
    return np.minimum(65 + np.floor(draws), 104)


def _locality(name: str) -> str | None:
    """The optional locality column: blank when the scenario has no localities ("all")."""
    return None if name == "all" else name


def _hours(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def inject_faults(spells: pd.DataFrame, episodes: pd.DataFrame, rng: np.random.Generator):
    """Realistic faults on a small share of rows; returns the frames and what was done."""
    spells, episodes = spells.copy(), episodes.copy()
    n = len(spells)

    def pick(k: int, exclude: set) -> list[int]:
        free = np.array(sorted(set(range(n)) - exclude))
        return sorted(rng.choice(free, size=min(k, len(free)), replace=False).tolist())

    used: set[int] = set()
    k = max(5, n // 500)
    before = pick(k, used)
    used |= set(before)
    unknown = pick(k, used)
    used |= set(unknown)
    missing = pick(k, used)
    used |= set(missing)
    zoned = pick(4 * k, used)
    used |= set(zoned)
    spaced = pick(4 * k, used)
    used |= set(spaced)
    discharged = spells["discharge_ts"].notna() & spells["ready_ts"].notna()
    for i in before:  # discharge an hour before admission
        if discharged.iloc[i]:
            admitted = dt.datetime.fromisoformat(spells.iloc[i]["admission_ts"])
            spells.iat[i, spells.columns.get_loc("discharge_ts")] = (admitted - dt.timedelta(hours=1)).isoformat(timespec="seconds")
    before = [i for i in before if discharged.iloc[i]]
    for i in unknown:
        spells.iat[i, spells.columns.get_loc("pathway")] = "PX"
    for i in missing:
        spells.iat[i, spells.columns.get_loc("admission_ts")] = None
    for i in zoned:  # the same instant written with an offset: 10:00 UTC as 11:00+01:00
        at = dt.datetime.fromisoformat(spells.iloc[i]["admission_ts"]) + dt.timedelta(hours=1)
        spells.iat[i, spells.columns.get_loc("admission_ts")] = at.isoformat(timespec="seconds") + "+01:00"
    for i in spaced:
        spells.iat[i, spells.columns.get_loc("admission_ts")] = spells.iloc[i]["admission_ts"].replace("T", " ")
    duplicated = pick(k, used)  # untouched rows, so each fault is counted once
    spells = pd.concat([spells, spells.iloc[duplicated]], ignore_index=True)
    return spells, episodes, {
        "spells_rows_before_faults": n,
        "discharge_before_admission": len(before),
        "unknown_pathway_code": len(unknown),
        "missing_admission_ts": len(missing),
        "timezone_offset_valid": len(zoned),
        "space_separator_valid": len(spaced),
        "duplicated_rows": len(duplicated),
        "note": "spell rows are 0-based positions before duplicates were appended at the end; "
        "timezone and space-separated forms are valid ISO 8601 and must be parsed, not dropped",
    }
