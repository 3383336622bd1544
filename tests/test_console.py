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
    answer = client.post(f"/console/{station.code}/groups", data={"kind": "grid", "name": "A1"})
    assert answer.status_code == 400
    assert "A1" not in client.get(f"/console/{station.code}/groups").get_data(as_text=True)


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
