"""The speed and scale targets, each measured figure printed beside its target.

Prints figures; asserts nothing (speed lives here, not in tests). Run: `make bench` (about
30 minutes on a 2-core machine: 100 replications with 1 and with 2 workers, 10 years x 100
replications, and the blueprint's ten-year plan). `--quick` runs 20 replications and skips the
10-year run and the whole blueprint plan, for a rough check while developing; `--plan` runs
only target 4. The machine, and its load before and after, are printed first and last: on a
shared VM, figures taken under load are not the code's.

Targets (issue 17), on the 2-core development machine:
  1. core: one replication of the shipped baseline costs <= 1.0x the CPU time of the bare
     plain-SimPy model of the same flow (benchmarks/reference_simpy.py), KPI accumulation
     included, both timed in one run, alternately (moonshot 0.5x);
  2. `icsim run scenarios/baseline.toml --replications 100`: <= 30 s wall on 2 workers, whole process;
  3. 10 years x 100 replications: <= 240 s wall, peak memory of the process tree <= 1 GB and
     flat in the horizon;
  4. `icsim plan scenarios/blueprint.toml --service reablement --target "p1_wait_days <= 2"
     --confidence 0.9 --years 2026-2035` with its defaults (20 replications, step 1) on 2
     workers: <= 60 s wall, with the same answer (within one grid step) as the exhaustive
     (`search="grid"`) search at equal replications. The exhaustive search takes hours there,
     so the answers are compared on a reduced case (PLAN_REDUCED); the M/M/c case with a known
     answer is tests/test_plan_search.py.
Earlier targets, still printed: one replication-year <= 0.5 s and people/s >= 50% of the
reference (issue 5); 2 workers >= 1.7x faster than 1 (issue 5); `icsim --help` and
`icsim <command> --help` <= 3x `python -c "import numpy"` (issue 11); the fidelity costs at
most 30% more per replication-year than the model before it (issue 12: commit PRE_FIDELITY,
timed from a temporary git worktree at the same time as this checkout, when the history is there).
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

import pandas as pd
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


def core(scenario, rounds: int = 5) -> tuple[float, float, float, float]:
    """(median seconds per replication, people per replication) of icsim's model and of the
    plain-SimPy reference, timed alternately round by round in this process, so both meet the
    same machine (timings minutes apart on a shared VM differ by up to 40%).

    Like for like: the cyclic garbage collector is paused while the reference runs, as icsim's
    `simulate` pauses it (worth about 30% to plain SimPy too)."""
    simulate(scenario, replication=99)  # warm caches (imports, scipy special functions)
    run_reference(scenario, seed=99)
    icsim_s, icsim_people, reference_s, reference_people = [], [], [], []
    for r in range(rounds):
        t0 = time.process_time()
        out = simulate(scenario, replication=r)
        icsim_s.append(time.process_time() - t0)
        icsim_people.append(people_entering(out.daily))
        gc.disable()
        t0 = time.process_time()
        reference_people.append(run_reference(scenario, seed=r))
        reference_s.append(time.process_time() - t0)
        gc.enable()
    return (statistics.median(icsim_s), statistics.mean(icsim_people),
            statistics.median(reference_s), statistics.mean(reference_people))


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


PLAN_ARGS = ["scenarios/blueprint.toml", "--service", "reablement", "--target", "p1_wait_days <= 2",
             "--confidence", "0.9", "--years", "2026-2035"]
# the reduced case on which the fast plan search is compared with the exhaustive (grid) one:
# the blueprint's first two years, 6 replications, a 5-place grid, P(met) >= 0.8
PLAN_REDUCED = {"years": 2.0, "replications": 6, "step": 5, "confidence": 0.8}


def cli_plan(args: list[str]) -> tuple[float, pd.DataFrame, pd.DataFrame]:
    """(wall seconds, plan.csv, evaluations.csv) of one `icsim plan`, whole process."""
    out = Path(tempfile.mkdtemp(prefix="icsim-bench-")) / "plan"
    t0 = time.perf_counter()
    done = subprocess.run([str(ICSIM), "plan", *args, "--quiet", "--out", str(out)], cwd=ROOT)
    wall = time.perf_counter() - t0
    if done.returncode != 0:
        raise SystemExit(f"icsim plan {' '.join(args)} failed with exit code {done.returncode}")
    tables = pd.read_csv(out / "plan.csv"), pd.read_csv(out / "evaluations.csv")
    shutil.rmtree(out.parent, ignore_errors=True)
    return wall, *tables


def plan_reduced() -> tuple[bool, dict, dict]:
    """(answers equal within one grid step, fast search's figures, grid search's figures) on
    PLAN_REDUCED, both with 2 workers."""
    from sim.experiment.plan import parse_target, plan

    case = PLAN_REDUCED
    scenario = load_scenario(ROOT / "scenarios" / "blueprint.toml").with_run(years=case["years"],
                                                                               replications=case["replications"])
    found = {}
    for search in ("fast", "grid"):
        stats = {}
        t0 = time.perf_counter()
        chosen, _ = plan(scenario, "reablement", parse_target("p1_wait_days <= 2"), case["confidence"],
                         step=case["step"], search=search, stats=stats, workers=2)
        stats["seconds"] = time.perf_counter() - t0
        stats["answer"] = dict(zip(chosen["year"], chosen["capacity"]))
        found[search] = stats
    fast, grid = found["fast"]["answer"], found["grid"]["answer"]
    equal = fast.keys() == grid.keys() and all(abs(fast[y] - grid[y]) <= case["step"] for y in fast)
    return equal, found["fast"], found["grid"]


def plan_rows(quick: bool) -> None:
    """Target 4: the blueprint plan's wall time and answer, and the reduced case's comparison."""
    equal, fast, grid = plan_reduced()
    reduced = f"blueprint {PLAN_REDUCED['years']:g} years, {PLAN_REDUCED['replications']} replications, step {PLAN_REDUCED['step']}"
    if not quick:
        wall_plan, planned, evaluations = cli_plan([*PLAN_ARGS, "--workers", "2"])
        row("4. plan blueprint reablement 2026-2035 (s wall, 2 workers)", f"{wall_plan:.0f}", "<= 60", wall_plan <= 60)
        answer = ", ".join(f"{int(r.year)}: {r.capacity:.0f}" for r in planned.itertuples())
        row(f"   {evaluations['capacity'].nunique()} candidates; places by year", "", "", None)
        print(f"   {answer}")
    row(f"   answer = exhaustive (grid) search? reduced case: {reduced}", "yes" if equal else "NO", "equal (±1 step)", equal)
    row("   reduced case, fast / grid search (s wall, 2 workers)", f"{fast['seconds']:.0f} / {grid['seconds']:.0f}", "", None)
    row("   reduced case, fast / grid replication-years", f"{fast['replication_years']:.0f} / {grid['replication_years']:.0f}",
        "", None)


def row(name: str, figure: str, target: str, met: bool | None) -> None:
    verdict = "" if met is None else ("met" if met else "MISSED")
    print(f"{name:<52} {figure:>16}   {target:<18} {verdict}")


def machine() -> str:
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return (f"{platform.machine()}, {os.cpu_count()} cpus, {psutil.virtual_memory().total / 2**30:.0f} GiB, "
            f"Python {sys.version.split()[0]}, {platform.platform()}; load average (1, 5, 15 min) {load}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="20 replications, no 10-year run, no whole blueprint plan")
    parser.add_argument("--plan", action="store_true", help="only target 4 (the plan search)")
    options = parser.parse_args()
    quick = options.quick
    print(f"machine at start: {machine()}")
    if options.plan:
        plan_rows(quick)
        print(f"machine at end: {machine()}")
        return
    n = 20 if quick else 100
    scenario = load_scenario(ROOT / "scenarios" / "baseline.toml")
    years = scenario.end_day / 365
    print(f"scenario: baseline, {scenario.run.warmup_days} warm-up days + {scenario.run.years:g} reported year "
          f"= {years:.2f} simulated years per replication")

    sim_seconds, people, ref_seconds, ref_people = core(scenario)
    wall_1, _ = cli_run(["scenarios/baseline.toml", "-n", str(n), "--workers", "1"])
    wall_2, peak_2 = cli_run(["scenarios/baseline.toml", "-n", str(n), "--workers", "2"])

    print()
    row("measure", "figure", "target", None)
    ratio = sim_seconds / ref_seconds
    row("1. core: icsim / plain-SimPy CPU s a replication", f"{ratio:.2f}x", "<= 1.0x (0.5x)", ratio <= 1.0)
    row("   icsim / reference CPU s a replication", f"{sim_seconds:.3f} / {ref_seconds:.3f}", "", None)
    row("   people a replication, icsim / reference", f"{people:,.0f} / {ref_people:,.0f}", "", None)
    row(f"2. icsim run, {n} replications, 2 workers (s wall)", f"{wall_2:.1f}", "<= 30" if n == 100 else "(quick)",
        wall_2 <= 30 if n == 100 else None)
    if not quick:
        wall_10, peak_10 = cli_run(["scenarios/baseline.toml", "-n", "100", "--years", "10", "--workers", "2"])
        row("3. 10 years x 100 replications, 2 workers (s wall)", f"{wall_10:.1f}", "<= 240", wall_10 <= 240)
        row("   peak memory, process tree (MB)", f"{peak_10:.0f}", "<= 1024", peak_10 <= 1024)
        row(f"   peak memory 10 years / 1 year ({n} replications)", f"{peak_10 / peak_2:.2f}", "flat (~1)", None)
    row(f"   peak memory, {n} x 1 year, 2 workers (MB)", f"{peak_2:.0f}", "", None)
    plan_rows(quick)
    print("earlier targets")
    row("   simulation per replication-year (s CPU)", f"{sim_seconds / years:.3f}", "<= 0.5", sim_seconds / years <= 0.5)
    share = (people / sim_seconds) / (ref_people / ref_seconds)
    row("   people/s per core, icsim / reference", f"{share:.0%}", ">= 50%", share >= 0.5)
    row(f"   1 worker / 2 workers, {n} replications", f"{wall_1 / wall_2:.2f}x", ">= 1.7x", wall_1 / wall_2 >= 1.7)
    row(f"   (1 worker: {wall_1:.1f} s wall)", "", "", None)
    timings = fidelity_timings()
    if timings is None:
        row(f"   fidelity cost (before: {PRE_FIDELITY} not in this clone)", "n/a", "<= +30%", None)
    else:
        before, after = timings
        row(f"   per replication-year before ({PRE_FIDELITY}) / now (s)", f"{before:.3f} / {after:.3f}", "", None)
        row("   fidelity cost", f"{after / before - 1:+.0%}", "<= +30%", after / before <= 1.3)
    numpy_s = median_seconds([sys.executable, "-c", "import numpy"])
    row("   python -c 'import numpy' (s, median of 7)", f"{numpy_s:.3f}", "", None)
    for args in (["--help"], ["run", "--help"], ["compare", "--help"], ["plan", "--help"]):
        seconds = median_seconds([str(ICSIM), *args])
        row(f"   icsim {' '.join(args)} (s) / import numpy", f"{seconds:.3f} = {seconds / numpy_s:.1f}x", "<= 3x",
            seconds <= 3 * numpy_s)
    print(f"machine at end: {machine()}")


if __name__ == "__main__":
    main()
