"""`icsim report`: one self-contained HTML file from a run or compare folder, checked in headless
Chromium (no broken images, a screenshot in test-artifacts/, basic accessibility)."""

from __future__ import annotations

import itertools
import json
import math
import re
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest

from sim.outputs.display import kpi_difference, money
from sim.outputs.report import SECTIONS, charts_dir, fmt, write_report

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "test-artifacts"
ICSIM = [sys.executable, "-c", "from sim.cli import main; main()"]


def icsim(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([*ICSIM, *args], check=False, capture_output=True, text=True, cwd=cwd,
                          timeout=600)


@pytest.fixture(scope="module")
def folders(tmp_path_factory) -> dict[str, Path]:
    """A small compare folder and a small run folder (3 replications of a quarter year)."""
    base = tmp_path_factory.mktemp("report")
    compare, run = base / "compare", base / "run"
    done = icsim("compare", "scenarios/baseline.toml", "scenarios/homefirst.toml", "-n", "3", "--years", "0.25",
                 "--quiet", "--out", str(compare))
    assert done.returncode == 0, done.stderr
    done = icsim("run", "scenarios/baseline.toml", "-n", "3", "--years", "0.25", "--quiet", "--out", str(run))
    assert done.returncode == 0, done.stderr
    return {"compare": compare, "run": run, "base": base}


@pytest.fixture(scope="module")
def compare_report(folders) -> Path:
    out = folders["base"] / "compare-report.html"
    done = icsim("report", str(folders["compare"]), "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert str(out) in done.stdout
    return out


class Page(HTMLParser):
    """Headings, images, table rows (data-kpi/data-scope and cell texts), every table cell's text,
    the hovers (title) of KPI names, and the html lang."""

    def __init__(self, text: str):
        super().__init__()
        self.headings: list[tuple[int, str]] = []
        self.images: list[dict] = []
        self.rows: dict[tuple[str, str], list[str]] = {}
        self.hovers: dict[tuple[str, str], str] = {}  # the title of the KPI name in a data-kpi row
        self.cells: list[str] = []  # every td of every table
        self._any_cell: str | None = None
        self.lang = None
        self.title = ""
        self._heading, self._row, self._cell, self._in_title = None, None, None, False
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "html":
            self.lang = a.get("lang")
        elif re.fullmatch(r"h[1-6]", tag):
            self._heading = [int(tag[1]), ""]
        elif tag == "img":
            self.images.append(a)
        elif tag == "tr" and "data-kpi" in a:
            self._row = (a["data-kpi"], a["data-scope"])
            self.rows[self._row] = []
        elif tag == "td":
            self._any_cell = ""
            if self._row is not None:
                self._cell = ""
        elif tag == "span" and self._row is not None and "title" in a:
            self.hovers[self._row] = a["title"]
        elif tag == "title":
            self._in_title = True

    def handle_endtag(self, tag):
        if self._heading is not None and tag == f"h{self._heading[0]}":
            self.headings.append((self._heading[0], self._heading[1].strip()))
            self._heading = None
        elif tag == "td":
            self.cells.append(self._any_cell or "")
            self._any_cell = None
            if self._cell is not None:
                self.rows[self._row].append(self._cell)
                self._cell = None
        elif tag == "tr":
            self._row = None
        elif tag == "title":
            self._in_title = False

    def handle_data(self, data):
        if self._heading is not None:
            self._heading[1] += data
        if self._cell is not None:
            self._cell += data
        if self._any_cell is not None:
            self._any_cell += data
        if self._in_title:
            self.title += data


def test_figures_are_written_as_stated():
    """How a figure is written, by hand: the checks below compare report cells with
    fmt(value from the CSV), so fmt itself must be right. Proportions as a percentage to one
    decimal; other units to one decimal below 1,000 and whole, with thousands separators,
    from 1,000; "–" when undefined; money a year in £m to two decimals."""
    assert fmt(0.8768, "proportion") == "87.7%"
    assert fmt(12.345, "days") == "12.3"
    assert fmt(999.94, "people") == "999.9"
    assert fmt(1234.6, "people") == "1,235"
    assert fmt(-2500.2, "beds") == "-2,500"
    assert fmt(float("nan"), "days") == fmt(None, "days") == fmt(math.inf, "days") == "–"
    assert money(8_760_000) == "£8.76m" and money(1_234_567) == "£1.23m" and money(float("nan")) == "–"
    assert money(-1_224_000) == "−£1.22m"  # a minus sign before the £
    assert money(-1_000) == money(0.0) == money(-0.0) == "£0.00m"  # no negative zero


def test_compare_report_has_every_section_and_embedded_charts(folders, compare_report):
    page = Page(compare_report.read_text())
    titles = [t for level, t in page.headings if level == 2]
    for _, name in SECTIONS:
        assert name in titles, f"section {name!r} missing"
    # one self-contained file: every image a data URI, no scripts, no network
    text = compare_report.read_text()
    assert page.images and all(i["src"].startswith("data:image/png;base64,") for i in page.images)
    assert "<script" not in text and "http://" not in text and "https://" not in text
    assert any("aterfall" in i["alt"] for i in page.images)  # finance waterfall
    assert "not available from this run's KPIs" in text  # the distribution of length of stay
    assert ("bed_short_stay_share", "total") in page.rows and ("p0_same_day_share", "total") in page.rows
    # each chart also as PNG and SVG beside the report, for slides
    files = sorted(p.name for p in charts_dir(compare_report).iterdir())
    assert len(files) == 2 * len(page.images)
    assert {Path(f).suffix for f in files} == {".png", ".svg"}
    # the KPI table: baseline and scenario means and the paired difference of kpi_deltas.csv
    deltas = pd.read_csv(folders["compare"] / "kpi_deltas.csv")
    row = deltas[(deltas["kpi"] == "p1_wait_days") & (deltas["scope"] == "total")].iloc[0]
    cells = page.rows[("p1_wait_days", "total")]
    assert cells[-1].startswith(kpi_difference(row["delta"], "days") + " [")  # signed, with a minus sign
    assert cells[2].startswith(fmt(row["baseline"], "days") + " [")
    # the first screen answers: the first heading is the answer, with the net benefit and its interval
    assert titles[0].startswith("The answer:")
    benefit = pd.read_csv(folders["compare"] / "benefit.csv").set_index("component").loc["net"]
    assert f"Net benefit <strong>{money(benefit['central'])} a year</strong> (90% interval {money(benefit['low'])}" in text


def test_run_report_numbers_equal_summary(folders):
    out = folders["base"] / "run-report.html"
    write_report(folders["run"], out)
    page = Page(out.read_text())
    summary = pd.read_csv(folders["run"] / "summary.csv")
    checked = 0
    for row in summary.itertuples():
        cells = page.rows.get((row.kpi, row.scope))
        if cells is None:
            continue
        assert cells[1] == ("%" if row.unit == "proportion" else row.unit)
        assert cells[2] == fmt(row.mean, row.unit)
        assert cells[3] == f"{fmt(row.ci95_low, row.unit)} – {fmt(row.ci95_high, row.unit)}"
        assert cells[4] == f"{fmt(row.p10, row.unit)} – {fmt(row.p90, row.unit)}"
        checked += 1
    assert checked >= 22  # at least every programme KPI
    # a quarter-year run: no fan charts, and the warnings say why the figures are fragile
    assert not any(i.get("data-chart", "").split("-", 1)[-1].startswith("fan-") for i in page.images)
    text = out.read_text()
    assert "No fan charts" in text
    assert "Only 3 replications" in text and "less than a year" in text


def test_report_of_a_multi_year_run_draws_fans(folders, tmp_path):
    """A run folder whose yearly.csv spans two years gets one fan chart per headline KPI."""
    run = tmp_path / "run2"
    shutil.copytree(folders["run"], run)
    yearly = pd.read_csv(run / "yearly.csv")
    pd.concat([yearly, yearly.assign(year=yearly["year"] + 1)]).to_csv(run / "yearly.csv", index=False)
    page = Page(write_report(run, tmp_path / "r.html").read_text())
    fans = [i for i in page.images if "-fan-" in i.get("data-chart", "")]
    assert len(fans) >= 4 and all(i["alt"].startswith("Fan chart of") for i in fans)


def test_the_same_folder_gives_the_same_report_bytes_in_another_process(folders, tmp_path):
    """Charts carry no drawing date and no per-process random ids: reports diff cleanly."""
    written = []
    for k in (1, 2):  # two processes: matplotlib salts SVG ids per process unless told not to
        out = tmp_path / f"r{k}.html"
        done = icsim("report", str(folders["run"]), "--out", str(out))
        assert done.returncode == 0, done.stderr
        written.append({p.name: p.read_bytes() for p in charts_dir(out).iterdir()})
    assert written[0].keys() == written[1].keys() and len(written[0]) > 10
    assert [n for n in written[0] if written[0][n] != written[1][n]] == []


@pytest.mark.parametrize("make", ["empty", "not_a_folder", "manifest_only", "bad_json", "unfinished"])
def test_bad_input_is_one_line_exit_2_and_nothing_written(tmp_path, make):
    target = tmp_path / "in"
    if make != "not_a_folder":
        target.mkdir()
    if make in ("manifest_only", "unfinished"):
        (target / "manifest.json").write_text('{"seed": 1}')
    if make == "bad_json":
        (target / "manifest.json").write_text("{not json")
        (target / "summary.csv").write_text("kpi\n")
    if make == "unfinished":
        (target / "run.json").write_text("{}")
    out = tmp_path / "out" / "r.html"
    done = icsim("report", str(target), "--out", str(out))
    assert done.returncode == 2
    assert done.stderr.startswith("error: ") and len(done.stderr.strip().splitlines()) == 1
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "out").exists()


def test_report_in_headless_chromium(compare_report):
    """No broken images, a screenshot for people to look at, and basic accessibility."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    driver_path = shutil.which("chromedriver") or "/usr/bin/chromedriver"
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    assert chromium and Path(driver_path).exists(), (
        "headless Chromium is needed for this test: `make test` installs it "
        "(apt-get install chromium chromium-driver)")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1280,1000"):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(driver_path), options=options)
    try:
        driver.get(compare_report.resolve().as_uri())
        images = driver.execute_script(
            "return Array.from(document.images).map(i => [i.complete, i.naturalWidth, i.getAttribute('alt')]);")
        assert images, "no images"
        broken = [i for i, (complete, width, _) in enumerate(images) if not complete or width <= 0]
        assert not broken, f"broken images: {broken}"
        # accessibility: alt text, one h1, no skipped heading levels, lang and title
        assert all(alt and alt.strip() for *_, alt in images), "an image without alt text"
        levels = driver.execute_script(
            "return Array.from(document.querySelectorAll('h1,h2,h3,h4,h5,h6')).map(h => +h.tagName[1]);")
        assert levels.count(1) == 1 and levels[0] == 1
        skipped = [(a, b) for a, b in itertools.pairwise(levels) if b > a + 1]
        assert not skipped, f"heading levels skipped: {skipped}"
        assert driver.execute_script("return document.documentElement.lang;") == "en"
        assert driver.title.startswith("icsim report")
        ARTIFACTS.mkdir(exist_ok=True)
        height = driver.execute_script("return document.body.scrollHeight;")
        driver.set_window_size(1280, min(int(height) + 100, 16000))
        assert driver.save_screenshot(str(ARTIFACTS / "report.png"))
    finally:
        driver.quit()
    assert (ARTIFACTS / "report.png").stat().st_size > 10_000


def test_differences_are_signed_with_percentage_points_for_shares():
    assert kpi_difference(0.013, "proportion") == "+1.3 pp" and kpi_difference(-0.0004, "proportion") == "0.0 pp"
    assert kpi_difference(-3.456, "days") == "−3.5" and kpi_difference(-0.04, "days") == "0.0"
    assert kpi_difference(-2500.2, "beds") == "−2,500" and kpi_difference(float("nan"), "days") == "–"


def test_a_full_site_is_warned_about_even_when_the_total_is_not():
    """Short-term beds at 90% in total but one site at 98.8%, and one reablement team at 97.5%:
    both are named (the total alone said "none")."""
    from sim.outputs.report import Folder, warnings

    stats = pd.DataFrame([("b", "bed_occupancy", "total", 0.90), ("b", "bed_occupancy", "hub_1", 0.988),
                          ("b", "bed_occupancy", "hub_2", 0.80), ("b", "reablement_occupancy", "total", 0.93),
                          ("b", "reablement_occupancy", "Team 'A'", 0.975)],
                         columns=["series", "kpi", "scope", "mean"])
    run = {"warmup_days": 1000, "replications": 20, "years": 1}
    found = warnings(Folder(Path("f"), "run", {"replications": 20, "years": 1}, ["b"], stats, {"b": {"run": run}}))
    assert [w.split(" occupancy")[0] for w in found] == ["b: short-term beds at hub_1", "b: reablement at Team 'A'"]


def test_a_multi_year_compare_shows_the_years_and_the_npv(folders, tmp_path):
    """A compare folder whose benefit_by_year.csv spans two years gets the year table with the
    NPV row, its figures those of the file."""
    compare = tmp_path / "cmp2"
    shutil.copytree(folders["compare"], compare)
    by_year = pd.read_csv(compare / "benefit_by_year.csv")
    first, npv = by_year.iloc[[0]], by_year.iloc[[-1]]
    second = first.assign(year=str(int(first["year"].iloc[0]) + 1), discount_factor=1 / 1.035,
                          present_value_central=first["central"] / 1.035)
    npv = npv.assign(central=float(first["central"].iloc[0]) * (1 + 1 / 1.035))
    pd.concat([first, second, npv]).to_csv(compare / "benefit_by_year.csv", index=False)
    text = write_report(compare, tmp_path / "r.html").read_text()
    assert "over the years (realised, discounted at the Green Book rate)" in text
    assert money(npv["central"].iloc[0]) in text and "0.966" in text


def test_every_kpi_has_a_name_people_read():
    """Every registered KPI has its own name in plain words: not its id, no underscores."""
    from sim.experiment.kpis import KPI_BY_ID, KPI_NAMES, KPIS

    assert set(KPI_NAMES) == set(KPI_BY_ID), "a KPI without a name (or a name without a KPI) in sim/experiment/kpis.py"
    for kpi in KPIS:
        assert kpi.name == KPI_NAMES[kpi.id] and kpi.name.strip() and "_" not in kpi.name, kpi.id
    assert len(set(KPI_NAMES.values())) == len(KPI_NAMES), "two KPIs share a name"


def test_report_tables_show_kpi_names_with_the_id_in_a_hover(folders, compare_report):
    """Each KPI row's first cell is the KPI's name (its scope in brackets), never the raw id; the
    id and definition are its hover; no cell of any table is a bare KPI id."""
    from sim.experiment.kpis import KPI_BY_ID, KPI_NAMES

    page = Page(compare_report.read_text())
    assert len(page.rows) >= 30
    for (kpi, scope), cells in page.rows.items():
        name = KPI_NAMES[kpi]
        assert cells[0].lower().startswith(name.lower()) and kpi not in cells[0], (kpi, cells[0])
        assert scope == "total" or cells[0].endswith(f"({scope.replace('_', ' ')})")
        assert page.hovers[(kpi, scope)] == f"{kpi}: {KPI_BY_ID[kpi].definition}"
    assert not [c for c in page.cells if c.strip() in KPI_BY_ID]
    # the run-rate table's KPI column (run_rate.csv holds ids)
    rate = pd.read_csv(folders["compare"] / "run_rate.csv").dropna(subset=["kpi"])
    assert len(rate) and all(KPI_NAMES[k][:1].upper() + KPI_NAMES[k][1:] in page.cells for k in rate["kpi"])
    # the answer's flow changes are named too, the id in the hover
    text = compare_report.read_text()
    answer = text[text.index('<div class="answer">'):text.index("</div>")]
    assert 'title="nr2r_los_days: ' in answer and ">Time in hospital after no longer needing" in answer


def test_names_from_user_files_are_escaped(folders, tmp_path):
    """A site named with an apostrophe and angle brackets (as a scenario file may name it) is
    shown as text, never read as markup."""
    run = tmp_path / "run"
    shutil.copytree(folders["run"], run)
    name = "St James's <Hub>"
    for file in ("summary.csv", "weekly.csv", "yearly.csv"):
        path = run / file
        path.write_text(path.read_text().replace("hub_1", name))
    manifest = run / "manifest.json"
    manifest.write_text(manifest.read_text().replace('"hub_1"', json.dumps(name)))
    text = write_report(run, tmp_path / "r.html").read_text()
    assert "<Hub>" not in text
    assert "St James&#39;s &lt;Hub&gt;" in text
    page = Page(text)
    assert any(f"{name} " in i["alt"] for i in page.images)  # the bars by site
    assert any(c.startswith(f"beds.sites.{name}.") for c in page.cells)
