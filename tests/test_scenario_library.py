"""The scenario library (scenarios/*.toml other than the baseline).

1. Every library scenario validates, and differs from the baseline only in the keys its header
   line `# changes: ...` names (and in [meta]); every key named there really differs.
2. A short run of each gives finite headline KPIs.
3. The bed-throughput identity behind the 2014 BCF plan (+12 beds -> "+140 stays a year"):
   where short-term beds are the binding constraint, each added bed adds about
   365 × occupancy / mean stay admissions a year (Little's law, L = λW, for the beds in use).
"""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
from helpers import ROOT, baseline, modify
from scipy import stats

from sim.experiment.runner import run
from sim.inputs.loading import load_scenario
from sim.model import simulate

SCENARIOS = ROOT / "scenarios"
LIBRARY = ("homefirst", "beds_plus_12", "seven_day_discharge", "reablement_plus_20", "winter_surge")

# What each scenario is meant to change, written out here independently of the files' headers,
# so that a header and its file cannot drift together unnoticed.
EXPECTED_CHANGES = {
    "homefirst": {
        "front_door.diversion",
        "acute.discharge_process.p1", "acute.discharge_process.p2", "acute.discharge_process.p3",
        "reablement.capacity", "beds.los", "beds.discharge_process",
        "routes.home_first_p2", "routes.home_first_p3", "routes.home_first_p3_home_share",
    },
    "beds_plus_12": {f"beds.sites.hub_{i}.beds" for i in range(1, 7)},
    "seven_day_discharge": {
        "acute.readiness_weekday.sat", "acute.readiness_weekday.sun",
        "acute.discharge_weekday.sat", "acute.discharge_weekday.sun",
        "beds.discharge_weekday.sat", "beds.discharge_weekday.sun",
    },
    "reablement_plus_20": {"reablement.capacity"},
    "winter_surge": {
        "arrivals.rate_per_day", "arrivals.monthly_factors",
        "community.reablement_per_day", "community.bed_per_day",
        "beds.sites.hub_1.capacity_schedule", "beds.sites.hub_2.capacity_schedule",
    },
}


def _leaves(data, prefix=""):
    """{dotted path: value} for every leaf of a model_dump (tuples/lists are leaves)."""
    if isinstance(data, dict):
        out = {}
        for key, value in data.items():
            out.update(_leaves(value, f"{prefix}.{key}" if prefix else str(key)))
        return out
    return {prefix: data}


def _changed_leaves(scenario, reference) -> set[str]:
    a, b = _leaves(scenario.model_dump()), _leaves(reference.model_dump())
    assert a.keys() == b.keys(), f"key sets differ: {sorted(a.keys() ^ b.keys())}"
    return {path for path in a if a[path] != b[path] and not path.startswith("meta.")}


def _header_changes(path) -> set[str]:
    lines = [line for line in path.read_text().splitlines() if re.match(r"#\s*changes:", line)]
    assert len(lines) == 1, f"{path.name}: expected one '# changes:' header line"
    return {item.strip() for item in lines[0].split(":", 1)[1].split(",") if item.strip()}


def _under(path: str, prefix: str) -> bool:
    return path == prefix or path.startswith(prefix + ".")


def test_library_is_complete():
    on_disk = {p.stem for p in SCENARIOS.glob("*.toml")} - {"baseline"}
    assert set(LIBRARY) <= on_disk


@pytest.mark.parametrize("name", LIBRARY)
def test_scenario_changes_only_what_it_says(name):
    path = SCENARIOS / f"{name}.toml"
    scenario = load_scenario(path)  # raises InputError if it does not validate
    assert scenario.meta.name == name
    assert path.read_text().count('extends = "baseline.toml"') == 1

    declared = _header_changes(path)
    assert declared == EXPECTED_CHANGES[name]

    changed = _changed_leaves(scenario, baseline())
    stray = {p for p in changed if not any(_under(p, d) for d in declared)}
    assert not stray, f"{name} changes keys its header does not name: {sorted(stray)}"
    unchanged = {d for d in declared if not any(_under(p, d) for p in changed)}
    assert not unchanged, f"{name} names keys it does not change: {sorted(unchanged)}"
    # the run settings are the baseline's, so a library run is comparable with a baseline run
    assert scenario.run == baseline().run


def test_scenario_values_from_their_stated_arithmetic():
    """Numbers the headers derive by arithmetic, checked by doing the arithmetic here."""
    base = baseline()
    # reablement +20%
    assert load_scenario(SCENARIOS / "reablement_plus_20.toml").reablement.capacity == round(base.reablement.capacity * 1.2)
    # +12 beds, 2 per site
    plus = load_scenario(SCENARIOS / "beds_plus_12.toml")
    added = [plus.beds.sites[n].beds - base.beds.sites[n].beds for n in base.beds.sites]
    assert added == [2] * 6 and sum(added) == 12
    # weekend = mean of the baseline's Mon-Fri probabilities (to the 3 decimals written)
    seven = load_scenario(SCENARIOS / "seven_day_discharge.toml")
    for table, ref in ((seven.acute.discharge_weekday, base.acute.discharge_weekday),
                       (seven.acute.readiness_weekday, base.acute.readiness_weekday),
                       (seven.beds.discharge_weekday, base.beds.discharge_weekday)):
        weekday_mean = sum(ref.as_tuple()[:5]) / 5
        assert table.sat == table.sun == pytest.approx(weekday_mean, abs=5e-4)
    # homefirst diverts more than the baseline (that its shares sum to 1 the schema enforces on
    # loading; tests/test_scenario.py checks a bad sum is rejected)
    hf = load_scenario(SCENARIOS / "homefirst.toml")
    assert hf.front_door.diversion.admit < base.front_door.diversion.admit
    # winter surge: absolute arrival rate per month = baseline × 1.10 in Dec-Feb, × 1 otherwise
    ws = load_scenario(SCENARIOS / "winter_surge.toml")
    surge = [1.10, 1.10] + [1.0] * 9 + [1.10]  # Jan..Dec
    for m in range(12):
        got = ws.arrivals.rate_per_day * ws.arrivals.monthly_factors[m]
        want = base.arrivals.rate_per_day * base.arrivals.monthly_factors[m] * surge[m]
        assert got == pytest.approx(want, rel=1e-5)
        for key in ("reablement_per_day", "bed_per_day"):
            got_c = getattr(ws.community, key) * ws.arrivals.monthly_factors[m]
            want_c = getattr(base.community, key) * base.arrivals.monthly_factors[m] * surge[m]
            assert got_c == pytest.approx(want_c, rel=1e-5)
    # winter beds fall inside the reported year and return to the baseline count
    first, last = base.run.start_date, base.date_of(base.end_day - 1)
    for site in ("hub_1", "hub_2"):
        schedule = ws.beds.sites[site].capacity_schedule
        assert all(first <= c.date <= last for c in schedule)
        assert schedule[-1].capacity == base.beds.sites[site].beds
        assert schedule[0].capacity > base.beds.sites[site].beds


HEADLINE = (
    ("nr2r_los_days", "total"), ("bed_los_days", "total"), ("bed_occupancy", "total"),
    ("reablement_starts_per_week", "total"), ("admissions_per_week", "total"),
    ("admissions_avoided_per_week", "total"), ("p1_wait_days", "total"), ("p2_wait_days", "total"),
    ("reablement_occupancy", "total"), ("people_per_year", "home_from_hospital"),
)


@pytest.mark.parametrize("name", LIBRARY)
def test_short_run_gives_finite_headline_kpis(name):
    scenario = load_scenario(SCENARIOS / f"{name}.toml").with_run(years=0.25)
    result = run(scenario, replications=2, seed=4321)
    values = result.replications.set_index(["kpi", "scope", "replication"])["value"].sort_index()
    for kpi, scope in HEADLINE:
        for r in (0, 1):
            v = values[(kpi, scope, r)]
            assert math.isfinite(v), f"{name}: {kpi}[{scope}] replication {r} = {v}"
    assert (values.loc[("admissions_per_week", "total")] > 0).all()


# ---------------------------------------------------------------------------------------------
# Bed throughput (V12): 2014 BCF, 161 -> 173 beds, "+140 stays a year".

SPLIT_161 = (34, 31, 29, 25, 24, 18)  # the baseline's six sites scaled to 161 beds (assumption)


def _bed_run(scenario, replication, seed):
    """(admissions to short-term beds a year, occupancy, mean stay at discharge) of one replication."""
    out = simulate(scenario, replication, seed)
    first, last = scenario.run.warmup_days, scenario.end_day
    daily = out.daily
    sites = list(scenario.beds.sites)
    starts = sum(v[first:last].sum() for (series, _), v in daily.items() if series == "beds.starts")
    occupied = sum(daily[("beds.occupied", s)][first:last].sum() for s in sites)
    funded = sum(daily[("beds.capacity", s)][first:last].sum() for s in sites)
    stay_days = sum(daily[("beds.los_days", s)][first:last].sum() for s in sites)
    leaving = sum(daily[("beds.discharges", s)][first:last].sum() for s in sites)
    queue = daily.get(("beds.queue", "community"))
    min_queue = float(queue[first:last].min()) if queue is not None else 0.0
    return starts / scenario.run.years, occupied / funded, stay_days / leaving, min_queue


@pytest.mark.parametrize(
    "therapy_los, referrals_per_day", [(32.0, 5.0), (20.0, 7.0)], ids=["baseline_los", "los_2014_like"]
)
def test_added_beds_add_stays_by_throughput_identity(therapy_los, referrals_per_day):
    """Extra bed admissions a year from +12 beds = the difference of Little's law in the two
    runs, 365 × (173 × occupancy / mean stay − 161 × occupancy / mean stay), ≈ 12 × 365 ×
    occupancy / mean stay.

    Beds are made the binding constraint: no front-door arrivals (which also keeps the test
    fast) and community step-up bed referrals above what even 173 beds can take: 5/day at the
    baseline stay (173 × 365 / 41 ≈ 1,540 a year ≈ 4.2/day) and 7/day at the 2014-like stay
    (173 × 365 / 29 ≈ 2,180 a year ≈ 6.0/day), so a queue waits at home all year and every
    bed that frees is refilled. The +12 beds are those of
    scenarios/beds_plus_12.toml (2 per site), added to a 161-bed split of the six sites.
    With therapy LOS 32 d (baseline) the mean stay is ≈ 41 d, so theory gives ≈ 365 × 0.99 / 41
    ≈ 8.8 stays per added bed. With therapy LOS 20 d the stay is ≈ 28-31 d, the 2014 level,
    and the identity gives ≈ 11.5-12.5 per bed, the 2014 plan's 140 / 12 ≈ 11.7.
    """
    base = baseline()
    plus = load_scenario(SCENARIOS / "beds_plus_12.toml")
    added = {n: int(plus.beds.sites[n].beds - base.beds.sites[n].beds) for n in base.beds.sites}
    assert sum(added.values()) == 12
    common = {
        "run.years": 1.0, "run.warmup_days": 180,
        "arrivals.rate_per_day": 0.0,
        "community": {"reablement_per_day": 0.0, "bed_per_day": referrals_per_day},
        "beds.los": {"family": "lognormal", "mean": therapy_los, "sd": therapy_los * 0.625},
    }
    split = dict(zip(base.beds.sites, SPLIT_161))
    assert sum(split.values()) == 161
    v161 = modify(base, {**common, **{f"beds.sites.{n}.beds": b for n, b in split.items()}})
    v173 = modify(base, {**common, **{f"beds.sites.{n}.beds": b + added[n] for n, b in split.items()}})

    n, seed = 8, 777
    extra, identity, per_added_bed, stays = [], [], [], []
    for r in range(n):  # same seed and replication: common random numbers
        s161, occ161, los161, q161 = _bed_run(v161, r, seed)
        s173, occ, los, q173 = _bed_run(v173, r, seed)
        # beds really bind: someone waits at home for a bed on every reported day
        assert q161 > 0 and q173 > 0
        assert occ > 0.95
        extra.append(s173 - s161)
        # Little's law in each run (stays a year = beds × occupancy × 365 / mean stay), so the
        # difference holds whatever the small changes in occupancy and stay between the runs
        identity.append(365 * (173 * occ / los - 161 * occ161 / los161))
        per_added_bed.append(365 * occ / los)
        stays.append(los)
    extra, identity = np.array(extra), np.array(identity)
    t = stats.t.ppf(0.975, n - 1)

    # the identity, computed from each replication's own occupancy and stay, against the
    # simulated extra admissions: their paired difference has a 95% CI containing 0
    diff = extra - identity
    half = t * diff.std(ddof=1) / np.sqrt(n)
    assert abs(diff.mean()) <= half + 1e-9, (
        f"extra stays {extra.mean():.1f}/yr vs identity {identity.mean():.1f}/yr (paired diff CI ±{half:.1f})"
    )
    # and the hand-worked sizes from the docstring
    per_bed = float(np.mean(per_added_bed))
    mean_stay = float(np.mean(stays))
    if therapy_los == 32.0:
        assert 38 <= mean_stay <= 44
        assert 8.0 <= per_bed <= 9.5
    else:
        assert 27 <= mean_stay <= 32
        assert 11.0 <= per_bed <= 13.5  # the 2014 plan's 140 / 12 ≈ 11.7 sits in this band
