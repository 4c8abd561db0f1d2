"""The web app's pages, driven by Streamlit's AppTest (no browser): every page renders; a lever
change gives the expected TOML file; an invalid value shows the validator's one-line message
beside the field and nothing runs; "Save and compare" saves the variant and starts a compare."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest

pytest.importorskip("streamlit")
from streamlit.testing.v1 import AppTest

from sim import jobs
from sim.app.common import PAGES
from sim.inputs.loading import load_scenario

MAIN = Path(__file__).resolve().parents[1] / "sim" / "app" / "main.py"
LEVER = "lever|baseline|"


@pytest.fixture
def space(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("ICSIM_WORKSPACE", str(tmp_path))
    return tmp_path


def app() -> AppTest:
    return AppTest.from_file(str(MAIN), default_timeout=60).run()


def texts(at: AppTest, kind: str) -> list[str]:
    return [element.value for element in getattr(at, kind)]


@pytest.mark.parametrize("page", list(PAGES))
def test_every_page_renders_without_an_error(space, page):
    at = app()
    if page != "scenarios":
        at.switch_page(PAGES[page]).run()
    assert not at.exception, at.exception
    assert not texts(at, "error")
    assert len(at.title) == 1 and at.title[0].value  # each page says what it is for
    assert at.caption and "?" in at.caption[0].value  # ... as the question it answers


def test_the_first_page_offers_every_lever_at_the_scenario_value(space):
    at = app()
    baseline = load_scenario("baseline")
    assert at.number_input(key=LEVER + "beds.sites.hub_3.beds").value == baseline.beds.sites["hub_3"].beds
    assert at.number_input(key=LEVER + "reablement.capacity").value == baseline.reablement.capacity
    assert at.number_input(key=LEVER + "acute.clinical_los.p1.mean").value == pytest.approx(baseline.acute.clinical_los.p1.mean)
    assert [b.disabled for b in at.button] == [True, True]  # nothing changed: nothing to save


def test_a_lever_change_gives_a_toml_of_only_that_change(space):
    at = app()
    at.number_input(key=LEVER + "beds.sites.hub_1.beds").set_value(50).run()
    assert not at.exception
    (shown,) = texts(at, "code")
    assert tomllib.loads(shown) == {"extends": "baseline", "meta": {"name": "baseline_variant", "description": ""},
                                    "beds": {"sites": {"hub_1": {"beds": 50}}}}
    assert not list((space / "scenarios").iterdir())  # shown, not saved until asked


def test_a_length_of_stay_change_writes_the_distribution_whole(space):
    at = app()
    at.number_input(key=LEVER + "beds.los.mean").set_value(30.0).run()
    written = tomllib.loads(texts(at, "code")[0])
    assert written["beds"] == {"los": {"family": "lognormal", "mean": 30.0, "sd": pytest.approx(18.0 * 30 / 36)}}


def test_invalid_input_shows_the_validators_message_and_runs_nothing(space):
    at = app()
    at.number_input(key=LEVER + "front_door.diversion.home_ward").set_value(0.2).run()
    errors = texts(at, "error")
    assert len(errors) == 1 and "front_door.diversion: shares sum to 1.125" in errors[0] and "expected 1" in errors[0]
    assert "\n" not in errors[0]
    assert all(b.disabled for b in at.button)  # neither Save nor Save and compare
    assert not texts(at, "code")  # no file offered
    assert not list((space / "scenarios").iterdir()) and not list((space / "jobs").iterdir())


def test_negative_beds_are_refused_beside_the_field(space):
    at = app()
    at.number_input(key=LEVER + "beds.sites.hub_2.beds").set_value(-3).run()
    (error,) = texts(at, "error")
    assert "beds.sites.hub_2.beds = -3" in error


def test_save_and_compare_saves_the_variant_and_starts_a_paired_compare(space):
    at = app()
    at.number_input(key=LEVER + "beds.sites.hub_1.beds").set_value(50).run()
    at.text_input(key="name|baseline").set_value("Hub 1 + 10 beds").run()
    at.button(key="save-compare").click().run()
    assert not at.exception
    (saved,) = (space / "scenarios").glob("*.toml")
    variant = load_scenario(saved)
    baseline = load_scenario("baseline")
    assert variant.beds.sites["hub_1"].beds == 50
    assert variant.model_dump(exclude={"meta", "beds"}) == baseline.model_dump(exclude={"meta", "beds"})
    (job,) = jobs.jobs(space)
    try:
        assert job.kind == "compare"
        request = json.loads((job.folder / "job.json").read_text())["arguments"]
        assert request["baseline"] == "baseline" and request["scenarios"] == [str(saved)]
    finally:
        jobs.cancel(job.folder)
    assert at.query_params.get("job") in (job.id, [job.id])  # the URL names the run, so a refresh finds it


def test_a_name_already_saved_is_refused_and_nothing_starts(space):
    taken = space / "scenarios" / "baseline_variant.toml"
    taken.parent.mkdir(exist_ok=True)
    taken.write_text("# someone's earlier work\n")
    at = app()
    at.number_input(key=LEVER + "beds.sites.hub_1.beds").set_value(50).run()
    at.button(key="save-compare").click().run()
    assert taken.read_text() == "# someone's earlier work\n"
    assert not list((space / "jobs").iterdir())
    (error,) = texts(at, "error")
    assert "baseline_variant.toml" in error and "\n" not in error


def test_compare_page_shows_a_finished_compare_answer_first(space):
    """A compare run by the jobs module, then opened on the Compare page: the answer's net
    benefit and interval come first, with the workbook to download."""
    variant = space / "scenarios" / "more.toml"
    variant.parent.mkdir()
    variant.write_text('extends = "baseline"\n[meta]\nname = "more"\n[beds.sites.hub_1]\nbeds = 50\n')
    job = jobs.start(space, "compare", "more against baseline", baseline="baseline", scenarios=[str(variant)],
                     replications=2, years=0.1)
    job = jobs.wait(job.folder, timeout=300)
    assert job.state == "done", job.error
    at = app()
    at.switch_page(PAGES["compare"]).run()
    assert not at.exception
    assert [m.label for m in at.metric] == ["Net benefit a year (central)"]
    assert any("90% interval" in m.value for m in at.markdown)
    labels = [b.label for b in at.get("download_button")]
    assert "Download the workbook" in labels and "Download the folder (zip)" in labels


def test_the_plan_form_starts_a_plan_job_with_the_target_and_years(space):
    at = app()
    at.switch_page(PAGES["blueprint"]).run()
    plan_form = [b for b in at.button if b.label == "Plan"]
    assert plan_form, [b.label for b in at.button]
    plan_form[0].click().run()
    assert not at.exception and not texts(at, "error")
    (job,) = jobs.jobs(space)
    try:
        request = json.loads((job.folder / "job.json").read_text())["arguments"]
        year = request["years"].split("-")[0]
        assert job.kind == "plan" and request["scenario"] == "blueprint" and request["service"] == "reablement"
        assert request["target"] == "p1_wait_days <= 2" and request["years"] == f"{year}-{int(year) + 9}"
    finally:
        jobs.cancel(job.folder)


def test_a_synthetic_extract_can_be_made_and_offered_for_calibration(space):
    at = app()
    at.switch_page(PAGES["calibrate"]).run()
    assert not [b for b in at.button if b.label == "Calibrate"]  # no extract yet
    next(b for b in at.button if b.label.startswith("Make a synthetic extract")).click().run(timeout=300)
    assert not at.exception
    (extract,) = (space / "uploads").iterdir()
    assert (extract / "spells.csv").is_file() and (extract / "ic_episodes.csv").is_file()
    assert [b for b in at.button if b.label == "Calibrate"]
    assert at.selectbox[0].value == extract.name


@pytest.mark.parametrize("args, expected", [
    (["--port", "0"], "--port = 0: expected a port number 1-65535"),
    (["--host", " "], "--host"),
])
def test_icsim_app_refuses_bad_settings_in_one_line(tmp_path, args, expected):
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-m", "sim", "app", *args, "--workspace", str(tmp_path / "w")],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and expected in done.stderr and len(done.stderr.strip().splitlines()) == 1
    assert "Traceback" not in done.stderr


def test_icsim_app_refuses_a_file_as_workspace(tmp_path):
    import subprocess
    import sys

    afile = tmp_path / "w"
    afile.write_text("not a folder")
    done = subprocess.run([sys.executable, "-m", "sim", "app", "--workspace", str(afile)], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 2 and "expected a folder" in done.stderr
