"""What each section of the report shows, as plain data for its template (sections.html.j2): its
tables and charts in the order the page shows them (the charts are numbered in that order). The
prose around them is in the template."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from ..experiment.benefit import RANGE_METHOD
from ..experiment.kpis import FAN_KPIS, KPI_BY_ID, PROGRAMME_KPIS
from ..inputs.sources import source_of
from . import report_charts as rc
from .display import kpi_difference, money, signed
from .display import kpi_value as fmt
from .report_folder import OCCUPANCY_WARNING, Folder, spans_years
from .report_parts import Chart, Charts, Table, Unavailable, kpi_table, label, named, table


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


class Sections:
    """Each section's data, one method per section id ("home-ward" is home_ward)."""

    def __init__(self, folder: Folder, charts: Charts):
        self.folder, self.charts = folder, charts

    # -- charts ----------------------------------------------------------------------------------

    def bars(self, kpi: str, what: str, scopes: list[str] | None = None, pathway: bool = False,
             reference: float | None = None) -> Chart | Unavailable:
        """One KPI's mean with its 95% CI by scope, one bar per series."""
        folder = self.folder
        scopes = folder.scopes(kpi) if scopes is None else scopes
        if not scopes:
            return Unavailable(what)
        pairs = [(s, s.upper() if pathway else s.replace("_", " ")) for s in scopes]
        unit = KPI_BY_ID[kpi].unit
        title = f"{what[0].upper()}{what[1:]} (mean, 95% CI)"
        figure = rc.bar_chart(folder.stats[folder.stats["kpi"] == kpi], pairs, folder.series, title, unit,
                              pathway_colours=pathway, reference=reference)
        parts = []
        for series in folder.series:
            values = ", ".join(f"{name} {fmt(folder.value(kpi, s, series), unit)}" for s, name in pairs)
            parts.append(f"{series}: {values}" if len(folder.series) > 1 else values)
        alt = f"Bar chart of {what} ({rc.axis_unit(unit)}, mean with 95% CI): " + "; ".join(parts) + "."
        slug = kpi + ("-total" if scopes == ["total"] else "-by-" + ("pathway" if pathway else "scope"))
        return self.charts.add(slug, figure, alt)

    def weekly(self, lines: list[tuple[str, str, str, str]], title: str, slug: str) -> Chart | None:
        """Weekly series (kpi, scope, label, colour) of a run folder; None if it has none of them."""
        weekly = self.folder.weekly
        if weekly is None or weekly[weekly["kpi"].isin([k for k, *_ in lines])].empty:
            return None
        unit = KPI_BY_ID[lines[0][0]].unit
        means = "; ".join(f"{name} averages {fmt(self.folder.value(kpi, scope), unit)}" for kpi, scope, name, _ in lines)
        alt = f"Line chart of {title.lower()} by week ({rc.axis_unit(unit)}), mean over replications with P10–P90 band: {means}."
        return self.charts.add(slug, rc.weekly_chart(weekly, lines, title, unit), alt)

    # -- sections ----------------------------------------------------------------------------------

    def system(self) -> dict:
        folder, colour = self.folder, rc.PATHWAY_COLOURS
        out = {"programme": kpi_table(folder, [(k, "total") for k in PROGRAMME_KPIS]), "paired": folder.kind == "compare",
               "weekly": None, "queues_weekly": None}
        if folder.weekly is not None:
            out["weekly"] = [
                self.weekly([("reablement_starts_per_week", "total", "reablement starts", colour["p1"])],
                            "Reablement starts per week (6-week moving average)", "weekly-reablement-starts"),
                self.weekly([("reablement_effectiveness_hours", "total", "reduction in homecare hours", colour["p1"])],
                            "Reablement effectiveness: homecare hours a week saved per episode (8-week moving average)",
                            "weekly-reablement-effectiveness"),
                self.weekly([(f"p{i}_wait_days", "total", f"P{i} wait", colour[f"p{i}"]) for i in (1, 2, 3)],
                            "Wait from referral to start by pathway, per week", "weekly-waits"),
                self.weekly([("delayed_bed_days_per_week", "total", "acute bed days after NR2R", "#555555")],
                            "Acute bed days after no reason to reside, per week", "weekly-delayed-bed-days"),
            ]
            out["queues_weekly"] = self.weekly([(f"p{i}_queue", "total", f"P{i} queue", colour[f"p{i}"]) for i in (1, 2, 3)],
                                               "People in an acute bed waiting, by pathway, per week", "weekly-queues")
        queues = folder.stats[folder.stats["kpi"].isin(["p1_queue", "p2_queue", "p3_queue"]) & (folder.stats["scope"] == "total")]
        figure = rc.bar_chart(queues.assign(scope=queues["kpi"].str[:2]), [(f"p{i}", f"P{i}") for i in (1, 2, 3)],
                              folder.series, "People in an acute bed waiting, by pathway (mean, 95% CI)", "people",
                              pathway_colours=True)
        alt = "Bar chart of people in an acute bed waiting by pathway (people, mean with 95% CI): " + "; ".join(
            f"{s}: " + ", ".join(f"P{i} {fmt(folder.value(f'p{i}_queue', 'total', s), 'people')}" for i in (1, 2, 3))
            for s in folder.series) + "."
        out["queues"] = self.charts.add("queues-by-pathway", figure, alt)
        out["occupancy"] = self.bars("bed_occupancy", "short-term bed occupancy by site", reference=OCCUPANCY_WARNING)
        out["by_reason"] = self.bars("bed_delayed_days_per_week", "short-term bed days after therapy ended, by reason")
        return out

    def beds(self) -> dict:
        return {
            "table": kpi_table(self.folder, [
                ("bed_los_days", "total"), ("bed_home_proportion", "total"), ("bed_occupancy", "total"),
                ("beds_occupied", "total"), ("p2_wait_days", "total"), ("bed_short_stay_share", "total"),
                ("people_waiting_in_beds", "total"), ("bed_delayed_days_per_week", "total"), ("requests_per_week", "beds"),
                ("starts_per_week", "beds"), ("capacity_funded", "beds")]),
            "los": self.bars("bed_los_days", "mean length of stay at discharge by site"),
            "delayed": self.bars("bed_delayed_days_per_week", "short-term bed days after therapy ended, by reason"),
            "occupied": self.bars("beds_occupied", "occupied short-term beds by site"),
        }

    def reablement(self) -> dict:
        return {
            "table": kpi_table(self.folder, [
                ("reablement_starts_per_week", "total"), ("reablement_effectiveness_hours", "total"),
                ("reablement_occupancy", "total"), ("p1_wait_days", "total"), ("community_wait_days", "reablement"),
                ("homecare_package_hours_per_year", "total"), ("capacity_funded", "reablement")]),
            "by_source": self.bars("reablement_starts_per_week", "reablement starts per week by source"),
            "effectiveness": self.bars("reablement_effectiveness_hours", "reablement effectiveness", scopes=["total"]),
            "community_wait": self.bars("community_wait_days", "community step-up wait by service"),
            "p1_wait": self.bars("p1_wait_days", "hospital P1 wait for reablement", scopes=["total"]),
        }

    def hospital(self) -> dict:
        folder = self.folder
        out = {
            "table": kpi_table(folder, [("admissions_per_week", "total"), ("acute_beds_occupied", "total"),
                                        ("nr2r_los_days", "total"), ("p0_same_day_share", "total"),
                                        ("delayed_bed_days_per_week", "total"), ("readmissions_per_week", "total")]),
            "nr2r": self.bars("nr2r_los_days", "no-reason-to-reside length of stay by pathway",
                              scopes=[s for s in ("p0", "p1", "p2", "p3") if s in folder.scopes("nr2r_los_days")],
                              pathway=True),
            "delayed": self.bars("delayed_bed_days_per_week", "acute bed days a week after no reason to reside, by reason"),
        }
        shares = pd.DataFrame([(s, f"p{i}", folder.value(f"pathway_share_p{i}", "total", s))
                               for s in folder.series for i in range(4)], columns=["series", "pathway", "mean"])
        alt = "Stacked bar chart of the discharge pathway mix (% of 65+ discharges): " + "; ".join(
            f"{s}: " + ", ".join(f"P{i} {fmt(folder.value(f'pathway_share_p{i}', 'total', s), 'proportion')}" for i in range(4))
            for s in folder.series) + "."
        out["mix"] = self.charts.add("pathway-mix", rc.pathway_mix_chart(shares, folder.series), alt)
        return out

    def home_ward(self) -> dict:
        return {
            "table": kpi_table(self.folder, [("home_ward_starts_per_week", "total"), ("admissions_avoided_per_week", "total"),
                                             ("capacity_funded", "home_ward")]),
            "avoided": self.bars("admissions_avoided_per_week", "front-door admissions avoided per week by route"),
            "starts": self.bars("home_ward_starts_per_week", "Home Ward starts per week", scopes=["total"]),
        }

    def finance(self) -> dict | None:
        folder = self.folder
        if folder.kind != "compare" or folder.benefit is None:
            return None
        scenarios = []
        for name in folder.series[1:]:
            rows = folder.benefit[folder.benefit["scenario"] == name]
            if not rows.empty:
                scenarios.append(self._finance_of(name, rows))
        return {"range_method": RANGE_METHOD, "scenarios": scenarios, "costs": self._costs()}

    def _finance_of(self, name: str, rows: pd.DataFrame) -> dict:
        folder, charts = self.folder, self.charts
        net = rows[rows["component"] == "net"]
        net_text = (f"net {money(net['central'].iloc[0])} a year, 90% interval {money(net['low'].iloc[0])} to "
                    f"{money(net['high'].iloc[0])}") if len(net) else "no net row"
        steps = ", ".join(f"{r.component.replace('_', ' ')} {money(r.central)}" for r in rows.itertuples()
                          if r.component != "net" and str(r.in_net).lower() == "true")
        alt = f"Waterfall chart of {name}'s annual benefit (£ million a year): {steps}; {net_text}."
        out: dict = {"name": name, "waterfall": charts.add(f"benefit-waterfall-{name}", rc.waterfall_chart(rows, name), alt),
                     "who": None, "years": None, "run_rate": None, "tornado": None, "people": None}
        out["components"] = table(
            ["component", "category", "in net", "central", "90% interval: low", "high", "one year: P10", "P90"],
            [[r.component.replace("_", " "), str(r.category), "yes" if str(r.in_net).lower() == "true" else "no",
              money(r.central), money(r.low), money(r.high), money(r.year_p10), money(r.year_p90)] for r in rows.itertuples()],
            numeric_from=3)
        who = folder.who_saves[folder.who_saves["scenario"] == name] if folder.who_saves is not None else ()
        if len(who):
            out["who"] = table(["payer", "components", "central", "90% interval"],
                               [[r.payer_name, r.components.replace("_", " "), money(r.central), f"{money(r.low)} to {money(r.high)}"]
                                for r in who.itertuples()], numeric_from=2)
        years = folder.by_year[folder.by_year["scenario"] == name] if folder.by_year is not None else ()
        if len(years) > 2:  # more than one reporting year and the NPV row
            out["years"] = table(["year", "net benefit", "90% interval", "realised", "discount factor", "present value"],
                                 [[str(r.year), money(r.central), f"{money(r.low)} to {money(r.high)}",
                                   "" if r.year == "npv" else f"{r.realisation:.0%}",
                                   "" if r.year == "npv" else f"{r.discount_factor:.3f}", money(r.present_value_central)]
                                  for r in years.itertuples()], numeric_from=1)
        rate = folder.run_rate[folder.run_rate["scenario"] == name] if folder.run_rate is not None else None
        total = rate[rate["item"] == "total"] if rate is not None else ()
        if len(total):
            out["run_rate"] = {
                "note": str(total["note"].iloc[0]), "central": money(total["central"].iloc[0]),
                "low": money(total["low"].iloc[0]), "high": money(total["high"].iloc[0]),
                "net": money(net["central"].iloc[0]) if len(net) else "–",
                "table": table(["item", "KPI", "KPI change", "annual volume", "central", "low", "high"],
                               [[r.item.replace("_", " "), named(r.kpi), kpi_difference(r.kpi_delta, KPI_BY_ID[r.kpi].unit),
                                 f"{r.annual_volume:,.0f}", money(r.central), money(r.low), money(r.high)]
                                for r in rate[rate["item"] != "total"].itertuples()], numeric_from=2)}
        one_way = folder.sensitivity[folder.sensitivity["scenario"] == name] if folder.sensitivity is not None else None
        if one_way is not None and len(net) and (one_way["swing"] > 0).any():
            widest = one_way.iloc[0]
            alt = (f"Tornado chart of {name}'s net benefit with one unit cost at a time at its low and high: the widest is "
                   f"{widest.cost_item.replace('_', ' ')}, {money(widest.net_at_low)} to {money(widest.net_at_high)}.")
            out["tornado"] = charts.add(f"benefit-tornado-{name}", rc.tornado_chart(one_way, float(net["central"].iloc[0]), name), alt)
        people = folder.people[folder.people["scenario"] == name] if folder.people is not None else ()
        if len(people):
            out["people"] = table(["people", "baseline", "change", "95% CI"],
                                  [[r.definition, f"{r.baseline:,.0f}", signed(r.change),
                                    f"{signed(r.ci95_low)} to {signed(r.ci95_high)}"] for r in people.itertuples()])
        return out

    def _costs(self) -> dict | None:
        recorded = self.folder.manifest.get("costs") or {}
        costs = recorded.get("costs") or {}
        if not costs:
            return None
        return {
            "year": str(recorded.get("target_price_year", "")),
            "table": table(["item", "unit", "low", "central", "high", "price year"],
                           [[k.replace("_", " "), str(c.get("unit", "")).replace("_", " "), f"£{c.get('low', float('nan')):,.2f}",
                             f"£{c.get('value', float('nan')):,.2f}", f"£{c.get('high', float('nan')):,.2f}",
                             str(c.get("price_year", ""))] for k, c in costs.items()], numeric_from=2),
            "sources": [(k.replace("_", " "), str(c.get("source", ""))) for k, c in costs.items()],
            "file": str(self.folder.manifest.get("costs_file", "")),
        }

    def blueprint(self) -> dict:
        folder = self.folder
        years = spans_years(folder)
        if len(years) < 2:
            where = "a compare folder holds no yearly fan" if folder.kind == "compare" else \
                "this run reports fewer than two years (yearly.csv)"
            return {"years": None, "where": where, "fans": []}
        from .charts import fan_chart

        fans = []
        for kpi in FAN_KPIS:
            rows = folder.yearly[(folder.yearly["kpi"] == kpi) & (folder.yearly["scope"] == "total")].sort_values("year")
            if rows.empty or not np.isfinite(rows["mean"].to_numpy(dtype=float)).any():
                continue
            figure = rc.new_figure(7.5, 4.0)
            ax = fan_chart(folder.yearly, kpi, "total", ax=figure.add_subplot())
            ax.set_title(f"{named(kpi).text}: fan of replications per reporting year", fontsize=9)
            unit = rows["unit"].iloc[0]
            alt = (f"Fan chart of {label(kpi)} ({rc.axis_unit(unit)}) per reporting year {years[0]}–{years[-1]}: mean "
                   f"{fmt(rows['mean'].iloc[0], unit)} in {int(rows['year'].iloc[0])}, {fmt(rows['mean'].iloc[-1], unit)} in "
                   f"{int(rows['year'].iloc[-1])} (P10–P90 {fmt(rows['p10'].iloc[-1], unit)} – {fmt(rows['p90'].iloc[-1], unit)}).")
            fans.append(self.charts.add(f"fan-{kpi}", figure, alt))
        return {"years": (years[0], years[-1]), "where": "", "fans": fans}

    def assumptions(self, warning_list: list[str]) -> dict:
        folder, m = self.folder, self.folder.manifest
        items = [("folder", str(folder.path)), ("kind", folder.kind), ("seed", str(m.get("seed", ""))),
                 ("replications", str(m.get("replications", ""))), ("years", str(m.get("years", ""))),
                 ("icsim version", str(m.get("icsim_version", ""))), ("git commit", str(m.get("git_commit", ""))),
                 ("created (UTC)", str(m.get("created_utc", ""))), ("command", " ".join(map(str, m.get("command") or [])))]
        items += [(key.replace("_", " "), str(m[key])) for key in ("scenario_file", "baseline_file", "scenario_files", "costs_file")
                  if key in m]
        if "timings" in m:
            items.append(("timings", json.dumps(m["timings"])))
        return {"warnings": warning_list, "provenance": table(["item", "value"], [list(i) for i in items], numeric_from=9),
                "scenario": self._scenario_table(), "compared": len(folder.series) > 1}

    def _scenario_table(self) -> Table:
        """Each key path of the resolved scenario(s) with its value(s) and its documented source."""
        folder = self.folder
        flat = {s: flatten(folder.scenarios[s]) for s in folder.series}
        recorded = folder.manifest.get("sources") or {}
        sources = {folder.series[0]: recorded} if folder.kind == "run" else \
            {name: recorded.get(name) or {} for name in folder.series}
        keys = list(dict.fromkeys(k for s in folder.series for k in flat[s]))
        if len(folder.series) == 1:
            name = folder.series[0]
            return table(["key path", "value", "source"], [[k, flat[name].get(k, ""), source_of(sources[name], k)] for k in keys],
                         numeric_from=9)
        rows = []
        for k in keys:
            values = [flat[s].get(k, "–") for s in folder.series]
            cited = dict.fromkeys(source_of(sources[s], k) for s in folder.series)
            rows.append([k, *values, "yes" if len(set(values)) > 1 else "", " | ".join(c for c in cited if c)])
        return table(["key path", *folder.series, "differs", "source"], rows, numeric_from=99)
