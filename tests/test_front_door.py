"""Front-door assessment as a service with capacity (assess or admit), against Erlang B."""

from __future__ import annotations

import math

from helpers import constant_arrivals, deterministic, mmc_beds_scenario, modify, window_sum

from sim.model import simulate


def erlang_b(servers: int, offered: float) -> float:
    b = 1.0
    for k in range(1, servers + 1):
        b = offered * b / (k + offered * b)
    return b


def assess_only(rate: float, places, duration: float):
    """Every arrival meant for front-door assessment and home, with `places` assessed at once
    for `duration` days; whoever finds no place is admitted (and leaves on P2 to unlimited beds)."""
    base = mmc_beds_scenario(rate, "unlimited", 5.0, years=1.0, warmup_days=30, replications=1)
    return modify(base, {
        "arrivals": constant_arrivals(rate),
        "front_door.diversion": {"admit": 0.0, "home_ward": 0.0, "assessment_home": 1.0,
                                 "step_up_reablement": 0.0, "step_up_bed": 0.0},
        "front_door.assessment": {"capacity": places, "capacity_schedule": [], "duration": deterministic(duration)},
    })


def test_assessment_places_block_as_erlang_b():
    """A loss system with Poisson arrivals: the share turned away (admitted) is Erlang B,
    whatever the assessment time's distribution (insensitivity). 3 places, 8 arrivals a day,
    0.25 days each: offered load 2, B(3, 2) = 0.2105; ≈ 2,900 arrivals, so within 4 binomial
    standard errors (≈ 0.03)."""
    scenario = assess_only(8.0, 3, 0.25)
    out = simulate(scenario, 0)
    arrivals = window_sum(out, scenario, "front_door.arrivals")
    assessed = window_sum(out, scenario, "admissions_avoided", "assessment_home")
    admitted = window_sum(out, scenario, "hospital.admissions")
    blocked = erlang_b(3, 2.0)
    assert abs(blocked - 0.2105) < 1e-3
    assert arrivals > 2500
    assert abs(admitted / arrivals - blocked) <= 4 * math.sqrt(blocked * (1 - blocked) / arrivals)
    assert abs(assessed + admitted - arrivals) <= 3  # assessments still running at the window edges


def test_unlimited_assessment_admits_nobody():
    scenario = assess_only(8.0, "unlimited", 0.25)
    out = simulate(scenario, 0)
    assert window_sum(out, scenario, "hospital.admissions") == 0
    assert window_sum(out, scenario, "admissions_avoided", "assessment_home") > 2500
