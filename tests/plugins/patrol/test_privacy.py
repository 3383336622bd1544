"""Retention (old scan and incident positions cleared by a job) and erasure of a patroller."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from core import clock
from core.db import Base
from core.jobs import run_due_jobs
from core.models import Notification
from core.storage import default_storage
from plugins.patrol.models import GuessLock, Incident, IncidentPhoto, Patrol, Scan
from tests.plugins.patrol.conftest import T0
from tests.plugins.patrol.test_incidents import png, put_on_duty, report, upload

MIN = dt.timedelta(minutes=1)
DAY = dt.timedelta(days=1)


def walk(scene, at, indexes=(0, 1, 2)):
    """A finished patrol from ``at`` scanning the tags ``indexes``; returns its summary."""
    clock.freeze(at)
    patrol = scene.start()
    for index in indexes:
        clock.advance(2 * MIN)
        answer = scene.scan(patrol["id"], index)
        assert answer.status_code == 201 and answer.json["status"] == "ok", answer.json
    clock.advance(MIN)
    finished = scene.finish(patrol["id"])
    assert finished.status_code == 200, finished.json
    return patrol["id"], finished.json["summary"]


def positions(scene, patrol_id):
    return scene.session.execute(sa.select(Scan.lat, Scan.lon, Scan.status).where(
        Scan.patrol_id == patrol_id).order_by(Scan.id)).all()


def coverage(scene, since):
    answer = scene.get("/coverage", query_string={"since": since.isoformat(),
                                                  "until": (since + DAY).isoformat()})
    assert answer.status_code == 200, answer.json
    return [(c["visits"], c["last_visit"]) for c in answer.json["checkpoints"]]


def test_the_job_clears_positions_past_the_retention_and_keeps_scans_counts_and_coverage(
        scene, deployment):
    old_id, old_summary = walk(scene, T0)
    clock.advance(MIN)
    resolved = report(scene, scene.officer).json
    assert scene.post(f"/incidents/{resolved['id']}/resolve", scene.officer,
                      json={"note": "battery recovered"}).status_code == 200
    still_open = report(scene, scene.officer, category="hazard").json
    recent_id, _ = walk(scene, T0 + 100 * DAY, indexes=(3, 4))
    coverage_before = coverage(scene, T0 - MIN)

    clock.freeze(T0 + 179 * DAY)  # not old enough yet
    run_due_jobs(deployment, clock.now())
    assert all(lat is not None for lat, _, _ in positions(scene, old_id))

    clock.freeze(T0 + 181 * DAY)
    ran = run_due_jobs(deployment, clock.now())
    assert ("core.clear_old_positions", scene.station.id) in ran
    scene.session.expire_all()
    old = positions(scene, old_id)
    assert [(lat, lon) for lat, lon, _ in old] == [(None, None)] * 3  # the positions went
    assert [str(status) for _, _, status in old] == ["ok"] * 3  # the scans and verdicts stay
    assert all(lat is not None and lon is not None for lat, lon, _ in positions(scene, recent_id))
    patrol = scene.get(f"/patrols/{old_id}")
    assert patrol.status_code == 200 and patrol.json["summary"] == old_summary
    assert coverage(scene, T0 - MIN) == coverage_before  # the coverage history is kept
    scans = scene.get(f"/patrols/{old_id}/scans", scene.walker).json
    assert [(s["lat"], s["lon"], s["distance_m"] is not None) for s in scans] == [
        (None, None, True)] * 3
    incidents = {i.id: i for i in scene.session.scalars(sa.select(Incident))}
    assert (incidents[resolved["id"]].lat, incidents[resolved["id"]].lon) == (None, None)
    assert incidents[resolved["id"]].description == resolved["description"]  # the report stays
    assert incidents[still_open["id"]].lat == still_open["lat"]  # still to act on: kept


def retention_days(scene, days):
    """The station's one retention setting, as its admin sets it."""
    admin = scene.world.person("Admin Wu", station=scene.station, roles=["admin"])
    answer = scene.client.put(f"/api/v1/stations/{scene.station.code}/task-settings",
                              json={"position_retention_days": days}, headers=admin.headers)
    assert answer.status_code == 200, answer.json


def test_the_retention_follows_the_station_setting(scene, deployment):
    old_id, _ = walk(scene, T0)
    retention_days(scene, 30)
    clock.freeze(T0 + 29 * DAY)
    run_due_jobs(deployment, clock.now())
    assert all(lat is not None for lat, _, _ in positions(scene, old_id))
    clock.freeze(T0 + 31 * DAY)
    run_due_jobs(deployment, clock.now())
    scene.session.expire_all()
    assert [lat for lat, _, _ in positions(scene, old_id)] == [None] * 3
    assert scene.session.scalar(sa.select(sa.func.count()).select_from(Scan)) == 3


def test_positions_expire_while_the_plugin_is_switched_off(scene, deployment):
    old_id, _ = walk(scene, T0)
    resolved = report(scene, scene.officer).json
    assert scene.post(f"/incidents/{resolved['id']}/resolve", scene.officer,
                      json={"note": "done"}).status_code == 200
    admin = scene.world.person("Admin Wu", station=scene.station, roles=["admin"])
    off = scene.client.put(f"/api/v1/stations/{scene.station.code}/plugins/patrol",
                           json={"enabled": False}, headers=admin.headers)
    assert off.status_code == 200 and off.json["enabled"] is False
    clock.freeze(T0 + 181 * DAY)
    ran = run_due_jobs(deployment, clock.now())
    assert not any(job.startswith("patrol.") for job, _ in ran)  # its own jobs are off
    scene.session.expire_all()
    assert [(lat, lon) for lat, lon, _ in positions(scene, old_id)] == [(None, None)] * 3
    incident = scene.session.get(Incident, resolved["id"])
    assert (incident.lat, incident.lon) == (None, None)


def patrol_rows(session):
    """Every row of every patrol table, as text: what erasure must have scrubbed."""
    text = []
    for table in Base.metadata.sorted_tables:
        if table.name.startswith("patrol_"):
            text += [repr(tuple(row)) for row in session.execute(sa.select(table))]
    return "\n".join(text)


def counts(session):
    return {model.__name__: session.scalar(sa.select(sa.func.count()).select_from(model))
            for model in (Patrol, Scan, Incident)}


def test_an_erased_patroller_leaves_anonymous_patrols_scans_and_incidents(
        scene, world, client, session):
    on_duty = world.person("Officer Wang", station=scene.station, roles=["officer"])
    put_on_duty(scene, on_duty, T0 - dt.timedelta(hours=1), T0 + dt.timedelta(hours=8))
    clock.freeze(T0)
    patrol = scene.start()
    clock.advance(2 * MIN)
    assert scene.scan(patrol["id"], 0, code="000000").status_code == 422  # a wrong code
    assert scene.post(f"/patrols/{patrol['id']}/unlock", scene.officer).status_code == 200
    clock.advance(2 * MIN)
    assert scene.scan(patrol["id"], 1).status_code == 201
    words = "Zhang from building 3 saw a man taking an e-bike battery"
    incident = report(scene, description=words).json
    image = png()
    photo = upload(scene, incident["id"], scene.walker, ("me.png", image))
    assert photo.status_code == 201, photo.json
    key = session.scalar(sa.select(IncidentPhoto.storage_key))
    assert default_storage().open(key).read() == image
    assert scene.post(f"/incidents/{incident['id']}/acknowledge", on_duty,
                      json={"note": "on my way"}).status_code == 200
    summary = scene.finish(patrol["id"]).json["summary"]
    scans = session.execute(sa.select(Scan.lat, Scan.lon)).all()
    before = counts(session)
    assert session.scalar(sa.select(sa.func.count()).select_from(GuessLock)) == 1
    # The officers' inbox names the reporter; the reporter's names the officer.
    names = {n.code: n.params for n in session.scalars(sa.select(Notification).where(
        Notification.code.like("patrol.incident_%")))}
    assert names["patrol.incident_reported"]["reporter"] == "Volunteer Zhang"

    erased = client.delete("/api/v1/me", headers=scene.headers(scene.walker))
    assert erased.status_code == 204
    session.expire_all()

    assert counts(session) == before  # nothing the station accounts for was deleted
    assert session.execute(sa.select(Scan.lat, Scan.lon)).all() == [(None, None)] * len(scans)
    kept = session.get(Incident, incident["id"])
    assert (kept.category.value, kept.status.value, kept.acknowledge_note) == (
        "theft", "acknowledged", "on my way")
    assert (kept.description, kept.lat, kept.lon, kept.photo_count) == ("", None, None, 0)
    assert session.scalar(sa.select(sa.func.count()).select_from(IncidentPhoto)) == 0
    assert session.scalar(sa.select(sa.func.count()).select_from(GuessLock)) == 0
    try:
        default_storage().open(key)
        raise AssertionError("the photo file outlived the erasure")
    except FileNotFoundError:
        pass
    stored = patrol_rows(session)
    for personal in ("Volunteer Zhang", words, scene.walker.phone, str(scans[0][0]),
                     str(incident["lat"]), key):
        assert personal not in stored, personal
    names = {n.code: n.params for n in session.scalars(sa.select(Notification).where(
        Notification.code.like("patrol.incident_%")))}
    assert names["patrol.incident_reported"]["reporter"] == f"erased-{scene.walker.id}"
    assert names["patrol.incident_acknowledged"]["officer"] == "Officer Wang"  # not theirs
    # The officer still sees the patrol and its summary, now anonymous.
    assert scene.get(f"/patrols/{patrol['id']}").json["summary"] == summary


def test_an_erased_officer_leaves_the_roster_without_their_note(scene, world, client, session):
    desk = world.person("Officer Wang", station=scene.station, roles=["officer"])
    shift = put_on_duty(scene, desk, T0, T0 + dt.timedelta(hours=8))
    assert shift["note"] == "night desk"
    assert client.delete("/api/v1/me", headers=desk.headers).status_code == 204
    roster = scene.get("/roster", query_string={"since": T0.isoformat(),
                                                "until": (T0 + DAY).isoformat()})
    assert roster.status_code == 200, roster.json
    assert [(s["id"], s["note"]) for s in roster.json] == [(shift["id"], "")]


def test_a_walker_who_leaves_the_station_does_not_come_back_to_an_active_patrol(scene):
    patrol = scene.start()
    scene.scan(patrol["id"], 0)
    assert scene.client.delete(f"/api/v1/me/memberships/{scene.station.code}",
                               headers=scene.walker.headers).status_code == 204
    scene.session.expire_all()
    left = scene.session.get(Patrol, patrol["id"])
    assert (left.status, left.auto_finished) == ("finished", True)
    # back in the team: a new patrol starts, the old one stays closed
    admin = scene.world.person("Admin", station=scene.station, roles=["admin"])
    back = scene.client.post(f"/api/v1/stations/{scene.station.code}/members",
                             json={"phone": scene.walker.phone, "roles": ["volunteer"]},
                             headers=admin.headers)
    assert back.status_code == 201, back.json
    team = scene.client.put(f"/api/v1/stations/{scene.station.code}/groups/{scene.team_id}"
                            f"/members/{scene.walker.id}", json={"leader": False},
                            headers=admin.headers)
    assert team.status_code == 200, team.json
    again = scene.start()
    assert again["id"] != patrol["id"] and again["status"] == "active"
