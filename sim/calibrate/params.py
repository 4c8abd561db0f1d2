"""Fit a scenario's inputs from a clean extract; each fitted figure keeps its provenance.

What the data contract identifies is fitted: demand, clinical stays, the hospital discharge
process (ready -> referral of the episode that follows), P0 discharge on the ready day and on
later weekdays, durations, outcomes, capacities and the bed exit process. The structure the
extract shows is set too: ready times are observed (no board-round rounding on top), people
go where the extract says they went (no substitution rules on top of observed pathways), and
without a locality column there is one city-wide queue per service. What it cannot identify
(assessment-and-home diversions, queue priorities) is inherited from the base scenario, and
the fits table and params.toml say why.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.stats import chisquare, ttest_ind

from ..inputs.scenario import WEEKDAYS, Scenario
from ..units import DAYS_PER_YEAR
from .fit import fit_arrivals, fit_duration, fit_shares, occupancy_after, peak_concurrency, weekday_leave_probabilities
from .observed import bed_then_reablement
from .toml_out import KeyPath, dotted

READMISSION_WINDOW_DAYS = 90  # a return within this many days of leaving counts as a readmission
TREND_YEARS = 2  # a history at least this long fits its own annual growth
SMALL = 5  # counts below this are shown as "<5" in published tables
DAY = pd.Timedelta(days=1)
HOUR = pd.Timedelta(hours=1)
MIN_WAITS_SEEN = 10  # people seen waiting for reablement after a bed, to tell where they wait


@dataclass
class Fitted:
    """The fitted values (nested like a scenario), a comment for each, and the fits table."""

    data: dict = field(default_factory=dict)
    comments: dict[KeyPath, str] = field(default_factory=dict)  # by key path: a name from the data is one part
    fits: list[dict] = field(default_factory=list)

    def put(self, table: str | KeyPath, key: str, value, source: str, n: int | None = None, method: str = "",
            statistic: str = "") -> None:
        """Set table.key. `table` is a dotted path of the scenario's own keys ("acute.clinical_los"),
        or a tuple of parts when a part is a name from the extract (it may hold dots)."""
        parts = tuple(table.split(".")) if isinstance(table, str) else tuple(table)
        shown_n = "" if n is None else (f"<{SMALL}" if n < SMALL else str(n))
        origin = f"inherited from {source}" if method == "inherited" else f"fitted from {source}"
        said = "" if method == "inherited" else method  # already in `origin`
        comment = "; ".join(part for part in (origin, f"n = {shown_n}" if shown_n else "", said, statistic) if part)
        self.comments[(*parts, key)] = comment
        node = self.data
        for part in parts:
            node = node.setdefault(part, {})
        node[key] = value
        self.fits.append({"parameter": dotted((*parts, key)), "value": _short(value), "n": shown_n, "source": source,
                          "method": method, "statistic": statistic})

    def inherit(self, parameter: str, why: str) -> None:
        """A parameter (dotted path of the scenario's own keys) left as the base scenario has it."""
        self.comments[tuple(parameter.split("."))] = f"inherited from the base scenario: {why}"
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
    if keep.any() and np.ptp(values[keep]) <= 1e-6 * values[keep].mean():  # every value the same: no family has sd 0
        fitted.put(table, key, {"family": "deterministic", "mean": round(float(values[keep].mean()), 6)}, source,
                   int(keep.sum()), "all values equal: deterministic")
        return
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
    # under two years each calendar month is seen at most once, so a trend and the seasons are
    # the same signal (one year of a 1.5% growth fitted -29% with spring factors of 1.19)
    short = days < TREND_YEARS * DAYS_PER_YEAR
    fa = fit_arrivals(_daily(arrivals, first, days), history_start,
                      fixed_growth=base.arrivals.annual_growth if short else None)
    src = "spells.csv admissions + front-door ic_episodes, less readmissions and Home Ward escalations"
    stat = f"dispersion {fa.dispersion:.2f}, deviance {fa.deviance:.0f} on {fa.n_days} days"
    f.put("arrivals", "rate_per_day", round(fa.rate_per_day, 6), src, len(arrivals), f"Poisson GLM, se {fa.rate_se:.3g}", stat)
    f.put("arrivals", "monthly_factors", [round(x, 6) for x in _mean_one(fa.monthly_factors)], src, fa.n_days,
          "Poisson GLM month effects" if fa.months_fitted else "fewer than 12 months: fixed at 1")
    f.put("arrivals", "weekday_factors", [round(x, 6) for x in _mean_one(fa.weekday_factors)], src, fa.n_days, "Poisson GLM weekday effects")
    if short:
        f.inherit("arrivals.annual_growth", f"a history of {days} days (< {TREND_YEARS} years) cannot separate a trend from the seasons")
    else:
        f.put("arrivals", "annual_growth", round(fa.annual_growth, 6), src, fa.n_days, f"Poisson GLM trend, se {fa.growth_se:.3g}")

    # stays already running when the history starts are a length-biased sample (long stays are
    # more likely to be caught): shares and durations use stays that began in the history
    # and of those only the ones admitted long enough before the extract date that nearly all
    # have left (a P3 wait of two months near the end would otherwise be missing, and with it
    # part of the P3 share and the long tail of every stay)
    done = _settled(spells[spells["admission_ts"] >= first], "admission_ts", "discharge_ts", extract_date).dropna(subset=["pathway"])
    alive = done[done["pathway"].isin(["P0", "P1", "P2", "P3"])]
    died = int((done["pathway"] == "died").sum())
    f.put("acute", "death_share", round(died / max(len(done), 1), 9), "spells.csv (pathway = died)", len(done), "share of ended spells")
    _shares(f, "acute.pathway_shares", {p.lower(): int((alive["pathway"] == p).sum()) for p in ("P0", "P1", "P2", "P3")},
            ["p0", "p1", "p2", "p3"], "spells.csv pathway of live discharges")
    for p in ("P0", "P1", "P2", "P3"):
        rows = alive[alive["pathway"] == p]
        _duration(f, "acute.clinical_los", p.lower(), (rows["ready_ts"] - rows["admission_ts"]) / DAY, None,
                  f"spells.csv ready - admission, {p}")
    f.put("acute", "readiness_weekday", {day: 1.0 for day in WEEKDAYS}, "spells.csv ready_ts", len(alive),
          "ready times are observed: their weekday rhythm is already in the fitted clinical stay")
    p0 = alive[alive["pathway"] == "P0"]
    _p0_discharge(f, p0, alive)
    p3 = alive[alive["pathway"] == "P3"]
    f.put("acute.discharge_process", "p3", {"family": "deterministic", "mean": 0.0}, "spells.csv P3", len(p3),
          "the whole P3 wait is carried by the placement delay")
    _duration(f, "placements", "delay", (p3["discharge_ts"] - p3["ready_ts"]) / DAY, None, "spells.csv P3 discharge - ready")
    _referral_process(f, spells, episodes, extract_date)
    _structure(f, base)

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
    _localities(f, spells, episodes, (first, first + days * DAY))
    for parameter, why in NOT_IN_THE_DATA.items():
        f.inherit(parameter, why)
    return f


# what the data contract does not hold, so stays as the base scenario has it
NOT_IN_THE_DATA = {
    "run.warmup_days": "a run setting",
    "run.replications": "a run setting",
    "run.seed": "a run setting",
    "front_door.assessment": "people assessed at the front door and sent home leave no record in the extract",
    "reablement.capacity_unit": "staff hours are not in the extract (capacity is fitted in places)",
    "reablement.priority": "queue priorities are not in the extract",
    "beds.priority": "queue priorities are not in the extract",
    "placements.capacity": "care-home places are not in the extract (the wait is fitted as the placement delay)",
    "placements.priority": "queue priorities are not in the extract",
}


# a delay of which most values are exactly zero (e.g. referral at the moment of readiness) is
# not a continuous family: it is set to its mean, deterministic
MOSTLY_ZERO = 0.5
SETTLED_DAYS = 28  # people ready this long before the extract date have nearly all been referred
STAY_SETTLED_DAYS = 120  # stays begun this long before the extract date have nearly all ended
MIN_SETTLED_STAYS = 50  # fewer ended stays than this in that cohort: all stays begun in the history
MIN_LATER_LEAVERS = 30  # P0 discharges after the ready day needed to fit the weekday probabilities
RHYTHM_P_VALUE = 0.01  # below it, discharges' weekday counts show a rhythm (χ² against no rhythm)


def _delay(fitted: Fitted, table: str, key: str, days: pd.Series, source: str, note: str = "") -> None:
    """A delay that may be zero for many people: deterministic at its mean if most are zero,
    else a duration family fitted to the positive values."""
    zero = float((days <= 1e-9).mean()) if len(days) else 1.0
    if zero >= MOSTLY_ZERO:
        mean = round(float(days.mean()), 6) if len(days) else 0.0
        fitted.put(table, key, {"family": "deterministic", "mean": mean}, source, len(days),
                   f"{zero:.0%} zero: deterministic at the mean" + (f"; {note}" if note else ""))
    else:
        _duration(fitted, table, key, days, None, source + (f"; {zero:.0%} zero left out" if zero else ""))


def _p0_discharge(f: Fitted, p0: pd.DataFrame, alive: pd.DataFrame) -> None:
    """P0 leave on their ready day with probability p0_same_day_share, after the discharge
    process; the others on a later day, each weekday with its own probability (the model's
    `p0_leave`)."""
    same_day = p0["discharge_ts"].dt.normalize() == p0["ready_ts"].dt.normalize()
    f.put("acute", "p0_same_day_share", round(float(same_day.mean()), 9) if len(p0) else 1.0,
          "spells.csv P0 discharged on the calendar day of ready_ts", len(p0), "share")
    _delay(f, "acute.discharge_process", "p0", (p0.loc[same_day, "discharge_ts"] - p0.loc[same_day, "ready_ts"]) / DAY,
           "spells.csv P0 discharge - ready, same-day leavers")
    later = p0[~same_day]
    if len(later) < MIN_LATER_LEAVERS:  # too few to fit: do discharges have a weekday rhythm at all?
        few = f"only {len(later)} P0 discharge(s) after the ready day (at least {MIN_LATER_LEAVERS} fit the daily leaving probabilities)"
        days = alive["discharge_ts"].dropna()
        weekdays = pd.date_range(days.min().normalize(), days.max().normalize(), freq="D").day_of_week
        expected = np.bincount(weekdays, minlength=7) / len(weekdays) * len(days)
        p_value = float(chisquare(np.bincount(days.dt.day_of_week, minlength=7), expected).pvalue) if len(days) else 1.0
        if p_value < RHYTHM_P_VALUE:
            f.inherit("acute.discharge_weekday", f"{few}; discharges have a weekday rhythm (χ² p = {p_value:.2g})")
            return
        for day in WEEKDAYS:
            f.put("acute.discharge_weekday", day, 1.0, "spells.csv discharge_ts of live discharges", len(days),
                  f"{few}; no weekday rhythm in discharges (χ² p = {p_value:.2g}): any day")
        return
    weekday = weekday_leave_probabilities(later["ready_ts"].dt.normalize() + DAY, later["discharge_ts"])
    for day in WEEKDAYS:  # from the day after the ready day, as the model counts them
        f.put("acute.discharge_weekday", day, round(float(min(max(weekday["probabilities"][day], 1e-6), 1.0)), 6),
              "spells.csv P0 not leaving on the ready day: later discharges", weekday["waiting"][day], "daily leaving hazard")


def _referral_process(f: Fitted, spells: pd.DataFrame, episodes: pd.DataFrame, extract_date: pd.Timestamp) -> None:
    """The hospital discharge process of P1 and P2: ready_ts -> referral_ts of the reablement
    or bed episode (source hospital_discharge) that the same person was referred to while in
    that spell. People ready at least SETTLED_DAYS before the extract date, so nearly all are
    referred (censoring is negligible); those still unreferred are counted in the method."""
    ready = spells.dropna(subset=["ready_ts"])
    ready = ready[(ready["pathway"].isin(["P1", "P2"]) | ready["pathway"].isna())
                  & (ready["ready_ts"] <= extract_date - SETTLED_DAYS * DAY)]
    referrals = episodes.loc[episodes["source"] == "hospital_discharge", ["person_id", "service", "referral_ts"]]
    linked = ready[["person_id", "ready_ts", "discharge_ts", "pathway"]].reset_index().merge(referrals, on="person_id")
    left = linked["discharge_ts"].fillna(extract_date)
    linked = linked[(linked["referral_ts"] >= linked["ready_ts"]) & (linked["referral_ts"] <= left)]
    first = linked.sort_values("referral_ts").groupby("index").first()
    unreferred = len(ready) - len(first)
    for pathway, service in (("p1", "reablement"), ("p2", "bed")):
        rows = first[first["service"] == service]
        _delay(f, "acute.discharge_process", pathway, (rows["referral_ts"] - rows["ready_ts"]) / DAY,
               f"spells.csv ready_ts -> ic_episodes.csv referral_ts of the {service} episode that follows",
               f"{unreferred} ready spell(s) with no referral found left out")


def _longer(stays: pd.Series, than: pd.Series) -> bool:
    """Whether `stays` are longer on average than `than` (Welch's t-test, one-sided, 5%)."""
    if len(stays) < 2 or len(than) < 2:
        return False
    return bool(ttest_ind(stays, than, equal_var=False, alternative="greater").pvalue < 0.05)


def _extra(f: Fitted, key: str, stays: pd.Series, before: pd.Series, source: str, longer: bool) -> None:
    """The part of `stays` after what `before` shows, by moments (mean and variance of `stays`
    less those of `before`: the two are not observed for the same person); none when the stays
    are not longer."""
    mean = float(stays.mean() - before.mean()) if longer else 0.0
    variance = float(stays.var() - before.var()) if longer else 0.0
    if not longer:
        dist, method = {"family": "deterministic", "mean": 0.0}, "none: not longer than the stays without it (Welch t, 5%)"
    elif variance <= 0:
        dist, method = {"family": "deterministic", "mean": round(mean, 6)}, "moments: mean (no spread of its own)"
    else:
        dist, method = {"family": "lognormal", "mean": round(mean, 6), "sd": round(variance**0.5, 6)}, "moments: mean and variance"
    f.put("beds", key, dist, source, len(stays), method)


def _bed_stay(f: Fitted, ended: pd.DataFrame, stay: pd.Series, p1_wait: str) -> None:
    """Therapy, exit and care-home wait from bed stays (each ÷ its site's multiplier).

    Stays ending in death or readmission are therapy alone; stays ending at home (and, when
    people wait for reablement at home, those going on to it) are therapy then the exit (the
    discharge process and the wait for a discharge day, whose weekday rhythm is inside it: the
    time therapy ended is not in the extract); stays ending in a care home add the wait for
    the placement. Each addition is fitted only if its stays are longer than those without it;
    else it is none and its stays join the therapy sample."""
    outcome = ended["outcome"]
    onward = (outcome == "home") | ((outcome == "home_with_care") & (p1_wait == "at_home"))
    pure, home, care = stay[outcome.isin(["died", "readmitted"])], stay[onward], stay[outcome == "long_term_care"]
    exits = _longer(home, pure)
    therapy = pure if exits else pd.concat([pure, home])
    waits = _longer(care, home if exits else therapy)
    if not waits and not exits:
        therapy = pd.concat([therapy, care])
    told = {True: "death or readmission", False: "death, readmission or home"}[exits]
    _duration(f, "beds", "los", therapy, None,
              f"ic_episodes.csv bed stays ending in {told}{'' if waits or exits else ' or a care home'}, ÷ site multiplier")
    _extra(f, "discharge_process", home, pure, "ic_episodes.csv bed stays ending at home, less the therapy stay", exits)
    n = len(home)
    for day in WEEKDAYS:
        f.put("beds.discharge_weekday", day, 1.0, "ic_episodes.csv bed stays ending at home", n,
              "the weekday rhythm is inside the exit process")
    _extra(f, "placement_delay", care, home if exits else therapy,
           "ic_episodes.csv bed stays ending in a care home, less the stays ending at home", waits)


def _p1_wait(f: Fitted, beds: pd.DataFrame, episodes: pd.DataFrame) -> str:
    """Where people leaving a bed for reablement wait for their place: at home when, of those
    who did wait, most were referred when they left the bed; in the bed when the referral came
    before they left it."""
    onward = episodes[(episodes["service"] == "reablement") & (episodes["source"] == "hospital_discharge")]
    pairs = bed_then_reablement(beds[beds["outcome"] == "home_with_care"].dropna(subset=["end_ts"]), onward)
    waited = pairs[(pairs["start_ts_p1"] - pairs["referral_ts_p1"]) > HOUR]
    source = "ic_episodes.csv reablement after a bed stay: referral against the bed's end"
    if len(waited) < MIN_WAITS_SEEN:
        f.put("beds", "p1_wait", "in_bed", source, len(waited), "set",
              f"fewer than {MIN_WAITS_SEEN} people waited for reablement after a bed: where they wait makes no difference")
        return "in_bed"
    at_home = float(((waited["end_ts"] - waited["referral_ts_p1"]).abs() <= HOUR).mean())
    where = "at_home" if at_home > 0.5 else "in_bed"
    f.put("beds", "p1_wait", where, source, len(waited), f"{at_home:.0%} of those who waited were referred within an hour of leaving the bed")
    return where


def _structure(f: Fitted, base: Scenario) -> None:
    """What the extract shows about the flow's structure."""
    why = "the extract records the pathway people took, so substitutions are already in the fitted shares"
    for rule in ("p1_interim_bed", "p1_bridging", "p2_interim_care_home"):
        old = getattr(base.routes, rule)
        f.put("routes", rule, {"after_days": old.after_days, "share": 0.0}, "the data contract", method="set", statistic=why)
    for lever in ("home_first_p2", "home_first_p3", "home_first_p3_home_share"):
        f.put("routes", lever, 0.0, "the data contract", method="set", statistic=why)
    f.put("routes", "death_while_waiting_per_day", 0.0, "the data contract", method="set",
          statistic="deaths while waiting are in-hospital deaths, already in acute.death_share")


def _localities(f: Fitted, spells: pd.DataFrame, episodes: pd.DataFrame, window) -> None:
    """Localities from the optional `locality` column: each one's share of spells, its team's
    share of reablement capacity (its peak concurrent episodes ÷ the sum of the teams'
    peaks) and its acceptable bed sites (those its people used for at least a tenth of their
    stays, most used first). Without the column: one city-wide queue per service."""
    f.data["localities"] = {}  # replaces the base's (merged_scenario)
    named = spells["locality"].dropna()
    if named.empty:
        why = "the extract has no locality column: one city-wide queue per service"
        f.fits.append({"parameter": "localities", "value": "(none)", "n": "", "source": "the data contract",
                       "method": "set", "statistic": why})
        f.put("beds", "site_choice", "first_free", "the data contract", method="set", statistic=why)
        f.put("reablement", "overflow", "none", "the data contract", method="set", statistic=why)
        return
    counts = named.value_counts()
    teams = episodes[(episodes["service"] == "reablement")].dropna(subset=["start_ts", "locality"])
    peaks = {name: peak_concurrency(rows["start_ts"], rows["end_ts"], *window) for name, rows in teams.groupby("locality")}
    beds = episodes[(episodes["service"] == "bed")].dropna(subset=["site", "locality"])
    everywhere = [str(site) for site in beds["site"].value_counts().index]
    names = sorted(counts.index)
    share = _summing_to_one([counts[name] / counts.sum() for name in names])
    team = _summing_to_one([peaks.get(name, 0) / max(sum(peaks.values()), 1) for name in names])
    for k, name in enumerate(names):
        used = beds.loc[beds["locality"] == name, "site"].value_counts()
        sites = [str(site) for site, n in used.items() if n >= 0.1 * used.sum()] or everywhere
        # one entry per locality (a name may hold dots): shares of spells and of the teams' peak
        # concurrent reablement episodes; sites with a tenth of the locality's bed stays
        f.put("localities", name, {"share": share[k], "reablement_share": team[k], "bed_sites": sites},
              "spells.csv and ic_episodes.csv by locality", int(counts[name]),
              "share of spells; team peak ÷ sum of team peaks; sites used for ≥ 10% of stays, most used first")
    f.inherit("reablement.overflow", "the extract names a person's locality, not the team that served them")
    f.put("beds", "site_choice", "nearest_acceptable" if len(beds) else "first_free", "ic_episodes.csv", len(beds),
          method="set", statistic="each locality's people take the first free site they used")


REPLACED = ("beds.sites", "localities")  # tables the fit replaces whole rather than merges into


def merged_scenario(base: Scenario, fitted: Fitted) -> dict:
    """The base scenario with the fitted values in; the fitted bed sites and localities replace the base's."""

    def merge(into: dict, new: dict, path: str) -> None:
        for key, value in new.items():
            here = f"{path}.{key}" if path else key
            if isinstance(value, dict) and "family" not in value and isinstance(into.get(key), dict) and here not in REPLACED:
                merge(into[key], value, here)
            else:
                into[key] = value

    data = base.model_dump(mode="python")
    merge(data, fitted.data, "")
    return data


def _summing_to_one(values) -> list[float]:
    """Shares rounded to 9 places, the last taking the remainder so they sum to exactly 1."""
    rounded = [round(float(v), 9) for v in values]
    return [*rounded[:-1], 1 - sum(rounded[:-1])]


def _mean_one(values) -> list[float]:
    mean = float(np.mean(values))
    return [float(v) / mean for v in values]


def _settled(stays: pd.DataFrame, begun: str, ended: str, extract_date: pd.Timestamp) -> pd.DataFrame:
    """The stays begun at least STAY_SETTLED_DAYS before the extract date. Of the stays begun
    near the extract date only the short have ended: counting them would shorten every fitted
    stay and hide the outcomes that take longest (a care home). All the stays when that cohort
    has fewer than MIN_SETTLED_STAYS ended (a short history)."""
    cohort = stays[stays[begun] <= extract_date - STAY_SETTLED_DAYS * DAY]
    return cohort if cohort[ended].notna().sum() >= MIN_SETTLED_STAYS else stays


def _capacity(f: Fitted, table: str | KeyPath, key: str, rows: pd.DataFrame, window, source: str) -> None:
    """Capacity = the peak concurrent occupancy, with the evidence of whether it bound: the
    occupancy at the moments people who had waited over a day started. When the capacity
    bound, those starts happen as places free, at the capacity (the plateau); when nobody
    waited, the peak is only a lower bound."""
    peak = peak_concurrency(rows["start_ts"], rows["end_ts"], *window)
    inside = rows[(rows["start_ts"] >= window[0]) & (rows["start_ts"] < window[1])]
    waited = inside[(inside["start_ts"] - inside["referral_ts"]) > DAY]
    if len(waited) < MIN_WAITS_SEEN:
        evidence = f"a lower bound: {len(waited)} people waited over a day, so it may never have bound"
    else:
        plateau = np.median(occupancy_after(rows["start_ts"], rows["end_ts"], waited["start_ts"]))
        bound = ("the capacity bound" if plateau >= peak - 1 else "below the peak: places held empty between "
                 "a grant and a start, waits not all for a place, or a capacity that changed")
        evidence = f"{len(waited)} waited over a day and started at a median occupancy of {plateau:g}: {bound}"
    f.put(table, key, peak, source, len(rows), "peak concurrent occupancy", evidence)


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
    _capacity(f, "home_ward", "capacity", hw_all, window, "ic_episodes.csv Home Ward")

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
    _capacity(f, "reablement", "capacity", re_all, window, "ic_episodes.csv reablement")

    beds = started[started["service"] == "bed"]
    # bed stays run for weeks, and those ending in a care home for months (see _settled)
    bed_ended = _settled(beds, "start_ts", "end_ts", extract_date).dropna(subset=["end_ts"])
    bed_map = {"home": "home", "home_with_care": "home_with_p1", "long_term_care": "long_term_care",
               "readmitted": "readmitted", "died": "died"}
    _shares(f, "beds.outcomes", {bed_map[k]: int(v) for k, v in bed_ended["outcome"].value_counts().items()},
            list(bed_map.values()), "ic_episodes.csv bed outcomes")
    stay = (bed_ended["end_ts"] - bed_ended["start_ts"]) / DAY
    overall = stay.mean()
    multipliers = (stay.groupby(bed_ended["site"]).mean() / overall).to_dict()
    _bed_stay(f, bed_ended, stay / bed_ended["site"].map(multipliers).fillna(1.0), _p1_wait(f, bed_ended, episodes))
    beds_all = running[running["service"] == "bed"]
    counts = beds["site"].value_counts()
    shares = {site: round(counts[site] / counts.sum(), 9) for site in counts.index}
    last = list(shares)[-1]
    shares[last] = 1 - sum(v for k, v in shares.items() if k != last)
    for site in counts.index:
        table = ("beds", "sites", str(site))  # a site's name may hold dots: one part of the path
        rows = beds[beds["site"] == site]
        occupying = beds_all[beds_all["site"] == site]
        _capacity(f, table, "beds", occupying, window, "ic_episodes.csv beds")
        f.put(table, "los_multiplier", round(float(multipliers.get(site, 1.0)), 6), "ic_episodes.csv bed stays", len(rows),
              "site mean stay ÷ all-site mean stay")
        f.put(table, "referral_share", float(shares[site]), "ic_episodes.csv bed episodes by site", len(rows), "share")
