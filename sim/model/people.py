"""People and their attributes, drawn on arrival from named streams (common random numbers).

Every attribute a person may ever need (pathway, lengths of stay, outcomes, ...) is drawn when
they arrive, each from its own stream, in blocks for speed. Two scenarios run with the same
seed therefore see the same people with the same needs, whatever capacity they meet.
Streams are named "<pool>.<attribute>": the pools are front-door arrivals, readmissions and
community referrals, so a change in readmissions never shifts the next arrival's draws.
"""

from __future__ import annotations

from collections import namedtuple

import numpy as np

from ..scenario import Scenario
from ..streams import Streams

PATHWAYS = ("p0", "p1", "p2", "p3")
DIVERSIONS = ("admit", "home_ward", "assessment_home", "step_up_reablement", "step_up_bed")
REABLEMENT_OUTCOMES = ("independent", "ongoing_homecare", "readmitted", "long_term_care", "died")
BED_OUTCOMES = ("home", "home_with_p1", "long_term_care", "readmitted", "died")


ATTRIBUTES = (
    "diversion", "pathway", "dies_in_hospital", "clinical_los", "discharge_process", "u_leave",
    "readmit_after_p0", "readmit_delay", "hw_los", "hw_escalates", "reablement_duration",
    "hours_start", "hours_retained", "reablement_outcome", "bed_los", "bed_outcome", "bed_process",
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
    """Hands out people with pre-drawn attributes; refills in blocks from '<prefix>.*' streams."""

    def __init__(self, scenario: Scenario, streams: Streams, prefix: str, block: int = 1024):
        self.s = scenario
        self.streams = streams
        self.prefix = prefix
        self.block = block
        self._rows: list[tuple] = []
        self._next = block  # forces a fill on first use
        self.site_names = list(scenario.beds.sites)

    def _uniform(self, name: str) -> np.ndarray:
        return self.streams[f"{self.prefix}.{name}"].random(self.block)

    def _fill(self) -> None:
        s, n = self.s, self.block
        acute = s.acute
        pathway = _choice(self._uniform("pathway"), list(acute.pathway_shares.as_dict().values()))
        u_clinical = self._uniform("clinical_los")
        u_process = self._uniform("discharge_process")
        clinical = np.empty(n)
        process = np.empty(n)
        for k, name in enumerate(PATHWAYS):
            mask = pathway == k
            clinical[mask] = getattr(acute.clinical_los, name).from_uniform(u_clinical[mask])
            process[mask] = getattr(acute.discharge_process, name).from_uniform(u_process[mask])
        re, beds = s.reablement, s.beds
        columns = {
            "diversion": _choice(self._uniform("diversion"), list(s.front_door.diversion.as_dict().values())),
            "pathway": pathway,
            "dies_in_hospital": self._uniform("death") < acute.death_share,
            "clinical_los": clinical,
            "discharge_process": process,
            "u_leave": self._uniform("leave_day"),
            "readmit_after_p0": self._uniform("readmit_p0") < acute.readmission_after_p0.share,
            "readmit_delay": acute.readmission_after_p0.delay.from_uniform(self._uniform("readmit_delay")),
            "hw_los": s.home_ward.los.from_uniform(self._uniform("home_ward_los")),
            "hw_escalates": self._uniform("home_ward_escalation") < s.home_ward.escalation_share,
            "reablement_duration": re.duration.from_uniform(self._uniform("reablement_duration")),
            "hours_start": re.hours_start.from_uniform(self._uniform("hours_start")),
            "hours_retained": re.hours_retained_share.from_uniform(self._uniform("hours_retained")),
            "reablement_outcome": _choice(self._uniform("reablement_outcome"), list(re.outcomes.as_dict().values())),
            "bed_los": beds.los.from_uniform(self._uniform("bed_los")),
            "bed_outcome": _choice(self._uniform("bed_outcome"), list(beds.outcomes.as_dict().values())),
            "bed_process": beds.discharge_process.from_uniform(self._uniform("bed_process")),
            "u_bed_leave": self._uniform("bed_leave_day"),
            "preferred_site": _choice(
                self._uniform("preferred_site"), [site.referral_share for site in beds.sites.values()]
            ),
            "placement_delay": s.placements.delay.from_uniform(self._uniform("placement_delay")),
        }
        named = {
            "diversion": DIVERSIONS, "reablement_outcome": REABLEMENT_OUTCOMES, "bed_outcome": BED_OUTCOMES,
            "preferred_site": self.site_names,
        }  # fmt: skip
        lists = [
            [named[name][k] for k in columns[name].tolist()] if name in named else columns[name].tolist()
            for name in ATTRIBUTES
        ]
        self._rows = list(zip(*lists))
        self._next = 0

    def next(self, pid: int, spell: int, t: float) -> Person:
        if self._next >= self.block:
            self._fill()
        row = self._rows[self._next]
        self._next += 1
        return Person(pid, spell, t, *row)
