"""The console in a real browser: sign in, switch a plugin off and on, place a patrol route's
checkpoints on the map, print its tags, read the coverage heat map, and a settings form that
shows a bad value's error at its field."""

from __future__ import annotations

import pytest
from selenium.common.exceptions import ElementClickInterceptedException, TimeoutException
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait

from core import demo

pytestmark = pytest.mark.browser

ADMIN = next(phone for key, phone, _n, _r in demo.PEOPLE if key == "admin")


def _sign_in(browser, live_server):
    browser.get(f"{live_server}/console/sign-in")
    if "/sign-in" not in browser.current_url:
        return
    browser.find_element(By.ID, "phone").send_keys(ADMIN)
    browser.find_element(By.ID, "password").send_keys(demo.DEMO_PASSWORD)
    _press(browser, By.CSS_SELECTOR, "#password-form button")


def _press(browser, by, what, *, navigates=True):
    """Click a control as a person would: scrolled into view first."""
    element = browser.find_element(by, what)
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", element)
    try:
        element.click()
    except ElementClickInterceptedException:  # a sticky part of the page lies over it
        browser.execute_script("arguments[0].click()", element)
    if navigates:  # a form sent: wait for the next page before looking at anything
        WebDriverWait(browser, 15).until(expected_conditions.staleness_of(element))


def _nav(browser):
    return [a.text for a in browser.find_elements(By.CSS_SELECTOR, "nav.console a")]


def test_01_sign_in_lands_on_the_dashboard(browser, live_server, shoot):
    browser.get(f"{live_server}/console/sign-in")
    shoot("sign-in")
    _sign_in(browser, live_server)
    assert browser.current_url.endswith("/console/demo/dashboard")
    assert browser.find_element(By.ID, "short-of-people").text
    assert browser.find_elements(By.CSS_SELECTOR, "svg.chart")
    assert "巡逻路线" in _nav(browser)
    shoot("dashboard")
    for page in ("members", "tasks", "points", "groups"):
        browser.get(f"{live_server}/console/demo/{page}")
        assert browser.find_element(By.TAG_NAME, "h2").text
        shoot(page)


def test_01b_pages_fit_a_tablet(browser, live_server, shoot):
    _sign_in(browser, live_server)
    browser.set_window_size(820, 1180)
    try:
        for page in ("dashboard", "members", "tasks?view=week", "patrol/routes"):
            browser.get(f"{live_server}/console/demo/{page}")
            wide = browser.execute_script(
                "return document.documentElement.scrollWidth - window.innerWidth")
            assert wide <= 0, f"{page} scrolls sideways by {wide}px on a tablet"
        browser.get(f"{live_server}/console/demo/dashboard")
        shoot("dashboard-tablet")
    finally:
        browser.set_window_size(1280, 1000)


def test_02_switching_a_plugin_off_takes_its_pages_away(browser, live_server, shoot):
    _sign_in(browser, live_server)
    browser.get(f"{live_server}/console/demo/plugins")
    _press(browser, By.ID, "switch-patrol")
    assert "巡逻路线" not in _nav(browser)
    browser.get(f"{live_server}/console/demo/patrol/routes")
    assert "404" in browser.find_element(By.TAG_NAME, "h2").text
    browser.get(f"{live_server}/console/demo/plugins")
    shoot("plugins")
    _press(browser, By.ID, "switch-patrol")
    assert "巡逻路线" in _nav(browser)


def _click_map(browser, x, y):
    """Click the route's map until it places the point: the map's script may still be setting
    up, and the sticky navigation (longer with every plugin's pages) may lie over a first try."""
    for _attempt in range(4):
        the_map = browser.find_element(By.ID, "route-map")
        browser.execute_script("arguments[0].scrollIntoView({block: 'end'})", the_map)
        ActionChains(browser).move_to_element_with_offset(the_map, x, y).click().perform()
        try:
            WebDriverWait(browser, 3).until(
                lambda b: b.find_element(By.ID, "cp-lat").get_attribute("value"))
            return
        except TimeoutException:
            continue
    raise AssertionError("clicking the map never placed a checkpoint")


def test_03_a_route_is_made_by_placing_checkpoints_on_the_map(browser, live_server, shoot):
    _sign_in(browser, live_server)
    browser.get(f"{live_server}/console/demo/patrol/routes")
    browser.find_element(By.ID, "route-name").send_keys("浏览器测试路线 Browser round")
    _press(browser, By.CSS_SELECTOR, "#new-route button")
    assert browser.find_element(By.TAG_NAME, "h2").text == "浏览器测试路线 Browser round"
    for name, (x, y) in (("北门 North gate", (-120, -60)), ("花园 Garden", (80, 40))):
        _click_map(browser, x, y)
        browser.find_element(By.ID, "cp-name").send_keys(name)
        _press(browser, By.CSS_SELECTOR, "#add-checkpoint button")
    rows = browser.find_elements(By.CSS_SELECTOR, "#checkpoints tbody tr")
    assert [r.find_elements(By.TAG_NAME, "td")[1].text for r in rows] == [
        "北门 North gate", "花园 Garden"]
    assert len(browser.find_elements(By.CSS_SELECTOR, "#route-map .leaflet-interactive")) >= 2
    browser.execute_script("window.scrollTo(0, 0)")
    shoot("patrol-route")

    _press(browser, By.ID, "tag-sheet-link")
    tags = browser.find_elements(By.CSS_SELECTOR, "#tags .tag")
    assert len(tags) == 2 and "北门 North gate" in tags[0].text
    assert tags[0].find_element(By.CSS_SELECTOR, "svg path").is_displayed()  # the QR code
    shoot("patrol-tags")


def test_04_the_coverage_heat_map(browser, live_server, shoot):
    _sign_in(browser, live_server)
    browser.get(f"{live_server}/console/demo/patrol/coverage?days=7")
    cells = browser.find_elements(By.CSS_SELECTOR, "#heat-map svg rect")
    assert len(cells) >= 24
    shoot("patrol-coverage")
    browser.get(f"{live_server}/console/demo/patrol/incidents")
    shoot("patrol-incidents")


def test_05_bad_settings_input_shows_the_error_at_the_field(browser, live_server, shoot):
    _sign_in(browser, live_server)
    browser.get(f"{live_server}/console/demo/plugins")
    _press(browser, By.CSS_SELECTOR, "#plugin-patrol summary", navigates=False)
    speed = browser.find_element(By.ID, "s-patrol-max_speed_kmh")
    speed.clear()
    speed.send_keys("900")
    _press(browser, By.CSS_SELECTOR, "#settings-patrol button")
    error = browser.find_element(By.ID, "e-patrol-max_speed_kmh")
    assert error.is_displayed() and error.text
    field = browser.find_element(By.ID, "s-patrol-max_speed_kmh")
    assert field.get_attribute("aria-invalid") == "true"
    assert browser.find_element(By.ID, "page-error").text == "部分设置无效。"
    browser.execute_script("arguments[0].scrollIntoView()", field)
    shoot("plugin-settings-error")
