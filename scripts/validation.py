#!/usr/bin/env python3
"""Write docs/validation.md from model runs: every published anchor in calibration/anchors.toml
against what icsim gives, with a verdict.

It compares the baseline with every other scenario the anchors name (one `sim.workflows.compare`
on common random numbers, fixed seed), evaluates the anchors (sim/outputs/validation.py) and
writes the page atomically. Usage, from the repository (or `make validation`):

    .venv/bin/python scripts/validation.py [--replications 20] [--seed 20251123] [--years Y]
                                           [--workers 1] [--anchors FILE] [--out docs/validation.md]

The code run is this checkout's (its root goes first on sys.path), and the scenarios are this
checkout's scenarios/ files. About 1 s per replication per scenario on one core.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sim import workflows  # noqa: E402
from sim.errors import InputError  # noqa: E402
from sim.experiment.kpis import KPI_IDS  # noqa: E402
from sim.files import write_atomic  # noqa: E402
from sim.inputs.anchors import load_anchors  # noqa: E402
from sim.outputs.folders import git_commit  # noqa: E402
from sim.outputs.validation import Results, RunInfo, evaluate, render, verdict_counts  # noqa: E402

BASELINE = "baseline"
SEED = 20251123


def scenario_file(name: str) -> Path | str:
    """This checkout's scenarios/<name>.toml, else the name (a library scenario)."""
    path = ROOT / "scenarios" / f"{name}.toml"
    return path if path.is_file() else name


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--replications", "-n", type=int, default=20, help="replications per scenario (default 20)")
    parser.add_argument("--seed", type=int, default=SEED, help=f"master seed (default {SEED})")
    parser.add_argument("--years", type=float, default=None, help="reported years (default: the baseline's)")
    parser.add_argument("--workers", "-w", type=int, default=1, help="processes (default 1)")
    parser.add_argument("--anchors", type=Path, default=ROOT / "calibration" / "anchors.toml")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "validation.md")
    args = parser.parse_args(argv)
    try:
        anchors = load_anchors(args.anchors)
        names = []
        for anchor in anchors:
            if anchor.paired and anchor.scenarios[0] != BASELINE:
                raise InputError(f"{args.anchors}: anchor {anchor.id}: scenarios = {anchor.scenarios}: "
                                 f"expected {BASELINE!r} first (every change is against the baseline)")
            names += [s for s in anchor.scenarios if s != BASELINE and s not in names]
        done = [0]

        def progress(_replication: int) -> None:
            done[0] += 1
            print(f"\r{done[0]} replications", end="", file=sys.stderr, flush=True)

        outcome = workflows.compare(scenario_file(BASELINE), [scenario_file(n) for n in names],
                                    replications=args.replications, seed=args.seed, years=args.years,
                                    workers=args.workers, on_replication=progress)
        print(file=sys.stderr)
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    comparison = outcome.comparison
    run = comparison.baseline.scenario.run
    rows = evaluate(anchors, Results.from_comparison(comparison, outcome.tables), KPI_IDS)
    info = RunInfo(
        date=dt.date.today().isoformat(), commit=git_commit(), replications=run.replications, seed=comparison.baseline.seed,
        years=run.years, warmup_days=run.warmup_days, start_date=run.start_date.isoformat(),
        scenarios=(BASELINE, *names),
        command="make validation" if args.replications == 20 and args.years is None and args.seed == SEED
        else "python scripts/validation.py " + " ".join(sys.argv[1:] if argv is None else argv),
    )
    write_atomic(args.out, render(rows, info))
    counts = verdict_counts(rows)
    print(f"{args.out}: " + ", ".join(f"{n} {v}" for v, n in counts.items()), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
