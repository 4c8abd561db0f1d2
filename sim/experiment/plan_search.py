"""The fast search of `icsim plan`: the least capacity per year meeting a target, from far fewer
replication-years than simulating every candidate in full, with the same answer.

The answer is defined as before (sim.experiment.plan): for each year, the least capacity on
the grid whose share of the n replications meeting the target in that year is at least the
confidence, every candidate simulated on common random numbers (replications 0..n-1 of one
seed), assuming that share does not fall as capacity rises. Three facts make the search cheap
without changing that answer:

1. **Only the years up to the one asked about are simulated.** Arrivals are drawn four weeks
   at a time from day 0 (sim.model.front_door.CHUNK_DAYS), and everything the model records
   for a day depends only on what happened up to that day, so a run stopped at the first
   four-week boundary after year j's end reproduces years 1..j bit for bit
   (tests/test_plan_search.py checks this). A candidate for 2026 costs one year, not ten.
2. **A candidate is settled as soon as its outcome is certain.** P(met) >= confidence over n
   replications means at least `need` of them meet the target; once `need` have met it, or
   more than n - need have missed it, the remaining replications cannot change the outcome
   (an exact sequential rule, not a statistical bound). Replications are simulated hardest
   first: on common random numbers one that misses at a nearby capacity (a busy year by
   chance) is the likeliest to miss here, so a candidate that misses is settled after a few;
   one that meets takes at least `need`.
3. **Few candidates are tried, cheap ones first.** Years are planned in order. Each year's
   search starts a little below a prediction (the place-demand of the years already planned,
   grown with the arrivals, plus their margin; for the first year Erlang C's margin over
   the pilot's place-demand) and climbs through candidates that miss (cheap) until one meets,
   then bisects. Where the search starts changes the cost, never the answer (monotonicity).

Every replication simulated is kept, for every year it covers, and reused by any later
question about that capacity; the capacity chosen for a year is completed to all n
replications, so its probability and offered load are exactly the full evaluation's.
Replications are run in batches, in replication order, in a process pool when workers > 1;
spare workers compute the next replications speculatively, but a result is only used where
the one-worker search would have asked for it, so every output is the same for any workers.
"""

from __future__ import annotations

import math
import signal
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..errors import InputError
from ..inputs.scenario import Scenario
from ..model import simulate
from ..model.front_door import CHUNK_DAYS
from ..units import DAYS_PER_YEAR
from .kpis import reporting_years, yearly_kpis

PILOT_REPLICATIONS = 2  # replications of today's capacity over the whole run (offered load, warm start)
MIN_BATCH = 2  # the fewest replications asked for at once (independent of workers: outputs do not depend on them)
FIELDS = ("value", "occupancy", "requests", "starts", "waiting")  # per replication and year


def needed(n: int, confidence: float) -> int:
    """The fewest of n replications meeting the target for P(met) >= confidence (as the mean of
    n booleans is compared: met / n >= confidence)."""
    return next(m for m in range(n + 1) if m / n >= confidence)


def horizon_years(scenario: Scenario, blocks: int) -> float:
    """run.years that simulates reporting years 1..`blocks` exactly as the whole run does: to
    the first arrival-chunk boundary at or after the last of them ends (the whole run if that
    is its end or beyond)."""
    years = reporting_years(scenario)
    end = years[blocks - 1][2]
    end = math.ceil(end / CHUNK_DAYS) * CHUNK_DAYS
    if end >= scenario.end_day:
        return scenario.run.years
    return (end - scenario.run.warmup_days) / DAYS_PER_YEAR


def _years_of(scenario: Scenario, seed: int, replication: int, keys: Sequence[tuple[str, str]]):
    """One replication: an array (len(keys), years) of each KPI (kpi, scope) per reporting year,
    or (None, scopes of the first KPI) when the first (the target) has no such scope."""
    out = simulate(scenario, replication, seed)
    yearly = yearly_kpis(out.daily, scenario, replication)
    by_key = {key: group.sort_values("year")["value"].to_numpy(dtype=float)
              for key, group in yearly.groupby(["kpi", "scope"], sort=False)}
    if keys[0] not in by_key:
        return None, sorted(s for k, s in by_key if k == keys[0][0])
    n_years = len(reporting_years(scenario))
    return np.array([by_key.get(key, np.full(n_years, np.nan)) for key in keys]), None


def _in_worker(task):
    return _years_of(*task)


def _ignore_interrupt() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is handled by the parent process alone


@dataclass
class Cost:
    """What the search simulated: replication-years run (including speculative ones not used)
    and used, replications run, and candidate capacities."""

    replication_years: float = 0.0
    replication_years_used: float = 0.0
    replications: int = 0
    candidates: int = 0


@dataclass
class _Record:
    years: int  # reporting years covered (1..years)
    data: np.ndarray  # (len(FIELDS), years)


@dataclass
class Replications:
    """Every replication simulated for the search, by capacity, and the questions asked of them.

    `scenario_for(capacity, years)` gives the scenario to simulate (run.years = years);
    `keys` are the (kpi, scope) of FIELDS: target, occupancy, requests, starts, waiting."""

    scenario: Scenario
    scenario_for: Callable[[int, float], Scenario]
    keys: tuple[tuple[str, str], ...]
    met: Callable[[np.ndarray], np.ndarray]
    higher_is_worse: bool  # a "<=" target: the higher the value, the further from meeting it
    n: int
    confidence: float
    seed: int
    workers: int = 1
    on_candidate: Callable[[int], None] | None = None
    cost: Cost = field(default_factory=Cost)

    def __post_init__(self):
        self.need = needed(self.n, self.confidence)
        self.labels = [year for year, _, _ in reporting_years(self.scenario)]
        self.records: dict[int, dict[int, _Record]] = {}  # capacity -> replication -> record
        self._spare: dict[tuple[int, int], _Record] = {}  # speculative results not yet asked for
        self._scenarios: dict[tuple[int, int], Scenario] = {}
        self._pool: ProcessPoolExecutor | None = None
        self.log: list[tuple] = []  # each question: (capacity, year, years simulated over, answer, replication-years it cost)

    # -- running replications ------------------------------------------------------------------
    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def _abort(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            for process in (getattr(self._pool, "_processes", None) or {}).values():
                process.terminate()  # (private attribute) a running replication would otherwise delay the exit
            self._pool = None

    def _scenario(self, capacity: int, years: int) -> Scenario:
        key = (capacity, years)
        if key not in self._scenarios:
            self._scenarios[key] = self.scenario_for(capacity, horizon_years(self.scenario, years))
        return self._scenarios[key]

    def _scenario_years(self, years: int) -> float:
        """Years one replication simulates to cover reporting years 1..`years` (warm-up included)."""
        return horizon_years(self.scenario, years) + self.scenario.run.warmup_days / DAYS_PER_YEAR

    def _run(self, capacity: int, replications: list[int], years: int, following: Sequence[int] = ()) -> None:
        """Record `replications` of `capacity` over reporting years 1..`years`. Spare results
        are used first; workers left idle compute the next of `following` speculatively."""
        todo = [r for r in replications if not (self._spare.get((capacity, r)) and self._spare[(capacity, r)].years >= years)]
        extra = []
        if self.workers > 1 and todo:
            short = -len(todo) % self.workers
            extra = [r for r in following if r not in replications and (capacity, r) not in self._spare][:short]
        tasks = todo + extra
        if tasks:
            scenario = self._scenario(capacity, years)
            args = [(scenario, self.seed, r, self.keys) for r in tasks]
            try:
                if self.workers > 1 and len(tasks) > 1:
                    if self._pool is None:
                        self._pool = ProcessPoolExecutor(max_workers=self.workers, initializer=_ignore_interrupt)
                    results = list(self._pool.map(_in_worker, args))
                else:
                    results = [_in_worker(a) for a in args]
            except BaseException:
                self._abort()
                raise
            for r, (data, scopes) in zip(tasks, results):
                if data is None:
                    kpi, scope = self.keys[0]
                    raise InputError(f"--target: KPI {kpi} has no scope {scope!r}; expected one of {', '.join(scopes)}")
                self._spare[(capacity, r)] = _Record(years, data[:, :years])
            self.cost.replication_years += len(tasks) * self._scenario_years(years)
            self.cost.replications += len(tasks)
        if capacity not in self.records:
            self.records[capacity] = {}
            self.cost.candidates += 1
            if self.on_candidate:
                self.on_candidate(capacity)
        for r in replications:
            spare = self._spare.pop((capacity, r))
            self.records[capacity][r] = _Record(years, spare.data[:, :years])
            self.cost.replication_years_used += self._scenario_years(years)

    def pilot(self, capacity: int, replications: int) -> None:
        """The first `replications` of `capacity` over every reporting year."""
        have = self.records.get(capacity, {})
        todo = [r for r in range(replications) if r not in have or have[r].years < len(self.labels)]
        if todo:
            self._run(capacity, todo, len(self.labels))

    # -- questions ---------------------------------------------------------------------------
    def _covering(self, capacity: int, j: int) -> list[_Record]:
        return [rec for rec in self.records.get(capacity, {}).values() if rec.years > j]

    def counts(self, capacity: int, j: int) -> tuple[int, int]:
        """(met, missed) among the replications of `capacity` covering year index j."""
        values = np.array([rec.data[0, j] for rec in self._covering(capacity, j)])
        met = int(self.met(values).sum()) if len(values) else 0
        return met, len(values) - met

    def status(self, capacity: int, j: int) -> bool | None:
        """True/False once P(met) >= confidence in year j is certain for `capacity`, else None."""
        met, missed = self.counts(capacity, j)
        if met >= self.need:
            return True
        if missed > self.n - self.need:
            return False
        return None

    def order(self, capacity: int, j: int) -> list[int]:
        """Replications hardest first for (capacity, year index j): by their target value at the
        nearest year and capacity already simulated over at least half the replications, those
        furthest from meeting it first.
        On common random numbers a replication that misses at one capacity (a busy year by
        chance) is the likeliest to miss at the next, so a candidate that misses is settled
        after few replications. Replications not simulated there go after the harder half;
        ties by replication number. (The order changes the cost, never the outcome.)"""
        best, best_key = None, None
        for other, records in self.records.items():
            if other == capacity:
                continue
            for y in range(len(self.labels)):
                m = sum(1 for rec in records.values() if rec.years > y)
                if m:
                    key = (0 if 2 * m >= self.n else 1, abs(y - j), abs(other - capacity), -m)
                    if best_key is None or key < best_key:
                        best, best_key = (other, y), key
        if best is None:
            return list(range(self.n))
        other, y = best
        values = {r: rec.data[0, y] for r, rec in self.records[other].items() if rec.years > y}
        sign = 1.0 if self.higher_is_worse else -1.0
        hardness = {r: math.inf if math.isnan(v) else sign * v for r, v in values.items()}
        known = sorted(hardness, key=lambda r: (-hardness[r], r))
        half = (len(known) + 1) // 2
        unknown = [r for r in range(self.n) if r not in hardness]
        return known[:half] + unknown + known[half:]

    def decide(self, capacity: int, j: int, years: int) -> bool:
        """Whether `capacity` meets the target in year index j with the confidence, simulating
        (over reporting years 1..`years` >= j + 1) only the replications needed to settle it,
        hardest first."""
        before = self.cost.replication_years
        order = self.order(capacity, j)
        while (settled := self.status(capacity, j)) is None:
            met, missed = self.counts(capacity, j)
            have = self.records.get(capacity, {})
            todo = [r for r in order if r not in have or have[r].years <= j]
            least = min(self.need - met, self.n - self.need + 1 - missed)  # fewer cannot settle it
            self._run(capacity, todo[: max(least, MIN_BATCH)], max(years, j + 1), todo)
        self.log.append((capacity, self.labels[j], max(years, j + 1), settled, round(self.cost.replication_years - before, 2)))
        return settled

    def complete(self, capacity: int, j: int, years: int | None = None) -> None:
        """All n replications of `capacity` over year index j (as a full evaluation has them)."""
        have = self.records.get(capacity, {})
        todo = [r for r in range(self.n) if r not in have or have[r].years <= j]
        if todo:
            self._run(capacity, todo, max(years or 0, j + 1))

    def row(self, capacity: int, j: int) -> dict:
        """The year's figures for `capacity` over the replications simulated (the full
        evaluation's when all n are): P(met), offered load, target mean, cost drivers."""
        covering = self._covering(capacity, j)
        data = np.array([rec.data[:, j] for rec in covering]).reshape(len(covering), len(FIELDS)).T
        value, occupancy, requests, starts, waiting = data
        with np.errstate(invalid="ignore", divide="ignore"):
            offered = occupancy * requests / starts
        met = self.met(value)
        return {
            "year": self.labels[j],
            "capacity": int(capacity),
            "probability_target_met": float(met.mean()) if len(met) else math.nan,
            "offered_load": _mean(offered),
            "target_mean": _mean(value),
            "waiting_bed_days_per_week": _mean(waiting),
            "starts_per_week": _mean(starts),
            "replications": len(covering),
        }

    def frame(self) -> pd.DataFrame:
        """Every (capacity, year) with at least one replication simulated, with the number of
        replications its figures are over and whether the target is met with the confidence
        ("yes"/"no"; "" while unsettled)."""
        rows = []
        for capacity in sorted(self.records):
            for j in range(len(self.labels)):
                if self._covering(capacity, j):
                    settled = self.status(capacity, j)
                    rows.append({**self.row(capacity, j), "meets": "" if settled is None else ("yes" if settled else "no")})
        return pd.DataFrame(rows)


def _mean(values: np.ndarray) -> float:
    """The mean of the defined values (NaN if none), as pandas averages."""
    values = values[~np.isnan(values)]
    return float(values.mean()) if len(values) else math.nan


@dataclass
class Grid:
    """Capacities now + k × step for k in [lowest, top] (capacity(lowest - 1) is taken not to
    meet the target: below the place-demand)."""

    now: int
    step: int
    lowest: int
    top: int

    def capacity(self, k: int) -> int:
        return self.now + k * self.step

    def nearest(self, capacity: float) -> int:
        """The grid index nearest `capacity`, within [lowest, top]."""
        k = round((capacity - self.now) / self.step) if math.isfinite(capacity) else 0
        return min(max(k, self.lowest), self.top)


def erlang_c_wait(servers: int, offered: float, mean_service: float) -> float:
    """Mean wait in M/M/c (Erlang C): C(c, a) × E[S] / (c − a); inf when a >= c."""
    if offered >= servers:
        return math.inf
    # the Erlang B recursion is stable for large c: B(k) = a B(k-1) / (k + a B(k-1))
    b = 1.0
    for k in range(1, servers + 1):
        b = offered * b / (k + offered * b)
    rho = offered / servers
    c = b / (1 - rho + rho * b)
    return c * mean_service / (servers - offered)


def erlang_c_servers(offered: float, mean_service: float, wait: float) -> float:
    """The least whole number of servers whose Erlang C mean wait is at most `wait`."""
    if not (math.isfinite(offered) and math.isfinite(mean_service) and offered > 0 and mean_service > 0):
        return math.nan
    servers = math.floor(offered) + 1
    while erlang_c_wait(servers, offered, mean_service) > wait:
        servers += 1
    return float(servers)


@dataclass
class Search:
    """The least meeting capacity per year (grid indices), years in order.

    `growth`: demand per year index relative to any fixed level (the scenario's arrival rates
    averaged over each reporting year); `demand`: the place-demand per year index from the pilot
    (offered load × today's capacity); `first_margin`: places above the demand the first year
    planned is expected to need."""

    reps: Replications
    grid: Grid
    growth: list[float]
    demand: list[float]
    first_margin: float
    answers: dict[int, int | None] = field(default_factory=dict)  # year index -> grid index (None: not met)
    demand_at_answer: dict[int, float] = field(default_factory=dict)  # year index -> place-demand at its answer

    START_BELOW = 2  # steps below the prediction the search starts (a miss costs a fifth of a meet)

    def predicted(self, j: int) -> float:
        """The capacity a year is expected to need. Once years are planned: each of the (up to)
        three nearest planned years' place-demand at its answer, grown with the arrivals to year
        j, plus its margin (answer - demand) grown with the square root of the demand (square-
        root staffing), averaged. Before: the pilot's place-demand plus `first_margin`. (Today's
        capacity may be overloaded, where the offered load understates the demand's growth.)"""
        planned = sorted((abs(i - j), i) for i, a in self.demand_at_answer.items()
                         if math.isfinite(a) and a > 0 and self.growth[i] > 0)[:3]
        if planned:
            guesses = []
            for _, i in planned:
                demand, scale = self.demand_at_answer[i], self.growth[j] / self.growth[i]
                margin = self.grid.capacity(self.answers[i]) - demand
                guesses.append(demand * scale + margin * math.sqrt(scale))
            return float(np.mean(guesses))
        demand = self.demand[j]
        if not math.isfinite(demand) or demand <= 0:
            return float(self.grid.now)
        return demand + (self.first_margin if math.isfinite(self.first_margin) else math.sqrt(demand))

    def horizon(self, k: int, j: int, later: Sequence[int]) -> int:
        """Reporting years to simulate a probe of grid index k for year index j over: j + 1, and
        on through the following wanted years whose predicted need is close enough to k that
        their search may well ask about k (k from 3 steps below that need to 1 above). A
        replication run on by a year costs that year; run again for a later year, all of them."""
        last = j
        for i in later:
            if i > j:
                if not -3 <= k - self.grid.nearest(self.predicted(i)) <= 1:
                    break
                last = i
        return last + 1

    def bracket(self, j: int) -> tuple[int, int]:
        """(lo, hi): the largest grid index known to miss year j (or lowest - 1) and the least
        known to meet it (or top + 1), from every replication simulated so far."""
        settled = {}
        for capacity in self.reps.records:
            k = (capacity - self.grid.now) // self.grid.step
            if self.grid.capacity(k) == capacity and self.grid.lowest <= k <= self.grid.top:
                status = self.reps.status(capacity, j)
                if status is not None:
                    settled[k] = status
        hi = min([k for k, ok in settled.items() if ok], default=self.grid.top + 1)
        lo = max([k for k, ok in settled.items() if not ok and k < hi], default=self.grid.lowest - 1)
        return lo, hi

    def year(self, j: int, later: Sequence[int]) -> int | None:
        """The least grid index meeting year index j (None if even the top one does not).

        A candidate that misses is cheap (settled by its hardest replications), one that meets
        costs at least `need` replications; so the search starts START_BELOW steps below the
        prediction and climbs (strides 1, 1, 1, 2, 2, 4, 4, ...) until a candidate meets, or,
        if the first meets, descends (strides 1, 2, 4, ...) until one misses; then it bisects
        the bracket a third of the way up (a meet costs more than a miss)."""
        lo, hi = self.bracket(j)
        probe = min(max(self.grid.nearest(self.predicted(j)) - self.START_BELOW, lo + 1), hi - 1)
        direction, moves, bisecting = 0, 0, False
        while hi - lo > 1:
            ok = self.reps.decide(self.grid.capacity(probe), j, self.horizon(probe, j, later))
            if ok:
                hi = probe
            else:
                lo = probe
            way = -1 if ok else 1
            if not bisecting and direction in (0, way):
                direction, moves = way, moves + 1
                stride = 2 ** (max(0, moves - 2) // 2) if way > 0 else 2 ** (moves - 1)
                if lo < probe + way * stride < hi:
                    probe += way * stride
                    continue
            bisecting = True
            probe = lo + max(1, (hi - lo) // 3)
        answer = None if hi > self.grid.top else hi
        self.answers[j] = answer
        if answer is not None:
            capacity = self.grid.capacity(answer)
            self.demand_at_answer[j] = self.reps.row(capacity, j)["offered_load"] * capacity
        return answer
