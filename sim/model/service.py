"""A capacity-limited service (reablement, a bed base, placements, Home Ward) with one queue.

Semantics, kept explicit because results depend on them:
- Capacity is per site; a service with one site uses the site name "all".
- A request is granted at once if the queue holds nobody it would overtake and a slot is
  free; otherwise it joins the queue. The queue is ordered by (priority rank, time joined):
  equal ranks are first come, first served.
- A granted slot is held (allocated) until `release`; the person may arrive later (e.g. on the
  next discharge day), so a held but empty slot is lost capacity, as a bed kept for Monday is.
- Capacity can change at any time. A cut never ends a stay; it only stops new grants until
  allocations fall below the new capacity.
- With `site=None` a request takes any site (the first free in the scenario's order); with a
  site name it waits for that site.
"""

from __future__ import annotations

import itertools
import math

import simpy

from .monitor import Level, Monitor


def _funded(capacity: float) -> float:
    """The capacity integrated over time; unlimited makes occupancy undefined (NaN), not 0."""
    return float("nan") if math.isinf(capacity) else capacity


class Site:
    __slots__ = ("allocated", "capacity", "capacity_level", "name", "occupied", "present")

    def __init__(self, name: str, capacity: float, occupied: Level, capacity_level: Level):
        self.name = name
        self.capacity = capacity
        self.allocated = 0
        self.present = 0
        self.occupied = occupied
        self.capacity_level = capacity_level


class Request:
    __slots__ = ("event", "joined", "key", "person", "site", "source")

    def __init__(self, event, person, source, site, key, joined):
        self.event = event
        self.person = person
        self.source = source
        self.site = site
        self.key = key
        self.joined = joined


class Service:
    def __init__(
        self,
        env: simpy.Environment,
        monitor: Monitor,
        name: str,
        capacities: dict[str, float],
        priority: dict[str, int] | None = None,
        trace: list | None = None,
    ):
        self.env = env
        self.name = name
        self._requests = f"{name}.requests"  # the daily count of requests (demand), by source
        self.priority = priority or {}
        self.sites: dict[str, Site] = {}
        for site_name, capacity in capacities.items():
            capacity_level = monitor.level(f"{name}.capacity", site_name)
            capacity_level.set(0.0, _funded(capacity))
            self.sites[site_name] = Site(
                site_name, capacity, monitor.level(f"{name}.occupied", site_name), capacity_level
            )
        self.queue: list[Request] = []
        self.queue_levels: dict[str, Level] = {}
        self._monitor = monitor
        self._sequence = itertools.count()
        self._trace = trace
        self.requested = 0
        self.granted = 0
        self.released = 0

    # -- queries ---------------------------------------------------------------------------
    def free_site(self, site: str | None = None) -> str | None:
        """A site with a free slot (respecting `site` if given), or None."""
        if site is not None:
            s = self.sites[site]
            return site if s.allocated < s.capacity else None
        for s in self.sites.values():
            if s.allocated < s.capacity:
                return s.name
        return None

    def has_room(self, site: str | None = None) -> bool:
        """True if a new request would be granted now without overtaking anyone."""
        if site is None:
            return not self.queue and self.free_site() is not None
        return self.free_site(site) is not None and not any(
            r.site is None or r.site == site for r in self.queue
        )

    @property
    def waiting(self) -> int:
        return len(self.queue)

    @property
    def allocated(self) -> int:
        return sum(s.allocated for s in self.sites.values())

    # -- requests --------------------------------------------------------------------------
    def take(self, person, source: str, site: str | None = None) -> str | None:
        """Grant a slot at once if that overtakes nobody: the site granted, or None (and no request)."""
        if not self.has_room(site):
            return None
        self._monitor.count(self._requests, source, self.env.now)
        self.requested += 1
        self._log("join", person, site)
        granted = self.free_site(site)
        self._allocate(person, granted)
        return granted

    def request(self, person, source: str, site: str | None = None) -> simpy.Event:
        """An event that succeeds, with the site name as value, when a slot is granted."""
        event = self.env.event()
        granted = self.take(person, source, site)
        if granted is not None:
            event.succeed(granted)
        else:
            self.queue_for(person, source, site, event)
        return event

    def place(self, person, site: str) -> None:
        """Allocate a slot at `site` to someone already there at a census start, even beyond
        capacity (nobody is turned out; new grants wait until allocations fall below it)."""
        self.requested += 1
        self._log("join", person, site)
        self._allocate(person, site)

    def queue_for(self, person, source: str, site: str | None, event: simpy.Event) -> None:
        """Join the queue (after `take` found no room); `event` succeeds with the site when granted."""
        now = self.env.now
        self._monitor.count(self._requests, source, now)
        self.requested += 1
        self._log("join", person, site)
        request = Request(event, person, source, site, (self.priority.get(source, 0), next(self._sequence)), now)
        self._queue_level(source).change(now, 1)
        self.queue.append(request)
        if len(self.queue) > 1 and request.key < self.queue[-2].key:
            self.queue.sort(key=lambda r: r.key)

    def occupy(self, site: str, person=None) -> None:
        """The person holding a slot at `site` is now physically there."""
        s = self.sites[site]
        s.present += 1
        s.occupied.change(self.env.now, 1)
        self._log("start", person, site)

    def release(self, site: str, present: bool = True) -> None:
        """The slot at `site` is free again (the person leaves, or the work is done)."""
        now = self.env.now
        s = self.sites[site]
        s.allocated -= 1
        self.released += 1
        if present:
            s.present -= 1
            s.occupied.change(now, -1)
        self._log("release", None, site)
        self._fill(site)

    def set_capacity(self, site: str, capacity: float) -> None:
        s = self.sites[site]
        s.capacity = capacity
        s.capacity_level.set(self.env.now, _funded(capacity))
        self._log("capacity", None, site)
        self._fill(site)

    # -- internals -------------------------------------------------------------------------
    def _fill(self, site: str) -> None:
        s = self.sites[site]
        while self.queue and s.allocated < s.capacity:
            for index, request in enumerate(self.queue):  # noqa: B007 (index is used after the loop)
                if request.site is None or request.site == site:
                    break
            else:
                return
            del self.queue[index]
            self._queue_level(request.source).change(self.env.now, -1)
            self._allocate(request.person, site)
            request.event.succeed(site)

    def _allocate(self, person, site: str) -> None:
        self.sites[site].allocated += 1
        self.granted += 1
        self._log("grant", person, site)

    def _queue_level(self, source: str) -> Level:
        level = self.queue_levels.get(source)
        if level is None:
            level = self.queue_levels[source] = self._monitor.level(f"{self.name}.queue", source)
        return level

    def _log(self, what: str, person, site) -> None:
        if self._trace is not None:
            s = self.sites.get(site) if site is not None else None
            self._trace.append(
                (
                    self.env.now,
                    self.name,
                    what,
                    getattr(person, "pid", None),
                    site,
                    s.allocated if s else None,
                    s.present if s else None,
                    s.capacity if s else None,
                )
            )
