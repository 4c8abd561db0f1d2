"""Unit-cost table for the financial-benefit layer, loaded from TOML and validated strictly.

A cost table holds, for every unit cost, a central value with a low and high, its unit, its
price year and source, and the inflation index that converts it to the table's target price
year; plus labelled assumptions (non-cost parameters) and the index levels themselves. Each
benefit component names the cost item it uses and the unit it needs; an item in another unit
is rejected ("mixing units"), so a per-episode or per-visit cost can never be used where a
per-place-day cost is needed. Bad input raises InputError with one line naming the file, the
key path and the value. See docs/benefit.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, StringConstraints, ValidationError, model_validator

from ..errors import InputError
from .library import DEFAULT_COSTS, LIBRARY
from .reading import describe_error, read_toml
from .scenario import Frozen

DEFAULT_COSTS_PATH = LIBRARY / DEFAULT_COSTS

UNITS = (
    "bed_day",  # an occupied bed for a day (acute or intermediate care)
    "admission",  # a non-elective spell
    "care_home_week",  # a week of a permanent care-home placement
    "homecare_hour",  # a contact hour of commissioned home care
    "funded_bed_day",  # a funded short-term bed for a day, used or not
    "reablement_place_day",  # a funded reablement place for a day: informative only (see reablement_episode)
    "virtual_ward_place_day",  # a funded Home Ward (virtual ward) place for a day, used or not
    "assessment",  # per person assessed: front-door assessment (CDAT), as done or as funded places deliver
    "reablement_episode",  # per case: funded reablement places are costed as the episodes they deliver
    "visit",  # per contact: informative only; no component accepts it
    "occupied_virtual_ward_day",  # per occupied virtual-ward day: informative only
)
Unit = Literal[UNITS]  # type: ignore[valid-type]
INDICES = ("nhscii", "pss")

# component -> (default cost item, unit it needs)
COMPONENT_COSTS: dict[str, tuple[str, str]] = {
    "acute_nr2r_bed_days": ("acute_nctr_bed_day", "bed_day"),
    "admissions_avoided": ("nel_admission", "admission"),
    "readmissions": ("nel_admission", "admission"),
    "short_term_bed_days": ("ic_bed_day", "bed_day"),
    "long_term_care": ("care_home_week", "care_home_week"),
    "homecare_hours": ("homecare_hour", "homecare_hour"),
    "funded_capacity_beds": ("funded_bed_day", "funded_bed_day"),
    "funded_capacity_reablement": ("reablement_episode", "reablement_episode"),
    "funded_capacity_home_ward": ("virtual_ward_place_day", "virtual_ward_place_day"),
    "funded_capacity_assessment": ("front_door_assessment", "assessment"),
}
REQUIRED_ASSUMPTIONS = ("care_home_stay_years", "homecare_package_weeks")
# assumptions a table may leave out, with their defaults: the HM Treasury Green Book's discount
# rate for costs and benefits over the first 30 years ([GreenBook-2022], Table 8)
OPTIONAL_ASSUMPTIONS = {"discount_rate": 0.035}

FinancialYear = Annotated[str, StringConstraints(pattern=r"^\d{4}/\d{2}$")]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
NonNegative = Annotated[float, Field(ge=0)]
Positive = Annotated[float, Field(gt=0)]
ComponentName = Literal[tuple(COMPONENT_COSTS)]  # type: ignore[valid-type]


class CostItem(Frozen):
    value: NonNegative
    low: NonNegative
    high: NonNegative
    unit: Unit
    price_year: FinancialYear
    index: Literal[INDICES]  # type: ignore[valid-type]
    source: Text
    note: str = ""

    @model_validator(mode="after")
    def _ordered(self):
        if not self.low <= self.value <= self.high:
            raise ValueError(
                f"low = {self.low:g}, value = {self.value:g}, high = {self.high:g}: expected low <= value <= high"
            )
        return self


class Assumption(Frozen):
    value: NonNegative
    unit: Text
    source: Text
    note: str = ""


class Index(Frozen):
    source: Text
    levels: dict[FinancialYear, Positive] = Field(min_length=1)
    assumed: dict[FinancialYear, Text] = Field(default_factory=dict)  # levels that are assumptions, with the reason


class CostFile(Frozen):
    target_price_year: FinancialYear
    indices: dict[Literal[INDICES], Index]  # type: ignore[valid-type]
    costs: dict[str, CostItem]
    assumptions: dict[str, Assumption]
    use: dict[ComponentName, str] = Field(default_factory=dict)  # component -> cost item, overriding COMPONENT_COSTS


@dataclass(frozen=True)
class UnitCost:
    """One cost item converted to the target price year."""

    key: str
    low: float
    central: float
    high: float
    unit: str
    price_year: str  # the target price year (after conversion)
    original_price_year: str
    factor: float  # target index level / price-year index level
    source: str


@dataclass(frozen=True)
class CostTable:
    """A validated cost table; `unit_cost(component)` gives the component's cost in target prices."""

    file: CostFile
    path: str

    @property
    def price_year(self) -> str:
        return self.file.target_price_year

    def factor(self, index: str, price_year: str) -> float:
        levels = self.file.indices[index].levels
        return levels[self.file.target_price_year] / levels[price_year]

    def item(self, key: str) -> UnitCost:
        c = self.file.costs[key]
        f = self.factor(c.index, c.price_year)
        return UnitCost(key, c.low * f, c.value * f, c.high * f, c.unit, self.price_year, c.price_year, f, c.source)

    def item_key(self, component: str) -> str:
        return self.file.use.get(component, COMPONENT_COSTS[component][0])

    def unit_cost(self, component: str) -> UnitCost:
        """The cost of `component`, checked against the unit it needs (mixing units is an error)."""
        key = self.item_key(component)
        cost = self.item(key)
        needed = COMPONENT_COSTS[component][1]
        if cost.unit != needed:  # load_costs already refuses this; kept for tables built by hand
            raise InputError(f"{self.path}: costs.{key}.unit = {cost.unit!r}: component {component} needs {needed!r} (mixing units)")
        return cost

    def assumption(self, name: str) -> float:
        if name not in self.file.assumptions and name in OPTIONAL_ASSUMPTIONS:
            return OPTIONAL_ASSUMPTIONS[name]
        return self.file.assumptions[name].value


def load_costs(path: str | Path = DEFAULT_COSTS_PATH) -> CostTable:
    """Read and validate a cost table (TOML). Raises InputError with a one-line message."""
    path = Path(path)
    return costs_from_dict(read_toml(path), str(path))


def costs_from_dict(data: dict, source: str = "<dict>") -> CostTable:
    try:
        file = CostFile.model_validate(data)
    except ValidationError as exc:
        raise InputError(describe_error(Path(source), exc, data)) from None
    _check(file, source)
    return CostTable(file, source)


def _check(file: CostFile, source: str) -> None:
    """Checks across tables: index years present, components' items present and in their unit."""
    target = file.target_price_year
    for name in INDICES:
        if name not in file.indices:
            raise InputError(f"{source}: indices.{name}: missing required key")
        index = file.indices[name]
        if target not in index.levels:
            raise InputError(
                f"{source}: target_price_year = {target!r}: no {name} index level for {target} "
                f"(indices.{name}.levels covers {_span(index.levels)})"
            )
        for year in index.assumed:
            if year not in index.levels:
                raise InputError(f"{source}: indices.{name}.assumed.{year}: no level for this year in indices.{name}.levels")
    for key, cost in file.costs.items():
        levels = file.indices[cost.index].levels
        if cost.price_year not in levels:
            raise InputError(
                f"{source}: costs.{key}.price_year = {cost.price_year!r}: no {cost.index} index level for "
                f"{cost.price_year} (indices.{cost.index}.levels covers {_span(levels)}); expected a year the index covers"
            )
    for component, (default_key, needed) in COMPONENT_COSTS.items():
        key = file.use.get(component, default_key)
        where = f"use.{component}" if component in file.use else f"costs.{key}"
        if key not in file.costs:
            raise InputError(f"{source}: {where}: cost item {key!r} missing (needed by component {component}, unit {needed!r})")
        unit = file.costs[key].unit
        if unit != needed:
            raise InputError(
                f"{source}: costs.{key}.unit = {unit!r}: component {component} needs {needed!r}; "
                f"mixing units is not allowed (e.g. a per-episode or per-visit cost where a per-place-day cost is needed)"
            )
    for name in REQUIRED_ASSUMPTIONS:
        if name not in file.assumptions:
            raise InputError(f"{source}: assumptions.{name}: missing required key")


def _span(levels: dict[str, float]) -> str:
    years = sorted(levels)
    return f"{years[0]} to {years[-1]}" if years else "no years"


__all__ = ["COMPONENT_COSTS", "DEFAULT_COSTS_PATH", "UNITS", "CostTable", "UnitCost", "costs_from_dict", "load_costs"]
