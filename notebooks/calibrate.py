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
# # Calibrate: from a historic extract to a fitted scenario, and how far to trust it
#
# **Who is it for?** An analyst with a patient-level extract (hospital spells and intermediate-care
# episodes in the data contract, `docs/data-contract.md`) who wants a scenario fitted to it.
#
# **What question does it answer?** "Does the calibration recover what generated the data, and
# does the fitted model reproduce the observed weeks?" Real data have no known truth, so we make
# an extract from a known scenario (`icsim synth`: the baseline, with realistic data faults
# injected), calibrate it (`icsim calibrate`), then compare (1) the data-quality report with the
# faults injected, (2) a fitted parameter with the truth, and (3) the simulated weekly KPIs with
# the observed ones. If this round trip fails, a real calibration cannot be trusted either.
#
# Sizes are small (one year of history, 4 validation replications); the README's walk-through
# uses 3 years and 20. Everything is written into a temporary folder, not the repository.

# %%
import json
import math
import re
import shutil
import tempfile
from pathlib import Path

import pandas as pd
from IPython.display import display

from sim.notebook import work_from_repo_root

work_from_repo_root()  # scenario paths below are relative to the repository root, as in the README

from sim import load_scenario
from sim.workflows import calibrate, synth  # what `icsim calibrate` and `icsim synth` run

pd.set_option("display.max_colwidth", 60)
work = Path(tempfile.mkdtemp(prefix="icsim-calibrate-"))
print("writing into", work)

# %% [markdown]
# ## 1. A synthetic extract with a known truth
#
# One replication of the baseline is simulated with patient-level records and written as
# `spells.csv` and `ic_episodes.csv`, right-censored at the extract date. With `faults=True`
# duplicates, missing timestamps, unknown codes and mixed time zones are injected and counted
# in `faults.json`.

# %%
extract, _truth = synth(work / "extract", years=1.0, seed=21, scenario="baseline", faults=True)
faults = json.loads((extract / "faults.json").read_text())
print(sorted(p.name for p in extract.iterdir()))
{k: v for k, v in faults.items() if isinstance(v, int)}

# %% [markdown]
# ## 2. Calibrate: quality report, fits, validation
#
# `calibrate` checks every data-quality rule (fatal problems stop it), fits every input the
# extract identifies, writes `params.toml` (a scenario `icsim run` accepts) and runs the fitted
# model over the history to compare it with the observed weeks.

# %%
folder = calibrate(extract, work / "calibration", base="baseline", replications=4, workers=2).folder
print(sorted(p.name for p in folder.iterdir()))

# %% [markdown]
# The data-quality report: every rule that found something, how many rows it affected and what
# was done with them. Counts under 5 are shown as "<5" so that no small group can be recognised.

# %%
quality = pd.read_csv(folder / "quality.csv", dtype={"rows_broken": str})
found = quality[~quality["rows_broken"].isin(["0"])]
found[["file", "rule", "rows_broken", "action"]]

# %% [markdown]
# ## 3. A fitted parameter against the truth
#
# The mean length of a Home Ward stay and of a reablement episode. `fits.csv` gives each fitted figure with its sample size, method and a
# fit statistic; the truth is the baseline scenario that generated the extract (`truth.json`).
# (Pathway shares and clinical stays are not compared here: in the baseline, routes under
# pressure, deaths while waiting and board-round readiness make what the extract shows differ
# from the NEEDS the scenario draws; learning those rules from an extract is open work, #13.)

# %%
fits = pd.read_csv(folder / "fits.csv")
truth = load_scenario(extract / "truth.json")
fitted = load_scenario(folder / "params.toml")
by_parameter = fits.set_index("parameter")
rows = []
for parameter, fit, true in (("home_ward.los", fitted.home_ward.los, truth.home_ward.los),
                             ("reablement.duration", fitted.reablement.duration, truth.reablement.duration)):
    n = int(by_parameter.loc[parameter, "n"])
    rows.append((true.mean, fit.mean, true.sd / math.sqrt(n), by_parameter.loc[parameter, "statistic"]))
comparison = pd.DataFrame(rows, columns=["truth", "fitted", "standard error", "fit statistic"],
                          index=["Home Ward stay mean (days)", "reablement episode mean (days)"])
comparison["errors in se"] = (comparison["fitted"] - comparison["truth"]) / comparison["standard error"]
display(comparison)

# %% [markdown]
# ## 4. Validation: the fitted model over the history against the observed weeks
#
# MAPE is the mean absolute percentage error of the simulated weekly mean; "in band" the share
# of weeks whose observed value falls inside the simulated 95% band.

# %%
validation = pd.read_csv(folder / "validation.csv")
validation[["kpi", "unit", "observed_mean", "simulated_mean", "mape_percent", "share_weeks_in_95_band"]].round(3)

# %% [markdown]
# ## Checks
#
# Every injected duplicate is counted; the fitted figures lie within 4 standard errors of the
# truth (a false alarm about once in 16,000); the fitted model's weekly admissions are within 10%
# of the observed; no output holds a person identifier.

# %%
duplicates = quality.set_index(["file", "rule"]).loc[("spells.csv", "exact duplicate row"), "rows_broken"]
assert int(duplicates) == faults["duplicated_rows"], (duplicates, faults["duplicated_rows"])
assert (comparison["errors in se"].abs() <= 4).all(), comparison
admissions = validation.set_index("kpi").loc["admissions_per_week"]
assert admissions["mape_percent"] < 10
identifier = re.compile(r"\bP\d{7}\b")  # the extract's person ids look like P0001234
assert not any(identifier.search(p.read_text()) for p in folder.rglob("*.csv")), "no person identifier in any output"

print("RESULT " + json.dumps({
    "home_ward_los_fitted": round(float(fitted.home_ward.los.mean), 4),
    "home_ward_stays": int(by_parameter.loc["home_ward.los", "n"]),
    "reablement_duration_fitted": round(float(fitted.reablement.duration.mean), 4),
    "reablement_episodes": int(by_parameter.loc["reablement.duration", "n"]),
    "duplicates_counted": int(duplicates), "duplicates_injected": faults["duplicated_rows"],
    "admissions_mape_percent": round(float(admissions["mape_percent"]), 3),
}))

# %% [markdown]
# Remove the temporary folder (skip this cell to keep the extract and calibration for a look).

# %%
shutil.rmtree(work)
