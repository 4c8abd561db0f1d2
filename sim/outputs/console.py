"""The tables the command line prints (rich), built from a workflow's results."""

from __future__ import annotations

import math

import pandas as pd
from rich.panel import Panel
from rich.table import Table

from ..experiment.benefit import largest_drivers
from ..experiment.kpis import HEADLINE_KPIS, SUMMARY_BY_SCOPE_KPIS
from .display import kpi_difference, kpi_value, money, signed


def _unit(unit: str) -> str:
    return "%" if unit == "proportion" else unit


def _interval(low, high, unit: str) -> str:
    return f"{kpi_value(low, unit)} – {kpi_value(high, unit)}"


def _table(title: str, columns: list[tuple[str, str]]) -> Table:
    table = Table(title=title, title_justify="left")
    for name, justify in columns:
        table.add_column(name, justify=justify, no_wrap=True)
    return table


def describe(scenario) -> str:
    """What a scenario resolves to, in one line."""
    r = scenario.run
    sites = ", ".join(f"{n} {site.beds:g}" for n, site in scenario.beds.sites.items())
    return (f"'{scenario.meta.name}': {r.years:g} year(s) from {r.start_date} after {r.warmup_days} warm-up days, "
            f"{r.replications} replication{'' if r.replications == 1 else 's'}, seed {r.seed}; {scenario.arrivals.rate_per_day:g} front-door arrivals/day; "
            f"short-term beds: {sites}.")


def summary_table(name: str, summary: pd.DataFrame) -> Table:
    """A run's KPIs (totals, and by scope for a few): mean, 95% CI, P10-P90."""
    table = _table(f"{name}: KPIs, mean and 95% CI over replications", [
        ("KPI", "left"), ("scope", "left"), ("unit", "left"), ("mean", "right"), ("95% CI", "right"), ("P10-P90", "right"),
    ])
    shown = summary[(summary["scope"] == "total") | summary["kpi"].isin(SUMMARY_BY_SCOPE_KPIS)]
    for row in shown.itertuples():
        table.add_row(row.kpi, "" if row.scope == "total" else row.scope, _unit(row.unit), kpi_value(row.mean, row.unit),
                      _interval(row.ci95_low, row.ci95_high, row.unit), _interval(row.p10, row.p90, row.unit))
    return table


def answer_panel(tables: dict[str, pd.DataFrame], baseline_name: str) -> Panel:
    """The answer, last on the screen so it is what a terminal shows: per scenario the net
    benefit with its 90% interval, the largest drivers and the people changes."""
    lines = []
    for name, own in tables["benefit"].groupby("scenario", sort=False):
        net = own[own["component"] == "net"].iloc[0]
        drivers = largest_drivers(own)
        lines.append(f"[bold]{name}[/bold] against {baseline_name}: net benefit [bold]{money(net['central'])} a year[/bold] "
                     f"(90% interval {money(net['low'])} to {money(net['high'])}: simulation error and unit-cost uncertainty; "
                     f"one simulated year {money(net['year_p10'])} to {money(net['year_p90'])})")
        lines.append("  largest: " + ", ".join(f"{r.component.replace('_', ' ')} {money(r.central)}" for r in drivers.itertuples()))
        people = tables["people"][tables["people"]["scenario"] == name]
        lines.append("  people a year: " + "; ".join(f"{r.counter.replace('_', ' ')} {signed(r.change)}" for r in people.itertuples()))
    return Panel("\n".join(lines), title="the answer", title_align="left")


def comparison_tables(tables: dict[str, pd.DataFrame], baseline_name: str) -> list[Table | Panel]:
    """Per scenario: headline KPI differences, people a year and the annual benefit; then the
    answer (last, so a terminal shows it)."""
    deltas, people, benefits = tables["kpi_deltas"], tables["people"], tables["benefit"]
    out = []
    for name in deltas["scenario"].unique():
        table = _table(f"{name} vs {baseline_name}: KPI differences (paired 95% CI)", [
            ("KPI", "left"), ("unit", "left"), ("baseline", "right"), (name, "right"), ("difference", "right"),
            ("95% CI", "right"),
        ])
        rows = deltas[(deltas["scenario"] == name) & (deltas["scope"] == "total") & deltas["kpi"].isin(HEADLINE_KPIS)]
        for row in rows.itertuples():
            table.add_row(row.kpi, _unit(row.unit), kpi_value(row.baseline, row.unit), kpi_value(row.scenario_value, row.unit),
                          kpi_difference(row.delta, row.unit),
                          f"{kpi_difference(row.ci95_low, row.unit)} to {kpi_difference(row.ci95_high, row.unit)}")
        out.append(table)
        table = _table(f"{name}: people a year, each counted once (change against the baseline, paired 95% CI)",
                       [("people", "left"), ("baseline", "right"), ("change", "right"), ("95% CI", "right")])
        for row in people[people["scenario"] == name].itertuples():
            table.add_row(row.definition, f"{row.baseline:,.0f}", signed(row.change),
                          f"{signed(row.ci95_low)} to {signed(row.ci95_high)}")
        out.append(table)
        table = _table(f"{name}: annual financial benefit (saving positive): central = mean at central unit costs; "
                       "90% interval of the mean (simulation error and unit-cost uncertainty); one year's spread P10–P90",
                       [("component", "left"), ("category", "left"), ("central", "right"), ("90% interval", "right"),
                        ("one year P10–P90", "right")])
        for row in benefits[benefits["scenario"] == name].itertuples():
            table.add_row(row.component, str(row.category), money(row.central), f"{money(row.low)} – {money(row.high)}",
                          f"{money(row.year_p10)} – {money(row.year_p90)}")
        out.append(table)
    out.append(answer_panel(tables, baseline_name))
    return out


def plan_table(chosen: pd.DataFrame, service: str, target: str, confidence: float) -> Table:
    """Per year: the capacity chosen beside today's, with offered loads and P(target met)."""
    table = _table(f"{service}: capacity meeting {target} with probability ≥ {confidence:g}", [
        (c, "right") for c in ("year", "capacity", "offered load", "P(target met)", "today", "offered load today")
    ])
    for r in chosen.itertuples():
        table.add_row(str(r.year), "–" if math.isnan(r.capacity) else f"{r.capacity:.0f}", f"{r.offered_load:.2f}",
                      f"{r.probability_target_met:.2f}", str(r.capacity_now), f"{r.offered_load_now:.2f}")
    return table


def calibration_table(scores: pd.DataFrame, backtest: bool) -> Table:
    """Per observable KPI: observed and simulated means, MAPE, share of weeks in the 95% band."""
    table = _table(f"{'backtest' if backtest else 'validation'}: simulated vs observed weekly KPIs", [
        ("KPI", "left"), ("observed", "right"), ("simulated", "right"), ("MAPE %", "right"), ("weeks in 95% band", "right"),
    ])
    for row in scores.itertuples():
        table.add_row(row.kpi, kpi_value(row.observed_mean, row.unit), kpi_value(row.simulated_mean, row.unit),
                      f"{row.mape_percent:.1f}", f"{100 * row.share_weeks_in_95_band:.0f}%")
    return table


def calibration_banner(warning: list[str]) -> Panel:
    """The validation gate's warning, boxed in red: which KPIs fail and the inputs behind them."""
    return Panel("\n".join(warning).strip(), title="calibration gate: not reproduced", style="bold red")
