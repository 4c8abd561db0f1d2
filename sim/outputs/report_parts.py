"""The pieces the report's templates show, as plain data: charts (PNG and SVG), KPI names with
their ids and definitions, tables whose cells are text already written as people read them
(sim/outputs/display.py), and the answer a compare report opens with. The templates escape every
text on output."""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass, field

import pandas as pd
from matplotlib import rc_context

from ..experiment.benefit import largest_drivers
from ..experiment.kpis import KPI_BY_ID, KPI_NAMES
from .display import kpi_difference, money, signed
from .display import kpi_value as fmt
from .report_folder import Folder


@dataclass
class Chart:
    slug: str
    png: bytes
    svg: bytes
    alt: str

    @property
    def src(self) -> str:
        """The PNG as a data URI: the report needs no file beside it."""
        return "data:image/png;base64," + base64.b64encode(self.png).decode("ascii")


@dataclass
class Unavailable:
    """A chart the folder's KPIs do not give: the report says so in its place."""

    what: str


class Charts:
    """The report's charts in the order they appear (their slugs are numbered so)."""

    def __init__(self):
        self.items: list[Chart] = []

    def add(self, slug: str, figure, alt: str) -> Chart:
        png, svg = io.BytesIO(), io.BytesIO()
        figure.savefig(png, format="png", dpi=100)
        # no drawing date and a fixed id salt: the same folder gives the same SVG bytes every time
        with rc_context({"svg.hashsalt": "icsim"}):
            figure.savefig(svg, format="svg", metadata={"Date": None})
        chart = Chart(f"{len(self.items) + 1:02d}-{slug}", png.getvalue(), svg.getvalue(), alt)
        self.items.append(chart)
        return chart


@dataclass
class Named:
    """A KPI as a table cell or list item shows it: its name (and scope), "id: definition" as a hover."""

    text: str
    hover: str


def label(kpi: str) -> str:
    """A KPI's name as it reads inside a sentence (KPI_NAMES; an unknown id with spaces)."""
    return KPI_NAMES.get(kpi, kpi.replace("_", " "))


def named(kpi: str, scope: str = "total") -> Named:
    name = label(kpi)
    text = name[:1].upper() + name[1:] + ("" if scope == "total" else f" ({scope.replace('_', ' ')})")
    return Named(text, f"{kpi}: {KPI_BY_ID[kpi].definition}" if kpi in KPI_BY_ID else kpi)


@dataclass
class Row:
    cells: list  # str, or Named for a KPI
    kpi: str | None = None  # a KPI's row carries data-kpi and data-scope
    scope: str | None = None


@dataclass
class Table:
    head: list[str]
    rows: list[Row] = field(default_factory=list)
    numeric_from: int = 1  # cells from this column on are figures (right-aligned)


def table(head: list[str], rows: list[list], numeric_from: int = 1) -> Table:
    return Table(head, [Row(cells) for cells in rows], numeric_from)


def _with_ci(frame: pd.DataFrame, by: str, name: str, kpi: str, scope: str, value: str, unit: str) -> str:
    """"value [low – high]" of the row for (name, kpi, scope), or "–" if there is none."""
    found = frame[(frame[by] == name) & (frame["kpi"] == kpi) & (frame["scope"] == scope)]
    if found.empty:
        return "–"
    r = found.iloc[0]
    shown = kpi_difference if value == "delta" else fmt
    return f"{shown(r[value], unit)} [{shown(r['ci95_low'], unit)} to {shown(r['ci95_high'], unit)}]"


def kpi_table(folder: Folder, pairs: list[tuple[str, str]]) -> Table | None:
    """Each (kpi, scope): mean with 95% CI (run), or baseline and scenario with CIs and the
    paired difference (compare); None if the folder has none of them."""
    if folder.kind == "run":
        head = ["KPI", "unit", "mean", "95% CI", "P10–P90 of replications"]
    else:
        head = ["KPI", "unit", *(f"{s} mean [95% CI]" for s in folder.series),
                *(f"{s} − {folder.series[0]} [paired 95% CI]" for s in folder.series[1:])]
    shown = Table(head, numeric_from=2)
    for kpi, scope in pairs:
        unit = KPI_BY_ID[kpi].unit if kpi in KPI_BY_ID else ""
        cells = [named(kpi, scope), "%" if unit == "proportion" else unit]
        if folder.kind == "run":
            row = folder.summary[(folder.summary["kpi"] == kpi) & (folder.summary["scope"] == scope)]
            if row.empty:
                continue
            r = row.iloc[0]
            cells += [fmt(r["mean"], unit), f"{fmt(r['ci95_low'], unit)} – {fmt(r['ci95_high'], unit)}",
                      f"{fmt(r['p10'], unit)} – {fmt(r['p90'], unit)}"]
        else:
            cells += [_with_ci(folder.stats, "series", series, kpi, scope, "mean", unit) for series in folder.series]
            cells += [_with_ci(folder.deltas, "scenario", series, kpi, scope, "delta", unit) for series in folder.series[1:]]
            if all(c == "–" for c in cells[2:]):
                continue
        shown.rows.append(Row(cells, kpi, scope))
    return shown if shown.rows else None


# ---------------------------------------------------------------------------------------------
# The answer: the first screen of a compare report

# the flow changes the answer states, in this order
ANSWER_KPIS = ("nr2r_los_days", "p1_wait_days", "p2_wait_days", "bed_los_days", "admissions_per_week",
               "permanent_care_admissions_per_year")


def component(name: str) -> str:
    """A benefit component as the answer names it."""
    return {"acute_nr2r_bed_days": "acute bed days after no reason to reside", "long_term_care": "care-home placements",
            "homecare_hours": "homecare hours", "short_term_bed_days": "short-term bed days",
            "admissions_avoided": "admissions avoided"}.get(name, name.replace("_", " "))


def meaning(low: float, high: float) -> str:
    """What a net benefit's 90% interval says, in words."""
    if low > 0:
        return "It saves money: the whole 90% interval is above zero."
    if high < 0:
        return "It costs more than it saves: the whole 90% interval is below zero."
    return "It may save or cost money: the 90% interval includes zero."


def answers(folder: Folder) -> list[dict]:
    """The compare report's first screen, per scenario: the net benefit with its interval, the
    largest drivers, the people, and the flow changes with units (none for a run folder)."""
    if folder.kind != "compare" or folder.benefit is None:
        return []
    out = []
    for name in folder.series[1:]:
        rows = folder.benefit[folder.benefit["scenario"] == name]
        net = rows[rows["component"] == "net"]
        if net.empty:
            continue
        answer = {"scenario": name, "baseline": folder.series[0],
                  "net": {k: money(net.iloc[0][k]) for k in ("central", "low", "high", "year_p10", "year_p90")},
                  "meaning": meaning(net.iloc[0]["low"], net.iloc[0]["high"]),
                  "drivers": [(component(r.component), money(r.central)) for r in largest_drivers(rows).itertuples()],
                  "people": [], "changes": []}
        if folder.people is not None:
            answer["people"] = [(r.definition, signed(r.change))
                                for r in folder.people[folder.people["scenario"] == name].itertuples()]
        for kpi in ANSWER_KPIS:
            found = folder.deltas[(folder.deltas["scenario"] == name) & (folder.deltas["kpi"] == kpi)
                                  & (folder.deltas["scope"] == "total")]
            if found.empty:
                continue
            r = found.iloc[0]
            unit = KPI_BY_ID[kpi].unit
            answer["changes"].append({
                "kpi": named(kpi), "baseline": fmt(r["baseline"], unit), "scenario": fmt(r["scenario_value"], unit),
                "unit": "" if unit == "proportion" else unit, "difference": kpi_difference(r["delta"], unit),
                "clear": not (r["ci95_low"] <= 0 <= r["ci95_high"])})
        out.append(answer)
    return out
