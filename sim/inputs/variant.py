"""A scenario variant from lever changes: validated, and saved as a minimal TOML that `extends` its parent.

A planner who never edits TOML picks a scenario and changes "levers" (beds at a site, a mean
length of stay, a share at the front door, a team's reablement places, ...). `levers` lists
what can be changed in a scenario, with its value there; `apply_levers` makes the changed
scenario, validated with the same one-line messages as `icsim validate`; `variant_toml` and
`save_variant` write it as a file holding only the changes, which `extends` the parent (a file
or a shipped scenario by name: `extends = "baseline"`).

A lever on a distribution changes its mean and scales the whole distribution with it: the sd
of a lognormal, gamma, weibull or beta is multiplied by new mean / old mean (the coefficient of
variation is kept), an empirical one's values are all multiplied by it, and an exponential or
deterministic one has only its mean. Every person keeps their quantile (inverse-transform
sampling), so each person's stay scales by the same factor.

Team places (`localities."<name>".reablement_places`) are not a key of the scenario: they are
the places the model gives each locality team (`Scenario.team_capacities`: the city's capacity
shared by reablement_share, whole places by largest remainder). Changing them sets
`reablement.capacity` to the sum of all teams' places and each locality's `reablement_share`
to its places over that sum, which the model turns back into exactly those places.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from numbers import Real
from pathlib import Path
from typing import Any

import tomlkit
from pydantic import ValidationError

from ..errors import InputError
from ..files import write_atomic
from .distributions import FAMILIES
from .loading import extends_file, load_scenario_text
from .reading import describe_error
from .scenario import WEEKDAYS, Scenario

GROUPS = ("Short-term beds", "Reablement", "Lengths of stay", "Discharge process", "Front door and routes",
          "Weekday working", "Demand and growth")
TEAM_PLACES = "reablement_places"  # the virtual key of a locality team's places
DEFAULT_NAME = "variant"
MAX_NAME_LENGTH = 100  # characters: the file name (and its temporary twin) stays within what a file system allows

Path_ = tuple[str, ...]


@dataclass(frozen=True)
class Lever:
    """One value a planner may change. `value` is the value in the scenario `levers` was given
    (an int for integer levers, so a widget's value and step have one type)."""

    key: str  # dotted key path as written in TOML (names that are not bare keys quoted)
    path: Path_  # the same, one raw part per level
    group: str  # one of GROUPS
    label: str
    unit: str
    value: float
    integer: bool
    step: float
    help: str


class VariantError(InputError):
    """A lever change that cannot be made; `key` is the Lever.key the message belongs beside
    (None: the whole form)."""

    def __init__(self, message: str, key: str | None = None):
        super().__init__(message)
        self.key = key


# ---------------------------------------------------------------------------------------------
# the levers of a scenario


def key_text(path: Path_) -> str:
    """A key path as one TOML dotted key: each part bare if it can be, else quoted and escaped."""
    return ".".join(tomlkit.key(part).as_string() for part in path)


_PATHWAY_ROUTE = {"p0": "P0 (home, no new support)", "p1": "P1 (home with reablement)",
                  "p2": "P2 (short-term bed)", "p3": "P3 (care home)"}
_DAY_NAMES = dict(zip(WEEKDAYS, ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")))
_DIVERSION = {
    "admit": ("Front door: admitted", "arrivals the front door means to admit"),
    "home_ward": ("Front door: Home Ward", "arrivals the front door means to send to the Home Ward (admitted if it is full)"),
    "assessment_home": ("Front door: assessed and home", "arrivals assessed at the front door and sent home without admission"),
    "step_up_reablement": ("Front door: step-up reablement", "arrivals sent home with reablement instead of admission"),
    "step_up_bed": ("Front door: step-up bed", "arrivals sent to a short-term bed instead of admission"),
}


def _spread_note(dist: Any) -> str:
    family = dist.family
    if family in ("lognormal", "gamma", "weibull", "beta"):
        return f"a {family}: its sd scales with the mean (the same coefficient of variation)"
    if family == "empirical":
        return "observed values: every value scales with the mean"
    if family == "exponential":
        return "an exponential: its sd is its mean"
    return "a fixed value"


def _days_step(value: float) -> float:
    return 0.1 if value < 3 else 0.5


def levers(scenario: Scenario) -> list[Lever]:
    """What a planner can change in `scenario`, in GROUPS order, with its value there. Sites and
    localities are the scenario's own; an "unlimited" capacity is no lever."""
    out: list[Lever] = []

    def add(path: Path_, group: str, label: str, unit: str, value: float, *, integer: bool = False,
            step: float = 0.01, help: str) -> None:
        out.append(Lever(key_text(path), path, group, label, unit, int(value) if integer else float(value),
                         integer, 1 if integer else step, help))

    def distribution(path: Path_, group: str, label: str, what: str) -> None:
        dist = scenario
        for part in path:
            dist = getattr(dist, part)
        add((*path, "mean"), group, label, "days", dist.mean, step=_days_step(dist.mean),
            help=f"{what}; {_spread_note(dist)}.")

    share = dict(unit="share", step=0.01)

    # Short-term beds
    for site, config in scenario.beds.sites.items():
        if math.isinf(config.beds):
            continue
        schedule = " (its dated capacity_schedule still applies)" if config.capacity_schedule else ""
        add(("beds", "sites", site, "beds"), GROUPS[0], f"Beds at {site}", "beds", config.beds, integer=True,
            help=f"Short-term beds open at {site} from the start of the run{schedule}: "
                 "more beds shorten the wait for one, in hospital or at home.")

    # Reablement
    reablement = scenario.reablement
    if not math.isinf(reablement.capacity):
        hours = reablement.capacity_unit == "hours_per_week"
        schedule = " (its dated capacity_schedule still applies)" if reablement.capacity_schedule else ""
        add(("reablement", "capacity"), GROUPS[1], "Reablement capacity (city)", "hours per week" if hours else "places",
            reablement.capacity, integer=True,
            help=(f"The city's reablement {'staff hours a week' if hours else 'places (people supported at once)'}"
                  f"{schedule}, shared among the locality teams by their reablement_share: more shortens P1 waits."))
        if scenario.localities and not hours:
            for name, places in scenario.team_capacities(reablement.capacity).items():
                add(("localities", name, TEAM_PLACES), GROUPS[1], f"Reablement places: {name}", "places", places,
                    integer=True,
                    help=f"Places in the {name} team: changing teams' places makes the city capacity their sum and "
                         "each team's reablement_share its places over that sum.")

    # Lengths of stay
    for p in ("p0", "p1", "p2", "p3"):
        distribution(("acute", "clinical_los", p), GROUPS[2], f"{p.upper()} clinical length of stay (mean)",
                     f"Days in hospital from admission to no reason to reside, for people who will need {_PATHWAY_ROUTE[p]}")
    distribution(("beds", "los"), GROUPS[2], "Short-term bed therapy stay (mean)",
                 "Days of therapy in a short-term bed before exit planning (times the site's multiplier)")
    distribution(("reablement", "duration"), GROUPS[2], "Reablement episode (mean)",
                 "Days a person is supported by a reablement team")
    distribution(("home_ward", "los"), GROUPS[2], "Home Ward stay (mean)", "Days a person stays on the Home Ward")

    # Discharge process
    for p in ("p0", "p1", "p2", "p3"):
        distribution(("acute", "discharge_process", p), GROUPS[3], f"{p.upper()} discharge process (mean)",
                     f"Days from ready to leave to able to leave (or referred) for {_PATHWAY_ROUTE[p]}")
    distribution(("beds", "discharge_process"), GROUPS[3], "Short-term bed discharge process (mean)",
                 "Days of assessment before someone can leave a short-term bed")
    add(("acute", "p0_same_day_share"), GROUPS[3], "P0 leaving on their ready day", value=scenario.acute.p0_same_day_share,
        help="The share of P0 discharges that leave on the day they are ready; the rest leave on a later day.", **share)

    # Front door and routes
    for field, value in scenario.front_door.diversion.as_dict().items():
        label, what = _DIVERSION[field]
        add(("front_door", "diversion", field), GROUPS[4], label, value=value,
            help=f"The share of {what}; the five front-door shares must sum to 1.", **share)
    add(("routes", "home_first_p2"), GROUPS[4], "Discharge to assess: P2 needs home", value=scenario.routes.home_first_p2,
        help="The share of people needing a short-term bed (P2) who go home with reablement instead.", **share)
    add(("routes", "home_first_p3"), GROUPS[4], "Discharge to assess: P3 needs to a bed", value=scenario.routes.home_first_p3,
        help="The share of people needing a care home (P3) who are assessed in a short-term bed first.", **share)
    if not math.isinf(scenario.home_ward.capacity):
        add(("home_ward", "capacity"), GROUPS[4], "Home Ward capacity", "places", scenario.home_ward.capacity, integer=True,
            help="People the Home Ward can look after at once; an arrival finding it full is admitted.")

    # Weekday working
    for table, label, what in (
        ("readiness_weekday", "Ready declared on {day}", "someone clinically fit is declared ready to leave hospital"),
        ("discharge_weekday", "Hospital discharge on {day}", "someone able to leave hospital on a later day leaves"),
    ):
        days = getattr(scenario.acute, table)
        for day in WEEKDAYS:
            add(("acute", table, day), GROUPS[5], label.format(day=_DAY_NAMES[day]), "probability", getattr(days, day),
                step=0.01, help=f"The probability that {what} on a {_DAY_NAMES[day]} (above 0, at most 1).")
    for day in WEEKDAYS:
        add(("beds", "discharge_weekday", day), GROUPS[5], f"Bed discharge on {_DAY_NAMES[day]}", "probability",
            getattr(scenario.beds.discharge_weekday, day), step=0.01,
            help=f"The probability that someone able to leave a short-term bed leaves on a {_DAY_NAMES[day]} (above 0, at most 1).")

    # Demand and growth
    arrivals = scenario.arrivals
    add(("arrivals", "rate_per_day"), GROUPS[6], "Arrivals at the front door", "per day", arrivals.rate_per_day, step=1,
        help="New 65+ arrivals a day at the start date, before diversion (seasonal and weekday factors apply).")
    if arrivals.population is None:  # with a population projection, growth comes from it
        add(("arrivals", "annual_growth"), GROUPS[6], "Demand growth", "per year", arrivals.annual_growth, step=0.005,
            help="The yearly growth of arrivals and community referrals (0.015 is 1.5% a year).")
    add(("community", "reablement_per_day"), GROUPS[6], "Step-up referrals to reablement", "per day",
        scenario.community.reablement_per_day, step=0.5,
        help="Referrals a day from GPs and neighbourhood teams straight to reablement, with no hospital stay.")
    add(("community", "bed_per_day"), GROUPS[6], "Step-up referrals to a short-term bed", "per day",
        scenario.community.bed_per_day, step=0.1,
        help="Referrals a day from GPs and neighbourhood teams straight to a short-term bed, with no hospital stay.")
    return out


# ---------------------------------------------------------------------------------------------
# applying changes


def _is_distribution(lever: Lever) -> bool:
    return lever.path[-1] == "mean"


def _is_team(lever: Lever) -> bool:
    return lever.path[0] == "localities" and lever.path[-1] == TEAM_PLACES


@dataclass
class _Applied:
    data: dict  # the parent's data with the changes
    changed: list[tuple[Lever, float]]  # in levers() order
    writes: dict[str, list[Path_]]  # Lever.key -> the key paths of the data it changed (whole values)


def _get(data: dict, path: Path_) -> Any:
    for part in path:
        data = data[part]
    return data


def _set(data: dict, path: Path_, value: Any) -> None:
    _get(data, path[:-1])[path[-1]] = value


def _scaled(dist: dict, mean: float, old: float) -> dict:
    """A distribution (as dumped) with a new mean, its spread scaled with it."""
    family = dist["family"]
    if family == "empirical":
        values = [v * mean / old for v in dist["values"]] if old else [mean] * len(dist["values"])
        return {"family": family, "values": values}
    if "sd" in dist:
        return {"family": family, "mean": mean, "sd": dist["sd"] * mean / old}
    return {"family": family, "mean": mean}


def _number(lever: Lever, value: Any, source: str) -> float:
    if isinstance(value, bool) or not isinstance(value, Real):
        raise VariantError(f"{source}: {lever.key} = {value!r}: expected a number", key=lever.key)
    value = float(value)
    return int(value) if lever.integer and value.is_integer() else value


def _apply(parent: Scenario, changes: Mapping[str, float], source: str) -> _Applied:
    available = {lever.key: lever for lever in levers(parent)}
    for key in changes:
        if key not in available:
            raise VariantError(f"{source}: {key}: unknown lever; expected one of the {len(available)} levers of "
                               f"scenario {parent.meta.name!r}")
    changed = []
    for lever in available.values():  # levers() order: messages and files follow the form
        if lever.key in changes:
            value = _number(lever, changes[lever.key], source)
            if not (value == lever.value or math.isclose(value, lever.value, rel_tol=1e-12, abs_tol=0.0)):
                changed.append((lever, value))
    data = parent.model_dump(mode="python")
    writes: dict[str, list[Path_]] = {}
    teams = [(lever, value) for lever, value in changed if _is_team(lever)]
    city = [lever for lever, _ in changed if lever.path == ("reablement", "capacity")]
    if teams and city:
        named = ", ".join(lever.key for lever, _ in teams)
        raise VariantError(f"{source}: reablement.capacity and {named}: both changed; change the city's reablement "
                           "capacity or its teams' places, not both", key=city[0].key)
    for lever, value in changed:
        if _is_team(lever):
            continue
        if _is_distribution(lever):
            where = lever.path[:-1]
            _set(data, where, _scaled(_get(data, where), value, float(lever.value)))
        else:
            where = lever.path
            _set(data, where, value)
        # a weekday table is written whole: a child table replaces nothing the parent's defaults would fill
        weekday = len(where) == 3 and where[1].endswith("_weekday")
        writes[lever.key] = [where[:-1] if weekday else where]
    if teams:
        _apply_teams(parent, data, teams, writes, source)
    return _Applied(data, changed, writes)


def _apply_teams(parent: Scenario, data: dict, teams: list[tuple[Lever, float]], writes: dict[str, list[Path_]],
                 source: str) -> None:
    places = dict(parent.team_capacities(parent.reablement.capacity))
    for lever, value in teams:
        if not (isinstance(value, int) and value >= 0):
            raise VariantError(f"{source}: {lever.key} = {value!r}: expected a whole number of places >= 0", key=lever.key)
        places[lever.path[1]] = value
    total = sum(places.values())
    data["reablement"]["capacity"] = total
    paths: list[Path_] = [("reablement", "capacity")]
    if total > 0:  # no places at all: every team has none whatever the shares, so they stay as they were
        for name, count in places.items():
            data["localities"][name]["reablement_share"] = count / total
            paths.append(("localities", name, "reablement_share"))
    for lever, _ in teams:
        writes[lever.key] = paths


def _error_key(exc: ValidationError, applied: _Applied) -> str | None:
    """The changed lever the (first) error belongs to: its location lies inside what the lever
    wrote or contains it. The deepest such match wins, then the lever whose own key shares most
    with the location (of two weekdays in one table, the day named), then levers() order."""
    loc = tuple(str(part) for part in exc.errors(include_url=False)[0]["loc"]
                if str(part) not in FAMILIES and not str(part).startswith("function-"))
    if not loc:  # a check on the whole scenario: the form's
        return None
    best, best_score = None, (0, 0)
    for lever, _ in applied.changed:
        depth = max((min(len(loc), len(path)) for path in applied.writes.get(lever.key, ())
                     if _prefix(loc, path) == min(len(loc), len(path))), default=0)
        score = (depth, _prefix(loc, lever.path))
        if depth and score > best_score:
            best, best_score = lever.key, score
    return best


def _prefix(a: Path_, b: Path_) -> int:
    """How many leading parts two key paths share."""
    n = 0
    for x, y in zip(a, b):
        if x != y:
            break
        n += 1
    return n


def _validated(applied: _Applied, source: str) -> Scenario:
    try:
        return Scenario.model_validate(applied.data)
    except ValidationError as exc:
        raise VariantError(describe_error(Path(source), exc, applied.data), key=_error_key(exc, applied)) from None


def apply_levers(parent: Scenario, changes: Mapping[str, float], *, source: str = "variant.toml") -> Scenario:
    """`parent` with the levers `changes` names (Lever.key -> new value) changed, validated.

    A value equal to the parent's is no change. An unknown key, a value that is not a number,
    the city's reablement capacity changed together with its teams' places, or a scenario that
    does not validate is a VariantError in one line, as `icsim validate` would word it for the
    file `source`, with `.key` the lever it belongs beside (None: the whole form)."""
    applied = _apply(parent, changes, source)
    if not applied.changed:
        return parent
    return _validated(applied, source)


# ---------------------------------------------------------------------------------------------
# the variant file


def safe_name(name: str) -> str:
    """A variant's meta.name and file name: one path component, as `icsim calibrate` makes a
    calibration's name (separators and control characters become `_`), at most MAX_NAME_LENGTH
    characters; an empty name, "." or ".." becomes "variant"."""
    name = re.sub(r"[\\/\x00-\x1f\x7f]", "_", str(name)).strip()[:MAX_NAME_LENGTH].strip()
    return name if name not in ("", ".", "..") else DEFAULT_NAME


def _one_line(text: str) -> str:
    return str(InputError(text))  # control characters escaped: a comment stays one line


def _shown(value: float) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def _toml_item(value: Any, comment: str | None = None):
    if isinstance(value, Mapping):
        item = tomlkit.inline_table()
        for k, v in value.items():
            item.append(k, _toml_item(v))
    elif isinstance(value, list):
        item = tomlkit.array()
        item.extend(value)
    else:
        item = tomlkit.item(value)
    if comment:
        item.comment(_one_line(comment))
    return item


def _position(data: dict, path: Path_) -> tuple[int, ...]:
    """Where a key path lies in the scenario's data, as the index of each part in its table."""
    where = []
    for part in path:
        where.append(list(data).index(part))
        data = data[part]
    return tuple(where)


def variant_toml(parent_ref: str, parent: Scenario, changes: Mapping[str, float], *, name: str,
                 description: str = "") -> str:
    """The variant as TOML text: a comment header, `extends = parent_ref`, [meta] and only the
    changed tables (a distribution written whole, team places as reablement.capacity and every
    locality's reablement_share). `parent_ref` is written as given: a shipped scenario's name
    or a file path relative to where the file will be saved. Raises VariantError as apply_levers."""
    if not isinstance(parent_ref, str) or not parent_ref.strip():
        raise InputError(f"extends = {parent_ref!r}: expected the parent scenario's name or file")
    name = safe_name(name)
    source = f"{name}.toml"
    applied = _apply(parent, changes, source)
    _validated(applied, source)
    doc = tomlkit.document()
    listed = "; ".join(f"{lever.key} {_shown(lever.value)} -> {_shown(value)}" for lever, value in applied.changed)
    called = "" if parent.meta.name == parent_ref else f" ({parent.meta.name})"
    for line in (f"{name}: a variant of {parent_ref}{called}, made by icsim from lever changes.",
                 f"changes: {listed or 'none'}",
                 "Everything else is the parent's (extends). A distribution is written whole, its sd scaled with",
                 "its mean; team places are written as reablement.capacity and each locality's reablement_share."):
        doc.add(tomlkit.comment(_one_line(line)))
    doc.add("extends", parent_ref)
    doc.add(tomlkit.nl())
    meta = tomlkit.table()
    meta.add("name", name)
    meta.add("description", str(description))
    doc.add("meta", meta)

    # the values to write, nested by key path, each with a comment saying what it was
    notes: dict[Path_, list[str]] = {}
    for lever, _ in applied.changed:
        for path in applied.writes[lever.key]:
            notes.setdefault(path, [])
            if not _is_team(lever):
                notes[path].append(f"{lever.label}: was {_shown(lever.value)} in {parent.meta.name}")
    if any(_is_team(lever) for lever, _ in applied.changed):
        places = Scenario.model_validate(applied.data).team_capacities(applied.data["reablement"]["capacity"])
        notes[("reablement", "capacity")] = [f"the sum of the teams' places (was {_shown(parent.reablement.capacity)} "
                                             f"in {parent.meta.name})"]
        for team, count in places.items():
            if ("localities", team, "reablement_share") in notes:
                notes[("localities", team, "reablement_share")] = [f"{count} of {sum(places.values())} places"]
    tree: dict = {}
    for path in sorted(notes, key=lambda path: _position(applied.data, path)):  # the scenario's order
        node = tree
        for part in path[:-1]:
            node = node.setdefault(part, {})
        node[path[-1]] = _get(applied.data, path)

    def walk(node: dict, path: Path_, container) -> None:
        tables = []
        for key, value in node.items():
            here = (*path, key)
            if isinstance(value, dict) and "family" not in value and here not in notes:
                tables.append((key, value, here))
            else:
                container.add(key, _toml_item(value, "; ".join(notes.get(here, []))))
        for key, value, here in tables:
            own = any(not isinstance(v, dict) or "family" in v or (*here, k) in notes for k, v in value.items())
            table = tomlkit.table(is_super_table=not own)
            container.add(key, table)
            walk(value, here, table)

    walk(tree, (), doc)
    return tomlkit.dumps(doc)


def save_variant(folder: Path, parent_ref: str, parent: Scenario, changes: Mapping[str, float], *, name: str,
                 description: str = "") -> Path:
    """Write the variant to `<folder>/<safe name>.toml` (atomically) and return its path.

    Refused (InputError) before anything is written: a file of that name already there, a
    parent that `extends = parent_ref` would not find from `folder`, a file that would not load
    to exactly `apply_levers(parent, changes)` (the parent file changed since it was read), or
    a change apply_levers refuses (VariantError)."""
    folder = Path(folder)
    text = variant_toml(parent_ref, parent, changes, name=name, description=description)
    path = folder / f"{safe_name(name)}.toml"
    if path.resolve().parent != folder.resolve():  # safe_name makes one component: never reached
        raise InputError(f"{path}: outside {folder}; choose another name")
    if path.exists() or path.is_symlink():
        raise InputError(f"{path}: already exists; choose another name")
    target = extends_file(path, parent_ref)
    if not target.is_file():
        raise InputError(f"{path}: extends = {parent_ref!r}: no such file in {folder} and no shipped scenario of that name")
    expected = apply_levers(parent, changes, source=str(path))
    loaded = load_scenario_text(path, text)
    if loaded.model_dump(exclude={"meta"}) != expected.model_dump(exclude={"meta"}):
        raise InputError(f"{path}: extends = {parent_ref!r} no longer gives the scenario the changes were made to "
                         "(changed since it was read?); reload it and make the changes again")
    folder.mkdir(parents=True, exist_ok=True)
    write_atomic(path, text)
    return path


__all__ = ["GROUPS", "Lever", "VariantError", "apply_levers", "levers", "safe_name", "save_variant", "variant_toml"]
