"""The benefit interval's coverage checked by simulation: a toy system whose true annual benefit
is known from theory (issue 14).

Everyone goes straight to a short-term bed with unlimited beds (an M/M/∞ queue at 2 arrivals a
day): the mean number in beds is λ × LOS exactly, so shortening the stay from 10 to 9 days
frees 2 beds on average, 730 bed days a year, £219,000 at £300 (a cost without a range, so only
the simulation's error is in the interval). Over independent experiments (each a compare of 3
paired replications of a year with its own seed) the 90% interval of the mean annual benefit
should contain £219,000 about 90% of the time: with 100 experiments the binomial sd is 3
points, so 82-97% is a 2.7-sd band. An interval of one year's spread or of a wrong variance
(ignoring the pairing, or the t with 2 degrees of freedom) falls outside it.
"""

from __future__ import annotations

from helpers import cost_item, cost_table, exponential, mmc_beds_scenario, modify

from sim.experiment.benefit import benefit
from sim.experiment.compare import compare
from sim.inputs.costs import costs_from_dict

EXPERIMENTS = 100


def test_the_ninety_percent_interval_covers_the_true_benefit_of_a_toy_system():
    base = mmc_beds_scenario(2.0, "unlimited", 10.0, years=1, warmup_days=60, replications=3)
    shorter = modify(base, {"beds.los": exponential(9.0), "meta.name": "shorter"})
    data = cost_table()
    data["costs"]["ic_bed_day"] = cost_item(300.0, 300.0, 300.0)
    costs = costs_from_dict(data)
    truth = 2.0 * (10.0 - 9.0) * 365 * 300  # λ × ΔLOS beds, a year of bed days, £300 each
    hits, nets = 0, []
    for k in range(EXPERIMENTS):
        pair = compare(base, {"shorter": shorter}, replications=3, seed=7000 + k)
        net = benefit(pair.baseline.replications, pair.scenarios["shorter"].replications, costs, seed=k)
        row = net.set_index("component").loc["net"]
        hits += row.low <= truth <= row.high
        nets.append(row.central)
    assert 0.82 <= hits / EXPERIMENTS <= 0.97, hits / EXPERIMENTS
    assert abs(sum(nets) / EXPERIMENTS - truth) < 0.05 * truth  # and the centrals are unbiased
