"""Read a patient-level extract (spells + intermediate-care episodes) and check its quality.

The contract is in docs/data-contract.md. `read_extract` returns clean frames and a quality
table with one row per rule (even when nothing broke it). Rules run in a fixed order on the
rows still kept, so a dropped row is counted once, under the first rule it breaks.

Row numbers in the quality table are line numbers in the file, the header being line 1 (so
the first data row is 2); for parquet, data row i (from 0) is numbered i + 2 the same way.
The quality table never holds person_id, spell_id or episode_id values.

Timestamps: ISO 8601 only. A value with an offset (Z, +01:00, -0500) is converted to UTC; a
value without one is taken as UTC already; then the zone is dropped, so the clean frames hold
tz-naive datetime64[ns] in UTC. A date alone means 00:00 on that date.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import InputError
from ..inputs.reading import read_text

SPELL_COLUMNS = ("spell_id", "person_id", "age", "admission_ts", "ready_ts", "discharge_ts", "pathway", "site")
EPISODE_COLUMNS = (
    "episode_id", "person_id", "service", "site", "source", "referral_ts", "start_ts", "end_ts",
    "outcome", "care_hours_start", "care_hours_end",
)  # fmt: skip
# optional: used when present (a home locality or neighbourhood team, as the scenario names them)
OPTIONAL_COLUMNS = ("locality",)
PATHWAYS = ("P0", "P1", "P2", "P3", "died")
SERVICES = ("reablement", "bed", "home_ward")
SOURCES = ("hospital_discharge", "front_door", "community")
OUTCOMES = ("home", "home_with_care", "long_term_care", "readmitted", "died")
COHORT_MIN_AGE = 65
AGE_RANGE = (0, 120)
QUALITY_COLUMNS = ("file", "rule", "rows_broken", "example_rows", "action", "note")
MAX_EXAMPLES = 5
# Without a declared extract date, the latest timestamp at most FUTURE_MARGIN_DAYS after the
# EXTRACT_DATE_QUANTILE of all timestamps is taken as the extract date; anything later is a
# mistyped future date (docs/decisions.md, "A timestamp in the future is a data fault").
EXTRACT_DATE_QUANTILE = 0.999
FUTURE_MARGIN_DAYS = 7
# Written by common exporters for "no value"; read as blank (and counted).
NULL_MARKERS = frozenset({"NA", "N/A", "NULL", "null", "NaN", "nan", "None", "NaT"})

_ISO = re.compile(
    r"^\d{4}-\d{2}-\d{2}"  # date
    r"(?P<time>[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?"  # optional time
    r"(?P<zone>Z|[+-]\d{2}(?::?\d{2})?)?)?$"  # optional zone, only after a time
)
_DAY_FIRST = re.compile(r"^\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}\b")
KIND_DATE = "date only"
KIND_NAIVE = "date-time without offset"
KIND_Z = "date-time with Z"
KIND_OFFSET = "date-time with numeric offset"


@dataclass(frozen=True)
class Extract:
    """Clean data, indexed by `row` (the row number in the source file), plus the quality table.

    spells: spell_id, person_id (string), age (int64), admission_ts, ready_ts, discharge_ts
        (datetime64[ns], UTC, tz-naive; NaT = blank), pathway (category), site, locality (string).
    episodes: episode_id, person_id, service, site, source (string/category), referral_ts,
        start_ts, end_ts (datetime64[ns]), outcome (category), care_hours_start,
        care_hours_end (float64; NaN = blank), locality (string).
    locality is optional in the files: all blank when the file has no such column.
    extract_date: the cut-off (given, else inferred: infer_extract_date).
    quality: columns file, rule, rows_broken, example_rows, action, note.
    """

    spells: pd.DataFrame
    episodes: pd.DataFrame
    extract_date: pd.Timestamp
    quality: pd.DataFrame


# ---------------------------------------------------------------------------------------------
# Reading


def _find(folder: Path, stem: str) -> Path:
    found = [folder / f"{stem}{ext}" for ext in (".csv", ".parquet") if (folder / f"{stem}{ext}").is_file()]
    if not found:
        raise InputError(f"{folder / (stem + '.csv')}: file not found (nor {stem}.parquet); expected the {stem} extract")
    if len(found) > 1:
        raise InputError(f"{folder}: both {stem}.csv and {stem}.parquet present; expected exactly one")
    return found[0]


def _read_csv(path: Path) -> tuple[list[str], list[int], list[list[str]]]:
    """Header, row numbers (line where each record starts) and records; blank lines skipped."""
    text = read_text(path, "CSV file")  # UTF-8 or its byte-order mark; folders, loops, size refused
    try:
        reader = csv.reader(io.StringIO(text, newline=""))
        header: list[str] | None = None
        rows, records = [], []
        line = 0
        for record in reader:
            start, line = line + 1, reader.line_num
            if not record or all(not v.strip() for v in record):
                continue
            if header is None:
                header = [c.strip() for c in record]
                continue
            rows.append(start)
            records.append(record)
    except csv.Error as exc:
        raise InputError(f"{path}: not readable as CSV ({exc}); expected a comma-separated file") from None
    if header is None:
        raise InputError(f"{path}: empty file; expected a header row and data rows")
    return header, rows, records


def _read_parquet(path: Path) -> tuple[list[str], list[int], list[list[str]]]:
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        raise InputError(f"{path}: reading parquet needs pyarrow, which is not installed; install pyarrow or give the file as CSV") from None
    try:
        frame = pd.read_parquet(path)
    except Exception as exc:  # any reader failure means a bad input file
        raise InputError(f"{path}: not readable as parquet ({type(exc).__name__}); expected a parquet file") from None

    def text(value: Any) -> str:
        if value is None or (not isinstance(value, str) and pd.isna(value)):
            return ""
        if isinstance(value, pd.Timestamp):
            return value.isoformat()
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
        return str(value)

    header = [str(c).strip() for c in frame.columns]
    records = [[text(v) for v in row] for row in frame.itertuples(index=False, name=None)]
    return header, [i + 2 for i in range(len(records))], records


# ---------------------------------------------------------------------------------------------
# The quality log for one file


class _Checked:
    """One file's raw text (index = row number), the rows still kept, and the rules applied."""

    def __init__(self, name: str, raw: pd.DataFrame, ids: set[str]):
        self.name = name
        self.raw = raw
        self.keep = pd.Series(True, index=raw.index)
        self.log: list[dict[str, Any]] = []
        self.ids = ids  # identifier values: never written into a note

    def record(self, rule: str, broken: pd.Series, action: str, note: str = "") -> pd.Index:
        """Log a rule over the rows still kept; drop them if the action says so. Returns the rows."""
        rows = broken.index[broken.fillna(False).astype(bool).to_numpy() & self.keep.to_numpy()]
        examples = ", ".join(str(r) for r in rows[:MAX_EXAMPLES])
        self.log.append({"file": self.name, "rule": rule, "rows_broken": len(rows), "example_rows": examples, "action": action, "note": note})
        if action in ("dropped", "excluded (cohort)"):
            self.keep.loc[rows] = False
        return rows

    def fixed(self, rule: str, action: str, note: str) -> None:
        """A rule that broke no row (a file-level check that passed, or a note)."""
        self.log.append({"file": self.name, "rule": rule, "rows_broken": 0, "example_rows": "", "action": action, "note": note})

    def safe_values(self, values: pd.Series) -> str:
        """Up to 5 distinct bad values for a note, leaving out anything equal to an identifier."""
        shown = [v for v in dict.fromkeys(values.tolist()) if v not in self.ids][:MAX_EXAMPLES]
        return ", ".join(repr(v[:20]) for v in shown)


def _load(path: Path, columns: tuple[str, ...], id_columns: tuple[str, ...]) -> _Checked:
    header, rows, records = _read_parquet(path) if path.suffix == ".parquet" else _read_csv(path)
    name = path.name
    duplicated = sorted({c for c in header if header.count(c) > 1})
    if duplicated:
        raise InputError(f"{path}: column {', '.join(duplicated)} appears more than once; expected each column once")
    missing = [c for c in columns if c not in header]
    if missing:
        raise InputError(f"{path}: required column {', '.join(missing)} missing; expected columns {', '.join(columns)}")
    extra = [c for c in header if c not in columns and c not in OPTIONAL_COLUMNS]
    width = len(header)
    good = [len(r) == width for r in records]
    columns = (*columns, *OPTIONAL_COLUMNS)  # an optional column not in the file reads as blank
    position = {c: header.index(c) for c in columns if c in header}
    table = [[r[position[c]].strip() if ok and c in position else "" for c in columns] for r, ok in zip(records, good)]
    raw = pd.DataFrame(table, columns=list(columns), index=pd.Index(rows, name="row"), dtype=object)
    ids = {v for c in id_columns for v in raw[c] if v}
    checked = _Checked(name, raw, ids)
    checked.fixed("file present", "fatal", "a missing file stops the run")
    checked.fixed("required columns present", "fatal", "a missing required column stops the run")
    note = f"{len(extra)} extra column(s) ignored (dropped), rows kept: {', '.join(extra)}" if extra else "none"
    checked.fixed("extra columns", "dropped" if extra else "kept", note)
    checked.record(
        "malformed row (wrong number of fields)", pd.Series(np.logical_not(good), index=raw.index), "dropped",
        f"expected {width} fields per row",
    )
    nulls = raw.isin(NULL_MARKERS)
    raw[nulls] = ""
    checked.record("null marker read as blank", nulls.any(axis=1), "corrected", "NA, NULL, NaN, None and similar read as blank")
    _duplicates(checked, id_columns[0])
    blank_id = (raw[list(id_columns)] == "").any(axis=1)
    checked.record("missing identifier", blank_id, "dropped", f"{' or '.join(id_columns)} blank")
    return checked


def _duplicates(checked: _Checked, id_column: str) -> None:
    raw = checked.raw
    exact = raw.duplicated(keep="first") & checked.keep
    checked.record("exact duplicate row", exact, "dropped", "extra copies dropped; the first kept")
    kept = raw[checked.keep]
    clash = kept[id_column].ne("") & kept.duplicated(subset=[id_column], keep="first")
    checked.record(
        f"duplicate {id_column} with different content", clash.reindex(raw.index, fill_value=False), "dropped",
        "the first row for each id kept, later ones dropped",
    )


# ---------------------------------------------------------------------------------------------
# Timestamps


def _kind(value: str) -> str | None:
    match = _ISO.match(value)
    if match is None:
        return None
    if match["time"] is None:
        return KIND_DATE
    zone = match["zone"]
    return KIND_NAIVE if zone is None else KIND_Z if zone == "Z" else KIND_OFFSET


def parse_timestamps(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """ISO 8601 text -> (datetime64[ns] in UTC, tz-naive; kind of each value or None/"" for blank).

    Blank gives NaT and kind "". A value that is not ISO 8601 (or not a real date) gives NaT
    and a missing kind (None/NaN: test with pd.isna).
    """
    kinds = values.map(lambda v: "" if v == "" else _kind(v))
    parseable = kinds.notna() & kinds.ne("")
    parsed = pd.Series(pd.NaT, index=values.index, dtype="datetime64[ns]")
    if parseable.any():
        utc = pd.to_datetime(values[parseable], format="ISO8601", utc=True, errors="coerce")
        parsed[parseable] = utc.dt.tz_convert("UTC").dt.tz_localize(None).astype("datetime64[ns]")
    kinds = kinds.where(~(parseable & parsed.isna()), None)  # valid shape, impossible date
    return parsed, kinds


def _timestamps(checked: _Checked, columns: tuple[str, ...], required: str) -> dict[str, pd.Series]:
    raw = checked.raw
    checked.record(f"missing {required}", raw[required].eq(""), "dropped", f"{required} is required")
    parsed, kinds = {}, {}
    for column in columns:
        parsed[column], kinds[column] = parse_timestamps(raw[column])
    frame = pd.DataFrame(kinds)
    bad = frame.isna()
    kept_bad = bad[checked.keep]
    per_column = ", ".join(f"{c} {_suppressed(int(kept_bad[c].sum()))}" for c in columns if kept_bad[c].any())
    day_first = int(raw.loc[checked.keep][kept_bad.any(axis=1)][list(columns)].map(lambda v: bool(_DAY_FIRST.match(v))).to_numpy().sum())
    note = "not ISO 8601 or not a real date/time"
    if per_column:
        note += f"; by column: {per_column}; day/month/year-like values: {_suppressed(day_first)}"
    checked.record("unparseable timestamp", bad.any(axis=1), "dropped", note)

    kept = frame[checked.keep]
    counts = pd.Series(kept.to_numpy().ravel()).replace("", np.nan).dropna().value_counts()
    order = (KIND_NAIVE, KIND_Z, KIND_OFFSET, KIND_DATE)  # breaks ties in the count
    counts = counts.loc[sorted(counts.index, key=lambda k: (-counts[k], order.index(k)))]
    dominant = counts.index[0] if len(counts) else None
    other = frame.apply(lambda col: col.notna() & col.ne("") & col.ne(dominant)).any(axis=1)
    listed = "; ".join(f"{k}: {n}" for k, n in counts.items()) or "no timestamps"
    checked.record(
        "mixed timestamp formats", other, "corrected",
        f"rows using a kind other than the most common ({dominant}); values by kind: {listed}; offsets converted to UTC, "
        "values without an offset taken as UTC",
    )
    return parsed


def _order(checked: _Checked, ts: dict[str, pd.Series], first: str, then: str) -> None:
    broken = ts[then] < ts[first]
    checked.record(f"{then} before {first}", broken, "dropped", f"{then} earlier than {first}")


def _codes(checked: _Checked, column: str, allowed: tuple[str, ...], blank_ok: bool) -> None:
    values = checked.raw[column]
    bad = ~values.isin(allowed)
    if blank_ok:
        bad &= values.ne("")
    shown = checked.safe_values(values[bad & checked.keep])
    note = f"expected {', '.join(allowed)}" + (" or blank" if blank_ok else "")
    checked.record(f"unknown {column}", bad, "dropped", note + (f"; seen: {shown}" if shown else ""))


def _after(checked: _Checked, ts: dict[str, pd.Series], extract_date: pd.Timestamp, how: str) -> None:
    """A timestamp after the extract date cannot have happened yet: a data fault (a mistyped
    year, say). The row is dropped; the note counts the values by column."""
    late = {column: (values > extract_date) & checked.keep for column, values in ts.items()}
    per_column = ", ".join(f"{column} {_suppressed(int(hit.sum()))}" for column, hit in late.items() if hit.any())
    note = f"extract date {extract_date.isoformat()} ({how})" + (f"; by column: {per_column}" if per_column else "")
    checked.record("timestamp after extract date", pd.concat(late.values(), axis=1).any(axis=1), "dropped", note)


def infer_extract_date(stamps: pd.Series) -> tuple[pd.Timestamp, str]:
    """The extract date of an extract that does not declare one, and how it was found.

    The latest timestamp at most FUTURE_MARGIN_DAYS after the EXTRACT_DATE_QUANTILE of all of
    them (the quantile is an actual value, the next one up: with under 1,000 timestamps it is
    the latest, and nothing is called future). An extract of activity up to a date holds
    events on every day before it, so a legitimate last event is within hours of that
    quantile; a year mistyped into the future is not.
    """
    values = np.sort(stamps.dropna().to_numpy(dtype="datetime64[ns]"))
    high = np.quantile(values.astype("int64"), EXTRACT_DATE_QUANTILE, method="higher")
    limit = pd.Timestamp(int(high)) + pd.Timedelta(days=FUTURE_MARGIN_DAYS)
    plausible = values[values <= limit.to_datetime64()]
    later = len(values) - len(plausible)
    how = (f"inferred: the latest timestamp at most {FUTURE_MARGIN_DAYS} days after the {EXTRACT_DATE_QUANTILE:.1%} "
           f"quantile of all timestamps, {later} later value(s) treated as future dates; declare extract_date in "
           "manifest.json to set it")
    return pd.Timestamp(plausible[-1]), how


def _numbers(values: pd.Series) -> pd.Series:
    """Text -> float64; blank, non-numeric and non-finite (inf, nan) values -> NaN."""
    numbers = pd.to_numeric(values.where(values.ne(""), None), errors="coerce").astype("float64")
    return numbers.where(np.isfinite(numbers))


def _usable(checked: _Checked, path: Path) -> None:
    n = int(checked.keep.sum())
    if n == 0:
        worst = max(checked.log, key=lambda r: (r["action"] in ("dropped", "excluded (cohort)")) * r["rows_broken"])
        cause = f" (most by: {worst['rule']}, {worst['rows_broken']} rows)" if worst["rows_broken"] else ""
        raise InputError(f"{path}: 0 usable rows of {len(checked.raw)} read{cause}; expected at least one")
    checked.fixed("usable rows", "fatal", f"{n} of {len(checked.raw)} rows kept; zero would stop the run")


# ---------------------------------------------------------------------------------------------
# The two files


def _spells_first(path: Path) -> tuple[_Checked, dict[str, pd.Series]]:
    checked = _load(path, SPELL_COLUMNS, ("spell_id", "person_id"))
    ts = _timestamps(checked, ("admission_ts", "ready_ts", "discharge_ts"), "admission_ts")
    return checked, ts


def _spells_rest(checked: _Checked, ts: dict[str, pd.Series], extract_date: pd.Timestamp, how: str) -> pd.Series:
    """Remaining spell rules; returns each kept person's ages (for the episode cohort)."""
    raw = checked.raw
    _codes(checked, "pathway", PATHWAYS, blank_ok=True)
    discharged = ts["discharge_ts"].notna()
    checked.record(
        "pathway and discharge_ts disagree", raw["pathway"].eq("") == discharged, "dropped",
        "pathway blank with discharge_ts given, or pathway given with discharge_ts blank",
    )
    checked.record(
        "ready_ts blank for a live discharge", discharged & raw["pathway"].ne("died") & ts["ready_ts"].isna(), "dropped",
        "ready_ts may be blank only if the person died before being ready or is still in hospital",
    )
    _order(checked, ts, "admission_ts", "ready_ts")
    _order(checked, ts, "admission_ts", "discharge_ts")
    _order(checked, ts, "ready_ts", "discharge_ts")
    _after(checked, ts, extract_date, how)
    age = _numbers(raw["age"])
    valid = age.notna() & (age % 1 == 0) & age.between(*AGE_RANGE)
    checked.record("age invalid", ~valid, "dropped", f"expected a whole number {AGE_RANGE[0]}-{AGE_RANGE[1]}")
    ages = age[checked.keep].groupby(raw.loc[checked.keep, "person_id"]).max()
    checked.record(
        f"age under {COHORT_MIN_AGE}", age < COHORT_MIN_AGE, "excluded (cohort)", f"the cohort is aged {COHORT_MIN_AGE}+"
    )
    return ages


def _spells_frame(checked: _Checked, ts: dict[str, pd.Series]) -> pd.DataFrame:
    raw = checked.raw[checked.keep]
    out = pd.DataFrame(index=raw.index)
    out["spell_id"] = raw["spell_id"].astype("string")
    out["person_id"] = raw["person_id"].astype("string")
    out["age"] = _numbers(raw["age"]).astype("int64")
    for column, values in ts.items():
        out[column] = values[checked.keep]
    out["pathway"] = pd.Categorical(raw["pathway"].where(raw["pathway"].ne(""), None), categories=PATHWAYS)
    out["site"] = raw["site"].where(raw["site"].ne(""), None).astype("string")
    out["locality"] = _optional_text(raw["locality"])
    return out


def _optional_text(values: pd.Series) -> pd.Series:
    return values.where(values.ne(""), None).astype("string")


def _episodes_first(path: Path) -> tuple[_Checked, dict[str, pd.Series]]:
    checked = _load(path, EPISODE_COLUMNS, ("episode_id", "person_id"))
    ts = _timestamps(checked, ("referral_ts", "start_ts", "end_ts"), "referral_ts")
    return checked, ts


def _episodes_rest(checked: _Checked, ts: dict[str, pd.Series], extract_date: pd.Timestamp, how: str, ages: pd.Series,
                   with_spell: set[str]) -> dict[str, pd.Series]:
    """Remaining episode rules; returns the corrected care hours. `with_spell`: the people
    with a valid spell."""
    raw = checked.raw
    _codes(checked, "service", SERVICES, blank_ok=False)
    _codes(checked, "source", SOURCES, blank_ok=False)
    _codes(checked, "outcome", OUTCOMES, blank_ok=True)
    ended = ts["end_ts"].notna()
    checked.record(
        "outcome and end_ts disagree", raw["outcome"].eq("") == ended, "dropped",
        "outcome blank with end_ts given, or outcome given with end_ts blank",
    )
    checked.record("end_ts without start_ts", ended & ts["start_ts"].isna(), "dropped", "an ended episode must have started")
    _order(checked, ts, "referral_ts", "start_ts")
    _order(checked, ts, "start_ts", "end_ts")
    _after(checked, ts, extract_date, how)
    bed = raw["service"].eq("bed")
    checked.record("site given for a non-bed service", ~bed & raw["site"].ne(""), "corrected", "site set to blank")
    checked.record("site blank for a bed episode", bed & raw["site"].eq(""), "kept", "counts in service totals, in no bed base")
    hours = {}
    for column in ("care_hours_start", "care_hours_end"):
        text = raw[column]
        hours[column] = _numbers(text)
        checked.record(f"{column} not a number", text.ne("") & hours[column].isna(), "dropped", "expected a number of hours per week or blank")
    reablement = raw["service"].eq("reablement")
    given = pd.concat([h.notna() for h in hours.values()], axis=1).any(axis=1)
    negative = pd.concat([h < 0 for h in hours.values()], axis=1).any(axis=1)
    checked.record("care hours for a non-reablement service", ~reablement & given, "corrected", "care hours set to blank")
    checked.record("care hours negative", reablement & negative, "corrected", "negative care hours set to blank")
    hours = {column: values.where(reablement & (values >= 0)) for column, values in hours.items()}
    young = raw["person_id"].map(ages).lt(COHORT_MIN_AGE)
    checked.record(
        f"person under {COHORT_MIN_AGE} in spells", young, "excluded (cohort)",
        f"the person's every valid spell has age under {COHORT_MIN_AGE}; people with no spell kept",
    )
    orphan = raw["source"].eq("hospital_discharge") & ~raw["person_id"].isin(with_spell)
    checked.record(
        "hospital discharge episode with no spell", orphan, "kept",
        "source hospital_discharge, but the person has no valid spell in spells: a spell that ended before the "
        "extract's period, one dropped by a spell rule, or a linkage fault; the episode counts in its service",
    )
    return hours


def _episodes_frame(checked: _Checked, ts: dict[str, pd.Series], hours: dict[str, pd.Series]) -> pd.DataFrame:
    raw = checked.raw[checked.keep]
    keep = checked.keep
    out = pd.DataFrame(index=raw.index)
    out["episode_id"] = raw["episode_id"].astype("string")
    out["person_id"] = raw["person_id"].astype("string")
    out["service"] = pd.Categorical(raw["service"], categories=SERVICES)
    site = raw["site"].where(raw["site"].ne("") & raw["service"].eq("bed"), None)
    out["site"] = site.astype("string")
    out["source"] = pd.Categorical(raw["source"], categories=SOURCES)
    for column, values in ts.items():
        out[column] = values[keep]
    out["outcome"] = pd.Categorical(raw["outcome"].where(raw["outcome"].ne(""), None), categories=OUTCOMES)
    for column, values in hours.items():
        out[column] = values[keep].astype("float64")
    out["locality"] = _optional_text(raw["locality"])
    return out


# ---------------------------------------------------------------------------------------------
# Public


def parse_extract_date(value: Any) -> pd.Timestamp:
    """A date or date-time (ISO 8601 text, datetime.date/datetime, Timestamp) -> tz-naive UTC Timestamp."""
    if isinstance(value, str):
        parsed, kinds = parse_timestamps(pd.Series([value.strip()]))
        if kinds.iloc[0] in (None, ""):
            raise InputError(f"extract_date = {value!r}: expected an ISO 8601 date or date-time")
        return parsed.iloc[0]
    try:
        stamp = pd.Timestamp(value)
    except (TypeError, ValueError):
        raise InputError(f"extract_date = {value!r}: expected an ISO 8601 date or date-time") from None
    if pd.isna(stamp):
        raise InputError(f"extract_date = {value!r}: expected an ISO 8601 date or date-time")
    if stamp.tzinfo is not None:
        stamp = stamp.tz_convert("UTC").tz_localize(None)
    return stamp.as_unit("ns")


def read_extract(folder: str | Path, extract_date: Any = None) -> Extract:
    """Read spells and ic_episodes (.csv or .parquet) from `folder`, apply the quality rules.

    Raises InputError (one line) when a file is missing or unreadable, a required column is
    missing, or no usable rows remain in a file.
    """
    folder = Path(folder)
    spell_path, episode_path = _find(folder, "spells"), _find(folder, "ic_episodes")
    cutoff = None if extract_date is None else parse_extract_date(extract_date)
    how = "declared"
    spells, spell_ts = _spells_first(spell_path)
    episodes, episode_ts = _episodes_first(episode_path)
    spells.ids = episodes.ids = spells.ids | episodes.ids  # no note may show an id from either file
    if cutoff is None:
        stamps = pd.concat([s[c.keep] for c, ts in ((spells, spell_ts), (episodes, episode_ts)) for s in ts.values()]).dropna()
        if stamps.empty:
            raise InputError(f"{folder}: no valid timestamps in either file; expected dated rows")
        cutoff, how = infer_extract_date(stamps)
    ages = _spells_rest(spells, spell_ts, cutoff, how)
    _usable(spells, spell_path)
    with_spell = set(spells.raw.loc[spells.keep, "person_id"])
    hours = _episodes_rest(episodes, episode_ts, cutoff, how, ages, with_spell)
    _usable(episodes, episode_path)
    quality = pd.DataFrame(spells.log + episodes.log, columns=list(QUALITY_COLUMNS))
    quality["rows_broken"] = quality["rows_broken"].astype("int64")
    return Extract(
        spells=_spells_frame(spells, spell_ts),
        episodes=_episodes_frame(episodes, episode_ts, hours),
        extract_date=cutoff,
        quality=quality,
    )


def _suppressed(n: int) -> str:
    return "<5" if 0 < n < 5 else str(n)


def write_quality_report(quality: pd.DataFrame, path: str | Path, *, suppress_small: bool = False) -> tuple[Path, Path]:
    """Write the quality table as CSV at `path` and as markdown beside it (same name, .md).

    suppress_small: for a published copy, counts 1-4 become "<5" and example rows are left out.
    Returns (csv path, markdown path).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    table = quality.loc[:, list(QUALITY_COLUMNS)].copy()
    if suppress_small:
        table["rows_broken"] = table["rows_broken"].map(_suppressed)
        table["example_rows"] = ""
    table.to_csv(path, index=False)
    md = path.with_suffix(".md")
    lines = [
        "# Data-quality report",
        "",
        "Rules run in order on the rows still kept, so each dropped row is counted once. Row numbers are",
        "line numbers in the file (header = 1). No identifier values appear here.",
        "",
        "| file | rule | rows broken | example rows | action | note |",
        "|---|---|---:|---|---|---|",
    ]
    for r in table.itertuples(index=False):
        cells = [str(getattr(r, c)).replace("|", "\\|").replace("\n", " ") for c in QUALITY_COLUMNS]
        lines.append("| " + " | ".join(cells) + " |")
    md.write_text("\n".join(lines) + "\n")
    return path, md


__all__ = [
    "EPISODE_COLUMNS", "OUTCOMES", "PATHWAYS", "SERVICES", "SOURCES", "SPELL_COLUMNS",
    "Extract", "infer_extract_date", "parse_extract_date", "parse_timestamps", "read_extract", "write_quality_report",
]  # fmt: skip
