"""The notebooks in notebooks/ (jupytext percent-format .py files) execute and give sane results.

Each notebook is converted with jupytext and executed for real with nbclient on a kernel of
this interpreter (a kernel spec written to a temporary folder, so no installed kernel is
needed). The notebooks assert their own checks against theory; a failed assertion fails the
cell and so the test. Each prints one line `RESULT {json}`, which the tests check against
figures derived independently here.
"""

import json
import sys
from pathlib import Path

import jupytext
import nbformat
import numpy as np
import pytest
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import KernelManager
from nbclient import NotebookClient

from sim import load_scenario

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
KERNEL = "icsim-notebook-test"
TIMEOUT = 300  # seconds per cell


@pytest.fixture(scope="module")
def kernel_specs(tmp_path_factory):
    """A kernel spec that starts ipykernel with this very interpreter."""
    folder = tmp_path_factory.mktemp("kernels")
    spec = folder / KERNEL
    spec.mkdir()
    (spec / "kernel.json").write_text(
        json.dumps(
            {
                "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                "display_name": "icsim tests",
                "language": "python",
            }
        )
    )
    return KernelSpecManager(kernel_dirs=[str(folder)])


@pytest.fixture(scope="module")
def execute(kernel_specs, tmp_path_factory):
    def run(name: str) -> nbformat.NotebookNode:
        notebook = jupytext.read(NOTEBOOKS / name)
        manager = KernelManager(kernel_name=KERNEL, kernel_spec_manager=kernel_specs)
        # started from notebooks/, as Jupyter would: the notebook must find the repository root itself
        client = NotebookClient(notebook, km=manager, timeout=TIMEOUT, resources={"metadata": {"path": str(NOTEBOOKS)}})
        client.execute()
        nbformat.write(notebook, tmp_path_factory.mktemp("executed") / name.replace(".py", ".ipynb"))
        return notebook

    return run


def _text(notebook: nbformat.NotebookNode) -> str:
    parts = []
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            if output.get("output_type") == "stream":
                parts.append(output["text"])
            elif "data" in output and "text/plain" in output["data"]:
                parts.append(output["data"]["text/plain"])
    return "\n".join(parts)


def _result(notebook: nbformat.NotebookNode) -> dict:
    streams = [o for cell in notebook.cells for o in cell.get("outputs", []) if o.get("output_type") == "stream"]
    lines = [line for o in streams for line in o["text"].splitlines() if line.startswith("RESULT ")]
    assert len(lines) == 1, "the notebook prints one RESULT line"
    return json.loads(lines[0].removeprefix("RESULT "))


def _images(notebook: nbformat.NotebookNode) -> int:
    return sum("image/png" in o.get("data", {}) for cell in notebook.cells for o in cell.get("outputs", []))


def test_quickstart(execute):
    notebook = execute("quickstart.py")
    result = _result(notebook)
    assert result["replications"] == 6
    # independently: admissions = arrivals not diverted at the front door + readmissions
    base = load_scenario(ROOT / "scenarios" / "baseline.toml")
    diverted = sum(
        base.front_door.diversion.model_dump().get(k, 0.0)
        for k in ("home_ward", "assessment_home", "step_up_reablement", "step_up_bed")
    )
    expected = base.arrivals.rate_per_day * 7 * (1 - diverted) + result["readmissions_per_week"]
    assert abs(result["admissions_per_week"] - expected) / expected < 0.06
    assert abs(result["little_beds"] - result["beds_occupied"]) / result["beds_occupied"] < 0.05
    assert "bed_los_days" in _text(notebook)
    assert _images(notebook) >= 1


def test_calibrate(execute):
    notebook = execute("calibrate.py")
    result = _result(notebook)
    assert result["duplicates_counted"] == result["duplicates_injected"] > 0
    # independently: the truth is the shipped baseline; each fitted mean lies within 4 standard
    # errors (the truth's sd / √n) of the truth's
    truth = load_scenario(ROOT / "scenarios" / "baseline.toml")
    for key, dist, n in (("home_ward_los_fitted", truth.home_ward.los, result["home_ward_stays"]),
                         ("reablement_duration_fitted", truth.reablement.duration, result["reablement_episodes"])):
        assert n > 1_000, key
        assert abs(result[key] - dist.mean) <= 4 * dist.sd / n**0.5, key
    text = _text(notebook)
    assert "exact duplicate row" in text and "admissions_per_week" in text


def test_homefirst(execute):
    notebook = execute("homefirst.py")
    result = _result(notebook)
    assert result["replications"] == 6
    # the therapy LOS lever alone is 36 -> 30 days (scenarios/homefirst.toml): bed stays fall by
    # at least most of that and, with faster discharge and less waiting, by less than twice it
    base, scen = (load_scenario(ROOT / "scenarios" / f"{n}.toml").beds.los.mean for n in ("baseline", "homefirst"))
    lever = base - scen
    assert lever > 0
    low, high = result["bed_los_ci"]
    assert low <= result["bed_los_delta"] <= high < 0
    assert -2 * lever < result["bed_los_delta"] < -0.75 * lever
    assert result["net_low"] <= result["net_central"] <= result["net_high"]
    assert "funded_capacity_reablement" in _text(notebook)


def test_blueprint(execute):
    notebook = execute("blueprint.py")
    result = _result(notebook)
    years = result["years"]
    assert years == list(range(2026, 2030))
    # independently: demand follows sum(population x admission rate) over the age bands, linear
    # between mid-years; a reporting year (April-March) is centred on about 1 October
    scenario = load_scenario(ROOT / "scenarios" / "blueprint.toml")
    population = scenario.arrivals.population
    by_year = dict(
        zip(
            population.years,
            sum(np.asarray(population.by_band[band]) * rate for band, rate in population.rates_per_1000.items()),
        )
    )

    def index(year: int) -> float:
        return by_year[year] + 0.25 * (by_year[year + 1] - by_year[year])

    growth = result["admissions_per_week"][-1] / result["admissions_per_week"][0]
    assert abs(growth - index(years[-1]) / index(years[0])) < 0.02
    assert result["capacity_now"] == scenario.reablement.capacity
    assert result["plan_years"] == [2026, 2027]
    # the plan searches a grid of 25 places from today's capacity
    assert all((c - result["capacity_now"]) % 25 == 0 for c in result["plan_capacity"])
    assert result["plan_capacity"][-1] > result["capacity_now"]
    assert "offered load" in _text(notebook)
    assert _images(notebook) >= 2
