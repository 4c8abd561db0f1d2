"""Fan charts of KPIs per reporting year (the `yearly` fan of a run: see sim.experiment.stats.fan).

Drawn on an explicit Figure with matplotlib's Agg canvas (files only, no display), so nothing
depends on pyplot's global state or on the machine's default backend.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from ..experiment.kpis import FAN_KPIS, KPI_BY_ID

FANS: tuple[tuple[str, str], ...] = tuple((kpi, "total") for kpi in FAN_KPIS)
COLOUR = "tab:blue"


def _rows(yearly: pd.DataFrame, kpi: str, scope: str) -> pd.DataFrame:
    rows = yearly[(yearly["kpi"] == kpi) & (yearly["scope"] == scope)].sort_values("year")
    if rows.empty:
        raise ValueError(f"no yearly rows for kpi {kpi!r}, scope {scope!r}")
    return rows


def fan_chart(yearly: pd.DataFrame, kpi: str, scope: str = "total", ax: Axes | None = None) -> Axes:
    """One KPI (and scope) against reporting year: the P2.5–P97.5 and P10–P90 bands of the
    replications, their median as a line and their mean as markers. `yearly` has the columns
    of `RunResult.yearly` (kpi, scope, unit, year, mean, p2_5, p10, p50, p90, p97_5)."""
    if ax is None:
        figure = Figure(figsize=(6, 4), layout="constrained")
        FigureCanvasAgg(figure)
        ax = figure.add_subplot()
    rows = _rows(yearly, kpi, scope)
    years = rows["year"].to_numpy(dtype=float)
    ax.fill_between(years, rows["p2_5"], rows["p97_5"], color=COLOUR, alpha=0.2, linewidth=0, label="P2.5–P97.5")
    ax.fill_between(years, rows["p10"], rows["p90"], color=COLOUR, alpha=0.4, linewidth=0, label="P10–P90")
    ax.plot(years, rows["p50"], color=COLOUR, linewidth=1.5, label="median")
    ax.plot(years, rows["mean"], linestyle="none", marker="o", markersize=3.5, color="black", label="mean")
    unit = rows["unit"].iloc[0]
    where = "" if scope == "total" else f" ({scope})"
    ax.set_title(f"{kpi}{where}: fan of replications per reporting year", fontsize=9)
    ax.set_xlabel("reporting year (starting)")
    ax.set_ylabel(unit)
    ax.set_xticks(years)
    ax.set_xticklabels([str(int(y)) for y in years], rotation=45 if len(years) > 6 else 0, fontsize=8)
    ax.grid(True, alpha=0.3)
    return ax


def fan_grid(yearly: pd.DataFrame, kpis=FANS, columns: int = 2) -> Figure:
    """A grid of fan charts, one per KPI. `kpis`: KPI ids (scope "total") or (kpi, scope)
    pairs; those without rows in `yearly` (e.g. all NaN, or a scope not in this scenario) get
    an empty panel saying so."""
    pairs = [(k, "total") if isinstance(k, str) else tuple(k) for k in kpis]
    if not pairs:
        raise ValueError("fan_grid: no KPIs to draw")
    for kpi, _ in pairs:
        if kpi not in KPI_BY_ID:
            raise ValueError(f"fan_grid: unknown KPI id {kpi!r}")
    columns = max(1, min(columns, len(pairs)))
    lines = math.ceil(len(pairs) / columns)
    figure = Figure(figsize=(6 * columns, 3.6 * lines), layout="constrained")
    FigureCanvasAgg(figure)
    axes = np.atleast_1d(figure.subplots(lines, columns, squeeze=False)).ravel()
    drawn = []
    for ax, (kpi, scope) in zip(axes, pairs):
        rows = yearly[(yearly["kpi"] == kpi) & (yearly["scope"] == scope)]
        if rows.empty or not np.isfinite(rows[["p2_5", "p97_5", "mean"]].to_numpy(dtype=float)).any():
            ax.set_title(f"{kpi} ({scope}): no values", fontsize=9)
            ax.set_axis_off()
            continue
        drawn.append(fan_chart(yearly, kpi, scope, ax=ax))
    for ax in axes[len(pairs):]:
        ax.set_axis_off()
    if drawn:
        drawn[0].legend(fontsize=7, loc="best")
    figure.suptitle("KPIs per reporting year across replications (bands: P2.5–P97.5, P10–P90; line: median; dots: mean)",
                    fontsize=10)
    return figure
