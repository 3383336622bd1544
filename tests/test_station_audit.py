"""A station's own events (its settings, task rules, plugin switches) are in its audit list."""

from __future__ import annotations

import sqlalchemy as sa

from core.models import AuditEvent


def test_station_settings_and_plugin_switches_reach_the_station_audit_list(client, world,
                                                                           session):
    station = world.station("east")
    admin = world.person("admin", station=station, roles=["admin"])
    renamed = client.patch("/api/v1/stations/east", headers=admin.headers,
                           json={"name": "East Road"})
    assert renamed.status_code == 200, renamed.json
    mock_off = client.put("/api/v1/stations/east/task-settings", headers=admin.headers,
                          json={"refuse_mock_locations": False})
    assert mock_off.status_code == 200, mock_off.json
    switched = client.put("/api/v1/stations/east/plugins/patrol", headers=admin.headers,
                          json={"enabled": True})
    assert switched.status_code == 200, switched.json

    listed = client.get("/api/v1/stations/east/audit", headers=admin.headers)
    assert listed.status_code == 200
    actions = {e["action"]: e for e in listed.json}
    assert {"station.created", "station.updated", "station.task_settings_changed",
            "plugin.switched_on"} <= set(actions)
    assert actions["station.updated"]["details"]["fields"] == ["name"]
    assert actions["station.task_settings_changed"]["details"]["after"][
        "refuse_mock_locations"] is False
    # Nothing the station did is left without a station.
    assert session.scalar(sa.select(sa.func.count()).select_from(AuditEvent).where(
        AuditEvent.station_id.is_(None), AuditEvent.action.like("station.%"))) == 0
