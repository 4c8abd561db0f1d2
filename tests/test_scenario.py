"""Scenario loading: the baseline, `extends`, and one-line errors for every kind of bad input.

Expected values are read from the TOML files with tomllib (an independent parser of the same
text), never from the code under test.
"""

from __future__ import annotations

import math
import shutil
import tomllib
from pathlib import Path

import pytest
from pydantic import ValidationError

from sim.errors import InputError
from sim.inputs.distributions import Exponential
from sim.inputs.loading import load_scenario, scenario_from_dict

REPO = Path(__file__).resolve().parents[1]
BASELINE = REPO / "scenarios" / "baseline.toml"


@pytest.fixture(scope="module")
def raw() -> dict:
    """The baseline as plain TOML data."""
    with open(BASELINE, "rb") as f:
        return tomllib.load(f)


@pytest.fixture(scope="module")
def baseline():
    return load_scenario(BASELINE)


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def child(tmp_path: Path, body: str, name: str = "child.toml") -> Path:
    """A scenario that extends the baseline (by absolute path) and adds `body`."""
    return write(tmp_path / name, f'extends = "{BASELINE.as_posix()}"\n{body}\n')


def capacity(value) -> float:
    return math.inf if value == "unlimited" else value


# ---------------------------------------------------------------------------------------------
# Valid files


def test_baseline_loads_with_the_values_in_the_file(baseline, raw):
    s = baseline
    assert s.meta.name == raw["meta"]["name"]
    assert s.run.seed == raw["run"]["seed"]
    assert s.run.years == raw["run"]["years"]
    assert s.run.start_date == raw["run"]["start_date"]
    assert s.run.warmup_days == raw["run"]["warmup_days"]
    assert s.arrivals.rate_per_day == raw["arrivals"]["rate_per_day"]
    assert list(s.arrivals.monthly_factors) == raw["arrivals"]["monthly_factors"]
    assert list(s.arrivals.weekday_factors) == raw["arrivals"]["weekday_factors"]
    assert s.front_door.diversion.as_dict() == raw["front_door"]["diversion"]
    assert s.acute.pathway_shares.as_dict() == raw["acute"]["pathway_shares"]
    assert s.reablement.capacity == capacity(raw["reablement"]["capacity"])
    assert s.placements.capacity == capacity(raw["placements"]["capacity"])
    assert list(s.beds.sites) == list(raw["beds"]["sites"])  # order kept: it is the first-free order
    for name, site in raw["beds"]["sites"].items():
        assert s.beds.sites[name].beds == capacity(site["beds"])
        assert s.beds.sites[name].referral_share == site["referral_share"]
    los = raw["home_ward"]["los"]
    assert s.home_ward.los.family == los["family"] and s.home_ward.los.mean == los["mean"]


def test_scenario_is_frozen(baseline):
    with pytest.raises(ValidationError):
        baseline.run.seed = 1
    with pytest.raises(ValidationError):
        baseline.beds.sites[next(iter(baseline.beds.sites))].beds = 0


def test_extends_overrides_only_what_changes(tmp_path, baseline, raw):
    site = next(iter(raw["beds"]["sites"]))
    new_beds = raw["beds"]["sites"][site]["beds"] + 7
    loaded = load_scenario(child(tmp_path, f"[beds.sites.{site}]\nbeds = {new_beds}"))

    assert loaded.beds.sites[site].beds == new_beds
    expected = baseline.model_dump()
    expected["beds"]["sites"][site]["beds"] = new_beds
    assert loaded.model_dump() == expected  # everything else, nested tables included, unchanged


def test_extends_relative_chain_merges_tables_and_replaces_arrays(tmp_path, raw):
    """leaf -> mid -> base, by paths relative to each file: tables merge key by key (a value
    set anywhere up the chain survives unless overridden), arrays replace whole."""
    base = tmp_path / "base" / "baseline.toml"
    base.parent.mkdir()
    shutil.copy(BASELINE, base)
    sites = list(raw["beds"]["sites"])
    flat = [1.0] * 12
    write(
        tmp_path / "base" / "mid.toml",
        'extends = "baseline.toml"\n'
        "[run]\nseed = 7\n"
        f"[arrivals]\nmonthly_factors = {flat}\n"
        f"[beds.sites.{sites[0]}]\n"
        "capacity_schedule = [{ date = 2025-06-01, capacity = 5 }, { date = 2025-09-01, capacity = 6 }]\n",
    )
    leaf = write(
        tmp_path / "leaf" / "leaf.toml",
        'extends = "../base/mid.toml"\n'
        "[run]\nreplications = 2\n"
        f"[beds.sites.{sites[0]}]\n"
        "capacity_schedule = [{ date = 2025-12-01, capacity = 9 }]\n",
    )
    s = load_scenario(leaf)
    assert s.run.seed == 7  # from mid
    assert s.run.replications == 2  # from leaf
    assert s.run.years == raw["run"]["years"]  # from base, same table
    assert list(s.arrivals.monthly_factors) == flat  # array replaced, not merged element-wise
    schedule = s.beds.sites[sites[0]].capacity_schedule
    assert [(c.date.isoformat(), c.capacity) for c in schedule] == [("2025-12-01", 9)]  # leaf's array only
    assert s.beds.sites[sites[0]].beds == raw["beds"]["sites"][sites[0]]["beds"]
    assert s.beds.sites[sites[-1]].beds == raw["beds"]["sites"][sites[-1]]["beds"]


def test_extends_can_change_a_distribution_family(tmp_path):
    """A child must be able to replace a distribution with one of another family.

    Because tables are merged key by key, the parent's `sd` survives into the child's
    exponential and is rejected as an unknown key, so no child scenario can ever change a
    family (TOML has no way to delete an inherited key).
    """
    s = load_scenario(child(tmp_path, '[home_ward]\nlos = { family = "exponential", mean = 5.0 }'))
    assert s.home_ward.los == Exponential(family="exponential", mean=5.0)


def test_circular_extends_is_an_error(tmp_path):
    a = write(tmp_path / "a.toml", 'extends = "b.toml"\n')
    write(tmp_path / "b.toml", 'extends = "a.toml"\n')
    with pytest.raises(InputError) as info:
        load_scenario(a)
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(str(a)), message
    assert "circular" in message and "b.toml" in message


def test_extending_itself_is_an_error(tmp_path):
    me = write(tmp_path / "me.toml", 'extends = "me.toml"\n')
    with pytest.raises(InputError, match="circular"):
        load_scenario(me)


def test_extends_missing_file_names_it(tmp_path):
    path = write(tmp_path / "orphan.toml", 'extends = "no_such_parent.toml"\n')
    with pytest.raises(InputError) as info:
        load_scenario(path)
    assert "no_such_parent.toml" in str(info.value) and "\n" not in str(info.value)


def test_missing_file_is_an_input_error(tmp_path):
    with pytest.raises(InputError, match=r"not_here\.toml"):
        load_scenario(tmp_path / "not_here.toml")


def test_shares_within_tolerance_are_kept_as_written_not_renormalised(tmp_path):
    # 0.8999999996 + 0.05 + 0.03 + 0.01 + 0.01 = 0.9999999996: 4e-10 short of 1, inside 1e-9
    body = (
        "[front_door.diversion]\nadmit = 0.8999999996\nhome_ward = 0.05\nassessment_home = 0.03\n"
        "step_up_reablement = 0.01\nstep_up_bed = 0.01"
    )
    path = child(tmp_path, body)
    written = tomllib.loads(path.read_text())["front_door"]["diversion"]
    assert load_scenario(path).front_door.diversion.as_dict() == written


def test_shares_just_outside_tolerance_are_rejected(tmp_path):
    # 0.900000002 + 0.1 = 1.000000002: 2e-9 over, outside 1e-9
    body = (
        "[front_door.diversion]\nadmit = 0.900000002\nhome_ward = 0.1\nassessment_home = 0.0\n"
        "step_up_reablement = 0.0\nstep_up_bed = 0.0"
    )
    with pytest.raises(InputError, match=r"front_door\.diversion"):
        load_scenario(child(tmp_path, body))


def test_capacities_zero_unlimited_and_increasing_schedule_are_accepted(tmp_path, raw):
    site = next(iter(raw["beds"]["sites"]))
    body = (
        '[home_ward]\ncapacity = 0\n[reablement]\ncapacity = "unlimited"\n'
        f"[beds.sites.{site}]\n"
        'capacity_schedule = [{ date = 2025-06-01, capacity = 3 }, { date = 2025-12-01, capacity = "unlimited" }]'
    )
    s = load_scenario(child(tmp_path, body))
    assert s.home_ward.capacity == 0
    assert s.reablement.capacity == math.inf
    assert [(c.date.isoformat(), c.capacity) for c in s.beds.sites[site].capacity_schedule] == [
        ("2025-06-01", 3),
        ("2025-12-01", math.inf),
    ]


# ---------------------------------------------------------------------------------------------
# Bad input: one line naming the file, the key path and the bad value


def _site(raw) -> str:
    return next(iter(raw["beds"]["sites"]))


def _referral_shares_099(raw) -> str:
    """Every site's referral_share set so that they sum to 0.99 (robust to the site list)."""
    sites = list(raw["beds"]["sites"])
    shares = [0.99 / len(sites)] * len(sites)
    shares[-1] = 0.99 - sum(shares[:-1])
    return "\n".join(f"[beds.sites.{n}]\nreferral_share = {v!r}" for n, v in zip(sites, shares))


# (id, body or function of raw, substrings the message must contain: key path, bad value, ...)
BAD = [
    ("unknown top-level key", 'colour = "blue"', ["colour", "unknown key"]),
    ("unknown nested key", "[run]\nsead = 3", ["run.sead", "unknown key"]),
    ("unknown key in a site", lambda r: f"[beds.sites.{_site(r)}]\nbedz = 3", [lambda r: f"beds.sites.{_site(r)}.bedz", "unknown key"]),
    ("unknown key in a distribution", '[home_ward]\nlos = { family = "lognormal", mean = 5.0, sd = 3.0, shape = 1.0 }', ["home_ward.los.shape", "unknown key"]),
    ("string for a number", '[run]\nyears = "one"', ["run.years", "one"]),
    ("string for a distribution parameter", '[home_ward]\nlos = { family = "lognormal", mean = "five", sd = 3.0 }', ["home_ward.los.mean", "five"]),
    ("negative capacity", "[home_ward]\ncapacity = -3", ["home_ward.capacity", "-3"]),
    ("negative beds", lambda r: f"[beds.sites.{_site(r)}]\nbeds = -1", [lambda r: f"beds.sites.{_site(r)}.beds", "-1"]),
    ("fractional capacity", "[home_ward]\ncapacity = 2.5", ["home_ward.capacity", "2.5"]),
    ("word capacity", '[home_ward]\ncapacity = "lots"', ["home_ward.capacity", "lots"]),
    ("boolean capacity", "[home_ward]\ncapacity = true", ["home_ward.capacity", "True"]),
    ("probability above 1", "[home_ward]\nescalation_share = 1.5", ["home_ward.escalation_share", "1.5"]),
    ("zero years", "[run]\nyears = 0.0", ["run.years", "0.0"]),
    ("infinite arrival rate", "[arrivals]\nrate_per_day = inf", ["arrivals.rate_per_day", "inf"]),
    (
        "diversion shares sum to 0.99",
        "[front_door.diversion]\nadmit = 0.9\nhome_ward = 0.05\nassessment_home = 0.02\nstep_up_reablement = 0.01\nstep_up_bed = 0.01",
        ["front_door.diversion", "0.99"],
    ),
    ("pathway shares sum to 1.01", "[acute.pathway_shares]\np0 = 0.72\np1 = 0.21\np2 = 0.05\np3 = 0.03", ["acute.pathway_shares", "1.01"]),
    (
        "reablement outcomes sum to 0.99",
        "[reablement.outcomes]\nindependent = 0.40\nongoing_homecare = 0.42\nreadmitted = 0.10\nlong_term_care = 0.03\ndied = 0.04",
        ["reablement.outcomes", "0.99"],
    ),
    (
        "bed outcomes sum to 1.1",
        "[beds.outcomes]\nhome = 0.2\nhome_with_p1 = 0.6\nlong_term_care = 0.2\nreadmitted = 0.05\ndied = 0.05",
        ["beds.outcomes", "1.1"],
    ),
    ("referral shares sum to 0.99", _referral_shares_099, ["beds", "referral_share", "0.99"]),
    ("monthly factors average 1.01", f"[arrivals]\nmonthly_factors = {[1.01] * 12}", ["monthly_factors", "1.01"]),
    # (1.1 + 6 × 1.0) / 7 = 1.0142857...
    ("weekday factors average 1.0143", "[arrivals]\nweekday_factors = [1.1, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0]", ["weekday_factors", "1.0142857"]),
    ("eleven monthly factors", f"[arrivals]\nmonthly_factors = {[1.0] * 11}", ["arrivals.monthly_factors"]),
    ("unknown distribution family", '[home_ward]\nlos = { family = "normal", mean = 5.0, sd = 3.0 }', ["home_ward.los", "normal"]),
    ("unknown site choice", '[beds]\nsite_choice = "random"', ["beds.site_choice", "random"]),
    ("date as an impossible string", '[run]\nstart_date = "2025-13-01"', ["run.start_date", "2025-13-01"]),
    ("date-time for a date", "[run]\nstart_date = 2025-04-01T10:00:00", ["run.start_date", "2025"]),
    ("schedule date not a date", '[home_ward]\ncapacity_schedule = [{ date = "next year", capacity = 3 }]', ["home_ward.capacity_schedule.0.date", "next year"]),
    (
        "missing required key",
        "[beds.sites.new_site]\nbeds = 1\nlos_multiplier = 1.0",
        ["beds.sites.new_site.referral_share", "missing required key"],
    ),
    ("locality accepts an unknown bed site", '[localities."Kippax & Garforth"]\nbed_sites = ["hub_9"]',
     ["localities.Kippax & Garforth.bed_sites", "hub_9"]),
    ("a locality accepts a site twice", '[localities."Nbhd 1"]\nbed_sites = ["hub_1", "hub_1"]', ["localities.Nbhd 1", "twice"]),
    ("substitution share above 1", "[routes]\np1_bridging = { after_days = 3.0, share = 1.5 }", ["routes.p1_bridging.share", "1.5"]),
    ("negative overflow days", "[reablement]\noverflow = { after_days = -1.0 }", ["reablement.overflow", "-1"]),
    ("unknown capacity unit", '[reablement]\ncapacity_unit = "visits"', ["reablement.capacity_unit", "visits"]),
    (
        "decreasing capacity schedule",
        lambda r: f"[beds.sites.{_site(r)}]\ncapacity_schedule = [{{ date = 2025-12-01, capacity = 30 }}, {{ date = 2025-06-01, capacity = 20 }}]",
        [lambda r: f"beds.sites.{_site(r)}", "capacity_schedule", "2025-06-01"],
    ),
]


@pytest.mark.parametrize("body, expected", [(b, e) for _, b, e in BAD], ids=[i for i, _, _ in BAD])
def test_bad_input_gives_one_line_naming_file_key_and_value(tmp_path, raw, body, expected):
    path = child(tmp_path, body(raw) if callable(body) else body)
    with pytest.raises(InputError) as info:
        load_scenario(path)
    message = str(info.value)
    assert "\n" not in message and "\r" not in message, message
    assert message.startswith(f"{path}: "), message
    for part in expected:
        part = part(raw) if callable(part) else part
        assert part in message, f"{part!r} not in {message!r}"


def test_non_string_extends_is_an_error(tmp_path):
    path = write(tmp_path / "x.toml", "extends = 3\n")
    with pytest.raises(InputError) as info:
        load_scenario(path)
    assert str(info.value).startswith(str(path)) and "extends" in str(info.value)


def test_invalid_toml_date_names_the_file_and_line(tmp_path):
    """2025-02-30 is not a TOML date, so the TOML parser rejects it before any key is known;
    the message must still be one line naming the file and where in it."""
    path = child(tmp_path, "[run]\nstart_date = 2025-02-30")
    with pytest.raises(InputError) as info:
        load_scenario(path)
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(str(path))
    assert "line 3" in message  # line 1 extends, line 2 [run], line 3 the date


def test_error_message_stays_one_line_for_a_key_with_a_newline(tmp_path):
    """A quoted TOML key may contain an escaped newline; the key path must not break the line."""
    path = child(tmp_path, '[run]\n"bad\\nkey" = 1')
    with pytest.raises(InputError) as info:
        load_scenario(path)
    message = str(info.value)
    assert "unknown key" in message
    assert "\n" not in message, repr(message)


def test_localities_with_real_names_load_and_share_places(tmp_path):
    """Names with spaces and apostrophes; shares and team places as written (largest remainder:
    365 × (0.5, 0.3, 0.2) = 182.5, 109.5, 73 → 183, 109, 73 or 182, 110, 73 — one spare place
    to the first largest remainder, in file order)."""
    body = (
        "[localities]\n"
        '[localities."St James\'s"]\nshare = 0.5\nbed_sites = ["hub_2", "hub_1"]\n'
        '[localities."Kippax & Garforth"]\nshare = 0.3\nbed_sites = ["hub_1"]\n'
        '[localities."Otley"]\nshare = 0.2\n'
    )
    text = BASELINE.read_text()
    text = text[: text.index("# Localities:")]  # the baseline without its own localities
    loaded = load_scenario(write(tmp_path / "places.toml", text + body))
    names = ["St James's", "Kippax & Garforth", "Otley"]
    assert list(loaded.localities) == names
    assert loaded.locality_shares() == dict(zip(names, (0.5, 0.3, 0.2)))
    assert loaded.team_capacities(365) == {"St James's": 183, "Kippax & Garforth": 109, "Otley": 73}
    assert loaded.localities["Otley"].bed_sites == ()


def test_locality_shares_all_or_none():
    raw = tomllib.loads(BASELINE.read_text())
    with pytest.raises(InputError, match="give share for every locality or for none"):
        data = dict(raw)
        data["localities"] = {"a": {"share": 1.0}, "b": {}}
        scenario_from_dict(data, source="test")
