"""The station console: signing in, the session cookie, CSRF, and the core pages' contents."""

from __future__ import annotations

import datetime as dt

from core import clock
from tests.fixtures.console import post


def _admin(world, station, name="Admin Wang"):
    return world.person(name, station=station, roles=["admin", "officer"])


def test_sign_in_sets_a_session_cookie_that_scripts_cannot_read(world, console):
    station = world.station("east")
    admin = _admin(world, station)
    client = console()
    answer = post(client, "/console/sign-in", {"phone": admin.phone, "password": "correct horse"})
    assert answer.status_code == 303
    cookie = answer.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert client.get(answer.headers["Location"]).status_code in (200, 302)


def test_a_wrong_password_is_refused_with_the_apis_text(world, console, client):
    station = world.station("east")
    admin = _admin(world, station)
    page = post(console(), "/console/sign-in", {"phone": admin.phone, "password": "nope"})
    api = client.post("/api/v1/auth/token", json={"grant_type": "password", "phone": admin.phone,
                                                  "password": "nope"},
                      headers={"Accept-Language": "zh-CN"})
    assert page.status_code == 422
    assert api.json["message"] in page.get_data(as_text=True)


def test_a_post_without_its_csrf_token_is_refused(world, console):
    station = world.station("east")
    admin = _admin(world, station)
    client = console(admin.phone)
    answer = client.post(f"/console/{station.code}/groups",
                         data={"kind": "grid", "name": "Cell without a token"})
    assert answer.status_code == 400
    assert "Cell without a token" not in client.get(f"/console/{station.code}/groups").get_data(
        as_text=True)


def test_the_api_still_takes_bearer_tokens_without_a_csrf_token(world, client):
    station = world.station("east")
    admin = _admin(world, station)
    answer = client.post(f"/api/v1/stations/{station.code}/groups", headers=admin.headers,
                         json={"kind": "grid", "name": "A1"})
    assert answer.status_code == 201


def test_pages_need_signing_in(world, console):
    station = world.station("east")
    answer = console().get(f"/console/{station.code}/members")
    assert answer.status_code == 302 and "/console/sign-in" in answer.headers["Location"]


def test_idle_sessions_end(world, console):
    station = world.station("east")
    admin = _admin(world, station)
    client = console(admin.phone)
    assert client.get(f"/console/{station.code}/members").status_code == 200
    clock.freeze(clock.now() + dt.timedelta(minutes=31))
    answer = client.get(f"/console/{station.code}/members")
    assert answer.status_code == 302 and "/console/sign-in" in answer.headers["Location"]


def test_sign_out_ends_the_session(world, console):
    station = world.station("east")
    admin = _admin(world, station)
    client = console(admin.phone)
    answer = post(client, "/console/sign-out", page=f"/console/{station.code}/members")
    assert answer.status_code == 303
    assert client.get(f"/console/{station.code}/members").status_code == 302


def test_members_page_shows_seats_and_pending_ones(world, console):
    station = world.station("east")
    admin = _admin(world, station)
    world.person("Volunteer Zhang", station=station, roles=["volunteer"])
    client = console(admin.phone)
    page = post(client, f"/console/{station.code}/members", {"phone": "+8613912345678",
                                                             "roles": ["volunteer"]},
                page=f"/console/{station.code}/members")
    assert page.status_code == 303
    text = client.get(f"/console/{station.code}/members").get_data(as_text=True)
    assert "Volunteer Zhang" in text and "+8613912345678" in text and "待认领" in text


def test_a_change_in_the_console_is_what_the_api_reads_back(world, console, client):
    station = world.station("east")
    admin = _admin(world, station)
    browser = console(admin.phone)
    answer = post(browser, f"/console/{station.code}/groups",
                  {"kind": "grid", "name": "Cell A1", "polygon": "30.1,120.1; 30.2,120.1; 30.2,120.2"},
                  page=f"/console/{station.code}/groups")
    assert answer.status_code == 303
    groups = client.get(f"/api/v1/stations/{station.code}/groups", headers=admin.headers).json
    assert [(g["name"], g["polygon"][0]) for g in groups] == [("Cell A1", [30.1, 120.1])]


def test_a_task_created_in_the_console_takes_sign_ups_and_a_waitlist(world, console, client):
    station = world.station("east")
    admin = _admin(world, station)
    first = world.person("Volunteer Zhang", station=station, roles=["volunteer"])
    second = world.person("Volunteer Chen", station=station, roles=["volunteer"])
    browser = console(admin.phone)
    tasks = f"/console/{station.code}/tasks"
    created = post(browser, tasks, {"title": "Night round", "kind": "general",
                                    "starts_at": "2030-01-07T20:00", "ends_at": "2030-01-07T22:00",
                                    "capacity": "1", "waitlist": "1"}, page=tasks)
    assert created.status_code == 303
    task_url = created.headers["Location"]
    task_id = int(task_url.rstrip("/").rsplit("/", 1)[1])
    for person in (first, second):
        assert post(browser, task_url, {"user_id": str(person.id)}, page=task_url).status_code == 303
    page = browser.get(task_url).get_data(as_text=True)
    assert "Volunteer Zhang" in page and "Volunteer Chen" in page and "waitlisted" in page
    api = client.get(f"/api/v1/stations/{station.code}/tasks/{task_id}/signups",
                     headers=admin.headers).json
    assert [(row["display_name"], row["status"]) for row in api] == [
        ("Volunteer Zhang", "signed_up"), ("Volunteer Chen", "waitlisted")]
    week = browser.get(f"{tasks}?week=2030-01-07&view=week").get_data(as_text=True)
    assert "20:00 Night round (1/1)" in week


def test_a_task_the_rules_refuse_shows_the_apis_words_at_its_fields(world, console, client):
    station = world.station("east")
    admin = _admin(world, station)
    browser = console(admin.phone)
    tasks = f"/console/{station.code}/tasks"
    refused = post(browser, tasks, {"title": "", "starts_at": "2030-01-07T20:00",
                                    "ends_at": "2030-01-07T22:00", "capacity": "0"}, page=tasks)
    api = client.post(f"/api/v1/stations/{station.code}/tasks", headers=admin.headers,
                      json={"title": "", "starts_at": "2030-01-07T12:00:00Z",
                            "ends_at": "2030-01-07T14:00:00Z", "capacity": 0})
    assert refused.status_code == 422 == api.status_code
    text = refused.get_data(as_text=True)
    assert api.json["message"] in text
    assert api.json["details"]["fields"]["json"]["capacity"][0] in text


def test_points_adjusted_in_the_console_are_in_the_ledger_and_the_apis_balance(
        world, console, client):
    station = world.station("east")
    admin = _admin(world, station)
    volunteer = world.person("Volunteer Zhang", station=station, roles=["volunteer"])
    browser = console(admin.phone)
    points = f"/console/{station.code}/points"
    answer = post(browser, points, {"user_id": str(volunteer.id), "amount": "15",
                                    "reason": "helped at the fair"}, page=points)
    assert answer.status_code == 303
    ledger = browser.get(f"{points}/people/{volunteer.id}").get_data(as_text=True)
    assert "helped at the fair" in ledger and 'id="balance">15<' in ledger
    balance = client.get(f"/api/v1/stations/{station.code}/points/balance?user_id={volunteer.id}",
                         headers=admin.headers).json
    assert balance["balance"] == 15
    board = browser.get(f"{points}?period=week").get_data(as_text=True)
    assert "Volunteer Zhang" in board
    own = post(browser, points, {"user_id": str(admin.id), "amount": "5", "reason": "me"},
               page=points)
    assert own.status_code == 403  # nobody adjusts their own points, as the API says
    assert "不能调整自己的积分" in own.get_data(as_text=True)


def test_the_audit_log_filters_by_action(world, console):
    station = world.station("east")
    admin = _admin(world, station)
    browser = console(admin.phone)
    post(browser, f"/console/{station.code}/groups", {"kind": "grid", "name": "Cell B2"},
         page=f"/console/{station.code}/groups")
    page = browser.get(f"/console/{station.code}/audit?action=group.created").get_data(
        as_text=True)
    assert "<td>group.created</td>" in page and "<td>member.added</td>" not in page
    bad = browser.get(f"/console/{station.code}/audit?actor_id=x")
    assert bad.status_code == 422


def test_english_on_request(world, console):
    station = world.station("east")
    admin = _admin(world, station)
    browser = console(admin.phone)
    browser.get(f"/console/language/en?next=/console/{station.code}/members")
    assert "Add a member by phone" in browser.get(f"/console/{station.code}/members").get_data(
        as_text=True)


def test_sign_in_with_a_texted_code(world, console, outbox):
    station = world.station("east")
    admin = world.person("Admin Wang", station=station, roles=["admin"], verified=True)
    browser = console()
    sent = post(browser, "/console/sign-in/code", {"phone": admin.phone})
    assert sent.status_code == 200 and 'name="code"' in sent.get_data(as_text=True)
    code = outbox.code_for(admin.phone)
    answer = post(browser, "/console/sign-in/code", {"phone": admin.phone, "code": code})
    assert answer.status_code == 303
    assert browser.get(f"/console/{station.code}/members").status_code == 200


def test_sign_in_attempts_count_against_the_apis_limits(world, console, client):
    station = world.station("east")
    admin = _admin(world, station)
    browser = console()
    # 10 a quarter-hour per number: the fixture's own sign-in spent one.
    answers = [post(browser, "/console/sign-in", {"phone": admin.phone, "password": "wrong"})
               for _ in range(9)]
    assert {a.status_code for a in answers} == {422}
    limited = post(browser, "/console/sign-in", {"phone": admin.phone, "password": "correct horse"})
    api = client.post("/api/v1/auth/token", json={"grant_type": "password", "phone": admin.phone,
                                                  "password": "correct horse"})
    assert limited.status_code == 429 == api.status_code  # one budget per number, both doors


def test_people_in_several_stations_pick_one(world, console, client):
    east, west = world.station("east"), world.station("west")
    person = world.person("Officer Li", station=east, roles=["officer"], verified=True)
    west_admin = world.person("West admin", station=west, roles=["admin"])
    seated = client.post(f"/api/v1/stations/{west.code}/members", headers=west_admin.headers,
                         json={"phone": person.phone, "roles": ["officer"]})
    assert seated.status_code == 201, seated.json
    browser = console(person.phone)
    picker = browser.get("/console/").get_data(as_text=True)
    assert "east station" in picker and "west station" in picker
    assert browser.get("/console/west/").headers["Location"].endswith("/console/west/dashboard")


def test_points_rules_set_in_the_console_are_the_apis(world, console, client):
    station = world.station("east")
    admin = _admin(world, station)
    browser = console(admin.phone)
    points = f"/console/{station.code}/points"
    answer = post(browser, points, {"rule:core.task_completed": "7"}, page=points)
    assert answer.status_code == 303
    rules = client.get(f"/api/v1/stations/{station.code}/points/rules", headers=admin.headers)
    amounts = {r["event_code"]: r["amount"] for r in rules.json["rules"]}
    assert amounts["core.task_completed"] == 7
