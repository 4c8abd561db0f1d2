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
# # HomeFirst: what did the programme's levers change, and what is that worth?
#
# **Who is it for?** A programme or finance lead who must say what a change to the system does
# to flow and what it is worth a year, with an honest range.
#
# **What question does it answer?** "Against the baseline, how do the HomeFirst levers
# (shorter bed stays, faster discharge processes, 30 more reablement places, more front-door
# diversion) move the KPIs, and what is the annual financial benefit?" Both scenarios run on
# **common random numbers**: replication r of each sees the same people, so the difference is
# taken within a replication and its paired confidence interval is much narrower than comparing
# two independent runs. The benefit is valued with the default cost table
# (`scenarios/costs/default.toml`) as a low / central / high range.
#
# Six replications keep this quick; `icsim compare ... --replications 30` is the real run
# (the README quotes £7.2m central a year from it).

# %%
import json

import numpy as np

from sim.notebook import work_from_repo_root

work_from_repo_root()  # scenario paths below are relative to the repository root, as in the README

import sim

# %% [markdown]
# ## Run both scenarios on the same seed

# %%
# what `icsim compare` runs: both scenarios on one seed, then the paired differences and the benefit
outcome = sim.compare("scenarios/baseline.toml", ["scenarios/homefirst.toml"], replications=6, workers=2)
comparison = outcome.comparison
print(f"seed {comparison.baseline.seed}; simulated in {comparison.timings['simulation_seconds']:.0f} s of CPU")

# %% [markdown]
# ## KPI deltas with paired 95% confidence intervals
#
# `delta` = HomeFirst − baseline, averaged over replications; the interval is the paired
# t-interval of the per-replication differences.

# %%
KPIS = [
    "admissions_per_week", "bed_los_days", "nr2r_los_days", "p1_wait_days", "p2_wait_days",
    "reablement_starts_per_week", "delayed_bed_days_per_week", "bed_occupancy",
]  # fmt: skip
deltas = outcome.tables["kpi_deltas"]
table = deltas[(deltas["scope"] == "total") & deltas["kpi"].isin(KPIS)].set_index("kpi").loc[KPIS]
table[["unit", "baseline", "scenario_value", "delta", "ci95_low", "ci95_high"]].round(3)

# %% [markdown]
# Why pairing matters: the same difference with an unpaired interval (as if the two runs had
# used different people) is much wider.

# %%
paired = comparison.paired("homefirst")
# admissions: both runs see the same arrivals, so the pairing removes their Poisson noise
rows = paired[(paired["kpi"] == "admissions_per_week") & (paired["scope"] == "total")]
n = len(rows)
paired_half = 2.571 * rows["delta"].std(ddof=1) / np.sqrt(n)  # t(0.975, 5)
unpaired_half = 2.228 * np.sqrt((rows["baseline"].var(ddof=1) + rows["scenario_value"].var(ddof=1)) / n)  # t(0.975, 10)
print(f"admissions change {rows['delta'].mean():.1f} a week: paired ±{paired_half:.2f}, unpaired ±{unpaired_half:.2f}")

# %% [markdown]
# ## People a year, each counted once

# %%
outcome.tables["people"].drop(columns="scenario").round(1)

# %% [markdown]
# ## The benefit range (£ a year)
#
# Positive = saving. Low is the P10 over replications at low unit costs, central the median at
# central costs, high the P90 at high costs. "Capacity released" (freed bed days) is cash only if
# beds close; the extra reablement places are a funded-capacity cost whether used or not.

# %%
value = outcome.tables["benefit"]  # valued with the shipped cost table (pass costs= for another)
value[["component", "category", "in_net", "low", "central", "high"]].round(-3)

# %% [markdown]
# ## Checks
#
# The levers shorten bed stays and waits (intervals entirely below zero); pairing narrows the
# interval; the range is ordered and the net central benefit is positive and of the size
# docs/validation.md reports (its V9 row: £13.8m-£23.7m published).

# %%
assert (table.loc[["bed_los_days", "nr2r_los_days", "admissions_per_week"], "ci95_high"] < 0).all()
assert table.loc["reablement_starts_per_week", "ci95_low"] > 0
assert paired_half < unpaired_half
net = value.set_index("component").loc["net"]
assert net["low"] <= net["central"] <= net["high"]
assert 2e6 < net["central"] < 40e6, net["central"]
print("RESULT " + json.dumps({
    "bed_los_delta": round(float(table.loc["bed_los_days", "delta"]), 4),
    "admissions_paired_half": round(float(paired_half), 3), "admissions_unpaired_half": round(float(unpaired_half), 3),
    "bed_los_ci": [round(float(table.loc["bed_los_days", c]), 4) for c in ("ci95_low", "ci95_high")],
    "net_low": round(float(net["low"])), "net_central": round(float(net["central"])), "net_high": round(float(net["high"])),
    "replications": int(table["replications"].iloc[0]),
}))
