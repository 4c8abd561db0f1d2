"""Fit a scenario's inputs from a clean extract; each fitted figure keeps its provenance.

What the data contract can identify is fitted; what it cannot (the P1-P2 discharge process,
the bed discharge process and weekday pattern, assessment-and-home diversions, queue
priorities) is inherited from the base scenario through `extends`, and the fits table says so.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..inputs.scenario import WEEKDAYS, Scenario
from ..units import DAYS_PER_YEAR
from .fit import fit_arrivals, fit_duration, fit_shares, peak_concurrency, weekday_leave_probabilities

READMISSION_WINDOW_DAYS = 90  # a return within this many days of leaving counts as a readmission
SMALL = 5  # counts below this are shown as "<5" in published tables
DAY = pd.Timedelta(days=1)


@dataclass
class Fitted:
    """The fitted values (nested like a scenario), a comment for each, and the fits table."""

    data: dict = field(default_factory=dict)
    comments: dict[str, str] = field(default_factory=dict)
    fits: list[dict] = field(default_factory=list)

    def put(self, table: str, key: str, value, source: str, n: int | None = None, method: str = "", statistic: str = "") -> None:
        shown_n = "" if n is None else (f"<{SMALL}" if n < SMALL else str(n))
        origin = f"inherited from {source}" if method == "inherited" else f"fitted from {source}"
        comment = "; ".join(part for part in (origin, f"n = {shown_n}" if shown_n else "", method, statistic) if part)
        self.comments[f"{table}.{key}"] = comment
        node = self.data
        for part in table.split("."):
            node = node.setdefault(part, {})
        node[key] = value
        self.fits.append({"parameter": f"{table}.{key}", "value": _short(value), "n": shown_n, "source": source,
                          "method": method, "statistic": statistic})

    def inherit(self, parameter: str, why: str) -> None:
        self.fits.append({"parameter": parameter, "value": "(from the base scenario)", "n": "", "source": "",
                          "method": "not identifiable from the data contract", "statistic": why})


def _short(value) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, dict):
        return ", ".join(f"{k}={_short(v)}" for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_short(v) for v in value) + "]"
    return str(value)


def _duration(fitted: Fitted, table: str, key: str, days: pd.Series, censored: pd.Series | None, source: str) -> None:
    values = days.to_numpy(dtype=float)
    keep = values > 0
    cens = None if censored is None else censored.to_numpy(dtype=bool)[keep]
    fit = fit_duration(values[keep], cens)
    dist = {k: round(float(v), 6) if isinstance(v, float) else v for k, v in fit.distribution.items()}
    statistic = f"KS D = {fit.ks_statistic:.3f}" if np.isfinite(fit.ks_statistic) else ""
    method = f"ML by AIC over {', '.join(sorted(fit.aic))}" + (f", {fit.n_censored} right-censored" if fit.n_censored else "")
    fitted.put(table, key, dist, source, fit.n, method, statistic)


def _shares(fitted: Fitted, table: str, counts: dict[str, int], order: list[str], source: str) -> None:
    fit = fit_shares(counts, order)
    values = {k: round(fit.shares[k], 9) for k in order}
    values[order[0]] = 1 - sum(values[k] for k in order[1:])  # exact sum to 1 after rounding
    for k in order:
        interval = f"95% CI {fit.lower[k]:.3f}-{fit.upper[k]:.3f}"
        fitted.put(table, k, float(values[k]), source, counts.get(k, 0), "share of outcomes", interval)


def first_arrivals(spells: pd.DataFrame, episodes: pd.DataFrame) -> pd.Series:
    """Front-door arrival times of people not returning: admissions that are neither
    readmissions (a return within the window after a discharge or an IC episode ending in
    readmission) nor Home Ward escalations, plus front-door diversions into IC services."""
    leaving = pd.concat([
        spells[["person_id", "discharge_ts"]].rename(columns={"discharge_ts": "left"}),
        episodes.loc[episodes["outcome"] == "readmitted", ["person_id", "end_ts"]].rename(columns={"end_ts": "left"}),
    ]).dropna()  # fmt: skip
    admissions = spells[["person_id", "admission_ts"]].reset_index()
    merged = admissions.merge(leaving, on="person_id", how="left")
    gap = merged["admission_ts"] - merged["left"]
    returning = merged.loc[(gap >= pd.Timedelta(0)) & (gap <= READMISSION_WINDOW_DAYS * DAY), "index"].unique()
    new = spells.drop(index=returning)
    diverted = episodes.loc[episodes["source"] == "front_door", "start_ts"].dropna()
    return pd.concat([new["admission_ts"], diverted]).dropna()


def _daily(times: pd.Series, first: pd.Timestamp, days: int) -> pd.Series:
    index = pd.date_range(first, periods=days, freq="D")
    counts = times.dt.floor("D").value_counts()
    return counts.reindex(index, fill_value=0).astype(int)


def fit_scenario(spells: pd.DataFrame, episodes: pd.DataFrame, base: Scenario, history_start: dt.date,
                 extract_date: pd.Timestamp) -> Fitted:
    """Fit everything the extract identifies. Frames follow docs/data-contract.md, with timestamps parsed."""
    f = Fitted()
    spells, episodes = spells.reset_index(drop=True), episodes.reset_index(drop=True)
    first = pd.Timestamp(history_start)
    days = int((extract_date.normalize() - first) / DAY)
    if days < 28:
        raise ValueError(f"history of {days} days: expected at least 28")
    years = days / DAYS_PER_YEAR
    f.put("run", "start_date", history_start, "the extract's first day", method="history start")
    f.put("run", "years", round(years, 6), "the extract's span", method="history length")

    arrivals = first_arrivals(spells, episodes)
    arrivals = arrivals[(arrivals >= first) & (arrivals < first + days * DAY)]
    fa = fit_arrivals(_daily(arrivals, first, days), history_start)
    src = "spells.csv admissions + front-door ic_episodes, less readmissions and Home Ward escalations"
    stat = f"dispersion {fa.dispersion:.2f}, deviance {fa.deviance:.0f} on {fa.n_days} days"
    f.put("arrivals", "rate_per_day", round(fa.rate_per_day, 6), src, len(arrivals), f"Poisson GLM, se {fa.rate_se:.3g}", stat)
    f.put("arrivals", "monthly_factors", [round(x, 6) for x in _mean_one(fa.monthly_factors)], src, fa.n_days,
          "Poisson GLM month effects" if fa.months_fitted else "fewer than 12 months: fixed at 1")
    f.put("arrivals", "weekday_factors", [round(x, 6) for x in _mean_one(fa.weekday_factors)], src, fa.n_days, "Poisson GLM weekday effects")
    f.put("arrivals", "annual_growth", round(fa.annual_growth, 6), src, fa.n_days, f"Poisson GLM trend, se {fa.growth_se:.3g}")

    # stays already running when the history starts are a length-biased sample (long stays are
    # more likely to be caught): shares and durations use stays that began in the history
    done = spells[spells["admission_ts"] >= first].dropna(subset=["pathway"])
    alive = done[done["pathway"].isin(["P0", "P1", "P2", "P3"])]
    died = int((done["pathway"] == "died").sum())
    f.put("acute", "death_share", round(died / max(len(done), 1), 9), "spells.csv (pathway = died)", len(done), "share of ended spells")
    _shares(f, "acute.pathway_shares", {p.lower(): int((alive["pathway"] == p).sum()) for p in ("P0", "P1", "P2", "P3")},
            ["p0", "p1", "p2", "p3"], "spells.csv pathway of live discharges")
    for p in ("P0", "P1", "P2", "P3"):
        rows = alive[alive["pathway"] == p]
        _duration(f, "acute.clinical_los", p.lower(), (rows["ready_ts"] - rows["admission_ts"]) / DAY, None,
                  f"spells.csv ready - admission, {p}")
    p0 = alive[alive["pathway"] == "P0"]
    weekday = weekday_leave_probabilities(p0["ready_ts"], p0["discharge_ts"])
    f.put("acute.discharge_process", "p0", {"family": "deterministic", "mean": 0.0}, "spells.csv P0",
          len(p0), "the P0 delay is carried by the discharge-day probabilities below")
    for day in WEEKDAYS:
        f.put("acute.discharge_weekday", day, round(float(min(max(weekday["probabilities"][day], 1e-6), 1.0)), 6),
              "spells.csv P0 ready -> discharge", weekday["waiting"][day], "daily leaving hazard")
    p3 = alive[alive["pathway"] == "P3"]
    f.put("acute.discharge_process", "p3", {"family": "deterministic", "mean": 0.0}, "spells.csv P3", len(p3),
          "the whole P3 wait is carried by the placement delay")
    _duration(f, "placements", "delay", (p3["discharge_ts"] - p3["ready_ts"]) / DAY, None, "spells.csv P3 discharge - ready")
    f.inherit("acute.discharge_process.p1/p2", "referral process and queue wait are not separable in the extract")

    # readmission after a P0 discharge: a return to the front door is an admission or a
    # front-door diversion (Home Ward, step-up), whichever comes first
    usable = p0[p0["discharge_ts"] <= extract_date - READMISSION_WINDOW_DAYS * DAY]
    returns = pd.concat([
        spells[["person_id", "admission_ts"]].rename(columns={"admission_ts": "back"}),
        episodes.loc[episodes["source"] == "front_door", ["person_id", "start_ts"]].rename(columns={"start_ts": "back"}),
    ]).dropna()  # fmt: skip
    nxt = usable[["person_id", "discharge_ts"]].reset_index().merge(returns, on="person_id")
    gap = (nxt["back"] - nxt["discharge_ts"]) / DAY
    nxt = nxt[(gap > 0) & (gap <= READMISSION_WINDOW_DAYS)]
    first_return = nxt.groupby("index")["back"].min() - usable.loc[nxt["index"].unique(), "discharge_ts"]
    f.put("acute.readmission_after_p0", "share", round(len(first_return) / max(len(usable), 1), 9),
          f"spells.csv P0 discharges followed within {READMISSION_WINDOW_DAYS} d by an admission or front-door IC episode",
          len(usable), "share (returns sent home from assessment are not in the extract)")
    if len(first_return) >= 10:
        _duration(f, "acute.readmission_after_p0", "delay", first_return / DAY, None, "spells.csv days to the next admission")

    # front-door diversion (observed diversions: the intended share is at least this)
    n_arrivals = max(len(arrivals), 1)
    front = episodes[(episodes["source"] == "front_door") & episodes["start_ts"].between(first, first + days * DAY)]
    shares = {
        "home_ward": len(front[front["service"] == "home_ward"]) / n_arrivals,
        "step_up_reablement": len(front[front["service"] == "reablement"]) / n_arrivals,
        "step_up_bed": len(front[front["service"] == "bed"]) / n_arrivals,
        "assessment_home": base.front_door.diversion.assessment_home,
    }
    shares = {k: round(v, 9) for k, v in shares.items()}
    for key, value in shares.items():
        if key == "assessment_home":
            f.put("front_door.diversion", key, value, "the base scenario (assessment-and-home is not in the data contract)",
                  method="inherited")
        else:
            f.put("front_door.diversion", key, value, "ic_episodes.csv front-door starts ÷ arrivals", len(front),
                  "observed diversions (a lower bound on the intended share)")
    f.put("front_door.diversion", "admit", 1 - sum(shares.values()), "1 - the diversion shares", method="remainder")

    _services(f, episodes, first, days, extract_date)
    return f


def merged_scenario(base: Scenario, fitted: Fitted) -> dict:
    """The base scenario with the fitted values in; the fitted bed sites replace the base's."""

    def merge(into: dict, new: dict, path: str) -> None:
        for key, value in new.items():
            here = f"{path}.{key}" if path else key
            if isinstance(value, dict) and "family" not in value and isinstance(into.get(key), dict) and here != "beds.sites":
                merge(into[key], value, here)
            else:
                into[key] = value

    data = base.model_dump(mode="python")
    merge(data, fitted.data, "")
    return data


def _mean_one(values) -> list[float]:
    mean = float(np.mean(values))
    return [float(v) / mean for v in values]


def _open_days(rows: pd.DataFrame, extract_date: pd.Timestamp) -> tuple[pd.Series, pd.Series]:
    censored = rows["end_ts"].isna()
    end = rows["end_ts"].fillna(extract_date)
    return (end - rows["start_ts"]) / DAY, censored


def _services(f: Fitted, episodes: pd.DataFrame, first: pd.Timestamp, days: int, extract_date: pd.Timestamp) -> None:
    window = (first, first + days * DAY)
    running = episodes.dropna(subset=["start_ts"])  # for occupancy: everyone in service
    started = running[running["start_ts"] >= first]  # for durations and outcomes: no length bias

    hw = started[started["service"] == "home_ward"]
    d, c = _open_days(hw, extract_date)
    _duration(f, "home_ward", "los", d, c, "ic_episodes.csv Home Ward end - start")
    ended = hw.dropna(subset=["end_ts"])
    f.put("home_ward", "escalation_share", round(float((ended["outcome"] == "readmitted").mean()), 9),
          "ic_episodes.csv Home Ward outcome = readmitted", len(ended), "share")
    hw_all = running[running["service"] == "home_ward"]
    f.put("home_ward", "capacity", peak_concurrency(hw_all["start_ts"], hw_all["end_ts"], *window),
          "ic_episodes.csv Home Ward", len(hw_all), "peak concurrent occupancy")

    community = episodes[(episodes["source"] == "community") & episodes["referral_ts"].between(*window)]
    for service, key in (("reablement", "reablement_per_day"), ("bed", "bed_per_day")):
        n = int((community["service"] == service).sum())
        f.put("community", key, round(n / days, 6), f"ic_episodes.csv community {service} referrals", n, "referrals per day")

    re = started[started["service"] == "reablement"]
    d, c = _open_days(re, extract_date)
    _duration(f, "reablement", "duration", d, c, "ic_episodes.csv reablement end - start")
    hours = re["care_hours_start"].dropna()
    _duration(f, "reablement", "hours_start", hours[hours > 0], None, "ic_episodes.csv care_hours_start")
    care = re[(re["outcome"] == "home_with_care") & (re["care_hours_start"] > 0)].dropna(subset=["care_hours_end"])
    retained = (care["care_hours_end"] / care["care_hours_start"]).clip(0.001, 0.999)
    f.put("reablement", "hours_retained_share",
          {"family": "beta", "mean": round(float(retained.mean()), 6), "sd": round(float(retained.std()), 6)},
          "ic_episodes.csv care_hours_end ÷ care_hours_start, home_with_care", len(retained), "beta by moments")
    re_ended = re.dropna(subset=["end_ts"])
    re_map = {"home": "independent", "home_with_care": "ongoing_homecare", "readmitted": "readmitted",
              "long_term_care": "long_term_care", "died": "died"}
    _shares(f, "reablement.outcomes", {re_map[k]: int(v) for k, v in re_ended["outcome"].value_counts().items()},
            list(re_map.values()), "ic_episodes.csv reablement outcomes")
    re_all = running[running["service"] == "reablement"]
    f.put("reablement", "capacity", peak_concurrency(re_all["start_ts"], re_all["end_ts"], *window),
          "ic_episodes.csv reablement", len(re_all), "peak concurrent people in service")

    beds = started[started["service"] == "bed"]
    bed_ended = beds.dropna(subset=["end_ts"])
    bed_map = {"home": "home", "home_with_care": "home_with_p1", "long_term_care": "long_term_care",
               "readmitted": "readmitted", "died": "died"}
    _shares(f, "beds.outcomes", {bed_map[k]: int(v) for k, v in bed_ended["outcome"].value_counts().items()},
            list(bed_map.values()), "ic_episodes.csv bed outcomes")
    stay = (bed_ended["end_ts"] - bed_ended["start_ts"]) / DAY
    overall = stay.mean()
    multipliers = (stay.groupby(bed_ended["site"]).mean() / overall).to_dict()
    # deaths and readmissions leave at the end of therapy (no exit process or onward wait), so
    # their stays, divided by their site's multiplier, show the therapy length of stay
    pure = bed_ended["outcome"].isin(["died", "readmitted"])
    therapy = stay[pure] / bed_ended.loc[pure, "site"].map(multipliers)
    _duration(f, "beds", "los", therapy, None, "ic_episodes.csv bed stays ending in death or readmission, ÷ site multiplier")
    f.inherit("beds.discharge_process and beds.discharge_weekday", "the exit process is not separable from onward waits in the extract")
    beds_all = running[running["service"] == "bed"]
    counts = beds["site"].value_counts()
    shares = {site: round(counts[site] / counts.sum(), 9) for site in counts.index}
    last = list(shares)[-1]
    shares[last] = 1 - sum(v for k, v in shares.items() if k != last)
    for site in counts.index:
        table = f"beds.sites.{site}"
        rows = beds[beds["site"] == site]
        occupying = beds_all[beds_all["site"] == site]
        f.put(table, "beds", peak_concurrency(occupying["start_ts"], occupying["end_ts"], *window), "ic_episodes.csv beds",
              len(occupying), "peak concurrent occupancy")
        f.put(table, "los_multiplier", round(float(multipliers.get(site, 1.0)), 6), "ic_episodes.csv bed stays", len(rows),
              "site mean stay ÷ all-site mean stay")
        f.put(table, "referral_share", float(shares[site]), "ic_episodes.csv bed episodes by site", len(rows), "share")
