"""People and their attributes, drawn on arrival from named streams (common random numbers).

Every attribute a person may ever need (pathway, lengths of stay, outcomes, ...) is drawn when
they arrive, each from its own stream, in blocks for speed. Two scenarios run with the same
seed therefore see the same people with the same needs, whatever capacity they meet.
Streams are named "<pool>.<attribute>": the pools are front-door arrivals, readmissions and
community referrals, so a change in readmissions never shifts the next arrival's draws.
The k-th person of a pool always gets the k-th uniform of each of its streams, however the
draws are blocked. Arrivals come in an order no capacity can change; readmissions do not (a
person is readmitted when their earlier stay ends), so a readmitted person's next spell is
drawn from streams keyed by (spell, block of person ids) instead: `SpellPool`.
"""

from __future__ import annotations

from collections import namedtuple

import numpy as np

from ..inputs.scenario import Scenario
from .streams import Streams

PATHWAYS = ("p0", "p1", "p2", "p3")
DIVERSIONS = ("admit", "home_ward", "assessment_home", "step_up_reablement", "step_up_bed")
REABLEMENT_OUTCOMES = ("independent", "ongoing_homecare", "readmitted", "long_term_care", "died")
BED_OUTCOMES = ("home", "home_with_p1", "long_term_care", "readmitted", "died")


ATTRIBUTES = (
    "diversion", "pathway", "dies_in_hospital", "clinical_los", "discharge_process", "u_leave",
    "readmit_after_p0", "readmit_delay", "hw_los", "hw_escalates", "reablement_duration",
    "hours_start", "u_hours_retained", "reablement_outcome", "bed_los", "bed_outcome", "bed_process",
    "u_bed_leave", "preferred_site", "placement_delay",
    "locality", "u_ready", "u_same_day", "u_route", "u_interim_bed", "u_bridging", "u_interim_home", "wait_death",
    "assessment_duration",
)  # fmt: skip

# Immutable, and cheap to make (one tuple): most people are created and forgotten within
# microseconds. A readmission is a new Person with the same pid and the next spell.
Person = namedtuple("Person", ("pid", "spell", "arrived") + ATTRIBUTES)


def _choice(u: np.ndarray, shares: list[float]) -> np.ndarray:
    """Index of the category each uniform falls in (categories in a fixed order)."""
    edges = np.cumsum(shares)[:-1]
    return np.searchsorted(edges, u, side="right")


def _time_to_death(u: np.ndarray, per_day: float) -> np.ndarray:
    """Days of waiting until death at a constant daily probability (inf if it is 0)."""
    if per_day <= 0:
        return np.full(len(u), np.inf)
    return np.log1p(-u) / np.log1p(-per_day)


class AttributePool:
    """Draws people's attributes from '<prefix>.*' streams: as columns for a batch of arrivals
    (`draw`, `people`), or one person at a time from a buffered block (`next`).

    A pool is used one way or the other, never both (the buffer would reorder the draws).
    """

    def __init__(self, scenario: Scenario, streams: Streams, prefix: str, block: int = 1024):
        self.s = scenario
        self.streams = streams
        self.prefix = prefix
        self.block = block
        self._rows: list[tuple] = []
        self._next = 0
        self._labels = {
            "diversion": np.array(DIVERSIONS, dtype=object),
            "reablement_outcome": np.array(REABLEMENT_OUTCOMES, dtype=object),
            "bed_outcome": np.array(BED_OUTCOMES, dtype=object),
            "preferred_site": np.array(list(scenario.beds.sites), dtype=object),
            "locality": np.array(list(scenario.localities) or ["all"], dtype=object),
        }
        self._locality_shares = list(scenario.locality_shares().values()) or [1.0]

    def _uniform(self, name: str, n: int) -> np.ndarray:
        return self.streams[f"{self.prefix}.{name}"].random(n)

    def draw(self, n: int) -> dict[str, np.ndarray]:
        """The next n people's attributes, one array per attribute (categories as codes)."""
        assert self._next >= len(self._rows), "a pool is drawn by columns or by rows, not both"
        s = self.s
        acute = s.acute
        pathway = _choice(self._uniform("pathway", n), list(acute.pathway_shares.as_dict().values()))
        u_clinical = self._uniform("clinical_los", n)
        u_process = self._uniform("discharge_process", n)
        clinical = np.empty(n)
        process = np.empty(n)
        for k, name in enumerate(PATHWAYS):
            mask = pathway == k
            clinical[mask] = getattr(acute.clinical_los, name).from_uniform(u_clinical[mask])
            process[mask] = getattr(acute.discharge_process, name).from_uniform(u_process[mask])
        re, beds = s.reablement, s.beds
        return {
            "diversion": _choice(self._uniform("diversion", n), list(s.front_door.diversion.as_dict().values())),
            "pathway": pathway,
            "dies_in_hospital": self._uniform("death", n) < acute.death_share,
            "clinical_los": clinical,
            "discharge_process": process,
            "u_leave": self._uniform("leave_day", n),
            "readmit_after_p0": self._uniform("readmit_p0", n) < acute.readmission_after_p0.share,
            "readmit_delay": acute.readmission_after_p0.delay.from_uniform(self._uniform("readmit_delay", n)),
            "hw_los": s.home_ward.los.from_uniform(self._uniform("home_ward_los", n)),
            "hw_escalates": self._uniform("home_ward_escalation", n) < s.home_ward.escalation_share,
            "reablement_duration": re.duration.from_uniform(self._uniform("reablement_duration", n)),
            "hours_start": re.hours_start.from_uniform(self._uniform("hours_start", n)),
            # the share of hours still needed after reablement matters only for the few who end
            # it on ongoing homecare, and its inverse transform is slow: sampled when needed
            "u_hours_retained": self._uniform("hours_retained", n),
            "reablement_outcome": _choice(self._uniform("reablement_outcome", n), list(re.outcomes.as_dict().values())),
            "bed_los": beds.los.from_uniform(self._uniform("bed_los", n)),
            "bed_outcome": _choice(self._uniform("bed_outcome", n), list(beds.outcomes.as_dict().values())),
            "bed_process": beds.discharge_process.from_uniform(self._uniform("bed_process", n)),
            "u_bed_leave": self._uniform("bed_leave_day", n),
            "preferred_site": _choice(
                self._uniform("preferred_site", n), [site.referral_share for site in beds.sites.values()]
            ),
            "placement_delay": s.placements.delay.from_uniform(self._uniform("placement_delay", n)),
            "locality": _choice(self._uniform("locality", n), self._locality_shares),
            "u_ready": self._uniform("ready_day", n),
            "u_same_day": self._uniform("same_day", n),
            "u_route": self._uniform("route", n),
            "u_interim_bed": self._uniform("interim_bed", n),
            "u_bridging": self._uniform("bridging", n),
            "u_interim_home": self._uniform("interim_care_home", n),
            "wait_death": _time_to_death(self._uniform("death_while_waiting", n), s.routes.death_while_waiting_per_day),
            "assessment_duration": s.front_door.assessment.duration.from_uniform(self._uniform("assessment_duration", n)),
        }

    def _attribute_rows(self, columns: dict[str, np.ndarray], index) -> list[tuple]:
        labels = self._labels
        lists = [
            labels[name][columns[name][index]].tolist() if name in labels else columns[name][index].tolist()
            for name in ATTRIBUTES
        ]
        return list(zip(*lists))

    def people(self, columns: dict[str, np.ndarray], index: np.ndarray, pids, spell: int, times) -> list[Person]:
        """Person tuples for the rows `index` of drawn columns (categories as names)."""
        rows = self._attribute_rows(columns, index)
        return [Person(pid, spell, t, *row) for pid, t, row in zip(pids, times, rows)]

    def next(self, pid: int, spell: int, t: float) -> Person:
        """One person (attributes from a buffered block of draws)."""
        if self._next >= len(self._rows):
            self._rows = self._attribute_rows(self.draw(self.block), slice(None))
            self._next = 0
        row = self._rows[self._next]
        self._next += 1
        return Person(pid, spell, t, *row)


# The uniforms a person's attributes are drawn from, one per name. A SpellPool block takes them
# as rows of one draw, in this order: append new names at the end.
UNIFORMS = (
    "pathway", "clinical_los", "discharge_process", "diversion", "death", "leave_day", "readmit_p0",
    "readmit_delay", "home_ward_los", "home_ward_escalation", "reablement_duration", "hours_start",
    "hours_retained", "reablement_outcome", "bed_los", "bed_outcome", "bed_process", "bed_leave_day",
    "preferred_site", "placement_delay", "locality", "ready_day", "same_day", "route", "interim_bed",
    "bridging", "interim_care_home", "death_while_waiting", "assessment_duration",
)  # fmt: skip


class _Row:
    """One row of a block's uniforms, served as if it were a stream's next draws."""

    def __init__(self, values: np.ndarray):
        self._values = values

    def random(self, n: int) -> np.ndarray:
        assert n == len(self._values)
        return self._values


class _BlockStreams:
    """The uniforms of one (spell, block of person ids): one keyed generator, one row per name."""

    def __init__(self, streams: Streams, prefix: str, key: tuple[int, ...], block: int):
        self._rows = streams.keyed(prefix, *key).random((len(UNIFORMS), block))
        self._index = {f"{prefix}.{name}": k for k, name in enumerate(UNIFORMS)}

    def __getitem__(self, name: str) -> _Row:
        return _Row(self._rows[self._index[name]])


class SpellPool:
    """Attributes of a person's later spells, keyed by (person, spell) rather than by the order
    of readmissions: person `pid` in spell `spell` gets column pid % block of the uniforms drawn
    for (spell, pid // block). Blocks are drawn when first needed and the latest KEPT are kept;
    one dropped and needed again is drawn again, identically."""

    KEPT = 16  # about 4 MB; readmissions come back within weeks, so recent blocks serve nearly all

    def __init__(self, scenario: Scenario, streams: Streams, prefix: str, block: int = 1024):
        self.s = scenario
        self.streams = streams
        self.prefix = prefix
        self.block = block
        # a block is one float matrix (attribute × person): a person's row is read in one call
        self._blocks: dict[tuple[int, int], np.ndarray] = {}
        self._labels = AttributePool(scenario, streams, prefix)._labels
        self._typed: list[tuple[int, object]] = []  # (row index, label array or int or bool), from the first draw

    def next(self, pid: int, spell: int, t: float) -> Person:
        key = (spell, pid // self.block)
        values = self._blocks.get(key)
        if values is None:
            if len(self._blocks) >= self.KEPT:
                del self._blocks[next(iter(self._blocks))]  # the oldest block
            pool = AttributePool(self.s, _BlockStreams(self.streams, self.prefix, key, self.block), self.prefix)
            drawn = pool.draw(self.block)
            values = self._blocks[key] = np.array([drawn[name] for name in ATTRIBUTES], dtype=float)
            if not self._typed:
                self._typed = [
                    (k, self._labels.get(name, bool if drawn[name].dtype == bool else int))
                    for k, name in enumerate(ATTRIBUTES) if name in self._labels or drawn[name].dtype.kind in "bi"
                ]
        row = values[:, pid % self.block].tolist()
        for k, kind in self._typed:
            row[k] = kind[int(row[k])] if isinstance(kind, np.ndarray) else kind(row[k])
        return Person(pid, spell, t, *row)
