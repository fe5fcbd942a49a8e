"""The UI and the replication report as a user sees them, in a real headless Chromium.

Debian's chromium and chromium-driver packages (/usr/bin/chromium, /usr/bin/chromedriver;
.ci/run installs them), driven by selenium with that system browser: nothing is
downloaded. Uses the `dagster dev` of tests/e2e/test_ui.py against the session's
pipeline run. Screenshots go to test-artifacts/screenshots/ (git-ignored; CI keeps them).
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import duckdb
import pytest

from nqp_core.settings import PROJECT_ROOT
from tests.dagster_ui import graphql

pytestmark = pytest.mark.e2e

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
SCREENSHOTS = PROJECT_ROOT / "test-artifacts" / "screenshots"
PAGE_TIMEOUT_S = 90  # the UI's first render compiles the asset graph of ~90 assets
RUN_TIMEOUT_S = 300
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--window-size=1440,1000")


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
        missing = "needs Debian's chromium and chromium-driver (apt-get install -y chromium chromium-driver)"
        if os.environ.get("CI"):
            pytest.fail(f"{missing}: .ci/run installs them, so CI must not skip the browser test")
        pytest.skip(missing)
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    options = Options()
    options.binary_location = str(CHROMIUM)
    for flag in (*FLAGS, f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    try:
        yield driver
    finally:
        driver.quit()


def _wait_for_text(driver, *texts: str, timeout: float = PAGE_TIMEOUT_S) -> str:
    deadline = time.monotonic() + timeout
    body = ""
    while time.monotonic() < deadline:
        body = driver.find_element("tag name", "body").text
        if all(text in body for text in texts):
            return body
        time.sleep(1)
    raise AssertionError(f"page never showed {texts}; it shows: {body[:1500]}")


def test_table04_asset_page_shows_n_and_the_synthetic_flag(browser, webserver, pipeline_run):
    port, _ = webserver
    browser.get(f"http://127.0.0.1:{port}/assets/results/table04")
    body = _wait_for_text(browser, "headline", "synthetic")
    browser.save_screenshot(str(SCREENSHOTS / "table04_asset.png"))
    assert "Join the Dagster community" not in body  # nux disabled in the instance's dagster.yaml
    metadata = {}
    for row in browser.find_elements("css selector", "tr"):
        cells = [cell.get_attribute("textContent").strip() for cell in row.find_elements("css selector", "td")]
        if len(cells) >= 2:
            metadata[cells[0]] = cells[-1]  # key, timestamp, value
    with duckdb.connect(str(pipeline_run.warehouse), read_only=True) as conn:
        nobs = conn.execute("select value from results.model_stats where table_id = 'table04' "
                            "and column_id = '(3)' and stat = 'nobs'").fetchone()[0]
    assert metadata["N"].replace(",", "") == str(int(nobs))
    assert metadata["synthetic"].lower() == "true"
    assert metadata["headline"].startswith("ai in (3): ")


def test_replication_report_renders_its_summary(browser, pipeline_run):
    page = pipeline_run.reports_dir / "replication.html"
    browser.get(page.as_uri())
    summary = [item.text for item in browser.find_elements("css selector", "#summary li")]
    browser.save_screenshot(str(SCREENSHOTS / "replication_report.png"))
    assert summary[0].startswith("Table 1.") and summary[-1].startswith("all tables:")
    assert "SYNTHETIC DATA" in browser.find_element("css selector", ".banner").text
    images = browser.find_elements("css selector", "#figures img")
    assert len(images) == 2 and all(browser.execute_script("return arguments[0].naturalWidth", i) > 0 for i in images)


def test_a_report_asset_materializes_from_a_click(browser, webserver):
    port, _ = webserver
    runs_query = '{ runsOrError(filter: {statuses: [SUCCESS, FAILURE, STARTED, QUEUED, STARTING]}) ' \
                 '{ ... on Runs { results { runId status assetSelection { path } } } } }'

    def report_runs() -> list[dict]:
        results = graphql(port, runs_query)["runsOrError"]["results"]
        return [r for r in results if {"path": ["reports", "table01"]} in (r["assetSelection"] or [])]

    before = {r["runId"] for r in report_runs()}
    browser.get(f"http://127.0.0.1:{port}/assets/reports/table01")
    _wait_for_text(browser, "Materialize")
    button = next(b for b in browser.find_elements("css selector", "button") if b.text.strip() == "Materialize")
    button.click()
    deadline = time.monotonic() + RUN_TIMEOUT_S
    launched = []
    while time.monotonic() < deadline:
        launched = [r for r in report_runs() if r["runId"] not in before]
        if launched and launched[0]["status"] in ("SUCCESS", "FAILURE"):
            break
        time.sleep(2)
    browser.save_screenshot(str(SCREENSHOTS / "table01_materialized.png"))
    assert launched, "clicking Materialize launched no run"
    assert launched[0]["status"] == "SUCCESS", json.dumps(launched[0])
