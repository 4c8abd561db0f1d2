"""Replications: serial, in a process pool or on a Dask cluster, with identical results.

Replication r of master seed S always uses the streams of (S, r), whichever worker runs it,
and results are gathered in replication order, so the output does not depend on --workers
or --backend.

With `store` (a folder), every finished replication is saved there at once
(`sim.experiment.replication`), and replications already saved there are loaded instead of
recomputed: this is how an interrupted run is resumed. A saved file that is damaged, changed or
written for another scenario, seed, replication or icsim version is recomputed, with a warning.
"""

from __future__ import annotations

import logging
import math
import signal
import time
import warnings
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ..errors import InputError
from ..inputs.scenario import Scenario
from ..model import simulate
from .kpis import replication_kpis, yearly_kpis
from .replication import (
    ReplicationResult,
    ReplicationStoreWarning,
    UnusableReplication,
    legacy_files,
    load_replication,
    replication_file,
    save_replication,
    saved_replications,
    scenario_key,
)
from .stats import fan, summarise

YEARLY_REPLICATION_COLUMNS = ["replication", "year", "kpi", "scope", "unit", "value"]


@dataclass
class RunResult:
    scenario: Scenario
    seed: int
    replications: pd.DataFrame  # replication, kpi, scope, unit, value
    weekly: pd.DataFrame  # replication, week, kpi, scope, unit, value
    end_states: list[dict]
    timings: dict = field(default_factory=dict)
    yearly_replications: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=YEARLY_REPLICATION_COLUMNS))
    # replication, year, kpi, scope, unit, value: each reporting year (sim.experiment.kpis.yearly_kpis)
    resumed: int = 0  # replications loaded from the store, not computed by this run

    @property
    def summary(self) -> pd.DataFrame:
        return summarise(self.replications)

    @property
    def yearly(self) -> pd.DataFrame:
        """The fan of each KPI per reporting year across replications (see `fan`)."""
        return fan(self.yearly_replications)


def _one(scenario: Scenario, seed: int, replication: int) -> ReplicationResult:
    out = simulate(scenario, replication, seed)
    summary, weekly = replication_kpis(out.daily, scenario, replication)
    return ReplicationResult(replication, summary, weekly, out.end_state, yearly_kpis(out.daily, scenario, replication))


def _warn(text: str) -> None:
    warnings.warn(text, ReplicationStoreWarning, stacklevel=3)


_worker_scenario: Scenario | None = None


def _init_worker(scenario: Scenario) -> None:
    global _worker_scenario  # the scenario is sent once per worker, not with every task
    _worker_scenario = scenario
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is handled by the parent process alone


def _one_in_worker(seed_and_replication: tuple[int, int]):
    seed, replication = seed_and_replication
    return _one(_worker_scenario, seed, replication)


def _chunk(scenario: Scenario, seed: int, replications: list[int]) -> list:
    """A Dask task: several replications, to amortise the per-task overhead."""
    return [_one(scenario, seed, r) for r in replications]


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
) -> RunResult:
    """Run replications 0..n-1 of `scenario` and return tidy KPI frames.

    backend "local": serial (workers=1) or a process pool; "dask": a dask.distributed cluster at
    `scheduler` (tcp://host:port), or a LocalCluster of `workers` processes created for this run.
    store: a folder where each finished replication is saved and from which saved ones are
    loaded instead of recomputed (resume); a saved file that cannot be used is recomputed and
    `notify(text)` says which and why (without `notify`, a ReplicationStoreWarning).
    `on_replication(r)` is called for each replication computed by this call, in the order they finish.
    """
    if backend not in BACKENDS:
        raise InputError(f"backend = {backend!r}: expected one of {', '.join(BACKENDS)}")
    if scheduler is not None and backend != "dask":
        raise InputError("--scheduler: only with --backend dask")
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
                results[r] = load_replication(store, r, key, seed)
            except UnusableReplication as exc:
                say(f"{replication_file(store, r)}: not used, {exc}; recomputing it")
    resumed = len(results)
    todo = [r for r in range(n) if r not in results]

    def done(r: int, result: ReplicationResult) -> None:
        if store is not None:
            save_replication(store, result, key, seed)
        results[r] = result
        if on_replication:
            on_replication(r)

    if not todo:
        pass
    elif backend == "dask":
        workers = _run_dask(scenario, seed, todo, workers, scheduler, done)
    elif workers <= 1 or len(todo) == 1:
        for r in todo:
            done(r, _one(scenario, seed, r))
    else:
        _run_pool(scenario, seed, todo, workers, done)
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
        weekly=pd.concat([r.weekly for r in ordered], ignore_index=True),
        end_states=[r.end_state for r in ordered],
        timings=timings,
        yearly_replications=pd.concat([r.yearly for r in ordered], ignore_index=True),
    )


def _run_pool(scenario: Scenario, seed: int, todo: list[int], workers: int, done) -> None:
    pool = ProcessPoolExecutor(max_workers=workers, initializer=_init_worker, initargs=(scenario,))
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


def _run_dask(scenario: Scenario, seed: int, todo: list[int], workers: int, scheduler: str | None, done) -> int:
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
            pending = {client.submit(_chunk, shared, seed, chunk, pure=False): chunk for chunk in chunks}
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
