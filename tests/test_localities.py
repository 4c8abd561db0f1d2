"""Localities, overflow and substitution rules in degenerate cases with textbook answers."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import exponential, kpi_values, mmc_beds_scenario, modify

from sim.experiment.runner import run
from sim.experiment.stats import t_interval
from sim.model import simulate


def erlang_c(c: int, a: float) -> float:
    b = 1.0
    for k in range(1, c + 1):
        b = a * b / (k + a * b)
    return c * b / (c - a * (1 - b))


def erlang_wq(c: int, lam: float, mean: float) -> float:
    a = lam * mean
    return erlang_c(c, a) * mean / (c - a)


def two_site_beds(lam: float, beds: int, los: float, years: float = 40, replications: int = 10):
    """Two localities with equal shares, each accepting only its own bed site of `beds` beds:
    two M/M/c queues, each with arrival rate lam / 2."""
    base = mmc_beds_scenario(lam, beds, los, years=years, warmup_days=365, replications=replications)
    site = {"beds": beds, "capacity_schedule": [], "los_multiplier": 1.0}
    return modify(base, {
        "beds.site_choice": "nearest_acceptable",
        "beds.sites": {"north": {**site, "referral_share": 0.5}, "south": {**site, "referral_share": 0.5}},
        "localities": {"North": {"bed_sites": ["north"]}, "South": {"bed_sites": ["south"]}},
    })


def test_two_localities_without_overflow_are_two_erlang_c_queues():
    """λ = 1.6/day split evenly, 10 beds each, exponential stays of 10 days: each locality's P2
    wait is Erlang C's Wq(10, 0.8/day, 10 d) ≈ 2.05 d (the pooled 20-bed system would give
    ≈ 0.6 d, so the check sees pooling that should not happen). 95% t-intervals over 10
    replications of 40 years, by locality scope, must contain it and be narrower than ±25%."""
    scenario = two_site_beds(1.6, 10, 10.0)
    values = run(scenario, replications=10, workers=2).replications.pivot_table(index="replication", columns=["kpi", "scope"],
                                                                       values="value")
    wq = erlang_wq(10, 0.8, 10.0)
    assert wq == pytest.approx(2.05, abs=0.01) and erlang_wq(20, 1.6, 10.0) < 0.4 * wq
    for place in ("North", "South"):
        _mean, low, high = t_interval(values[("p2_wait_days", place)])
        assert low <= wq <= high, (place, low, high, wq)
        assert high - low < 0.5 * wq


def two_teams(overflow, replications: int = 6):
    """Everyone needs reablement (P1) at once, 0.8 a day; two localities, each team 5 places;
    exponential episodes of 10 days; nobody comes back."""
    base = mmc_beds_scenario(0.8, "unlimited", 10.0, years=20, warmup_days=365, replications=replications)
    return modify(base, {
        "acute.pathway_shares": {"p0": 0.0, "p1": 1.0, "p2": 0.0, "p3": 0.0},
        "reablement.capacity": 10,
        "reablement.duration": exponential(10.0),
        "reablement.outcomes": {"independent": 1.0, "ongoing_homecare": 0.0, "readmitted": 0.0,
                                "long_term_care": 0.0, "died": 0.0},
        "reablement.overflow": overflow,
        "localities": {"North": {}, "South": {}},
    })


def p1_waits(scenario, replications: int = 6) -> np.ndarray:
    return np.array([kpi_values(simulate(scenario, r), scenario)[("p1_wait_days", "total")] for r in range(replications)])


def test_overflow_shortens_waits_towards_the_pooled_queue():
    """Two teams of 5 places, 0.4 a day each, 10-day episodes: alone each is M/M/5 with
    Wq ≈ 5.5 d; one pooled team of 10 would give Wq ≈ 2.05 d. Taking anyone after a day
    at any team with room must cut the waits (paired over the same people, every replication)
    and cannot beat pooling (its mean stays above the pooled Wq less 4 standard errors)."""
    alone = p1_waits(two_teams("none"))
    shared = p1_waits(two_teams({"after_days": 1.0}))
    assert _between(alone.mean(), erlang_wq(5, 0.4, 10.0))
    assert (shared < alone).all(), (shared, alone)
    mean, low, _high = t_interval(shared)
    pooled = erlang_wq(10, 0.8, 10.0)
    assert mean > pooled - 4 * (mean - low) / 2  # (mean - low) ≈ 2 se


def _between(value: float, theory: float) -> bool:
    return 0.75 * theory <= value <= 1.25 * theory


def test_substitution_that_never_comes_changes_nothing():
    """Every substitution rule with share 1 but a threshold beyond the run's end: the outputs
    are identical, day by day, to the same scenario without the rules."""
    base = modify(mmc_beds_scenario(0.8, 4, 10.0, years=2, warmup_days=100), {
        "acute.pathway_shares": {"p0": 0.2, "p1": 0.4, "p2": 0.4, "p3": 0.0},
        "reablement.capacity": 8,  # 0.32 a day × 18-day episodes = 5.8 of 8 places; beds 3.2 of 4
    })
    never = {"after_days": 1e6, "share": 1.0}
    rules = modify(base, {"routes.p1_interim_bed": never, "routes.p1_bridging": never,
                          "routes.p2_interim_care_home": never})
    a, b = simulate(base, 0).daily, simulate(rules, 0).daily
    assert a.keys() == b.keys()
    assert all(np.array_equal(a[k], b[k], equal_nan=True) for k in a)  # unlimited capacity integrates to NaN
    assert a[("acute.delayed", "awaiting_p1")].sum() > 0 and a[("acute.delayed", "awaiting_p2")].sum() > 0  # people did wait


def _rule_case(need: str, changes: dict) -> dict:
    """Daily series of a plain M/M/c-like scenario where everyone needs `need` at once (no
    clinical stay, no discharge process, any day a discharge day) and the service they need
    has no capacity, so every wait lasts until a rule ends it."""
    shares = {"p0": 0.0, "p1": 0.0, "p2": 0.0, "p3": 0.0, need: 1.0}
    scenario = modify(mmc_beds_scenario(1.0, "unlimited", 10.0, years=1, warmup_days=60, replications=1), {
        "acute.pathway_shares": shares, "reablement.capacity": 0, **changes,
    })
    return simulate(scenario, 0).daily


def _total(daily: dict, series: str, scope: str) -> float:
    return float(daily[(series, scope)].sum()) if (series, scope) in daily else 0.0


@pytest.mark.parametrize("rule, need, threshold, left_for", [
    ("p1_bridging", "p1", 3.0, "p1"),
    ("p1_interim_bed", "p1", 5.0, "p2"),
    ("p2_interim_care_home", "p2", 10.0, "p3"),
])
def test_a_rule_that_always_applies_ends_every_wait_at_its_threshold(rule, need, threshold, left_for):
    """Hand-worked: nobody can get the service they need (P1: no reablement places; P2: no
    beds), so with share 1 every person leaves the acute bed exactly `threshold` days after
    becoming ready, counted once as a substitution, and leaves for the route the rule gives."""
    changes = {f"routes.{rule}": {"after_days": threshold, "share": 1.0}}
    if need == "p2":
        changes["beds.sites.site.beds"] = 0
    daily = _rule_case(need, changes)
    left = _total(daily, "hospital.discharges", left_for)
    assert left > 300  # about one a day for a year and 60 days, less the last `threshold` days
    assert _total(daily, "routes.substitutions", rule) == left
    assert _total(daily, "hospital.nr2r_days", left_for) == pytest.approx(threshold * left, rel=1e-9)
    if rule == "p1_interim_bed":  # they wait for P1 in the short-term bed instead
        assert _total(daily, "beds.starts", "hospital") == left
    if rule == "p1_bridging":  # still on the P1 list at home: nobody has started reablement
        assert _total(daily, "reablement.starts", "hospital") == 0


def test_death_while_waiting_follows_its_daily_probability():
    """With a daily probability p of dying while waiting and no P1 places, every wait ends in
    death after a time with mean -1 / ln(1 - p) days (9.49 for p = 0.1)."""
    p = 0.1
    daily = _rule_case("p1", {"routes.death_while_waiting_per_day": p, "arrivals.rate_per_day": 3.0})
    deaths = _total(daily, "routes.substitutions", "died_waiting")
    assert deaths == _total(daily, "hospital.deaths", "total") > 1000
    mean_wait = _total(daily, "hospital.los_days", "died_waiting") / deaths
    # about 1,250 deaths: the standard error of the mean is 2.8%; allow about 4 of them
    assert mean_wait == pytest.approx(-1 / np.log1p(-p), rel=0.11)
