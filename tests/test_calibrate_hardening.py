"""Calibration on real-world data (issue 15): real names, mistyped future dates, orphan episodes.

* Bed bases, localities and teams keep the names an extract gives them (spaces, apostrophes,
  quotes, dots, brackets, `=`, `#`, accents, other scripts, a line break): params.toml is
  valid TOML that loads back, through the project's own scenario loader, to exactly those
  names, with every figure's provenance comment beside it.
* The calibrated scenario's name (meta.name, which `icsim run` puts into a default folder
  name) is one path component: never empty, `.`, `..`, or holding a separator.
* A timestamp after the extract date is a data fault, counted by column in the quality
  report and its row dropped; without a declared extract date, one mistyped future date
  (2031 in a 2025 extract) does not stretch the history (docs/decisions.md).
* An episode referred on a hospital discharge whose person has no spell is counted.
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pandas as pd
import pytest

from sim.calibrate.extract import read_extract
from sim.calibrate.synth import synthesize
from sim.calibrate.toml_out import render_scenario
from sim.inputs.loading import load_scenario, scenario_from_dict
from sim.workflows import calibrate

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "scenarios" / "baseline.toml"

# six bed bases and twelve localities, as a real extract might name them
SITES = [
    "St James's Hub 1", 'The "Beeches"', "Dr. Foster.Ward", "Chapeltown Sainte-Anné", "Ward ]=[ x", "病院 #2",
]  # fmt: skip
LOCALITIES = [
    "North West", "O'Brien's Patch", 'say "hi"', "a.b.c", "Chapeltown Sainte-Anné", "x]y=z", "Ünïcødé 東",
    "back\\slash", "# not a comment", "[brackets]", "family", "line\nbreak",
]  # fmt: skip


def renamed(data, mapping: dict[str, str]):
    """`data` with every key and string in `mapping` replaced (names and references to them)."""
    if isinstance(data, dict):
        return {mapping.get(k, k): renamed(v, mapping) for k, v in data.items()}
    if isinstance(data, (list, tuple)):
        return type(data)(renamed(v, mapping) for v in data)
    if isinstance(data, str):
        return mapping.get(data, data)
    return data


def named_truth():
    """The baseline with its hub_1-6 and Neighbourhood 1-12 given awkward real-world names."""
    mapping = {f"hub_{i}": name for i, name in enumerate(SITES, 1)}
    mapping |= {f"Neighbourhood {i}": name for i, name in enumerate(LOCALITIES, 1)}
    return scenario_from_dict(renamed(load_scenario(BASELINE).model_dump(mode="python"), mapping))


# --------------------------------------------------------------------------------------------- names


@pytest.fixture(scope="module")
def named(tmp_path_factory):
    """A one-year extract whose bed bases and localities have awkward names, calibrated into a
    folder with an awkward name too."""
    root = tmp_path_factory.mktemp("named")
    extract = synthesize(named_truth(), years=1, seed=3, out=root / "extract")
    out = root / "calibrations" / "Leeds O'Brien – été 2025"
    calibrate(extract, out, replications=2, command=["test"])
    return root, extract, out


def test_real_names_round_trip_through_params_toml(named):
    _, extract, out = named
    seen = pd.read_csv(extract / "ic_episodes.csv", dtype=str, keep_default_na=False)
    assert set(SITES) <= set(seen["site"]) and set(LOCALITIES) <= set(seen["locality"])  # the extract holds them
    text = (out / "params.toml").read_text(encoding="utf-8")
    tomllib.loads(text)  # valid TOML
    scenario = load_scenario(out / "params.toml")  # the project's own loader
    assert set(scenario.beds.sites) == set(SITES)
    assert set(scenario.localities) == set(LOCALITIES)
    for locality in scenario.localities.values():
        assert locality.bed_sites and set(locality.bed_sites) <= set(SITES)


def test_real_names_keep_their_provenance_comments(named):
    _, _, out = named
    lines = (out / "params.toml").read_text(encoding="utf-8").splitlines()
    for key in ("beds", "los_multiplier", "referral_share", "share", "reablement_share", "bed_sites"):
        for i, line in enumerate(lines):
            if line.startswith(f"{key} = "):
                assert lines[i - 1].startswith("# fitted from "), (key, lines[i - 1])
    fits = pd.read_csv(out / "fits.csv", keep_default_na=False)
    assert 'beds.sites."Dr. Foster.Ward".beds' in set(fits["parameter"])  # one part per name, dots and all


def test_the_calibrated_scenario_is_named_after_its_folder_and_writes_nothing_outside_it(named):
    root, _, out = named
    assert load_scenario(out / "params.toml").meta.name == out.name
    assert sorted(p.name for p in root.iterdir()) == ["calibrations", "extract"]
    assert [p.name for p in out.parent.iterdir()] == [out.name]
    for path in out.rglob("*"):
        assert path.resolve().is_relative_to(out.resolve())


@pytest.mark.parametrize("out, expected", [
    ("calibration/leeds-2025", "leeds-2025"),
    ("calibration/St James's été", "St James's été"),
    ("../../etc/x", "x"),
    ("a/b", "b"),
    ("a/b/", "b"),
    ("calibration/new/..", "calibration"),
    ("runs/..", None),  # the working folder's own name
    (".", None),
    ("/", "calibration"),
    ("a\\b", "a_b"),  # a separator elsewhere
    ("a\nb", "a_b"),
])  # fmt: skip
def test_scenario_name_is_one_safe_path_component(out, expected, tmp_path, monkeypatch):
    from sim.calibrate import scenario_name  # new with issue 15

    monkeypatch.chdir(tmp_path)
    name = scenario_name(Path(out))
    assert name == (expected if expected is not None else tmp_path.name)
    assert name not in ("", ".", "..") and not any(c in name for c in "/\\\n")
    # as `icsim run` uses it in a default folder name: always one folder inside runs/
    folder = Path("runs") / f"run-{name}-20250101-000000"
    assert folder.parent == Path("runs") and folder.resolve().parent == (tmp_path / "runs").resolve()


def test_the_toml_writer_quotes_any_name():
    """Any key a name can be (control characters too) is written as valid TOML and reads back."""
    names = ["plain", "with space", "it's", 'a "q"', "a.b", "x]y", "k = v", "#", "é東", "tab\there", "new\nline",
             "cr\rx", "bell\x07", "", "1", "true"]
    data = {"meta": {"name": "n"}, "localities": {name: {"share": 0.5, "bed_sites": [name]} for name in names}}
    comments = {("localities", name, "share"): f"share of {name!r}" for name in names}
    text = render_scenario(data, comments, ["header"], "default")
    assert tomllib.loads(text) == data
    for name in names:
        assert f"# share of {name!r}" in text.splitlines()


def test_an_inline_looking_name_stays_a_table():
    """A locality called "family" (the key that marks a distribution) is still a table of its own."""
    data = {"localities": {"family": {"share": 1.0}}, "beds": {"los": {"family": "gamma", "mean": 2.0, "sd": 1.0}}}
    text = render_scenario(data, {}, [], "default")
    assert "[localities.family]" in text and 'los = {family = "gamma", mean = 2.0, sd = 1.0}' in text
    assert tomllib.loads(text) == data


# --------------------------------------------------------------------------------------------- future dates


def _with_future_typos(folder: Path) -> tuple[int, int]:
    """One spell's discharge and one episode's end mistyped as 2031, and the extract date taken
    out of manifest.json. Returns the rows changed (line numbers: header = 1)."""
    spells = pd.read_csv(folder / "spells.csv", dtype=str, keep_default_na=False)
    episodes = pd.read_csv(folder / "ic_episodes.csv", dtype=str, keep_default_na=False)
    s = int(spells.index[spells["discharge_ts"].ne("")][100])
    spells.loc[s, "discharge_ts"] = "2031" + spells.loc[s, "discharge_ts"][4:]
    e = int(episodes.index[episodes["end_ts"].ne("")][50])
    episodes.loc[e, "end_ts"] = "2031" + episodes.loc[e, "end_ts"][4:]
    spells.to_csv(folder / "spells.csv", index=False)
    episodes.to_csv(folder / "ic_episodes.csv", index=False)
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest.pop("extract_date")
    (folder / "manifest.json").write_text(json.dumps(manifest))
    return s + 2, e + 2


@pytest.fixture(scope="module")
def typo_extract(tmp_path_factory):
    folder = synthesize(load_scenario(BASELINE), years=1, seed=5, out=tmp_path_factory.mktemp("typo") / "extract")
    true_date = pd.Timestamp(json.loads((folder / "manifest.json").read_text())["extract_date"])
    rows = _with_future_typos(folder)
    return folder, true_date, rows


def test_a_future_typo_does_not_become_the_extract_date(typo_extract):
    folder, true_date, (spell_row, episode_row) = typo_extract
    e = read_extract(folder)  # no extract date declared
    assert true_date - pd.Timedelta(days=2) <= e.extract_date <= true_date
    q = e.quality.set_index(["file", "rule"])
    spells, episodes = q.loc[("spells.csv", "timestamp after extract date")], q.loc[("ic_episodes.csv", "timestamp after extract date")]
    assert (spells["rows_broken"], spells["action"]) == (1, "dropped") and str(spell_row) in spells["example_rows"]
    assert (episodes["rows_broken"], episodes["action"]) == (1, "dropped") and str(episode_row) in episodes["example_rows"]
    assert "discharge_ts <5" in spells["note"] and "end_ts <5" in episodes["note"]
    assert "inferred" in spells["note"]
    assert spell_row not in e.spells.index and episode_row not in e.episodes.index


def test_a_future_typo_does_not_stretch_the_calibrated_history(typo_extract, tmp_path):
    folder, true_date, _ = typo_extract
    out = tmp_path / "cal"
    calibrate(folder, out, replications=2, command=["test"])
    scenario = load_scenario(out / "params.toml")
    assert scenario.run.years == pytest.approx(1.0, abs=0.01)
    assert pd.Timestamp(json.loads((out / "manifest.json").read_text())["extract_date"]) <= true_date
    quality = pd.read_csv(out / "quality.csv", dtype=str).set_index(["file", "rule"])
    assert quality.loc[("spells.csv", "timestamp after extract date"), "rows_broken"] == "<5"  # published: small counts hidden
    assert "discharge_ts <5" in quality.loc[("spells.csv", "timestamp after extract date"), "note"]
    report = (out / "quality.md").read_text()
    assert "timestamp after extract date" in report and "discharge_ts <5" in report  # the data faults, beside the gate


# --------------------------------------------------------------------------------------------- small hand-made extracts

SPELL_HEADER = "spell_id,person_id,age,admission_ts,ready_ts,discharge_ts,pathway,site"
EPISODE_HEADER = "episode_id,person_id,service,site,source,referral_ts,start_ts,end_ts,outcome,care_hours_start,care_hours_end"
SPELLS = [
    "S-1,P-1,80,2024-03-01 10:00,2024-03-05 10:00,2024-03-07 10:00,P1,LGI",  # row 2
    "S-2,P-2,70,2024-03-02 08:00,2024-03-04 08:00,2024-03-09 08:00,P2,LGI",  # row 3
    "S-3,P-3,75,2024-03-03 08:00,,,,LGI",  # row 4: still in
]
EPISODES = [
    "E-1,P-1,reablement,,hospital_discharge,2024-03-07 09:00,2024-03-07 12:00,2024-03-20 12:00,home,10,4",  # row 2
    "E-2,P-2,bed,Hub A,hospital_discharge,2024-03-09 08:00,2024-03-09 08:00,,,,",  # row 3
    "E-3,P-9,reablement,,hospital_discharge,2024-03-08 09:00,2024-03-08 12:00,,,6,",  # row 4: P-9 has no spell
    "E-4,P-8,bed,Hub A,hospital_discharge,2024-03-09 09:00,,,,,",  # row 5: P-8 has no spell
    "E-5,P-7,home_ward,,front_door,2024-03-09 09:00,2024-03-09 10:00,,,,",  # row 6: front door, no spell needed
    "E-6,P-6,reablement,,community,2024-03-09 09:00,,,,,",  # row 7: community, no spell needed
]


def write(folder: Path, spells=SPELLS, episodes=EPISODES) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "spells.csv").write_text(SPELL_HEADER + "\n" + "".join(r + "\n" for r in spells))
    (folder / "ic_episodes.csv").write_text(EPISODE_HEADER + "\n" + "".join(r + "\n" for r in episodes))
    return folder


def test_a_declared_extract_date_names_the_columns_past_it(tmp_path):
    e = read_extract(write(tmp_path), extract_date="2024-03-10")
    q = e.quality.set_index(["file", "rule"])
    assert q.loc[("ic_episodes.csv", "timestamp after extract date"), "rows_broken"] == 1  # E-1's end
    note = q.loc[("ic_episodes.csv", "timestamp after extract date"), "note"]
    assert "end_ts <5" in note and "declared" in note


def test_episodes_referred_from_hospital_without_a_spell_are_counted(tmp_path):
    e = read_extract(write(tmp_path))
    q = e.quality.set_index(["file", "rule"])
    row = q.loc[("ic_episodes.csv", "hospital discharge episode with no spell")]
    assert (row["rows_broken"], row["example_rows"], row["action"]) == (2, "4, 5", "kept")
    assert list(e.episodes.index) == [2, 3, 4, 5, 6, 7]  # counted, not dropped


def test_an_episode_whose_spell_was_dropped_is_counted_too(tmp_path):
    spells = [*SPELLS[:1], "S-2,P-2,70,2024-03-02 08:00,2024-03-04 08:00,2024-03-01 08:00,P2,LGI", SPELLS[2]]  # discharge before admission
    e = read_extract(write(tmp_path, spells=spells))
    q = e.quality.set_index(["file", "rule"])
    assert q.loc[("spells.csv", "discharge_ts before admission_ts"), "rows_broken"] == 1
    assert q.loc[("ic_episodes.csv", "hospital discharge episode with no spell"), "example_rows"] == "3, 4, 5"
