"""The `icsim` command: parse options, call a workflow (sim.workflows), print what it returns.

Bad input gets one line on stderr and exit code 2, never a traceback. Only typer and rich are
imported up front; a command imports what it needs when it runs, so `--help` answers at once.
"""

from __future__ import annotations

import errno
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Literal, Optional

import typer
from rich.console import Console

app = typer.Typer(
    help="icsim: simulate intermediate-care flow (front door, hospital, reablement, short-term beds, "
    "care homes) and report the programme KPIs with confidence intervals. A SCENARIO is a TOML file or "
    "the name of a shipped one (baseline, homefirst, blueprint, ...).",
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # help is plain text: "[a|b]" is shown, not taken for markup
)
out_console = Console()
if not out_console.is_terminal:  # files and CI logs: wide enough for the KPI table
    out_console.width = 140
err_console = Console(stderr=True)
PRECISION_HELP = "Run replications in batches until {what} 95% CI half-width is within this share of its value, e.g. 0.02 for ±2%; --replications is then the most to run (default 1000). Reports how many it took."


def _say(text: str, console: Console = out_console) -> None:
    console.print(text, markup=False, highlight=False, soft_wrap=True)


def _warn(message: str) -> None:
    _say(f"warning: {message}", err_console)


def _fail(message: str, code: int = 2) -> None:
    _say(f"error: {message}", err_console)
    raise typer.Exit(code)


@contextmanager
def _input_errors():
    """Bad input (an InputError from a workflow) ends the command: one line, exit code 2."""
    from .errors import InputError

    try:
        yield
    except InputError as exc:
        _fail(str(exc))
    except OSError as exc:  # the disk: a folder under a file, no permission, no space (not the input: exit 1)
        _fail(f"{exc.filename or 'writing the output'}: {exc.strerror or exc}", 1 if exc.errno == errno.ENOSPC else 2)


@app.command()
def validate(scenario: Path = typer.Argument(..., help="Scenario TOML file or library name.")) -> None:
    """Check a scenario file and print what it resolves to (after `extends`)."""
    from .outputs.console import describe
    from .workflows import validate as check

    with _input_errors():
        _say(f"{scenario}: valid. {describe(check(scenario))}")


@app.command()
def run(
    scenario: Optional[Path] = typer.Argument(None, help="Scenario TOML file or library name (e.g. baseline), or a run folder's manifest.json to reproduce that run. Omit with --resume."),
    replications: Optional[int] = typer.Option(None, "--replications", "-n", help="Replications (default: the scenario's run.replications)."),
    seed: Optional[int] = typer.Option(None, "--seed", help="Master seed (default: the scenario's run.seed)."),
    years: Optional[float] = typer.Option(None, "--years", help="Years reported after warm-up (default: the scenario's run.years)."),
    workers: Optional[int] = typer.Option(None, "--workers", "-w", help="Processes to run replications in (default 1; results are identical for any number). With --backend dask and no --scheduler: the LocalCluster's worker processes."),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="Run folder to write (default: runs/<scenario>-<time>). Must not exist yet or be empty."),
    backend: Optional[Literal["local", "dask"]] = typer.Option(None, "--backend", help="Where replications run: this machine (serial or a process pool), or a Dask cluster (default: local; dask needs pip install 'icsim[dask]')."),
    scheduler: Optional[str] = typer.Option(None, "--scheduler", help="tcp://HOST:PORT of a running `dask scheduler` (with --backend dask; default: a LocalCluster for this run)."),
    resume: Optional[Path] = typer.Option(None, "--resume", help="Continue the interrupted run in this folder: its saved replications are kept and only the missing ones run."),
    precision: Optional[float] = typer.Option(None, "--precision", help=PRECISION_HELP.format(what="every headline KPI's")),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar or summary table."),
) -> None:
    """Simulate a scenario and write a run folder (manifest, summary, replications, weekly series).

    Each finished replication is saved in OUT/replications/ as it completes; if the run is
    interrupted (Ctrl-C, a kill, a crash), `icsim run --resume OUT` computes only the missing ones."""
    from . import workflows
    from .outputs.progress import RunProgress

    progress = RunProgress(err_console, quiet)
    with _input_errors():
        try:
            with progress.bar:
                outcome = workflows.run(
                    scenario, replications=replications, seed=seed, years=years, workers=workers, backend=backend,
                    scheduler=scheduler, out=out or (None if resume else workflows.AUTO), resume=resume, precision=precision,
                    on_start=progress.start, on_replication=progress.advance, notify=_warn,
                )
        except workflows.RunInterrupted as exc:
            _say(str(exc), err_console)
            raise typer.Exit(130) from None
    result = outcome.result
    if not quiet:
        from .outputs.console import summary_table

        out_console.print(summary_table(result.scenario.meta.name, result.summary))
    resumed = f" ({outcome.resumed} resumed from disk)" if outcome.resumed else ""
    n = result.scenario.run.replications
    _say(f"{n} replication{'' if n == 1 else 's'}{resumed} of '{result.scenario.meta.name}' "
         f"({result.scenario.run.years:g} y, seed {result.seed}) in {outcome.seconds:.1f} s; results in {outcome.folder}/"
         + (f"; {outcome.precision.sentence()}" if outcome.precision else ""))


@app.command()
def compare(
    baseline: Path = typer.Argument(..., help="Baseline scenario TOML file or library name."),
    scenarios: list[Path] = typer.Argument(..., help="One or more scenarios (files or library names) to compare with the baseline."),
    replications: Optional[int] = typer.Option(None, "--replications", "-n", help="Replications (default: the baseline's run.replications)."),
    seed: Optional[int] = typer.Option(None, "--seed", help="Master seed, shared by every scenario (default: the baseline's)."),
    years: Optional[float] = typer.Option(None, "--years", help="Years reported after warm-up (default: the baseline's)."),
    workers: int = typer.Option(1, "--workers", "-w", help="Processes to run replications in."),
    costs: Optional[Path] = typer.Option(None, "--costs", help="Unit-cost table for the financial benefit (default: the shipped costs/default.toml)."),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="Compare folder to write (default: runs/compare-<time>). Must not exist yet or be empty."),
    precision: Optional[float] = typer.Option(None, "--precision", help=PRECISION_HELP.format(what="each scenario's net benefit's")),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar or tables."),
) -> None:
    """Compare scenarios with a baseline on common random numbers: paired KPI differences,
    people per year and the annualised financial benefit with a low/central/high range."""
    from . import workflows
    from .outputs.progress import RunProgress

    progress = RunProgress(err_console, quiet)
    with _input_errors(), progress.bar:
        outcome = workflows.compare(
            baseline, scenarios, replications=replications, seed=seed, years=years, workers=workers, costs=costs, precision=precision,
            out=out or workflows.AUTO, on_start=progress.start, on_replication=progress.advance, notify=_warn,
        )
    if not quiet:
        from .outputs.console import comparison_tables

        for table in comparison_tables(outcome.tables, outcome.baseline_name):
            out_console.print(table)
    _say(f"compared {len(outcome.comparison.scenarios)} scenario(s) with '{outcome.baseline_name}' over {outcome.comparison.baseline.scenario.run.replications} "
         f"paired replications (seed {outcome.comparison.baseline.seed}) in {outcome.seconds:.1f} s; results in {outcome.folder}/; report: {outcome.report}"
         + (f"; {outcome.precision.sentence()}" if outcome.precision else ""))


@app.command()
def plan(
    scenario: Path = typer.Argument(..., help="Scenario TOML file or library name (e.g. blueprint)."),
    service: Literal["beds", "reablement"] = typer.Option(..., "--service", help="The capacity to plan."),
    target: str = typer.Option(..., "--target", help='KPI condition to meet each year, e.g. "p2_wait_days <= 2" or "p1_queue[total] <= 10".'),
    confidence: float = typer.Option(0.9, "--confidence", help="Probability (share of replications) with which the target must be met."),
    years: Optional[str] = typer.Option(None, "--years", help="Years to plan, e.g. 2026-2035 (reporting years by the calendar year they start in; default: every year of the run, which is lengthened if needed)."),
    objective: Literal["target", "cost"] = typer.Option("target", "--objective", help="The least capacity meeting the target, or the one with the least cost of places plus acute bed days waiting among those meeting it."),
    costs: Optional[Path] = typer.Option(None, "--costs", help="Unit-cost table (for --objective cost; default: the shipped costs/default.toml)."),
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
    from . import workflows

    with _input_errors():
        outcome = workflows.plan(
            scenario, service=service, target=target, confidence=confidence, years=years, objective=objective,
            costs=costs, replications=replications, seed=seed, max_capacity=max_capacity, step=step, workers=workers, out=out or workflows.AUTO,
            on_candidate=None if quiet else lambda capacity: _say(f"simulated {service} = {capacity}", err_console),
        )
    chosen = outcome.plan
    if not quiet:
        from .outputs.console import plan_table

        out_console.print(plan_table(chosen, service, outcome.target, confidence))
        for r in chosen.itertuples():
            if r.warning:
                _say(f"warning: {r.year}: {r.warning}", err_console)
    _say(f"planned {service} for {len(chosen)} year(s) from {outcome.evaluations['capacity'].nunique()} candidate "
         f"capacities in {outcome.seconds:.1f} s; results in {outcome.folder}/")


@app.command()
def report(
    folder: Path = typer.Argument(..., help="A run folder (icsim run) or compare folder (icsim compare)."),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="HTML file to write (default: FOLDER-report.html beside the folder); charts also go to <out stem>_charts/ as PNG and SVG."),
) -> None:
    """Write one self-contained HTML report (charts embedded) of a run or compare folder."""
    from .workflows import report as write

    with _input_errors():
        outcome = write(folder, out)
    _say(f"report: {outcome.path} (charts as PNG and SVG in {outcome.charts}/)")


@app.command()
def census(
    scenario: Path = typer.Argument(..., help="Scenario TOML file or library name to simulate."),
    out: Path = typer.Option(..., "--out", "-o", help="Census CSV file to write (must not exist yet)."),
    at_day: Optional[float] = typer.Option(None, "--at-day", help="Simulation day of the census (default: the end of the warm-up)."),
    replication: int = typer.Option(0, "--replication", help="Which replication to simulate."),
    seed: Optional[int] = typer.Option(None, "--seed", help="Master seed (default: the scenario's)."),
) -> None:
    """Write the census (who is where, and for how long) of a simulated system at a day: a
    synthetic start for `run.census` when no real census is at hand."""
    from .workflows import census as take

    with _input_errors():
        outcome = take(scenario, out, at_day=at_day, replication=replication, seed=seed)
    counts = ", ".join(f"{place} {n}" for place, n in outcome.size_by_place.items())
    _say(f"wrote {outcome.path}: {sum(outcome.size_by_place.values())} people ({counts})")


@app.command()
def synth(
    out: Path = typer.Option(..., "--out", "-o", help="Folder to write the extract into (must not exist yet or be empty)."),
    years: float = typer.Option(3.0, "--years", help="Years of history."),
    seed: int = typer.Option(1, "--seed", help="Seed of the truth simulation."),
    scenario: Optional[Path] = typer.Option(None, "--scenario", help="The truth scenario (default: the shipped baseline)."),
    faults: bool = typer.Option(False, "--faults", help="Inject realistic data faults (counted in faults.json)."),
) -> None:
    """Write a synthetic historic extract (spells.csv, ic_episodes.csv) from a known truth scenario."""
    from .workflows import synth as synthesize

    with _input_errors():
        folder, truth = synthesize(out, years=years, seed=seed, scenario=scenario, faults=faults)
    _say(f"synthetic extract of {years:g} year(s) from '{truth.meta.name}' (seed {seed}) in {folder}/")


@app.command()
def calibrate(
    extract: Path = typer.Argument(..., help="Folder with spells.csv and ic_episodes.csv (docs/data-contract.md)."),
    out: Path = typer.Option(..., "--out", "-o", help="Calibration folder to write, e.g. calibration/leeds-2025 (must not exist yet or be empty)."),
    base: Optional[Path] = typer.Option(None, "--base", help="Scenario for what the extract cannot identify (default: the shipped baseline)."),
    train_until: Optional[str] = typer.Option(None, "--train-until", help="Backtest: fit on data before this date (YYYY-MM-DD) and score the forecast after it."),
    replications: int = typer.Option(20, "--replications", "-n", help="Replications for the validation band."),
    workers: int = typer.Option(1, "--workers", "-w", help="Processes for the validation runs."),
    strict: bool = typer.Option(False, "--strict", help="Exit with code 3 when a KPI fails the validation gate (default: warn, exit 0)."),
) -> None:
    """Fit a scenario to a historic extract: data-quality report, params.toml, validation (or backtest)."""
    from .workflows import calibrate as fit

    with _input_errors():
        outcome = fit(extract, out, base=base, train_until=train_until, replications=replications, workers=workers)
    from .outputs.console import calibration_banner, calibration_table

    out_console.print(calibration_table(outcome.scores, outcome.backtest))
    _say(f"calibrated scenario: {outcome.folder}/params.toml (run it with: icsim run {outcome.folder}/params.toml)")
    if outcome.failed:
        err_console.print(calibration_banner(outcome.warning))
        raise typer.Exit(3 if strict else 0)


@app.command(name="app")
def web_app(
    port: int = typer.Option(8501, "--port", help="Port to serve on."),
    host: str = typer.Option("localhost", "--host", help="Address to bind: localhost (this machine only) or 0.0.0.0 to share on a network (no login: see README, security)."),
    workspace: Path = typer.Option(Path("icsim-workspace"), "--workspace", help="Folder for the app's scenarios, uploads and runs (created)."),
) -> None:
    """Start the web app (build a scenario, compare, plan, calibrate, reopen runs) on http://HOST:PORT; Ctrl-C stops it."""
    from .app.server import serve

    with _input_errors():
        raise typer.Exit(serve(port, host, workspace))


def _given_value(param, argv: list[str]) -> str | None:
    """The text the user gave for an option that failed to parse (typer's message omits it)."""
    for opt in getattr(param, "opts", None) or ():
        for i, token in enumerate(argv):
            if (token == opt and i + 1 < len(argv)) or token.startswith(opt + "="):
                return argv[i + 1] if token == opt else token[len(opt) + 1 :]
    return None


def main() -> None:
    """Console entry point: command-line mistakes, too, get one line and exit code 2."""
    command = typer.main.get_command(app)
    try:
        code = command.main(args=sys.argv[1:], prog_name="icsim", standalone_mode=False)
    except typer.TyperException as exc:  # usage errors: bad option value, unknown option, ...
        context = getattr(exc, "ctx", None)
        if type(exc).__name__ == "NoArgsIsHelpError" and context is not None:
            _say(context.get_help())
            sys.exit(0)
        where = f"{context.command_path}: " if context is not None else ""
        message = " ".join(exc.format_message().split())
        given = _given_value(getattr(exc, "param", None), sys.argv[1:])
        message += f" (given: {given!r})" if given is not None else ""
        _say(f"error: {where}{message} (see --help)", err_console)
        code = 2
    except typer.Abort:
        _say("error: interrupted", err_console)
        code = 130
    sys.exit(code or 0)
