"""The finance workbook of a compare folder (`benefit.xlsx`): the answer first, then the benefit
by component and by payer, people, KPI differences, the one-way sensitivity, the unit costs
with their sources and the assumptions, formatted for reading (£, widths, frozen headers).

Written with XlsxWriter through pandas; the tables are the compare folder's own, so the
workbook and the CSVs never disagree.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..experiment.benefit import largest_drivers
from .display import signed

MONEY = "£#,##0;−£#,##0;£0"
NUMBER = "#,##0.0;−#,##0.0;0"
# columns written in £ (every money column of the compare tables)
MONEY_COLUMNS = {"low", "central", "high", "year_p10", "year_p90", "net_at_low", "net_at_high", "swing", "present_value_central",
                 "unit_cost_low", "unit_cost_central", "unit_cost_high", "net benefit, central",
                 "90% interval: low", "90% interval: high", "one year: P10", "one year: P90"}


def answer(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """One row per scenario: the net with its interval and spread, the three largest drivers and
    the people helped most, in words a board can read."""
    rows = []
    benefit = tables["benefit"]
    for scenario, own in benefit.groupby("scenario", sort=False):
        net = own[own["component"] == "net"].iloc[0]
        drivers = largest_drivers(own)
        people = tables.get("people")
        helped = "" if people is None else "; ".join(
            f"{r.definition}: {signed(r.change)} a year"
            for r in people[people["scenario"] == scenario].itertuples())
        rows.append({
            "scenario": scenario,
            "net benefit, central": net["central"],
            "90% interval: low": net["low"],
            "90% interval: high": net["high"],
            "one year: P10": net["year_p10"],
            "one year: P90": net["year_p90"],
            "largest drivers": "; ".join(f"{r.component.replace('_', ' ')} £{r.central / 1e6:,.2f}m" for r in drivers.itertuples()),
            "people": helped,
        })
    return pd.DataFrame(rows)


def write_workbook(path: Path, tables: dict[str, pd.DataFrame], manifest: dict) -> Path:
    """Write the workbook to `path` (the caller stages it, so it appears whole or not at all)."""
    costs = (manifest.get("costs") or {})
    unit_costs = pd.DataFrame([
        {"item": key, "unit": c.get("unit", ""), "low": c.get("low"), "central": c.get("value"), "high": c.get("high"),
         "price year": c.get("price_year", ""), "source": c.get("source", "")}
        for key, c in (costs.get("costs") or {}).items()
    ])
    meaning = manifest.get("benefit_columns") or {}
    assumptions = pd.DataFrame(
        [{"assumption": key, "value": a.get("value"), "source": a.get("source", "")}
         for key, a in (costs.get("assumptions") or {}).items()]
        + [{"assumption": f"column {name}", "value": "", "source": text} for name, text in meaning.items()]
        + [{"assumption": "seed", "value": manifest.get("seed"), "source": "common random numbers: every scenario saw the same people"},
           {"assumption": "replications", "value": manifest.get("replications"), "source": "paired replications per scenario"},
           {"assumption": "price year", "value": costs.get("target_price_year", ""), "source": "every £ is at this price year"}]
    )
    sheets = {
        "Answer": answer(tables),
        "Benefit": tables["benefit"],
        "Who saves": tables.get("who_saves"),
        "By year": tables.get("benefit_by_year"),
        "People": tables.get("people"),
        "KPI differences": tables.get("kpi_deltas"),
        "Sensitivity": tables.get("sensitivity"),
        "Unit costs": unit_costs,
        "Assumptions": assumptions,
    }
    with pd.ExcelWriter(path, engine="xlsxwriter") as writer:
        book = writer.book
        header = book.add_format({"bold": True, "bg_color": "#E8EEF4", "border": 1, "text_wrap": True, "valign": "top"})
        money = book.add_format({"num_format": MONEY})
        number = book.add_format({"num_format": NUMBER})
        wrap = book.add_format({"text_wrap": True, "valign": "top"})
        for name, frame in sheets.items():
            if frame is None:
                continue
            frame.to_excel(writer, sheet_name=name, index=False)
            sheet = writer.sheets[name]
            sheet.freeze_panes(1, 1)
            for k, column in enumerate(frame.columns):
                sheet.write(0, k, column, header)
                lengths = frame[column].map(lambda value: len(str(value)))  # an empty cell (<NA>) has a length too
                width = min(max(len(str(column)), int(lengths.quantile(0.9)) if len(lengths) else 0) + 2, 60)
                if column in MONEY_COLUMNS or (name == "Unit costs" and column in ("low", "central", "high")):
                    sheet.set_column(k, k, max(width, 14), money)
                elif pd.api.types.is_float_dtype(frame[column]):
                    sheet.set_column(k, k, max(width, 10), number)
                else:
                    sheet.set_column(k, k, width, wrap if width >= 60 else None)
    return Path(path)
