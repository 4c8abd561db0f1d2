"""A census: who is where at the start of a run (today's position), read from or written to CSV.

The file has no person identifiers: one row per person, `place,site,days_so_far`.

    place           where the person is now                                   days_so_far since
    acute           in an acute bed, not yet on a waiting list for P1-P3      admission
    awaiting_p1     in an acute bed, referred, awaiting reablement            referral (joining the list)
    awaiting_p2     in an acute bed, referred, awaiting a short-term bed      referral
    awaiting_p3     in an acute bed, referred, awaiting a care-home placement referral
    home_ward       on the Home Ward                                          start of the Home Ward stay
    reablement      in a reablement episode                                   start of the episode
    short_term_bed  in a short-term bed at `site` (required)                  admission to the bed

`site` is empty except for `short_term_bed` (a bed site of the scenario) and, optionally, for
`awaiting_p2` (the site wanted, when the scenario's site_choice is "preferred"). Lines starting
with `#` are comments. docs/data-contract.md ("Census") is the contract; sim/model/census.py
puts the people into a running model.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import InputError

COLUMNS = ("place", "site", "days_so_far")
PLACES = (
    "acute", "awaiting_p1", "awaiting_p2", "awaiting_p3", "home_ward", "reablement", "short_term_bed",
)  # fmt: skip
SITED = {"short_term_bed": "required", "awaiting_p2": "optional"}


@dataclass(frozen=True)
class CensusRow:
    place: str
    site: str | None
    days_so_far: float


# ---------------------------------------------------------------------------------------------
# Remaining time given time already spent


def cdf(dist, x) -> np.ndarray:
    """F(x) = P(S <= x) of a scenario distribution, by bisection on its inverse (any family).

    Every family samples by inverse transform, so F(x) = sup{u : F⁻¹(u) <= x}; 60 halvings
    find it to 1e-18, which is below the resolution of a double near 1.
    """
    x = np.asarray(x, dtype=float)
    lo = np.zeros(x.shape)
    hi = np.ones(x.shape)
    for _ in range(60):
        mid = (lo + hi) / 2
        below = np.asarray(dist.from_uniform(mid)) <= x
        lo = np.where(below, mid, lo)
        hi = np.where(below, hi, mid)
    return lo


def conditional_total(dist, elapsed, u, scale: float = 1.0) -> np.ndarray:
    """Whole stay S (unscaled) given scale·S > elapsed, by inverse transform on the uniform u:
    F⁻¹(F(a) + u (1 - F(a))) with a = elapsed / scale. The remaining time is scale·S - elapsed.

    If the elapsed time is beyond anything the distribution gives (F(a) = 1, e.g. a
    deterministic stay already over), the stay ends now: S = a.
    """
    a = np.asarray(elapsed, dtype=float) / scale
    u = np.asarray(u, dtype=float)
    fa = cdf(dist, a)
    q = fa + u * (1 - fa)
    q = np.minimum(q, np.nextafter(1.0, 0.0))
    total = np.asarray(dist.from_uniform(q), dtype=float)
    return np.maximum(total, a)  # rounding at a quantile's edge never gives a negative remainder


def residual(dist, elapsed, u, scale: float = 1.0) -> np.ndarray:
    """Remaining time of a stay already `elapsed` long: scale·S - elapsed given scale·S > elapsed."""
    return scale * conditional_total(dist, elapsed, u, scale) - np.asarray(elapsed, dtype=float)


# ---------------------------------------------------------------------------------------------
# Reading and writing


def read_census(path: str | Path, scenario) -> list[CensusRow]:
    """The census rows, validated against the scenario (its bed sites). Raises InputError:
    one line naming the file, the row (line number), the bad value and what was expected."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"{path}: census file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: census file not readable: {exc}") from None
    sites = list(scenario.beds.sites)
    lines = [
        (n, line) for n, line in enumerate(text.splitlines(), start=1) if line.strip() and not line.startswith("#")
    ]
    if not lines:
        raise InputError(f"{path}: empty census; expected a header line {','.join(COLUMNS)}")
    header_line, header = lines[0]
    columns = [c.strip() for c in next(csv.reader([header]))]
    if columns != list(COLUMNS):
        raise InputError(f"{path}: line {header_line}: header {','.join(columns)!r}: expected {','.join(COLUMNS)}")
    rows = []
    for n, line in lines[1:]:
        fields = [f.strip() for f in next(csv.reader([line]))]
        where = f"{path}: line {n}"
        if len(fields) != len(COLUMNS):
            raise InputError(f"{where}: {len(fields)} fields: expected {len(COLUMNS)} ({','.join(COLUMNS)})")
        place, site, days = fields
        if place not in PLACES:
            raise InputError(f"{where}: place = {place!r}: expected one of {', '.join(PLACES)}")
        need = SITED.get(place)
        if site and need is None:
            raise InputError(f"{where}: site = {site!r}: expected empty for place {place}")
        if not site and need == "required":
            raise InputError(f"{where}: site = '': expected a bed site for place {place} ({', '.join(sites)})")
        if site and site not in sites:
            raise InputError(f"{where}: site = {site!r}: expected a bed site of the scenario ({', '.join(sites)})")
        try:
            value = float(days)
        except ValueError:
            value = math.nan
        if not (math.isfinite(value) and value >= 0):
            raise InputError(f"{where}: days_so_far = {days!r}: expected a number of days >= 0")
        rows.append(CensusRow(place, site or None, value))
    return rows


def write_census(rows: list[CensusRow], path: str | Path, comment: str = "") -> None:
    lines = [f"# {c}" if c else "#" for c in comment.splitlines()] if comment else []
    lines.append(",".join(COLUMNS))
    lines += [f"{r.place},{r.site or ''},{r.days_so_far:.4f}" for r in rows]
    Path(path).write_text("\n".join(lines) + "\n", encoding="utf-8")


# ---------------------------------------------------------------------------------------------
# A census of the model itself (we have no real census data)

_QUEUE_PLACE = {"reablement": "awaiting_p1", "beds": "awaiting_p2", "placements": "awaiting_p3"}


def census_from_state(system) -> list[CensusRow]:
    """The census of a running System at its current time (built with trace=True and records=True).

    People in acute: spells admitted and not yet discharged. Those past their clinical stay
    who have joined reablement, a bed or a placement (the trace's last 'join' since admission)
    are awaiting that pathway, days since joining (also once granted, while they wait for
    the discharge day or for the placement to be arranged); everyone else in acute, days since
    admission. Home Ward, reablement and bed episodes started and not ended: days since start.
    Community step-ups waiting at home and people holding a bed for a later admission day are
    not in acute nor in a service, so not in the census.
    """
    if system.trace is None or system.records is None:
        raise ValueError("census_from_state needs a System built with trace=True and records=True")
    now = system.env.now
    joins: dict[int, list[tuple[float, str]]] = {}
    for t, service, what, pid, *_ in system.trace:
        if what == "join" and service in _QUEUE_PLACE and pid is not None:
            joins.setdefault(pid, []).append((t, service))
    rows = []
    for spell in system.records.spells:
        admitted, left = spell["admission"], spell["discharge"]
        if admitted > now or (left is not None and left <= now):
            continue
        ready = spell["ready"]
        place, days = "acute", now - admitted
        if ready is not None and ready <= now:
            since = [(t, s) for t, s in joins.get(spell["pid"], ()) if admitted <= t <= now]
            if since:
                t, service = since[-1]
                place, days = _QUEUE_PLACE[service], now - t
        rows.append(CensusRow(place, None, days))
    for episode in system.records.episodes:
        start, end = episode["start"], episode["end"]
        if start is None or start > now or (end is not None and end <= now):
            continue
        service = episode["service"]
        if service == "bed":
            rows.append(CensusRow("short_term_bed", episode["site"], now - start))
        elif service in ("reablement", "home_ward"):
            rows.append(CensusRow(service, None, now - start))
    order = {p: k for k, p in enumerate(PLACES)}
    rows.sort(key=lambda r: (order[r.place], r.site or "", -r.days_so_far))
    return rows


def census_at(scenario, day: float, replication: int = 0, seed: int | None = None) -> list[CensusRow]:
    """Simulate `scenario` (one replication) up to simulation day `day` and take its census."""
    from .model.system import System

    if not 0 <= day <= scenario.end_day:
        raise InputError(f"--at-day = {day}: expected a day between 0 and {scenario.end_day} (the end of the run)")
    system = System(scenario, scenario.run.seed if seed is None else seed, replication, trace=True, records=True)
    system.run(until=day)
    return census_from_state(system)
