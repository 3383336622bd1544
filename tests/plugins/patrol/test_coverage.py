"""Coverage per checkpoint and grid cell, and the gap alert once per gap."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from core import clock
from core.jobs import run_due_jobs
from core.models import Notification
from plugins.patrol.models import CoverageAlert
from tests.plugins.patrol.conftest import T0

MIN = dt.timedelta(minutes=1)
HOUR = dt.timedelta(hours=1)


def patrol_at(scene, visits, mock=()):
    """A patrol scanning (checkpoint index, minutes after T0) in order, then finishing."""
    patrol = scene.start()
    for index, minutes in visits:
        clock.freeze(T0 + minutes * MIN)
        answer = scene.scan(patrol["id"], index, is_mock=index in mock)
        assert answer.status_code == 201, answer.json
    assert scene.finish(patrol["id"]).status_code == 200


def alerts(scene):
    rows = scene.session.execute(sa.select(CoverageAlert.grid_group_id, CoverageAlert.gap_since)
                                 .order_by(CoverageAlert.id)).all()
    return [(scene.grid_ids.index(gid) + 1, since - T0) for gid, since in rows]


def told(scene):
    return scene.session.scalars(sa.select(Notification.params).where(
        Notification.code == "patrol.coverage_gap").order_by(Notification.id)).all()


def run_job_at(deployment, at):
    clock.freeze(at)
    ran = run_due_jobs(deployment, at)
    assert any(name == "patrol.coverage_gaps" for name, _ in ran)


def test_coverage_per_checkpoint_and_grid_cell(scene, world):
    patrol_at(scene, [(0, 1), (1, 4), (2, 7), (3, 10)], mock=(2,))
    clock.freeze(T0 + 5 * HOUR)
    patrol_at(scene, [(4, 301), (3, 304)])
    clock.freeze(T0 + 7 * HOUR)
    answer = scene.get("/coverage", query_string={"since": T0.isoformat(),
                                                  "until": (T0 + 6 * HOUR).isoformat()})
    assert answer.status_code == 200, answer.json
    points = {c["name"]: c for c in answer.json["checkpoints"]}

    def view(entry):
        last = entry["last_visit"]
        return (entry["visits"], entry["flagged_visits"],
                None if last is None else dt.datetime.fromisoformat(last) - T0,
                entry["longest_gap_s"])

    assert view(points["Point 1"]) == (1, 0, 1 * MIN, (6 * 60 - 1) * 60)
    assert view(points["Point 2"]) == (1, 0, 4 * MIN, (6 * 60 - 4) * 60)
    assert view(points["Point 3"]) == (0, 1, None, 6 * 3600)  # a mock-location visit is no visit
    assert view(points["Point 4"]) == (2, 0, 304 * MIN, (304 - 10) * 60)
    assert view(points["Point 5"]) == (1, 0, 301 * MIN, 301 * 60)
    cells = {c["name"]: c for c in answer.json["grid_cells"]}
    assert view(cells["Grid 1"]) == (2, 0, 4 * MIN, (6 * 60 - 4) * 60)
    assert view(cells["Grid 2"]) == (2, 1, 304 * MIN, (304 - 10) * 60)
    assert view(cells["Grid 3"]) == (1, 0, 301 * MIN, 301 * 60)
    assert cells["Grid 1"]["checkpoint_ids"] == [scene.tags[0].id, scene.tags[1].id]

    # The default range is the last 24 hours; officers and partners read it, volunteers do not.
    partner = world.person("Property security lead", station=scene.station, roles=["partner"])
    assert scene.get("/coverage", partner).json["until"] == (T0 + 7 * HOUR).isoformat()
    assert scene.get("/coverage", scene.walker).status_code == 403
    too_long = scene.get("/coverage", query_string={"since": (T0 - 40 * 24 * HOUR).isoformat()})
    assert too_long.status_code == 422 and too_long.json["code"] == "range_invalid"


def test_the_gap_alert_fires_once_per_gap(scene, deployment):
    patrol_at(scene, [(0, 1), (1, 4), (2, 7), (3, 10)])  # grid 3 (checkpoint 5) is never visited
    run_job_at(deployment, T0 + 3 * HOUR)
    assert alerts(scene) == []
    run_job_at(deployment, T0 + 4 * HOUR + 2 * MIN)
    assert alerts(scene) == [(3, dt.timedelta(0))]  # unvisited since its checkpoint was placed
    run_job_at(deployment, T0 + 4 * HOUR + 12 * MIN)
    assert alerts(scene) == [(3, dt.timedelta(0)), (1, 4 * MIN), (2, 10 * MIN)]
    run_job_at(deployment, T0 + 4 * HOUR + 22 * MIN)
    run_job_at(deployment, T0 + 4 * HOUR + 32 * MIN)
    assert len(alerts(scene)) == 3  # still the same gaps: no second alert

    clock.freeze(T0 + 5 * HOUR)
    patrol_at(scene, [(4, 301), (3, 304)])
    run_job_at(deployment, T0 + 9 * HOUR)
    assert len(alerts(scene)) == 3
    run_job_at(deployment, T0 + 9 * HOUR + 12 * MIN)
    assert alerts(scene)[3:] == [(2, 304 * MIN), (3, 301 * MIN)]  # new gaps, new alerts

    messages = told(scene)
    assert len(messages) == 5
    assert messages[0]["grid"] == "Grid 3" and messages[0]["hours"] == 4.0
    recipients = set(scene.session.scalars(sa.select(Notification.user_id).where(
        Notification.code == "patrol.coverage_gap")))
    assert recipients == {scene.officer.id}


def test_a_station_without_patrol_is_skipped_by_the_job(scene, deployment, world, session):
    from core.models import StationPlugin

    row = session.scalar(sa.select(StationPlugin).where(StationPlugin.station_id == scene.station.id))
    row.enabled = False
    session.commit()
    ran = run_due_jobs(deployment, T0 + 5 * HOUR)
    assert not [r for r in ran if r[0] == "patrol.coverage_gaps"]
    assert alerts(scene) == []
