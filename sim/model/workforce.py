"""Reablement as workforce: each team has staff hours a week instead of a number of places.

A person needs `hours_start` hours a week when they start; over the episode their need falls
in a straight line to what they leave with (0 if independent, the retained share of their
hours if they go on to homecare; unchanged if the episode ends in hospital, a care home or
death). A team takes the next person in its queue when the hours it has committed, plus that
person's starting hours, fit in its hours a week. Needs fall continuously, so besides every
start and end the teams review their queues once a day (at midnight), as a weekly rota would.
The queue is first come, first served per team: a person who does not fit yet is not
overtaken by a smaller need behind them.
"""

from __future__ import annotations

import math

from .monitor import Monitor
from .service import Service, Site

# tolerance for "fits": hours are sums of floats
EPSILON = 1e-9


class Need:
    __slots__ = ("duration", "end", "start", "started")

    def __init__(self, start: float, end: float, duration: float):
        self.start, self.end, self.duration = start, end, duration
        self.started: float | None = None  # when the episode began (hours held at `start` until then)

    def hours(self, now: float) -> float:
        if self.started is None:
            return self.start
        done = min((now - self.started) / self.duration, 1.0) if self.duration > 0 else 1.0
        return self.start + (self.end - self.start) * done


class HoursService(Service):
    """A Service whose sites (teams) hold hours a week. A person needs `person.hours_start` to
    start; `needs(person)` gives (start hours, end hours, episode days) once they are taken."""

    def __init__(self, env, monitor: Monitor, name: str, capacities: dict[str, float], needs, priority=None,
                 trace=None, overflow_after=None):
        super().__init__(env, monitor, name, capacities, priority, trace, overflow_after)
        self._needs = needs
        self._held: dict[str, dict[int, Need]] = {site: {} for site in self.sites}
        self._hours_levels = {site: monitor.level(f"{name}.hours_committed", site) for site in self.sites}

    def committed(self, site: str) -> float:
        """Hours a week the team is committed to now."""
        now = self.env.now
        return sum(need.hours(now) for need in self._held[site].values())

    def _fits(self, site: Site, person) -> bool:
        if math.isinf(site.capacity):
            return True
        return self.committed(site.name) + person.hours_start <= site.capacity + EPSILON

    def free_site(self, sites=None, person=None) -> str | None:
        """The first site among `sites` that takes `person` now without overtaking anyone queued for it."""
        for name in self.sites if sites is None else sites:
            if person is not None and self._fits(self.sites[name], person) and not any(
                r.accepts(name) for r in self.queue
            ):
                return name
        return None

    def _free_for(self, request) -> str | None:
        ahead = [r for r in self.queue if r.key < request.key]
        for name in self.sites if request.sites is None else request.sites:
            if self._fits(self.sites[name], request.person) and not any(r.accepts(name) for r in ahead):
                return name
        return None

    def _allocate(self, person, site: str) -> None:
        super()._allocate(person, site)
        start, end, duration = self._needs(person)
        self._held[site][person.pid] = Need(start, end, duration)
        self._record_hours(site)

    def occupy(self, site: str, person=None) -> None:
        super().occupy(site, person)
        self._held[site][person.pid].started = self.env.now

    def release(self, site: str, present: bool = True, person=None) -> None:
        del self._held[site][person.pid]
        self._record_hours(site)
        super().release(site, present)

    def _record_hours(self, site: str) -> None:
        self._hours_levels[site].set(self.env.now, self.committed(site))

    def reviews_daily(self) -> bool:
        return True  # needs fall continuously: someone may fit by tomorrow with no start or end

    def _review(self) -> None:
        for site in self.sites:
            self._record_hours(site)
            self._fill(site)
        super()._review()
