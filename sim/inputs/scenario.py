"""Scenario: the validated, frozen description of one system to simulate (the schema).

Time in the model is in days. `run.start_date` is the first reported day; the warm-up runs
before it. Files are read into it by `sim.inputs.loading`.
"""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    PlainValidator,
    ValidationError,
    field_validator,
    model_validator,
)

from ..errors import InputError
from ..units import DAYS_PER_YEAR
from .distributions import Deterministic, Distribution, refuse_absurd_numbers
from .reading import describe_error

SUM_TOLERANCE = 1e-9
# Caps on what a run may ask for (docs/decisions.md, "Caps on runaway requests"): beyond them a
# run would hang or exhaust memory before it reported anything.
MAX_REPLICATIONS = 10_000  # 95% intervals stop narrowing usefully long before this
MAX_YEARS = 50  # the blueprint horizon is 5-10 years
MAX_WARMUP_DAYS = 3650  # ten years: over 80 times the longest mean stay in the shipped scenarios
MAX_RATE_PER_DAY = 100_000  # arrivals a day: England's 65+ emergency admissions are a few thousand a day
UNLIMITED = math.inf
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _capacity(value: Any) -> float:
    """A capacity is a whole number >= 0 or "unlimited" (kept as float('inf'))."""
    if value == "unlimited":
        return UNLIMITED
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    raise ValueError('expected a whole number >= 0 or "unlimited"')


def _as_tuple(value: Any) -> Any:
    """TOML arrays arrive as lists; parameters are kept as (immutable) tuples."""
    return tuple(value) if isinstance(value, list) else value


def _capacity_out(value: float) -> int | str:
    return "unlimited" if math.isinf(value) else int(value)


# Serialised back as written, so a dumped scenario (e.g. in a manifest) reloads unchanged.
Capacity = Annotated[float, PlainValidator(_capacity), PlainSerializer(_capacity_out)]
Probability = Annotated[float, Field(ge=0, le=1)]
Factor = Annotated[float, Field(ge=0)]


class Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, allow_inf_nan=False)
    _magnitude = field_validator("*")(refuse_absurd_numbers)


class Shares(Frozen):
    """A table of probabilities over exclusive outcomes; they must sum to 1 (never renormalised)."""

    @model_validator(mode="after")
    def _sum_to_one(self):
        values = self.as_dict()
        total = sum(values.values())
        if abs(total - 1) > SUM_TOLERANCE:
            listed = ", ".join(f"{k}={v:g}" for k, v in values.items())
            raise ValueError(f"shares sum to {total:.12g} ({listed}); expected 1 (±1e-9)")
        return self

    def as_dict(self) -> dict[str, float]:
        return {name: getattr(self, name) for name in type(self).model_fields}


def _iso_date(value: Any) -> Any:
    """A date written as ISO text: how a run folder's JSON stores it (resume, manifests)."""
    return dt.date.fromisoformat(value) if isinstance(value, str) else value


class CapacityChange(Frozen):
    date: Annotated[dt.date, BeforeValidator(_iso_date)]
    capacity: Capacity


class Scheduled(Frozen):
    """A capacity that may change at dates within the run (winter beds, a site opening)."""

    capacity_schedule: Annotated[tuple[CapacityChange, ...], BeforeValidator(_as_tuple)] = ()

    @model_validator(mode="after")
    def _dates_increase(self):
        dates = [change.date for change in self.capacity_schedule]
        if dates != sorted(set(dates)):
            listed = ", ".join(str(d) for d in dates)
            raise ValueError(f"capacity_schedule dates {listed}: expected distinct dates in increasing order")
        return self


class Meta(Frozen):
    name: str
    description: str = ""


class Run(Frozen):
    start_date: dt.date
    years: float = Field(gt=0, le=MAX_YEARS)
    warmup_days: int = Field(ge=0, le=MAX_WARMUP_DAYS)
    replications: int = Field(ge=1, le=MAX_REPLICATIONS)
    seed: int = Field(ge=0)
    # a census file (CSV, sim/inputs/census.py) the run starts from at t = 0; written relative to the
    # scenario file that names it, stored resolved (absolute) at load time
    census: str | None = None
    # its rows (place, site, days so far), read when the scenario is loaded: the run, a run's
    # manifest and remote workers need no copy of the file
    census_rows: Annotated[
        tuple[Annotated[tuple[str, str | None, float], BeforeValidator(_as_tuple)], ...], BeforeValidator(_as_tuple)
    ] = ()


class Population(Frozen):
    """The population that drives demand: people by age band and year (one projection variant),
    and each band's admission rate. Demand moves with sum(population × rate) over the bands;
    `rate_per_day` still sets its level at the start date (docs/decisions.md)."""

    file: str  # the projection CSV it was read from (provenance; the table below is what is used)
    variant: str
    rates_per_1000: dict[str, Annotated[float, Field(gt=0)]] = Field(min_length=1)
    # Filled from `file` when the scenario is loaded: mid-year populations, one value per year.
    years: Annotated[tuple[int, ...], BeforeValidator(_as_tuple)] = ()
    by_band: dict[str, Annotated[tuple[Annotated[float, Field(ge=0)], ...], BeforeValidator(_as_tuple)]] = {}

    @model_validator(mode="after")
    def _table_matches_rates(self):
        if not self.years:
            raise ValueError(f"no population table read from {self.file!r}")
        if any(b <= a for a, b in zip(self.years, self.years[1:])):
            raise ValueError(f"years {self.years}: expected consecutive increasing years")
        if set(self.by_band) != set(self.rates_per_1000):
            raise ValueError(
                f"age bands in rates_per_1000 ({', '.join(self.rates_per_1000)}) differ from the "
                f"file's ({', '.join(self.by_band)})"
            )
        for band, values in self.by_band.items():
            if len(values) != len(self.years):
                raise ValueError(f"age band {band!r}: {len(values)} values for {len(self.years)} years")
        return self

    def demand_index(self, dates: list[dt.date]) -> np.ndarray:
        """sum(population × rate) on each date, linear between mid-years (1 July)."""
        yearly = sum(np.asarray(self.by_band[band]) * rate for band, rate in self.rates_per_1000.items())
        mid_years = np.array([dt.date(y, 7, 1).toordinal() for y in self.years])
        x = np.array([d.toordinal() for d in dates])
        if x.min() < mid_years[0] or x.max() > mid_years[-1]:
            raise ValueError(
                f"{self.file} covers mid-{self.years[0]} to mid-{self.years[-1]}; the run (with its warm-up) "
                f"needs {min(dates).isoformat()} to {max(dates).isoformat()}"
            )
        return np.interp(x, mid_years, yearly)


class Arrivals(Frozen):
    """Non-elective arrivals (65+) at the acute front door: a non-homogeneous Poisson process."""

    rate_per_day: float = Field(ge=0, le=MAX_RATE_PER_DAY)
    monthly_factors: Annotated[tuple[Factor, ...], BeforeValidator(_as_tuple)] = Field(min_length=12, max_length=12)
    weekday_factors: Annotated[tuple[Factor, ...], BeforeValidator(_as_tuple)] = Field(min_length=7, max_length=7)
    annual_growth: float = Field(gt=-1, le=1)
    population: Population | None = None  # demand grows with a population projection instead

    @model_validator(mode="after")
    def _factors_average_one(self):
        for name in ("monthly_factors", "weekday_factors"):
            values = getattr(self, name)
            mean = sum(values) / len(values)
            if abs(mean - 1) > 1e-6:
                raise ValueError(f"{name} average {mean:.9g}; expected 1 (±1e-6) so that rate_per_day is the mean rate")
        if self.population is not None and self.annual_growth != 0:
            raise ValueError(
                f"annual_growth = {self.annual_growth} and a population: growth comes from one or the other; "
                "set annual_growth = 0 when a population projection drives demand"
            )
        return self


class Diversion(Shares):
    """What the front door intends for each arrival; diversion happens only if the service has room."""

    admit: Probability
    home_ward: Probability
    assessment_home: Probability
    step_up_reablement: Probability
    step_up_bed: Probability


class Assessment(Scheduled):
    """Front-door assessment (CDAT) for arrivals meant to go home: people assessed at once. A
    person finding no free place is admitted instead (assess-or-admit, as for the Home Ward)."""

    capacity: Capacity = UNLIMITED
    duration: Distribution = Deterministic(family="deterministic", mean=0.0)  # days


class FrontDoor(Frozen):
    diversion: Diversion
    assessment: Assessment = Assessment()


class HomeWard(Scheduled):
    capacity: Capacity
    los: Distribution
    escalation_share: Probability


class Community(Frozen):
    """Step-up referrals from GPs and neighbourhood teams (same seasonality and growth as arrivals)."""

    reablement_per_day: float = Field(ge=0, le=MAX_RATE_PER_DAY)
    bed_per_day: float = Field(ge=0, le=MAX_RATE_PER_DAY)


class PathwayShares(Shares):
    p0: Probability
    p1: Probability
    p2: Probability
    p3: Probability


class ByPathway(Frozen):
    p0: Distribution
    p1: Distribution
    p2: Distribution
    p3: Distribution


class Readmission(Frozen):
    share: Probability
    delay: Distribution


class WeekdayProbabilities(Frozen):
    """Probability that a person ready to leave on that day leaves that day."""

    mon: Annotated[float, Field(gt=0, le=1)]
    tue: Annotated[float, Field(gt=0, le=1)]
    wed: Annotated[float, Field(gt=0, le=1)]
    thu: Annotated[float, Field(gt=0, le=1)]
    fri: Annotated[float, Field(gt=0, le=1)]
    sat: Annotated[float, Field(gt=0, le=1)]
    sun: Annotated[float, Field(gt=0, le=1)]

    def as_tuple(self) -> tuple[float, ...]:
        return tuple(getattr(self, day) for day in WEEKDAYS)


ALL_DAYS = WeekdayProbabilities(mon=1.0, tue=1.0, wed=1.0, thu=1.0, fri=1.0, sat=1.0, sun=1.0)


class Acute(Frozen):
    death_share: Probability
    # the NEED each person has at no reason to reside (drawn on arrival); the ROUTE they take
    # may differ (sim.inputs.scenario.Routes)
    pathway_shares: PathwayShares
    clinical_los: ByPathway
    discharge_process: ByPathway
    # Probability that someone clinically fit is declared ready (no reason to reside) on that
    # day (board rounds); on the day the clinical stay ends at that time, later days at midday.
    readiness_weekday: WeekdayProbabilities = ALL_DAYS
    # P0: probability of leaving on the ready day (after the discharge process, within the day);
    # the others leave on a later day, each with that day's discharge_weekday probability.
    p0_same_day_share: Probability = 1.0
    discharge_weekday: WeekdayProbabilities
    readmission_after_p0: Readmission


class Substitution(Frozen):
    """Someone still waiting `after_days` after referral takes another route with probability `share`."""

    after_days: float = Field(ge=0)
    share: Probability = 0.0


NEVER = Substitution(after_days=0.0, share=0.0)


class Routes(Frozen):
    """Policy levers that turn a need into a route, and what happens under pressure."""

    # discharge to assess: a share of P2 needs go home with P1, of P3 needs to a short-term bed
    home_first_p2: Probability = 0.0
    home_first_p3: Probability = 0.0
    # of P3 needs assessed in a short-term bed, the share who go home (with P1) after all
    home_first_p3_home_share: Probability = 0.0
    # waiting in an acute bed for P1: an interim short-term bed (waiting there for P1) ...
    p1_interim_bed: Substitution = NEVER
    # ... or home with a bridging homecare package, still on the P1 list
    p1_bridging: Substitution = NEVER
    # waiting in an acute bed for a short-term bed: an interim care-home bed (leaves the flow)
    p2_interim_care_home: Substitution = NEVER
    # daily probability of dying while waiting in an acute bed for P1-P3 (a constant hazard)
    death_while_waiting_per_day: Annotated[float, Field(ge=0, lt=1)] = 0.0


class Priority(Frozen):
    """Queue rank by where the person waits (lower is served first; equal ranks are FIFO)."""

    hospital: int = Field(default=0, ge=0)
    short_term_bed: int = Field(default=0, ge=0)
    community: int = Field(default=0, ge=0)


class ReablementOutcomes(Shares):
    independent: Probability
    ongoing_homecare: Probability
    readmitted: Probability
    long_term_care: Probability
    died: Probability


class Overflow(Frozen):
    """Someone waiting for their own locality's team is taken by any team with room after `after_days`."""

    after_days: float = Field(ge=0)


class Reablement(Scheduled):
    # the city's capacity, shared among locality teams by reablement_share: people supported at
    # once (places), or staff hours a week (hours_per_week: a person starts when their team has
    # the hours their first week needs; sim/model/workforce.py)
    capacity: Capacity
    capacity_unit: Literal["places", "hours_per_week"] = "places"
    # "none" (or left out): people wait for their own team
    overflow: Annotated[Overflow | None, BeforeValidator(lambda v: None if v == "none" else v)] = None
    duration: Distribution
    hours_start: Distribution
    hours_retained_share: Distribution
    outcomes: ReablementOutcomes
    priority: Priority = Priority()


class BedOutcomes(Shares):
    home: Probability
    home_with_p1: Probability
    long_term_care: Probability
    readmitted: Probability
    died: Probability


class BedSite(Scheduled):
    beds: Capacity
    los_multiplier: float = Field(gt=0)
    referral_share: Probability


class Beds(Frozen):
    # first_free: the first free bed in file order; preferred: wait for the referral_share site;
    # nearest_acceptable: the first free among the home locality's bed_sites, else the first to free
    site_choice: Literal["first_free", "preferred", "nearest_acceptable"]
    los: Distribution
    discharge_process: Distribution
    discharge_weekday: WeekdayProbabilities
    outcomes: BedOutcomes
    priority: Priority = Priority()
    sites: dict[str, BedSite] = Field(min_length=1)
    # the wait for a care home after a bed stay, spent in the bed (None: placements.delay)
    placement_delay: Distribution | None = None
    # where people leaving a bed for reablement wait for their place: in the bed, or at home
    p1_wait: Literal["in_bed", "at_home"] = "in_bed"

    @model_validator(mode="after")
    def _referral_shares(self):
        total = sum(site.referral_share for site in self.sites.values())
        if abs(total - 1) > SUM_TOLERANCE:
            listed = ", ".join(f"{k}={s.referral_share:g}" for k, s in self.sites.items())
            raise ValueError(f"sites' referral_share sum to {total:.12g} ({listed}); expected 1 (±1e-9)")
        return self


class Placements(Scheduled):
    """Long-term care placements (P3): finding and arranging a care home, optionally capacity-limited."""

    capacity: Capacity
    delay: Distribution
    priority: Priority = Priority()


class Locality(Frozen):
    """Where people live: a neighbourhood team's patch."""

    share: Probability | None = None  # share of the cohort living there (none given: equal shares)
    reablement_share: Probability | None = None  # its team's share of reablement places (default: share)
    bed_sites: Annotated[tuple[str, ...], BeforeValidator(_as_tuple)] = ()  # acceptable, nearest first; () = all


class Finance(Frozen):
    """How a scenario's modelled benefit is realised over the years (the finance case)."""

    # share of the modelled annual benefit realised in reporting year 1, 2, ... (the last share
    # holds for later years); empty: all of it from year 1
    realisation: list[Annotated[float, Field(ge=0, le=1)]] = []


class Scenario(Frozen):
    meta: Meta
    run: Run
    arrivals: Arrivals
    front_door: FrontDoor
    home_ward: HomeWard
    community: Community
    acute: Acute
    routes: Routes = Routes()
    reablement: Reablement
    beds: Beds
    placements: Placements
    # none: one city-wide locality with one reablement team and every bed site acceptable
    localities: dict[Annotated[str, Field(min_length=1)], Locality] = {}
    finance: Finance = Finance()

    @model_validator(mode="after")
    def _population_covers_the_run(self):
        if self.arrivals.population is not None:
            self.arrivals.population.demand_index([self.date_of(0.0), self.date_of(float(self.end_day))])
        return self

    @model_validator(mode="after")
    def _localities(self):
        places = self.localities
        if not places:
            if self.beds.site_choice == "nearest_acceptable":
                raise ValueError('beds.site_choice = "nearest_acceptable" needs [localities] with their bed_sites')
            if self.reablement.overflow is not None:
                raise ValueError("reablement.overflow needs [localities] (teams to overflow between)")
            return self
        for what, values in (("share", [p.share for p in places.values()]),
                             ("reablement_share", [p.reablement_share for p in places.values()])):
            if all(v is None for v in values):
                continue
            if any(v is None for v in values):
                raise ValueError(f"localities: give {what} for every locality or for none")
            if abs(sum(values) - 1) > SUM_TOLERANCE:
                listed = ", ".join(f"{k}={v:g}" for k, v in zip(places, values))
                raise ValueError(f"localities' {what} sum to {sum(values):.12g} ({listed}); expected 1 (±1e-9)")
        for name, place in places.items():
            unknown = [s for s in place.bed_sites if s not in self.beds.sites]
            if unknown:
                raise ValueError(
                    f"localities.{name}.bed_sites: {', '.join(map(repr, unknown))} not among beds.sites "
                    f"({', '.join(self.beds.sites)})"
                )
            if len(set(place.bed_sites)) != len(place.bed_sites):
                raise ValueError(f"localities.{name}.bed_sites lists a site twice: {list(place.bed_sites)}")
        return self

    def locality_shares(self) -> dict[str, float]:
        """Each locality's share of the cohort (equal if none is given)."""
        places = self.localities
        if any(p.share is None for p in places.values()):
            return dict.fromkeys(places, 1 / len(places)) if places else {}
        return {n: p.share for n, p in places.items()}

    def team_capacities(self, capacity: float) -> dict[str, float]:
        """City reablement capacity shared among locality teams: places by largest remainder
        (whole places), hours in proportion."""
        if not self.localities:
            return {"all": capacity}
        shares = {n: s if p.reablement_share is None else p.reablement_share
                  for (n, p), s in zip(self.localities.items(), self.locality_shares().values())}
        if math.isinf(capacity):
            return dict.fromkeys(shares, capacity)
        exact = {n: capacity * share for n, share in shares.items()}
        if self.reablement.capacity_unit == "hours_per_week":
            return exact
        places = {n: math.floor(v) for n, v in exact.items()}
        by_remainder = sorted(shares, key=lambda n: (-(exact[n] - places[n]), list(shares).index(n)))
        for n in by_remainder[: round(capacity - sum(places.values()))]:
            places[n] += 1
        return places

    @property
    def horizon_days(self) -> int:
        """Reported days after warm-up."""
        return round(self.run.years * DAYS_PER_YEAR)

    @property
    def end_day(self) -> int:
        return self.run.warmup_days + self.horizon_days

    def date_of(self, t: float) -> dt.date:
        """Calendar date of simulation time t (days since the warm-up began)."""
        return self.run.start_date + dt.timedelta(days=math.floor(t) - self.run.warmup_days)

    def time_of(self, date: dt.date) -> float:
        """Simulation time at the start of `date`."""
        return float((date - self.run.start_date).days + self.run.warmup_days)

    def schedules(self) -> dict[str, tuple[CapacityChange, ...]]:
        """Every capacity schedule, by its key path."""
        found = {"home_ward": self.home_ward.capacity_schedule, "front_door.assessment": self.front_door.assessment.capacity_schedule,
                 "reablement": self.reablement.capacity_schedule, "placements": self.placements.capacity_schedule}
        found |= {f"beds.sites.{name}": site.capacity_schedule for name, site in self.beds.sites.items()}
        return {key: changes for key, changes in found.items() if changes}

    def schedule_dates_outside(self) -> list[str]:
        """A sentence for each scheduled capacity change dated outside the simulated period."""
        first, last = self.date_of(0), self.date_of(self.end_day - 1)
        notes = []
        for key, changes in self.schedules().items():
            for change in changes:
                if change.date > last:
                    notes.append(f"{key}.capacity_schedule: {change.date} is after the simulated period ({first} to {last}): "
                                 "that change never takes effect")
                elif change.date < first:
                    notes.append(f"{key}.capacity_schedule: {change.date} is before the simulated period ({first} to {last}): "
                                 "that capacity applies from the start")
        return notes

    def with_run(self, **changes: Any) -> Scenario:
        """A copy with run settings changed (validated)."""
        data = self.model_dump(mode="python")
        data["run"].update({k: v for k, v in changes.items() if v is not None})
        try:
            return Scenario.model_validate(data)
        except ValidationError as exc:
            raise InputError(describe_error(Path("command-line option"), exc, data)) from None
