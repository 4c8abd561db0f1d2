"""Does the calibrated model reproduce history? Simulated weekly KPIs against observed ones.

For each observable KPI and week: the simulated band (2.5th–97.5th percentile over
replications) and mean, against the observed value. Per KPI: mean absolute error, mean absolute
percentage error and bias of the simulated weekly mean, and the share of observed weeks inside
the simulated 95% band (about 95% if the model is right and weeks were independent).

The gate: a KPI fails when its observed history mean lies outside the 95% prediction interval
of one replication's history mean (the model cannot have produced it) AND the difference is
material: more than TOLERANCE_RELATIVE of the observed value, or TOLERANCE_PP percentage points
for a share. Outside the interval but within tolerance is reported, not failed.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..experiment.runner import run
from ..experiment.stats import prediction_interval
from ..inputs.scenario import Scenario
from .observed import OBSERVABLE, observed_kpis

TOLERANCE_RELATIVE = 0.10  # a difference a planner would act on (assumption; docs/decisions.md)
TOLERANCE_PP = 2.0  # for shares, in percentage points
FAILS, OUTSIDE, WITHIN = "fails", "outside band, within tolerance", "within band"
# the inputs that drive each KPI: where to look when it fails
LIKELY_INPUTS = {
    "admissions_per_week": "arrivals, front_door.diversion, readmission shares",
    "home_ward_starts_per_week": "home_ward.capacity and los, front_door.diversion.home_ward",
    "reablement_starts_per_week": "reablement.capacity and duration, pathway shares, community referrals",
    "bed_los_days": "beds.los, beds.discharge_process, onward waits (reablement, placements)",
    "nr2r_los_days": "acute.discharge_process, service capacities (waits), acute.discharge_weekday, placements.delay, localities",
    "beds_occupied": "beds.sites capacity, beds.los, beds.discharge_process, onward waits",
    "acute_beds_occupied": "arrivals, acute.clinical_los, NR2R (discharge process, waits for services)",
    "reablement_effectiveness_hours": "reablement.hours_start, hours_retained_share, outcomes",
    "p0_same_day_share": "acute.p0_same_day_share, acute.discharge_process.p0",
    "bed_short_stay_share": "beds.los family and spread, beds.discharge_process",
    "p1_wait_days": "reablement.capacity and duration, localities, acute.discharge_weekday",
    "p2_wait_days": "beds.sites capacity, beds.los, beds.p1_wait and onward waits, acute.discharge_weekday",
}


def simulated_bands(weekly: pd.DataFrame) -> pd.DataFrame:
    keep = pd.MultiIndex.from_tuples(OBSERVABLE)
    weekly = weekly[pd.MultiIndex.from_frame(weekly[["kpi", "scope"]]).isin(keep)]
    grouped = weekly.groupby(["kpi", "scope", "unit", "week"])["value"]
    return pd.DataFrame({
        "sim_mean": grouped.mean(), "sim_p2_5": grouped.quantile(0.025), "sim_p97_5": grouped.quantile(0.975),
    }).reset_index()  # fmt: skip


def compare_weeks(scenario: Scenario, spells: pd.DataFrame, episodes: pd.DataFrame, replications: int,
                  workers: int = 1, from_week: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(weekly, table): observed vs simulated by week, and error measures by KPI, over weeks >= from_week."""
    result = run(scenario, replications=replications, workers=workers)
    _, observed = observed_kpis(spells, episodes, scenario)
    weekly = simulated_bands(result.weekly).merge(
        observed.rename(columns={"value": "observed"}), on=["kpi", "scope", "unit", "week"], how="inner"
    )
    weekly = weekly[weekly["week"] >= from_week].reset_index(drop=True)
    # each replication's mean over the same weeks as the observed mean
    compared = result.weekly.merge(weekly[["kpi", "scope", "unit", "week"]], on=["kpi", "scope", "unit", "week"])
    history_means = compared.groupby(["kpi", "scope", "unit", "replication"])["value"].mean()
    rows = []
    for (kpi, scope, unit), group in weekly.groupby(["kpi", "scope", "unit"], sort=False):
        error = group["sim_mean"] - group["observed"]
        inside = (group["observed"] >= group["sim_p2_5"]) & (group["observed"] <= group["sim_p97_5"])
        nonzero = group["observed"] != 0
        low, high = prediction_interval(history_means.loc[(kpi, scope, unit)].to_numpy(dtype=float))
        observed_mean = group["observed"].mean()
        rows.append({
            "kpi": kpi, "scope": scope, "unit": unit, "weeks": len(group),
            "observed_mean": observed_mean, "simulated_mean": group["sim_mean"].mean(),
            "bias": error.mean(), "mae": error.abs().mean(),
            "mape_percent": 100 * (error[nonzero].abs() / group.loc[nonzero, "observed"].abs()).mean(),
            "share_weeks_in_95_band": inside.mean(),
            "history_mean_low": low, "history_mean_high": high,
            "verdict": verdict(observed_mean, group["sim_mean"].mean(), low, high, unit),
            "likely_inputs": LIKELY_INPUTS.get(kpi, "acute.pathway_shares, acute.death_share"),
        })  # fmt: skip
    return weekly, pd.DataFrame(rows)


def verdict(observed: float, simulated: float, low: float, high: float, unit: str) -> str:
    """The gate for one KPI (module docstring)."""
    if low <= observed <= high:
        return WITHIN
    difference = abs(simulated - observed)
    material = 100 * difference > TOLERANCE_PP if unit == "proportion" else difference > TOLERANCE_RELATIVE * abs(observed)
    return FAILS if material else OUTSIDE


def failing(table: pd.DataFrame) -> pd.DataFrame:
    """The KPIs the gate fails."""
    return table[table["verdict"] == FAILS]


def plot_weeks(weekly: pd.DataFrame, folder: Path, title: str) -> list[Path]:
    """One PNG per KPI: the simulated 95% band and mean, and the observed weeks."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for (kpi, scope, unit), group in weekly.groupby(["kpi", "scope", "unit"], sort=False):
        fig, ax = plt.subplots(figsize=(8, 3.2))
        ax.fill_between(group["week"], group["sim_p2_5"], group["sim_p97_5"], color="tab:blue", alpha=0.25,
                        label="simulated 95% band")
        ax.plot(group["week"], group["sim_mean"], color="tab:blue", lw=1, label="simulated mean")
        ax.plot(group["week"], group["observed"], color="black", lw=1.2, marker=".", ms=3, label="observed")
        ax.set_title(f"{title}: {kpi}" + ("" if scope == "total" else f" ({scope})"), fontsize=10)
        ax.set_xlabel("week of history")
        ax.set_ylabel(unit)
        ax.legend(fontsize=8, loc="best")
        fig.tight_layout()
        path = folder / f"{kpi}.png"
        fig.savefig(path, dpi=110)
        plt.close(fig)
        paths.append(path)
    return paths


def gate_warning(failed: pd.DataFrame, what: str) -> list[str]:
    """Lines for the top of params.toml and quality.md: empty when the gate passes."""
    if failed.empty:
        return []
    return [
        f"WARNING: this calibration does not reproduce the history ({what}): {len(failed)} KPI(s) fail the gate.",
        *(f"  {row.kpi}: observed {row.observed_mean:.4g}, simulated {row.simulated_mean:.4g}; look at {row.likely_inputs}"
          for row in failed.itertuples()),
        "Do not use it for decisions until these are explained (quality.md, docs/calibration.md).",
        "",
    ]


def quality_markdown(table: pd.DataFrame, warning: list[str], what: str, data_quality: pd.DataFrame | None = None) -> str:
    """quality.md: the gate's verdict on every compared KPI (and the warning, if any), then the
    data-quality rules that broke rows (`data_quality`: the extract's quality table)."""
    lines = [f"# Calibration quality: {what} against the history", ""]
    lines += [f"> {line}" if line else ">" for line in warning] or ["Every compared KPI passes the gate."]
    lines += [
        "",
        f"A KPI fails when its observed history mean is outside the 95% prediction interval of one replication's "
        f"history mean and differs by more than {TOLERANCE_RELATIVE:.0%} (shares: {TOLERANCE_PP:g} percentage points). "
        "Data quality rules: quality.csv.",
        "",
        "| KPI | observed mean | simulated mean | 95% prediction interval | weeks in 95% band | verdict |",
        "|---|---|---|---|---|---|",
    ]
    for row in table.itertuples():
        lines.append(f"| {row.kpi} | {row.observed_mean:.4g} | {row.simulated_mean:.4g} | "
                     f"{row.history_mean_low:.4g} to {row.history_mean_high:.4g} | {row.share_weeks_in_95_band:.0%} | {row.verdict} |")
    if data_quality is not None:
        broken = data_quality[data_quality["rows_broken"] > 0]
        lines += [
            "", "## Data faults", "",
            "The data-quality rules that broke rows (counts 1–4 shown as <5); every rule, with those that broke none, is in quality.csv.",
            "",
        ]
        if broken.empty:
            lines.append("No rule broke a row.")
        else:
            lines += ["| file | rule | rows | action | note |", "|---|---|---:|---|---|"]
            for r in broken.itertuples():
                n = "<5" if 0 < r.rows_broken < 5 else str(r.rows_broken)
                cells = [str(v).replace("|", "\\|").replace("\n", " ") for v in (r.file, r.rule, n, r.action, r.note)]
                lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"
