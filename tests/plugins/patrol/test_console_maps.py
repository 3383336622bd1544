"""The console's route map in a deployment whose tiles are drawn in GCJ-02 (AMap, Tianditu):
a checkpoint placed on the map is stored in WGS-84 and drawn back where it was placed."""

from __future__ import annotations

import json
import re

from core import datum
from tests.fixtures.console import post

PLACED = (30.27800, 120.16400)  # where the officer clicked, on GCJ-02 tiles


def test_a_checkpoint_placed_on_gcj02_tiles_is_stored_in_wgs84(world, console, client, app,
                                                                 monkeypatch):
    monkeypatch.setitem(app.config, "MAP_TILE_DATUM", "gcj02")
    monkeypatch.setitem(app.config, "MAP_TILE_URL", "http://tiles.invalid/{z}/{x}/{y}.png")
    east = world.station("east", plugins=("patrol",))
    officer = world.person("Officer Li", station=east, roles=["officer"])
    browser = console(officer.phone)
    routes = "/console/east/patrol/routes"
    made = post(browser, routes, {"name": "North round"}, page=routes)
    route_url = made.headers["Location"]
    answer = post(browser, f"{route_url}/checkpoints",
                  {"name": "Gate", "lat": str(PLACED[0]), "lon": str(PLACED[1])}, page=route_url)
    assert answer.status_code == 303

    route_id = route_url.rstrip("/").rsplit("/", 1)[1]
    stored = client.get(f"/api/v1/stations/east/patrol/routes/{route_id}?crs=wgs84",
                        headers=officer.headers).json["checkpoints"][0]
    expected = datum.to_wgs84("gcj02", *PLACED)
    assert abs(stored["lat"] - expected[0]) < 1e-6 and abs(stored["lon"] - expected[1]) < 1e-6
    page = browser.get(route_url).get_data(as_text=True)
    points = json.loads(re.search(r"data-points='([^']*)'", page).group(1))
    assert abs(points[0]["lat"] - PLACED[0]) < 1e-5 and abs(points[0]["lon"] - PLACED[1]) < 1e-5
    assert 'data-tiles="http://tiles.invalid/{z}/{x}/{y}.png"' in page
