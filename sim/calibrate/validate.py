"""Does the calibrated model reproduce history? Simulated weekly KPIs against observed ones.

For each observable KPI and week: the simulated band (2.5th–97.5th percentile over
replications) and mean, against the observed value. Per KPI: mean absolute error, mean absolute
percentage error and bias of the simulated weekly mean, and the share of observed weeks inside
the simulated 95% band (about 95% if the model is right and weeks were independent).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..experiment.runner import run
from ..inputs.scenario import Scenario
from .observed import OBSERVABLE, observed_kpis


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
    rows = []
    for (kpi, scope, unit), group in weekly.groupby(["kpi", "scope", "unit"], sort=False):
        error = group["sim_mean"] - group["observed"]
        inside = (group["observed"] >= group["sim_p2_5"]) & (group["observed"] <= group["sim_p97_5"])
        nonzero = group["observed"] != 0
        rows.append({
            "kpi": kpi, "scope": scope, "unit": unit, "weeks": len(group),
            "observed_mean": group["observed"].mean(), "simulated_mean": group["sim_mean"].mean(),
            "bias": error.mean(), "mae": error.abs().mean(),
            "mape_percent": 100 * (error[nonzero].abs() / group.loc[nonzero, "observed"].abs()).mean(),
            "share_weeks_in_95_band": inside.mean(),
        })  # fmt: skip
    return weekly, pd.DataFrame(rows)


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

