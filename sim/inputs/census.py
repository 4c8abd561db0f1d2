"""A census: who is where at the start of a run (today's position), read from or written to CSV.

The file has no person identifiers: one row per person, `place,site,days_so_far`.

    place           where the person is now                                   days_so_far since
    acute           in an acute bed, not yet on a waiting list for P1-P3      admission
    awaiting_p1     in an acute bed, referred, awaiting reablement            referral (joining the list)
    awaiting_p2     in an acute bed, referred, awaiting a short-term bed      referral
    awaiting_p3     in an acute bed, referred, awaiting a care-home placement referral
    home_ward       on the Home Ward                                          start of the Home Ward stay
    reablement      in a reablement episode                                   start of the episode
    short_term_bed  in a short-term bed at `site` (required), in therapy      admission to the bed
    short_term_bed_waiting  in a short-term bed at `site` (required), therapy  joining the wait
                    and discharge process over, waiting for reablement (P1)
                    or a care-home placement

`site` is empty except for the two short-term bed places (a bed site of the scenario) and, optionally, for
`awaiting_p2` (the site wanted, when the scenario's site_choice is "preferred") and for
`reablement` and `awaiting_p1` (the person's locality, whose team serves them, when the
scenario has localities; empty: drawn from the localities' shares). Lines starting
with `#` are comments. docs/data-contract.md ("Census") is the contract; sim/model/census.py
puts the people into a running model and takes the census of a simulated one.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from pathlib import Path

from ..errors import InputError
from ..files import write_atomic
from .reading import read_text

COLUMNS = ("place", "site", "days_so_far")
PLACES = (
    "acute", "awaiting_p1", "awaiting_p2", "awaiting_p3", "home_ward", "reablement", "short_term_bed",
    "short_term_bed_waiting",
)  # fmt: skip
SITED = {"short_term_bed": "required", "short_term_bed_waiting": "required", "awaiting_p2": "optional"}
TEAMED = ("reablement", "awaiting_p1")  # places whose `site` is a locality (its reablement team)
ONWARD = ("home_with_p1", "long_term_care")  # the bed outcomes someone waiting in a bed is waiting for


@dataclass(frozen=True)
class CensusRow:
    place: str
    site: str | None
    days_so_far: float


# ---------------------------------------------------------------------------------------------
# Reading and writing


def read_census(path: str | Path, scenario) -> list[CensusRow]:
    """The census rows, validated against the scenario (its bed sites). Raises InputError:
    one line naming the file, the row (line number), the bad value and what was expected."""
    path = Path(path)
    text = read_text(path, "census file")
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
        if place in TEAMED:
            if site and site not in scenario.localities:
                known = ", ".join(scenario.localities) or "none: the scenario has no [localities]"
                raise InputError(f"{where}: site = {site!r}: expected empty or a locality of the scenario ({known})")
        elif site and need is None:
            raise InputError(f"{where}: site = {site!r}: expected empty for place {place}")
        elif not site and need == "required":
            raise InputError(f"{where}: site = '': expected a bed site for place {place} ({', '.join(sites)})")
        elif site and site not in sites:
            raise InputError(f"{where}: site = {site!r}: expected a bed site of the scenario ({', '.join(sites)})")
        try:
            value = float(days)
        except ValueError:
            value = math.nan
        if not (math.isfinite(value) and value >= 0):
            raise InputError(f"{where}: days_so_far = {days!r}: expected a number of days >= 0")
        if place == "short_term_bed_waiting" and sum(scenario.beds.outcomes.as_dict()[o] for o in ONWARD) <= 0:
            raise InputError(f"{where}: place = {place!r}: the scenario's beds.outcomes give home_with_p1 and "
                             "long_term_care no share; expected a share for what the person waits for")
        rows.append(CensusRow(place, site or None, value))
    return rows


def write_census(rows: list[CensusRow], path: str | Path, comment: str = "") -> None:
    lines = [f"# {c}" if c else "#" for c in comment.splitlines()] if comment else []
    lines.append(",".join(COLUMNS))
    lines += [f"{r.place},{r.site or ''},{r.days_so_far:.4f}" for r in rows]
    write_atomic(Path(path), "\n".join(lines) + "\n")
