"""Replications: serial, in a process pool or on a Dask cluster, with identical results.

Replication r of master seed S always uses the streams of (S, r), whichever worker runs it,
and results are gathered in replication order, so the output does not depend on --workers
or --backend.

With `store` (a folder), every finished replication is saved there at once
(`sim.experiment.replication`), and replications already saved there are loaded instead of
recomputed: this is how an interrupted run is resumed. A saved file that is damaged, changed or
written for another scenario, seed, replication or icsim version is recomputed, with a warning.

With `keep_weekly=False` (a run folder), the weekly rows never reach the parent as rows: each
worker packs its replication's store files (the `.npz` and the weekly rows as weekly.csv lines),
the parent writes those bytes, and `RunResult.weekly` reads the rows back from disk when asked.
"""

from __future__ import annotations

import logging
import math
import signal
import time
import warnings
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass, field, replace
from pathlib import Path

import pandas as pd

from ..errors import InputError
from ..inputs.scenario import Scenario
from ..model import simulate
from .kpis import WEEKLY_COLUMNS, replication_kpis, yearly_kpis
from .replication import (
    Packed,
    ReplicationResult,
    ReplicationStoreWarning,
    UnusableReplication,
    legacy_files,
    load_replication,
    load_weekly_lines,
    pack,
    replication_file,
    save_packed,
    save_replication,
    saved_replications,
    scenario_key,
)
from .stats import fan, summarise

YEARLY_REPLICATION_COLUMNS = ["replication", "year", "kpi", "scope", "unit", "value"]
_WEEKLY_DTYPES = {"replication": "int64", "week": "int64", "kpi": "str", "scope": "str", "unit": "str", "value": "float64"}
# pandas < 3.1 parses floats exactly only when asked to; 3.1 always does and deprecates the option
_EXACT_FLOATS = {} if tuple(int(p) for p in pd.__version__.split(".")[:2] if p.isdigit()) >= (3, 1) else {
    "float_precision": "round_trip"}


@dataclass(frozen=True)
class WeeklyOnDisk:
    """Where a run's weekly rows are when they are not held in memory: the replication store
    (`store`: each replication's file, read in replication order) or, once the run folder is
    finished, its weekly.csv (`file`)."""

    store: Path | None = None
    key: str = ""  # scenario_key of the run's scenario (the store's files are checked against it)
    seed: int = 0
    n: int = 0
    file: Path | None = None

    def frames(self) -> Iterator[pd.DataFrame]:
        """The weekly rows, one frame per replication in replication order (from the store), or
        the whole table (from weekly.csv)."""
        if self.file is not None:
            yield read_weekly_csv(self.file)
            return
        yield from (result.weekly for result in self._from_store(load_replication))

    def csv_chunks(self) -> Iterator[bytes]:
        """weekly.csv's bytes: the header, then each replication's lines in replication order
        (from the store), or the whole file."""
        if self.file is not None:
            with open(self.file, "rb") as file:
                while chunk := file.read(2**24):
                    yield chunk
            return
        yield (",".join(WEEKLY_COLUMNS) + "\n").encode("utf-8")
        yield from self._from_store(load_weekly_lines)

    def _from_store(self, load: Callable) -> Iterator:
        """`load(store, r, key, seed)` of each replication in order; a file that cannot be used is
        named in the error."""
        for r in range(self.n):
            try:
                yield load(self.store, r, self.key, self.seed)
            except UnusableReplication as exc:
                raise UnusableReplication(f"{replication_file(self.store, r)}: {exc}") from None


def read_weekly_csv(path: Path) -> pd.DataFrame:
    """weekly.csv as the runner made it: the same columns, dtypes and every float exactly."""
    return pd.read_csv(path, dtype=_WEEKLY_DTYPES, keep_default_na=False, na_values={"value": [""]}, **_EXACT_FLOATS)



@dataclass
class RunResult:
    """A run's KPI rows. `weekly` is held in memory (`run(..., keep_weekly=True)`, the default) or
    left on disk (`keep_weekly=False` with a store: a 10-year run's weekly rows are tens of MB a
    replication) and read from there each time it is asked for (from the store, then from the
    finished folder's weekly.csv); `weekly_frames()` and `weekly_csv()` give them a replication at
    a time (the run folder's weekly.csv is written from `weekly_csv()`)."""

    scenario: Scenario
    seed: int
    replications: pd.DataFrame  # replication, kpi, scope, unit, value
    weekly: pd.DataFrame | None = field(repr=False, compare=False)  # replication, week, kpi, scope, unit, value
    # (a property, below: None with `weekly_on_disk` set means "on disk")
    end_states: list[dict]
    timings: dict = field(default_factory=dict)
    yearly_replications: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=YEARLY_REPLICATION_COLUMNS))
    # replication, year, kpi, scope, unit, value: each reporting year (sim.experiment.kpis.yearly_kpis)
    resumed: int = 0  # replications loaded from the store, not computed by this run
    weekly_on_disk: WeeklyOnDisk | None = field(default=None, repr=False)  # where `weekly` is read from when not in memory

    @property
    def summary(self) -> pd.DataFrame:
        return summarise(self.replications)

    @property
    def yearly(self) -> pd.DataFrame:
        """The fan of each KPI per reporting year across replications (see `fan`)."""
        return fan(self.yearly_replications)

    def _in_memory(self) -> bool:
        """Whether `weekly` is held here (or there are none), not left on disk."""
        return self._weekly is not None or self.weekly_on_disk is None

    def weekly_frames(self) -> Iterator[pd.DataFrame]:
        """The weekly rows in replication order, in pieces (one per replication when on disk)."""
        if self._in_memory():
            yield self._weekly if self._weekly is not None else pd.DataFrame(columns=WEEKLY_COLUMNS)
        else:
            yield from self.weekly_on_disk.frames()

    def weekly_csv(self) -> Iterator[bytes]:
        """weekly.csv's bytes in pieces (a replication at a time when the rows are on disk)."""
        if self._in_memory():
            yield next(self.weekly_frames()).to_csv(index=False).encode("utf-8")
        else:
            yield from self.weekly_on_disk.csv_chunks()


def _get_weekly(self: RunResult) -> pd.DataFrame:
    if self._in_memory():
        return self._weekly
    frames = list(self.weekly_on_disk.frames())
    return frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)


def _set_weekly(self: RunResult, value: pd.DataFrame | None) -> None:
    self._weekly = value


# `weekly` stays a constructor argument and an attribute, but is read from disk when not in memory
RunResult.weekly = property(_get_weekly, _set_weekly, doc="replication, week, kpi, scope, unit, value (read from "
                            "disk each time when the run keeps its weekly rows there: keep it in a variable)")


def _one(scenario: Scenario, seed: int, replication: int, key: str | None = None) -> ReplicationResult | Packed:
    """One replication's KPI rows; with `key` (scenario_key: the weekly rows stay on disk), packed
    here, in the worker, for the store: the parent then only writes bytes (`Packed`)."""
    out = simulate(scenario, replication, seed)
    summary, weekly = replication_kpis(out.daily, scenario, replication)
    result = ReplicationResult(replication, summary, weekly, out.end_state, yearly_kpis(out.daily, scenario, replication))
    if key is None:
        return result
    if list(weekly.columns) != WEEKLY_COLUMNS:
        raise ValueError(f"weekly columns {list(weekly.columns)}: expected {WEEKLY_COLUMNS}")
    return pack(result, key, seed)


def _warn(text: str) -> None:
    warnings.warn(text, ReplicationStoreWarning, stacklevel=3)


_worker_scenario: Scenario | None = None
_worker_key: str | None = None


def _init_worker(scenario: Scenario, key: str | None = None) -> None:
    global _worker_scenario, _worker_key  # the scenario is sent once per worker, not with every task
    _worker_scenario, _worker_key = scenario, key
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is handled by the parent process alone


def _one_in_worker(seed_and_replication: tuple[int, int]):
    seed, replication = seed_and_replication
    return _one(_worker_scenario, seed, replication, _worker_key)


def _chunk(scenario: Scenario, seed: int, replications: list[int], key: str | None = None) -> list:
    """A Dask task: several replications, to amortise the per-task overhead."""
    return [_one(scenario, seed, r, key) for r in replications]


BACKENDS = ("local", "dask")


def chunk_size(n: int, workers: int) -> int:
    """Replications per Dask task: about four tasks per worker, so a slow one does not leave the
    others idle at the end, while the per-task overhead is paid n / chunk times, not n times."""
    return max(1, math.ceil(n / (4 * max(1, workers))))


def run(
    scenario: Scenario,
    replications: int | None = None,
    seed: int | None = None,
    workers: int = 1,
    on_replication: Callable[[int], None] | None = None,
    backend: str = "local",
    scheduler: str | None = None,
    store: Path | None = None,
    notify: Callable[[str], None] | None = None,
    keep_weekly: bool = True,
) -> RunResult:
    """Run replications 0..n-1 of `scenario` and return tidy KPI frames.

    backend "local": serial (workers=1) or a process pool; "dask": a dask.distributed cluster at
    `scheduler` (tcp://host:port), or a LocalCluster of `workers` processes created for this run.
    store: a folder where each finished replication is saved and from which saved ones are
    loaded instead of recomputed (resume); a saved file that cannot be used is recomputed and
    `notify(text)` says which and why (without `notify`, a ReplicationStoreWarning).
    `on_replication(r)` is called for each replication computed by this call, in the order they finish.
    keep_weekly=False (only with `store`): each replication's weekly rows stay in its file in the
    store, not in this process, and `RunResult.weekly` reads them from there when asked (so a
    long run's memory does not grow with the horizon); the store must then outlive the result.
    """
    if backend not in BACKENDS:
        raise InputError(f"backend = {backend!r}: expected one of {', '.join(BACKENDS)}")
    if scheduler is not None and backend != "dask":
        raise InputError("--scheduler: only with --backend dask")
    if not keep_weekly and store is None:
        raise ValueError("keep_weekly=False: the weekly rows are left in the store; give a store")
    n = scenario.run.replications if replications is None else replications
    seed = scenario.run.seed if seed is None else seed
    started = time.perf_counter()
    results: dict[int, ReplicationResult] = {}
    key = scenario_key(scenario) if store is not None else ""
    if store is not None:
        Path(store).mkdir(parents=True, exist_ok=True)
        say = notify or _warn
        if legacy := legacy_files(store, n):
            say(f"{Path(store)}: {len(legacy)} pickled replication file(s) (rep-*.pkl, an older icsim) not loaded, "
                "as a pickle can run code; recomputing them")
        for r in saved_replications(store, n):
            try:
                results[r] = _kept(load_replication(store, r, key, seed), keep_weekly)
            except UnusableReplication as exc:
                say(f"{replication_file(store, r)}: not used, {exc}; recomputing it")
    resumed = len(results)
    todo = [r for r in range(n) if r not in results]

    def done(r: int, result: ReplicationResult | Packed) -> None:
        if isinstance(result, Packed):  # the weekly rows stay on disk: the worker made the files' bytes
            save_packed(store, result)
            result = result.result
        elif store is not None:
            save_replication(store, result, key, seed)
        results[r] = _kept(result, keep_weekly)
        if on_replication:
            on_replication(r)

    packing = None if keep_weekly else key  # workers pack each replication for the store (weekly rows as weekly.csv lines)
    if not todo:
        pass
    elif backend == "dask":
        workers = _run_dask(scenario, seed, todo, workers, scheduler, done, packing)
    elif workers <= 1 or len(todo) == 1:
        for r in todo:
            done(r, _one(scenario, seed, r, packing))
    else:
        _run_pool(scenario, seed, todo, workers, done, packing)
    wall = time.perf_counter() - started
    ordered = [results[r] for r in range(n)]
    timings = {"simulation_seconds": round(wall, 3), "workers": workers}
    if backend != "local":
        timings["backend"] = backend
    return RunResult(
        resumed=resumed,
        scenario=scenario,
        seed=seed,
        replications=pd.concat([r.summary for r in ordered], ignore_index=True),
        weekly=pd.concat([r.weekly for r in ordered], ignore_index=True) if keep_weekly else None,
        end_states=[r.end_state for r in ordered],
        timings=timings,
        yearly_replications=pd.concat([r.yearly for r in ordered], ignore_index=True),
        weekly_on_disk=None if keep_weekly else WeeklyOnDisk(Path(store), key, seed, n),
    )


def _kept(result: ReplicationResult, keep_weekly: bool) -> ReplicationResult:
    """What the parent holds of a saved replication: all of it, or all but its weekly rows."""
    return result if keep_weekly or result.weekly is None else replace(result, weekly=None)


def _run_pool(scenario: Scenario, seed: int, todo: list[int], workers: int, done, key: str | None = None) -> None:
    pool = ProcessPoolExecutor(max_workers=workers, initializer=_init_worker, initargs=(scenario, key))
    try:
        pending = {pool.submit(_one_in_worker, (seed, r)): r for r in todo}
        while pending:
            finished, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in sorted(finished, key=pending.get):
                done(pending.pop(future), future.result())
    except BaseException:  # Ctrl-C or an error: stop now, keep what is saved
        pool.shutdown(wait=False, cancel_futures=True)
        for process in (getattr(pool, "_processes", None) or {}).values():
            process.terminate()  # (private attribute) a running replication would otherwise delay the exit
        raise
    pool.shutdown(wait=True)


def _run_dask(scenario: Scenario, seed: int, todo: list[int], workers: int, scheduler: str | None, done,
              key: str | None = None) -> int:
    """Run `todo` on a Dask cluster; return its number of workers."""
    try:
        from dask.distributed import Client, LocalCluster
    except ImportError:
        raise InputError("--backend dask: dask.distributed is not installed; expected it with pip install 'icsim[dask]'") from None
    cluster = None
    if scheduler is None:
        cluster = LocalCluster(n_workers=max(1, workers), threads_per_worker=1, processes=True,
                               dashboard_address=":0", silence_logs=logging.ERROR)
    try:
        try:
            client = Client(cluster if cluster is not None else scheduler, timeout=30)
        except OSError as exc:
            raise InputError(f"--scheduler {scheduler}: cannot connect: {exc}") from None
        try:
            if cluster is None:  # an external cluster: size the chunks to its workers
                workers = max(1, len(client.scheduler_info().get("workers", {})) or workers)
            shared = client.scatter(scenario, broadcast=True)  # sent once, not with every task
            size = chunk_size(len(todo), workers)
            chunks = [todo[i : i + size] for i in range(0, len(todo), size)]
            pending = {client.submit(_chunk, shared, seed, chunk, key, pure=False): chunk for chunk in chunks}
            try:
                while pending:  # poll: a plain sleep is where Ctrl-C lands (Dask's waits can swallow it)
                    finished = [future for future in pending if future.done()]
                    if not finished:
                        time.sleep(0.05)
                    for future in finished:
                        for r, result in zip(pending.pop(future), future.result()):
                            done(r, result)
            except BaseException:
                client.cancel(list(pending))
                raise
        finally:
            client.close()
    finally:
        if cluster is not None:
            cluster.close()
    return workers
