"""What a user asks icsim to do, as plain functions: the one place the CLI, the notebooks and any
other front end call.

Each workflow checks its inputs (bad input is an InputError: one line naming what and where),
runs the experiment and, given `out`, writes its folder (never over an existing one) with a
manifest; it returns a result object holding the tables it wrote. A scenario may be a file, a
library name (`baseline`) or a Scenario built in code. Progress and warnings go to the
callbacks given; nothing here prints.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from .errors import InputError
from .experiment.benefit import (
    BENEFIT_COLUMNS_MEANING,
    benefit_over_years,
    benefit_tables,
    net_by_replication,
    run_rate,
    sensitivity,
)
from .experiment.compare import Comparison, aligned
from .experiment.compare import compare as compare_replications
from .experiment.plan import parse_target
from .experiment.plan import plan as find_plan
from .experiment.precision import DEFAULT_CAP, Precision, check_target, headline_widths, net_benefit_widths, until_precise
from .experiment.replication import saved_replications
from .experiment.runner import BACKENDS, RunResult
from .experiment.runner import run as run_replications
from .files import check_out_dir
from .inputs.census import write_census
from .inputs.costs import CostTable, load_costs
from .inputs.library import DEFAULT_BASE, DEFAULT_COSTS, library_file, resolve_scenario
from .inputs.loading import load_scenario
from .inputs.scenario import MAX_REPLICATIONS, MAX_YEARS, Scenario
from .inputs.sources import sources_for
from .model.census import census_at, size_by_place
from .outputs.folders import (
    REPLICATIONS_DIR,
    finish_run_folder,
    git_commit,
    manifest,
    provenance,
    read_run_settings,
    start_run_folder,
    write_folder,
)

Notify = Callable[[str], None]
OnReplication = Callable[[int], None]


MAX_WORKERS = 64  # processes on one machine; a Dask cluster takes more (--scheduler)
AUTO = "auto"  # out=AUTO: write the folder under runs/, named by the workflow (what the CLI does without --out)


def default_out(kind: str, name: str | None = None) -> Path:
    """Where a folder goes when no --out is given: runs/<kind>[-<name>]-<time>."""
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    return Path("runs") / "-".join(part for part in (kind, name, stamp) if part)


def _out(out: Path | str | None, kind: str, name: str | None = None) -> Path | None:
    """The folder to write: `out` as given, None for none, or the default name for AUTO."""
    return default_out(kind, name) if isinstance(out, str) and out == AUTO else out


def _at_least(name: str, value, minimum) -> None:
    if value is not None and not value >= minimum:
        raise InputError(f"{name} = {value}: expected a number >= {minimum}")


def _at_most(name: str, value, maximum, beyond: str) -> None:
    if value is not None and value > maximum:
        raise InputError(f"{name} = {value}: expected at most {maximum}{beyond}")


def check_run_options(replications=None, years=None, workers=None, seed=None) -> None:
    """Refuse impossible or runaway settings before anything runs (docs/decisions.md, caps)."""
    _at_least("--replications", replications, 1)
    _at_most("--replications", replications, MAX_REPLICATIONS, " (more changes no interval usefully; run the rest as another seed)")
    _at_least("--years", years, 1e-9)
    _at_most("--years", years, MAX_YEARS, "")
    _at_least("--workers", workers, 1)
    _at_most("--workers", workers, MAX_WORKERS,
             f" processes on one machine (this one has {os.cpu_count()} cores); for more, use --backend dask --scheduler ADDRESS")
    _at_least("--seed", seed, 0)


RUN_SETTINGS_PAIRED = ("start_date", "warmup_days", "years", "replications", "seed", "census")


def _ignore(_text: str) -> None:
    pass


def _alignment_notes(base: Scenario, others: dict[str, Scenario], paths: list[Path | None],
                     base_path: Path | None, options: dict) -> list[str]:
    """What a compare says before it runs: each scenario runs on the baseline's run settings
    (common random numbers pair replication r with r), so its own differing settings are not
    used (unless a command-line option set it for all); and scheduled capacity changes dated
    outside the simulated period."""
    notes = [f"baseline {base_path or base.meta.name}: {note}" for note in base.schedule_dates_outside()]
    for (name, scenario), path in zip(others.items(), paths, strict=True):
        differ = [key for key in RUN_SETTINGS_PAIRED
                  if options.get(key) is None and getattr(scenario.run, key) != getattr(base.run, key)]
        if differ:
            listed = ", ".join(f"run.{k} = {getattr(scenario.run, k)} (baseline {getattr(base.run, k)})" for k in differ)
            notes.append(f"{path or name}: {listed}: the baseline's are used, so that replications pair up")
        notes += [f"{path or name}: {note}" for note in aligned(scenario, base).schedule_dates_outside()]
    return notes


def _scenario(given: str | Path | Scenario) -> tuple[Scenario, Path | None]:
    """(scenario, the file it came from, or None when built in code)."""
    if isinstance(given, Scenario):
        return given, None
    path = resolve_scenario(given)
    return load_scenario(path), path


def _file(path: Path | None) -> str | None:
    """How a scenario's file is recorded in a manifest (None: built in code)."""
    return str(path) if path is not None else None


def _sources(path: Path | None) -> dict[str, str]:
    return sources_for(path) if path is not None else {}


# ---------------------------------------------------------------------------------------------
# validate


def validate(scenario: str | Path) -> Scenario:
    """The scenario a file resolves to (after `extends`), validated."""
    return _scenario(scenario)[0]


# ---------------------------------------------------------------------------------------------
# run


@dataclass
class RunOutcome:
    result: RunResult  # .summary, .replications, .weekly (read from the folder's weekly.csv when asked), .yearly
    folder: Path | None  # the run folder written (None: not asked for)
    resumed: int  # replications read back from an interrupted run's folder
    seconds: float
    precision: Precision | None = None  # with --precision: the looks, and whether the target was reached

    @property
    def summary(self) -> pd.DataFrame:
        return self.result.summary


class RunInterrupted(Exception):
    """A run stopped by Ctrl-C; what finished is saved in `folder` for `icsim run --resume`."""

    def __init__(self, folder: Path, saved: int, total: int):
        super().__init__(f"interrupted: {saved} of {total} replications saved in {folder}/; "
                         f"continue with: icsim run --resume {folder}")
        self.folder, self.saved, self.total = folder, saved, total


def run(
    scenario: str | Path | Scenario | None = None,
    *,
    replications: int | None = None,
    seed: int | None = None,
    years: float | None = None,
    workers: int | None = None,
    backend: str | None = None,
    scheduler: str | None = None,
    out: Path | str | None = None,
    resume: Path | None = None,
    precision: float | None = None,
    on_start: Callable[[int, int], None] | None = None,
    on_replication: OnReplication | None = None,
    notify: Notify | None = None,
    command: list[str] | None = None,
) -> RunOutcome:
    """Simulate a scenario's replications; with `out` (a folder, or AUTO for runs/<name>-<time>),
    write a run folder (manifest, summary, replications, weekly, yearly, fan.png for two or more
    years).

    Each finished replication is saved in OUT/replications/ as it completes, so a run stopped
    by Ctrl-C (RunInterrupted), a kill or a crash is continued by `resume=OUT`, which computes
    only the missing ones. `on_start(total, already_done)` is called before simulating (with
    `precision`, before each batch).

    `precision` (e.g. 0.02): run replications in batches until every headline KPI's 95% CI
    half-width is within that share of its mean, up to `replications` (default 1,000).
    """
    started = time.perf_counter()
    check_run_options(replications, years, workers, seed)
    if backend is not None and backend not in BACKENDS:
        raise InputError(f"--backend = {backend!r}: expected local or dask")
    if resume is not None:
        if scenario is not None or out is not None or any(v is not None for v in (replications, seed, years, precision)):
            raise InputError("--resume: give only the run folder (and optionally --workers, --backend, --scheduler); "
                             "the scenario and settings come from its run.json")
        settings = read_run_settings(resume)
        try:
            loaded = Scenario.model_validate_json(json.dumps(settings["scenario"]))
        except ValueError as exc:
            raise InputError(f"{resume}/run.json: scenario: {exc}") from None
        out = Path(resume)
        backend = backend or settings.get("backend") or "local"
        workers = workers or settings.get("workers") or 1
        if scheduler is None and backend == settings.get("backend"):
            scheduler = settings.get("scheduler")
        command, scenario_file = settings.get("command") or command or sys.argv, settings.get("scenario_file")
        precision = settings.get("precision")
        if settings.get("git_commit") not in (None, git_commit()) and notify:
            notify(f"{resume} was started by icsim at commit {settings['git_commit']}, this is {git_commit()}: "
                   "the resumed replications may not match the saved ones")
    else:
        if scenario is None:
            raise InputError("run: give a scenario file, or --resume OUT to continue an interrupted run")
        loaded, path = _scenario(scenario)
        if precision is not None:  # --replications is then the most to run
            replications = replications or DEFAULT_CAP
            check_target(precision, replications)
        if years is not None or seed is not None or replications is not None:
            loaded = loaded.with_run(years=years, seed=seed, replications=replications)
        backend, workers = backend or "local", workers or 1
        out = _out(out, loaded.meta.name)
        command, scenario_file = command or sys.argv, _file(path)
        settings = {"sources": _sources(path)}
        for note in loaded.schedule_dates_outside():
            (notify or _ignore)(f"{path or loaded.meta.name}: {note}")
    if scheduler is not None and backend != "dask":
        raise InputError("--scheduler: only with --backend dask")
    store = None
    if resume is not None:
        store = out / REPLICATIONS_DIR
    elif out is not None:
        store = start_run_folder(out, {
            "scenario_file": scenario_file, "command": command, "seed": loaded.run.seed,
            "replications": loaded.run.replications, "years": loaded.run.years, "backend": backend,
            "workers": workers, "scheduler": scheduler, "git_commit": git_commit(),
            "scenario": loaded.model_dump(mode="json"), "sources": settings["sources"], "precision": precision,
        })

    n = loaded.run.replications

    def simulate(count: int, where: Path | None) -> RunResult:
        if on_start:
            on_start(count, len(saved_replications(where, count)))
        return run_replications(loaded, replications=count, workers=workers, on_replication=on_replication,
                                backend=backend, scheduler=scheduler, store=where, notify=notify,
                                keep_weekly=out is None)  # a run folder's weekly rows stay on disk

    checked = None
    try:
        if precision is None:
            result = simulate(n, store)
        else:  # batches read the earlier replications back from a store (a temporary one without --out)
            with tempfile.TemporaryDirectory(prefix="icsim-precision-") as spare:
                where = store or Path(spare)
                result, checked = until_precise(lambda count: simulate(count, where),
                                                lambda r: headline_widths(r.summary), precision, n)
            result.scenario = loaded.with_run(replications=checked.replications)
    except KeyboardInterrupt:
        if out is None:
            raise
        raise RunInterrupted(out, len(saved_replications(store, n)), n) from None
    folder = None
    if out is not None:
        manifest_data = manifest(result, scenario_file, command, time.perf_counter() - started, settings.get("sources"))
        if checked is not None:
            manifest_data["precision"] = checked.as_dict()
        folder = finish_run_folder(result, out, manifest_data)
    return RunOutcome(result, folder, result.resumed, time.perf_counter() - started, checked)


# ---------------------------------------------------------------------------------------------
# compare


@dataclass
class CompareOutcome:
    comparison: Comparison  # the runs themselves: .baseline, .scenarios, .paired(name)
    tables: dict[str, pd.DataFrame]  # kpi_deltas, people, benefit, run_rate, replications
    baseline_name: str
    folder: Path | None
    seconds: float
    report: Path | None = None  # the folder's HTML report (folder/report.html)
    precision: Precision | None = None  # with --precision: the looks, and whether the target was reached


def compare(
    baseline: str | Path | Scenario,
    scenarios: list[str | Path | Scenario],
    *,
    replications: int | None = None,
    seed: int | None = None,
    years: float | None = None,
    workers: int = 1,
    costs: str | Path | CostTable | None = None,
    out: Path | str | None = None,
    precision: float | None = None,
    on_start: Callable[[int, int], None] | None = None,
    on_replication: OnReplication | None = None,
    command: list[str] | None = None,
    notify: Notify | None = None,
) -> CompareOutcome:
    """Compare scenarios with a baseline on common random numbers: paired KPI differences,
    people per year and the annualised financial benefit (flow-based, with a low / central /
    high range, and the run-rate view); with `out`, write a compare folder.

    `precision` (e.g. 0.02): run paired replications in batches until each scenario's net benefit
    (at central unit costs) has a 95% CI half-width within that share of its value, up to
    `replications` (default 1,000)."""
    started = time.perf_counter()
    if precision is not None:  # --replications is then the most to run
        replications = replications or DEFAULT_CAP
        check_target(precision, replications)
    check_run_options(replications, years, workers, seed)
    base, base_path = _scenario(baseline)
    if years is not None or seed is not None or replications is not None:
        base = base.with_run(years=years, seed=seed, replications=replications)
    others: dict[str, Scenario] = {}
    paths: list[Path | None] = []
    for given in scenarios:
        loaded, path = _scenario(given)
        if loaded.meta.name in others or (loaded.meta.name == base.meta.name and path != base_path):
            raise InputError(f"{path or given}: meta.name = {loaded.meta.name!r}: expected a name no other compared "
                             "scenario has")
        others[loaded.meta.name] = loaded
        paths.append(path)
    for note in _alignment_notes(base, others, paths, base_path, {"years": years, "seed": seed, "replications": replications}):
        (notify or _ignore)(note)
    cost_table, costs_file = _costs(costs)
    out = _out(out, "compare")
    if out is not None:
        check_out_dir(out)
    checked = None
    if precision is None:
        if on_start:
            on_start(base.run.replications * (1 + len(others)), 0)
        result = compare_replications(base, others, workers=workers, on_replication=on_replication)
    else:
        result, checked = _compare_to_precision(base, others, precision, cost_table, workers, on_start, on_replication)
        base = base.with_run(replications=checked.replications)
    benefits, payers, run_rates, sensitivities, by_years = [], [], [], [], []
    for name, scenario_result in result.scenarios.items():
        pair = result.baseline.replications, scenario_result.replications
        by_component, by_payer = benefit_tables(*pair, cost_table, result.baseline.seed)
        by_year = benefit_over_years(result.baseline.yearly_replications, scenario_result.yearly_replications, cost_table,
                                     result.baseline.seed, others[name].finance.realisation)
        for frame, rows in ((by_component, benefits), (by_payer, payers), (run_rate(*pair, cost_table), run_rates),
                            (sensitivity(*pair, cost_table), sensitivities), (by_year, by_years)):
            frame.insert(0, "scenario", name)
            rows.append(frame)
    tables = {
        "kpi_deltas": result.kpi_deltas(),
        "people": result.people(),
        "benefit": pd.concat(benefits, ignore_index=True),
        "who_saves": pd.concat(payers, ignore_index=True),
        "benefit_by_year": pd.concat(by_years, ignore_index=True),
        "run_rate": pd.concat(run_rates, ignore_index=True),
        "sensitivity": pd.concat(sensitivities, ignore_index=True),
        "replications": pd.concat(
            [result.baseline.replications.assign(scenario=base.meta.name)]
            + [r.replications.assign(scenario=name) for name, r in result.scenarios.items()],
            ignore_index=True,
        ),
    }
    folder = report_path = None
    if out is not None:
        manifest_data = {
            **provenance(command or sys.argv),
            "baseline_file": _file(base_path),
            "scenario_files": [_file(p) for p in paths],
            "costs_file": costs_file,
            "seed": result.baseline.seed,
            "replications": base.run.replications,
            "years": base.run.years,
            "timings": {**result.timings, "wall_seconds": round(time.perf_counter() - started, 3)},
            "baseline": base.model_dump(mode="json"),
            "scenarios": {name: s.model_dump(mode="json") for name, s in others.items()},
            "sources": {base.meta.name: _sources(base_path),
                        **{s.meta.name: _sources(p) for p, s in zip(paths, others.values())}},
            "costs": cost_table.file.model_dump(mode="json"),
            "benefit_columns": BENEFIT_COLUMNS_MEANING,
            **({"precision": checked.as_dict()} if checked is not None else {}),
        }
        from .outputs.workbook import write_workbook

        workbook = {"benefit.xlsx": lambda path: write_workbook(path, tables, manifest_data)}
        folder = write_folder(out, tables, manifest_data, files=workbook)
        from .outputs.report import write_report  # the view of the finished folder, written into it

        report_path = write_report(folder, folder / "report.html")
    return CompareOutcome(result, tables, base.meta.name, folder, time.perf_counter() - started, report_path, checked)


def _compare_to_precision(base: Scenario, others: dict[str, Scenario], precision: float, costs: CostTable, workers: int,
                          on_start, on_replication) -> tuple[Comparison, Precision]:
    """A compare in batches of paired replications (the earlier ones read back from a temporary
    store) until every net benefit is as precise as asked; its runs carry the replications used."""
    shown = [0]

    def simulate(count: int) -> Comparison:
        if on_start:
            on_start(count * (1 + len(others)), shown[0] * (1 + len(others)))
        shown[0] = count
        return compare_replications(base, others, replications=count, workers=workers, on_replication=on_replication,
                                    store=store)

    def widths(comparison: Comparison):
        return net_benefit_widths({name: net_by_replication(comparison.baseline.replications, r.replications, costs)
                                   for name, r in comparison.scenarios.items()})

    with tempfile.TemporaryDirectory(prefix="icsim-precision-") as spare:
        store = Path(spare)
        result, checked = until_precise(simulate, widths, precision, base.run.replications)
    used = base.with_run(replications=checked.replications)
    result.baseline.scenario = used
    for name, scenario_result in result.scenarios.items():
        scenario_result.scenario = aligned(others[name], used)
    return result, checked


def _costs(costs: str | Path | CostTable | None) -> tuple[CostTable, str]:
    """(cost table, the file it came from): a file, a table built in code, or the shipped default."""
    if isinstance(costs, CostTable):
        return costs, costs.path
    path = Path(costs) if costs is not None else library_file(DEFAULT_COSTS)
    return load_costs(path), str(path)


# ---------------------------------------------------------------------------------------------
# plan


@dataclass
class PlanOutcome:
    plan: pd.DataFrame  # per year: the capacity chosen, its offered load and P(target met), today's
    evaluations: pd.DataFrame  # every candidate capacity simulated, per year
    scenario: Scenario  # as planned (run lengthened to cover the years)
    target: str
    folder: Path | None
    seconds: float


def year_range(text: str) -> tuple[int, int]:
    """"2026-2035" or "2030" as (first, last)."""
    match = re.fullmatch(r"\s*(\d{4})\s*(?:-\s*(\d{4}))?\s*", text)
    if not match or (match.group(2) and int(match.group(2)) < int(match.group(1))):
        raise InputError(f"--years {text!r}: expected a year or a range of years, e.g. 2026-2035")
    first = int(match.group(1))
    return first, int(match.group(2) or first)


def plan(
    scenario: str | Path | Scenario,
    *,
    service: str,
    target: str,
    confidence: float = 0.9,
    years: str | tuple[int, int] | None = None,
    objective: str = "target",
    costs: str | Path | CostTable | None = None,
    replications: int | None = None,
    seed: int | None = None,
    max_capacity: int | None = None,
    step: int = 1,
    workers: int = 1,
    out: Path | str | None = None,
    on_candidate: Callable[[int], None] | None = None,
    command: list[str] | None = None,
) -> PlanOutcome:
    """For each year, the least beds or reablement places meeting `target` (e.g. "p2_wait_days
    <= 2") with probability `confidence`, searched on common random numbers (objective
    "target"), or the cheapest such capacity counting acute bed days spent waiting ("cost")."""
    started = time.perf_counter()
    check_run_options(replications, None, workers, seed)
    base, path = _scenario(scenario)
    wanted = year_range(years) if isinstance(years, str) else years
    run_years = base.run.years
    if wanted is not None:
        run_years = max(run_years, wanted[1] - base.run.start_date.year + 1)
    base = base.with_run(years=run_years, seed=seed, replications=replications)
    goal = parse_target(target)
    cost_table, costs_file = _costs(costs) if objective == "cost" else (None, None)
    out = _out(out, "plan", base.meta.name)
    if out is not None:
        check_out_dir(out)
    searched: dict = {}
    chosen, evaluations = find_plan(base, service, goal, confidence, wanted, objective, cost_table, max_capacity,
                                    on_candidate, step, workers=workers, stats=searched)
    folder = None
    if out is not None:
        manifest_data = {
            **provenance(command or sys.argv),
            "scenario_file": _file(path),
            "service": service,
            "target": str(goal),
            "confidence": confidence,
            "objective": objective,
            "step": step,
            "costs_file": costs_file,
            "seed": base.run.seed,
            "replications": base.run.replications,
            "years": base.run.years,
            "search": {key: round(value, 2) if isinstance(value, float) else value
                       for key, value in searched.items() if key != "questions"},
            "timings": {"wall_seconds": round(time.perf_counter() - started, 3)},
            "scenario": base.model_dump(mode="json"),
        }
        folder = write_folder(out, {"plan": chosen, "evaluations": evaluations}, manifest_data)
    return PlanOutcome(chosen, evaluations, base, str(goal), folder, time.perf_counter() - started)


# ---------------------------------------------------------------------------------------------
# census, synthetic extract, calibration, report


@dataclass
class CensusOutcome:
    path: Path
    day: float
    size_by_place: dict[str, int]


def census(scenario: str | Path, out: Path, *, at_day: float | None = None, replication: int = 0,
           seed: int | None = None) -> CensusOutcome:
    """Write the census (who is where, and for how long) of a simulated system at a day: a
    synthetic start for `run.census` when no real census is at hand."""
    _at_least("--seed", seed, 0)
    _at_least("--replication", replication, 0)
    loaded, path = _scenario(scenario)
    day = float(loaded.run.warmup_days if at_day is None else at_day)
    out = Path(out)
    if out.exists():
        raise InputError(f"--out {out}: already exists; expected a new file")
    rows = census_at(loaded, day, replication, seed)
    note = (
        f"SYNTHETIC census: simulated by icsim, not observed. Scenario {path or scenario} ({loaded.meta.name}), "
        f"day {day:g} of the simulation ({loaded.date_of(day)}), replication {replication}, "
        f"seed {loaded.run.seed if seed is None else seed}.\nColumns: docs/data-contract.md, 'Census'."
    )
    write_census(rows, out, note)
    return CensusOutcome(out, day, size_by_place(rows))


def synth(out: Path, *, years: float = 3.0, seed: int = 1, scenario: str | Path | None = None,
          faults: bool = False, command: list[str] | None = None) -> tuple[Path, Scenario]:
    """Write a synthetic historic extract (spells.csv, ic_episodes.csv) simulated from a known
    truth scenario (default: the library baseline). Returns (folder, truth)."""
    from .calibrate.synth import synthesize

    _at_least("--years", years, 1e-9)
    _at_least("--seed", seed, 0)
    truth, _ = _scenario(scenario if scenario is not None else library_file(DEFAULT_BASE))
    return synthesize(truth, years, seed, out, faults, command or sys.argv), truth


@dataclass
class CalibrationOutcome:
    folder: Path
    scores: pd.DataFrame  # per observable KPI: observed and simulated means, MAPE, weeks in the 95% band, verdict
    backtest: bool
    warning: list[str]  # the gate's warning (empty when every KPI passes), as written into params.toml

    @property
    def failed(self) -> bool:
        return bool(self.warning)


def calibrate(extract: Path, out: Path, *, base: str | Path | None = None, train_until: str | dt.date | None = None,
              replications: int = 20, workers: int = 1, command: list[str] | None = None) -> CalibrationOutcome:
    """Fit a scenario to a historic extract: data-quality report, params.toml, and a validation
    against the history (or, with `train_until`, a backtest of the forecast after it)."""
    from .calibrate import calibrate as fit_and_validate

    _at_least("--replications", replications, 2)
    _at_least("--workers", workers, 1)
    cutoff = train_until
    if isinstance(train_until, str):
        try:
            cutoff = dt.date.fromisoformat(train_until)
        except ValueError:
            raise InputError(f"--train-until = {train_until!r}: expected a date YYYY-MM-DD") from None
    check_out_dir(out)
    base_path = resolve_scenario(base) if base is not None else library_file(DEFAULT_BASE)
    folder = fit_and_validate(extract, out, base_path, cutoff, replications, workers, command or sys.argv)
    from .calibrate.validate import failing, gate_warning

    scores = pd.read_csv(folder / ("backtest.csv" if cutoff else "validation.csv"))
    warning = gate_warning(failing(scores), "backtest" if cutoff else "validation")
    return CalibrationOutcome(folder, scores, cutoff is not None, warning)


@dataclass
class ReportOutcome:
    path: Path  # the HTML file
    charts: Path  # the folder of its charts as PNG and SVG


def report(folder: Path, out: Path | None = None) -> ReportOutcome:
    """One self-contained HTML report of a run or compare folder (charts also as PNG and SVG)."""
    from .outputs.report import charts_dir, write_report

    path = write_report(folder, out)
    return ReportOutcome(path, charts_dir(path))
