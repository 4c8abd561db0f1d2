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
    "u_bed_leave", "preferred_site", "placement_delay", "bed_placement_delay",
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

    def _next_uniforms(self, name: str, n: int) -> np.ndarray:
        return self.streams[f"{self.prefix}.{name}"].random(n)

    def draw(self, n: int, uniforms=None) -> dict[str, np.ndarray]:
        """The next n people's attributes, one array per attribute (categories as codes).

        uniforms(name, n): the n uniforms of each name in UNIFORMS (default: the next n draws of
        stream "<pool>.<name>")."""
        assert self._next >= len(self._rows), "a pool is drawn by columns or by rows, not both"
        u = uniforms or self._next_uniforms
        s = self.s
        acute = s.acute
        pathway = _choice(u("pathway", n), list(acute.pathway_shares.as_dict().values()))
        u_clinical = u("clinical_los", n)
        u_process = u("discharge_process", n)
        clinical = np.empty(n)
        process = np.empty(n)
        for k, name in enumerate(PATHWAYS):
            mask = pathway == k
            clinical[mask] = getattr(acute.clinical_los, name).from_uniform(u_clinical[mask])
            process[mask] = getattr(acute.discharge_process, name).from_uniform(u_process[mask])
        re, beds = s.reablement, s.beds
        u_placement = u("placement_delay", n)
        placement_delay = s.placements.delay.from_uniform(u_placement)
        return {
            "diversion": _choice(u("diversion", n), list(s.front_door.diversion.as_dict().values())),
            "pathway": pathway,
            "dies_in_hospital": u("death", n) < acute.death_share,
            "clinical_los": clinical,
            "discharge_process": process,
            "u_leave": u("leave_day", n),
            "readmit_after_p0": u("readmit_p0", n) < acute.readmission_after_p0.share,
            "readmit_delay": acute.readmission_after_p0.delay.from_uniform(u("readmit_delay", n)),
            "hw_los": s.home_ward.los.from_uniform(u("home_ward_los", n)),
            "hw_escalates": u("home_ward_escalation", n) < s.home_ward.escalation_share,
            "reablement_duration": re.duration.from_uniform(u("reablement_duration", n)),
            "hours_start": re.hours_start.from_uniform(u("hours_start", n)),
            # the share of hours still needed after reablement matters only for the few who end
            # it on ongoing homecare, and its inverse transform is slow: sampled when needed
            "u_hours_retained": u("hours_retained", n),
            "reablement_outcome": _choice(u("reablement_outcome", n), list(re.outcomes.as_dict().values())),
            "bed_los": beds.los.from_uniform(u("bed_los", n)),
            "bed_outcome": _choice(u("bed_outcome", n), list(beds.outcomes.as_dict().values())),
            "bed_process": beds.discharge_process.from_uniform(u("bed_process", n)),
            "u_bed_leave": u("bed_leave_day", n),
            "preferred_site": _choice(
                u("preferred_site", n), [site.referral_share for site in beds.sites.values()]
            ),
            "placement_delay": placement_delay,
            # the same uniform: a spell ends in a care home from hospital or from a bed, not both
            "bed_placement_delay": placement_delay if beds.placement_delay is None
            else beds.placement_delay.from_uniform(u_placement),
            "locality": _choice(u("locality", n), self._locality_shares),
            "u_ready": u("ready_day", n),
            "u_same_day": u("same_day", n),
            "u_route": u("route", n),
            "u_interim_bed": u("interim_bed", n),
            "u_bridging": u("bridging", n),
            "u_interim_home": u("interim_care_home", n),
            "wait_death": _time_to_death(u("death_while_waiting", n), s.routes.death_while_waiting_per_day),
            "assessment_duration": s.front_door.assessment.duration.from_uniform(u("assessment_duration", n)),
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


class SpellPool:
    """Attributes of a person's later spells, keyed by (person, spell) rather than by the order
    of readmissions: person `pid` in spell `spell` gets column pid % block of the uniforms drawn
    for (spell, pid // block). Blocks are drawn when first needed and the KEPT most recently
    used are kept; one dropped and needed again is drawn again, identically."""

    # about 8 MB. Readmissions come back within weeks, so the blocks of recent arrivals serve
    # nearly all, but up to five spells are open at once: on the baseline 32 blocks draw each
    # block once (103 draws a replication), 16 drew 173 (least recently used dropped first)
    KEPT = 32

    def __init__(self, scenario: Scenario, streams: Streams, prefix: str, block: int = 1024):
        self.s = scenario
        self.streams = streams
        self.prefix = prefix
        self.block = block
        # a block is one float matrix (attribute × person): a person's row is read in one call
        self._blocks: dict[tuple[int, int], np.ndarray] = {}
        self._attributes = AttributePool(scenario, streams, prefix)  # transforms uniforms to attributes
        self._labels = self._attributes._labels
        self._row_of = {name: k for k, name in enumerate(UNIFORMS)}
        self._typed: list[tuple[int, object]] = []  # (row index, label array or int or bool), from the first draw

    def next(self, pid: int, spell: int, t: float) -> Person:
        key = (spell, pid // self.block)
        values = self._blocks.pop(key, None)
        if values is not None:
            self._blocks[key] = values  # now the most recently used (dicts keep insertion order)
        else:
            if len(self._blocks) >= self.KEPT:
                del self._blocks[next(iter(self._blocks))]  # the least recently used block
            # one keyed draw for the block, a row of uniforms per name
            rows = self.streams.keyed(self.prefix, *key).random((len(UNIFORMS), self.block))
            drawn = self._attributes.draw(self.block, lambda name, _n: rows[self._row_of[name]])
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
