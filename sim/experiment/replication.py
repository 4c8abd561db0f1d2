"""One replication's result, and the store that keeps each one on disk as soon as it finishes.

A run folder's `replications/` holds `rep-000123.npz` per finished replication (written
atomically), so an interrupted run is resumed by computing only the missing ones.

The files are read as data, never as code: a NumPy `.npz` archive loaded with
`allow_pickle=False`, holding plain numeric arrays and one JSON document (`meta`). Each file
carries its identity (format version, icsim version, the sha256 of the scenario, the seed and the
replication index) and the sha256 of its payload. `load_replication` refuses a file that is
unreadable, damaged, changed, or written for another scenario, seed, replication or version
(`UnusableReplication`, with the reason); the runner then recomputes it and says so.
A run folder may come from someone else: a pickle would run whatever it was crafted to run.

A run that leaves its weekly rows on disk (`run(..., keep_weekly=False)`) also keeps each
replication's rows as the lines of weekly.csv, formatted by the worker that computed them, in
`rep-000123.weekly.csv` beside its `.npz`; the `.npz` records that file's sha256, so the run
folder's weekly.csv is the concatenation of the lines files whose checksum matches (a missing or
changed one is formatted again from the `.npz`).
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from ..files import write_atomic

FORMAT = "icsim-replication"
FORMAT_VERSION = 3  # 1: a pickled tuple; 2: a pickled ReplicationResult; 3: npz + JSON identity, no pickle
SUFFIX = ".npz"
FRAMES = ("summary", "weekly", "yearly")
_META, _CHECKSUM = "meta", "sha256"  # the archive's two fixed members; the columns are "<frame>.<i>"
MAX_UNPACKED = 2**30  # bytes: a 50-year run's file unpacks to tens of MB; more is a crafted archive


@dataclass(frozen=True)
class ReplicationResult:
    """The tidy KPI rows of one replication (columns as in `sim.experiment.kpis`)."""

    replication: int
    summary: pd.DataFrame  # replication, kpi, scope, unit, value
    weekly: pd.DataFrame  # replication, week, kpi, scope, unit, value
    end_state: dict  # the system at the end of the run (queues, occupancy, people inside)
    yearly: pd.DataFrame  # replication, year, kpi, scope, unit, value


@dataclass(frozen=True)
class Packed:
    """A replication packed for the store where it was computed (in the worker): its rows
    without the weekly ones (what the parent keeps) and the bytes of its two files, so the
    parent process only writes bytes and never holds the weekly rows (`pack`, `save_packed`)."""

    result: ReplicationResult  # weekly=None
    archive: bytes  # the .npz (encode_replication, with the lines' sha256)
    lines: bytes  # the weekly rows as weekly.csv lines


class UnusableReplication(Exception):
    """A saved replication that must not be used (the message says why); recompute it."""


class ReplicationStoreWarning(UserWarning):
    """A saved replication was not used and is recomputed (when the runner has no `notify`)."""


def scenario_key(scenario) -> str:
    """The sha256 of the scenario's canonical JSON: what a saved replication was computed from.
    (Stable through run.json: a resumed run reads back the same scenario.)"""
    return hashlib.sha256(scenario.model_dump_json().encode("utf-8")).hexdigest()


@lru_cache(maxsize=1)
def icsim_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("icsim")
    except PackageNotFoundError:  # run from a source tree that was not installed
        return "unknown"


def replication_file(store: Path, replication: int) -> Path:
    return Path(store) / f"rep-{replication:06d}{SUFFIX}"


def weekly_csv_file(store: Path, replication: int) -> Path:
    """The replication's weekly rows as weekly.csv lines (no header), beside its `.npz`."""
    return Path(store) / f"rep-{replication:06d}.weekly.csv"


def weekly_csv_lines(weekly: pd.DataFrame) -> bytes:
    """The weekly rows as the lines of weekly.csv (no header): what `to_csv` of the whole table
    writes for them, byte for byte."""
    return weekly.to_csv(index=False, header=False).encode("utf-8")


def legacy_files(store: Path | None, n: int) -> list[Path]:
    """Pickled replications (`rep-*.pkl`, formats 1 and 2) of replications 0..n-1 that have no
    file of this format: never loaded, so recomputed."""
    if store is None or not Path(store).is_dir():
        return []
    return [p for r in range(n) if (p := Path(store) / f"rep-{r:06d}.pkl").exists() and not replication_file(store, r).exists()]


def saved_replications(store: Path | None, n: int) -> list[int]:
    """Replications 0..n-1 with a file in `store` (complete files only: they are renamed into
    place). Not yet verified: `load_replication` may still refuse one."""
    if store is None or not Path(store).is_dir():
        return []
    return [r for r in range(n) if replication_file(store, r).exists()]


# ---------------------------------------------------------------------------------------------
# encoding: every value exactly (floats as their IEEE bytes), nothing that can run code


def _frame_columns(name: str, frame: pd.DataFrame, arrays: dict[str, np.ndarray]) -> dict:
    """Put the frame's columns into `arrays`; return its description for `meta`."""
    if not (isinstance(frame.index, pd.RangeIndex) and frame.index.start == 0 and frame.index.step == 1):
        raise ValueError(f"{name}: expected a default RangeIndex, got {type(frame.index).__name__}")
    columns = []
    for i, column in enumerate(frame.columns):
        if not isinstance(column, str):
            raise TypeError(f"{name}: column name {column!r}: expected a string")
        series, key = frame[column], f"{name}.{i}"
        dtype = series.dtype
        if isinstance(dtype, np.dtype) and dtype.kind in "biuf":
            arrays[key] = np.ascontiguousarray(series.to_numpy())
            columns.append({"name": column, "dtype": dtype.str})
            continue
        values = series.to_numpy(dtype=object)
        missing = pd.isna(values)
        if not all(isinstance(v, str) for v in values[~missing]):
            raise TypeError(f"{name}.{column}: dtype {dtype}: only numbers and strings are stored")
        # strings: the distinct values in `meta` (JSON keeps any string exactly), codes here (-1: missing)
        codes, uniques = pd.factorize(values, use_na_sentinel=True)
        arrays[key] = codes.astype(np.int64)
        columns.append({"name": column, "dtype": str(dtype), "strings": [str(u) for u in uniques]})
    return {"rows": len(frame), "columns": columns}


def _decode_frame(name: str, spec: dict, arrays: dict[str, np.ndarray]) -> pd.DataFrame:
    data = {}
    for i, column in enumerate(spec["columns"]):
        values, label = arrays[f"{name}.{i}"], f"{name}.{column['name']}"
        if values.ndim != 1 or len(values) != spec["rows"]:
            raise ValueError(f"{label}: {values.shape} values for {spec['rows']} rows")
        if "strings" in column:
            strings = np.array([*column["strings"], None], dtype=object)  # code -1 (missing) picks the None
            if values.dtype != np.int64 or (len(values) and (values.min() < -1 or values.max() >= len(strings) - 1)):
                raise ValueError(f"{label}: string codes out of range")
            series = pd.Series(strings[values], dtype=column["dtype"])
        else:
            series = pd.Series(values)
        got = str(series.dtype) if "strings" in column else series.dtype.str
        if got != column["dtype"]:
            raise ValueError(f"{label}: dtype {series.dtype}, expected {column['dtype']}")
        data[column["name"]] = series
    return pd.DataFrame(data, columns=[c["name"] for c in spec["columns"]])


def _check_json_exact(value, where: str) -> None:
    """Refuse what JSON would not give back as it was (a tuple, a non-string key, a numpy number)."""
    if isinstance(value, dict):
        for k, v in value.items():
            if not isinstance(k, str):
                raise TypeError(f"{where}: key {k!r}: expected a string")
            _check_json_exact(v, f"{where}.{k}")
    elif isinstance(value, list):
        for i, v in enumerate(value):
            _check_json_exact(v, f"{where}[{i}]")
    elif value is not None and type(value) not in (str, int, float, bool):
        raise TypeError(f"{where}: {type(value).__name__} is not stored exactly; expected JSON values")


def _checksum(arrays: dict[str, np.ndarray]) -> str:
    """sha256 over every member (name, dtype, shape and bytes), in name order."""
    digest = hashlib.sha256()
    for key in sorted(arrays):
        array = np.ascontiguousarray(arrays[key])
        digest.update(f"{key}\0{array.dtype.str}\0{array.shape}\0{array.nbytes}\0".encode())
        digest.update(array.tobytes())
    return digest.hexdigest()


def encode_replication(result: ReplicationResult, scenario: str, seed: int, weekly_lines: bytes | None = None) -> bytes:
    """The file's bytes; `scenario` is `scenario_key(...)` of the scenario it was computed from;
    `weekly_lines`: the weekly lines file written beside it, whose sha256 it records."""
    arrays: dict[str, np.ndarray] = {}
    frames = {name: _frame_columns(name, getattr(result, name), arrays) for name in FRAMES}
    _check_json_exact(result.end_state, "end_state")
    meta = {
        "format": FORMAT, "format_version": FORMAT_VERSION, "icsim_version": icsim_version(),
        "scenario_sha256": scenario, "seed": int(seed), "replication": int(result.replication),
        "frames": frames, "end_state": result.end_state,
    }
    if weekly_lines is not None:
        meta["weekly_csv_sha256"] = hashlib.sha256(weekly_lines).hexdigest()
    arrays[_META] = np.frombuffer(json.dumps(meta, sort_keys=True, allow_nan=True).encode("utf-8"), dtype=np.uint8)
    arrays[_CHECKSUM] = np.frombuffer(_checksum(arrays).encode("ascii"), dtype=np.uint8)
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)
    return buffer.getvalue()


def save_replication(store: Path, result: ReplicationResult, scenario: str, seed: int) -> None:
    """Written to a temporary file and renamed into place: a kill leaves no half file."""
    write_atomic(replication_file(store, result.replication), encode_replication(result, scenario, seed))


def pack(result: ReplicationResult, scenario: str, seed: int) -> Packed:
    """The replication's two files' bytes, made where it was computed, and its rows without the weekly ones."""
    lines = weekly_csv_lines(result.weekly)
    return Packed(replace(result, weekly=None), encode_replication(result, scenario, seed, lines), lines)


def save_packed(store: Path, packed: Packed) -> None:
    """The weekly lines file, then the `.npz` that records its checksum, each renamed into place."""
    write_atomic(weekly_csv_file(store, packed.result.replication), packed.lines)
    write_atomic(replication_file(store, packed.result.replication), packed.archive)


def decode_replication(data: bytes, replication: int, scenario: str, seed: int) -> ReplicationResult:
    """The result, if `data` is an intact file of this replication, scenario, seed and version;
    otherwise UnusableReplication with the reason. Never unpickles anything."""
    meta, arrays = _verified(data, replication, scenario, seed)
    try:
        frames = {name: _decode_frame(name, meta["frames"][name], arrays) for name in FRAMES}
        end_state = meta["end_state"]
        if not isinstance(end_state, dict):
            raise ValueError("end_state: not a mapping")
    except Exception as exc:  # only a file crafted with a valid checksum gets here
        raise UnusableReplication(f"malformed ({type(exc).__name__}: {exc})") from None
    return ReplicationResult(replication, frames["summary"], frames["weekly"], end_state, frames["yearly"])


def _verified(data: bytes, replication: int, scenario: str, seed: int) -> tuple[dict, dict[str, np.ndarray]]:
    """(meta, arrays) of an intact file of this replication, scenario, seed and version, or
    UnusableReplication with the reason."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as packed:  # reads stop at these sizes: no zip bomb
            if sum(member.file_size for member in packed.infolist()) > MAX_UNPACKED:
                raise UnusableReplication(f"not an icsim replication file (unpacks to over {MAX_UNPACKED} bytes)")
        archive = np.load(io.BytesIO(data), allow_pickle=False)  # an object (pickled) member raises
        if not isinstance(archive, np.lib.npyio.NpzFile):
            raise UnusableReplication("not an icsim replication file (not an .npz archive)")
        with archive:
            arrays = {key: archive[key] for key in archive.files}
    except UnusableReplication:
        raise
    except Exception as exc:  # truncated, damaged, not an archive, a pickle: whatever it is, not used
        raise UnusableReplication(f"unreadable ({type(exc).__name__}: {exc})") from None
    if _META not in arrays or _CHECKSUM not in arrays:
        raise UnusableReplication("not an icsim replication file (no identity or checksum)")
    stored = arrays.pop(_CHECKSUM)
    if stored.dtype != np.uint8 or stored.tobytes() != _checksum(arrays).encode("ascii"):
        raise UnusableReplication("checksum mismatch (the file was changed or damaged)")
    try:
        meta = json.loads(arrays[_META].tobytes().decode("utf-8"))
        if not isinstance(meta, dict) or meta.get("format") != FORMAT:
            raise ValueError("no icsim identity")
    except Exception as exc:  # not JSON, not UTF-8, nested too deep
        raise UnusableReplication(f"not an icsim replication file ({exc})") from None
    expected = {"format_version": FORMAT_VERSION, "icsim_version": icsim_version(), "scenario_sha256": scenario,
                "seed": seed, "replication": replication}
    for field, value in expected.items():
        if meta.get(field) != value:
            saved = meta.get(field)
            if field == "scenario_sha256":  # the scenario's digest, shortened
                saved, value = (f"{v[:12]}…" if isinstance(v, str) else v for v in (saved, value))
            raise UnusableReplication(f"written for {field.replace('_', ' ')} {saved}, this run's is {value}")
    return meta, arrays


def _read(path: Path) -> bytes:
    if not path.is_file():  # a FIFO would block the read, a folder fail it
        raise UnusableReplication("not a regular file")
    try:
        return path.read_bytes()
    except OSError as exc:
        raise UnusableReplication(f"unreadable ({exc.strerror or exc})") from None


def load_replication(store: Path, replication: int, scenario: str, seed: int) -> ReplicationResult:
    """The saved result of `replication` for this scenario (`scenario_key`) and seed, or
    UnusableReplication saying why the file must be recomputed."""
    return decode_replication(_read(replication_file(store, replication)), replication, scenario, seed)


def load_weekly_lines(store: Path, replication: int, scenario: str, seed: int) -> bytes:
    """The replication's weekly rows as weekly.csv lines: its lines file when the (verified)
    `.npz` records that file's checksum and it matches, else formatted from the `.npz`'s rows.
    UnusableReplication if the `.npz` cannot be used."""
    data = _read(replication_file(store, replication))
    meta, _ = _verified(data, replication, scenario, seed)
    expected, path = meta.get("weekly_csv_sha256"), weekly_csv_file(store, replication)
    if isinstance(expected, str) and path.is_file():
        try:
            lines = path.read_bytes()
        except OSError:
            lines = b""
        if hashlib.sha256(lines).hexdigest() == expected:
            return lines
    return weekly_csv_lines(decode_replication(data, replication, scenario, seed).weekly)
