"""The crossing guard's shift board in a real browser: a post under its minimum stands out, by
a mark in words as well as by colour, and the board moves on by two weeks. Reads only."""

from __future__ import annotations

import pytest
from selenium.webdriver.common.by import By

from tests.browser.test_console_browser import _press, _sign_in

pytestmark = pytest.mark.browser


def test_a_post_under_its_minimum_stands_out_on_the_shift_board(browser, live_server, shoot):
    _sign_in(browser, live_server)
    browser.get(f"{live_server}/console/demo/crossing-guard/board")
    assert browser.find_element(By.TAG_NAME, "h2").text == "护学排班"
    # The demo's ring road crossing needs two guards; one volunteer holds its first shifts.
    short = browser.find_elements(By.CSS_SELECTOR, "tr .shift.under-minimum")
    assert short, "no shift under its minimum on the demo's board"
    row = short[0].find_element(By.XPATH, "ancestor::tr")
    marked = [box for box in row.find_elements(By.CSS_SELECTOR, ".shift.under-minimum")
              if "志愿者" in box.text]
    assert "环城北路路口 Ring road crossing" in row.find_element(By.TAG_NAME, "th").text
    assert marked and "低于最少人数" in marked[0].text and "1 / 2–4" in marked[0].text
    border = marked[0].value_of_css_property("border-top-color")
    plain = browser.find_elements(By.CSS_SELECTOR, ".shift:not(.under-minimum)")
    assert plain and plain[0].value_of_css_property("border-top-color") != border
    assert "低于最少人数" not in plain[0].text
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", marked[0])
    shoot("crossing-board")

    first = browser.find_element(By.CSS_SELECTOR, ".pager strong").text
    _press(browser, By.ID, "board-later")
    assert browser.find_element(By.CSS_SELECTOR, ".pager strong").text != first
    assert "from=" in browser.current_url


def test_the_board_fits_a_tablet_and_the_schools_sit_on_the_map(browser, live_server, shoot):
    _sign_in(browser, live_server)
    browser.set_window_size(820, 1180)
    try:
        browser.get(f"{live_server}/console/demo/crossing-guard/board")
        wide = browser.execute_script(
            "return document.documentElement.scrollWidth - window.innerWidth")
        assert wide <= 0, f"the board scrolls sideways by {wide}px on a tablet"
    finally:
        browser.set_window_size(1280, 1000)
    browser.get(f"{live_server}/console/demo/crossing-guard/schools")
    labels = [t.text for t in browser.find_elements(By.CSS_SELECTOR, ".leaflet-tooltip")]
    assert "示范小学 Demo Primary School" in labels
    assert "北门 North gate (2–3)" in labels and "环城北路路口 Ring road crossing (2–4)" in labels
    shoot("crossing-schools")
