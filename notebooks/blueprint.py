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
# # Blueprint: how much intermediate care will the next years need?
#
# **Who is it for?** A commissioner or planner writing a multi-year blueprint, who must say what
# happens if capacity stays as it is, and how much capacity each year would need.
#
# **What question does it answer?** "With demand growing with the 65+ population (the 85+
# fastest) and today's capacity held, when do waits start to run away, and how many reablement
# places does each year need to keep the P1 wait within 2 days?"
#
# `scenarios/blueprint.toml` is the baseline from April 2026 with demand driven by the ONS
# population projection by age band, and it **starts from today's position** (a census of who
# is in beds, queues and reablement on 1 April 2026) so no warm-up is needed. The README runs it
# for 10 years × 20 replications (95 s) and plans over 10 years (10 minutes); here we run
# 4 years × 3 replications and plan 2 years with 3 replications on a coarse 25-place grid, so the
# notebook takes about half a minute. Figures late in a run whose queues grow without bound are
# a warning, not a forecast.

# %%
import json

import pandas as pd
from IPython.display import display

from sim.notebook import show, work_from_repo_root

work_from_repo_root()  # scenario paths below are relative to the repository root, as in the README

import sim
from sim.outputs.charts import fan_chart, fan_grid

# %% [markdown]
# ## "Do nothing": today's capacity against growing demand

# %%
blueprint = sim.load_scenario("scenarios/blueprint.toml")
print(blueprint.meta.description)
print(f"census start: {len(blueprint.run.census_rows)} people in the system on {blueprint.run.start_date}")
result = sim.run(blueprint.with_run(years=4), replications=3, workers=2).result

# %% [markdown]
# `result.yearly` holds every KPI for each reporting year (365-day blocks from 1 April): the mean
# and the P2.5 / P10 / P50 / P90 / P97.5 across replications.

# %%
yearly = result.yearly
HEADLINE = ["admissions_per_week", "p1_wait_days", "p2_wait_days", "delayed_bed_days_per_week"]
total = yearly[(yearly["scope"] == "total") & yearly["kpi"].isin(HEADLINE)]
total.pivot(index="kpi", columns="year", values="mean").loc[HEADLINE].round(1)

# %% [markdown]
# The fan of the P1 wait (waiting for reablement) per year: the bands are the spread of
# replications, the line their median.

# %%
show(fan_chart(yearly, "p1_wait_days").figure)

# %%
show(fan_grid(yearly, ["admissions_per_week", "p2_wait_days", "bed_occupancy", "reablement_occupancy"]))

# %% [markdown]
# ## Offered load: why waits run away
#
# The **offered load** of a service is its arrival rate × the mean time a place is held ÷ its
# capacity: the share of capacity demand would use if nobody ever waited. Below 1, queues come
# and go; at or above 1, demand exceeds capacity on average and the queue grows without bound:
# every year's wait is longer than the last, and the yearly averages depend on the run length.
# By Little's law the mean time held is occupied place-days ÷ starts, so offered load =
# occupancy × requests ÷ starts (as `sim.plan` computes it).

# %%
per_rep = result.yearly_replications
wide = per_rep.pivot_table(index=["year", "replication"], columns=["kpi", "scope"], values="value")
offered = (
    wide[("reablement_occupancy", "total")] * wide[("requests_per_week", "reablement")]
    / wide[("starts_per_week", "reablement")]
).groupby("year").mean()
load = pd.DataFrame({
    "reablement offered load (410 places)": offered.round(3),
    "P1 wait, days": wide[("p1_wait_days", "total")].groupby("year").mean().round(1),
})
display(load)

# %% [markdown]
# ## The capacity each year needs
#
# `sim.plan` (what `icsim plan` runs) simulates candidate capacities on common random
# numbers and picks, for each year, the least that meets the target with the stated
# probability (here: P1 wait ≤ 2 days in at least 90% of replications, which with 3
# replications means all of them). `step=25` searches a 25-place grid: quick, but each answer
# is only the least capacity on that grid.

# %%
planned = sim.plan(
    blueprint.with_run(years=2, replications=3), service="reablement", target="p1_wait_days <= 2", confidence=0.9,
    step=25, workers=2,
)
chosen, evaluations = planned.plan, planned.evaluations
chosen[["year", "capacity", "offered_load", "probability_target_met", "capacity_now", "offered_load_now"]]

# %%
evaluations.pivot(index="capacity", columns="year", values="probability_target_met")

# %% [markdown]
# ## Checks
#
# Demand grows every year; the P1 wait at today's capacity grows as offered load approaches 1;
# the capacity needed never falls from year to year, is at least today's, and leaves offered
# load below 1.

# %%
admissions = total[total["kpi"] == "admissions_per_week"].set_index("year")["mean"]
assert admissions.is_monotonic_increasing
assert load["P1 wait, days"].iloc[-1] > 3 * load["P1 wait, days"].iloc[0]
assert offered.iloc[-1] > offered.iloc[0] and 0.9 < offered.iloc[0] < 1.05
assert chosen["capacity"].notna().all()
assert chosen["capacity"].is_monotonic_increasing and (chosen["capacity"] >= chosen["capacity_now"]).all()
assert (chosen["offered_load"] < 1).all()
print("RESULT " + json.dumps({
    "years": [int(y) for y in admissions.index],
    "admissions_per_week": [round(float(v), 2) for v in admissions],
    "offered_load": [round(float(v), 4) for v in offered],
    "plan_years": [int(y) for y in chosen["year"]],
    "plan_capacity": [int(c) for c in chosen["capacity"]],
    "capacity_now": int(chosen["capacity_now"].iloc[0]),
}))
