"""People and their attributes, drawn on arrival from named streams (common random numbers).

Every attribute a person may ever need (pathway, lengths of stay, outcomes, ...) is drawn when
they arrive, each from its own stream, in blocks for speed. Two scenarios run with the same
seed therefore see the same people with the same needs, whatever capacity they meet.
Streams are named "<pool>.<attribute>": the pools are front-door arrivals, readmissions and
community referrals, so a change in readmissions never shifts the next arrival's draws.
The k-th person of a pool always gets the k-th uniform of each of its streams, however the
draws are blocked.
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
)  # fmt: skip

# Immutable, and cheap to make (one tuple): most people are created and forgotten within
# microseconds. A readmission is a new Person with the same pid and the next spell.
Person = namedtuple("Person", ("pid", "spell", "arrived") + ATTRIBUTES)


def _choice(u: np.ndarray, shares: list[float]) -> np.ndarray:
    """Index of the category each uniform falls in (categories in a fixed order)."""
    edges = np.cumsum(shares)[:-1]
    return np.searchsorted(edges, u, side="right")


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
        }

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
