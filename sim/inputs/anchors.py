"""Public anchors: the published figures the model is checked against (calibration/anchors.toml).

Each anchor names a published figure and its source, what the model compares with it (a KPI
level in one scenario, a paired difference or relative change between two, the benefit of a
comparison, or nothing: "not_modelled"), and a numeric target range where one can be stated.
The anchors are data: the validation page (sim/outputs/validation.py) is computed from them and
from runs, never typed. Bad input raises InputError with one line naming the file, the anchor
and the key.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, StringConstraints, ValidationError, model_validator

from ..errors import InputError
from .reading import describe_error, read_toml
from .scenario import Frozen

KINDS = ("level", "paired_difference", "relative_change", "benefit", "not_modelled")
STATISTICS = (
    "mean",  # the KPI over the reported period (per replication)
    "spread",  # max - min over the KPI's scopes other than "total" (per replication); scope = "*"
    "max_week",  # the highest weekly value of the KPI's weekly series (per replication)
)
RULES = (
    "mean",  # meets when the model's mean lies in [low, high]
    "interval",  # meets when the whole 95% interval lies strictly inside (low, high)
)
FORMATS = ("days", "share", "percent", "count", "money", "number")
BENEFIT_TABLES = ("benefit", "run_rate")  # compare's flow-based net, or its run-rate total
ALL_SITES = "*"

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]


def parse_scale(scale: float | str) -> float:
    """A scale factor: a number, or a fraction written as text ("365/7")."""
    if isinstance(scale, str):
        try:
            return float(Fraction(scale.replace(" ", "")))
        except (ValueError, ZeroDivisionError):
            raise ValueError(f"scale = {scale!r}: expected a number or a fraction such as \"365/7\"") from None
    return float(scale)


class Anchor(Frozen):
    id: Text
    figure: Text  # the published figure, in words, as a planner would quote it
    source: Text  # short source ids, e.g. "[001] [002]", "SitRep", "DRD" (docs/sources.md)
    kind: Literal[KINDS]  # type: ignore[valid-type]
    scenarios: list[Text] = Field(default_factory=list)  # level: [scenario]; the others: [baseline, scenario]
    kpi: str = ""  # KPI id (sim.experiment.kpis); unknown ids give "not available", never an error
    scope: str = "total"
    future: bool = False  # the KPI is not in the registry yet (the page says "not available" until it is)
    scale: float | str = 1.0  # multiplies every replication's value, e.g. "365/7" turns per week into per year
    statistic: Literal[STATISTICS] = "mean"  # type: ignore[valid-type]
    table: Literal[BENEFIT_TABLES] = "benefit"  # type: ignore[valid-type]  # kind "benefit" only
    rule: Literal[RULES] = "mean"  # type: ignore[valid-type]
    low: float | None = None  # target range, in the scaled unit (proportions as fractions)
    high: float | None = None
    format: Literal[FORMATS] | None = None  # type: ignore[valid-type]  # how figures are written; inferred if absent
    unit: str = ""  # unit text after counts, e.g. "admissions/year"
    inputs: str = ""  # the model inputs that drive the compared figure
    note: str = ""  # why a target cannot be met honestly; for not_modelled, why it is not modelled

    @property
    def factor(self) -> float:
        return parse_scale(self.scale)

    @property
    def modelled(self) -> bool:
        return self.kind != "not_modelled"

    @property
    def paired(self) -> bool:
        return self.kind in ("paired_difference", "relative_change", "benefit")

    @model_validator(mode="after")
    def _consistent(self):
        parse_scale(self.scale)
        if not self.modelled:
            if not self.note:
                raise ValueError("kind = 'not_modelled': expected a note saying why")
            return self
        wanted = 2 if self.paired else 1
        if len(self.scenarios) != wanted:
            raise ValueError(f"scenarios = {self.scenarios}: expected {wanted} name(s) for kind {self.kind!r}"
                             + (" (baseline first)" if wanted == 2 else ""))
        if self.kind != "benefit" and not self.kpi:
            raise ValueError(f"kind = {self.kind!r}: expected a kpi")
        if self.low is None and self.high is None:
            raise ValueError("expected a target: low, high or both")
        if self.low is not None and self.high is not None and self.low > self.high:
            raise ValueError(f"low = {self.low:g}, high = {self.high:g}: expected low <= high")
        if (self.statistic == "spread") != (self.scope == ALL_SITES):
            raise ValueError(f"statistic = {self.statistic!r}, scope = {self.scope!r}: "
                             f"expected scope = {ALL_SITES!r} exactly with statistic 'spread'")
        return self


def load_anchors(path: Path) -> tuple[Anchor, ...]:
    """The anchors of a TOML file ([[anchor]] tables), validated; ids must be unique."""
    path = Path(path)
    data = read_toml(path)
    entries = data.get("anchor")
    if not isinstance(entries, list) or not entries:
        raise InputError(f"{path}: expected one or more [[anchor]] tables")
    anchors, seen = [], set()
    for i, entry in enumerate(entries):
        name = entry.get("id", f"#{i + 1}") if isinstance(entry, dict) else f"#{i + 1}"
        try:
            anchor = Anchor.model_validate(entry)
        except ValidationError as exc:
            raise InputError(describe_error(f"{path}: anchor {name}", exc, entry)) from None
        if anchor.id in seen:
            raise InputError(f"{path}: anchor id {anchor.id!r} appears twice; expected unique ids")
        seen.add(anchor.id)
        anchors.append(anchor)
    return tuple(anchors)
