"""Observed KPIs from a historic extract, computed by the same code as simulated ones.

The extract is turned into the model's daily accumulators (admissions by day, stays summed on
the day of discharge, bed-days integrated over days, ...) on the simulation's day grid, and
`sim.experiment.kpis.replication_kpis` does the rest, so observed and simulated KPIs share one definition.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..experiment.kpis import replication_kpis
from ..inputs.scenario import Scenario
from ..model.beds import SHORT_STAY_DAYS
from ..model.monitor import Monitor

SOURCE_TO_MODEL = {"hospital_discharge": "hospital", "community": "community", "front_door": "front_door"}
# KPIs an extract can show, compared in validation (queues and delay reasons are not in the contract)
OBSERVABLE = (
    ("admissions_per_week", "total"), ("home_ward_starts_per_week", "total"), ("reablement_starts_per_week", "total"),
    ("bed_los_days", "total"), ("nr2r_los_days", "total"), ("pathway_share_p0", "total"), ("pathway_share_p1", "total"),
    ("pathway_share_p2", "total"), ("pathway_share_p3", "total"), ("beds_occupied", "total"),
    ("acute_beds_occupied", "total"), ("reablement_effectiveness_hours", "total"), ("p0_same_day_share", "total"),
    ("bed_short_stay_share", "total"), ("p1_wait_days", "total"), ("p2_wait_days", "total"),
)  # fmt: skip


def bed_then_reablement(beds: pd.DataFrame, reablement: pd.DataFrame) -> pd.DataFrame:
    """Each reablement episode (columns suffixed `_p1`, its row number in `reablement` as
    `row_p1`) beside the bed stay of the same person it followed: referred while they were in
    the bed or within the hour after they left it (an open bed stay counting as not yet ended)."""
    onward = reablement.reset_index(drop=True).reset_index(names="row").add_suffix("_p1")
    pairs = beds.merge(onward, left_on="person_id", right_on="person_id_p1")
    inside = (pairs["referral_ts_p1"] >= pairs["start_ts"]) & (
        pairs["end_ts"].isna() | (pairs["referral_ts_p1"] <= pairs["end_ts"] + pd.Timedelta(hours=1)))
    return pairs[inside]


def after_bed(episodes: pd.DataFrame) -> np.ndarray:
    """Whether each episode is reablement that followed a short-term bed (`bed_then_reablement`).
    Every other `hospital_discharge` referral came from an acute bed."""
    reablement = episodes["service"] == "reablement"
    pairs = bed_then_reablement(episodes[episodes["service"] == "bed"], episodes[reablement])
    flags = np.zeros(int(reablement.sum()), dtype=bool)
    flags[pairs["row_p1"].to_numpy()] = True
    out = np.zeros(len(episodes), dtype=bool)
    out[reablement.to_numpy()] = flags
    return out


def _days(series: pd.Series, origin: pd.Timestamp) -> np.ndarray:
    """Timestamps -> simulation days (NaT -> NaN); anything before the grid starts at day 0."""
    return np.maximum(((series - origin) / pd.Timedelta(days=1)).to_numpy(dtype=float), 0.0)


def observed_daily(spells: pd.DataFrame, episodes: pd.DataFrame, scenario: Scenario) -> dict:
    """The extract as the model's daily accumulators on `scenario`'s day grid.

    `scenario.run.start_date` must be the first day of the history; the warm-up days before it
    stay empty. Open stays (blank end) count up to the end of the history.
    """
    origin = pd.Timestamp(scenario.run.start_date) - pd.Timedelta(days=scenario.run.warmup_days)
    end = float(scenario.end_day)
    m = Monitor(scenario.end_day)
    admit = _days(spells["admission_ts"], origin)
    ready = _days(spells["ready_ts"], origin)
    leave = _days(spells["discharge_ts"], origin)
    for a, r, d, pathway in zip(admit, ready, leave, spells["pathway"].astype(object).fillna(""), strict=True):
        m.interval("acute.occupied", "total", a, d if d == d else end)
        m.count("hospital.admissions", "total", a)
        if pathway == "died" and d == d:
            m.count("hospital.deaths", "total", d)
        elif pathway in ("P0", "P1", "P2", "P3") and d == d and r == r:
            p = pathway.lower()
            m.count("hospital.discharges", p, d)
            if np.floor(d) == np.floor(r):
                m.count("hospital.ready_day_discharges", p, d)
            m.count("hospital.nr2r_days", p, d, d - r)
            m.count("hospital.los_days", p, d, d - a)
    start = _days(episodes["start_ts"], origin)
    stop = _days(episodes["end_ts"], origin)
    waited = ((episodes["start_ts"] - episodes["referral_ts"]) / pd.Timedelta(days=1)).to_numpy(dtype=float)
    # the model's sources: from an acute bed "hospital", after a short-term bed "short_term_bed"
    bed_before = after_bed(episodes)
    sources = [SOURCE_TO_MODEL[source] if source != "hospital_discharge" or not bedded else "short_term_bed"
               for source, bedded in zip(episodes["source"], bed_before, strict=True)]
    rows = zip(
        episodes["service"], episodes["site"].astype(object).fillna(""), sources, start, stop, episodes["outcome"].astype(object).fillna(""),
        episodes["care_hours_start"].to_numpy(dtype=float), episodes["care_hours_end"].to_numpy(dtype=float), waited, strict=True,
    )
    for service, site, source, s, e, outcome, hours_start, hours_end, wait in rows:
        if s != s:  # referred, not started
            continue
        if service in ("reablement", "bed") and source == "hospital":
            counted = "reablement" if service == "reablement" else "beds"
            m.count(f"{counted}.starts", source, s)
            m.count(f"{counted}.wait_days", source, s, wait)
        if service == "home_ward":
            m.count("home_ward.starts", "total", s)
        elif service == "reablement":
            if source != "hospital":
                m.count("reablement.starts", source, s)
            m.interval("reablement.occupied", "all", s, e if e == e else end)
            if e == e and outcome in ("home", "home_with_care") and hours_start == hours_start:
                ended = 0.0 if outcome == "home" else (hours_end if hours_end == hours_end else np.nan)
                if ended == ended:
                    m.count("reablement.hours_reduction", "total", e, hours_start - ended)
                    m.count("reablement.hours_reduction_n", "total", e)
        elif service == "bed":
            m.interval("beds.occupied", site, s, e if e == e else end)
            if e == e:
                for scope in ("total", site):
                    m.count("beds.discharges", scope, e)
                    m.count("beds.los_days", scope, e, e - s)
                    if e - s < SHORT_STAY_DAYS:
                        m.count("beds.short_stays", scope, e)
                model_outcome = {"home": "home", "home_with_care": "home_with_p1"}.get(outcome, outcome)
                m.count("beds.outcomes", model_outcome, e)
    return m.arrays()


def observed_kpis(spells: pd.DataFrame, episodes: pd.DataFrame, scenario: Scenario) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(summary, weekly) of the observable KPIs over the history, as for one replication."""
    summary, weekly = replication_kpis(observed_daily(spells, episodes, scenario), scenario, replication=0)
    keep = pd.MultiIndex.from_tuples(OBSERVABLE)
    pick = lambda frame: frame[pd.MultiIndex.from_frame(frame[["kpi", "scope"]]).isin(keep)].drop(columns="replication")
    return pick(summary).reset_index(drop=True), pick(weekly).reset_index(drop=True)

