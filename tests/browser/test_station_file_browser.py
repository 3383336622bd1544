"""The station file in a real browser: upload an edited export and read its one change."""

from __future__ import annotations

import tempfile
import tomllib
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait

from tests.browser.test_console_browser import _press, _sign_in

pytestmark = pytest.mark.browser


def test_an_edited_station_file_plans_its_one_change(browser, live_server, shoot):
    _sign_in(browser, live_server)
    browser.get(f"{live_server}/console/demo/station-file")
    assert browser.find_element(By.TAG_NAME, "h2").text == "站点配置文件"
    # The export as the download link gives it (the browser's own cookies).
    text = browser.execute_async_script(
        "const done = arguments[0];"
        "fetch(document.getElementById('export').href).then(r => r.text()).then(done);")
    old = tomllib.loads(text)["station"]["name"]
    edited = text.replace(f'name = "{old}"', 'name = "幸福里派出所"', 1)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "demo.station.toml"
        path.write_text(edited, encoding="utf-8")
        browser.find_element(By.ID, "sf-file").send_keys(str(path))
        _press(browser, By.ID, "make-plan")
    WebDriverWait(browser, 15).until(
        expected_conditions.presence_of_element_located((By.ID, "plan-changes")))
    rows = browser.find_elements(By.CSS_SELECTOR, "#plan-changes tbody tr")
    assert len(rows) == 1
    assert "station" in rows[0].text and "幸福里派出所" in rows[0].text and old in rows[0].text
    assert "修改 1 项" in browser.find_element(By.ID, "plan-summary").text
    assert browser.find_element(By.ID, "apply").is_displayed()
    shoot("station-file-plan")
    # nothing changed by the plan: the station keeps its name
    browser.get(f"{live_server}/console/demo/station-file")
    again = browser.execute_async_script(
        "const done = arguments[0];"
        "fetch(document.getElementById('export').href).then(r => r.text()).then(done);")
    assert tomllib.loads(again)["station"]["name"] == old
