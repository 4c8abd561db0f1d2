"""The web app in a real browser: `icsim app` on a free port, opened in headless Chromium; a
planner changes the beds at one site, compares the variant with the baseline over 2 paired
replications, sees the net benefit and downloads the workbook. Screenshots go to test-artifacts/."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "test-artifacts"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("localhost", 0))
        return probe.getsockname()[1]


def wait_for(url: str, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as answer:
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise AssertionError(f"{url} did not answer within {seconds} s")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    space = tmp_path_factory.mktemp("workspace")
    port = free_port()
    log = (space.parent / "server.log").open("w")
    process = subprocess.Popen([sys.executable, "-m", "sim", "app", "--port", str(port), "--workspace", str(space)],
                               stdout=log, stderr=subprocess.STDOUT, cwd=space.parent, start_new_session=True)
    try:
        wait_for(f"http://localhost:{port}/_stcore/health", 90)
        yield f"http://localhost:{port}", space
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
        log.close()


@pytest.fixture
def browser(tmp_path):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    driver_path = shutil.which("chromedriver") or "/usr/bin/chromedriver"
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    assert chromium and Path(driver_path).exists(), (
        "headless Chromium is needed for this test: `make test` installs it (apt-get install chromium chromium-driver)")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1400,1000",
                     "--disable-background-networking", "--disable-component-update", "--no-first-run"):
        options.add_argument(argument)
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    options.add_experimental_option("prefs", {"download.default_directory": str(downloads),
                                              "download.prompt_for_download": False})
    driver = webdriver.Chrome(service=Service(driver_path), options=options)
    driver.downloads = downloads
    try:
        yield driver
    finally:
        driver.quit()


def set_number(driver, label: str, value: int) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support import expected_conditions as seen
    from selenium.webdriver.support.ui import WebDriverWait

    field = WebDriverWait(driver, 60).until(seen.element_to_be_clickable((By.CSS_SELECTOR, f'input[aria-label="{label}"]')))
    field.send_keys(Keys.CONTROL, "a")
    field.send_keys(str(value), Keys.ENTER)
    WebDriverWait(driver, 30).until(lambda d: d.find_element(By.CSS_SELECTOR, f'input[aria-label="{label}"]')
                                    .get_attribute("value") == str(value))


def screenshot(driver, name: str, height: int = 1000) -> Path:
    """The page at this window height (Streamlit scrolls inside the page, so taller shows more)."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / name
    driver.set_window_size(1400, height)
    time.sleep(1.0)  # let the layout settle at the new size
    assert driver.save_screenshot(str(path))
    driver.set_window_size(1400, 1000)
    return path


def test_a_planner_adds_beds_compares_and_downloads_the_workbook(server, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as seen
    from selenium.webdriver.support.ui import WebDriverWait

    url, space = server
    browser.get(url)
    set_number(browser, "Beds at hub_1 (beds)", 50)
    set_number(browser, "Replications for the comparison", 2)
    WebDriverWait(browser, 30).until(lambda d: "beds.sites.hub_1.beds" in d.find_element(By.TAG_NAME, "body").text)
    screenshot(browser, "app-build.png", 1500)
    button = WebDriverWait(browser, 30).until(seen.element_to_be_clickable(
        (By.XPATH, "//button[contains(., 'Save and compare with baseline')]")))
    button.click()
    # the compare page: progress, then the answer
    WebDriverWait(browser, 240).until(lambda d: "Net benefit a year" in d.find_element(By.TAG_NAME, "body").text)
    text = browser.find_element(By.TAG_NAME, "body").text
    assert "90% interval" in text and "baseline_variant against baseline" in text, text[:2000]
    saved = space / "scenarios" / "baseline_variant.toml"
    assert saved.is_file() and "hub_1" in saved.read_text()
    screenshot(browser, "app-answer.png", 1000)  # the first screen a planner sees (README's picture)
    screenshot(browser, "app-compare.png", 3200)
    workbook = WebDriverWait(browser, 30).until(seen.element_to_be_clickable(
        (By.XPATH, "//button[contains(., 'Download the workbook')]")))
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'});", workbook)
    workbook.click()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not list(browser.downloads.glob("*.xlsx")):
        time.sleep(0.3)
    files = list(browser.downloads.glob("*.xlsx"))
    assert files and files[0].read_bytes()[:2] == b"PK", "the workbook was not downloaded"
    # a refresh keeps the answer: the run is on disk and the URL names it
    browser.refresh()
    WebDriverWait(browser, 60).until(lambda d: "Net benefit a year" in d.find_element(By.TAG_NAME, "body").text)
