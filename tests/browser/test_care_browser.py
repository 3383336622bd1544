"""Care visits in a real browser: the demo's care officer accepts one flagged visit and rejects
another with a reason. The test makes its own recipients and visits through the API, and signs
out at the end, so the other browser tests find the demo as they left it."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
import requests
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait

from core import demo

pytestmark = pytest.mark.browser

OFFICER = next(phone for key, phone, _n, _r in demo.PEOPLE if key == "officer")
VOLUNTEER = next(phone for key, phone, _n, _r in demo.PEOPLE if key == "volunteer1")
HOME = (30.2650, 120.1700)
# 190 m north of the home with a 50 m fix: let in, but outside the home's circle.
FAR = (HOME[0] + 190 / 111_195.0, HOME[1])


class Api:
    """The demo station's API as one of its people."""

    def __init__(self, live_server: str, phone: str) -> None:
        self.base = f"{live_server}/api/v1"
        answer = requests.post(f"{self.base}/auth/token", timeout=10, json={
            "grant_type": "password", "phone": phone, "password": demo.DEMO_PASSWORD})
        assert answer.status_code == 200, answer.text
        self.headers = {"Authorization": f"Bearer {answer.json()['access_token']}"}

    def call(self, method: str, path: str, body: dict | None = None) -> dict:
        answer = requests.request(method, f"{self.base}{path}", json=body, timeout=10,
                                  headers=self.headers)
        assert answer.status_code in (200, 201), (path, answer.text)
        return answer.json()


def _flagged_visit(officer: Api, volunteer: Api, volunteer_id: int, name: str) -> int:
    """A recipient of this test's own, and a visit made far from the home in a minute."""
    care = "/stations/demo/care-visits"
    recipient = officer.call("POST", f"{care}/recipients", {
        "name": name, "address": "示范社区 测试楼 1 室", "lat": HOME[0], "lon": HOME[1],
        "crs": "wgs84", "categories": ["elderly_alone"], "named_visitor_ids": [volunteer_id],
        "consent": {"basis": "consent", "scope": ["visits"], "version": "browser-test"}})
    now = dt.datetime.now(dt.UTC)
    visit = officer.call("POST", f"{care}/visits", {
        "recipient_id": recipient["id"], "starts_at": (now - dt.timedelta(minutes=5)).isoformat(),
        "ends_at": (now + dt.timedelta(hours=2)).isoformat(), "visitor_ids": [volunteer_id]})
    for kind, (lat, lon) in (("in", FAR), ("out", HOME)):
        volunteer.call("POST", f"/stations/demo/tasks/{visit['task_id']}/checkins", {
            "kind": kind, "lat": lat, "lon": lon, "crs": "wgs84", "accuracy_m": 50,
            "device_time": dt.datetime.now(dt.UTC).isoformat(), "client_id": uuid.uuid4().hex})
    shown = officer.call("GET", f"{care}/visits/{visit['id']}")
    assert shown["review"] == "pending", shown["flags"]
    return int(visit["id"])


def _sign_in_as_officer(browser, live_server):
    browser.get(f"{live_server}/console/sign-in")
    if "/sign-in" not in browser.current_url:  # another test's person: sign them out
        browser.find_element(By.CSS_SELECTOR, "header form button").click()
        browser.get(f"{live_server}/console/sign-in")
    browser.find_element(By.ID, "phone").send_keys(OFFICER)
    browser.find_element(By.ID, "password").send_keys(demo.DEMO_PASSWORD)
    button = browser.find_element(By.CSS_SELECTOR, "#password-form button")
    button.click()
    WebDriverWait(browser, 15).until(expected_conditions.staleness_of(button))


def _decide(browser, visit_id: int, button: str, note: str = "") -> None:
    section = browser.find_element(By.ID, f"visit-{visit_id}")
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", section)
    if note:
        section.find_element(By.NAME, "note").send_keys(note)
    pressed = section.find_element(By.CSS_SELECTOR, f"button[name={button}]")
    browser.execute_script("arguments[0].click()", pressed)
    WebDriverWait(browser, 15).until(expected_conditions.staleness_of(pressed))


def test_a_care_officer_accepts_one_visit_and_rejects_another_with_a_reason(
        browser, live_server, shoot):
    officer, volunteer = Api(live_server, OFFICER), Api(live_server, VOLUNTEER)
    volunteer_id = volunteer.call("GET", "/me")["id"]
    kept = _flagged_visit(officer, volunteer, volunteer_id, "浏览器测试 接受 Browser Accept")
    refused = _flagged_visit(officer, volunteer, volunteer_id, "浏览器测试 驳回 Browser Reject")
    _sign_in_as_officer(browser, live_server)
    try:
        browser.get(f"{live_server}/console/demo/care-visits/reviews")
        section = browser.find_element(By.ID, f"visit-{kept}")
        assert "距离住址过远" in section.text and "时间过短" in section.text
        assert "志愿者 张红" in section.text
        shoot("care-review")

        _decide(browser, kept, "accept")
        assert str(kept) in browser.find_element(By.ID, "review-done").text
        _decide(browser, refused, "reject", note="家中无人 Nobody was home")
        assert str(refused) in browser.find_element(By.ID, "review-done").text
        assert not browser.find_elements(By.ID, f"visit-{kept}")
        assert not browser.find_elements(By.ID, f"visit-{refused}")
        shoot("care-reviewed")
    finally:
        browser.get(f"{live_server}/console/demo/care-visits/reviews")
        browser.find_element(By.CSS_SELECTOR, "header form button").click()

    care = "/stations/demo/care-visits"
    accepted = officer.call("GET", f"{care}/visits/{kept}")
    rejected = officer.call("GET", f"{care}/visits/{refused}")
    assert accepted["review"] == "accepted"
    assert rejected["review"] == "rejected"
    entries = volunteer.call("GET", "/stations/demo/points/entries?page_size=100")
    paid = [e for e in entries if e.get("event_code") == "care_visits.visit_completed"]
    assert len(paid) == 1  # the accepted visit pays, the rejected one never does
