"""Scans and incidents in the phone's map datum: each batch item says its own crs."""

from __future__ import annotations

import pytest

from core import datum
from core.geofence import distance_m
from tests.plugins.patrol.conftest import offset


def test_a_batch_mixes_datums_item_by_item(scene):
    patrol = scene.start()
    tag = scene.tags[0]
    spot = offset(4, 2, (tag.lat, tag.lon))  # where the walker stands, WGS-84
    amap = datum.from_wgs84("gcj02", *spot)
    said = {**scene.body(0, position=amap), "crs": "gcj02"}
    unsaid = scene.body(1, position=datum.from_wgs84("gcj02", *offset(4, 2, (scene.tags[1].lat,
                                                                             scene.tags[1].lon))))
    answer = scene.post(f"/patrols/{patrol['id']}/scans/batch", json={"scans": [said, unsaid]})
    assert answer.status_code == 200, answer.json
    first, second = answer.json["results"]
    assert first["result"] == "created" and first["scan"]["status"] == "ok"
    assert first["scan"]["crs"] == "wgs84"
    assert distance_m(first["scan"]["lat"], first["scan"]["lon"], *spot) < 1
    assert first["scan"]["distance_m"] == pytest.approx(4.5, abs=1)
    # the one that did not say was taken as WGS-84: hundreds of metres from its checkpoint
    assert second["result"] == "rejected" or second["scan"]["status"] != "ok"

    listed = scene.get(f"/patrols/{patrol['id']}/scans?crs=gcj02", scene.walker).json
    mine = next(s for s in listed if s["id"] == first["scan"]["id"])
    assert mine["crs"] == "gcj02" and distance_m(mine["lat"], mine["lon"], *amap) < 1


def test_an_incident_reported_from_a_baidu_map_is_stored_where_it_happened(scene):
    scene.start()  # volunteers report while on patrol
    where = offset(30, -20)
    baidu = datum.from_wgs84("bd09", *where)
    answer = scene.post("/incidents", json={"category": "hazard", "description": "Loose cover",
                                            "lat": baidu[0], "lon": baidu[1], "crs": "bd09",
                                            "accuracy_m": 9})
    assert answer.status_code == 201, answer.json
    assert distance_m(answer.json["lat"], answer.json["lon"], *where) < 1
    again = scene.get(f"/incidents/{answer.json['id']}?crs=bd09")
    assert distance_m(again.json["lat"], again.json["lon"], *baidu) < 1
