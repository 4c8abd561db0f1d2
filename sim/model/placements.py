"""P3 and other long-term care: arranging a care-home placement, optionally capacity-limited.

The placement service's capacity is the number of placements that can be in progress at once
(brokerage and assessment); its service time is the placement delay. The person waits where
they are (acute bed, short-term bed, or home) and enters the care home when it is arranged.
"""

from __future__ import annotations


def from_community(system, person):
    """Process: someone at home (after reablement) who needs long-term care."""
    env = system.env
    joined = env.now
    site = system.placements.take(person, "community")
    if site is None:
        site = yield system.placements.request(person, "community")
    yield env.timeout(person.placement_delay)
    system.placements.release(site, present=False)
    enter_care_home(system, person, "community", joined)


def enter_care_home(system, person, source: str, joined: float) -> None:
    """A permanent care admission: the person leaves the modelled system."""
    m, now = system.monitor, system.env.now
    m.count("placements.starts", source, now)
    m.count("placements.wait_days", source, now, now - joined)
    system.count_person("permanent_care", person, now)
    system.leave(person, "care_home", now)
