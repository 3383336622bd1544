"""Plugins in the console: a third-party plugin's pages come in by the same hooks as a
built-in's, switching a plugin off takes its pages away, and settings forms judge input."""

from __future__ import annotations

from tests.fixtures.console import console_client, post


def test_a_third_party_plugin_gets_its_page_navigation_and_panel_by_the_hooks(
        world, sample_app, sample_client):
    east = world.station("east", plugins=("sample",))
    admin = world.person("Admin Wang", station=east, roles=["admin", "officer"])
    written = sample_client.post("/api/v1/stations/east/sample/notes", headers=admin.headers,
                                 json={"text": "a note from the app"})
    assert written.status_code == 201
    browser = console_client(sample_app, admin.phone)

    page = browser.get("/console/east/sample/notes")
    assert page.status_code == 200 and "a note from the app" in page.get_data(as_text=True)
    dashboard = browser.get("/console/east/dashboard").get_data(as_text=True)
    assert "/console/east/sample/notes" in dashboard and "notes written: 1" in dashboard

    switched = post(browser, "/console/east/plugins/sample", {"enabled": "off"},
                    page="/console/east/plugins")
    assert switched.status_code == 303
    assert browser.get("/console/east/sample/notes").status_code == 404
    dashboard = browser.get("/console/east/dashboard").get_data(as_text=True)
    assert "/console/east/sample/notes" not in dashboard and "notes written" not in dashboard


def test_switching_patrol_off_in_the_console_takes_its_pages_away_as_the_api_reads(
        world, console, client):
    east = world.station("east", plugins=("patrol",))
    admin = world.person("Admin Wang", station=east, roles=["admin", "officer"])
    browser = console(admin.phone)
    assert browser.get("/console/east/patrol/routes").status_code == 200
    assert "/console/east/patrol/routes" in browser.get("/console/east/dashboard").get_data(
        as_text=True)

    answer = post(browser, "/console/east/plugins/patrol", {"enabled": "off"},
                  page="/console/east/plugins")
    assert answer.status_code == 303
    off = browser.get("/console/east/patrol/routes")
    api = client.get("/api/v1/stations/east/patrol/routes", headers=admin.headers)
    assert off.status_code == 404 == api.status_code
    assert api.json["message"] in off.get_data(as_text=True)  # the same words as the API's
    assert "/console/east/patrol/" not in browser.get("/console/east/dashboard").get_data(
        as_text=True)
    listed = client.get("/api/v1/stations/east/plugins", headers=admin.headers).json
    assert {p["name"]: p["enabled"] for p in listed}["patrol"] is False


def test_bad_settings_input_shows_the_error_at_its_field(world, console, client):
    east = world.station("east", plugins=("patrol",))
    admin = world.person("Admin Wang", station=east, roles=["admin", "officer"])
    browser = console(admin.phone)
    answer = post(browser, "/console/east/plugins/patrol",
                  {"settings": "1", "max_speed_kmh": "900", "code_step_seconds": "30"},
                  page="/console/east/plugins")
    text = answer.get_data(as_text=True)
    api = client.put("/api/v1/stations/east/plugins/patrol", headers=admin.headers,
                     json={"enabled": True, "settings": {"max_speed_kmh": 900}})
    assert answer.status_code == 422 == api.status_code
    assert api.json["message"] in text
    field_error = api.json["details"]["fields"]["max_speed_kmh"][0]
    assert f'id="e-patrol-max_speed_kmh">{field_error}' in text
    assert 'aria-invalid="true" aria-describedby="e-patrol-max_speed_kmh"' in text


def test_good_settings_are_what_the_api_reads_back(world, console, client):
    east = world.station("east", plugins=("patrol",))
    admin = world.person("Admin Wang", station=east, roles=["admin", "officer"])
    browser = console(admin.phone)
    answer = post(browser, "/console/east/plugins/patrol",
                  {"settings": "1", "max_speed_kmh": "40", "allow_static_codes": "1"},
                  page="/console/east/plugins")
    assert answer.status_code == 303
    listed = client.get("/api/v1/stations/east/plugins", headers=admin.headers).json
    patrol = next(p for p in listed if p["name"] == "patrol")
    assert patrol["settings"]["max_speed_kmh"] == 40 and patrol["overridden"] == ["max_speed_kmh"]
