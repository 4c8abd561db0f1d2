"""The speed and scale targets, each measured figure printed beside its target.

Prints figures; asserts nothing (speed lives here, not in tests). Run: `make bench` (about
10 minutes on a 2-core machine: it runs the CLI for 100 replications with 1 and with 2
workers, and for 10 years x 100 replications). `--quick` runs 20 replications and skips the
10-year run, for a rough check while developing.

Targets (issue 5), on the 2-core development machine, shipped baseline scenario:
  1. one replication-year of simulation <= 0.5 s (start-up excluded);
  2. `icsim run scenarios/baseline.toml --replications 100`: <= 30 s wall, whole process;
  3. 10 years x 100 replications: <= 240 s wall, peak memory <= 1 GB, not growing with the horizon;
  4. people/s per core >= 50% of a minimal plain-SimPy model of the same pathways
     (benchmarks/reference_simpy.py);
  5. 2 workers >= 1.7x faster than 1 on the 100-replication run.
  6. (issue 11) `icsim --help` and `icsim <command> --help` <= 3x `python -c "import numpy"`.
  7. (issue 12) the fidelity (localities, routes, readiness, keyed readmissions) costs at most
     30% more per replication-year than the model before it (commit PRE_FIDELITY, timed from
     a temporary git worktree, both timed at the same time, when the history is there).
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))

from reference_simpy import run_reference  # noqa: E402 (found through the sys.path entry above)

from sim import load_scenario  # noqa: E402
from sim.model import simulate  # noqa: E402

ICSIM = Path(sys.executable).with_name("icsim")
PRE_FIDELITY = "c4da3b9"  # the last commit before issue 12's structure (localities, routes, ...)
TIMING = """
import statistics, sys, time
from sim import load_scenario
from sim.model import simulate
scenario = load_scenario("scenarios/baseline.toml")
simulate(scenario, replication=99)
seconds = []
for r in range(5):
    t0 = time.perf_counter()
    simulate(scenario, replication=r)
    seconds.append(time.perf_counter() - t0)
print(statistics.median(seconds) / (scenario.end_day / 365))
"""


def _timing(checkout: Path) -> subprocess.Popen:
    """Start timing the baseline with the code in `checkout` (a process printing the median
    seconds per replication-year)."""
    env = {**os.environ, "PYTHONPATH": str(checkout)}
    return subprocess.Popen([sys.executable, "-c", TIMING], cwd=checkout, env=env, stdout=subprocess.PIPE, text=True)


def _seconds(process: subprocess.Popen) -> float:
    out, _ = process.communicate()
    if process.returncode:
        raise SystemExit(f"timing failed with exit code {process.returncode}")
    return float(out.strip())


def fidelity_timings() -> tuple[float, float] | None:
    """(before, now): seconds per replication-year of the pre-fidelity model (from a temporary
    worktree) and of this checkout, timed at the same time, one process on each core, so both
    meet the same machine (on a shared VM, timings taken minutes apart differ by up to 40%).
    None if the commit is not in this clone's history."""
    if subprocess.run(["git", "cat-file", "-e", f"{PRE_FIDELITY}^{{commit}}"], cwd=ROOT, capture_output=True).returncode:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        tree = Path(tmp) / "before"
        subprocess.run(["git", "worktree", "add", "--detach", "-q", str(tree), PRE_FIDELITY], cwd=ROOT, check=True)
        try:
            before, now = [], []
            for _ in range(3):  # three rounds, each timing both at once
                processes = _timing(tree), _timing(ROOT)
                before.append(_seconds(processes[0]))
                now.append(_seconds(processes[1]))
            return statistics.mean(before), statistics.mean(now)
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(tree)], cwd=ROOT, check=True)


def people_entering(daily) -> float:
    return float(daily[("system.entered", "total")].sum())


def in_process(scenario, repeats: int) -> tuple[float, float]:
    """(median seconds per replication, people per replication) of icsim's model."""
    simulate(scenario, replication=99)  # warm caches
    seconds, people = [], []
    for r in range(repeats):
        t0 = time.perf_counter()
        out = simulate(scenario, replication=r)
        seconds.append(time.perf_counter() - t0)
        people.append(people_entering(out.daily))
    return statistics.median(seconds), statistics.mean(people)


def reference(scenario, repeats: int) -> tuple[float, float]:
    """(median seconds per run, people per run) of the plain-SimPy reference model.

    Like for like: the cyclic garbage collector is paused while it runs, as icsim's
    `simulate` pauses it (worth about 30% to plain SimPy too).
    """
    run_reference(scenario, seed=99)
    seconds, people = [], []
    for r in range(repeats):
        gc.disable()
        t0 = time.perf_counter()
        people.append(run_reference(scenario, seed=r))
        seconds.append(time.perf_counter() - t0)
        gc.enable()
    return statistics.median(seconds), statistics.mean(people)


def cli_run(args: list[str]) -> tuple[float, float]:
    """(wall seconds, peak MB of the process tree's resident memory) of one `icsim run`."""
    out = Path(tempfile.mkdtemp(prefix="icsim-bench-")) / "run"
    t0 = time.perf_counter()
    process = psutil.Popen([str(ICSIM), "run", *args, "--quiet", "--out", str(out)], cwd=ROOT)
    peak = 0
    while process.poll() is None:
        try:
            tree = [process, *process.children(recursive=True)]
            peak = max(peak, sum(p.memory_info().rss for p in tree if p.is_running()))
        except psutil.Error:
            pass
        time.sleep(0.1)
    wall = time.perf_counter() - t0
    shutil.rmtree(out.parent, ignore_errors=True)
    if process.returncode != 0:
        raise SystemExit(f"icsim run {' '.join(args)} failed with exit code {process.returncode}")
    return wall, peak / 2**20


def median_seconds(command: list[str], repeats: int = 7) -> float:
    """Median wall time of a short command (a process start each time)."""
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        subprocess.run(command, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def row(name: str, figure: str, target: str, met: bool | None) -> None:
    verdict = "" if met is None else ("met" if met else "MISSED")
    print(f"{name:<52} {figure:>16}   {target:<18} {verdict}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="20 replications, no 10-year run")
    quick = parser.parse_args().quick
    n = 20 if quick else 100
    scenario = load_scenario(ROOT / "scenarios" / "baseline.toml")
    years = scenario.end_day / 365

    print(f"machine: {platform.machine()}, {os.cpu_count()} cpus, {psutil.virtual_memory().total / 2**30:.0f} GiB, "
          f"Python {sys.version.split()[0]}, {platform.platform()}")
    print(f"scenario: baseline, {scenario.run.warmup_days} warm-up days + {scenario.run.years:g} reported year "
          f"= {years:.2f} simulated years per replication")

    sim_seconds, people = in_process(scenario, repeats=5)
    ref_seconds, ref_people = reference(scenario, repeats=3)
    wall_1, _ = cli_run(["scenarios/baseline.toml", "-n", str(n), "--workers", "1"])
    wall_2, peak_2 = cli_run(["scenarios/baseline.toml", "-n", str(n), "--workers", "2"])

    print()
    row("measure", "figure", "target", None)
    row("1. simulation per replication-year (s)", f"{sim_seconds / years:.3f}", "<= 0.5", sim_seconds / years <= 0.5)
    row("   per replication incl. warm-up (s)", f"{sim_seconds:.3f}", "", None)
    timings = fidelity_timings()
    if timings is None:
        row(f"7. fidelity cost (before: {PRE_FIDELITY} not in this clone)", "n/a", "<= +30%", None)
    else:
        before, after = timings
        row(f"7. per replication-year before ({PRE_FIDELITY}) / now (s)", f"{before:.3f} / {after:.3f}", "", None)
        row("   fidelity cost", f"{after / before - 1:+.0%}", "<= +30%", after / before <= 1.3)
    row(f"2. icsim run, {n} replications, 2 workers (s wall)", f"{wall_2:.1f}", "<= 30" if n == 100 else "(quick)",
        wall_2 <= 30 if n == 100 else None)
    icsim_rate, ref_rate = people / sim_seconds, ref_people / ref_seconds
    row("4. people/s per core, icsim", f"{icsim_rate:,.0f}", "", None)
    row("   people/s per core, plain-SimPy reference", f"{ref_rate:,.0f}", "", None)
    row("   icsim / reference", f"{icsim_rate / ref_rate:.0%}", ">= 50%", icsim_rate / ref_rate >= 0.5)
    row(f"5. 1 worker / 2 workers, {n} replications", f"{wall_1 / wall_2:.2f}x", ">= 1.7x", wall_1 / wall_2 >= 1.7)
    row(f"   (1 worker: {wall_1:.1f} s wall)", "", "", None)
    if not quick:
        wall_10, peak_10 = cli_run(["scenarios/baseline.toml", "-n", "100", "--years", "10", "--workers", "2"])
        row("3. 10 years x 100 replications, 2 workers (s wall)", f"{wall_10:.1f}", "<= 240", wall_10 <= 240)
        row("   peak memory, process tree (MB)", f"{peak_10:.0f}", "<= 1024", peak_10 <= 1024)
        row("   peak memory 10 years / 1 year", f"{peak_10 / peak_2:.2f}", "flat (~1)", None)
    row(f"   peak memory, {n} x 1 year, 2 workers (MB)", f"{peak_2:.0f}", "", None)
    numpy_s = median_seconds([sys.executable, "-c", "import numpy"])
    row("6. python -c 'import numpy' (s, median of 7)", f"{numpy_s:.3f}", "", None)
    for args in (["--help"], ["run", "--help"], ["compare", "--help"], ["plan", "--help"]):
        seconds = median_seconds([str(ICSIM), *args])
        row(f"   icsim {' '.join(args)} (s) / import numpy", f"{seconds:.3f} = {seconds / numpy_s:.1f}x", "<= 3x",
            seconds <= 3 * numpy_s)


if __name__ == "__main__":
    main()
