"""An independent generator of historic extracts, to test calibration against (issue 13).

It shares no code with icsim (nothing is imported from `sim`) and is built differently from
icsim's model on purpose, so that a calibration that recovers it has learnt the flow from the
data rather than from its own assumptions:

* arrivals: one Poisson process at a constant rate (no season, weekday pattern or growth);
  a share is referred at the front door to the Home Ward, the rest are admitted;
* every service is a plain first-in-first-out server of c places (Home Ward, reablement, and
  one pool of short-term beds over three sites, a free bed going to the first site in a fixed
  order): nobody is turned away, people queue; no priorities, substitutions or localities;
* the acute stay: the pathway (P0-P3, or death) is drawn on admission, the clinical stay from
  gamma or Weibull families (never lognormal); P0 leave a fixed time after ready (default 0); P1 and P2
  are referred the moment they are ready and stay in the acute bed until a place is free
  (discharge = start of the episode); P3 leave after a gamma placement delay; no weekday rhythm
  anywhere;
* a short-term bed stay is just its length of stay (no exit process, no onward wait): a stay
  ending home_with_care refers the person to reablement at its end, waiting at home;
* "readmitted" (reablement, beds), a Home Ward escalation and a share of P0 discharges come
  back as a new spell of the same person (through the front door, escalations straight in).

`write_independent_extract(folder, seed, years)` simulates a warm-up (not written) and `years`
of history, writes `spells.csv`, `ic_episodes.csv` and `manifest.json` in the data contract
(docs/data-contract.md: stays open at the extract date have blank ends), and returns the true
parameters and the generator's own KPIs over the history, computed from its event log.
"""

from __future__ import annotations

import copy
import datetime as dt
import heapq
import itertools
import json
import math
import time
from collections import deque
from collections.abc import Callable
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd

# The true parameters. Durations are (family, mean, sd) in days. Places are set for 85-90%
# occupancy (realised at seed 13 over two years: Home Ward 0.87, reablement 0.87, short-term
# beds 0.88; the returned KPIs give them), so queues form but stay stable.
TRUTH: dict = {
    "arrivals_per_day": 40.0,  # new people at the front door (readmissions come on top)
    "home_ward_share": 0.08,  # of front-door arrivals, referred to the Home Ward instead of admitted
    "home_ward": {"places": 24, "los": ("gamma", 6.0, 4.0), "escalation_share": 0.12},
    "pathway_shares": {"P0": 0.68, "P1": 0.17, "P2": 0.06, "P3": 0.04, "died": 0.05},  # drawn on admission
    "clinical_los": {  # admission -> ready (for "died": admission -> death)
        "P0": ("gamma", 4.0, 4.5),
        "P1": ("weibull", 9.0, 7.0),
        "P2": ("gamma", 11.0, 8.0),
        "P3": ("weibull", 13.0, 9.0),
        "died": ("gamma", 8.0, 8.0),
    },
    # P0 leave the moment they are ready. (A fixed positive time, e.g. 0.125 = 3 hours, makes every
    # P0 delay equal to the second, and calibration then writes a duration of sd 0 that the
    # scenario schema rejects: found with this generator, to be fixed in sim/calibrate.)
    "p0_leaves_after_days": 0.0,
    "p0_readmission": {"share": 0.08, "delay_days": (2.0, 60.0)},  # uniform delay after discharge
    "p3_placement_delay": ("gamma", 20.0, 12.0),  # ready -> discharge to a care home
    "reablement": {
        "places": 165,
        "duration": ("weibull", 16.0, 10.0),
        "outcomes": {"home": 0.45, "home_with_care": 0.35, "readmitted": 0.10, "long_term_care": 0.04, "died": 0.06},
        "hours_start": ("gamma", 9.0, 5.0),  # care hours a week at the start
        "hours_retained": (0.3, 0.8),  # home_with_care keep a uniform share of their hours
    },
    "beds": {
        "sites": {"St Mary's Unit": 26, "Oakwood House": 22, "Beech Court": 18},  # places; a free bed is taken in this order
        "los": ("gamma", 21.0, 10.0),
        "outcomes": {"home": 0.25, "home_with_care": 0.45, "long_term_care": 0.15, "readmitted": 0.10, "died": 0.05},
    },
    "community_per_day": {"reablement": 1.0, "bed": 0.3},  # step-up referrals of new people
    "warmup_days": 365,  # simulated, not written
    "history_start": "2023-04-03",
    "acute_site": "General Hospital",
}
SHORT_STAY_DAYS = 27  # the programme's short-stay threshold for short-term beds (a stay under 27 days)
# the true KPIs returned, named as icsim names them where icsim has the same KPI
KPI_NAMES = (
    "admissions_per_week", "acute_beds_occupied", "nr2r_los_days", "p0_same_day_share", "home_ward_starts_per_week",
    "reablement_starts_per_week", "beds_occupied", "bed_los_days", "bed_short_stay_share", "reablement_effectiveness_hours",
    "reablement_occupied", "home_ward_occupied", "pathway_share_p0", "pathway_share_p1", "pathway_share_p2", "pathway_share_p3",
    "nr2r_los_days_p0", "nr2r_los_days_p1", "nr2r_los_days_p2", "nr2r_los_days_p3", "reablement_occupancy", "bed_occupancy",
    "home_ward_occupancy", "p1_wait_days", "p2_wait_days", "after_bed_reablement_wait_days", "community_reablement_wait_days",
    "community_bed_wait_days", "home_ward_wait_days",
)  # fmt: skip


# -- distributions ---------------------------------------------------------------------------


@cache
def _weibull_shape(cv: float) -> float:
    """The Weibull shape k with coefficient of variation cv (cv falls as k rises; bisection)."""
    low, high = 0.05, 50.0
    for _ in range(200):
        k = (low + high) / 2
        g1, g2 = math.lgamma(1 + 1 / k), math.lgamma(1 + 2 / k)
        if math.exp(g2 - 2 * g1) - 1 > cv * cv:
            low = k
        else:
            high = k
    return (low + high) / 2


def draw(rng: np.random.Generator, spec: tuple[str, float, float]) -> float:
    family, mean, sd = spec
    if family == "gamma":
        shape = (mean / sd) ** 2
        return float(rng.gamma(shape, mean / shape))
    if family == "weibull":
        k = _weibull_shape(sd / mean)
        return float(mean / math.exp(math.lgamma(1 + 1 / k)) * rng.weibull(k))
    raise ValueError(f"unknown family {family}")


def choose(rng: np.random.Generator, shares: dict[str, float]) -> str:
    names = list(shares)
    return names[int(rng.choice(len(names), p=np.array([shares[n] for n in names])))]


# -- the event loop and a FIFO server --------------------------------------------------------


class Clock:
    """A plain event list: (time, sequence, function, arguments), run in time order."""

    def __init__(self) -> None:
        self.now = 0.0
        self._events: list = []
        self._sequence = itertools.count()

    def at(self, t: float, function: Callable, *args) -> None:
        heapq.heappush(self._events, (t, next(self._sequence), function, args))

    def run(self, until: float) -> None:
        while self._events and self._events[0][0] <= until:
            self.now, _, function, args = heapq.heappop(self._events)
            function(*args)
        self.now = until


class FifoServer:
    """c places in named sites; a request gets the first site with a free place, else joins
    one queue; a freed place goes straight to the longest-waiting request."""

    def __init__(self, places: dict[str, int]) -> None:
        self.free = dict(places)
        self.waiting: deque[Callable[[str], None]] = deque()

    def request(self, on_start: Callable[[str], None]) -> None:
        site = next((s for s, n in self.free.items() if n > 0), None)
        if site is None:
            self.waiting.append(on_start)
        else:
            self.free[site] -= 1
            on_start(site)

    def release(self, site: str) -> None:
        if self.waiting:
            self.waiting.popleft()(site)
        else:
            self.free[site] += 1


# -- the system ------------------------------------------------------------------------------


class System:
    def __init__(self, truth: dict, rng: np.random.Generator) -> None:
        self.p, self.rng, self.clock = truth, rng, Clock()
        self.home_ward = FifoServer({"": truth["home_ward"]["places"]})
        self.reablement = FifoServer({"": truth["reablement"]["places"]})
        self.beds = FifoServer(truth["beds"]["sites"])
        self.spells: list[dict] = []
        self.episodes: list[dict] = []
        self.people: dict[int, float] = {}  # person -> age at t = 0 (may be below 65 before they first arrive)
        self._pids = itertools.count(1)

    # people and arrivals
    def new_person(self) -> int:
        pid = next(self._pids)
        # ages 65-100 at first contact: 65 + 35 x beta(1.4, 2.6), mean ≈ 77 (assumption)
        self.people[pid] = 65 + 35 * self.rng.beta(1.4, 2.6) - self.clock.now / 365.25
        return pid

    def age(self, pid: int) -> int:
        return int(self.people[pid] + self.clock.now / 365.25)

    def poisson(self, rate: float, then: Callable[[], None]) -> None:
        """A Poisson process: `then()` at each event."""

        def fire() -> None:
            then()
            self.clock.at(self.clock.now + self.rng.exponential(1 / rate), fire)

        self.clock.at(self.rng.exponential(1 / rate), fire)

    def front_door(self, pid: int) -> None:
        if self.rng.random() < self.p["home_ward_share"]:
            self.home_ward_referral(pid)
        else:
            self.admit(pid)

    # the acute stay
    def admit(self, pid: int) -> None:
        p, rng, now = self.p, self.rng, self.clock.now
        pathway = choose(rng, p["pathway_shares"])
        clinical = draw(rng, p["clinical_los"][pathway])
        spell = {"pid": pid, "age": self.age(pid), "admission": now, "ready": None, "discharge": None, "pathway": pathway}
        self.spells.append(spell)
        if pathway == "died":
            spell["discharge"] = now + clinical
            return
        ready = spell["ready"] = now + clinical
        if pathway == "P0":
            spell["discharge"] = ready + p["p0_leaves_after_days"]
            if rng.random() < p["p0_readmission"]["share"]:
                self.clock.at(spell["discharge"] + rng.uniform(*p["p0_readmission"]["delay_days"]), self.front_door, pid)
        elif pathway == "P3":
            spell["discharge"] = ready + draw(rng, p["p3_placement_delay"])
        else:  # referred at ready; in the acute bed until a place is free
            service = "reablement" if pathway == "P1" else "bed"
            self.clock.at(ready, self.refer, pid, service, "hospital_discharge", spell)

    # intermediate care
    def refer(self, pid: int, service: str, source: str, spell: dict | None = None) -> None:
        episode = {"pid": pid, "service": service, "site": None, "source": source, "referral": self.clock.now,
                   "start": None, "end": None, "outcome": None, "hours_start": None, "hours_end": None,
                   "from_acute": spell is not None}  # not written: hospital_discharge covers acute and bed
        self.episodes.append(episode)
        server = {"reablement": self.reablement, "bed": self.beds, "home_ward": self.home_ward}[service]

        def start(site: str) -> None:
            now = self.clock.now
            episode["start"] = now
            if spell is not None:
                spell["discharge"] = now
            if service == "reablement":
                self.reablement_start(episode)
            elif service == "bed":
                episode["site"] = site
                self.clock.at(now + draw(self.rng, self.p["beds"]["los"]), self.bed_end, episode)
            else:
                self.clock.at(now + draw(self.rng, self.p["home_ward"]["los"]), self.home_ward_end, episode)

        server.request(start)

    def home_ward_referral(self, pid: int) -> None:
        self.refer(pid, "home_ward", "front_door")

    def home_ward_end(self, episode: dict) -> None:
        episode["end"] = self.clock.now
        escalates = self.rng.random() < self.p["home_ward"]["escalation_share"]
        episode["outcome"] = "readmitted" if escalates else "home"
        self.home_ward.release("")
        if escalates:
            self.admit(episode["pid"])

    def reablement_start(self, episode: dict) -> None:
        re = self.p["reablement"]
        episode["hours_start"] = draw(self.rng, re["hours_start"])
        self.clock.at(self.clock.now + draw(self.rng, re["duration"]), self.reablement_end, episode)

    def reablement_end(self, episode: dict) -> None:
        re = self.p["reablement"]
        outcome = episode["outcome"] = choose(self.rng, re["outcomes"])
        episode["end"] = self.clock.now
        if outcome == "home":
            episode["hours_end"] = 0.0
        elif outcome == "home_with_care":
            episode["hours_end"] = episode["hours_start"] * self.rng.uniform(*re["hours_retained"])
        self.reablement.release("")
        if outcome == "readmitted":
            self.front_door(episode["pid"])

    def bed_end(self, episode: dict) -> None:
        outcome = episode["outcome"] = choose(self.rng, self.p["beds"]["outcomes"])
        episode["end"] = self.clock.now
        self.beds.release(episode["site"])
        if outcome == "home_with_care":
            self.refer(episode["pid"], "reablement", "hospital_discharge")
        elif outcome == "readmitted":
            self.front_door(episode["pid"])

    def run(self, until: float) -> None:
        p = self.p
        self.poisson(p["arrivals_per_day"], lambda: self.front_door(self.new_person()))
        for service, rate in p["community_per_day"].items():
            self.poisson(rate, lambda service=service: self.refer(self.new_person(), service, "community"))
        self.clock.run(until)


# -- the extract and the true KPIs -----------------------------------------------------------


def _stamp(origin: dt.datetime, last: float, t: float | None) -> str | None:
    """Simulation days -> ISO 8601 (UTC, to the second); not yet happened -> blank."""
    if t is None or t > last:
        return None
    return (origin + dt.timedelta(days=t)).isoformat(timespec="seconds")


def _hours(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def write_independent_extract(folder: str | Path, seed: int = 1, years: float = 2.0, truth: dict | None = None) -> dict:
    """Simulate, write the extract into `folder` (created), and return
    {"truth": the parameters, "kpis": the true KPIs over the history, "history_start",
    "extract_date", "rows": {"spells", "ic_episodes"}, "seconds"}."""
    started = time.perf_counter()
    p = copy.deepcopy(truth or TRUTH)
    first = float(p["warmup_days"])
    last = first + round(years * 365)
    system = System(p, np.random.default_rng(seed))
    system.run(last)

    history_start = dt.datetime.fromisoformat(p["history_start"])
    origin = history_start - dt.timedelta(days=first)
    stamp = lambda t: _stamp(origin, last, t)
    spells = []
    for s in system.spells:  # everyone in an acute bed at some time in the history
        if s["admission"] < last and (s["discharge"] is None or s["discharge"] >= first):
            gone = s["discharge"] is not None and s["discharge"] <= last
            spells.append({
                "person_id": f"P{s['pid']:07d}", "age": s["age"], "admission_ts": stamp(s["admission"]),
                "ready_ts": stamp(s["ready"]), "discharge_ts": stamp(s["discharge"]),
                "pathway": s["pathway"] if gone else None, "site": p["acute_site"],
            })  # fmt: skip
    episodes = []
    for e in system.episodes:  # every referral open at some time in the history
        if e["referral"] < last and (e["end"] is None or e["end"] >= first):
            ended = e["end"] is not None and e["end"] <= last
            episodes.append({
                "person_id": f"P{e['pid']:07d}", "service": e["service"], "site": e["site"], "source": e["source"],
                "referral_ts": stamp(e["referral"]), "start_ts": stamp(e["start"]), "end_ts": stamp(e["end"]),
                "outcome": e["outcome"] if ended else None, "care_hours_start": _hours(e["hours_start"]),
                "care_hours_end": _hours(e["hours_end"]) if ended else None,
            })  # fmt: skip
    spells_frame = pd.DataFrame(spells)
    episodes_frame = pd.DataFrame(episodes)
    spells_frame.insert(0, "spell_id", [f"S{i:08d}" for i in range(1, len(spells_frame) + 1)])
    episodes_frame.insert(0, "episode_id", [f"E{i:08d}" for i in range(1, len(episodes_frame) + 1)])

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    spells_frame.to_csv(folder / "spells.csv", index=False)
    episodes_frame.to_csv(folder / "ic_episodes.csv", index=False)
    extract_date = (origin + dt.timedelta(days=last)).isoformat(timespec="seconds")
    manifest = {"history_start": history_start.date().isoformat(), "extract_date": extract_date,
                "note": "independent test generator (tests/independent_extract.py)", "seed": seed, "years": years}
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    return {
        "truth": p,
        "kpis": true_kpis(system, first, last),
        "history_start": manifest["history_start"],
        "extract_date": extract_date,
        "rows": {"spells": len(spells_frame), "ic_episodes": len(episodes_frame)},
        "seconds": time.perf_counter() - started,
    }


def _occupied(intervals, a: float, b: float) -> float:
    """Time-average number of intervals (start, end or None = still open) covering [a, b)."""
    total = sum(max(0.0, min(b, e if e is not None else b) - max(a, s)) for s, e in intervals if s is not None)
    return total / (b - a)


def _mean(values) -> float:
    values = list(values)
    return float(np.mean(values)) if values else float("nan")


def true_kpis(system: System, first: float, last: float) -> dict[str, float]:
    """The KPIs over the history's full weeks [first, first + 7 x weeks), from the event log:
    counts per week, time averages, and means and shares over discharges in the window."""
    weeks = int((last - first) // 7)
    b = first + 7 * weeks
    inside = lambda t: t is not None and first <= t < b
    spells, episodes = system.spells, system.episodes
    left = [s for s in spells if inside(s["discharge"])]
    alive = [s for s in left if s["pathway"] != "died"]
    complex_ = [s for s in alive if s["pathway"] in ("P1", "P2", "P3")]
    by = lambda service: [e for e in episodes if e["service"] == service]
    kpis = {
        "admissions_per_week": sum(inside(s["admission"]) for s in spells) / weeks,
        "acute_beds_occupied": _occupied(((s["admission"], s["discharge"]) for s in spells), first, b),
        "nr2r_los_days": _mean(s["discharge"] - s["ready"] for s in complex_),
        "p0_same_day_share": _mean(math.floor(s["discharge"]) == math.floor(s["ready"]) for s in alive if s["pathway"] == "P0"),
        "home_ward_starts_per_week": sum(inside(e["start"]) for e in by("home_ward")) / weeks,
        "reablement_starts_per_week": sum(inside(e["start"]) for e in by("reablement")) / weeks,
        "beds_occupied": _occupied(((e["start"], e["end"]) for e in by("bed")), first, b),
        "bed_los_days": _mean(e["end"] - e["start"] for e in by("bed") if inside(e["end"])),
        "bed_short_stay_share": _mean(e["end"] - e["start"] < SHORT_STAY_DAYS for e in by("bed") if inside(e["end"])),
        "reablement_effectiveness_hours": _mean(
            e["hours_start"] - e["hours_end"] for e in by("reablement") if inside(e["end"]) and e["outcome"] in ("home", "home_with_care")
        ),
        "reablement_occupied": _occupied(((e["start"], e["end"]) for e in by("reablement")), first, b),
        "home_ward_occupied": _occupied(((e["start"], e["end"]) for e in by("home_ward")), first, b),
    }
    for pathway in ("P0", "P1", "P2", "P3"):
        kpis[f"pathway_share_{pathway.lower()}"] = _mean(s["pathway"] == pathway for s in alive)
        kpis[f"nr2r_los_days_{pathway.lower()}"] = _mean(s["discharge"] - s["ready"] for s in alive if s["pathway"] == pathway)
    p = system.p
    kpis["reablement_occupancy"] = kpis["reablement_occupied"] / p["reablement"]["places"]
    kpis["bed_occupancy"] = kpis["beds_occupied"] / sum(p["beds"]["sites"].values())
    kpis["home_ward_occupancy"] = kpis["home_ward_occupied"] / p["home_ward"]["places"]
    waits = {  # referral -> start, of starts in the window
        "p1_wait_days": lambda e: e["service"] == "reablement" and e["from_acute"],  # in the acute bed
        "p2_wait_days": lambda e: e["service"] == "bed" and e["from_acute"],
        "after_bed_reablement_wait_days": lambda e: e["service"] == "reablement" and e["source"] == "hospital_discharge" and not e["from_acute"],
        "community_reablement_wait_days": lambda e: e["service"] == "reablement" and e["source"] == "community",
        "community_bed_wait_days": lambda e: e["service"] == "bed" and e["source"] == "community",
        "home_ward_wait_days": lambda e: e["service"] == "home_ward",
    }
    for name, which in waits.items():
        kpis[name] = _mean(e["start"] - e["referral"] for e in episodes if which(e) and inside(e["start"]))
    assert set(kpis) == set(KPI_NAMES)
    return kpis
