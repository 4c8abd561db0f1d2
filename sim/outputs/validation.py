"""The validation page: published anchors against model runs, as rows with a verdict and as
markdown (docs/validation.md, written by scripts/validation.py).

Pure: `evaluate` takes the anchors (sim.inputs.anchors) and the results of a comparison
(`Results`: replications and weekly frames with a scenario column, and compare's benefit and
run-rate tables) and returns one `Row` per anchor; `render` turns rows into markdown. Nothing
here runs a model or reads a file.

Figures per anchor: a level is the mean over replications with its 95% t-interval; a paired
difference or relative change is taken within each replication (common random numbers) and
summarised by the paired 95% t-interval; `scale` multiplies each replication's value first. The
interval holds replication noise only, not the uncertainty in the inputs. A KPI, scope or
scenario missing from the results gives the verdict "not available", never an error.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..experiment.stats import t_interval
from ..inputs.anchors import ALL_SITES, Anchor

NAN = float("nan")
MEETS, OUTSIDE, NOT_AVAILABLE, NOT_MODELLED = "meets", "outside", "not available", "not modelled"
VERDICTS = (MEETS, OUTSIDE, NOT_AVAILABLE, NOT_MODELLED)
MINUS = "\u2212"


@dataclass(frozen=True)
class Results:
    """What the anchors are compared with. Every frame has a `scenario` column, as compare's
    tables do: replications (scenario, replication, kpi, scope, unit, value), weekly (scenario,
    replication, week, kpi, scope, unit, value), benefit (compare's "benefit" table: scenario,
    component, low, central, high, ...) and run_rate (compare's "run_rate": scenario, item, ...)."""

    replications: pd.DataFrame
    weekly: pd.DataFrame = field(default_factory=pd.DataFrame)
    benefit: pd.DataFrame = field(default_factory=pd.DataFrame)
    run_rate: pd.DataFrame = field(default_factory=pd.DataFrame)

    @classmethod
    def from_comparison(cls, comparison, tables: dict[str, pd.DataFrame]) -> Results:
        """From a Comparison (sim.experiment.compare) and the tables compare writes."""
        runs = {comparison.baseline.scenario.meta.name: comparison.baseline, **comparison.scenarios}
        weekly = pd.concat([r.weekly.assign(scenario=name) for name, r in runs.items()], ignore_index=True)
        return cls(tables["replications"], weekly, tables.get("benefit", pd.DataFrame()),
                   tables.get("run_rate", pd.DataFrame()))

    def scenarios(self) -> set[str]:
        frame = self.replications
        return set(frame["scenario"].unique()) if "scenario" in frame.columns else set()


@dataclass(frozen=True)
class Row:
    anchor: Anchor
    verdict: str
    value: float = NAN  # the model figure (scaled): mean, mean difference or benefit central
    low: float = NAN  # its 95% interval (or the benefit's low-high range)
    high: float = NAN
    baseline: float = NAN  # paired kinds: mean of each side (scaled), for reading the change
    scenario: float = NAN
    replications: int = 0
    distance: float = NAN  # how far outside the target (> 0), in the scaled unit
    side: str = ""  # "above" or "below" the target
    reason: str = ""  # why not available
    kpi_unit: str = ""  # the KPI's unit in the results (before scaling)


# ---------------------------------------------------------------------------------------------
# figures per replication


def _values(frame: pd.DataFrame, scenario: str, kpi: str, scope: str) -> pd.Series:
    """One KPI's value per replication (index), or an empty series."""
    if frame.empty or not {"scenario", "kpi", "scope", "replication", "value"} <= set(frame.columns):
        return pd.Series(dtype=float)
    rows = frame[(frame["scenario"] == scenario) & (frame["kpi"] == kpi)]
    if scope == ALL_SITES:
        sites = rows[rows["scope"] != "total"]
        if sites.empty:
            return pd.Series(dtype=float)
        by_site = sites.pivot_table(index="replication", columns="scope", values="value", aggfunc="first")
        return (by_site.max(axis=1, skipna=False) - by_site.min(axis=1, skipna=False)).astype(float)
    rows = rows[rows["scope"] == scope]
    return rows.groupby("replication")["value"].first().astype(float)


def _series(anchor: Anchor, results: Results, scenario: str) -> pd.Series:
    if anchor.statistic == "max_week":
        frame = results.weekly
        if frame.empty or not {"scenario", "kpi", "scope", "replication", "value"} <= set(frame.columns):
            return pd.Series(dtype=float)
        rows = frame[(frame["scenario"] == scenario) & (frame["kpi"] == anchor.kpi) & (frame["scope"] == anchor.scope)]
        return rows.groupby("replication")["value"].max().astype(float) * anchor.factor
    return _values(results.replications, scenario, anchor.kpi, anchor.scope) * anchor.factor


def _unit(results: Results, kpi: str) -> str:
    frame = results.replications
    if "unit" not in frame.columns:
        return ""
    units = frame.loc[frame["kpi"] == kpi, "unit"]
    return str(units.iloc[0]) if len(units) else ""


def _finite(values: pd.Series) -> pd.Series:
    return values[np.isfinite(values.to_numpy(dtype=float))]


# ---------------------------------------------------------------------------------------------
# verdicts


def _unavailable(anchor: Anchor, reason: str) -> Row:
    return Row(anchor, NOT_AVAILABLE, reason=reason)


def judge(anchor: Anchor, value: float, low: float, high: float) -> tuple[str, float, str]:
    """(verdict, distance, side) of a model figure against the anchor's target.

    Rule "mean": meets when low <= value <= high (missing bounds are open); otherwise the
    distance from the value to the nearest bound. Rule "interval": meets when the whole
    interval lies strictly inside the target; otherwise the distance by which its end passes
    the bound (e.g. the upper end of a difference that should be below zero)."""
    if anchor.rule == "interval":
        if anchor.high is not None and not high < anchor.high:
            return OUTSIDE, high - anchor.high, "above"
        if anchor.low is not None and not low > anchor.low:
            return OUTSIDE, anchor.low - low, "below"
        return MEETS, NAN, ""
    if anchor.high is not None and value > anchor.high:
        return OUTSIDE, value - anchor.high, "above"
    if anchor.low is not None and value < anchor.low:
        return OUTSIDE, anchor.low - value, "below"
    return MEETS, NAN, ""


def evaluate_one(anchor: Anchor, results: Results, known_kpis: tuple[str, ...] | None = None) -> Row:
    """One anchor against the results (see the module docstring)."""
    if not anchor.modelled:
        return Row(anchor, NOT_MODELLED)
    missing = [s for s in anchor.scenarios if s not in results.scenarios()]
    if missing:
        return _unavailable(anchor, f"scenario {', '.join(missing)} was not run")
    if anchor.kind == "benefit":
        return _benefit(anchor, results)
    if known_kpis is not None and anchor.kpi not in known_kpis:
        return _unavailable(anchor, f"no KPI `{anchor.kpi}` yet" + (" (a future KPI)" if anchor.future else ""))
    sides = [_series(anchor, results, s) for s in anchor.scenarios]
    if any(s.empty for s in sides):
        what = "each site" if anchor.scope == ALL_SITES else f"scope `{anchor.scope}`"
        return _unavailable(anchor, f"KPI `{anchor.kpi}` ({what}) is not in the results")
    if anchor.kind == "level":
        values = _finite(sides[0])
        mean, low, high = t_interval(values.to_numpy(dtype=float))
        base = scen = NAN
    else:
        both = pd.concat(sides, axis=1, keys=["baseline", "scenario"], join="inner").dropna()
        both = both[np.isfinite(both.to_numpy(dtype=float)).all(axis=1)]
        if anchor.kind == "relative_change":
            both = both[both["baseline"] != 0]
            change = both["scenario"] / both["baseline"] - 1
        else:
            change = both["scenario"] - both["baseline"]
        values = change
        mean, low, high = t_interval(change.to_numpy(dtype=float))
        base, scen = (float(both[c].mean()) if len(both) else NAN for c in ("baseline", "scenario"))
    n = len(values)
    if n == 0 or not math.isfinite(mean):
        return _unavailable(anchor, f"KPI `{anchor.kpi}` has no defined value in any replication")
    if anchor.rule == "interval" and not (math.isfinite(low) and math.isfinite(high)):
        return _unavailable(anchor, "an interval needs at least two replications")
    verdict, distance, side = judge(anchor, mean, low, high)
    return Row(anchor, verdict, mean, low, high, base, scen, n, distance, side, kpi_unit=_unit(results, anchor.kpi))


def _benefit(anchor: Anchor, results: Results) -> Row:
    table = results.benefit if anchor.table == "benefit" else results.run_rate
    key, name = ("component", "net") if anchor.table == "benefit" else ("item", "total")
    scenario = anchor.scenarios[1]
    if table.empty or not {"scenario", key, "low", "central", "high"} <= set(table.columns):
        return _unavailable(anchor, f"no {anchor.table} table in the results")
    rows = table[(table["scenario"] == scenario) & (table[key] == name)]
    if rows.empty:
        return _unavailable(anchor, f"no {name} row for {scenario} in the {anchor.table} table")
    row = rows.iloc[0]
    central, low, high = (float(row[c]) for c in ("central", "low", "high"))
    low, high = min(low, high), max(low, high)
    n = int(row["replications"]) if "replications" in row and pd.notna(row["replications"]) else 0
    verdict, distance, side = judge(anchor, central, low, high)
    return Row(anchor, verdict, central, low, high, replications=n, distance=distance, side=side)


def evaluate(anchors, results: Results, known_kpis: tuple[str, ...] | None = None) -> list[Row]:
    """One row per anchor, in the anchors' order. `known_kpis` (the KPI registry's ids): an
    anchor on another KPI is "not available" even if a frame happens to hold it."""
    return [evaluate_one(a, results, known_kpis) for a in anchors]


def verdict_counts(rows: list[Row]) -> dict[str, int]:
    counts = Counter(r.verdict for r in rows)
    return {v: counts.get(v, 0) for v in VERDICTS}


# ---------------------------------------------------------------------------------------------
# how figures are written


def figure_format(anchor: Anchor) -> str:
    if anchor.format:
        return anchor.format
    if anchor.kind == "relative_change":
        return "percent"
    if anchor.kind == "benefit":
        return "money"
    return "count"


def _is_change(anchor: Anchor) -> bool:
    """A change between two scenarios: written with its sign."""
    return anchor.kind in ("paired_difference", "relative_change")


def _is_difference(anchor: Anchor) -> bool:
    """A difference of two figures (a change, or a spread over sites): shares in pp."""
    return _is_change(anchor) or anchor.statistic == "spread"


def _trim(value: float, decimals: int) -> str:
    text = f"{value:,.{decimals}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def fmt(value: float, form: str, *, signed: bool = False, difference: bool = False, trim: bool = False,
        unit: str = "") -> str:
    """A figure for people: shares as % (a difference of shares in pp), relative changes as %,
    days with "d", money as £m, counts with thousands separators; `signed` writes a "+" on
    positive figures, `trim` drops trailing zeros (targets)."""
    if value is None or not math.isfinite(value):
        return "–"
    if form == "share":
        number, suffix, decimals = 100 * value, (" pp" if difference else "%"), 1
    elif form == "percent":
        number, suffix, decimals = 100 * value, "%", 1
    elif form == "days":
        number, suffix, decimals = value, " d", 2 if abs(value) < 10 else 1
    elif form == "money":
        number, suffix, decimals = value / 1e6, "m", 1
    else:
        number, suffix, decimals = value, (f" {unit}" if unit else ""), 0 if abs(value) >= 100 else 1
    text = _trim(abs(number), decimals) if trim else f"{abs(number):,.{decimals}f}"
    if text.strip("0.,") == "":  # rounds to zero: no sign
        sign = ""
    else:
        sign = MINUS if number < 0 else ("+" if signed else "")
    return sign + ("£" if form == "money" else "") + text + suffix


def target_text(anchor: Anchor) -> str:
    if not anchor.modelled:
        return "–"
    form, signed, difference = figure_format(anchor), _is_change(anchor), _is_difference(anchor)
    f = lambda v, **kw: fmt(v, form, signed=signed, difference=difference, trim=True, **kw)
    if anchor.rule == "interval":
        parts = []
        if anchor.low is not None:
            parts.append(f"above {f(anchor.low)}")
        if anchor.high is not None:
            parts.append(f"below {f(anchor.high)}")
        return " and ".join(parts) + " (whole interval)"
    if anchor.low is not None and anchor.high is not None:
        return f"{f(anchor.low)} to {f(anchor.high, unit=anchor.unit)}"
    if anchor.low is not None:
        return f"≥ {f(anchor.low, unit=anchor.unit)}"
    return f"≤ {f(anchor.high, unit=anchor.unit)}"


def model_text(row: Row) -> str:
    a = row.anchor
    if row.verdict in (NOT_MODELLED, NOT_AVAILABLE):
        return "–"
    form, signed, difference = figure_format(a), _is_change(a), _is_difference(a)
    f = lambda v, **kw: fmt(v, form, signed=signed, difference=difference, **kw)
    value = f(row.value, unit=a.unit)
    if math.isfinite(row.low) and math.isfinite(row.high):
        if a.kind == "benefit":
            value += f" (range {f(row.low)} to {f(row.high)})"
        else:
            value += f" [{f(row.low)}, {f(row.high)}]"
    if _is_change(a):
        side = {"days": "days", "proportion": "share"}.get(row.kpi_unit, "count" if form == "percent" else form)
        unit = a.unit if side in ("count", "number") and a.kind == "paired_difference" else ""
        value += f"; {fmt(row.baseline, side)} → {fmt(row.scenario, side, unit=unit)}"
    return value


def verdict_text(row: Row) -> str:
    if row.verdict == OUTSIDE:
        form = figure_format(row.anchor)
        by = fmt(row.distance, "share" if form == "percent" else form, difference=True, unit=row.anchor.unit)
        if row.anchor.rule == "interval":
            end = "upper" if row.side == "above" else "lower"
            return f"**outside**: the interval's {end} end is {by} {row.side} the target"
        return f"**outside**: {by} {row.side} the target"
    if row.verdict == MEETS:
        return "**meets**"
    return row.verdict


# ---------------------------------------------------------------------------------------------
# the page


NOT_MODELLED_SECTION = "Not modelled"


def _section(anchor: Anchor) -> str:
    """Rows are grouped by the scenario they speak about: the baseline's levels, then each
    scenario against the baseline (its changes and its own levels), then what is not modelled."""
    if not anchor.modelled:
        return NOT_MODELLED_SECTION
    if anchor.kind == "level" and len(anchor.scenarios) == 1 and anchor.scenarios[0] == "baseline":
        return "Levels in `baseline`"
    scenario = anchor.scenarios[-1]
    return f"`{scenario}` against `baseline`"


def _cell(text: str) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def _kpi_text(anchor: Anchor) -> str:
    if anchor.kind == "benefit":
        return f"compare's {'flow-based net benefit' if anchor.table == 'benefit' else 'run-rate total'} (`{anchor.table}.csv`)"
    scope = "each site, max − min" if anchor.scope == ALL_SITES else anchor.scope
    text = f"`{anchor.kpi}` ({scope})"
    if anchor.statistic == "max_week":
        text += ", busiest week"
    if anchor.kind == "level" and anchor.scenarios[0] != "baseline":
        text += f", in `{anchor.scenarios[0]}`"
    if anchor.factor != 1:
        text += f" × {anchor.scale}"
    kind = {"paired_difference": "paired difference", "relative_change": "paired relative change"}.get(anchor.kind)
    if kind:
        text += f", {kind}"
    if anchor.future:
        text += " (future KPI)"
    return text


@dataclass(frozen=True)
class RunInfo:
    """What the page says about the runs behind it."""

    date: str
    commit: str
    replications: int
    seed: int
    years: float
    warmup_days: int
    start_date: str
    scenarios: tuple[str, ...]
    command: str = "make validation"


def render(rows: list[Row], info: RunInfo) -> str:
    """The validation page as markdown."""
    counts = verdict_counts(rows)
    lines = [
        "# Validation against published figures",
        "",
        f"<!-- Generated by scripts/validation.py from calibration/anchors.toml; do not edit by hand. Regenerate: {info.command} -->",
        "",
        f"**{counts[MEETS]} meet, {counts[OUTSIDE]} outside, {counts[NOT_AVAILABLE]} not available, "
        f"{counts[NOT_MODELLED]} not modelled** ({len(rows)} anchors).",
        "",
        *(f"- {verdict.capitalize()}: {', '.join(r.anchor.id for r in rows if r.verdict == verdict)}."
          for verdict in VERDICTS if counts[verdict]),
        "",
        "This page compares figures Leeds and NHS England published with what icsim gives. It is written by "
        f"a script from model runs (`{info.command}`), so it stays true as the model changes. The figures "
        "and their targets are in `calibration/anchors.toml`; source ids are explained in `docs/sources.md`.",
        "",
        "## How to read it",
        "",
        f"- **Runs:** {info.date}, git commit `{info.commit}`. Scenarios {', '.join(f'`{s}`' for s in info.scenarios)}, "
        f"each {info.replications} replications of {_trim(info.years, 2)} reported year{'' if info.years == 1 else 's'} "
        f"from {info.start_date}, "
        f"after {info.warmup_days} warm-up days. Master seed {info.seed}, the same for every scenario, so replication r "
        "of each scenario sees the same people (common random numbers).",
        "- **Model figure:** the mean over replications. A change between two scenarios is taken within each "
        "replication, then averaged. Yearly figures from weekly KPIs are × 365/7.",
        "- **Interval [in brackets]:** the 95% t-interval over replications (paired for a change). It holds "
        "replication noise only: it says how sure we are of the model's answer at these inputs, not how "
        "sure we are of the inputs.",
        "- **Verdict:** *meets* when the model figure lies in the target range; *outside* says by how much "
        "it misses; *not available* when the KPI is not (yet) in the model; *not modelled* when icsim does "
        "not cover it (the note says why). Percentages compared with percentages differ in "
        "percentage points (pp).",
        "- **Targets** are programme claims with undocumented measurement windows, and the reports disagree. "
        "Where a source gives one figure, the range around it is ours, and the note says so. Read a "
        "verdict as a prompt to look, not as a pass or a fail of the model.",
    ]
    sections: dict[str, list[Row]] = {}
    for row in sorted(rows, key=lambda r: not r.anchor.modelled):  # stable: file order, not-modelled last
        sections.setdefault(_section(row.anchor), []).append(row)
    for title, section in sections.items():
        lines += ["", f"## {title}", ""]
        if title == NOT_MODELLED_SECTION:
            lines += ["| # | Published figure (source) | Why it is not modelled |", "|---|---|---|"]
            lines += [f"| {r.anchor.id} | {_cell(r.anchor.figure)} ({r.anchor.source}) | {_cell(r.anchor.note)} |" for r in section]
            continue
        lines += ["| # | Published figure (source) | Target | Model [95% interval] | Verdict |", "|---|---|---|---|---|"]
        for r in section:
            lines.append(f"| {r.anchor.id} | {_cell(r.anchor.figure)} ({r.anchor.source}) | {_cell(target_text(r.anchor))} "
                         f"| {_cell(model_text(r))} | {_cell(verdict_text(r))} |")
        lines.append("")
        for r in section:
            detail = f"- **{r.anchor.id}**: KPI {_kpi_text(r.anchor)}."
            if r.reason:
                detail += f" Not available: {r.reason}."
            if r.anchor.inputs:
                detail += f" Driven by: {r.anchor.inputs}."
            if r.anchor.note:
                detail += f" Note: {r.anchor.note}"
            lines.append(" ".join(detail.split()))
    return "\n".join(lines) + "\n"
