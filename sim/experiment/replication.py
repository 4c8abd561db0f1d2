"""One replication's result, and the store that keeps each one on disk as soon as it finishes.

A run folder's `replications/` holds `rep-000123.pkl` per finished replication (written
atomically), so an interrupted run is resumed by computing only the missing ones. A file
written by another format version is recomputed, never trusted.
"""

from __future__ import annotations

import pickle
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ..files import write_atomic

FORMAT_VERSION = 2  # 1: an unnamed tuple (summary, weekly, end state[, yearly])


@dataclass(frozen=True)
class ReplicationResult:
    """The tidy KPI rows of one replication (columns as in `sim.experiment.kpis`)."""

    replication: int
    summary: pd.DataFrame  # replication, kpi, scope, unit, value
    weekly: pd.DataFrame  # replication, week, kpi, scope, unit, value
    end_state: dict  # the system at the end of the run (queues, occupancy, people inside)
    yearly: pd.DataFrame  # replication, year, kpi, scope, unit, value
    format: int = FORMAT_VERSION


def replication_file(store: Path, replication: int) -> Path:
    return Path(store) / f"rep-{replication:06d}.pkl"


def saved_replications(store: Path | None, n: int) -> list[int]:
    """Replications 0..n-1 already saved in `store` (complete files only: they are renamed into place)."""
    if store is None or not Path(store).is_dir():
        return []
    return [r for r in range(n) if replication_file(store, r).exists()]


def save_replication(store: Path, result: ReplicationResult) -> None:
    """Pickled (floats round-trip exactly), atomically."""
    write_atomic(replication_file(store, result.replication), pickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL))


def load_replication(store: Path, replication: int) -> ReplicationResult | None:
    """The saved result, or None if it was written by another format version (recompute it)."""
    with open(replication_file(store, replication), "rb") as f:
        saved = pickle.load(f)
    if isinstance(saved, ReplicationResult) and saved.format == FORMAT_VERSION and saved.replication == replication:
        return saved
    return None
