"""One self-contained HTML report of a run folder (`icsim run`) or a compare folder (`icsim compare`).

The report embeds every chart as a base64 PNG (no network, no scripts) and writes each chart as
PNG and SVG into `<report stem>_charts/` beside it, for slides. It shows only what the folder
holds: a figure the KPIs do not give is named as "not available from this run's KPIs".
"""

from __future__ import annotations

import base64
import html
import io
import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib import rc_context

from ..errors import InputError
from ..experiment.benefit import largest_drivers
from ..experiment.kpis import FAN_KPIS, KPI_BY_ID, KPI_NAMES, PROGRAMME_KPIS, WEEKLY_KPIS
from ..experiment.stats import summarise
from ..files import staged, write_atomic
from ..inputs.sources import source_of
from . import report_charts as rc
from .display import kpi_difference, money, signed
from .display import kpi_value as fmt

SECTIONS = (
    ("system", "System"),
    ("beds", "Short-term beds"),
    ("reablement", "Reablement"),
    ("hospital", "Hospital"),
    ("home-ward", "Home Ward"),
    ("finance", "Finance"),
    ("blueprint", "Blueprint"),
    ("assumptions", "Assumptions"),
)
OCCUPANCY_WARNING = 0.97
NOT_AVAILABLE = "not available from this run's KPIs"


# ---------------------------------------------------------------------------------------------
# Reading a folder


@dataclass
class Folder:
    path: Path
    kind: str  # "run" or "compare"
    manifest: dict
    series: list[str]  # the run's scenario name, or the baseline's then each scenario's
    stats: pd.DataFrame  # series, kpi, scope, unit, mean, ci95_low, ci95_high
    scenarios: dict[str, dict]  # series name -> resolved scenario
    summary: pd.DataFrame | None = None
    weekly: pd.DataFrame | None = None
    yearly: pd.DataFrame | None = None
    deltas: pd.DataFrame | None = None
    people: pd.DataFrame | None = None
    benefit: pd.DataFrame | None = None
    sensitivity: pd.DataFrame | None = None
    who_saves: pd.DataFrame | None = None
    run_rate: pd.DataFrame | None = None
    by_year: pd.DataFrame | None = None
    extra: dict = field(default_factory=dict)

    @property
    def run_settings(self) -> dict:
        return self.scenarios[self.series[0]].get("run", {})

    def value(self, kpi: str, scope: str = "total", series: str | None = None) -> float:
        rows = self.stats[(self.stats["series"] == (series or self.series[0])) & (self.stats["kpi"] == kpi)
                          & (self.stats["scope"] == scope)]
        return float(rows["mean"].iloc[0]) if len(rows) else float("nan")

    def scopes(self, kpi: str) -> list[str]:
        return [s for s in dict.fromkeys(self.stats[self.stats["kpi"] == kpi]["scope"]) if s != "total"]


def _csv(path: Path, columns: set[str]) -> pd.DataFrame:
    try:
        frame = pd.read_csv(path)
    except (OSError, ValueError, pd.errors.ParserError) as exc:
        raise InputError(f"{path}: not a readable CSV: {exc}") from None
    missing = columns - set(frame.columns)
    if missing:
        raise InputError(f"{path}: columns {sorted(missing)} missing; expected the file icsim writes")
    return frame


def load_folder(path: Path) -> Folder:
    """Read a run or compare folder; InputError (one line) if it is neither."""
    path = Path(path)
    expected = "expected an icsim run folder (manifest.json, summary.csv) or compare folder (manifest.json, kpi_deltas.csv)"
    if not path.is_dir():
        raise InputError(f"{path}: no such folder; {expected}")
    if (path / "run.json").is_file():
        raise InputError(f"{path}: an unfinished run (run.json present); finish it with: icsim run --resume {path}")
    manifest_path = path / "manifest.json"
    if not manifest_path.is_file():
        raise InputError(f"{path}: manifest.json missing; {expected}")
    try:
        manifest = json.loads(manifest_path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError, OSError) as exc:
        raise InputError(f"{manifest_path}: not valid JSON: {exc}") from None
    if not isinstance(manifest, dict):
        raise InputError(f"{manifest_path}: expected a JSON object")
    if isinstance(manifest.get("scenario"), dict) and (path / "summary.csv").is_file():
        return _load_run(path, manifest)
    if isinstance(manifest.get("baseline"), dict) and isinstance(manifest.get("scenarios"), dict) \
            and (path / "kpi_deltas.csv").is_file():
        return _load_compare(path, manifest)
    raise InputError(f"{path}: {expected}")


def _load_run(path: Path, manifest: dict) -> Folder:
    name = manifest["scenario"].get("meta", {}).get("name", "run")
    summary = _csv(path / "summary.csv", {"kpi", "scope", "unit", "mean", "ci95_low", "ci95_high", "p10", "p90"})
    stats = summary.assign(series=name)[["series", "kpi", "scope", "unit", "mean", "ci95_low", "ci95_high"]]
    folder = Folder(path, "run", manifest, [name], stats, {name: manifest["scenario"]}, summary=summary)
    if (path / "weekly.csv").is_file():
        weekly = _csv(path / "weekly.csv", {"replication", "week", "kpi", "scope", "unit", "value"})
        folder.weekly = weekly[weekly["kpi"].isin(WEEKLY_KPIS)]
    if (path / "yearly.csv").is_file():
        folder.yearly = _csv(path / "yearly.csv", {"kpi", "scope", "unit", "year", "mean", "p2_5", "p10", "p50",
                                                   "p90", "p97_5"})
    return folder


def _load_compare(path: Path, manifest: dict) -> Folder:
    base = manifest["baseline"].get("meta", {}).get("name", "baseline")
    names = [base, *manifest["scenarios"]]
    deltas = _csv(path / "kpi_deltas.csv", {"scenario", "kpi", "scope", "unit", "baseline", "scenario_value", "delta",
                                            "ci95_low", "ci95_high"})
    if (path / "replications.csv").is_file():
        reps = _csv(path / "replications.csv", {"replication", "kpi", "scope", "unit", "value", "scenario"})
        by = ("series", "kpi", "scope", "unit")
        stats = summarise(reps.rename(columns={"scenario": "series"}), by)[[*by, "mean", "ci95_low", "ci95_high"]]
    else:  # means only, from the deltas
        first = deltas[deltas["scenario"] == names[1]] if len(names) > 1 else deltas.iloc[:0]
        frames = [first.assign(series=base, mean=first["baseline"])]
        frames += [deltas[deltas["scenario"] == n].assign(series=n, mean=lambda f: f["scenario_value"]) for n in names[1:]]
        stats = pd.concat(frames, ignore_index=True).assign(ci95_low=np.nan, ci95_high=np.nan)
        stats = stats[["series", "kpi", "scope", "unit", "mean", "ci95_low", "ci95_high"]]
    folder = Folder(path, "compare", manifest, names, stats, {base: manifest["baseline"], **manifest["scenarios"]},
                    deltas=deltas)
    if (path / "people.csv").is_file():
        folder.people = _csv(path / "people.csv", {"scenario", "counter", "definition", "baseline", "change", "ci95_low", "ci95_high"})
    if (path / "benefit.csv").is_file():
        folder.benefit = _csv(path / "benefit.csv", {"scenario", "component", "category", "in_net", "low", "central",
                                                     "high", "year_p10", "year_p90"})
    if (path / "benefit_by_year.csv").is_file():
        folder.by_year = _csv(path / "benefit_by_year.csv", {"scenario", "year", "realisation", "discount_factor", "central",
                                                             "low", "high", "present_value_central"})
    if (path / "run_rate.csv").is_file():
        folder.run_rate = _csv(path / "run_rate.csv", {"scenario", "item", "kpi", "kpi_delta", "annual_volume", "low", "central",
                                                      "high", "note"})
    if (path / "who_saves.csv").is_file():
        folder.who_saves = _csv(path / "who_saves.csv", {"scenario", "payer_name", "components", "low", "central", "high"})
    if (path / "sensitivity.csv").is_file():
        folder.sensitivity = _csv(path / "sensitivity.csv", {"scenario", "cost_item", "net_at_low", "net_at_high", "swing"})
    return folder


# ---------------------------------------------------------------------------------------------
# Charts


@dataclass
class Chart:
    slug: str
    png: bytes
    svg: bytes
    alt: str


class Charts:
    def __init__(self):
        self.items: list[Chart] = []

    def add(self, slug: str, figure, alt: str) -> str:
        png, svg = io.BytesIO(), io.BytesIO()
        figure.savefig(png, format="png", dpi=100)
        # no drawing date and a fixed id salt: the same folder gives the same SVG bytes every time
        with rc_context({"svg.hashsalt": "icsim"}):
            figure.savefig(svg, format="svg", metadata={"Date": None})
        chart = Chart(f"{len(self.items) + 1:02d}-{slug}", png.getvalue(), svg.getvalue(), alt)
        self.items.append(chart)
        data = base64.b64encode(chart.png).decode("ascii")
        return (f'<figure><img src="data:image/png;base64,{data}" alt="{html.escape(alt)}" '
                f'data-chart="{chart.slug}"><figcaption>{html.escape(alt)}</figcaption></figure>')


def _label(kpi: str) -> str:
    return KPI_NAMES.get(kpi, kpi.replace("_", " "))


# the flow changes the answer states, in this order
ANSWER_KPIS = ("nr2r_los_days", "p1_wait_days", "p2_wait_days", "bed_los_days", "admissions_per_week",
               "permanent_care_admissions_per_year")


def _answer(folder: Folder) -> str:
    """The compare report's first screen: per scenario the net benefit with its interval and what
    it means, the largest drivers, the people, and the flow changes in words with units."""
    if folder.kind != "compare" or folder.benefit is None:
        return ""
    out = []
    for name in folder.series[1:]:
        rows = folder.benefit[folder.benefit["scenario"] == name]
        net = rows[rows["component"] == "net"]
        if net.empty:
            continue
        n = net.iloc[0]
        drivers = largest_drivers(rows)
        text = [f"<h2>The answer: {html.escape(name)} against {html.escape(folder.series[0])}</h2>",
                f'<p class="big">Net benefit <strong>{money(n["central"])} a year</strong> (90% interval {money(n["low"])} '
                f'to {money(n["high"])}).</p>',
                "<p>The interval holds the simulation's error and the uncertainty of the unit costs; one simulated year "
                f"ranges {money(n['year_p10'])} to {money(n['year_p90'])} (10th to 90th percentile). Largest drivers: "
                + ", ".join(f"{html.escape(_component(r.component))} {money(r.central)}" for r in drivers.itertuples()) + ".</p>"]
        if folder.people is not None:
            people = folder.people[folder.people["scenario"] == name]
            if len(people):
                text.append("<p>People a year: " + "; ".join(
                    f"{html.escape(r.definition)}: {signed(r.change)}" for r in people.itertuples()) + ".</p>")
        changes = []
        for kpi in ANSWER_KPIS:
            found = folder.deltas[(folder.deltas["scenario"] == name) & (folder.deltas["kpi"] == kpi)
                                  & (folder.deltas["scope"] == "total")]
            if found.empty:
                continue
            r = found.iloc[0]
            unit = KPI_BY_ID[kpi].unit
            clear = not (r["ci95_low"] <= 0 <= r["ci95_high"])
            changes.append(f"<li>{html.escape(_label(kpi))}: {fmt(r['baseline'], unit)} → {fmt(r['scenario_value'], unit)} "
                           f"{html.escape('' if unit == 'proportion' else unit)} ({kpi_difference(r['delta'], unit)}"
                           f"{'' if clear else ', not distinguishable from no change'})</li>")
        if changes:
            text.append("<p>Flow, baseline → scenario (paired 95% confidence):</p><ul>" + "".join(changes) + "</ul>")
        out.append('<div class="answer">' + "\n".join(text) + "</div>")
    return "\n".join(out)


def _component(component: str) -> str:
    return {"acute_nr2r_bed_days": "acute bed days after no reason to reside", "long_term_care": "care-home placements",
            "homecare_hours": "homecare hours", "short_term_bed_days": "short-term bed days",
            "admissions_avoided": "admissions avoided"}.get(component, component.replace("_", " "))


def _bar_alt(folder: Folder, kpi: str, scopes: list[tuple[str, str]], what: str) -> str:
    unit = KPI_BY_ID[kpi].unit if kpi in KPI_BY_ID else ""
    parts = []
    for series in folder.series:
        values = ", ".join(f"{label} {fmt(folder.value(kpi, s, series), unit)}" for s, label in scopes)
        parts.append(f"{series}: {values}" if len(folder.series) > 1 else values)
    return f"Bar chart of {what} ({rc.axis_unit(unit)}, mean with 95% CI): " + "; ".join(parts) + "."


def _bars(charts: Charts, folder: Folder, kpi: str, what: str, scopes: list[str] | None = None,
          pathway: bool = False, reference: float | None = None) -> str:
    scopes = folder.scopes(kpi) if scopes is None else scopes
    if not scopes:
        return f"<p>{html.escape(what)}: {NOT_AVAILABLE}.</p>"
    pairs = [(s, s.upper() if pathway else s.replace("_", " ")) for s in scopes]
    unit = KPI_BY_ID[kpi].unit
    rows = folder.stats[folder.stats["kpi"] == kpi]
    title = f"{what[0].upper()}{what[1:]} (mean, 95% CI)"
    figure = rc.bar_chart(rows, pairs, folder.series, title, unit, pathway_colours=pathway, reference=reference)
    return charts.add(kpi + ("-total" if scopes == ["total"] else "-by-" + ("pathway" if pathway else "scope")), figure, _bar_alt(folder, kpi, pairs, what))


def _weekly(charts: Charts, folder: Folder, lines: list[tuple[str, str, str, str]], title: str, slug: str) -> str:
    if folder.weekly is None:
        return ""
    unit = KPI_BY_ID[lines[0][0]].unit
    weekly = folder.weekly
    if weekly[weekly["kpi"].isin([k for k, *_ in lines])].empty:
        return ""
    means = "; ".join(
        f"{label} averages {fmt(folder.value(kpi, scope), unit)}" for kpi, scope, label, _ in lines
    )
    alt = f"Line chart of {title.lower()} by week ({rc.axis_unit(unit)}), mean over replications with P10–P90 band: {means}."
    return charts.add(slug, rc.weekly_chart(weekly, lines, title, unit), alt)


# ---------------------------------------------------------------------------------------------
# Tables


def _table(head: list[str], rows: list[list[str]], attrs: list[str] | None = None, numeric_from: int = 1) -> str:
    cells = "".join(f'<th scope="col">{html.escape(h)}</th>' for h in head)
    body = []
    for i, row in enumerate(rows):
        tds = "".join(
            f'<td class="num">{html.escape(c)}</td>' if j >= numeric_from else f"<td>{html.escape(c)}</td>"
            for j, c in enumerate(row)
        )
        body.append(f"<tr{attrs[i] if attrs else ''}>{tds}</tr>")
    return f"<table><thead><tr>{cells}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _with_ci(frame: pd.DataFrame, by: str, name: str, kpi: str, scope: str, value: str, unit: str) -> str:
    """"value [low – high]" of the row for (name, kpi, scope), or "–" if there is none."""
    found = frame[(frame[by] == name) & (frame["kpi"] == kpi) & (frame["scope"] == scope)]
    if found.empty:
        return "–"
    r = found.iloc[0]
    shown = kpi_difference if value == "delta" else fmt
    return f"{shown(r[value], unit)} [{shown(r['ci95_low'], unit)} to {shown(r['ci95_high'], unit)}]"


def kpi_table(folder: Folder, pairs: list[tuple[str, str]]) -> str:
    """Each (kpi, scope): mean with 95% CI (run), or baseline and scenario with CIs and the
    paired difference (compare). Rows carry data-kpi and data-scope."""
    rows, attrs = [], []
    for kpi, scope in pairs:
        unit = KPI_BY_ID[kpi].unit if kpi in KPI_BY_ID else ""
        name = _label(kpi) + ("" if scope == "total" else f" ({scope.replace('_', ' ')})")
        shown_unit = "%" if unit == "proportion" else unit
        if folder.kind == "run":
            row = folder.summary[(folder.summary["kpi"] == kpi) & (folder.summary["scope"] == scope)]
            if row.empty:
                continue
            r = row.iloc[0]
            rows.append([name, shown_unit, fmt(r["mean"], unit), f"{fmt(r['ci95_low'], unit)} – {fmt(r['ci95_high'], unit)}",
                         f"{fmt(r['p10'], unit)} – {fmt(r['p90'], unit)}"])
        else:
            cells = [name, shown_unit]
            cells += [_with_ci(folder.stats, "series", series, kpi, scope, "mean", unit) for series in folder.series]
            cells += [_with_ci(folder.deltas, "scenario", series, kpi, scope, "delta", unit)
                      for series in folder.series[1:]]
            if all(c == "–" for c in cells[2:]):
                continue
            rows.append(cells)
        attrs.append(f' data-kpi="{html.escape(kpi)}" data-scope="{html.escape(scope)}"')
    if not rows:
        return f"<p>{NOT_AVAILABLE}.</p>"
    if folder.kind == "run":
        head = ["KPI", "unit", "mean", "95% CI", "P10–P90 of replications"]
    else:
        head = ["KPI", "unit", *(f"{s} mean [95% CI]" for s in folder.series),
                *(f"{s} − {folder.series[0]} [paired 95% CI]" for s in folder.series[1:])]
    return _table(head, rows, attrs, numeric_from=2)


# ---------------------------------------------------------------------------------------------
# Sections


def _system(folder: Folder, charts: Charts) -> str:
    out = ["<h3>Programme KPIs</h3>",
           "<p>Means over replications with 95% confidence intervals"
           + (" (paired differences: common random numbers)." if folder.kind == "compare" else ".") + "</p>",
           kpi_table(folder, [(k, "total") for k in PROGRAMME_KPIS])]
    out.append("<h3>Weekly trends</h3>")
    if folder.weekly is not None:
        out.append("<p>Reablement starts are shown as the programme's 6-week and effectiveness as its 8-week moving "
                   "average (as weekly.csv holds them); other series are weekly values.</p>")
        out.append(_weekly(charts, folder, [("reablement_starts_per_week", "total", "reablement starts", rc.PATHWAY_COLOURS["p1"])],
                           "Reablement starts per week (6-week moving average)", "weekly-reablement-starts"))
        out.append(_weekly(charts, folder, [("reablement_effectiveness_hours", "total", "reduction in homecare hours",
                                             rc.PATHWAY_COLOURS["p1"])],
                           "Reablement effectiveness: homecare hours a week saved per episode (8-week moving average)",
                           "weekly-reablement-effectiveness"))
        out.append(_weekly(charts, folder, [(f"p{i}_wait_days", "total", f"P{i} wait", rc.PATHWAY_COLOURS[f"p{i}"])
                                            for i in (1, 2, 3)],
                           "Wait from referral to start by pathway, per week", "weekly-waits"))
        out.append(_weekly(charts, folder, [("delayed_bed_days_per_week", "total", "acute bed days after NR2R", "#555555")],
                           "Acute bed days after no reason to reside, per week", "weekly-delayed-bed-days"))
    else:
        out.append("<p>Weekly series are not in a compare folder (it holds per-replication KPIs only); run "
                   "<code>icsim run</code> on a scenario and report that folder to see its weekly trends. The bars "
                   "below compare the scenarios' means.</p>")
    out.append("<h3>Queues by pathway</h3>")
    if folder.weekly is not None:
        out.append(_weekly(charts, folder, [(f"p{i}_queue", "total", f"P{i} queue", rc.PATHWAY_COLOURS[f"p{i}"])
                                            for i in (1, 2, 3)],
                           "People in an acute bed waiting, by pathway, per week", "weekly-queues"))
    queues = folder.stats[folder.stats["kpi"].isin(["p1_queue", "p2_queue", "p3_queue"]) & (folder.stats["scope"] == "total")]
    queue_stats = queues.assign(scope=queues["kpi"].str[:2])
    pairs = [(f"p{i}", f"P{i}") for i in (1, 2, 3)]
    figure = rc.bar_chart(queue_stats, pairs, folder.series, "People in an acute bed waiting, by pathway (mean, 95% CI)",
                          "people", pathway_colours=True)
    alt = "Bar chart of people in an acute bed waiting by pathway (people, mean with 95% CI): " + "; ".join(
        f"{s}: " + ", ".join(f"P{i} {fmt(folder.value(f'p{i}_queue', 'total', s), 'people')}" for i in (1, 2, 3))
        for s in folder.series) + "."
    out.append(charts.add("queues-by-pathway", figure, alt))
    out.append("<h3>Bed occupancy and delays by site</h3>")
    out.append(_bars(charts, folder, "bed_occupancy", "short-term bed occupancy by site", reference=OCCUPANCY_WARNING))
    out.append(f"<p>Delays by site: {NOT_AVAILABLE} (delayed days are reported by reason, not by site); by reason:</p>")
    out.append(_bars(charts, folder, "bed_delayed_days_per_week", "short-term bed days after therapy ended, by reason"))
    return "\n".join(out)


def _beds(folder: Folder, charts: Charts) -> str:
    out = [kpi_table(folder, [("bed_los_days", "total"), ("bed_home_proportion", "total"), ("bed_occupancy", "total"),
                              ("beds_occupied", "total"), ("p2_wait_days", "total"), ("bed_short_stay_share", "total"),
                              ("people_waiting_in_beds", "total"),
                              ("bed_delayed_days_per_week", "total"), ("requests_per_week", "beds"),
                              ("starts_per_week", "beds"), ("capacity_funded", "beds")]),
           "<h3>Length of stay by site</h3>",
           _bars(charts, folder, "bed_los_days", "mean length of stay at discharge by site"),
           (f"<p>The distribution of length of stay: {NOT_AVAILABLE} (the run reports the mean length of "
            "stay and the share of stays under 27 days, not individual stays).</p>"),
           "<h3>Delayed days by reason</h3>",
           _bars(charts, folder, "bed_delayed_days_per_week", "short-term bed days after therapy ended, by reason"),
           "<h3>Occupancy by site</h3>",
           _bars(charts, folder, "beds_occupied", "occupied short-term beds by site")]
    return "\n".join(out)


def _reablement(folder: Folder, charts: Charts) -> str:
    out = [kpi_table(folder, [("reablement_starts_per_week", "total"), ("reablement_effectiveness_hours", "total"),
                              ("reablement_occupancy", "total"), ("p1_wait_days", "total"),
                              ("community_wait_days", "reablement"), ("homecare_package_hours_per_year", "total"),
                              ("capacity_funded", "reablement")]),
           "<h3>Starts by source</h3>",
           _bars(charts, folder, "reablement_starts_per_week", "reablement starts per week by source"),
           "<h3>Effectiveness</h3>",
           ("<p>Mean reduction in weekly homecare hours over episodes ending at home (the programme's 8-week moving "
            "average in the weekly series).</p>"),
           _bars(charts, folder, "reablement_effectiveness_hours", "reablement effectiveness", scopes=["total"]),
           "<h3>Waits</h3>",
           _bars(charts, folder, "community_wait_days", "community step-up wait by service"),
           _bars(charts, folder, "p1_wait_days", "hospital P1 wait for reablement", scopes=["total"])]
    return "\n".join(out)


def _hospital(folder: Folder, charts: Charts) -> str:
    out = [kpi_table(folder, [("admissions_per_week", "total"), ("acute_beds_occupied", "total"),
                              ("nr2r_los_days", "total"), ("p0_same_day_share", "total"),
                              ("delayed_bed_days_per_week", "total"), ("readmissions_per_week", "total")]),
           "<h3>No-reason-to-reside length of stay by pathway</h3>",
           _bars(charts, folder, "nr2r_los_days", "no-reason-to-reside length of stay by pathway",
                 scopes=[s for s in ("p0", "p1", "p2", "p3") if s in folder.scopes("nr2r_los_days")], pathway=True),
           "<h3>Acute bed days after no reason to reside, by reason</h3>",
           _bars(charts, folder, "delayed_bed_days_per_week", "acute bed days a week after no reason to reside, by reason"),
           "<h3>Pathway mix</h3>"]
    shares = pd.DataFrame([(s, f"p{i}", folder.value(f"pathway_share_p{i}", "total", s))
                           for s in folder.series for i in range(4)], columns=["series", "pathway", "mean"])
    alt = "Stacked bar chart of the discharge pathway mix (% of 65+ discharges): " + "; ".join(
        f"{s}: " + ", ".join(f"P{i} {fmt(folder.value(f'pathway_share_p{i}', 'total', s), 'proportion')}" for i in range(4))
        for s in folder.series) + "."
    out.append(charts.add("pathway-mix", rc.pathway_mix_chart(shares, folder.series), alt))
    return "\n".join(out)


def _home_ward(folder: Folder, charts: Charts) -> str:
    return "\n".join([
        kpi_table(folder, [("home_ward_starts_per_week", "total"), ("admissions_avoided_per_week", "total"),
                           ("capacity_funded", "home_ward")]),
        "<h3>Admissions avoided by route</h3>",
        _bars(charts, folder, "admissions_avoided_per_week", "front-door admissions avoided per week by route"),
        _bars(charts, folder, "home_ward_starts_per_week", "Home Ward starts per week", scopes=["total"]),
    ])


def _finance(folder: Folder, charts: Charts) -> str:
    if folder.kind != "compare" or folder.benefit is None:
        return ("<p>The financial benefit needs a comparison with a baseline: run <code>icsim compare BASELINE.toml "
                "SCENARIO.toml</code> and report that folder.</p>")
    from ..experiment.benefit import RANGE_METHOD

    out = [f"<p>Annual £ at the cost table's price year, saving positive. {html.escape(RANGE_METHOD)}.</p>"]
    for name in folder.series[1:]:
        rows = folder.benefit[folder.benefit["scenario"] == name]
        if rows.empty:
            continue
        out.append(f"<h3>{html.escape(name)}: benefit by component</h3>")
        net = rows[rows["component"] == "net"]
        net_text = (f"net {money(net['central'].iloc[0])} a year, 90% interval {money(net['low'].iloc[0])} to "
                    f"{money(net['high'].iloc[0])}") if len(net) else "no net row"
        steps = ", ".join(f"{r.component.replace('_', ' ')} {money(r.central)}" for r in rows.itertuples()
                          if r.component != "net" and str(r.in_net).lower() == "true")
        alt = f"Waterfall chart of {name}'s annual benefit (£ million a year): {steps}; {net_text}."
        out.append(charts.add(f"benefit-waterfall-{name}", rc.waterfall_chart(rows, name), alt))
        table_rows = [[r.component.replace("_", " "), str(r.category), "yes" if str(r.in_net).lower() == "true" else "no",
                       money(r.central), money(r.low), money(r.high), money(r.year_p10), money(r.year_p90)]
                      for r in rows.itertuples()]
        out.append(_table(["component", "category", "in net", "central", "90% interval: low", "high",
                           "one year: P10", "P90"], table_rows, numeric_from=3))
        if folder.who_saves is not None:
            who = folder.who_saves[folder.who_saves["scenario"] == name]
            if len(who):
                out.append(f"<h3>{html.escape(name)}: who saves what (components in the net)</h3>")
                out.append(_table(["payer", "components", "central", "90% interval"],
                                  [[r.payer_name, r.components.replace("_", " "), money(r.central),
                                    f"{money(r.low)} to {money(r.high)}"] for r in who.itertuples()], numeric_from=2))
        if folder.by_year is not None:
            years = folder.by_year[folder.by_year["scenario"] == name]
            if len(years) > 2:  # more than one reporting year and the NPV row
                out.append(f"<h3>{html.escape(name)}: over the years (realised, discounted at the Green Book rate)</h3>")
                out.append(_table(["year", "net benefit", "90% interval", "realised", "discount factor", "present value"],
                                  [[str(r.year), money(r.central), f"{money(r.low)} to {money(r.high)}",
                                    "" if r.year == "npv" else f"{r.realisation:.0%}",
                                    "" if r.year == "npv" else f"{r.discount_factor:.3f}", money(r.present_value_central)]
                                   for r in years.itertuples()], numeric_from=1))
        if folder.run_rate is not None:
            rate = folder.run_rate[folder.run_rate["scenario"] == name]
            total = rate[rate["item"] == "total"]
            if len(total):
                out.append(f"<h3>{html.escape(name)}: the run-rate view, beside the flow view</h3>")
                out.append(f"<p>{html.escape(str(total['note'].iloc[0]))} Run-rate total {money(total['central'].iloc[0])} a "
                           f"year (unit costs low to high: {money(total['low'].iloc[0])} to {money(total['high'].iloc[0])}), "
                           f"against the flow-based net {money(net['central'].iloc[0]) if len(net) else '–'}.</p>")
                items = rate[rate["item"] != "total"]
                out.append(_table(["item", "KPI", "KPI change", "annual volume", "central", "low", "high"],
                                  [[r.item.replace("_", " "), _label(r.kpi), kpi_difference(r.kpi_delta, KPI_BY_ID[r.kpi].unit),
                                    f"{r.annual_volume:,.0f}", money(r.central), money(r.low), money(r.high)]
                                   for r in items.itertuples()], numeric_from=2))
        if folder.sensitivity is not None and len(net):
            one_way = folder.sensitivity[folder.sensitivity["scenario"] == name]
            if (one_way["swing"] > 0).any():
                widest = one_way.iloc[0]
                alt = (f"Tornado chart of {name}'s net benefit with one unit cost at a time at its low and high: the widest is "
                       f"{widest.cost_item.replace('_', ' ')}, {money(widest.net_at_low)} to {money(widest.net_at_high)}.")
                out.append(charts.add(f"benefit-tornado-{name}", rc.tornado_chart(one_way, float(net["central"].iloc[0]), name), alt))
        if folder.people is not None:
            people = folder.people[folder.people["scenario"] == name]
            if len(people):
                out.append(f"<h3>{html.escape(name)}: people a year, each counted once (change against the baseline, "
                           "paired 95% CI)</h3>")
                out.append(_table(["people", "baseline", "change", "95% CI"],
                                  [[r.definition, f"{r.baseline:,.0f}", signed(r.change),
                                    f"{signed(r.ci95_low)} to {signed(r.ci95_high)}"] for r in people.itertuples()],
                                  numeric_from=1))
    costs = (folder.manifest.get("costs") or {}).get("costs") or {}
    if costs:
        year = (folder.manifest.get("costs") or {}).get("target_price_year", "")
        out.append(f"<h3>Unit costs used (each at its own price year; the benefit inflates them to {html.escape(str(year))})</h3>")
        # the sources are paragraphs: below the table, so the figures' columns keep their width
        out.append(_table(["item", "unit", "low", "central", "high", "price year"],
                          [[k.replace("_", " "), str(c.get("unit", "")).replace("_", " "), f"£{c.get('low', float('nan')):,.2f}",
                            f"£{c.get('value', float('nan')):,.2f}", f"£{c.get('high', float('nan')):,.2f}",
                            str(c.get("price_year", ""))] for k, c in costs.items()],
                          numeric_from=2))
        out.append("<p>Sources:</p><ul>" + "".join(f"<li><strong>{html.escape(k.replace('_', ' '))}</strong>: "
                                                     f"{html.escape(str(c.get('source', '')))}</li>" for k, c in costs.items())
                   + "</ul>")
        out.append(f"<p>Cost table: <code>{html.escape(str(folder.manifest.get('costs_file', '')))}</code>.</p>")
    return "\n".join(out)


def spans_years(folder: Folder) -> list[int]:
    if folder.yearly is None or folder.yearly.empty:
        return []
    return sorted(int(y) for y in folder.yearly["year"].unique())


def _blueprint(folder: Folder, charts: Charts) -> str:
    years = spans_years(folder)
    if len(years) < 2:
        where = "a compare folder holds no yearly fan" if folder.kind == "compare" else \
            "this run reports fewer than two years (yearly.csv)"
        return f"<p>No fan charts: {where}. Fan charts per year are drawn for runs of two or more years.</p>"
    from .charts import fan_chart

    out = [(f"<p>Each KPI per reporting year {years[0]}–{years[-1]} across replications: bands P2.5–P97.5 and "
            "P10–P90, line the median, dots the mean.</p>")]
    for kpi in FAN_KPIS:
        rows = folder.yearly[(folder.yearly["kpi"] == kpi) & (folder.yearly["scope"] == "total")].sort_values("year")
        if rows.empty or not np.isfinite(rows["mean"].to_numpy(dtype=float)).any():
            continue
        figure = rc.new_figure(7.5, 4.0)
        fan_chart(folder.yearly, kpi, "total", ax=figure.add_subplot())
        unit = rows["unit"].iloc[0]
        alt = (f"Fan chart of {_label(kpi)} ({rc.axis_unit(unit)}) per reporting year {years[0]}–{years[-1]}: mean "
               f"{fmt(rows['mean'].iloc[0], unit)} in {int(rows['year'].iloc[0])}, {fmt(rows['mean'].iloc[-1], unit)} in "
               f"{int(rows['year'].iloc[-1])} (P10–P90 {fmt(rows['p10'].iloc[-1], unit)} – {fmt(rows['p90'].iloc[-1], unit)}).")
        out.append(charts.add(f"fan-{kpi}", figure, alt))
    return "\n".join(out)


def flatten(value, prefix: str = "") -> dict[str, str]:
    """A nested scenario as key path -> value text; long lists (e.g. census rows) as a count."""
    if isinstance(value, dict):
        if not value:
            return {prefix: "{}"} if prefix else {}
        out: dict[str, str] = {}
        for key, item in value.items():
            out.update(flatten(item, f"{prefix}.{key}" if prefix else str(key)))
        return out
    if isinstance(value, list):
        if len(value) > 12:
            return {prefix: f"[{len(value)} items]"}
        if all(not isinstance(v, (dict, list)) for v in value):
            return {prefix: json.dumps(value)}
        out = {}
        for i, item in enumerate(value):
            out.update(flatten(item, f"{prefix}[{i}]"))
        return out
    return {prefix: json.dumps(value) if value is None or isinstance(value, bool) else str(value)}


def warnings(folder: Folder) -> list[str]:
    found = []
    for series in folder.series:
        for kpi, service in (("bed_occupancy", "short-term beds"), ("reablement_occupancy", "reablement")):
            # the total and every site or team: one full site is a queue even when the total is not
            rows = folder.stats[(folder.stats["series"] == series) & (folder.stats["kpi"] == kpi)]
            full = [(scope, float(mean)) for scope, mean in zip(rows["scope"], rows["mean"], strict=True)
                    if math.isfinite(mean) and mean >= OCCUPANCY_WARNING]
            for scope, value in sorted(full, key=lambda item: item[0] != "total"):
                where = service if scope == "total" else f"{service} at {scope}"
                found.append(f"{series}: {where} occupancy averages {fmt(value, 'proportion')} (≥ "
                             f"{OCCUPANCY_WARNING:.0%}): queues may be growing, so means depend on the run length.")
    run = folder.run_settings
    los = folder.value("bed_los_days", "total")
    if not math.isfinite(los):
        los = float(((folder.scenarios[folder.series[0]].get("beds") or {}).get("los") or {}).get("mean", float("nan")))
    warmup = float(run.get("warmup_days", folder.manifest.get("warmup_days", 0)) or 0)
    if math.isfinite(los) and warmup < 4 * los and not run.get("census"):
        found.append(f"Warm-up {warmup:g} days is shorter than 4 × the mean short-term bed stay ({4 * los:.0f} days) and "
                     "the run has no census start (run.census): the start may still be too empty.")
    replications = int(folder.manifest.get("replications", run.get("replications", 0)) or 0)
    if replications < 10:
        found.append(f"Only {replications} replications: confidence intervals are wide and unstable (use ≥ 10).")
    years = float(folder.manifest.get("years", run.get("years", 0)) or 0)
    if years < 1:
        found.append(f"The run reports {years:g} years, less than a year: seasonal effects are not averaged out.")
    return found


def _assumptions(folder: Folder, warning_list: list[str]) -> str:
    out = ["<h3>Warnings</h3>"]
    out.append("<ul>" + "".join(f"<li>{html.escape(w)}</li>" for w in warning_list) + "</ul>" if warning_list
               else "<p>None: occupancy below 97%, warm-up long enough or a census start, ≥ 10 replications, ≥ 1 year.</p>")
    out.append("<h3>Provenance</h3>")
    m = folder.manifest
    items = [("folder", str(folder.path)), ("kind", folder.kind), ("seed", str(m.get("seed", ""))),
             ("replications", str(m.get("replications", ""))), ("years", str(m.get("years", ""))),
             ("icsim version", str(m.get("icsim_version", ""))), ("git commit", str(m.get("git_commit", ""))),
             ("created (UTC)", str(m.get("created_utc", ""))), ("command", " ".join(map(str, m.get("command") or [])))]
    for key in ("scenario_file", "baseline_file", "scenario_files", "costs_file"):
        if key in m:
            items.append((key.replace("_", " "), str(m[key])))
    if "timings" in m:
        items.append(("timings", json.dumps(m["timings"])))
    out.append(_table(["item", "value"], [list(i) for i in items], numeric_from=9))
    out.append("<h3>Resolved scenario</h3>")
    out.append("<p>Each figure with its source, as written beside it in the scenario file (a source, "
               "“derived” or “assumption”; blank for settings left at the model's default).</p>")
    flat = {s: flatten(folder.scenarios[s]) for s in folder.series}
    sources = _sources(folder)
    keys = list(dict.fromkeys(k for s in folder.series for k in flat[s]))
    if len(folder.series) == 1:
        name = folder.series[0]
        rows = [[k, flat[name].get(k, ""), source_of(sources[name], k)] for k in keys]
        out.append(_table(["key path", "value", "source"], rows, numeric_from=9))
    else:
        rows = []
        for k in keys:
            values = [flat[s].get(k, "–") for s in folder.series]
            cited = dict.fromkeys(source_of(sources[s], k) for s in folder.series)
            rows.append([k, *values, "yes" if len(set(values)) > 1 else "", " | ".join(c for c in cited if c)])
        out.append("<p>Rows where the scenarios differ are marked in the “differs” column.</p>")
        out.append(_table(["key path", *folder.series, "differs", "source"], rows, numeric_from=99))
    return "\n".join(out)


def _sources(folder: Folder) -> dict[str, dict[str, str]]:
    """Each series' documented sources, as the run or compare recorded them in its manifest."""
    recorded = folder.manifest.get("sources") or {}
    if folder.kind == "run":
        return {folder.series[0]: recorded}
    return {name: recorded.get(name) or {} for name in folder.series}


CSS = """
.answer{border:2px solid #0072B2;border-radius:6px;padding:.2rem 1.2rem .6rem;margin:1rem 0;background:#f4f9fd}
.answer h2{border:none;margin-top:.6rem}.answer .big{font-size:1.35rem;margin:.4rem 0}
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;max-width:1100px;margin:0 auto;
padding:1rem 1.5rem;color:#1a1a1a;line-height:1.45}
h1{font-size:1.7rem;margin-bottom:.2rem}h2{border-bottom:2px solid #0072B2;padding-bottom:.2rem;margin-top:2.2rem}
h3{margin-top:1.4rem}table{border-collapse:collapse;margin:.6rem 0;font-size:.85rem;width:100%}
th,td{border:1px solid #ccc;padding:.25rem .45rem;text-align:left;vertical-align:top;overflow-wrap:anywhere}
th{background:#eef3f8}td.num{text-align:right;white-space:nowrap}
figure{margin:1rem 0}figure img{max-width:100%;height:auto;border:1px solid #ddd}
figcaption{font-size:.8rem;color:#444}nav ol{columns:2}.warn{background:#fff4e5;border-left:4px solid #D55E00;
padding:.5rem .8rem}code{background:#f3f3f3;padding:0 .2rem}
"""


def render(folder: Folder) -> tuple[str, list[Chart]]:
    """The report's HTML and its charts."""
    charts = Charts()
    warning_list = warnings(folder)
    builders = {"system": _system, "beds": _beds, "reablement": _reablement, "hospital": _hospital,
                "home-ward": _home_ward, "finance": _finance, "blueprint": _blueprint}
    bodies = {sid: builders[sid](folder, charts) for sid in builders}
    bodies["assumptions"] = _assumptions(folder, warning_list)
    m = folder.manifest
    if folder.kind == "run":
        title = f"icsim report: {folder.series[0]}"
        intro = (f"Run folder <code>{html.escape(str(folder.path))}</code>: scenario <strong>{html.escape(folder.series[0])}"
                 f"</strong>, {m.get('replications', '?')} replications of {m.get('years', '?')} years, seed {m.get('seed', '?')}.")
    else:
        title = f"icsim report: {', '.join(folder.series[1:])} vs {folder.series[0]}"
        intro = (f"Compare folder <code>{html.escape(str(folder.path))}</code>: {', '.join(map(html.escape, folder.series[1:]))} "
                 f"against the baseline <strong>{html.escape(folder.series[0])}</strong> over {m.get('replications', '?')} "
                 f"paired replications (common random numbers) of {m.get('years', '?')} years, seed {m.get('seed', '?')}.")
    toc = "".join(f'<li><a href="#{sid}">{html.escape(name)}</a></li>' for sid, name in SECTIONS)
    banner = (f'<p class="warn">{len(warning_list)} warning(s): see <a href="#assumptions">Assumptions</a>. '
              f"{html.escape(warning_list[0])}</p>" if warning_list else "")
    sections = "\n".join(f'<section id="{sid}"><h2>{html.escape(name)}</h2>\n{bodies[sid]}</section>'
                         for sid, name in SECTIONS)
    page = (f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">\n<title>{html.escape(title)}</title>\n'
            f"<style>{CSS}</style>\n</head>\n<body>\n<header><h1>{html.escape(title)}</h1>\n<p>{intro}</p>\n{_answer(folder)}\n{banner}\n"
            f'<nav aria-label="Contents"><h2>Contents</h2><ol>{toc}</ol></nav></header>\n<main>\n{sections}\n</main>\n'
            f"<footer><p>Made by <code>icsim report</code> from {html.escape(str(folder.path))} "
            f"(icsim {html.escape(str(m.get('icsim_version', '?')))}, commit {html.escape(str(m.get('git_commit', '?')))})."
            "</p></footer>\n</body>\n</html>\n")
    return page, charts.items


def default_out(folder: Path) -> Path:
    folder = Path(folder)
    return folder.parent / f"{folder.resolve().name}-report.html"


def charts_dir(out: Path) -> Path:
    return out.with_name(out.stem + "_charts")


def write_report(folder: Path, out: Path | None = None) -> Path:
    """Read the folder, render the report and write `out` and `<out stem>_charts/` (PNG and SVG of
    each chart). Nothing is written if the folder cannot be read."""
    out = Path(out) if out is not None else default_out(folder)
    if out.suffix.lower() not in (".html", ".htm"):
        raise InputError(f"--out {out}: expected an .html file")
    if out.is_dir():
        raise InputError(f"--out {out}: is a folder; expected an .html file")
    loaded = load_folder(folder)
    page, items = render(loaded)
    with staged(charts_dir(out), replace=True) as staging:
        for chart in items:
            (staging / f"{chart.slug}.png").write_bytes(chart.png)
            (staging / f"{chart.slug}.svg").write_bytes(chart.svg)
    write_atomic(out, page)
    return out
