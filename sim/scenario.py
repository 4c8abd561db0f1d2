"""Scenario: the validated, frozen description of one system to simulate, loaded from TOML.

Time in the model is in days. `run.start_date` is the first reported day; the warm-up runs
before it. A scenario file may start with `extends = "other.toml"` and override only what
changes (tables merge key by key; arrays and values replace).
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import math
import tomllib
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
    model_validator,
)

from .distributions import FAMILIES, Distribution
from .errors import InputError

SUM_TOLERANCE = 1e-9
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


class CapacityChange(Frozen):
    date: dt.date
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
    years: float = Field(gt=0, le=50)
    warmup_days: int = Field(ge=0)
    replications: int = Field(ge=1)
    seed: int = Field(ge=0)
    # a census file (CSV, sim/census.py) the run starts from at t = 0; written relative to the
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

    rate_per_day: float = Field(ge=0)
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


class FrontDoor(Frozen):
    diversion: Diversion


class HomeWard(Scheduled):
    capacity: Capacity
    los: Distribution
    escalation_share: Probability


class Community(Frozen):
    """Step-up referrals from GPs and neighbourhood teams (same seasonality and growth as arrivals)."""

    reablement_per_day: float = Field(ge=0)
    bed_per_day: float = Field(ge=0)


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


class Acute(Frozen):
    death_share: Probability
    pathway_shares: PathwayShares
    clinical_los: ByPathway
    discharge_process: ByPathway
    discharge_weekday: WeekdayProbabilities
    readmission_after_p0: Readmission


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


class Reablement(Scheduled):
    capacity: Capacity
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
    site_choice: Literal["first_free", "preferred"]
    los: Distribution
    discharge_process: Distribution
    discharge_weekday: WeekdayProbabilities
    outcomes: BedOutcomes
    priority: Priority = Priority()
    sites: dict[str, BedSite] = Field(min_length=1)

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


class Scenario(Frozen):
    meta: Meta
    run: Run
    arrivals: Arrivals
    front_door: FrontDoor
    home_ward: HomeWard
    community: Community
    acute: Acute
    reablement: Reablement
    beds: Beds
    placements: Placements

    @model_validator(mode="after")
    def _population_covers_the_run(self):
        if self.arrivals.population is not None:
            self.arrivals.population.demand_index([self.date_of(0.0), self.date_of(float(self.end_day))])
        return self

    @property
    def horizon_days(self) -> int:
        """Reported days after warm-up."""
        return round(self.run.years * 365)

    @property
    def end_day(self) -> int:
        return self.run.warmup_days + self.horizon_days

    def date_of(self, t: float) -> dt.date:
        """Calendar date of simulation time t (days since the warm-up began)."""
        return self.run.start_date + dt.timedelta(days=math.floor(t) - self.run.warmup_days)

    def time_of(self, date: dt.date) -> float:
        """Simulation time at the start of `date`."""
        return float((date - self.run.start_date).days + self.run.warmup_days)

    def with_run(self, **changes: Any) -> "Scenario":
        """A copy with run settings changed (validated)."""
        data = self.model_dump(mode="python")
        data["run"].update({k: v for k, v in changes.items() if v is not None})
        try:
            return Scenario.model_validate(data)
        except ValidationError as exc:
            raise InputError(_describe(Path("command-line option"), exc, data)) from None


# ---------------------------------------------------------------------------------------------
# Loading


def load_scenario(path: str | Path) -> Scenario:
    """Read, merge (`extends`) and validate a scenario file. Raises InputError on bad input.

    A run folder's manifest.json is accepted too: its resolved scenario (with the seed,
    replications and years that run used) reproduces that run exactly.
    """
    path = Path(path)
    if path.suffix == ".json":
        return _from_manifest(path)
    data = _read_merged(path, chain=())
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as exc:
        raise InputError(_describe(path, exc, data)) from None
    if scenario.run.census is not None and not scenario.run.census_rows:  # a bad census stops the load
        from .census import read_census

        rows = read_census(scenario.run.census, scenario)
        data["run"]["census_rows"] = [(r.place, r.site, r.days_so_far) for r in rows]
        scenario = Scenario.model_validate(data)
    return scenario


def _resolve_census(data: dict, path: Path) -> None:
    """`run.census` is relative to the file that names it (as `extends` is): made absolute here."""
    run = data.get("run")
    if isinstance(run, dict) and isinstance(run.get("census"), str):
        run["census"] = str((path.parent / run["census"]).resolve())


def _from_manifest(path: Path) -> Scenario:
    try:
        manifest = json.loads(path.read_text())
    except FileNotFoundError:
        raise InputError(f"{path}: file not found") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: not valid JSON: {exc}") from None
    if not isinstance(manifest, dict) or not isinstance(manifest.get("scenario"), dict):
        raise InputError(f"{path}: scenario: missing; expected a run folder's manifest.json")
    try:  # JSON mode: dates arrive as ISO text
        return Scenario.model_validate_json(json.dumps(manifest["scenario"]))
    except ValidationError as exc:
        raise InputError(_describe(path, exc, manifest["scenario"]).replace(f"{path}: ", f"{path}: scenario.", 1)) from None


def scenario_from_dict(data: dict, source: str = "<dict>") -> Scenario:
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        raise InputError(_describe(Path(source), exc, data)) from None


def read_toml(path: Path) -> dict:
    """A TOML file as a dict; a missing or malformed file is an InputError."""
    try:
        with open(path, "rb") as f:
            return tomllib.load(f)
    except FileNotFoundError:
        raise InputError(f"{path}: file not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{path}: not valid TOML: {exc}") from None


POPULATION_COLUMNS = ("year", "age_band", "variant", "population", "source")


def _read_population(data: dict, scenario_path: Path) -> None:
    """Fill arrivals.population's table from its CSV (path relative to the scenario file)."""
    population = data.get("arrivals", {}).get("population")
    if not isinstance(population, dict) or not isinstance(population.get("file"), str) or "years" in population:
        return
    path = scenario_path.parent / population["file"]
    where = f"{scenario_path}: arrivals.population.file = {population['file']!r}"
    try:
        with open(path, newline="") as f:
            rows = list(csv.DictReader(line for line in f if not line.startswith("#")))
    except FileNotFoundError:
        raise InputError(f"{where}: file not found ({path})") from None
    if not rows or tuple(rows[0].keys()) != POPULATION_COLUMNS:
        found = ", ".join(rows[0].keys()) if rows else "no rows"
        raise InputError(f"{path}: columns {found}; expected {', '.join(POPULATION_COLUMNS)}")
    variant = population.get("variant")
    table: dict[str, dict[int, float]] = {}
    for line, row in enumerate(rows, start=2):
        try:
            year, value = int(row["year"]), float(row["population"])
        except (TypeError, ValueError):
            raise InputError(
                f"{path}: row {line}: year = {row['year']!r}, population = {row['population']!r}: expected a year and a number"
            ) from None
        if not value >= 0 or math.isinf(value):
            raise InputError(f"{path}: row {line}: population = {row['population']!r}: expected a number >= 0")
        if row["variant"] == variant:
            if year in table.setdefault(row["age_band"], {}):
                raise InputError(f"{path}: row {line}: {year} {row['age_band']} {variant} appears twice")
            table[row["age_band"]][year] = value
    if not table:
        variants = sorted({row["variant"] for row in rows})
        raise InputError(f"{where}: variant = {variant!r}: not in the file; expected one of {', '.join(variants)}")
    years = sorted(next(iter(table.values())))
    for band, values in table.items():
        if sorted(values) != years or years != list(range(years[0], years[-1] + 1)):
            raise InputError(f"{path}: age band {band!r}, variant {variant!r}: expected one row for every year {years[0]}-{years[-1]}")
    population["years"] = years
    population["by_band"] = {band: [values[y] for y in years] for band, values in table.items()}


def _read_merged(path: Path, chain: tuple[Path, ...]) -> dict:
    resolved = path.resolve()
    if resolved in chain:
        raise InputError(f"{path}: extends: circular reference ({' -> '.join(p.name for p in chain + (resolved,))})")
    data = read_toml(path)
    _read_population(data, path)
    _resolve_census(data, path)
    parent = data.pop("extends", None)
    if parent is None:
        return data
    if not isinstance(parent, str):
        raise InputError(f"{path}: extends = {parent!r}: expected a file name (string)")
    base = _read_merged(path.parent / parent, chain + (resolved,))
    return _merge(base, data)


def _merge(base: dict, override: dict) -> dict:
    merged = dict(base)
    for key, value in override.items():
        # a distribution ({family = ...}) replaces the parent's whole: its keys depend on the family
        if isinstance(value, dict) and "family" not in value and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _describe(path: Path, exc: ValidationError, data: dict) -> str:
    """One line: file, key path, bad value, what was expected."""
    errors = exc.errors(include_url=False)
    first = errors[0]
    loc = [_key_part(part) for part in first["loc"] if str(part) not in FAMILIES and not str(part).startswith("function-")]
    key = ".".join(loc) or "(top level)"
    kind = first["type"]
    expected = first["msg"].removeprefix("Value error, ")
    if kind == "extra_forbidden":
        message = f"{key}: unknown key"
    elif kind == "missing":
        message = f"{key}: missing required key"
    elif isinstance(first.get("input"), dict):  # a check on a whole table: its message names the values
        message = f"{key}: {expected}"
    else:
        message = f"{key} = {_short(first.get('input'))}: {expected}"
    more = f" (and {len(errors) - 1} more problem{'s' if len(errors) > 2 else ''})" if len(errors) > 1 else ""
    return f"{path}: {message}{more}"


def _key_part(part: Any) -> str:
    text = str(part)
    return text if text.isprintable() else json.dumps(text)


def _short(value: Any, limit: int = 80) -> str:
    if isinstance(value, dict):
        text = "{" + ", ".join(f"{k} = {_short(v, 20)}" for k, v in value.items()) + "}"
    else:
        text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
