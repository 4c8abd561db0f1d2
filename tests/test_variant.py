"""Scenario variants from lever changes (sim/inputs/variant.py): what a planner changes in the web
app, validated with the CLI's messages and saved as a minimal TOML that `extends` its parent."""

from __future__ import annotations

import copy
import random
import subprocess
import sys
import tomllib

import pytest
from helpers import ROOT

from sim.errors import InputError
from sim.inputs.library import scenario_names
from sim.inputs.loading import load_scenario, scenario_from_dict
from sim.inputs.scenario import Scenario
from sim.inputs.sources import scenario_sources, source_of
from sim.inputs.variant import GROUPS, VariantError, apply_levers, levers, save_variant, variant_toml

BASELINE_FILE = ROOT / "scenarios" / "baseline.toml"


@pytest.fixture(scope="module")
def base() -> Scenario:
    return load_scenario("baseline")


def without_meta(scenario: Scenario) -> dict:
    return scenario.model_dump(exclude={"meta"})


def by_key(scenario: Scenario) -> dict:
    return {lever.key: lever for lever in levers(scenario)}


def at(scenario: Scenario, path: tuple[str, ...]):
    """The value a key path names, read from the scenario object itself (a distribution's
    "mean" is its mean; a team's places are the model's split of the city's capacity)."""
    if path[0] == "localities" and path[-1] == "reablement_places":
        return scenario.team_capacities(scenario.reablement.capacity)[path[1]]
    node = scenario
    for part in path:
        node = node[part] if isinstance(node, dict) else getattr(node, part)
    return node


# -- a change, its file and what the file loads to -----------------------------------------------


def test_ten_more_beds_at_hub_1_is_a_file_holding_only_that(tmp_path, base):
    path = save_variant(tmp_path, "baseline", base, {"beds.sites.hub_1.beds": 50}, name="more beds")
    assert path == tmp_path / "more beds.toml"
    assert tomllib.loads(path.read_text(encoding="utf-8")) == {
        "extends": "baseline",
        "meta": {"name": "more beds", "description": ""},
        "beds": {"sites": {"hub_1": {"beds": 50}}},
    }
    expected = base.model_dump()
    expected["beds"]["sites"]["hub_1"]["beds"] = 50
    loaded = load_scenario(path)
    assert loaded.meta.name == "more beds"
    assert without_meta(loaded) == {k: v for k, v in expected.items() if k != "meta"}
    assert without_meta(apply_levers(base, {"beds.sites.hub_1.beds": 50})) == without_meta(loaded)
    # the value's own comment says what it replaced, so the run's source table shows it
    assert "was 40" in source_of(scenario_sources(path), "beds.sites.hub_1.beds")
    assert "NHS England case study" in source_of(scenario_sources(path), "home_ward.capacity")  # from the library parent


def test_a_lognormal_mean_halved_halves_its_sd(base):
    old = base.beds.los
    assert (old.family, old.mean) == ("lognormal", 36.0)
    new = apply_levers(base, {"beds.los.mean": 18.0}).beds.los
    assert new.family == "lognormal"
    assert new.mean == pytest.approx(18.0)
    assert new.sd == pytest.approx(old.sd / 2)


def test_an_exponential_keeps_only_its_mean_and_an_empirical_scales_its_values(base):
    changed = apply_levers(base, {"acute.discharge_process.p0.mean": 0.6}).acute.discharge_process.p0
    assert changed.model_dump() == {"family": "exponential", "mean": 0.6}
    data = base.model_dump()
    data["reablement"]["duration"] = {"family": "empirical", "values": [10.0, 20.0, 30.0]}
    empirical = scenario_from_dict(data)
    assert by_key(empirical)["reablement.duration.mean"].value == pytest.approx(20.0)
    values = apply_levers(empirical, {"reablement.duration.mean": 40.0}).reablement.duration.values
    assert values == pytest.approx([20.0, 40.0, 60.0])


def test_a_distribution_is_written_whole(tmp_path, base):
    text = variant_toml("baseline", base, {"acute.clinical_los.p1.mean": 12.0}, name="slower p1")
    written = tomllib.loads(text)["acute"]["clinical_los"]["p1"]
    assert written == {"family": "lognormal", "mean": 12.0, "sd": pytest.approx(8.0 * 12 / 9)}


def test_a_weekday_table_is_written_whole_so_it_loads_onto_a_parent_that_leaves_it_out(tmp_path, base):
    """A parent without acute.readiness_weekday has the default (every day 1); a variant writing
    only `sat` would leave the other six days missing."""
    parent_file = tmp_path / "parent.toml"
    text = BASELINE_FILE.read_text(encoding="utf-8")
    start = text.index("[acute.readiness_weekday]")
    end = text.index("[acute.discharge_weekday]")
    parent_file.write_text(text[:start] + text[end:], encoding="utf-8")
    parent = load_scenario(parent_file)
    assert parent.acute.readiness_weekday.sat == 1.0
    path = save_variant(tmp_path, "parent.toml", parent, {"acute.readiness_weekday.sat": 0.5}, name="quiet saturday")
    loaded = load_scenario(path).acute.readiness_weekday
    assert loaded.model_dump() == {"mon": 1.0, "tue": 1.0, "wed": 1.0, "thu": 1.0, "fri": 1.0, "sat": 0.5, "sun": 1.0}


# -- team places --------------------------------------------------------------------------------


def test_five_more_places_in_one_team(tmp_path, base):
    team = 'localities."Neighbourhood 3".reablement_places'
    before = base.team_capacities(base.reablement.capacity)
    asked = dict(before, **{"Neighbourhood 3": before["Neighbourhood 3"] + 5})
    path = save_variant(tmp_path, "baseline", base, {team: asked["Neighbourhood 3"]}, name="n3 plus 5")
    loaded = load_scenario(path)
    assert loaded.reablement.capacity == base.reablement.capacity + 5
    assert loaded.team_capacities(loaded.reablement.capacity) == asked
    written = tomllib.loads(path.read_text(encoding="utf-8"))
    assert set(written) == {"extends", "meta", "reablement", "localities"}
    assert written["reablement"] == {"capacity": base.reablement.capacity + 5}
    assert set(written["localities"]) == set(base.localities)


def test_any_team_places_load_back_as_asked(base):
    rng = random.Random(7)
    names = list(base.localities)
    for _ in range(25):
        asked = base.team_capacities(base.reablement.capacity)
        for name in rng.sample(names, rng.randint(1, len(names))):
            asked[name] = rng.choice([0, 1, 2, 17, 29, 30, 31, 44, 97])
        if not sum(asked.values()):
            continue
        changes = {f'localities."{name}".reablement_places': places for name, places in asked.items()}
        variant = apply_levers(base, changes)
        assert variant.team_capacities(variant.reablement.capacity) == asked
        assert {k: lever.value for k, lever in by_key(variant).items() if k in changes} == changes


def test_city_capacity_and_team_places_changed_together_are_refused(base):
    team = 'localities."Neighbourhood 1".reablement_places'
    with pytest.raises(VariantError) as caught:
        apply_levers(base, {"reablement.capacity": 400, team: 40})
    message = str(caught.value)
    assert "reablement.capacity" in message and team in message and "\n" not in message
    assert caught.value.key == "reablement.capacity"


def test_negative_team_places_are_refused_beside_that_team(base):
    team = 'localities."Neighbourhood 2".reablement_places'
    with pytest.raises(VariantError) as caught:
        apply_levers(base, {team: -1})
    assert caught.value.key == team
    assert f"{team} = -1" in str(caught.value)


# -- invalid changes: the CLI's messages, beside the right lever -------------------------------


def test_diversion_not_summing_to_one_is_the_clis_message_beside_the_diversion_lever(tmp_path, base):
    path = tmp_path / "bad diversion.toml"
    path.write_text('extends = "baseline"\n\n[meta]\nname = "bad"\n\n[front_door.diversion]\nhome_ward = 0.2\n',
                    encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "sim", "validate", str(path)], capture_output=True, text=True,
                          cwd=tmp_path, timeout=120)
    assert done.returncode == 2
    cli_message = done.stderr.strip().removeprefix("error: ")
    assert "front_door.diversion" in cli_message and "\n" not in cli_message
    with pytest.raises(VariantError) as caught:
        apply_levers(base, {"front_door.diversion.home_ward": 0.2}, source=str(path))
    assert str(caught.value) == cli_message
    assert caught.value.key == "front_door.diversion.home_ward"
    with pytest.raises(VariantError):
        save_variant(tmp_path, "baseline", base, {"front_door.diversion.home_ward": 0.2}, name="bad")
    assert not (tmp_path / "bad.toml").exists()


def test_shares_moved_together_are_valid(base):
    variant = apply_levers(base, {"front_door.diversion.admit": 0.805, "front_door.diversion.home_ward": 0.175})
    assert variant.front_door.diversion.home_ward == 0.175


def test_negative_beds_name_the_key_as_the_loader_does(tmp_path, base):
    path = tmp_path / "negative.toml"
    path.write_text('extends = "baseline"\n[meta]\nname = "negative"\n[beds.sites.hub_1]\nbeds = -3\n', encoding="utf-8")
    with pytest.raises(InputError) as loaded:
        load_scenario(path)
    with pytest.raises(VariantError) as caught:
        apply_levers(base, {"beds.sites.hub_1.beds": -3}, source=str(path))
    assert str(caught.value) == str(loaded.value)
    assert "beds.sites.hub_1.beds = -3" in str(caught.value)
    assert caught.value.key == "beds.sites.hub_1.beds"


def test_unknown_lever_and_non_numbers_are_refused(base):
    for key in ("beds.sites.hub_9.beds", "beds.sites.hub_1.los_multiplier", "meta.name"):
        with pytest.raises(VariantError) as caught:
            apply_levers(base, {key: 1})
        assert key in str(caught.value) and caught.value.key is None
    with pytest.raises(VariantError) as caught:
        apply_levers(base, {"arrivals.rate_per_day": "80"})
    assert caught.value.key == "arrivals.rate_per_day"


def test_a_value_equal_to_the_parents_is_no_change(base):
    assert apply_levers(base, {"beds.sites.hub_1.beds": 40, "beds.los.mean": 36.0}) is base
    written = tomllib.loads(variant_toml("baseline", base, {"beds.sites.hub_1.beds": 40.0}, name="same"))
    assert set(written) == {"extends", "meta"}


# -- names ----------------------------------------------------------------------------------------

ODD_PARENT = '''extends = "baseline"

[meta]
name = "odd names"

[beds.sites."Dr. Foster"]
beds = 5
los_multiplier = 1.0
referral_share = 0.0

[localities."St James's"]
bed_sites = ["Dr. Foster", "hub_1"]

[localities.'Ward "7" east']
bed_sites = ["hub_2"]
'''


def test_names_with_apostrophes_quotes_and_dots_round_trip(tmp_path):
    (tmp_path / "odd.toml").write_text(ODD_PARENT, encoding="utf-8")
    parent = load_scenario(tmp_path / "odd.toml")
    keys = by_key(parent)
    beds = 'beds.sites."Dr. Foster".beds'
    james = 'localities."St James\'s".reablement_places'
    ward = 'localities."Ward \\"7\\" east".reablement_places'
    assert keys[beds].path == ("beds", "sites", "Dr. Foster", "beds") and keys[beds].value == 5
    assert keys[james].path == ("localities", "St James's", "reablement_places")
    assert keys[ward].path == ("localities", 'Ward "7" east', "reablement_places")
    asked = parent.team_capacities(parent.reablement.capacity) | {"St James's": keys[james].value + 3, 'Ward "7" east': 0}
    path = save_variant(tmp_path, "odd.toml", parent, {beds: 7, james: asked["St James's"], ward: 0},
                        name="Dr. Foster's \"plan\"")
    assert path.parent == tmp_path and path.name == "Dr. Foster's \"plan\".toml"
    loaded = load_scenario(path)
    assert loaded.meta.name == "Dr. Foster's \"plan\""
    assert loaded.beds.sites["Dr. Foster"].beds == 7
    assert loaded.team_capacities(loaded.reablement.capacity) == asked
    assert "was 5" in source_of(scenario_sources(path), "beds.sites.Dr. Foster.beds")


def test_a_name_never_leaves_the_folder_and_a_file_is_never_overwritten(tmp_path, base):
    folder = tmp_path / "variants"
    for name in ("../escape", "/etc/passwd", "..", "a\\b", "line\nbreak"):
        path = save_variant(folder, "baseline", base, {"beds.sites.hub_1.beds": 41}, name=name)
        assert path.parent == folder and path.suffix == ".toml"
        assert load_scenario(path).beds.sites["hub_1"].beds == 41
    assert sorted(p.name for p in tmp_path.iterdir()) == ["variants"]
    first = save_variant(folder, "baseline", base, {"beds.sites.hub_1.beds": 45}, name="mine")
    text = first.read_text(encoding="utf-8")
    with pytest.raises(InputError, match="already exists"):
        save_variant(folder, "baseline", base, {"beds.sites.hub_1.beds": 46}, name="mine")
    assert first.read_text(encoding="utf-8") == text


def test_a_parent_the_saved_file_cannot_find_is_refused(tmp_path, base):
    with pytest.raises(InputError, match="no_such_parent"):
        save_variant(tmp_path, "no_such_parent.toml", base, {"beds.sites.hub_1.beds": 41}, name="orphan")
    assert list(tmp_path.iterdir()) == []


def test_a_parent_that_does_not_match_the_scenario_given_is_refused(tmp_path, base):
    """The app loaded `homefirst` but names `baseline` as the parent: the file would not mean
    what was validated."""
    homefirst = load_scenario("homefirst")
    with pytest.raises(InputError, match="no longer gives"):
        save_variant(tmp_path, "baseline", homefirst, {"beds.sites.hub_1.beds": 41}, name="mixed up")
    assert list(tmp_path.iterdir()) == []


# -- levers of every shipped scenario ----------------------------------------------------------


@pytest.mark.parametrize("name", scenario_names())
def test_levers_of_every_library_scenario_hold_its_values(name):
    scenario = load_scenario(name)
    found = levers(scenario)
    assert [GROUPS.index(lever.group) for lever in found] == sorted(GROUPS.index(lever.group) for lever in found)
    assert {lever.group for lever in found} == set(GROUPS)
    assert len({lever.key for lever in found}) == len(found)
    for lever in found:
        assert lever.label and lever.unit and lever.help and lever.step > 0
        expected = at(scenario, lever.path[:-1]).mean if lever.path[-1] == "mean" else at(scenario, lever.path)
        assert lever.value == pytest.approx(expected), lever.key
        assert isinstance(lever.value, int) if lever.integer else isinstance(lever.value, float)
    keys = {lever.key for lever in found}
    assert {f"beds.sites.{site}.beds" for site in scenario.beds.sites} <= keys
    assert {f'localities."{team}".reablement_places' for team in scenario.localities} <= keys
    assert apply_levers(scenario, {lever.key: lever.value for lever in found}) is scenario


def test_each_lever_changes_its_value_and_nothing_else(base):
    """Every lever of the baseline, moved on its own (the front-door shares in pairs, as they
    must still sum to 1), comes back as the new value; the other levers keep theirs (except the
    reablement ones, which move together: a team's places change the city's capacity)."""
    before = by_key(base)
    for lever in before.values():
        if lever.key.startswith("front_door.diversion."):
            other = "front_door.diversion.step_up_bed" if lever.key.endswith(".admit") else "front_door.diversion.admit"
            delta = 0.01 if lever.value < 0.5 else -0.01
            changes = {lever.key: lever.value + delta, other: before[other].value - delta}
        elif lever.integer:
            changes = {lever.key: lever.value + 1}
        else:
            changes = {lever.key: lever.value * 0.9 if lever.value else 0.01}
        after = by_key(apply_levers(base, changes))
        for key, value in changes.items():
            assert after[key].value == pytest.approx(value), key
        untouched = {k for k in before if k not in changes and not (lever.group == "Reablement" == before[k].group)}
        assert {k: after[k].value for k in untouched} == {k: before[k].value for k in untouched}, lever.key


def test_unlimited_capacities_are_no_levers(base):
    data = copy.deepcopy(base.model_dump())
    data["beds"]["sites"]["hub_2"]["beds"] = "unlimited"
    data["reablement"]["capacity"] = "unlimited"
    keys = by_key(scenario_from_dict(data))
    assert "beds.sites.hub_1.beds" in keys and "beds.sites.hub_2.beds" not in keys
    assert not [k for k in keys if k.startswith(("reablement.capacity", "localities."))]


# -- extends = "<library name>" ------------------------------------------------------------------


def test_extends_may_name_a_shipped_scenario(tmp_path, base):
    path = tmp_path / "child.toml"
    path.write_text('extends = "homefirst"\n[meta]\nname = "child"\n', encoding="utf-8")
    assert without_meta(load_scenario(path)) == without_meta(load_scenario("homefirst"))
    # homefirst extends "baseline.toml" beside it, in the library: its sources follow too
    assert "NHS England case study" in source_of(scenario_sources(path), "home_ward.capacity")


def test_a_file_beside_the_child_wins_over_the_library(tmp_path):
    text = BASELINE_FILE.read_text(encoding="utf-8").replace("rate_per_day = 72.0", "rate_per_day = 61.0")
    (tmp_path / "baseline").write_text(text, encoding="utf-8")
    (tmp_path / "child.toml").write_text('extends = "baseline"\n[meta]\nname = "child"\n', encoding="utf-8")
    assert load_scenario(tmp_path / "child.toml").arrivals.rate_per_day == 61.0


def test_a_bare_name_neither_beside_nor_shipped_is_not_found(tmp_path):
    (tmp_path / "child.toml").write_text('extends = "no_such_scenario"\n[meta]\nname = "x"\n', encoding="utf-8")
    with pytest.raises(InputError, match="no_such_scenario"):
        load_scenario(tmp_path / "child.toml")


def test_an_error_inside_a_distribution_or_a_weekday_table_sits_beside_its_lever(base):
    with pytest.raises(VariantError) as caught:
        apply_levers(base, {"beds.los.mean": 0.0, "beds.sites.hub_1.beds": 41})
    assert caught.value.key == "beds.los.mean" and "beds.los.mean = 0.0" in str(caught.value)
    with pytest.raises(VariantError) as caught:  # two days of one table changed: the message names sun
        apply_levers(base, {"acute.readiness_weekday.sat": 0.9, "acute.readiness_weekday.sun": 0.0})
    assert "acute.readiness_weekday.sun = 0.0" in str(caught.value)
    assert caught.value.key == "acute.readiness_weekday.sun"


def test_reablement_in_staff_hours_has_a_city_lever_and_no_team_places(base):
    data = base.model_dump()
    data["reablement"]["capacity_unit"] = "hours_per_week"
    data["reablement"]["capacity"] = 3650
    keys = by_key(scenario_from_dict(data))
    assert keys["reablement.capacity"].unit == "hours per week" and keys["reablement.capacity"].value == 3650
    assert not [k for k in keys if k.endswith(".reablement_places")]
