# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Quickstart: run the baseline and read its KPIs
#
# **Who is it for?** An analyst who wants icsim's numbers in a notebook rather than in the
# terminal: to look at a scenario's KPIs, slice them, and draw their own charts.
#
# **What question does it answer?** "What does the Leeds-like baseline system look like over a
# year: how many people are admitted, how long do they wait for reablement (P1) and for a
# short-term bed (P2), and how full are the beds?" It uses the same Python API that `icsim run`
# uses, so the figures match the command line for the same seed and replications.
#
# Run sizes are small (a few replications) so the notebook runs in seconds; for decisions use
# 30 or more replications (`icsim run scenarios/baseline.toml --replications 30`).

# %%
import json

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from sim.notebook import show, work_from_repo_root

work_from_repo_root()  # scenario paths below are relative to the repository root, as in the README

import sim

# %% [markdown]
# ## Load the scenario and run a few replications
#
# A scenario is a validated TOML file; `load_scenario` resolves `extends` and rejects bad input
# with one line naming the key. `sim.run` is what `icsim run` runs: it simulates replications
# 0..n-1 with the scenario's master seed (each replication has its own random streams, so the
# result is the same serial or on two worker processes); given `out=`, it also writes the run
# folder.

# %%
scenario = sim.load_scenario("scenarios/baseline.toml")
print(scenario.meta.name, "-", scenario.meta.description)
print(f"run: {scenario.run.warmup_days} warm-up days, then {scenario.run.years:g} year(s) from {scenario.run.start_date}")

result = sim.run(scenario, replications=6, workers=2).result
print(f"{len(result.replications['replication'].unique())} replications, seed {result.seed}")

# %% [markdown]
# ## The summary table
#
# `result.summary` holds every KPI by scope (`total` is the system-wide figure; other scopes are
# sites, pathways or delay reasons): the mean across replications, its 95% confidence interval
# and the P10–P90 spread of replications. Here, a few headline KPIs.

# %%
HEADLINE = [
    "admissions_per_week", "bed_los_days", "nr2r_los_days", "p1_wait_days", "p2_wait_days",
    "bed_occupancy", "reablement_starts_per_week", "delayed_bed_days_per_week",
]  # fmt: skip
summary = result.summary
headline = summary[(summary["scope"] == "total") & summary["kpi"].isin(HEADLINE)].set_index("kpi").loc[HEADLINE]
headline[["unit", "mean", "ci95_low", "ci95_high", "p10", "p90"]].round(2)

# %% [markdown]
# ## A weekly series
#
# `result.weekly` has one row per replication, week, KPI and scope. Waits for reablement (P1)
# vary with the season; each thin line is one replication, the thick line their mean.

# %%
weekly = result.weekly
p1 = weekly[(weekly["kpi"] == "p1_wait_days") & (weekly["scope"] == "total")]
figure = Figure(figsize=(8, 3.5), layout="constrained")
FigureCanvasAgg(figure)
ax = figure.add_subplot()
for _, one in p1.groupby("replication"):
    ax.plot(one["week"], one["value"], color="tab:blue", alpha=0.25, linewidth=0.8)
mean = p1.groupby("week")["value"].mean()
ax.plot(mean.index, mean.to_numpy(), color="tab:blue", linewidth=2, label="mean of replications")
ax.set_xlabel("week of the reported year")
ax.set_ylabel("days")
ax.set_title("P1: mean wait for reablement, by week")
ax.legend()
show(figure)

# %% [markdown]
# ## Sanity checks against theory
#
# Little's law (occupancy = arrival rate × mean stay) must hold for the short-term beds: people
# starting a bed each week ÷ 7 × the mean bed length of stay ≈ beds occupied. The 95% interval
# must contain the mean, and the weekly series must average to about the yearly figure.

# %%
means = summary.set_index(["kpi", "scope"])["mean"]
little = means[("starts_per_week", "beds")] / 7 * means[("bed_los_days", "total")]
occupied = means[("beds_occupied", "total")]
print(f"Little's law: {little:.1f} beds from starts x LOS vs {occupied:.1f} beds occupied")
assert abs(little - occupied) / occupied < 0.05
assert (headline["ci95_low"] <= headline["mean"]).all() and (headline["mean"] <= headline["ci95_high"]).all()
assert abs(mean.mean() - means[("p1_wait_days", "total")]) < 0.5 * means[("p1_wait_days", "total")] + 0.5

checks = {
    "admissions_per_week": round(float(means[("admissions_per_week", "total")]), 2),
    "readmissions_per_week": round(float(means[("readmissions_per_week", "total")]), 2),
    "beds_occupied": round(float(occupied), 2),
    "little_beds": round(float(little), 2),
    "replications": int(headline["replications"].iloc[0]),
}
print("RESULT " + json.dumps(checks))
