#!/usr/bin/env python3
"""Prove that two versions of icsim write the same output files.

Made for refactors that must not change behaviour (e.g. moving sim/ modules into subpackages):
it runs one fixed set of `icsim` commands (fixed seeds, small sizes) on each side, then compares the
two output trees file by file. It passes (exit 0) only if both sides write the same set of files
and every file has the same bytes, up to the masks listed below and nothing else.

Usage (from the repository, with the project's venv python, which has every dependency):

    .venv/bin/python scripts/same_outputs.py --before <commit> [--after <commit>|WORKTREE] [--keep DIR]

--after defaults to WORKTREE: the checkout holding this script as it is, uncommitted changes included.
A commit side is checked out with `git worktree add --detach` in a temporary folder and removed at the
end (also on failure or Ctrl-C). --keep DIR keeps the outputs and command logs in DIR (which must
not exist yet or be empty): DIR/<side>/out and DIR/<side>/logs.

Each command runs as `python -c "...from sim.cli import main; main()" ARGS` with PYTHONPATH and the
working directory set to the side's root, so the venv's editable install of `sim` cannot stand in
for the side's code (checked: `sim.__file__` must lie in the side's root). Both sides run at once
(one process each), which takes about three minutes on two cores.

Masks. A file counts as identical if its bytes are equal, or if they are equal after these masks
(each file line says which masks it needed, so nothing is hidden):
  paths      text files (.csv .json .md .toml .txt .html): the side's output folder and root are
             replaced by <OUT> and <ROOT>; manifests and reports record where they were written.
  json-keys  .json: parsed, and these keys dropped at any depth: icsim_version, git_commit,
             created_utc, timings, command and every key ending in _seconds (provenance and
             timing, not results); then re-serialised in the original key order.
  html-*     .html: the provenance cells of the report: html-created (the "created (UTC)" cell),
             html-version (the "icsim version" cell and the footer's "icsim X"), html-commit (the
             "git commit" cell and the footer's "commit X"), html-seconds (values of *_seconds in
             the timings cell). Embedded chart PNGs are compared unmasked.
  svg-date   .svg: matplotlib writes the time of drawing in <dc:date> (icsim's reports now omit
             it; the element is dropped on both sides).
  svg-ids    .svg: matplotlib names clip paths and markers by a hash salted with a fresh uuid4 per
             process (rcParams["svg.hashsalt"] is unset), so they differ between any two runs. Ids of
             that form (a letter and 10 hex digits) are renumbered in order of first appearance, so
             the structure (which element refers to which) is still compared.
PNG and every other file are compared byte for byte.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

WORKTREE = "WORKTREE"
REPO = Path(subprocess.run(["git", "rev-parse", "--show-toplevel"], cwd=Path(__file__).resolve().parent,
                           capture_output=True, text=True, check=True).stdout.strip())
PYTHON = str(REPO / ".venv/bin/python") if (REPO / ".venv/bin/python").exists() else sys.executable
LAUNCH = "import sys; sys.argv[0] = 'icsim'; from sim.cli import main; main()"

# (log name, icsim arguments); {out} is the side's output folder. Order matters: report needs
# compare and run_blueprint, calibrate needs extract. plan simulates the scenario's whole run
# (10 years for blueprint) for each candidate, so it searches in steps of 40 beds (3 and 4 candidates).
COMMANDS = [
    ("run", "run scenarios/baseline.toml --replications 3 --years 1 --seed 7 --out {out}/run --quiet"),
    ("run_blueprint", "run scenarios/blueprint.toml --replications 2 --years 3 --seed 7 --out {out}/run_blueprint --quiet"),
    ("compare", "compare scenarios/baseline.toml scenarios/homefirst.toml scenarios/beds_plus_12.toml"
                " --replications 3 --years 1 --seed 7 --out {out}/compare --quiet"),
    ("plan", "plan scenarios/blueprint.toml --service beds --target 'p2_wait_days <= 3' --years 2026-2027"
             " --replications 2 --seed 7 --step 40 --out {out}/plan --quiet"),
    ("plan_cost", "plan scenarios/blueprint.toml --service beds --target 'p2_wait_days <= 3' --years 2026-2027"
                  " --replications 2 --seed 7 --step 40 --objective cost --out {out}/plan_cost --quiet"),
    ("synth", "synth --out {out}/extract --years 2 --seed 3"),
    ("calibrate", "calibrate {out}/extract --out {out}/calibration --replications 2"),
    ("census", "census scenarios/baseline.toml --out {out}/census.csv --seed 7"),
    ("report_compare", "report {out}/compare --out {out}/compare-report.html"),
    ("report_run", "report {out}/run_blueprint --out {out}/run-report.html"),
]

TEXT = {".csv", ".json", ".md", ".toml", ".txt", ".html"}
DROP_KEYS = {"icsim_version", "git_commit", "created_utc", "timings", "command"}  # and *_seconds
HTML_MASKS = [  # (name, pattern, replacement), applied to the report after the path placeholders
    ("html-created", r"(created \(UTC\)</td><td>)[^<]*", r"\1<CREATED>"),
    ("html-version", r"(icsim version</td><td>)[^<]*", r"\1<VERSION>"),
    ("html-commit", r"(git commit</td><td>)[^<]*", r"\1<COMMIT>"),
    ("html-version", r"\(icsim [^,()]*, commit", "(icsim <VERSION>, commit"),
    ("html-commit", r"(, commit )[^)<]*\)\.", r"\1<COMMIT>)."),
    ("html-seconds", r"(_seconds&quot;: )[-+0-9.eE]+", r"\1<SECONDS>"),
]
SVG_ID = re.compile(r'id="([a-z][0-9a-f]{10})"')


class Side:
    """One version of the code: its root, output folder and command logs."""

    def __init__(self, label: str, ref: str, base: Path):
        self.label, self.ref, self.dir = label, ref, base / label
        self.out, self.logs = self.dir / "out", self.dir / "logs"
        self.root = REPO if ref == WORKTREE else self.dir / "src"
        self.failures: list[str] = []

    def checkout(self) -> str:
        """Check out the side (a detached worktree of its commit) and check which `sim` it imports."""
        for folder in (self.out, self.logs):
            folder.mkdir(parents=True)
        what = f"working tree {REPO}"
        if self.ref != WORKTREE:
            sha = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--verify", "--quiet", f"{self.ref}^{{commit}}"],
                                 capture_output=True, text=True).stdout.strip()
            if not sha:
                raise SystemExit(f"--{self.label} {self.ref}: not a commit")
            git("worktree", "add", "--detach", str(self.root), sha)
            what = f"commit {sha[:12]} ({self.ref})"
        probe = subprocess.run([PYTHON, "-c", "import sim; print(sim.__file__)"], cwd=self.root,
                               env=self.env(), capture_output=True, text=True)
        found = Path(probe.stdout.strip() or "?").resolve()
        if probe.returncode or not found.is_relative_to(self.root.resolve()):
            raise SystemExit(f"{self.label}: `import sim` must load {self.root}/sim, got {found}\n{probe.stderr[-3000:]}")
        return f"{what}; sim from {found}"

    def env(self) -> dict[str, str]:
        # PYTHONDONTWRITEBYTECODE: leave no __pycache__ in the working tree being checked.
        return {**os.environ, "PYTHONPATH": str(self.root), "PYTHONDONTWRITEBYTECODE": "1", "MPLBACKEND": "Agg"}

    def run_all(self) -> None:
        """Run every command, logging its stdout and stderr; a failing command does not stop the rest."""
        for i, (name, args) in enumerate(COMMANDS, 1):
            argv = [a.format(out=self.out) for a in shlex.split(args)]
            log = self.logs / f"{i:02d}-{name}.log"
            start = time.monotonic()
            with log.open("w") as handle:
                handle.write(f"$ icsim {' '.join(argv)}\n")
                handle.flush()
                rc = subprocess.run([PYTHON, "-c", LAUNCH, *argv], cwd=self.root, env=self.env(),
                                    stdout=handle, stderr=subprocess.STDOUT, timeout=1800).returncode
            print(f"  [{self.label}] {'ok' if rc == 0 else f'FAILED (exit {rc})'} {time.monotonic() - start:6.1f} s  {name}",
                  flush=True)
            if rc:
                self.failures.append(f"{name} (exit {rc}), log {log}:\n" + "".join(log.read_text().splitlines(True)[-30:]))

    def remove(self) -> None:
        if self.ref != WORKTREE and self.root.exists():
            git("worktree", "remove", "--force", str(self.root))

    def normalise(self, rel: str, data: bytes) -> tuple[bytes, set[str]]:
        """The file's content with the masks above applied, and the names of masks that changed it."""
        suffix, used = Path(rel).suffix, set()

        def sub(name, pattern, repl, text: str) -> str:
            new = re.sub(pattern, repl, text)
            if new != text:
                used.add(name)
            return new

        if suffix == ".svg":
            text = sub("svg-date", r"\n\s*<dc:date>[^<]*</dc:date>", "", data.decode())
            ids = {old: f"id{n}" for n, old in enumerate(dict.fromkeys(SVG_ID.findall(text)))}
            text = sub("svg-ids", "|".join(ids) or "(?!)", lambda m: ids[m.group()], text)
            return text.encode(), used
        if suffix not in TEXT:
            return data, used
        text = data.decode()
        for path, holder in ((self.out, "<OUT>"), (self.root, "<ROOT>")):
            text = sub("paths", re.escape(str(path)), holder, text)
        if suffix == ".json":
            parsed = json.loads(text)
            cleaned = drop_keys(parsed)
            if cleaned != parsed:
                used.add("json-keys")
            text = json.dumps(cleaned, indent=1, ensure_ascii=False)
        if suffix == ".html":
            for name, pattern, repl in HTML_MASKS:
                text = sub(name, pattern, repl, text)
        return text.encode(), used


def git(*args: str) -> str:
    return subprocess.run(["git", "-C", str(REPO), *args], capture_output=True, text=True, check=True).stdout.strip()


def drop_keys(value):
    """`value` without provenance and timing keys, at any depth."""
    if isinstance(value, dict):
        return {k: drop_keys(v) for k, v in value.items() if k not in DROP_KEYS and not k.endswith("_seconds")}
    if isinstance(value, list):
        return [drop_keys(v) for v in value]
    return value


def first_difference(a: bytes, b: bytes) -> str:
    """Where two (normalised) files first differ, with some context from each."""
    at = next((i for i, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))
    line = a.count(b"\n", 0, at) + 1
    where = f"at byte {at} of {len(a)} / {len(b)}, line {line}"

    def show(data: bytes) -> str:
        return repr(data[max(0, at - 70): at + 70].decode(errors="replace"))

    return f"      first difference {where}:\n      before {show(a)}\n      after  {show(b)}"


def compare(before: Side, after: Side) -> tuple[int, int]:
    """Print one line per file (OK / DIFF / ONLY-...); return (identical, differing)."""
    def files(side: Side) -> set[str]:
        return {p.relative_to(side.out).as_posix() for p in side.out.rglob("*") if p.is_file()}

    left, right = files(before), files(after)
    same = differ = 0
    for rel in sorted(left | right):
        if rel not in right or rel not in left:
            print(f"ONLY-{'BEFORE' if rel in left else 'AFTER'}  {rel}")
            differ += 1
            continue
        a, b = (before.out / rel).read_bytes(), (after.out / rel).read_bytes()
        if a == b:
            print(f"OK    {rel}")
            same += 1
            continue
        (na, used_a), (nb, used_b) = before.normalise(rel, a), after.normalise(rel, b)
        masks = ", ".join(sorted(used_a | used_b)) or "none"
        if na == nb:
            print(f"OK    {rel}  (after masks: {masks})")
            same += 1
        else:
            print(f"DIFF  {rel}  (masks tried: {masks})\n{first_difference(na, nb)}")
            differ += 1
    return same, differ


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--before", required=True, help="commit (anything git rev-parse takes) or WORKTREE")
    parser.add_argument("--after", default=WORKTREE, help="commit or WORKTREE (default: the working tree)")
    parser.add_argument("--keep", type=Path, help="keep outputs and logs in this folder (must not exist or be empty)")
    opts = parser.parse_args()
    if opts.keep and opts.keep.exists() and any(opts.keep.iterdir()):
        parser.error(f"{opts.keep} exists and is not empty")
    base = opts.keep.resolve() if opts.keep else Path(tempfile.mkdtemp(prefix="same_outputs-")).resolve()
    sides = [Side("before", opts.before, base), Side("after", opts.after, base)]
    start = time.monotonic()
    try:
        for side in sides:
            print(f"{side.label}: {side.checkout()}")
        with ThreadPoolExecutor(len(sides)) as pool:
            list(pool.map(Side.run_all, sides))
        failed = [f"[{side.label}] {failure}" for side in sides for failure in side.failures]
        for failure in failed:
            print(f"\nCOMMAND FAILED {failure}")
        kept = f"; outputs and logs kept in {base}" if opts.keep else ""
        print(f"\ncommands took {time.monotonic() - start:.0f} s{kept}\n")
        same, differ = compare(*sides)
    finally:
        for side in sides:
            side.remove()
        git("worktree", "prune")
        if not opts.keep:
            shutil.rmtree(base, ignore_errors=True)
    if failed:
        print(f"{len(failed)} command(s) failed (see above): the outputs cannot be shown to be the same")
    print(f"{same} files identical, {differ} differ")
    return 0 if differ == 0 and not failed else 1


if __name__ == "__main__":
    sys.exit(main())
