"""The `icsim` command. Bad input gets one line on stderr and exit code 2, never a traceback."""

from __future__ import annotations

import datetime as dt
import json
import math
import re
import sys
import time
from pathlib import Path
from typing import Annotated, Optional

import pandas as pd
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from .display import kpi_value, money
from .errors import InputError
from .results import check_out_dir, manifest, provenance, write_folder
from .runner import BACKENDS, RunResult, run as run_replications
from .scenario import load_scenario
from .sources import sources_for

app = typer.Typer(
    help="icsim: simulate intermediate-care flow (front door, hospital, reablement, short-term beds, "
    "care homes) and report the programme KPIs with confidence intervals.",
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
out_console = Console()
if not out_console.is_terminal:  # files and CI logs: wide enough for the KPI table
    out_console.width = 140
err_console = Console(stderr=True)


def _fail(message: str) -> None:
    err_console.print(f"error: {message}", markup=False, highlight=False, soft_wrap=True)
    raise typer.Exit(2)


def _positive(name: str, value, minimum) -> None:
    if value is not None and not value >= minimum:
        raise InputError(f"{name} = {value}: expected a number >= {minimum}")


def _check_run_options(replications, years, workers, seed) -> None:
    _positive("--replications", replications, 1)
    _positive("--years", years, 1e-9)
    _positive("--workers", workers, 1)
    _positive("--seed", seed, 0)


@app.command()
def validate(scenario: Path = typer.Argument(..., help="Scenario TOML file.")) -> None:
    """Check a scenario file and print what it resolves to (after `extends`)."""
    try:
        loaded = load_scenario(scenario)
    except InputError as exc:
        _fail(str(exc))
    r = loaded.run
    sites = ", ".join(f"{n} {site.beds:g}" for n, site in loaded.beds.sites.items())
    out_console.print(
        f"{scenario}: valid. '{loaded.meta.name}': {r.years:g} year(s) from {r.start_date} after "
        f"{r.warmup_days} warm-up days, {r.replications} replications, seed {r.seed}; "
        f"{loaded.arrivals.rate_per_day:g} front-door arrivals/day; short-term beds: {sites}.",
        markup=False, highlight=False,
    )


@app.command()
def run(
    scenario: Optional[Path] = typer.Argument(None, help="Scenario TOML file (e.g. scenarios/baseline.toml), or a run folder's manifest.json to reproduce that run. Omit with --resume."),
    replications: Optional[int] = typer.Option(None, "--replications", "-n", help="Replications (default: the scenario's run.replications)."),
    seed: Optional[int] = typer.Option(None, "--seed", help="Master seed (default: the scenario's run.seed)."),
    years: Optional[float] = typer.Option(None, "--years", help="Years reported after warm-up (default: the scenario's run.years)."),
    workers: Optional[int] = typer.Option(None, "--workers", "-w", help="Processes to run replications in (default 1; results are identical for any number). With --backend dask and no --scheduler: the LocalCluster's worker processes."),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="Run folder to write (default: runs/<scenario>-<time>). Must not exist yet or be empty."),
    backend: Optional[str] = typer.Option(None, "--backend", help="[local|dask] Where replications run: this machine (serial or a process pool), or a Dask cluster (default: local)."),
    scheduler: Optional[str] = typer.Option(None, "--scheduler", help="tcp://HOST:PORT of a running `dask scheduler` (with --backend dask; default: a LocalCluster for this run)."),
    resume: Optional[Path] = typer.Option(None, "--resume", help="Continue the interrupted run in this folder: its saved replications are kept and only the missing ones run."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar or summary table."),
) -> None:
    """Simulate a scenario and write a run folder (manifest, summary, replications, weekly series).

    Each finished replication is saved in OUT/replications/ as it completes; if the run is
    interrupted (Ctrl-C, a kill, a crash), `icsim run --resume OUT` computes only the missing ones."""
    from .results import finish_run_folder, git_commit, read_run_settings, start_run_folder
    from .scenario import Scenario

    started = time.perf_counter()
    try:
        _check_run_options(replications, years, workers, seed)
        if backend is not None and backend not in BACKENDS:
            raise InputError(f"--backend = {backend!r}: expected local or dask")
        if resume is not None:
            if scenario is not None or out is not None or any(v is not None for v in (replications, seed, years)):
                raise InputError("--resume: give only the run folder (and optionally --workers, --backend, --scheduler); "
                                 "the scenario and settings come from its run.json")
            settings = read_run_settings(resume)
            try:
                loaded = Scenario.model_validate_json(json.dumps(settings["scenario"]))
            except ValueError as exc:
                raise InputError(f"{resume}/run.json: scenario: {exc}") from None
            out = resume
            backend = backend or settings.get("backend") or "local"
            workers = workers or settings.get("workers") or 1
            if scheduler is None and backend == settings.get("backend"):
                scheduler = settings.get("scheduler")
            command, scenario_file = settings.get("command") or sys.argv, settings.get("scenario_file")
            if settings.get("git_commit") not in (None, git_commit()):
                err_console.print(f"warning: {resume} was started by icsim at commit {settings['git_commit']}, this is "
                                  f"{git_commit()}: the resumed replications may not match the saved ones",
                                  markup=False, highlight=False, soft_wrap=True)
        else:
            if scenario is None:
                raise InputError("run: give a scenario file, or --resume OUT to continue an interrupted run")
            loaded = load_scenario(scenario)
            if years is not None or seed is not None or replications is not None:
                loaded = loaded.with_run(years=years, seed=seed, replications=replications)
            backend, workers = backend or "local", workers or 1
            command, scenario_file = sys.argv, str(scenario)
            settings = {"sources": sources_for(scenario)}
        if scheduler is not None and backend != "dask":
            raise InputError("--scheduler: only with --backend dask")
        if resume is None:
            stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
            out = out or Path("runs") / f"{loaded.meta.name}-{stamp}"
            store = start_run_folder(out, {
                "scenario_file": scenario_file, "command": command, "seed": loaded.run.seed,
                "replications": loaded.run.replications, "years": loaded.run.years, "backend": backend,
                "workers": workers, "scheduler": scheduler, "git_commit": git_commit(),
                "scenario": loaded.model_dump(mode="json"), "sources": settings["sources"],
            })
        else:
            store = out / "replications"
    except InputError as exc:
        _fail(str(exc))

    from .runner import saved_replications

    n = loaded.run.replications
    already = len(saved_replications(store, n))
    try:
        with Progress(
            TextColumn("[bold]simulating[/]"), BarColumn(), MofNCompleteColumn(), TextColumn("replications"),
            TextColumn("{task.fields[rate]}"), TimeRemainingColumn(), console=err_console,
            disable=quiet or not err_console.is_terminal, transient=True,
        ) as progress:
            task = progress.add_task("run", total=n, completed=already, rate="")
            clock = time.perf_counter()

            def advance(_r: int) -> None:
                progress.advance(task)
                fresh = progress.tasks[0].completed - already
                progress.update(task, rate=f"{fresh / max(time.perf_counter() - clock, 1e-9) * 60:.1f}/min")

            result = run_replications(loaded, workers=workers, on_replication=advance, backend=backend,
                                      scheduler=scheduler, store=store)
    except KeyboardInterrupt:
        saved = len(saved_replications(store, n))
        err_console.print(f"interrupted: {saved} of {n} replications saved in {out}/; continue with: icsim run --resume {out}",
                          markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(130)
    except InputError as exc:
        _fail(str(exc))
    manifest_data = manifest(result, scenario_file, command, time.perf_counter() - started, settings.get("sources"))
    folder = finish_run_folder(result, out, manifest_data)
    if not quiet:
        _print_summary(result)
    resumed = f" ({already} resumed from disk)" if already else ""
    out_console.print(
        f"{n} replications{resumed} of '{loaded.meta.name}' ({loaded.run.years:g} y, seed {result.seed}) in "
        f"{time.perf_counter() - started:.1f} s; results in {folder}/", markup=False, highlight=False,
    )


@app.command()
def synth(
    out: Path = typer.Option(..., "--out", "-o", help="Folder to write the extract into (must not exist yet or be empty)."),
    years: float = typer.Option(3.0, "--years", help="Years of history."),
    seed: int = typer.Option(1, "--seed", help="Seed of the truth simulation."),
    scenario: Path = typer.Option(Path("scenarios/baseline.toml"), "--scenario", help="The truth scenario."),
    faults: bool = typer.Option(False, "--faults", help="Inject realistic data faults (counted in faults.json)."),
) -> None:
    """Write a synthetic historic extract (spells.csv, ic_episodes.csv) from a known truth scenario."""
    from .synth import synthesize

    try:
        _positive("--years", years, 1e-9)
        _positive("--seed", seed, 0)
        truth = load_scenario(scenario)
        folder = synthesize(truth, years, seed, out, faults, sys.argv)
    except InputError as exc:
        _fail(str(exc))
    out_console.print(f"synthetic extract of {years:g} year(s) from '{truth.meta.name}' (seed {seed}) in {folder}/",
                      markup=False, highlight=False)


@app.command()
def calibrate(
    extract: Path = typer.Argument(..., help="Folder with spells.csv and ic_episodes.csv (docs/data-contract.md)."),
    out: Path = typer.Option(..., "--out", "-o", help="Calibration folder to write, e.g. calibration/leeds-2025 (must not exist yet or be empty)."),
    base: Path = typer.Option(Path("scenarios/baseline.toml"), "--base", help="Scenario for what the extract cannot identify."),
    train_until: Optional[str] = typer.Option(None, "--train-until", help="Backtest: fit on data before this date (YYYY-MM-DD) and score the forecast after it."),
    replications: int = typer.Option(20, "--replications", "-n", help="Replications for the validation band."),
    workers: int = typer.Option(1, "--workers", "-w", help="Processes for the validation runs."),
) -> None:
    """Fit a scenario to a historic extract: data-quality report, params.toml, validation (or backtest)."""
    from .calibrate import calibrate as run_calibration

    try:
        _positive("--replications", replications, 2)
        _positive("--workers", workers, 1)
        cutoff = None
        if train_until is not None:
            try:
                cutoff = dt.date.fromisoformat(train_until)
            except ValueError:
                raise InputError(f"--train-until = {train_until!r}: expected a date YYYY-MM-DD") from None
        check_out_dir(out)
        folder = run_calibration(extract, out, base, cutoff, replications, workers, sys.argv)
    except InputError as exc:
        _fail(str(exc))
    table = pd.read_csv(folder / ("backtest.csv" if cutoff else "validation.csv"))
    view = Table(title=f"{'backtest' if cutoff else 'validation'}: simulated vs observed weekly KPIs", title_justify="left")
    for column in ("KPI", "observed", "simulated", "MAPE %", "weeks in 95% band"):
        view.add_column(column, justify="left" if column == "KPI" else "right", no_wrap=True)
    for row in table.itertuples():
        view.add_row(row.kpi, kpi_value(row.observed_mean, row.unit), kpi_value(row.simulated_mean, row.unit),
                     f"{row.mape_percent:.1f}", f"{100 * row.share_weeks_in_95_band:.0f}%")
    out_console.print(view)
    out_console.print(f"calibrated scenario: {folder}/params.toml (run it with: icsim run {folder}/params.toml)",
                      markup=False, highlight=False)


HEADLINE_KPIS = (
    "nr2r_los_days", "bed_los_days", "bed_home_proportion", "admissions_per_week", "admissions_avoided_per_week",
    "reablement_starts_per_week", "p1_wait_days", "p2_wait_days", "p3_wait_days", "delayed_bed_days_per_week",
    "bed_occupancy", "permanent_care_admissions_per_year",
)  # fmt: skip


@app.command()
def compare(
    baseline: Path = typer.Argument(..., help="Baseline scenario TOML."),
    scenarios: list[Path] = typer.Argument(..., help="One or more scenario TOML files to compare with the baseline."),
    replications: Optional[int] = typer.Option(None, "--replications", "-n", help="Replications (default: the baseline's run.replications)."),
    seed: Optional[int] = typer.Option(None, "--seed", help="Master seed, shared by every scenario (default: the baseline's)."),
    years: Optional[float] = typer.Option(None, "--years", help="Years reported after warm-up (default: the baseline's)."),
    workers: int = typer.Option(1, "--workers", "-w", help="Processes to run replications in."),
    costs: Path = typer.Option(Path("scenarios/costs/default.toml"), "--costs", help="Unit-cost table for the financial benefit."),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="Compare folder to write (default: runs/compare-<time>). Must not exist yet or be empty."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar or tables."),
) -> None:
    """Compare scenarios with a baseline on common random numbers: paired KPI differences,
    people per year and the annualised financial benefit with a low/central/high range."""
    from .benefit import benefit, run_rate
    from .compare import compare as run_comparison
    from .costs import load_costs

    started = time.perf_counter()
    try:
        _check_run_options(replications, years, workers, seed)
        base = load_scenario(baseline)
        if years is not None or seed is not None or replications is not None:
            base = base.with_run(years=years, seed=seed, replications=replications)
        others = {}
        for path in scenarios:
            loaded = load_scenario(path)
            if loaded.meta.name in others or loaded.meta.name == base.meta.name and path != baseline:
                raise InputError(f"{path}: meta.name = {loaded.meta.name!r}: expected a name no other compared scenario has")
            others[loaded.meta.name] = loaded
        cost_table = load_costs(costs)
        out = out or Path("runs") / f"compare-{dt.datetime.now().strftime('%Y%m%d-%H%M%S')}"
        check_out_dir(out)
    except InputError as exc:
        _fail(str(exc))

    n = base.run.replications * (1 + len(others))
    with Progress(
        TextColumn("[bold]simulating[/]"), BarColumn(), MofNCompleteColumn(), TextColumn("replications"),
        TimeRemainingColumn(), console=err_console, disable=quiet or not err_console.is_terminal, transient=True,
    ) as progress:
        task = progress.add_task("compare", total=n)
        result = run_comparison(base, others, workers=workers, on_replication=lambda _r: progress.advance(task))
    try:
        benefits, run_rates = [], []
        for name, scenario_result in result.scenarios.items():
            for frame, rows in ((benefit(result.baseline.replications, scenario_result.replications, cost_table), benefits),
                                (run_rate(result.baseline.replications, scenario_result.replications, cost_table), run_rates)):
                frame.insert(0, "scenario", name)
                rows.append(frame)
    except InputError as exc:
        _fail(str(exc))
    tables = {
        "kpi_deltas": result.kpi_deltas(),
        "people": result.people(),
        "benefit": pd.concat(benefits, ignore_index=True),
        "run_rate": pd.concat(run_rates, ignore_index=True),
        "replications": pd.concat(
            [result.baseline.replications.assign(scenario=base.meta.name)]
            + [r.replications.assign(scenario=name) for name, r in result.scenarios.items()],
            ignore_index=True,
        ),
    }
    manifest_data = {
        **provenance(sys.argv),
        "baseline_file": str(baseline),
        "scenario_files": [str(p) for p in scenarios],
        "costs_file": str(costs),
        "seed": result.baseline.seed,
        "replications": base.run.replications,
        "years": base.run.years,
        "timings": {**result.timings, "wall_seconds": round(time.perf_counter() - started, 3)},
        "baseline": base.model_dump(mode="json"),
        "scenarios": {name: s.model_dump(mode="json") for name, s in others.items()},
        "sources": {base.meta.name: sources_for(baseline),
                    **{s.meta.name: sources_for(p) for p, s in zip(scenarios, others.values())}},
        "costs": cost_table.file.model_dump(mode="json"),
    }
    try:
        folder = write_folder(out, tables, manifest_data)
    except InputError as exc:
        _fail(str(exc))
    if not quiet:
        _print_comparison(tables, base.meta.name)
    out_console.print(
        f"compared {len(others)} scenario(s) with '{base.meta.name}' over {base.run.replications} paired replications "
        f"(seed {result.baseline.seed}) in {time.perf_counter() - started:.1f} s; results in {folder}/",
        markup=False, highlight=False,
    )


@app.command()
def report(
    folder: Annotated[Path, typer.Argument(help="A run folder (icsim run) or compare folder (icsim compare).")],
    out: Annotated[Path | None, typer.Option("--out", "-o", help="HTML file to write (default: FOLDER-report.html beside the folder); charts also go to <out stem>_charts/ as PNG and SVG.")] = None,
) -> None:
    """Write one self-contained HTML report (charts embedded) of a run or compare folder."""
    from .report import charts_dir, write_report

    try:
        path = write_report(folder, out)
    except InputError as exc:
        _fail(str(exc))
    out_console.print(f"report: {path} (charts as PNG and SVG in {charts_dir(path)}/)", markup=False, highlight=False,
                      soft_wrap=True)


@app.command()
def plan(
    scenario: Path = typer.Argument(..., help="Scenario TOML file (e.g. scenarios/blueprint.toml)."),
    service: str = typer.Option(..., "--service", help="[beds|reablement] The capacity to plan."),
    target: str = typer.Option(..., "--target", help='KPI condition to meet each year, e.g. "p2_wait_days <= 2" or "p1_queue[total] <= 10".'),
    confidence: float = typer.Option(0.9, "--confidence", help="Probability (share of replications) with which the target must be met."),
    years: Optional[str] = typer.Option(None, "--years", help="Years to plan, e.g. 2026-2035 (reporting years by the calendar year they start in; default: every year of the run, which is lengthened if needed)."),
    objective: str = typer.Option("target", "--objective", help="[target|cost] The least capacity meeting the target, or the one with the least cost of places plus acute bed days waiting among those meeting it."),
    costs: Path = typer.Option(Path("scenarios/costs/default.toml"), "--costs", help="Unit-cost table (for --objective cost)."),
    replications: Optional[int] = typer.Option(None, "--replications", "-n", help="Replications per candidate capacity (default: the scenario's)."),
    seed: Optional[int] = typer.Option(None, "--seed", help="Master seed, shared by every candidate (default: the scenario's)."),
    max_capacity: Optional[int] = typer.Option(None, "--max-capacity", help="Largest capacity to try (default: 4 × today's)."),
    step: int = typer.Option(1, "--step", help="Search capacities in steps of this many places from today's (1: the exact least capacity; larger: fewer candidates to simulate)."),
    workers: int = typer.Option(1, "--workers", "-w", help="Processes to run replications in."),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="Plan folder to write (default: runs/plan-<scenario>-<time>). Must not exist yet or be empty."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress or table."),
) -> None:
    """The capacity each year needs: for each year, the least beds or reablement places that
    meet a target with the stated confidence, searched on common random numbers."""
    from .costs import load_costs
    from .plan import parse_target
    from .plan import plan as find_plan

    started = time.perf_counter()
    try:
        _check_run_options(replications, None, workers, seed)
        base = load_scenario(scenario)
        wanted = _year_range(years) if years else None
        run_years = base.run.years
        if wanted is not None:
            run_years = max(run_years, wanted[1] - base.run.start_date.year + 1)
        base = base.with_run(years=run_years, seed=seed, replications=replications)
        goal = parse_target(target)
        cost_table = load_costs(costs) if objective == "cost" else None
        out = out or Path("runs") / f"plan-{base.meta.name}-{dt.datetime.now().strftime('%Y%m%d-%H%M%S')}"
        check_out_dir(out)
    except InputError as exc:
        _fail(str(exc))

    def progress(capacity: int) -> None:
        if not quiet:
            err_console.print(f"simulated {service} = {capacity}", markup=False, highlight=False)

    try:
        chosen, evaluations = find_plan(
            base, service, goal, confidence, wanted, objective, cost_table, max_capacity, progress, step,
            workers=workers,
        )
    except InputError as exc:
        _fail(str(exc))
    manifest_data = {
        **provenance(sys.argv),
        "scenario_file": str(scenario),
        "service": service,
        "target": str(goal),
        "confidence": confidence,
        "objective": objective,
        "step": step,
        "costs_file": str(costs) if objective == "cost" else None,
        "seed": base.run.seed,
        "replications": base.run.replications,
        "years": base.run.years,
        "timings": {"wall_seconds": round(time.perf_counter() - started, 3)},
        "scenario": base.model_dump(mode="json"),
    }
    try:
        folder = write_folder(out, {"plan": chosen, "evaluations": evaluations}, manifest_data)
    except InputError as exc:
        _fail(str(exc))
    if not quiet:
        table = Table(title=f"{service}: capacity meeting {goal} with probability ≥ {confidence:g}", title_justify="left")
        for column in ("year", "capacity", "offered load", "P(target met)", "today", "offered load today"):
            table.add_column(column, justify="right")
        for r in chosen.itertuples():
            table.add_row(str(r.year), "–" if math.isnan(r.capacity) else f"{r.capacity:.0f}", f"{r.offered_load:.2f}",
                          f"{r.probability_target_met:.2f}", str(r.capacity_now), f"{r.offered_load_now:.2f}")
        out_console.print(table)
        for r in chosen.itertuples():
            if r.warning:
                err_console.print(f"warning: {r.year}: {r.warning}", markup=False, highlight=False, soft_wrap=True)
    out_console.print(f"planned {service} for {len(chosen)} year(s) from {evaluations['capacity'].nunique()} candidate "
                      f"capacities in {time.perf_counter() - started:.1f} s; results in {folder}/", markup=False, highlight=False)


def _year_range(text: str) -> tuple[int, int]:
    match = re.fullmatch(r"\s*(\d{4})\s*(?:-\s*(\d{4}))?\s*", text)
    if not match or (match.group(2) and int(match.group(2)) < int(match.group(1))):
        raise InputError(f"--years {text!r}: expected a year or a range of years, e.g. 2026-2035")
    first = int(match.group(1))
    return first, int(match.group(2) or first)


def _print_comparison(tables: dict, baseline_name: str) -> None:
    deltas, people, benefits = tables["kpi_deltas"], tables["people"], tables["benefit"]
    for name in deltas["scenario"].unique():
        table = Table(title=f"{name} vs {baseline_name}: KPI differences (paired 95% CI)", title_justify="left")
        for column, justify in (("KPI", "left"), ("unit", "left"), ("baseline", "right"), (name, "right"), ("difference", "right"), ("95% CI", "right")):
            table.add_column(column, justify=justify, no_wrap=True)
        rows = deltas[(deltas["scenario"] == name) & (deltas["scope"] == "total") & deltas["kpi"].isin(HEADLINE_KPIS)]
        for row in rows.itertuples():
            unit = "%" if row.unit == "proportion" else row.unit
            table.add_row(row.kpi, unit, kpi_value(row.baseline, row.unit), kpi_value(row.scenario_value, row.unit), kpi_value(row.delta, row.unit),
                          f"{kpi_value(row.ci95_low, row.unit)} – {kpi_value(row.ci95_high, row.unit)}")
        out_console.print(table)
        table = Table(title=f"{name}: people a year, each counted once (improvement, paired 95% CI)", title_justify="left")
        for column in ("counter", "improvement", "95% CI"):
            table.add_column(column, justify="left" if column == "counter" else "right", no_wrap=True)
        for row in people[people["scenario"] == name].itertuples():
            table.add_row(row.counter, f"{row.improvement:+,.0f}", f"{row.ci95_low:+,.0f} – {row.ci95_high:+,.0f}")
        out_console.print(table)
        table = Table(title=f"{name}: annualised financial benefit (saving positive; low = P10 at low unit costs, "
                            f"central = median at central, high = P90 at high)", title_justify="left")
        for column in ("component", "category", "low", "central", "high"):
            table.add_column(column, justify="left" if column in ("component", "category") else "right", no_wrap=True)
        for row in benefits[benefits["scenario"] == name].itertuples():
            table.add_row(row.component, str(row.category), money(row.low), money(row.central), money(row.high))
        out_console.print(table)


def _print_summary(result: RunResult) -> None:
    summary = result.summary
    table = Table(title=f"{result.scenario.meta.name}: KPIs, mean and 95% CI over replications", title_justify="left")
    for column, justify in (("KPI", "left"), ("scope", "left"), ("unit", "left"), ("mean", "right"), ("95% CI", "right"), ("P10-P90", "right")):
        table.add_column(column, justify=justify, no_wrap=True)
    shown = summary[(summary["scope"] == "total") | summary["kpi"].isin(["bed_occupancy", "delayed_bed_days_per_week"])]
    for row in shown.itertuples():
        unit = "%" if row.unit == "proportion" else row.unit
        table.add_row(
            row.kpi, "" if row.scope == "total" else row.scope, unit, kpi_value(row.mean, row.unit),
            f"{kpi_value(row.ci95_low, row.unit)} – {kpi_value(row.ci95_high, row.unit)}",
            f"{kpi_value(row.p10, row.unit)} – {kpi_value(row.p90, row.unit)}",
        )
    out_console.print(table)


def _given_value(param, argv: list[str]) -> str | None:
    """The text the user gave for an option that failed to parse (typer's message omits it)."""
    for opt in getattr(param, "opts", None) or ():
        for i, token in enumerate(argv):
            if token == opt and i + 1 < len(argv):
                return argv[i + 1]
            if token.startswith(opt + "="):
                return token[len(opt) + 1 :]
    return None


@app.command()
def census(
    scenario: Path = typer.Argument(..., help="Scenario TOML file to simulate."),
    out: Path = typer.Option(..., "--out", "-o", help="Census CSV file to write (must not exist yet)."),
    at_day: Optional[float] = typer.Option(None, "--at-day", help="Simulation day of the census (default: the end of the warm-up)."),
    replication: int = typer.Option(0, "--replication", help="Which replication to simulate."),
    seed: Optional[int] = typer.Option(None, "--seed", help="Master seed (default: the scenario's)."),
) -> None:
    """Write the census (who is where, and for how long) of a simulated system at a day: a
    synthetic start for `run.census` when no real census is at hand."""
    from .census import census_at, write_census
    from .model.census import size_by_place

    try:
        _positive("--seed", seed, 0)
        _positive("--replication", replication, 0)
        loaded = load_scenario(scenario)
        day = float(loaded.run.warmup_days if at_day is None else at_day)
        if out.exists():
            raise InputError(f"--out {out}: already exists; expected a new file")
        rows = census_at(loaded, day, replication, seed)
    except InputError as exc:
        _fail(str(exc))
    note = (
        f"SYNTHETIC census: simulated by icsim, not observed. Scenario {scenario} ({loaded.meta.name}), "
        f"day {day:g} of the simulation ({loaded.date_of(day)}), replication {replication}, "
        f"seed {loaded.run.seed if seed is None else seed}.\nColumns: docs/data-contract.md, 'Census'."
    )
    write_census(rows, out, note)
    counts = ", ".join(f"{place} {n}" for place, n in size_by_place(rows).items())
    out_console.print(f"wrote {out}: {len(rows)} people ({counts})", markup=False, highlight=False)


def main() -> None:
    """Console entry point: command-line mistakes, too, get one line and exit code 2."""
    command = typer.main.get_command(app)
    try:
        code = command.main(args=sys.argv[1:], prog_name="icsim", standalone_mode=False)
    except typer.TyperException as exc:  # usage errors: bad option value, unknown option, ...
        context = getattr(exc, "ctx", None)
        if type(exc).__name__ == "NoArgsIsHelpError" and context is not None:
            out_console.print(context.get_help(), markup=False, highlight=False)
            code = 0
        else:
            where = f"{context.command_path}: " if context is not None else ""
            message = " ".join(exc.format_message().split())
            given = _given_value(getattr(exc, "param", None), sys.argv[1:])
            if given is not None:
                message = f"{message} (given: {given!r})"
            err_console.print(f"error: {where}{message} (see --help)", markup=False, highlight=False, soft_wrap=True)
            code = 2
    except typer.Abort:
        err_console.print("error: interrupted", markup=False, highlight=False)
        code = 130
    sys.exit(code or 0)
