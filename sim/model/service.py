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
- A request names the sites it accepts, in order of preference (`sites`, e.g. a locality's
  bed bases nearest first, or one team), or None for any site (in the scenario's order). It
  takes the first free site it accepts; waiting, it is served by the first of them to free.
  Nobody in the queue ever accepts a site with a free slot (a freed slot is offered to the
  queue at once), so a new request takes a free slot it accepts without overtaking anyone.
- A waiting request can be withdrawn (`cancel`: the person went elsewhere or died) or made to
  accept more sites (`widen`: overflow to any team after some days).
"""

from __future__ import annotations

import bisect
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


Sites = tuple[str, ...] | None  # the sites a request accepts, in order of preference; None: any


class Request:
    __slots__ = ("event", "joined", "key", "person", "sites", "source", "waiting")

    def __init__(self, event, person, source, sites: Sites, key, joined):
        self.waiting = True  # in the queue (False once granted or cancelled)
        self.event = event
        self.person = person
        self.source = source
        self.sites = sites
        self.key = key
        self.joined = joined

    def accepts(self, site: str) -> bool:
        return self.sites is None or site in self.sites


class Service:
    def __init__(
        self,
        env: simpy.Environment,
        monitor: Monitor,
        name: str,
        capacities: dict[str, float],
        priority: dict[str, int] | None = None,
        trace: list | None = None,
        overflow_after: float | None = None,
    ):
        self.env = env
        # days after which a request limited to some sites takes any: checked at the daily
        # review (midnight), as a team reviews its list, rather than by a timer per request
        self.overflow_after = overflow_after
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
        self.queue: list[Request] = []  # everyone waiting, in (rank, time joined) order
        # the same requests filed by the site they accept (None: any), each list in queue order,
        # so a freed slot finds its first taker without scanning the whole queue; a request
        # granted or cancelled leaves these lists lazily (it is no longer `waiting`)
        self._filed: dict[str | None, list[Request]] = {None: [], **{name: [] for name in self.sites}}
        self.queue_levels: dict[str, Level] = {}
        self._monitor = monitor
        self._sequence = itertools.count()
        self._trace = trace
        self.requested = 0
        self.granted = 0
        self.released = 0
        self.cancelled = 0  # requests withdrawn while waiting
        if self.reviews_daily():
            env.process(self._daily_review())

    # -- queries ---------------------------------------------------------------------------
    def free_site(self, sites: Sites = None, person=None) -> str | None:
        """The first site with a free slot among `sites` (any site if None), or None."""
        if sites is None:
            for s in self.sites.values():
                if s.allocated < s.capacity:
                    return s.name
            return None
        for name in sites:
            s = self.sites[name]
            if s.allocated < s.capacity:
                return name
        return None

    @property
    def waiting(self) -> int:
        return len(self.queue)

    @property
    def allocated(self) -> int:
        return sum(s.allocated for s in self.sites.values())

    # -- requests --------------------------------------------------------------------------
    def take(self, person, source: str, sites: Sites = None) -> str | None:
        """Grant a slot at once if that overtakes nobody: the site granted, or None (and no request)."""
        granted = self.free_site(sites, person)
        if granted is None:
            return None
        self._monitor.count(self._requests, source, self.env.now)
        self.requested += 1
        if self._trace is not None:
            self._log("join", person, sites)
        self._allocate(person, granted)
        return granted

    def request(self, person, source: str, sites: Sites = None) -> simpy.Event:
        """An event that succeeds, with the site name as value, when a slot is granted."""
        event = self.env.event()
        granted = self.take(person, source, sites)
        if granted is not None:
            event.succeed(granted)
        else:
            self.queue_for(person, source, sites, event)
        return event

    def place(self, person, site: str) -> None:
        """Allocate a slot at `site` to someone already there at a census start, even beyond
        capacity (nobody is turned out; new grants wait until allocations fall below it)."""
        self.requested += 1
        if self._trace is not None:
            self._log("join", person, site)
        self._allocate(person, site)

    def queue_for(self, person, source: str, sites: Sites, event: simpy.Event, joined: float | None = None) -> Request:
        """Join the queue (after `take` found no room); `event` succeeds with the site when granted.
        `joined` < now: on the list since then (a census start), which counts towards overflow."""
        now = self.env.now
        self._monitor.count(self._requests, source, now)
        self.requested += 1
        if self._trace is not None:
            self._log("join", person, sites)
        since = now if joined is None else joined
        request = Request(event, person, source, sites, (self.priority.get(source, 0), next(self._sequence)), since)
        self._queue_level(source).change(now, 1)
        self.queue.append(request)
        if len(self.queue) > 1 and request.key < self.queue[-2].key:
            self.queue.sort(key=lambda r: r.key)
        self._file(request, sites)
        return request

    def cancel(self, request: Request) -> bool:
        """Withdraw a waiting request; False if it was granted already (nothing changes then)."""
        if not request.waiting:
            return False
        request.waiting = False
        self.cancelled += 1
        self.queue.remove(request)
        self._queue_level(request.source).change(self.env.now, -1)
        if self._trace is not None:
            self._log("cancel", request.person, request.sites)
        return True

    def widen(self, request: Request, sites: Sites = None) -> None:
        """A waiting request now accepts `sites` too (None: any): granted at once if one of
        them is free (nobody waiting accepts a free site, so nobody is overtaken)."""
        if not request.waiting:
            return
        added = None if sites is None or request.sites is None else tuple(s for s in sites if s not in request.sites)
        request.sites = None if added is None else request.sites + added
        self._file(request, added)
        if self._trace is not None:
            self._log("widen", request.person, request.sites)
        granted = self._free_for(request)
        if granted is not None:
            self._grant(request, granted)

    def occupy(self, site: str, person=None) -> None:
        """The person holding a slot at `site` is now physically there."""
        s = self.sites[site]
        s.present += 1
        s.occupied.change(self.env.now, 1)
        if self._trace is not None:
            self._log("start", person, site)

    def release(self, site: str, present: bool = True, person=None) -> None:
        """The slot at `site` is free again (the person leaves, or the work is done)."""
        now = self.env.now
        s = self.sites[site]
        s.allocated -= 1
        self.released += 1
        if present:
            s.present -= 1
            s.occupied.change(now, -1)
        if self._trace is not None:
            self._log("release", None, site)
        self._fill(site)

    def set_capacity(self, site: str, capacity: float) -> None:
        s = self.sites[site]
        s.capacity = capacity
        s.capacity_level.set(self.env.now, _funded(capacity))
        if self._trace is not None:
            self._log("capacity", None, site)
        self._fill(site)

    # -- internals -------------------------------------------------------------------------
    def _free_for(self, request: Request) -> str | None:
        """A free site for a waiting request (nobody ahead of it accepts a free site)."""
        return self.free_site(request.sites, request.person)

    def _fits(self, site: Site, person) -> bool:
        return site.allocated < site.capacity

    def reviews_daily(self) -> bool:
        """Whether the queue needs a review every midnight (here: for the overflow rule)."""
        return self.overflow_after is not None

    def _daily_review(self):
        """Process: `_review` every midnight."""
        env = self.env
        while True:
            yield env.timeout(math.floor(env.now) + 1 - env.now)
            self._review()

    def _review(self) -> None:
        """Anyone who has waited `overflow_after` days for their own sites (team) is taken by any
        site with room, longest waiting first."""
        if self.overflow_after is not None:
            due = self.env.now - self.overflow_after
            for request in [r for r in self.queue if r.sites is not None and r.joined <= due]:
                self.widen(request)

    def _file(self, request: Request, sites: Sites) -> None:
        for name in (None,) if sites is None else sites:
            filed = self._filed[name]
            if not filed or filed[-1].key < request.key:
                filed.append(request)
            else:
                bisect.insort(filed, request, key=lambda r: r.key)

    def _first_waiting(self, name: str | None) -> Request | None:
        filed = self._filed[name]
        while filed and not filed[0].waiting:
            del filed[0]
        return filed[0] if filed else None

    def _fill(self, site: str) -> None:
        s = self.sites[site]
        while self.queue:
            for_site, for_any = self._first_waiting(site), self._first_waiting(None)
            if for_site is None or (for_any is not None and for_any.key < for_site.key):
                request = for_any
            else:
                request = for_site
            if request is None:
                return
            if not self._fits(s, request.person):  # the first in line for this site waits: nobody overtakes
                return
            self._grant(request, site)

    def _grant(self, request: Request, site: str) -> None:
        """A waiting request leaves the queue with a slot at `site`."""
        request.waiting = False
        self.queue.remove(request)
        self._queue_level(request.source).change(self.env.now, -1)
        self._allocate(request.person, site)
        request.event.succeed(site)

    def _allocate(self, person, site: str) -> None:
        self.sites[site].allocated += 1
        self.granted += 1
        if self._trace is not None:
            self._log("grant", person, site)

    def _queue_level(self, source: str) -> Level:
        level = self.queue_levels.get(source)
        if level is None:
            level = self.queue_levels[source] = self._monitor.level(f"{self.name}.queue", source)
        return level

    def _log(self, what: str, person, site) -> None:
        if self._trace is not None:
            # `site`: the site granted, released or changed, or the sites a request accepts
            s = self.sites.get(site) if isinstance(site, str) else None
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
