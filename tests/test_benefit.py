"""Financial-benefit layer: cost table validation, inflation, and benefit arithmetic checked by
hand on small synthetic replications frames (expected numbers are worked out in the comments,
not taken from the code's output)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from helpers import cost_item as item
from helpers import cost_table as table
from scipy import stats

from sim.errors import InputError
from sim.experiment.benefit import benefit, benefit_over_years, benefit_tables, run_rate, sensitivity
from sim.inputs.costs import DEFAULT_COSTS_PATH, costs_from_dict, load_costs

NAN = math.nan

# -- synthetic inputs ------------------------------------------------------------------------

# The cost table is helpers.cost_table(), in round numbers and the target price year 2024/25:
# acute NCTR bed day £100 (low £50, high £200), admission £1,000, IC bed day £300, care-home
# week £700, home-care hour £20, funded bed day £400, reablement place day £50, virtual-ward
# place day £80, front-door assessment £100; care-home stay 2 years, home-care package 52 weeks.

# A baseline with every KPI the benefit layer reads (one value, same in every replication).
BASE = {
    ("delayed_bed_days_per_week", "total"): 100.0,
    ("admissions_per_week", "total"): 70.0,
    ("readmissions_per_week", "total"): 5.0,
    ("beds_occupied", "total"): 10.0,
    ("permanent_care_admissions_per_year", "total"): 50.0,
    ("homecare_hours_avoided_per_year", "total"): 1000.0,
    ("capacity_funded", "beds"): NAN,  # unlimited
    ("capacity_funded", "reablement"): 100.0,
    ("reablement_starts_per_week", "total"): 14.0,  # 730 episodes a year from 36,500 place-days: 0.02 a place-day
    ("capacity_funded", "home_ward"): NAN,
    ("capacity_funded", "assessment"): NAN,  # unlimited: costed per person assessed
    ("admissions_avoided_per_week", "assessment_home"): 7.0,  # 365 people assessed and sent home a year
}


def reps(values: dict, n: int = 1) -> pd.DataFrame:
    """A replications frame; a value may be a scalar (same in every replication) or a list."""
    rows = []
    for (kpi, scope), v in values.items():
        per_rep = v if isinstance(v, list) else [v] * n
        for r, value in enumerate(per_rep):
            rows.append((r, kpi, scope, "u", float(value)))
    return pd.DataFrame(rows, columns=["replication", "kpi", "scope", "unit", "value"])


def rows(frame: pd.DataFrame) -> dict[str, pd.Series]:
    return {r.component: r for r in frame.itertuples(index=False)}


# -- benefit arithmetic ----------------------------------------------------------------------


def test_each_component_by_hand():
    scen = dict(BASE)
    scen[("delayed_bed_days_per_week", "total")] = 93.0  # −7/week
    scen[("admissions_per_week", "total")] = 68.0  # −2/week, of which readmissions −0.5
    scen[("readmissions_per_week", "total")] = 4.5
    scen[("beds_occupied", "total")] = 8.0  # −2 beds
    scen[("permanent_care_admissions_per_year", "total")] = 40.0  # −10/year
    scen[("homecare_hours_avoided_per_year", "total")] = 1070.0  # reablement removes 70 h/week more
    scen[("capacity_funded", "reablement")] = 110.0  # +10 places
    out = rows(benefit(reps(BASE), reps(scen), costs_from_dict(table())))
    # NR2R days per admission 100/70 → 93/68, on the 68 still admitted a week:
    # (93/68 − 100/70) × 68 = 93 − 97.142857 = −4.142857 days a week × 365/7 × £100
    assert out["acute_nr2r_bed_days"].central == pytest.approx(4.142857 * 365 / 7 * 100, rel=1e-6)
    # first admissions −1.5/week × 365/7 × £1,000 = 1.5 × 52.142857 × 1000
    assert out["admissions_avoided"].central == pytest.approx(78_214.285714)
    assert out["readmissions"].central == pytest.approx(26_071.428571)  # 0.5 × 52.142857 × 1000
    assert out["short_term_bed_days"].central == pytest.approx(219_000)  # 2 × 365 × £300
    assert out["short_term_bed_days"].in_net  # beds unlimited (spot purchase): occupied days are the cost
    # 10 admissions × 2 years × 365/7 weeks × £700/week = 10 × 73,000
    assert out["long_term_care"].central == pytest.approx(730_000)
    assert out["homecare_hours"].central == pytest.approx(72_800)  # 70 h/week × 52 weeks × £20
    # +10 places × 365 days × 0.02 episodes a place-day (the baseline's) = 73 episodes × £1,000
    assert out["funded_capacity_reablement"].central == pytest.approx(-73_000)
    assert out["funded_capacity_beds"].central == 0  # unlimited in both runs
    assert out["funded_capacity_home_ward"].central == 0
    # 21,602.04 + 78,214.29 + 26,071.43 + 219,000 + 730,000 + 72,800 − 73,000
    assert out["net"].central == pytest.approx(1_074_687.755102, rel=1e-9)
    assert out["acute_nr2r_bed_days"].volume_change_central == pytest.approx(-4.142857 * 365 / 7, rel=1e-6)
    assert out["long_term_care"].volume_change_central == pytest.approx(-10 * 2 * 365 / 7)
    assert out["acute_nr2r_bed_days"].category == "capacity released"
    assert out["homecare_hours"].category == "cost-out"
    assert out["funded_capacity_reablement"].category == "cost (funded capacity)"


def _pert_quantile(q: float, low: float, mode: float, high: float) -> float:
    """The Beta-PERT quantile from its definition (λ = 4), by scipy's beta distribution."""
    a, b = 1 + 4 * (mode - low) / (high - low), 1 + 4 * (high - mode) / (high - low)
    return low + (high - low) * stats.beta.ppf(q, a, b)


def test_a_care_home_placement_avoided_is_discounted_over_its_stay():
    """10 placements avoided, a 2-year stay at £700 a week, 3.5% a year: each is worth
    104.2857 weeks × (1 − 1.035^−2) / (2 ln 1.035) = 104.2857 × 0.966374 weeks."""
    data = table()
    data["assumptions"]["discount_rate"]["value"] = 0.035
    scen = dict(BASE)
    scen[("permanent_care_admissions_per_year", "total")] = 40.0
    out = rows(benefit(reps(BASE), reps(scen), costs_from_dict(data)))
    factor = (1 - 1.035**-2) / (2 * math.log(1.035))
    assert factor == pytest.approx(0.966374, abs=1e-6)
    assert out["long_term_care"].central == pytest.approx(10 * 2 * 365 / 7 * factor * 700)


def test_fewer_admissions_alone_are_counted_once():
    """Exactly one mechanism: 10 fewer admissions a week, each with the same NR2R days as
    before (100/70 a week per admission). The NR2R days those people would have spent are in
    the admission's cost, so the NR2R component is 0 and the net is 10 × 365/7 × £1,000."""
    scen = dict(BASE)
    scen[("admissions_per_week", "total")] = 60.0
    scen[("delayed_bed_days_per_week", "total")] = 100.0 * 60 / 70
    out = rows(benefit(reps(BASE), reps(scen), costs_from_dict(table())))
    assert out["acute_nr2r_bed_days"].central == pytest.approx(0, abs=1e-6)
    assert out["admissions_avoided"].central == pytest.approx(10 * 365 / 7 * 1000)
    assert out["net"].central == pytest.approx(10 * 365 / 7 * 1000)


def test_more_reablement_that_ends_well_saves_homecare():
    """Reablement rises and nothing else changes: 100 more episodes a year, each ending at home
    with 6 of its 10 weekly hours removed, avoid 600 h/week of homecare for 52 weeks at £20,
    a saving of 624,000, although the packages people leave with add up to more hours."""
    scen = dict(BASE)
    scen[("homecare_hours_avoided_per_year", "total")] = 1000.0 + 100 * 6
    out = rows(benefit(reps(BASE), reps(scen), costs_from_dict(table())))
    assert out["homecare_hours"].central == pytest.approx(624_000)
    assert out["net"].central == pytest.approx(624_000)  # the only mechanism acting


def test_central_is_the_mean_and_year_percentiles_are_one_years_spread():
    scen = dict(BASE)
    scen[("delayed_bed_days_per_week", "total")] = [93.0, 86.0, 79.0]  # −7, −14, −21 a week
    frame = benefit(reps(BASE, 3), reps(scen, 3), costs_from_dict(table()))
    r = rows(frame)["acute_nr2r_bed_days"]
    # bed days saved a year: 365, 730, 1095; at the central £100: 36,500, 73,000, 109,500
    assert r.central == pytest.approx(73_000)  # their mean
    assert r.year_p10 == pytest.approx(36_500 + 0.2 * 36_500)  # linear percentile at rank 0.2
    assert r.year_p90 == pytest.approx(73_000 + 0.8 * 36_500)  # at rank 1.8
    assert (r.unit_cost_low, r.unit_cost_central, r.unit_cost_high) == (50, 100, 200)
    assert "90%" in frame.attrs["range_method"] and "one simulated year" in frame.attrs["range_method"]


def test_with_exact_costs_the_interval_is_the_paired_t_interval():
    """Unit costs without a range: the 90% interval is the Student t interval of the mean saving,
    mean ± t(0.95, R − 1) × sd / √R, here 730 ± 2.919986 × 365 / √3 bed days × £100."""
    data = table()
    data["costs"]["acute_nctr_bed_day"] = item(100.0, 100.0, 100.0)
    scen = dict(BASE)
    scen[("delayed_bed_days_per_week", "total")] = [93.0, 86.0, 79.0]
    r = rows(benefit(reps(BASE, 3), reps(scen, 3), costs_from_dict(data)))["acute_nr2r_bed_days"]
    half = stats.t.ppf(0.95, 2) * 365 / math.sqrt(3) * 100
    # Monte Carlo percentiles of a t with 2 degrees of freedom: about 2% error at 20,000 draws
    assert r.low == pytest.approx(73_000 - half, abs=0.06 * half)
    assert r.high == pytest.approx(73_000 + half, abs=0.06 * half)


def test_without_simulation_error_the_interval_is_the_unit_costs_pert_interval():
    """Every replication saves the same 365 bed days: the interval is 365 × the 5th and 95th
    percentiles of PERT(£50, £100, £200), and a cost (funded beds) is the mirror image."""
    scen = dict(BASE)
    scen[("delayed_bed_days_per_week", "total")] = 93.0
    out = rows(benefit(reps(BASE, 4), reps(scen, 4), costs_from_dict(table())))
    r = out["acute_nr2r_bed_days"]
    assert r.low == pytest.approx(365 * _pert_quantile(0.05, 50, 100, 200), rel=0.01)
    assert r.high == pytest.approx(365 * _pert_quantile(0.95, 50, 100, 200), rel=0.01)
    assert r.year_p10 == r.year_p90 == pytest.approx(36_500)


def test_net_interval_is_of_the_sum_not_the_sum_of_intervals():
    """Two components with independent unit costs: the net's interval is narrower than the sum
    of the components' (their uncertainties partly cancel), and its central is the sum."""
    data = table()
    data["costs"]["care_home_week"] = item(700.0, 500.0, 900.0, unit="care_home_week")
    scen = dict(BASE)
    scen[("delayed_bed_days_per_week", "total")] = 93.0
    scen[("permanent_care_admissions_per_year", "total")] = 49.0
    out = rows(benefit(reps(BASE, 2), reps(scen, 2), costs_from_dict(data)))
    parts = ("acute_nr2r_bed_days", "long_term_care")
    assert out["net"].central == pytest.approx(sum(out[k].central for k in parts))
    assert out["net"].high - out["net"].low < sum(out[k].high - out[k].low for k in parts)


def test_one_unit_cost_draw_is_shared_by_the_components_that_use_it():
    """Admissions avoided and readmissions both use the admission cost: with the same volume
    change their intervals are identical (one draw), and the seed changes the draws."""
    data = table()
    data["costs"]["nel_admission"] = item(1000.0, 500.0, 2000.0, unit="admission")
    scen = dict(BASE)
    scen[("admissions_per_week", "total")] = 68.0  # −2 a week: −1 first admissions, −1 readmissions
    scen[("readmissions_per_week", "total")] = 4.0
    out = rows(benefit(reps(BASE, 2), reps(scen, 2), costs_from_dict(data), seed=5))
    assert (out["admissions_avoided"].low, out["admissions_avoided"].high) == (out["readmissions"].low, out["readmissions"].high)
    other = rows(benefit(reps(BASE, 2), reps(scen, 2), costs_from_dict(data), seed=6))
    assert other["readmissions"].low != out["readmissions"].low


def test_interval_covers_the_true_mean_benefit_ninety_percent_of_the_time():
    """Coverage by simulation on a toy with a known truth: each experiment has 8 paired
    replications of a bed-day saving with true mean 10 a week (sd 6) and a true unit cost drawn
    from the cost's PERT (the uncertainty the interval claims to hold); the truth is the mean
    saving × that cost. Over 400 independent experiments the 90% interval should contain it
    about 90% of the time (binomial sd 1.5 points: 86-94% is ± 2.7 sd)."""
    rng = np.random.default_rng(20261203)
    costs = costs_from_dict(table())
    hits, n = 0, 400
    for experiment in range(n):
        saving = rng.normal(10.0, 6.0, 8)  # bed days a week saved, per replication
        scen = dict(BASE)
        scen[("delayed_bed_days_per_week", "total")] = list(100.0 - saving)
        r = rows(benefit(reps(BASE, 8), reps(scen, 8), costs, seed=experiment))["acute_nr2r_bed_days"]
        truth = 10.0 * 365 / 7 * _pert_quantile(rng.uniform(), 50, 100, 200)
        hits += r.low <= truth <= r.high
    assert 0.86 <= hits / n <= 0.94, hits / n


def test_frame_against_itself_is_exactly_zero():
    rng = np.random.default_rng(1)
    values = {key: list(rng.uniform(1, 100, 5)) for key in BASE}
    values[("capacity_funded", "beds")] = [NAN] * 5
    frame = reps(values)
    out = benefit(frame, frame.copy(), load_costs())
    for column in ("low", "central", "high", "year_p10", "year_p90", "volume_change_central"):
        values = out[column].to_numpy()
        values = values[~np.isnan(values)] if column == "volume_change_central" else values
        assert np.all(values == 0), column
        assert not np.any(np.signbit(values)), column  # no −0.0


def test_funded_empty_beds_cost_money():
    base = dict(BASE)
    base[("capacity_funded", "beds")] = 50.0
    scen = dict(base)
    scen[("capacity_funded", "beds")] = 60.0  # +10 funded beds, nothing else changes
    data = table()
    data["costs"]["funded_bed_day"] = item(400.0, 300.0, 500.0, unit="funded_bed_day")
    out = rows(benefit(reps(base, 4), reps(scen, 4), costs_from_dict(data)))
    # a funded bed day at £400 (low £300, high £500) in the target price year: 10 beds × 365 days
    assert out["net"].central == pytest.approx(-1_460_000)  # 10 × 365 × 400
    # a cost: the interval's low end at a high unit cost, PERT(300, 400, 500)'s 95th percentile
    assert out["net"].low == pytest.approx(-3650 * _pert_quantile(0.95, 300, 400, 500), rel=0.01)
    assert out["net"].high == pytest.approx(-3650 * _pert_quantile(0.05, 300, 400, 500), rel=0.01)
    assert out["funded_capacity_beds"].central == pytest.approx(-1_460_000)
    assert not out["short_term_bed_days"].in_net  # funded beds: occupied days are inside the funded cost


def test_front_door_assessment_costs_each_person_assessed():
    """No assessment capacity set (unlimited): no places to fund, so each extra person assessed
    costs one assessment. 7 → 14 a week sent home from assessment, nothing else changes."""
    scen = dict(BASE)
    scen[("admissions_avoided_per_week", "assessment_home")] = 14.0
    out = rows(benefit(reps(BASE), reps(scen), costs_from_dict(table())))
    # +7 a week × 365/7 = +365 assessments a year × £100
    assert out["funded_capacity_assessment"].central == pytest.approx(-36_500)
    assert out["net"].central == pytest.approx(-36_500)
    assert out["funded_capacity_assessment"].payer == "nhs_community"


def test_funded_empty_assessment_places_cost_money():
    """Two funded assessment places assess 7 people a week (365 a year from 730 place-days: 0.5
    a place-day); doubling the places with nobody more to assess still costs their assessments."""
    base = dict(BASE)
    base[("capacity_funded", "assessment")] = 2.0
    scen = dict(base)
    scen[("capacity_funded", "assessment")] = 4.0
    out = rows(benefit(reps(base), reps(scen), costs_from_dict(table())))
    # +2 places × 365 days × 0.5 assessments a place-day × £100
    assert out["funded_capacity_assessment"].central == pytest.approx(-36_500)
    assert out["net"].central == pytest.approx(-36_500)


def test_unlimited_in_one_run_only_is_an_error():
    scen = dict(BASE)
    scen[("capacity_funded", "beds")] = 60.0  # baseline unlimited (NaN)
    with pytest.raises(InputError, match=r"capacity_funded beds: unlimited in the baseline only"):
        benefit(reps(BASE), reps(scen), costs_from_dict(table()))


def test_mismatched_replications_are_an_error():
    with pytest.raises(InputError, match="replications differ"):
        benefit(reps(BASE, 2), reps(BASE, 3), costs_from_dict(table()))


def test_missing_kpi_is_an_error():
    frame = reps(BASE)
    frame = frame[frame["kpi"] != "readmissions_per_week"]
    with pytest.raises(InputError, match="readmissions_per_week"):
        benefit(frame, frame, costs_from_dict(table()))


# -- run rate -------------------------------------------------------------------------------


def test_run_rate_by_hand():
    base = {
        ("admissions_per_week", "total"): 70.0,  # 3,650 a year
        ("pathway_share_p1", "total"): 0.3,
        ("pathway_share_p2", "total"): 0.1,
        ("pathway_share_p3", "total"): 0.1,  # complex share 0.5 → 1,825 complex discharges a year
        ("nr2r_los_days", "total"): 5.0,
        ("bed_los_days", "total"): 20.0,
        ("beds_occupied", "total"): 10.0,  # 10 × 365 ÷ 20 = 182.5 stays a year
        ("admissions_avoided_per_week", "total"): 3.0,
        ("bed_home_proportion", "total"): 0.8,
        ("people_per_year", "home_after_bed"): 80.0,  # 80 ÷ 0.8 = 100 exits home or to care a year
        ("reablement_effectiveness_hours", "total"): 5.0,
        ("reablement_starts_per_week", "total"): 7.0,  # 365 a year
    }
    scen = dict(base)
    scen[("nr2r_los_days", "total")] = 4.0  # −1 day
    scen[("bed_los_days", "total")] = 18.0  # −2 days
    scen[("admissions_avoided_per_week", "total")] = 4.0  # +1 a week
    scen[("bed_home_proportion", "total")] = 0.85  # +0.05
    scen[("reablement_effectiveness_hours", "total")] = 6.0  # +1 hour/week
    summary = reps(base).rename(columns={"value": "mean"})
    out = {r.item: r for r in run_rate(summary, reps(scen), costs_from_dict(table())).itertuples(index=False)}
    assert out["nr2r_los"].central == pytest.approx(182_500)  # 1 × 1,825 × £100
    assert out["bed_los"].central == pytest.approx(109_500)  # 2 × 182.5 × £300
    assert out["admissions_avoided"].central == pytest.approx(52_142.857143)  # 1 × 365/7 × £1,000
    assert out["bed_home_proportion"].central == pytest.approx(365_000)  # 0.05 × 100 × 2 × 365/7 × £700
    assert out["reablement_effectiveness"].central == pytest.approx(379_600)  # 1 × 365 × 52 × £20
    assert out["total"].central == pytest.approx(1_088_742.857143)
    assert out["nr2r_los"].low == pytest.approx(91_250)  # at the low bed-day cost £50
    assert "sustained" in out["total"].note


# -- cost table -----------------------------------------------------------------------------


def test_inflation_conversion_by_hand():
    costs = table()
    costs["costs"]["care_home_week"] = item(700.0, 600.0, 900.0, unit="care_home_week", price_year="2023/24", index="pss")
    uc = costs_from_dict(costs).unit_cost("long_term_care")
    # levels 120 → 124.8: factor 1.04
    assert (uc.low, uc.central, uc.high) == pytest.approx((624.0, 728.0, 936.0))
    assert uc.price_year == "2024/25" and uc.original_price_year == "2023/24"


def test_default_table_conversions_by_hand():
    costs = load_costs()
    # care home £1,033.80 (2023/24, PSS) × 136.4 / 131.1
    assert costs.unit_cost("long_term_care").central == pytest.approx(1033.8 * 136.4 / 131.1)
    assert costs.unit_cost("long_term_care").central == pytest.approx(1075.59, abs=0.01)
    # virtual ward £68.49 (2022/23, NHSCII) × 124.8 / 117.1 ≈ £72.99
    assert costs.unit_cost("funded_capacity_home_ward").central == pytest.approx(72.99, abs=0.01)
    assert costs.unit_cost("admissions_avoided").central == 2711.0  # already 2024/25


def test_missing_index_year_is_an_error():
    data = table()
    data["costs"]["nel_admission"]["price_year"] = "2016/17"
    with pytest.raises(InputError, match=r"costs\.nel_admission\.price_year = '2016/17': no nhscii index level"):
        costs_from_dict(data, "t.toml")
    data = table(target_price_year="2025/26")
    with pytest.raises(InputError, match=r"target_price_year = '2025/26'"):
        costs_from_dict(data, "t.toml")


DEFAULT_TEXT = DEFAULT_COSTS_PATH.read_text()


def _broken(tmp_path, old: str, new: str):
    assert old in DEFAULT_TEXT, old
    path = tmp_path / "broken.toml"
    path.write_text(DEFAULT_TEXT.replace(old, new, 1))
    with pytest.raises(InputError) as info:
        load_costs(path)
    message = str(info.value)
    assert message.startswith(f"{path}: ") and "\n" not in message
    return message


def test_bad_table_missing_source(tmp_path):
    line = next(text for text in DEFAULT_TEXT.splitlines() if text.startswith('source = "Homecare Association'))
    message = _broken(tmp_path, line + "\n", "")
    assert message.endswith("costs.homecare_hour.source: missing required key")
    message = _broken(tmp_path, line, 'source = "  "')
    assert "costs.homecare_hour.source = '  '" in message


def test_bad_table_unknown_unit(tmp_path):
    message = _broken(tmp_path, 'unit = "homecare_hour"', 'unit = "homecare_minute"')
    assert "costs.homecare_hour.unit = 'homecare_minute'" in message


def test_bad_table_negative_cost(tmp_path):
    message = _broken(tmp_path, "value = 2711.0", "value = -2711.0")
    assert "costs.nel_admission.value = -2711.0" in message and "greater than or equal to 0" in message


def test_bad_table_low_above_central(tmp_path):
    message = _broken(tmp_path, "low = 826.0", "low = 3000.0")
    assert "costs.nel_admission" in message and "low = 3000, value = 2711" in message


def test_bad_table_unknown_key(tmp_path):
    message = _broken(tmp_path, "value = 28.53", "value = 28.53\ncolour = 1")
    assert "costs.homecare_hour.colour: unknown key" in message


def test_bad_table_unit_mismatch_for_component(tmp_path):
    message = _broken(tmp_path, 'unit = "reablement_episode"', 'unit = "reablement_place_day"')
    assert "costs.reablement_episode.unit = 'reablement_place_day'" in message
    assert "funded_capacity_reablement" in message and "mixing units" in message
    # pointing a component at an item in another unit is refused the same way
    message = _broken(tmp_path, 'target_price_year = "2024/25"', 'target_price_year = "2024/25"\nuse = { funded_capacity_reablement = "reablement_place_day" }')
    assert "costs.reablement_place_day.unit = 'reablement_place_day'" in message and "mixing units" in message


def test_bad_table_missing_assumption(tmp_path):
    message = _broken(tmp_path, "[assumptions.homecare_package_weeks]", "[assumptions.homecare_weeks]")
    assert "assumptions.homecare_package_weeks: missing required key" in message


# -- end to end on a short simulation --------------------------------------------------------


def test_benefit_on_a_short_run():
    from helpers import baseline, modify

    from sim.experiment.runner import run

    base = modify(baseline(), {"run.years": 0.25, "run.replications": 2})
    more_beds = modify(base, {"beds.sites.hub_1.beds": base.beds.sites["hub_1"].beds + 10})
    rb, rs = run(base), run(more_beds)
    costs = costs_from_dict(table())  # a funded bed day at £400
    out = rows(benefit(rb.replications, rs.replications, costs))
    assert out["funded_capacity_beds"].central == pytest.approx(-1_460_000)  # 10 beds × 365 days × £400
    assert all(np.isfinite([r.central for r in out.values()]))
    rr = run_rate(rb.summary, rs.replications, costs)
    assert np.isfinite(rr["central"]).all()


def test_sensitivity_moves_one_unit_cost_at_a_time():
    """365 bed days saved (£50/£100/£200) and 10 care-home admissions avoided (£700, no range):
    the net at the bed-day cost's low is 365 × 50 + 730,000, at its high 365 × 200 + 730,000; the
    care-home cost, without a range, swings nothing and comes last."""
    scen = dict(BASE)
    scen[("delayed_bed_days_per_week", "total")] = 93.0
    scen[("permanent_care_admissions_per_year", "total")] = 40.0
    table_ = sensitivity(reps(BASE, 2), reps(scen, 2), costs_from_dict(table())).set_index("cost_item")
    bed = table_.loc["acute_nctr_bed_day"]
    assert (bed.net_at_low, bed.net_at_high, bed.swing) == pytest.approx((748_250, 803_000, 54_750))
    assert table_.index[0] == "acute_nctr_bed_day" and table_.loc["care_home_week"].swing == 0


def test_who_saves_sums_to_the_net():
    """NR2R days saved fall to the acute trust, homecare hours to the council; each payer's
    central is its components' and the payers' centrals add up to the net."""
    scen = dict(BASE)
    scen[("delayed_bed_days_per_week", "total")] = 93.0  # 365 days a year × £100 to the acute trust
    scen[("homecare_hours_avoided_per_year", "total")] = 1010.0  # 10 h/week × 52 × £20 to the council
    by_component, by_payer = benefit_tables(reps(BASE, 2), reps(scen, 2), costs_from_dict(table()))
    payers = by_payer.set_index("payer")
    assert payers.loc["nhs_acute", "central"] == pytest.approx(36_500)
    assert payers.loc["council_asc", "central"] == pytest.approx(10_400)
    net = by_component.set_index("component").loc["net", "central"]
    assert payers["central"].sum() == pytest.approx(net)
    # every payer of a component in the net has its row, and only those
    in_net = by_component[(by_component["component"] != "net") & by_component["in_net"]]
    assert set(in_net["payer"]) == set(payers.index)


def test_benefit_over_the_years_is_realised_and_discounted():
    """Two reporting years saving 365 and 730 NR2R bed days at exactly £100, half of it realised
    (profile [0.5]: the last share holds) and 3.5% a year: the NPV is
    0.5 × 36,500 + 0.5 × 73,000 / 1.035 = 53,515.70, with no uncertainty left."""
    data = table()
    data["costs"]["acute_nctr_bed_day"] = item(100.0, 100.0, 100.0)
    data["assumptions"]["discount_rate"]["value"] = 0.035
    scen1, scen2 = dict(BASE), dict(BASE)
    scen1[("delayed_bed_days_per_week", "total")] = 93.0
    scen2[("delayed_bed_days_per_week", "total")] = 86.0
    base = pd.concat([reps(BASE, 3).assign(year=1), reps(BASE, 3).assign(year=2)])
    scen = pd.concat([reps(scen1, 3).assign(year=1), reps(scen2, 3).assign(year=2)])
    out = benefit_over_years(base, scen, costs_from_dict(data), seed=1, realisation=[0.5]).set_index("year")
    assert list(out.index) == ["1", "2", "npv"]
    assert out.loc["2", "discount_factor"] == pytest.approx(1 / 1.035) and out.loc["2", "realisation"] == 0.5
    assert out.loc["npv", "central"] == pytest.approx(0.5 * 36_500 + 0.5 * 73_000 / 1.035)
    assert out.loc["npv", "low"] == pytest.approx(out.loc["npv", "central"]) == pytest.approx(out.loc["npv", "high"])
