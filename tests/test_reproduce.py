"""A published figure can be traced and reproduced from its run folder's manifest."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from sim.errors import InputError
from sim.inputs.loading import load_scenario

ICSIM = str(Path(sys.executable).parent / "icsim")


def test_rerunning_a_manifest_reproduces_the_run_exactly(tmp_path):
    first, again = tmp_path / "first", tmp_path / "again"
    # a non-default seed and horizon: the manifest must carry them, not the scenario file's
    args = ["--replications", "2", "--years", "0.15", "--seed", "977", "--quiet"]
    subprocess.run([ICSIM, "run", "scenarios/baseline.toml", *args, "--out", str(first)], check=True)
    subprocess.run([ICSIM, "run", str(first / "manifest.json"), "--quiet", "--out", str(again)], check=True)
    for name in ("summary.csv", "replications.csv", "weekly.csv"):
        assert (first / name).read_bytes() == (again / name).read_bytes(), name
    manifest = json.loads((again / "manifest.json").read_text())
    assert manifest["seed"] == 977 and manifest["scenario"]["run"]["years"] == 0.15


def test_a_json_file_that_is_not_a_manifest_is_a_clear_error(tmp_path):
    bad = tmp_path / "other.json"
    bad.write_text(json.dumps({"hello": 1}))
    with pytest.raises(InputError, match=r"other\.json: scenario: missing"):
        load_scenario(bad)
