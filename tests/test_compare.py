"""Scenario comparison: common random numbers make paired differences exact and tight."""

import numpy as np
import openpyxl
import pandas as pd
import pytest
from helpers import baseline, cost_item, cost_table, modify, toml_text
from scipy import stats

from sim.experiment.compare import compare


def short(scenario, years=0.5, replications=8):
    return modify(scenario, {"run.years": years, "run.replications": replications})


def test_a_scenario_compared_with_itself_differs_by_exactly_zero():
    base = short(baseline(), years=0.25, replications=3)
    deltas = compare(base, {"same": base}).kpi_deltas()
    finite = deltas.dropna(subset=["delta"])
    assert len(finite) > 50
    assert (finite["delta"] == 0).all() and (finite["ci95_low"] == 0).all() and (finite["ci95_high"] == 0).all()
    assert (finite["baseline"] == finite["scenario_value"]).all()


def test_paired_intervals_are_narrower_than_unpaired_for_a_small_capacity_change():
    """Same seed, +4 beds at one site: the same people meet both systems, so per-replication
    noise (demand, lengths of stay) cancels in the paired difference. An unpaired (Welch)
    interval for the same difference of means must be wider."""
    base = short(baseline())
    more = modify(base, {"meta.name": "beds_plus_4", "beds.sites.hub_6.beds": 26})
    comparison = compare(base, {"beds_plus_4": more})
    paired = comparison.paired("beds_plus_4")
    for kpi in ("p2_wait_days", "nr2r_los_days", "beds_occupied", "delayed_bed_days_per_week"):
        rows = paired[(paired["kpi"] == kpi) & (paired["scope"] == "total")]
        n = len(rows)
        a, b = rows["baseline"].to_numpy(), rows["scenario_value"].to_numpy()
        t = stats.t.ppf(0.975, n - 1)
        paired_half = t * np.std(b - a, ddof=1) / np.sqrt(n)
        unpaired_half = stats.t.ppf(0.975, 2 * n - 2) * np.sqrt(np.var(a, ddof=1) / n + np.var(b, ddof=1) / n)
        assert paired_half < unpaired_half, (kpi, paired_half, unpaired_half)
        reported = comparison.kpi_deltas().set_index(["kpi", "scope"]).loc[(kpi, "total")]
        assert np.isclose(reported["ci95_high"] - reported["delta"], paired_half)


def test_scenarios_are_run_with_the_baseline_run_settings():
    """A scenario file's own seed and horizon must not break the pairing."""
    base = short(baseline(), years=0.25, replications=2)
    other = modify(base, {"meta.name": "other", "run.seed": 1, "run.years": 2.0, "run.replications": 5})
    comparison = compare(base, {"other": other})
    result = comparison.scenarios["other"]
    assert result.seed == comparison.baseline.seed
    assert result.scenario.run == base.run
    assert result.replications["replication"].nunique() == 2


def test_compare_command_writes_the_folder_and_charges_capacity_nobody_needs(tmp_path):
    """+40 beds at the least-used site, priced with a synthetic cost table (--costs) in which a
    funded bed day costs £600 (low £500, high £700) and an acute bed day £100 (high £200): the
    beds cost 40 × 365 = 14,600 bed days × £600 = £8,760,000 a year (low £7,300,000, high
    £10,220,000) whether used or not, while the most the extra beds could save is the P2
    queue's acute bed days (≈ 10 people waiting × 365 × £200 ≈ £0.7m): net must be negative."""
    import json
    import subprocess
    import sys
    from pathlib import Path


    extra = tmp_path / "beds_plus_40.toml"
    baseline_file = Path("scenarios/baseline.toml").resolve()
    extra.write_text(
        f'extends = "{baseline_file}"\n[meta]\nname = "beds_plus_40"\n[beds.sites.hub_6]\nbeds = 62\n'
    )
    costs = cost_table()
    costs["costs"]["funded_bed_day"] = cost_item(600.0, 500.0, 700.0, unit="funded_bed_day")
    (tmp_path / "costs.toml").write_text(toml_text(costs))
    out = tmp_path / "cmp"
    icsim = str(Path(sys.executable).parent / "icsim")
    subprocess.run(
        [icsim, "compare", "scenarios/baseline.toml", str(extra), "-n", "3", "--years", "0.5", "--out", str(out), "-q",
         "--costs", str(tmp_path / "costs.toml")],
        check=True,
    )
    names = {p.name for p in out.iterdir()}
    assert {"manifest.json", "kpi_deltas.csv", "people.csv", "benefit.csv", "run_rate.csv"} <= names
    deltas = pd.read_csv(out / "kpi_deltas.csv")
    assert list(deltas.columns[:9]) == ["scenario", "kpi", "scope", "unit", "baseline", "scenario_value", "delta", "ci95_low", "ci95_high"]
    funded = deltas[(deltas.kpi == "capacity_funded") & (deltas.scope == "beds")].iloc[0]
    assert funded.delta == 40
    benefit = pd.read_csv(out / "benefit.csv").set_index("component")
    assert benefit.loc["net", "central"] < 0 and benefit.loc["net", "high"] < 0
    beds = benefit.loc["funded_capacity_beds"]
    # 40 funded beds × 365 days at PERT(£500, £600, £700) = Beta(3, 3) on £500-£700: central at
    # £600; the 90% interval at its 95th and 5th percentiles (a cost: low is the dearer end)
    assert beds["central"] == pytest.approx(-8_760_000)
    assert beds["low"] == pytest.approx(-14_600 * (500 + 200 * stats.beta.ppf(0.95, 3, 3)), rel=0.01)
    assert beds["high"] == pytest.approx(-14_600 * (500 + 200 * stats.beta.ppf(0.05, 3, 3)), rel=0.01)
    manifest = json.loads((out / "manifest.json").read_text())
    assert "year_p10" in benefit.columns and "90%" in manifest["benefit_columns"]["low"]
    # the finance workbook holds the same numbers as the CSVs, formatted in £
    book = openpyxl.load_workbook(out / "benefit.xlsx")
    assert book.sheetnames == ["Answer", "Benefit", "Who saves", "By year", "People", "KPI differences", "Sensitivity",
                               "Unit costs", "Assumptions"]
    by_year = pd.read_csv(out / "benefit_by_year.csv")
    assert list(by_year["year"].astype(str)) == ["2025", "npv"]  # half a year from 2025-04-01: one reporting year
    assert by_year["central"].iloc[0] == pytest.approx(by_year["central"].iloc[1])
    answer = {cell.value: k for k, cell in enumerate(book["Answer"][1])}
    net_cell = book["Answer"].cell(row=2, column=answer["net benefit, central"] + 1)
    assert net_cell.value == pytest.approx(benefit.loc["net", "central"]) and "£" in net_cell.number_format
    who = pd.read_csv(out / "who_saves.csv")
    assert who["central"].sum() == pytest.approx(benefit.loc["net", "central"])
    assert manifest["scenarios"]["beds_plus_40"]["beds"]["sites"]["hub_6"]["beds"] == 62
    assert manifest["costs"]["costs"]["funded_bed_day"]["value"] == 600.0  # the table given is the one recorded


def test_people_counters_say_what_they_count_and_keep_their_sign():
    """Each counter is the change (scenario − baseline) of one people_per_year scope, with a
    one-sentence definition: fewer people going home from hospital shows as a negative change,
    never as an "improvement"."""
    from sim.experiment.compare import PEOPLE, Comparison

    class Fixed(Comparison):
        def __init__(self):
            self.scenarios = {"s": None}

        def kpi_deltas(self):
            rows = [("s", "people_per_year", scope, "people/year", 1000.0, 1000.0 + change, change, change - 5, change + 5, 4)
                    for (_c, scope, _d), change in zip(PEOPLE, (-10.0, -656.0, 57.0, 0.0, 30.0, -2.0), strict=True)]
            return pd.DataFrame(rows, columns=["scenario", "kpi", "scope", "unit", "baseline", "scenario_value", "delta",
                                               "ci95_low", "ci95_high", "replications"])

    people = Fixed().people().set_index("counter")
    home = people.loc["people_home_from_hospital"]
    assert home.change == -656 and (home.ci95_low, home.ci95_high) == (-661, -651)
    assert home.definition.startswith("people discharged from hospital to their own home")
    assert all(d and d[0].islower() and not d.endswith(".") for d in people["definition"])


def test_a_compare_shorter_than_a_reporting_year_still_writes_its_workbook(tmp_path):
    """0.05 years (18 days) is under the 28 days a part-year needs, so the by-year table has no
    year: its empty cells once crashed the workbook's column widths (a traceback, exit 1)."""
    from sim.workflows import compare as run_compare

    outcome = run_compare("baseline", ["beds_plus_12"], replications=2, years=0.05, out=tmp_path / "short")
    book = openpyxl.load_workbook(outcome.folder / "benefit.xlsx")
    assert "Answer" in book.sheetnames and (outcome.folder / "manifest.json").is_file()
