"""Charts of the HTML report (`icsim report`): weekly trends, bars with confidence intervals,
pathway mix and the benefit waterfall.

Each chart is drawn on an explicit Figure with matplotlib's Agg canvas (no pyplot global state).
Colours are fixed: one per pathway (P0..P3, reused wherever pathways appear) and one per
compared scenario (the baseline always grey).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

# One colour per pathway, used by every chart that shows pathways (colour-blind safe, Okabe-Ito).
PATHWAY_COLOURS = {"p0": "#0072B2", "p1": "#E69F00", "p2": "#009E73", "p3": "#CC79A7"}
BASELINE_COLOUR = "#7f7f7f"
SCENARIO_COLOURS = ("#D55E00", "#56B4E9", "#F0E442", "#000000", "#999933")
GAIN, LOSS, NET = "#009E73", "#D55E00", "#0072B2"


def series_colours(names: list[str]) -> dict[str, str]:
    """The baseline (first name) grey, the others in a fixed order."""
    return {name: BASELINE_COLOUR if i == 0 else SCENARIO_COLOURS[(i - 1) % len(SCENARIO_COLOURS)]
            for i, name in enumerate(names)}


def new_figure(width: float = 7.5, height: float = 3.8) -> Figure:
    figure = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def axis_unit(unit: str) -> str:
    return "%" if unit == "proportion" else unit


def _scale(unit: str) -> float:
    return 100.0 if unit == "proportion" else 1.0


def weekly_chart(weekly: pd.DataFrame, lines: list[tuple[str, str, str, str]], title: str, unit: str) -> Figure:
    """Weekly series, one line per (kpi, scope, label, colour): the mean over replications with a
    P10–P90 band. `weekly` has the columns of weekly.csv."""
    figure = new_figure()
    ax = figure.add_subplot()
    scale = _scale(unit)
    for kpi, scope, label, colour in lines:
        rows = weekly[(weekly["kpi"] == kpi) & (weekly["scope"] == scope)]
        if rows.empty:
            continue
        by_week = rows.groupby("week")["value"]
        mean, p10, p90 = by_week.mean() * scale, by_week.quantile(0.1) * scale, by_week.quantile(0.9) * scale
        ax.fill_between(mean.index, p10, p90, color=colour, alpha=0.2, linewidth=0)
        ax.plot(mean.index, mean, color=colour, linewidth=1.6, label=f"{label} (mean; band P10–P90)")
    ax.set_title(title, fontsize=10)
    ax.set_xlabel("week of the reported period")
    ax.set_ylabel(axis_unit(unit))
    ax.grid(True, alpha=0.3)
    if ax.lines:
        ax.legend(fontsize=7, loc="best")
    return figure


def bar_chart(stats: pd.DataFrame, scopes: list[tuple[str, str]], series: list[str], title: str, unit: str,
              pathway_colours: bool = False, reference: float | None = None) -> Figure:
    """Grouped bars of one KPI: x = scopes [(scope, label)], one bar per series (run or scenario)
    with its 95% CI as an error bar. `stats`: series, scope, mean, ci95_low, ci95_high of one KPI.
    With `pathway_colours`, bars take the pathway colour of their scope and series differ by hatch."""
    figure = new_figure(max(6.0, 1.0 + 0.9 * len(scopes) * max(1, len(series)) ** 0.5), 3.8)
    ax = figure.add_subplot()
    scale = _scale(unit)
    colours = series_colours(series)
    width = 0.8 / max(1, len(series))
    x = np.arange(len(scopes))
    hatches = ["", "//", "..", "xx", "\\\\"]
    for i, name in enumerate(series):
        rows = stats[stats["series"] == name].set_index("scope")
        means = np.array([rows["mean"].get(s, np.nan) for s, _ in scopes], dtype=float) * scale
        low = np.array([rows["ci95_low"].get(s, np.nan) for s, _ in scopes], dtype=float) * scale
        high = np.array([rows["ci95_high"].get(s, np.nan) for s, _ in scopes], dtype=float) * scale
        err = np.vstack([np.clip(means - low, 0, None), np.clip(high - means, 0, None)])
        err = np.where(np.isfinite(err), err, 0)
        if pathway_colours:
            colour = [PATHWAY_COLOURS.get(s, BASELINE_COLOUR) for s, _ in scopes]
            ax.bar(x + (i - (len(series) - 1) / 2) * width, np.nan_to_num(means), width, color=colour,
                   hatch=hatches[i % len(hatches)], edgecolor="white", label=name, yerr=err, capsize=3)
        else:
            ax.bar(x + (i - (len(series) - 1) / 2) * width, np.nan_to_num(means), width, color=colours[name],
                   label=name, yerr=err, capsize=3)
    if reference is not None:
        ax.axhline(reference * scale, color="black", linestyle="--", linewidth=1, label=f"{reference * scale:g}{'%' if unit == 'proportion' else ''} warning level")
    ax.set_xticks(x)
    ax.set_xticklabels([label for _, label in scopes], rotation=20 if len(scopes) > 4 else 0, fontsize=8)
    ax.set_title(title, fontsize=10)
    ax.set_ylabel(axis_unit(unit))
    ax.grid(True, axis="y", alpha=0.3)
    if len(series) > 1 or reference is not None:
        ax.legend(fontsize=7, loc="best")
    return figure


def pathway_mix_chart(shares: pd.DataFrame, series: list[str]) -> Figure:
    """Stacked horizontal bars of the pathway shares (P0..P3) of each series. `shares`: series,
    pathway, mean (a proportion)."""
    figure = new_figure(7.5, 1.2 + 0.6 * len(series))
    ax = figure.add_subplot()
    left = np.zeros(len(series))
    for pathway, colour in PATHWAY_COLOURS.items():
        values = np.array([shares[(shares["series"] == s) & (shares["pathway"] == pathway)]["mean"].sum()
                           for s in series]) * 100
        ax.barh(series, values, left=left, color=colour, label=pathway.upper())
        for y, (start, value) in enumerate(zip(left, values)):
            if value >= 4:
                ax.text(start + value / 2, y, f"{value:.1f}%", ha="center", va="center", fontsize=7, color="white")
        left += values
    ax.set_xlim(0, 100)
    ax.set_xlabel("% of 65+ hospital discharges (alive)")
    ax.set_title("Discharge pathway mix: share of hospital discharges on each pathway", fontsize=10)
    ax.legend(fontsize=7, ncol=4, loc="upper center", bbox_to_anchor=(0.5, -0.35 if len(series) < 3 else -0.2))
    ax.invert_yaxis()
    return figure


def waterfall_chart(benefit: pd.DataFrame, scenario: str) -> Figure:
    """The central annual benefit of each component in the net, cumulated to the net, with each
    step's low–high range as an error bar. `benefit`: benefit.csv rows of one scenario."""
    rows = benefit[benefit["component"] != "net"]
    rows = rows[rows["in_net"].astype(str).str.lower() == "true"]
    net = benefit[benefit["component"] == "net"]
    figure = new_figure(8.5, 4.4)
    ax = figure.add_subplot()
    running = 0.0
    labels = []
    for i, row in enumerate(rows.itertuples()):
        central, low, high = row.central / 1e6, row.low / 1e6, row.high / 1e6
        bottom = running if central >= 0 else running + central
        ax.bar(i, abs(central), bottom=bottom, color=GAIN if central >= 0 else LOSS, edgecolor="white")
        end = running + central
        lo, hi = sorted((running + low, running + high))
        ax.errorbar(i, end, yerr=[[max(end - lo, 0)], [max(hi - end, 0)]], color="black", capsize=3, linewidth=1)
        if i > 0:
            ax.plot([i - 1.4, i - 0.4], [running, running], color="grey", linewidth=0.8)
        running = end
        labels.append(row.component.replace("_", " "))
    if not net.empty:
        n = len(labels)
        central, low, high = (float(net[c].iloc[0]) / 1e6 for c in ("central", "low", "high"))
        ax.bar(n, central, color=NET)
        lo, hi = sorted((low, high))
        ax.errorbar(n, central, yerr=[[max(central - lo, 0)], [max(hi - central, 0)]], color="black", capsize=4)
        labels.append("net")
    ax.axhline(0, color="black", linewidth=0.8)
    ax.set_xticks(range(len(labels)))
    ax.set_xticklabels(labels, rotation=30, ha="right", fontsize=8)
    ax.set_ylabel("£ million a year (saving positive)")
    ax.set_title(f"{scenario}: annual benefit by component, central (bars) with 90% interval (whiskers)",
                 fontsize=10)
    ax.grid(True, axis="y", alpha=0.3)
    return figure


def tornado_chart(sensitivity: pd.DataFrame, central: float, scenario: str) -> Figure:
    """The net's central with one unit cost at a time at its low and its high, widest first."""
    rows = sensitivity[sensitivity["swing"] > 0].head(8).iloc[::-1]
    figure = new_figure(8.5, 0.5 + 0.45 * max(len(rows), 1))
    ax = figure.add_subplot()
    for i, row in enumerate(rows.itertuples()):
        low, high = row.net_at_low / 1e6, row.net_at_high / 1e6
        ax.barh(i, low - central / 1e6, left=central / 1e6, color="#56B4E9", height=0.6,
                label="unit cost at its low" if i == 0 else None)
        ax.barh(i, high - central / 1e6, left=central / 1e6, color="#0072B2", height=0.6,
                label="unit cost at its high" if i == 0 else None)
    ax.axvline(central / 1e6, color="black", linewidth=0.8)
    if len(rows):
        ax.legend(loc="lower right", fontsize=8, frameon=False)
    ax.set_yticks(range(len(rows)))
    ax.set_yticklabels([key.replace("_", " ") for key in rows["cost_item"]], fontsize=8)
    ax.set_xlabel("net benefit, £ million a year (each unit cost at its low and its high, the others central)")
    ax.set_title(f"{scenario}: which unit cost moves the net most", fontsize=10)
    ax.grid(True, axis="x", alpha=0.3)
    return figure
