"""Demand driven by a population projection (scenarios/population/leeds-65plus.csv)."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.errors import InputError
from sim.inputs.loading import load_scenario
from sim.inputs.scenario import Scenario
from sim.model import front_door
from sim.model.calendar import Calendar
from sim.model.system import System

ROOT = Path(__file__).resolve().parents[1]
BLUEPRINT = ROOT / "scenarios" / "blueprint.toml"
RATES = {"65-74": 140.0, "75-84": 270.0, "85+": 530.0}  # as written in blueprint.toml


def index_by_hand(day: dt.date) -> float:
    """sum(population × rate) on a day, linear between the CSV's 1 July values."""
    table = pd.read_csv(ROOT / "scenarios" / "population" / "leeds-65plus.csv")
    table = table[table["variant"] == "principal"]
    yearly = {y: sum(g.set_index("age_band").loc[b, "population"] * r for b, r in RATES.items())
              for y, g in table.groupby("year")}
    before = dt.date(day.year if day >= dt.date(day.year, 7, 1) else day.year - 1, 7, 1)
    after = dt.date(before.year + 1, 7, 1)
    w = (day - before).days / (after - before).days
    return yearly[before.year] * (1 - w) + yearly[after.year] * w


def test_demand_in_year_ten_is_the_projection_ratio_times_year_one():
    """Arrivals drawn by the model over 2026/27 and 2035/36 (40 replications of the blueprint):
    the ratio of the two years' totals equals the ratio of the projection's mean demand index
    over the same days, worked from the CSV by hand. Months cancel; the 365th day's weekday
    differs (≤ 0.1%). Poisson error of the ratio of two totals of ≈ 1.2 million arrivals is
    ≈ 0.13%; tolerance 0.6% (≈ 4.5 standard errors)."""
    scenario = load_scenario(BLUEPRINT).with_run(warmup_days=0)
    start = scenario.run.start_date
    year_days = [[start + dt.timedelta(days=365 * k + d) for d in range(365)] for k in (0, 9)]
    expected = np.mean([index_by_hand(d) for d in year_days[1]]) / np.mean([index_by_hand(d) for d in year_days[0]])
    assert expected > 1.12  # the projection grows ≈ 1.6% a year: the check has something to see
    totals = np.zeros(2)
    for r in range(40):
        system = System(scenario, seed=7, replication=r)
        rates = system.calendar.front_door_rates()
        times = np.concatenate(list(front_door._arrival_chunks(system, rates, "front_door.arrival_times")))
        totals += [np.sum((times >= 365 * k) & (times < 365 * (k + 1))) for k in (0, 9)]
    assert totals[1] / totals[0] == pytest.approx(expected, rel=0.006)


POPULATION_CSV = """year,age_band,variant,population,source
2024,65-74,principal,1000,t
2024,75+,principal,600,t
2025,65-74,principal,1100,t
2025,75+,principal,600,t
2026,65-74,principal,1100,t
2026,75+,principal,700,t
2024,65-74,high,5000,t
2024,75+,high,5000,t
2025,65-74,high,5000,t
2025,75+,high,9000,t
2026,65-74,high,5000,t
2026,75+,high,9000,t
"""


def test_population_growth_on_a_date_by_hand(tmp_path):
    """A synthetic projection in round numbers, rates 100 and 200 per 1,000: the demand index
    (sum of population × rate) is 100 × 1,000 + 200 × 600 = 220,000 at mid-2024, 230,000 at
    mid-2025 and 250,000 at mid-2026, linear in between (365 days each); the "high" rows must
    be ignored. The run starts on 1 July 2025 (index 230,000) after a 184-day warm-up, so k days
    after 1 July 2025 the multiplier is (230,000 + 20,000 k / 365) / 230,000
    = (83,950,000 + 20,000 k) / 83,950,000, and k days after 1 July 2024 (in the warm-up) it is
    (220,000 + 10,000 k / 365) / 230,000 = (80,300,000 + 10,000 k) / 83,950,000."""
    (tmp_path / "pop.csv").write_text(POPULATION_CSV)
    path = tmp_path / "s.toml"
    path.write_text(
        f'extends = "{ROOT / "scenarios" / "baseline.toml"}"\n'
        "[run]\nstart_date = 2025-07-01\nwarmup_days = 184\nyears = 1.0\n"
        f"[arrivals]\nannual_growth = 0.0\nmonthly_factors = {[1.0] * 12}\n"
        '[arrivals.population]\nfile = "pop.csv"\nvariant = "principal"\n'
        'rates_per_1000 = { "65-74" = 100.0, "75+" = 200.0 }\n'
    )
    scenario = load_scenario(path)
    growth = Calendar(scenario).season_growth
    expected = {
        dt.date(2025, 7, 1): 1.0,  # the start date
        dt.date(2025, 12, 31): 87_610_000 / 83_950_000,  # k = 183: + 3,660,000 → ≈ 1.043597
        dt.date(2026, 6, 30): 91_230_000 / 83_950_000,  # k = 364: + 7,280,000 → ≈ 1.086718 (the last day)
        dt.date(2025, 1, 1): 82_140_000 / 83_950_000,  # warm-up, k = 184 from mid-2024: ≈ 0.978439
    }
    for date, want in expected.items():
        assert growth[int(scenario.time_of(date))] == pytest.approx(want, rel=1e-12), date


def write(tmp_path: Path, population: str, growth: str = "0.0", csv_text: str | None = None) -> Path:
    if csv_text is not None:
        (tmp_path / "pop.csv").write_text(csv_text)
    path = tmp_path / "s.toml"
    path.write_text(
        f'extends = "{ROOT / "scenarios" / "baseline.toml"}"\n[arrivals]\nannual_growth = {growth}\n'
        f"[arrivals.population]\n{population}\n"
    )
    return path


GOOD = f'file = "{ROOT / "scenarios" / "population" / "leeds-65plus.csv"}"\nvariant = "principal"\n' \
       'rates_per_1000 = { "65-74" = 140.0, "75-84" = 270.0, "85+" = 530.0 }'


@pytest.mark.parametrize(
    "population, growth, csv_text, message",
    [
        (GOOD.replace('"principal"', '"central"'), "0.0", None, "variant = 'central': not in the file; expected one of high, low, principal"),
        (GOOD, "0.015", None, "annual_growth = 0.015 and a population"),
        (GOOD.replace('"85+" = 530.0', '"90+" = 530.0'), "0.0", None, "age bands in rates_per_1000"),
        ('file = "pop.csv"\nvariant = "principal"\nrates_per_1000 = { "65+" = 1.0 }', "0.0",
         "year,age_band,variant,population,source\n2024,65+,principal,100,x\n2025,65+,principal,-5,x\n",
         "row 3: population = '-5': expected a number >= 0"),
        ('file = "pop.csv"\nvariant = "principal"\nrates_per_1000 = { "65+" = 1.0 }', "0.0",
         "year,age_band,variant,population,source\n2024,65+,principal,100,x\n2025,65+,principal,110,x\n",
         "covers mid-2024 to mid-2025; the run (with its warm-up) needs"),
        ('file = "missing.csv"\nvariant = "principal"\nrates_per_1000 = { "65+" = 1.0 }', "0.0", None, "file not found"),
    ],
)
def test_bad_population_input_is_a_one_line_error(tmp_path, population, growth, csv_text, message):
    path = write(tmp_path, population, growth, csv_text)
    with pytest.raises(InputError) as error:
        load_scenario(path)
    assert message in str(error.value) and "\n" not in str(error.value), str(error.value)
    done = subprocess.run([str(Path(sys.executable).with_name("icsim")), "validate", str(path)],
                          check=False, capture_output=True, text=True)
    assert done.returncode == 2 and message in done.stderr


def test_population_table_travels_with_the_scenario(tmp_path):
    """A run's manifest reproduces the run without the CSV: the table is part of the scenario."""
    scenario = load_scenario(BLUEPRINT)
    again = Scenario.model_validate_json(scenario.model_dump_json())
    assert again == scenario
    assert again.arrivals.population.years[0] <= 2025 and len(again.arrivals.population.by_band) == 3
