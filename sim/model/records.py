"""Patient-level records of one replication, kept only on request (e.g. for a synthetic extract).

Each record is a small dict filled in as the person moves on; a field never reached stays
None (still in hospital or in service when the run ends). Times are simulation days.
"""

from __future__ import annotations


class Records:
    def __init__(self):
        self.spells: list[dict] = []
        self.episodes: list[dict] = []

    def spell(self, person, admitted: float, ready: float | None = None, left: float | None = None,
              pathway: str | None = None) -> dict:
        record = {"pid": person.pid, "spell": person.spell, "locality": person.locality, "clinical_los": person.clinical_los,
                  "admission": admitted, "ready": ready, "discharge": left, "pathway": pathway}
        self.spells.append(record)
        return record

    def episode(self, person, service: str, source: str, site: str | None, referral: float,
                start: float | None = None) -> dict:
        record = {"pid": person.pid, "locality": person.locality, "service": service, "source": source, "site": site,
                  "referral": referral, "start": start, "end": None, "outcome": None,
                  "hours_start": None, "hours_end": None}
        self.episodes.append(record)
        return record
