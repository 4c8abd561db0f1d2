"""The synthetic extract is the simulation, written in the data contract: KPIs computed from the
extract must reproduce the KPIs of the same replication (an end-to-end check of the records,
the extract writer and the observed-KPI code, which share nothing but the definitions)."""

import json
import math

import pandas as pd

from sim.calibrate.observed import OBSERVABLE, observed_kpis
from sim.calibrate.synth import synthesize
from sim.experiment.kpis import replication_kpis
from sim.inputs.loading import load_scenario
from sim.model import simulate

# The data contract (docs/data-contract.md), written out here rather than taken from the writer.
# the contract's columns, with the optional locality (docs/data-contract.md)
SPELL_COLUMNS = ["spell_id", "person_id", "age", "admission_ts", "ready_ts", "discharge_ts", "pathway", "site", "locality"]
EPISODE_COLUMNS = [
    "episode_id", "person_id", "service", "site", "source", "referral_ts", "start_ts", "end_ts", "outcome",
    "care_hours_start", "care_hours_end", "locality",
]
SERVICES = {"reablement", "bed", "home_ward"}
SOURCES = {"hospital_discharge", "front_door", "community"}
OUTCOMES = {"home", "home_with_care", "long_term_care", "readmitted", "died"}


def _read(folder):
    spells = pd.read_csv(folder / "spells.csv")
    episodes = pd.read_csv(folder / "ic_episodes.csv")
    for column in ("admission_ts", "ready_ts", "discharge_ts"):
        spells[column] = pd.to_datetime(spells[column], format="ISO8601")
    for column in ("referral_ts", "start_ts", "end_ts"):
        episodes[column] = pd.to_datetime(episodes[column], format="ISO8601")
    return spells, episodes


def test_kpis_of_the_extract_equal_the_kpis_of_the_simulation(tmp_path):
    folder = synthesize(load_scenario("scenarios/baseline.toml"), years=0.5, seed=11, out=tmp_path / "x")
    truth = load_scenario(folder / "truth.json")
    spells, episodes = _read(folder)
    assert list(spells.columns) == SPELL_COLUMNS and list(episodes.columns) == EPISODE_COLUMNS
    observed, _ = observed_kpis(spells, episodes, truth)
    simulated, _ = replication_kpis(simulate(truth, 0).daily, truth, 0)
    both = observed.merge(simulated, on=["kpi", "scope", "unit"], suffixes=("_obs", "_sim"))
    assert len(both) == len(OBSERVABLE)
    for row in both.itertuples():
        # timestamps are written to the second and care hours to 0.01 h: nothing else differs
        assert math.isclose(row.value_obs, row.value_sim, rel_tol=2e-4), (row.kpi, row.value_obs, row.value_sim)


def test_censoring_and_identifiers(tmp_path):
    folder = synthesize(load_scenario("scenarios/baseline.toml"), years=0.25, seed=3, out=tmp_path / "y")
    spells, episodes = _read(folder)
    extract_date = pd.Timestamp(json.loads((folder / "manifest.json").read_text())["extract_date"])
    for frame, columns in ((spells, ("admission_ts", "ready_ts", "discharge_ts")), (episodes, ("referral_ts", "start_ts", "end_ts"))):
        for column in columns:
            assert (frame[column].dropna() <= extract_date).all(), column
    still_in = spells["discharge_ts"].isna()
    assert still_in.sum() > 100  # people in hospital at the extract date are right-censored ...
    assert spells.loc[still_in, "pathway"].isna().all()  # ... with no pathway yet
    assert spells.loc[~still_in, "pathway"].isin(["P0", "P1", "P2", "P3", "died"]).all()
    assert set(episodes["service"]) == SERVICES and set(episodes["source"]) == SOURCES
    assert set(episodes["outcome"].dropna()) <= OUTCOMES
    assert episodes["outcome"].isna().equals(episodes["end_ts"].isna())  # blank exactly when not ended
    assert spells["spell_id"].is_unique and episodes["episode_id"].is_unique
    assert (spells["age"] >= 65).all()


def test_faults_are_injected_and_counted(tmp_path):
    folder = synthesize(load_scenario("scenarios/baseline.toml"), years=0.25, seed=3, out=tmp_path / "z", faults=True)
    faults = json.loads((folder / "faults.json").read_text())
    raw = pd.read_csv(folder / "spells.csv", dtype=str)
    assert len(raw) == faults["spells_rows_before_faults"] + faults["duplicated_rows"]
    assert raw.duplicated().sum() == faults["duplicated_rows"]
    assert (raw["pathway"] == "PX").sum() == faults["unknown_pathway_code"]
    assert raw["admission_ts"].isna().sum() == faults["missing_admission_ts"]
    assert raw["admission_ts"].str.endswith("+01:00", na=False).sum() == faults["timezone_offset_valid"]
