"""KPI ids, units and definitions, computed from one replication's daily accumulators.

Every KPI is a ratio of two daily series summed over a window: events per week are
(events) / (days / 7); time averages are (person-days) / (days); means at discharge are
(sum of stays) / (discharges); proportions are (count) / (count). The summary uses the whole
reported period; the weekly series uses each week, or a trailing moving window where the
programme defines one (pooled, not an average of weekly ratios); the yearly values use each
reporting year (365-day blocks from the end of warm-up).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..inputs.scenario import Scenario
from ..model.beds import DELAY_REASONS as BED_DELAY_REASONS
from ..model.hospital import DELAY_REASONS as ACUTE_DELAY_REASONS
from ..model.hospital import SUBSTITUTION_RULES
from ..model.people import BED_OUTCOMES
from ..model.series import check
from ..units import DAYS_PER_YEAR

REABLEMENT_SOURCES = ("hospital", "short_term_bed", "community", "front_door")
PLACEMENT_SOURCES = ("hospital", "short_term_bed", "community")
BED_SOURCES = ("hospital", "community", "front_door")
AVOIDANCE_ROUTES = ("home_ward", "assessment_home", "step_up_reablement", "step_up_bed")
PEOPLE_COUNTERS = ("admitted", "home_from_hospital", "bedded_from_hospital", "home_after_bed", "reablement", "permanent_care")


@dataclass(frozen=True)
class KPI:
    id: str
    unit: str
    definition: str
    window_weeks: int = 1  # trailing window of the weekly series (the programme's moving average)

    @property
    def name(self) -> str:
        """The name people read (KPI_NAMES); the id is the key of the CSVs."""
        return KPI_NAMES[self.id]


KPIS: tuple[KPI, ...] = (
    KPI("reablement_starts_per_week", "people/week", "Reablement starts, all sources; weekly series is the 6-week moving average", 6),
    KPI("reablement_effectiveness_hours", "hours/week", "Mean reduction in homecare hours a week (start - end) over episodes ending at home; weekly series is the 8-week moving average", 8),
    KPI("bed_los_days", "days", "Mean length of stay of people leaving short-term beds, at discharge (all exits)"),
    KPI("bed_home_proportion", "proportion", "Short-term bed discharges home (with or without P1) ÷ (home + long-term care); readmissions and deaths excluded"),
    KPI("nr2r_los_days", "days", "Mean no-reason-to-reside length of stay at discharge for complex (P1-P3) discharges (scope p0 shown for reference)"),
    KPI("pathway_share_p0", "proportion", "Share of 65+ hospital discharges (alive) on pathway 0"),
    KPI("pathway_share_p1", "proportion", "Share of 65+ hospital discharges (alive) on pathway 1"),
    KPI("pathway_share_p2", "proportion", "Share of 65+ hospital discharges (alive) on pathway 2"),
    KPI("pathway_share_p3", "proportion", "Share of 65+ hospital discharges (alive) on pathway 3"),
    KPI("admissions_avoided_per_week", "people/week", "Front-door arrivals diverted and not admitted (Home Ward counted at the end of a stay without escalation)"),
    KPI("p1_queue", "people", "Time-average people in an acute bed waiting for P1 (reablement) capacity"),
    KPI("p2_queue", "people", "Time-average people in an acute bed waiting for a short-term bed"),
    KPI("p3_queue", "people", "Time-average people in an acute bed waiting for a care-home placement (queue and placement delay)"),
    KPI("p1_wait_days", "days", "Mean wait of hospital P1 discharges, from referral (after the discharge process) to reablement start"),
    KPI("p2_wait_days", "days", "Mean wait of hospital P2 discharges, from referral to arrival in a short-term bed"),
    KPI("p3_wait_days", "days", "Mean wait of hospital P3 discharges, from referral to entering the care home"),
    KPI("bed_occupancy", "proportion", "Short-term beds: time-average occupied beds ÷ time-average funded beds"),
    KPI("beds_occupied", "beds", "Short-term beds: time-average occupied beds"),
    KPI("delayed_bed_days_per_week", "bed days/week", "Acute bed days after the person had no reason to reside, by reason"),
    KPI("bed_delayed_days_per_week", "bed days/week", "Short-term bed days after therapy ended, by reason"),
    KPI("permanent_care_admissions_per_year", "people/year", "Permanent admissions to care homes, by where the person came from"),
    KPI("readmissions_per_week", "people/week", "Returns to the front door by people previously discharged or in intermediate care"),
    KPI("home_ward_starts_per_week", "people/week", "Home Ward (virtual ward) admissions"),
    KPI("admissions_per_week", "people/week", "Acute admissions of the cohort (including readmissions and Home Ward escalations)"),
    KPI("acute_beds_occupied", "beds", "Time-average acute beds occupied by the cohort"),
    KPI("reablement_occupancy", "proportion", "Reablement: time-average people in service ÷ places (or, with capacity in hours a week, staff hours committed ÷ hours funded), by team and total"),
    KPI("community_queue", "people", "Time-average people waiting at home for a step-up service"),
    KPI("community_wait_days", "days", "Mean wait of community step-up referrals, referral to start"),
    KPI("people_per_year", "people/year", "Distinct people with each experience, each counted once per reporting year (365-day blocks from the start date), per year: admitted, home_from_hospital (P0 or P1 discharge), bedded_from_hospital (P2 or P3 discharge), home_after_bed (short-term bed exit home, with or without P1), reablement (started), permanent_care (entered a care home)"),
    KPI("homecare_package_hours_per_year", "hours/week per year", "Weekly homecare hours of the packages people leave reablement with (0 if independent), summed over a year's episodes ending at home"),
    KPI("homecare_hours_avoided_per_year", "hours/week per year", "Weekly homecare hours reablement removed against no reablement (hours at the start − hours at the end), summed over a year's episodes ending at home"),
    KPI("requests_per_week", "people/week", "Requests for a place (from any source: hospital, community, front door, short-term bed), by service: the demand a capacity meets"),
    KPI("starts_per_week", "people/week", "People starting in the service (any source), by service"),
    KPI("p0_same_day_share", "proportion", "Share of pathway 0 discharges leaving on the calendar day they became ready to leave (no reason to reside)"),
    KPI("bed_short_stay_share", "proportion", "Share of short-term bed discharges (all exits) after a stay of less than 27 days, by site and total"),
    KPI("people_waiting_in_beds", "people", "Short-term beds: time-average people whose therapy has ended, by reason (process, awaiting P1, a placement or a discharge day)"),
    KPI("substitutions_per_week", "people/week", "People whose route differs from their need, by rule: home_first_p2 (P2 need home with P1), home_first_p3 (P3 need to a short-term bed), p1_interim_bed, p1_bridging (P1 wait ended in an interim bed, or at home with a bridging package), p2_interim_care_home, died_waiting (died in an acute bed waiting for P1-P3)"),
    KPI("bed_outcome_share", "proportion", "Short-term bed discharges by outcome (home, home_with_p1, long_term_care, readmitted, died) ÷ all short-term bed discharges"),
    KPI("capacity_funded", "places", "Time-average funded capacity: short-term beds (scope beds), reablement places, Home Ward places, front-door assessment places (scope assessment); NaN where unlimited"),
)
KPI_BY_ID = {k.id: k for k in KPIS}
# Names people read (every table, chart and sentence of the report), one for every KPI; the id stays the
# column key of the CSVs and is shown beside the name (the report's hover: "id: definition").
# A name starts in lower case unless it starts with a proper name or a pathway, so it reads inside a sentence.
KPI_NAMES = {
    "reablement_starts_per_week": "reablement starts a week",
    "reablement_effectiveness_hours": "homecare hours a week removed per reablement episode",
    "bed_los_days": "short-term bed length of stay",
    "bed_home_proportion": "short-term bed discharges going home",
    "nr2r_los_days": "time in hospital after no longer needing to be there (complex discharges)",
    "pathway_share_p0": "discharges home without support (P0)",
    "pathway_share_p1": "discharges home with reablement (P1)",
    "pathway_share_p2": "discharges to a short-term bed (P2)",
    "pathway_share_p3": "discharges to a care home (P3)",
    "admissions_avoided_per_week": "admissions avoided a week (Home Ward, front-door assessment, step-up)",
    "p1_queue": "people in hospital waiting for reablement (P1)",
    "p2_queue": "people in hospital waiting for a short-term bed (P2)",
    "p3_queue": "people in hospital waiting for a care home (P3)",
    "p1_wait_days": "wait for reablement from hospital",
    "p2_wait_days": "wait for a short-term bed from hospital",
    "p3_wait_days": "wait for a care home from hospital",
    "bed_occupancy": "short-term bed occupancy",
    "beds_occupied": "short-term beds occupied",
    "delayed_bed_days_per_week": "acute bed days lost to delayed discharge a week",
    "bed_delayed_days_per_week": "short-term bed days after therapy ended, a week",
    "permanent_care_admissions_per_year": "permanent care-home admissions a year",
    "readmissions_per_week": "people returning to hospital a week",
    "home_ward_starts_per_week": "Home Ward admissions a week",
    "admissions_per_week": "emergency admissions a week",
    "acute_beds_occupied": "acute hospital beds occupied",
    "reablement_occupancy": "reablement occupancy",
    "community_queue": "people at home waiting for a step-up service",
    "community_wait_days": "wait for a step-up service from home",
    "people_per_year": "people a year, each counted once",
    "homecare_package_hours_per_year": "homecare hours a week people leave reablement with, over a year",
    "homecare_hours_avoided_per_year": "homecare hours a week removed by reablement, over a year",
    "requests_per_week": "requests for a place a week",
    "starts_per_week": "people starting a service a week",
    "p0_same_day_share": "discharges home without support (P0) on the day ready to leave",
    "bed_short_stay_share": "short-term bed stays under 27 days",
    "people_waiting_in_beds": "people in a short-term bed after therapy ended",
    "substitutions_per_week": "people routed differently from their need, a week",
    "bed_outcome_share": "short-term bed discharges by outcome",
    "capacity_funded": "funded places",
}
KPI_IDS: tuple[str, ...] = tuple(KPI_BY_ID)

# Which KPIs each view shows (scope "total" unless said), declared here once for every front end.
HEADLINE_KPIS = (  # the CLI's comparison table
    "nr2r_los_days", "bed_los_days", "bed_home_proportion", "admissions_per_week", "admissions_avoided_per_week",
    "reablement_starts_per_week", "p1_wait_days", "p2_wait_days", "p3_wait_days", "delayed_bed_days_per_week",
    "bed_occupancy", "permanent_care_admissions_per_year",
)
SUMMARY_BY_SCOPE_KPIS = ("bed_occupancy", "delayed_bed_days_per_week")  # the run summary shows these by scope too
PROGRAMME_KPIS = (  # the programme's KPIs, in the order it reports them (the report's KPI table)
    "reablement_starts_per_week", "reablement_effectiveness_hours", "bed_los_days", "bed_home_proportion",
    "nr2r_los_days", "pathway_share_p0", "pathway_share_p1", "pathway_share_p2", "pathway_share_p3",
    "admissions_avoided_per_week", "p1_queue", "p2_queue", "p3_queue", "p1_wait_days", "p2_wait_days",
    "p3_wait_days", "bed_occupancy", "delayed_bed_days_per_week", "bed_delayed_days_per_week",
    "permanent_care_admissions_per_year", "readmissions_per_week", "home_ward_starts_per_week",
)
WEEKLY_COLUMNS = ["replication", "week", "kpi", "scope", "unit", "value"]  # the weekly rows (weekly.csv)
WEEKLY_KPIS = (  # weekly series the report charts
    "reablement_starts_per_week", "reablement_effectiveness_hours", "p1_wait_days", "p2_wait_days", "p3_wait_days",
    "p1_queue", "p2_queue", "p3_queue", "bed_occupancy", "reablement_occupancy", "delayed_bed_days_per_week",
    "bed_delayed_days_per_week", "home_ward_starts_per_week", "admissions_avoided_per_week",
)
FAN_KPIS = (  # yearly fans: fan.png and the report's blueprint section
    "admissions_per_week", "p1_wait_days", "p2_wait_days", "p3_wait_days", "bed_occupancy", "reablement_occupancy",
)  # fmt: skip


class _Window:
    """The daily series of one replication over its reported days."""

    def __init__(self, daily: dict[tuple[str, str], np.ndarray], first: int, last: int):
        self._daily = daily
        self._first, self._last = first, last
        self.days = np.ones(last - first)
        self.weeks = self.days / 7
        self.years = self.days / DAYS_PER_YEAR

    def __call__(self, series: str, scope: str = "total") -> np.ndarray:
        values = self._daily.get((check(series), scope))
        if values is None:
            return np.zeros(self._last - self._first)
        return values[self._first : self._last]

    def total(self, series: str, scopes) -> np.ndarray:
        return sum((self(series, s) for s in scopes), np.zeros(self._last - self._first))


Ratios = dict[tuple[str, str], tuple[np.ndarray, np.ndarray]]


def _ratios(w: _Window, scenario: Scenario) -> Ratios:
    r: Ratios = {}
    sites = list(scenario.beds.sites)

    def add(kpi: str, scope: str, num: np.ndarray, den: np.ndarray) -> None:
        r[(kpi, scope)] = (num, den)

    starts = {s: w("reablement.starts", s) for s in REABLEMENT_SOURCES}
    add("reablement_starts_per_week", "total", sum(starts.values()), w.weeks)
    for source, values in starts.items():
        add("reablement_starts_per_week", source, values, w.weeks)
    add("reablement_effectiveness_hours", "total", w("reablement.hours_reduction"), w("reablement.hours_reduction_n"))

    add("bed_los_days", "total", w("beds.los_days"), w("beds.discharges"))
    for site in sites:
        add("bed_los_days", site, w("beds.los_days", site), w("beds.discharges", site))
    add("bed_short_stay_share", "total", w("beds.short_stays"), w("beds.discharges"))
    for site in sites:
        add("bed_short_stay_share", site, w("beds.short_stays", site), w("beds.discharges", site))
    home = w("beds.outcomes", "home") + w("beds.outcomes", "home_with_p1")
    add("bed_home_proportion", "total", home, home + w("beds.outcomes", "long_term_care"))

    complex_ = ("p1", "p2", "p3")
    add("nr2r_los_days", "total", w.total("hospital.nr2r_days", complex_), w.total("hospital.discharges", complex_))
    for p in ("p0",) + complex_:
        add("nr2r_los_days", p, w("hospital.nr2r_days", p), w("hospital.discharges", p))
    add("p0_same_day_share", "total", w("hospital.ready_day_discharges", "p0"), w("hospital.discharges", "p0"))
    discharges = w.total("hospital.discharges", ("p0",) + complex_)
    for p in ("p0",) + complex_:
        add(f"pathway_share_{p}", "total", w("hospital.discharges", p), discharges)

    add("admissions_avoided_per_week", "total", w.total("admissions_avoided", AVOIDANCE_ROUTES), w.weeks)
    for route in AVOIDANCE_ROUTES:
        add("admissions_avoided_per_week", route, w("admissions_avoided", route), w.weeks)

    for p in complex_:
        add(f"{p}_queue", "total", w("acute.delayed", f"awaiting_{p}"), w.days)
    for p, service in zip(complex_, ("reablement", "beds", "placements")):
        add(f"{p}_wait_days", "total", w(f"{service}.wait_days", "hospital"), w(f"{service}.starts", "hospital"))
    for place in scenario.localities:
        for p in ("p1", "p2"):
            add(f"{p}_wait_days", place, w(f"locality.{p}_wait_days", place), w(f"locality.{p}_starts", place))
    substitutions = {rule: w("routes.substitutions", rule) for rule in SUBSTITUTION_RULES}
    add("substitutions_per_week", "total", sum(substitutions.values()), w.weeks)
    for rule, values in substitutions.items():
        add("substitutions_per_week", rule, values, w.weeks)
    bed_exits = w.total("beds.outcomes", BED_OUTCOMES)
    for outcome in BED_OUTCOMES:
        add("bed_outcome_share", outcome, w("beds.outcomes", outcome), bed_exits)

    occupied = w.total("beds.occupied", sites)
    add("bed_occupancy", "total", occupied, w.total("beds.capacity", sites))
    add("beds_occupied", "total", occupied, w.days)
    for site in sites:
        add("bed_occupancy", site, w("beds.occupied", site), w("beds.capacity", site))
        add("beds_occupied", site, w("beds.occupied", site), w.days)

    for kpi, series, reasons in (
        ("delayed_bed_days_per_week", "acute.delayed", ACUTE_DELAY_REASONS),
        ("bed_delayed_days_per_week", "beds.delayed", BED_DELAY_REASONS),
    ):
        add(kpi, "total", w.total(series, reasons), w.weeks)
        for reason in reasons:
            add(kpi, reason, w(series, reason), w.weeks)
    add("people_waiting_in_beds", "total", w.total("beds.delayed", BED_DELAY_REASONS), w.days)
    for reason in BED_DELAY_REASONS:
        add("people_waiting_in_beds", reason, w("beds.delayed", reason), w.days)

    add("permanent_care_admissions_per_year", "total", w.total("placements.starts", PLACEMENT_SOURCES), w.years)
    for source in PLACEMENT_SOURCES:
        add("permanent_care_admissions_per_year", source, w("placements.starts", source), w.years)
    add("readmissions_per_week", "total", w("readmissions"), w.weeks)
    add("home_ward_starts_per_week", "total", w("home_ward.starts"), w.weeks)
    add("admissions_per_week", "total", w("hospital.admissions"), w.weeks)
    add("acute_beds_occupied", "total", w("acute.occupied"), w.days)
    teams = list(scenario.localities) or ["all"]
    # places: people in service ÷ places; hours: hours committed ÷ hours funded
    used = "reablement.hours_committed" if scenario.reablement.capacity_unit == "hours_per_week" else "reablement.occupied"
    add("reablement_occupancy", "total", w.total(used, teams), w.total("reablement.capacity", teams))
    if scenario.localities:
        for team in teams:
            add("reablement_occupancy", team, w(used, team), w("reablement.capacity", team))
    add("community_queue", "total", w("reablement.queue", "community") + w("beds.queue", "community"), w.days)
    add("community_queue", "reablement", w("reablement.queue", "community"), w.days)
    add("community_queue", "beds", w("beds.queue", "community"), w.days)
    add(
        "community_wait_days", "total",
        w("reablement.wait_days", "community") + w("beds.wait_days", "community"),
        w("reablement.starts", "community") + w("beds.starts", "community"),
    )
    add("community_wait_days", "reablement", w("reablement.wait_days", "community"), w("reablement.starts", "community"))
    add("community_wait_days", "beds", w("beds.wait_days", "community"), w("beds.starts", "community"))
    for counter in PEOPLE_COUNTERS:
        add("people_per_year", counter, w("people", counter), w.years)
    add("homecare_package_hours_per_year", "total", w.total("reablement.hours_end", ("independent", "ongoing_homecare")), w.years)
    add("homecare_hours_avoided_per_year", "total", w("reablement.hours_reduction"), w.years)
    for service, sources in (("beds", BED_SOURCES), ("reablement", REABLEMENT_SOURCES)):
        add("requests_per_week", service, w.total(f"{service}.requests", sources), w.weeks)
        add("starts_per_week", service, w.total(f"{service}.starts", sources), w.weeks)
    add("capacity_funded", "beds", w.total("beds.capacity", sites), w.days)
    add("capacity_funded", "reablement", w.total("reablement.capacity", teams), w.days)
    add("capacity_funded", "home_ward", w("home_ward.capacity", "all"), w.days)
    add("capacity_funded", "assessment", w("assessment.capacity", "all"), w.days)
    return r


def _ratio(num: float, den: float) -> float:
    return float(num / den) if den > 0 else float("nan")


def replication_kpis(daily: dict, scenario: Scenario, replication: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(summary, weekly) long frames for one replication.

    summary: replication, kpi, scope, unit, value (whole reported period).
    weekly: replication, week, kpi, scope, unit, value (full weeks only; moving-average KPIs
    start once their window is full).
    """
    first, last = scenario.run.warmup_days, scenario.end_day
    n_weeks = (last - first) // 7
    ratios = _ratios(_Window(daily, first, last), scenario)
    summary_rows, weekly_parts = [], []
    for (kpi_id, scope), (num, den) in ratios.items():
        kpi = KPI_BY_ID[kpi_id]
        summary_rows.append((replication, kpi_id, scope, kpi.unit, _ratio(num.sum(), den.sum())))
        weekly_num = num[: n_weeks * 7].reshape(n_weeks, 7).sum(axis=1)
        weekly_den = den[: n_weeks * 7].reshape(n_weeks, 7).sum(axis=1)
        if kpi.window_weeks > 1:
            kernel = np.ones(kpi.window_weeks)
            weekly_num = np.convolve(weekly_num, kernel)[kpi.window_weeks - 1 : n_weeks]
            weekly_den = np.convolve(weekly_den, kernel)[kpi.window_weeks - 1 : n_weeks]
        weeks = np.arange(n_weeks - len(weekly_num), n_weeks)
        with np.errstate(invalid="ignore", divide="ignore"):
            values = np.where(weekly_den > 0, weekly_num / np.where(weekly_den > 0, weekly_den, 1), np.nan)
        weekly_parts.append(
            pd.DataFrame({"replication": replication, "week": weeks, "kpi": kpi_id, "scope": scope, "unit": kpi.unit, "value": values})
        )
    summary = pd.DataFrame(summary_rows, columns=["replication", "kpi", "scope", "unit", "value"])
    weekly = pd.concat(weekly_parts, ignore_index=True)
    return summary, weekly.dropna(subset=["value"]).reset_index(drop=True)



MIN_PARTIAL_YEAR_DAYS = 28  # a final shorter block is reported only if at least this long (docs/decisions.md)


def reporting_years(scenario: Scenario) -> list[tuple[int, int, int]]:
    """(year label, first day, end day) of each reporting year of the reported period.

    Consecutive 365-day blocks from the end of warm-up; a final shorter block counts only if it
    has at least MIN_PARTIAL_YEAR_DAYS days. Block k is labelled `run.start_date.year + k`.
    """
    first, last = scenario.run.warmup_days, scenario.end_day
    blocks = []
    for k, start in enumerate(range(first, last, DAYS_PER_YEAR)):
        end = min(start + DAYS_PER_YEAR, last)
        if end - start == DAYS_PER_YEAR or end - start >= MIN_PARTIAL_YEAR_DAYS:
            blocks.append((scenario.run.start_date.year + k, start, end))
    return blocks


def yearly_kpis(daily: dict, scenario: Scenario, replication: int) -> pd.DataFrame:
    """Every KPI and scope over each reporting year of one replication, as a long frame with
    columns replication, year, kpi, scope, unit, value (rows by KPI, scope, then year).

    A year's value is the ratio of the KPI's numerator and denominator summed over that year's
    days, exactly as `replication_kpis` computes the whole-period summary value.
    """
    first, last = scenario.run.warmup_days, scenario.end_day
    blocks = reporting_years(scenario)
    ratios = _ratios(_Window(daily, first, last), scenario)
    rows = []
    for (kpi_id, scope), (num, den) in ratios.items():
        unit = KPI_BY_ID[kpi_id].unit
        for year, start, end in blocks:
            value = _ratio(num[start - first : end - first].sum(), den[start - first : end - first].sum())
            rows.append((replication, year, kpi_id, scope, unit, value))
    return pd.DataFrame(rows, columns=["replication", "year", "kpi", "scope", "unit", "value"])
