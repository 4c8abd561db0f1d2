"""Each scenario figure's source, read back from the comments beside it (sim/inputs/sources.py)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from sim.inputs.loading import load_scenario
from sim.inputs.sources import scenario_sources, source_of

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ROOT / "scenarios"
# keys the baseline leaves at the model's defaults (no figure written, so no source to cite)
DEFAULTS = ("meta.", "run.census", "beds.priority.", "placements.priority.", "beds.placement_delay")  # not set: placements.delay


def leaves(value, prefix=""):
    if isinstance(value, dict):
        for key, item in value.items():
            yield from leaves(item, f"{prefix}.{key}" if prefix else key)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from leaves(item, f"{prefix}[{i}]")
    else:
        yield prefix


def test_every_baseline_figure_has_a_source():
    """The rule "every default figure has a source": every value the baseline sets resolves to
    a comment (its own, or its table's)."""
    sources = scenario_sources(SCENARIOS / "baseline.toml")
    keys = [k for k in leaves(load_scenario(SCENARIOS / "baseline.toml").model_dump(mode="json"))
            if not k.startswith(DEFAULTS)]
    assert len(keys) > 100
    assert [k for k in keys if not source_of(sources, k)] == []


def test_sources_are_read_from_the_line_the_block_above_or_the_table_header():
    sources = scenario_sources(SCENARIOS / "baseline.toml")
    assert "NHS England case study (2023)" in source_of(sources, "home_ward.capacity")  # same line
    assert "LTHT adult discharges" in source_of(sources, "arrivals.rate_per_day")  # block under [arrivals]
    assert "Probability that a person able to leave" in source_of(sources, "acute.discharge_weekday.mon")  # under its header
    assert "12 integrated neighbourhood teams" in source_of(sources, "localities.Neighbourhood 3.bed_sites")
    assert "Six bed bases" in source_of(sources, "beds.sites.hub_4.beds")  # comment above [beds.sites]
    assert "IPACS BNSSG" in source_of(sources, "reablement.duration.mean")  # inline table, same line


def test_a_figure_an_extending_file_sets_never_shows_its_parents_source():
    """homefirst.toml sets beds.los without a comment beside it: its source points at homefirst's
    header, not at the baseline's note on the baseline's value; figures it leaves alone keep the
    baseline's source."""
    sources = scenario_sources(SCENARIOS / "homefirst.toml")
    assert source_of(sources, "beds.los.mean") == "set in homefirst.toml (see its header)"
    assert "NHS England case study" in source_of(sources, "home_ward.capacity")


def test_hash_inside_a_string_is_not_a_comment(tmp_path):
    path = tmp_path / "s.toml"
    path.write_text('[meta]\nname = "a # b"  # the real comment\n[x]\ny = [\n  1, # inside an array\n]\nz = 2\n')
    sources = scenario_sources(path)
    assert sources["meta.name"] == "the real comment"
    assert "x.z" not in sources and "x.y" not in sources


def test_run_manifest_and_report_carry_the_sources(tmp_path):
    icsim = str(Path(sys.executable).with_name("icsim"))
    out = tmp_path / "run"
    done = subprocess.run([icsim, "run", str(SCENARIOS / "baseline.toml"), "--years", "0.1", "-n", "1", "-q",
                           "--out", str(out)], check=False, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    manifest = json.loads((out / "manifest.json").read_text())
    assert "NHS England case study" in manifest["sources"]["home_ward.capacity"]
    report = tmp_path / "report.html"
    done = subprocess.run([icsim, "report", str(out), "--out", str(report)], check=False, capture_output=True,
                          text=True)
    assert done.returncode == 0, done.stderr
    text = report.read_text()
    row = text[text.index(">home_ward.capacity<"):]
    assert "NHS England case study" in row[: row.index("</tr>")]


def test_sources_read_names_with_quotes_brackets_and_dots(tmp_path):
    """Site names from real extracts: a TOML parser reads the header, so a `]`, an escaped quote
    or an apostrophe inside a name neither hides the table nor leaks its escapes."""
    path = tmp_path / "names.toml"
    path.write_text(
        '[beds.sites."St James\'s ]Hub 1"]  # the hub by the station\n'
        "beds = 3  # three beds, contract 2025\n"
        '[beds.sites."The \\"Beeches\\""]\n'
        "# a comment just under a header describes the table\n"
        "beds = 4\n",
        encoding="utf-8",
    )
    found = scenario_sources(path)
    assert found["beds.sites.St James's ]Hub 1"] == "the hub by the station"
    assert found["beds.sites.St James's ]Hub 1.beds"] == "three beds, contract 2025"
    assert found['beds.sites.The "Beeches"'] == "a comment just under a header describes the table"
