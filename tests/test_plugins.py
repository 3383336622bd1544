"""The plugin platform seen from a station: switching a third-party plugin on and off through
the API, its settings, its hooks, points rule, job and dashboard metric."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from api import create_app
from core import clock, ledger
from core.jobs import run_due_jobs
from core.models import (
    Assignment,
    AssignmentStatus,
    AuditEvent,
    Membership,
    PointsBalance,
    StationPlugin,
    Task,
)
from tests.fixtures.app import TEST_CONFIG
from tests.fixtures.plugins import sample_deployment_for
from tests.sample_plugin.models import SampleEvent, SampleNote, SampleTally

NOON = dt.datetime(2026, 3, 2, 12, 0, tzinfo=dt.UTC)


def switch(client, station, admin, enabled=True, settings=None):
    body = {"enabled": enabled} if settings is None else {"enabled": enabled, "settings": settings}
    return client.put(f"/api/v1/stations/{station}/plugins/sample", json=body,
                      headers=admin.headers)


def notes_url(station):
    return f"/api/v1/stations/{station}/sample/notes"


def test_off_is_404_and_skipped_by_its_job_then_on_through_the_api_works_at_once_everywhere(
        world, session, sample_client, sample_deployment, second_app):
    clock.freeze(NOON)
    east, west = world.station("east"), world.station("west", plugins=("sample",))
    admin = world.person("admin", station=east, roles=["admin"])
    volunteer = world.person("vol", station=east, roles=["volunteer"])
    other = second_app.test_client()

    for client in (sample_client, other):
        off = client.get(notes_url("east"), headers=volunteer.headers)
        assert off.status_code == 404 and off.json["code"] == "plugin_disabled"
        assert off.json["details"] == {"plugin": "sample"}
        refused = client.post(notes_url("east"), json={"text": "hi"}, headers=volunteer.headers)
        assert refused.status_code == 404 and refused.json["code"] == "plugin_disabled"
    assert run_due_jobs(sample_deployment, NOON) == [
        ("core.purge_idempotency_keys", 0), ("core.purge_job_runs", 0),
        ("core.purge_phone_codes", 0),
        ("core.mark_no_shows", east.id), ("core.mark_no_shows", west.id),
        ("core.clear_old_positions", east.id), ("core.clear_old_positions", west.id),
        ("core.purge_read_notifications", 0), ("core.purge_ended_sessions", 0),
        ("core.archive_audit_events", 0), ("sample.tally", west.id)]
    assert session.scalars(sa.select(SampleTally.station_id)).all() == [west.id]

    answer = switch(sample_client, "east", admin)
    assert answer.status_code == 200, answer.json
    assert answer.json["enabled"] is True and answer.json["name"] == "sample"

    # The other app instance (its own deployment object) sees the switch on its next request.
    written = other.post(notes_url("east"), json={"text": "gate 3 light is out"},
                         headers=volunteer.headers)
    assert written.status_code == 201, written.json
    assert written.json["points"] == 4  # plugins.toml [points] beats the plugin's default 3
    listed = sample_client.get(notes_url("east"), headers=volunteer.headers)
    assert [n["text"] for n in listed.json] == ["gate 3 light is out"]
    assert ledger.balance(session, east.id, volunteer.id) == 4

    clock.advance(dt.timedelta(minutes=10))
    assert ("sample.tally", east.id) in run_due_jobs(sample_deployment, clock.now())
    tallies = session.execute(sa.select(SampleTally.station_id, SampleTally.notes)
                              .order_by(SampleTally.id)).all()
    assert tallies == [(west.id, 0), (east.id, 1), (west.id, 0)]

    assert switch(other, "east", admin, enabled=False).json["enabled"] is False
    assert sample_client.get(notes_url("east"), headers=volunteer.headers).status_code == 404


def test_the_list_shows_installed_plugins_with_settings_to_staff_and_secrets_never(
        world, sample_client):
    east = world.station("east")
    admin = world.person("admin", station=east, roles=["admin"])
    volunteer = world.person("vol", station=east, roles=["volunteer"])
    stranger = world.person("stranger")

    staff_view = sample_client.get("/api/v1/stations/east/plugins", headers=admin.headers)
    assert staff_view.status_code == 200
    (plugin,) = staff_view.json
    assert plugin["name"] == "sample" and plugin["enabled"] is False
    assert plugin["version"] == "1.0.0" and plugin["url_name"] == "sample"
    assert plugin["task_kinds"] == [{
        "name": "sample_visit", "private": True, "managed": False,
        "generic": ["sign_up", "assign", "withdraw", "edit", "cancel"],
        "needs_acceptance": False, "pays": "core.task_completed"}]
    assert plugin["settings"] == {"max_note_length": 50, "greeting": "hello"}
    assert plugin["secret_settings"] == {"api_token": False}
    assert plugin["overridden"] == []

    member_view = sample_client.get("/api/v1/stations/east/plugins", headers=volunteer.headers)
    assert member_view.json[0]["enabled"] is False
    assert member_view.json[0]["settings"] is None
    assert sample_client.get("/api/v1/stations/east/plugins",
                             headers=stranger.headers).status_code == 404


def test_settings_are_validated_audited_hidden_when_secret_and_apply_at_once(
        world, session, sample_client, second_app):
    east = world.station("east")
    admin = world.person("admin", station=east, roles=["admin"])
    volunteer = world.person("vol", station=east, roles=["volunteer"])
    other = second_app.test_client()

    changed = switch(sample_client, "east", admin,
                     settings={"max_note_length": 10, "api_token": "s3cret-token"})
    assert changed.status_code == 200, changed.json
    assert changed.json["settings"] == {"max_note_length": 10, "greeting": "hello"}
    assert changed.json["secret_settings"] == {"api_token": True}
    assert changed.json["overridden"] == ["api_token", "max_note_length"]
    assert "s3cret-token" not in changed.get_data(as_text=True)

    too_long = other.post(notes_url("east"), json={"text": "x" * 11}, headers=volunteer.headers)
    assert too_long.status_code == 422 and too_long.json["code"] == "sample_note_too_long"
    assert too_long.json["details"]["max"] == 10

    invalid = switch(sample_client, "east", admin,
                     settings={"max_note_length": 0, "colour": "red"})
    assert invalid.status_code == 422 and invalid.json["code"] == "invalid_settings"
    assert invalid.json["details"]["keys"] == ["colour", "max_note_length"]
    assert set(invalid.json["details"]["fields"]) == {"colour", "max_note_length"}
    stored = session.scalars(sa.select(StationPlugin).where(
        StationPlugin.station_id == east.id)).one()
    session.refresh(stored)
    assert stored.settings == {"max_note_length": 10, "api_token": "s3cret-token"}

    back = switch(sample_client, "east", admin, settings={"max_note_length": None})
    assert back.json["settings"]["max_note_length"] == 50
    assert back.json["overridden"] == ["api_token"]
    assert other.post(notes_url("east"), json={"text": "x" * 11},
                      headers=volunteer.headers).status_code == 201

    events = session.execute(
        sa.select(AuditEvent.action, AuditEvent.details, AuditEvent.actor_id)
        .where(AuditEvent.station_id == east.id, AuditEvent.action.like("plugin.%"))
        .order_by(AuditEvent.id)).all()
    assert [(e.action, e.details.get("keys")) for e in events] == [
        ("plugin.switched_on", None),
        ("plugin.settings_changed", ["api_token", "max_note_length"]),
        ("plugin.settings_changed", ["max_note_length"]),
    ]
    assert all(e.actor_id == admin.id for e in events)
    assert "s3cret-token" not in str([e.details for e in events])


def test_only_admins_switch_and_only_installed_plugins(world, sample_client):
    east = world.station("east")
    officer = world.person("officer", station=east, roles=["officer"])
    admin = world.person("admin", station=east, roles=["admin"])
    stranger = world.person("stranger")

    forbidden = switch(sample_client, "east", officer)
    assert forbidden.status_code == 403 and forbidden.json["code"] == "role_required"
    assert switch(sample_client, "east", stranger).status_code == 404
    unknown = sample_client.put("/api/v1/stations/east/plugins/patrolx", json={"enabled": True},
                                headers=admin.headers)
    assert unknown.status_code == 404 and unknown.json["code"] == "plugin_not_installed"
    missing = sample_client.put("/api/v1/stations/east/plugins/sample", json={},
                                headers=admin.headers)
    assert missing.status_code == 422


def test_event_hooks_reach_only_stations_with_the_plugin_on_but_erasure_reaches_all(
        world, session, sample_client):
    east, west = world.station("east"), world.station("west", plugins=("sample",))
    east_admin = world.person("a1", station=east, roles=["admin"])
    west_admin = world.person("a2", station=west, roles=["admin"])
    newcomer = world.person("newcomer", verified=True)  # a seat goes to a proven number

    for station, admin in (("east", east_admin), ("west", west_admin)):
        added = sample_client.post(f"/api/v1/stations/{station}/members",
                                   json={"phone": newcomer.phone, "roles": ["volunteer"]},
                                   headers=admin.headers)
        assert added.status_code == 201, added.json
    told = session.execute(sa.select(SampleEvent.station_id, SampleEvent.event,
                                     SampleEvent.detail)).all()
    assert told == [(west.id, "membership_created", "hello")]

    sample_client.post(notes_url("west"), json={"text": "mine"}, headers=newcomer.headers)
    switch(sample_client, "west", west_admin, enabled=False)
    assert sample_client.delete("/api/v1/me", headers=newcomer.headers).status_code in (200, 204)
    note = session.scalars(sa.select(SampleNote)).one()
    session.refresh(note)
    assert note.user_id is None and note.text == ""


def test_dashboard_has_core_metrics_and_each_switched_on_plugins_metrics(
        world, session, sample_client):
    clock.freeze(NOON)
    west = world.station("west", plugins=("sample",))
    east = world.station("east")
    admin = world.person("admin", station=west, roles=["admin", "officer"])
    volunteers = [world.person(f"v{i}", station=west, roles=["volunteer", "resident"])
                  for i in range(2)]
    resident = world.person("r", station=west, roles=["resident"])
    session.add(Membership(station_id=west.id, pending_phone="+8613900009999",
                           roles=["volunteer"]))
    task = Task(station_id=west.id, title="evening patrol", starts_at=NOON + dt.timedelta(hours=1),
                ends_at=NOON + dt.timedelta(hours=3), capacity=2, filled=2)
    old = Task(station_id=west.id, title="last month", starts_at=NOON - dt.timedelta(days=40),
               ends_at=NOON - dt.timedelta(days=40, hours=-2), capacity=1, filled=1)
    session.add_all([task, old])
    session.flush()
    session.add_all([
        Assignment(station_id=west.id, task_id=task.id, user_id=volunteers[0].id,
                   status=AssignmentStatus.COMPLETED, checked_out_at=NOON - dt.timedelta(hours=1)),
        Assignment(station_id=west.id, task_id=task.id, user_id=volunteers[1].id,
                   status=AssignmentStatus.SIGNED_UP),
        Assignment(station_id=west.id, task_id=old.id, user_id=volunteers[1].id,
                   status=AssignmentStatus.COMPLETED, checked_out_at=NOON - dt.timedelta(days=39)),
    ])
    ledger.award(session, station_id=west.id, user_id=volunteers[0].id, amount=7,
                 event_code="core.task_completed", source_type="assignment", source_id="1")
    session.commit()
    for text in ("one", "two"):
        assert sample_client.post(notes_url("west"), json={"text": text},
                                  headers=resident.headers).status_code == 201

    answer = sample_client.get("/api/v1/stations/west/dashboard",
                               query_string={"since": (NOON - dt.timedelta(days=7)).isoformat()},
                               headers=admin.headers)
    assert answer.status_code == 200, answer.json
    assert answer.json["core"] == {
        "members": 6, "pending_members": 2,  # the first admin, invited by phone, is pending
        "members_by_role": {"resident": 3, "volunteer": 3, "merchant": 0, "partner": 0,
                            "officer": 1, "admin": 2},
        "open_tasks": 1, "completions": 1, "no_shows": 0, "points_awarded": 7 + 2 * 4,
    }
    assert answer.json["plugins"] == {"sample": {"notes": 2}}

    default_period = sample_client.get("/api/v1/stations/west/dashboard", headers=admin.headers)
    assert default_period.json["since"].startswith("2026-01-31T12:00:00")

    east_admin = world.person("ea", station=east, roles=["admin"])
    east_view = sample_client.get("/api/v1/stations/east/dashboard", headers=east_admin.headers)
    assert east_view.json["plugins"] == {}
    assert east_view.json["core"]["members"] == 2  # the pending first admin and this one
    refused = sample_client.get("/api/v1/stations/west/dashboard", headers=resident.headers)
    assert refused.status_code == 403
    stored = session.scalar(sa.select(PointsBalance.balance).where(
        PointsBalance.user_id == resident.id))
    assert stored == 8


def test_plugin_endpoints_are_documented_under_the_station_path(sample_client, client):
    spec = sample_client.get("/api/openapi.json").json
    notes = spec["paths"]["/api/v1/stations/{station}/sample/notes"]
    assert notes["post"]["operationId"] == "sample_notes_create"
    assert spec["paths"]["/api/v1/stations/{station}/plugins/{name}"]["put"]["operationId"] == \
        "station_plugins_update"
    without = client.get("/api/openapi.json").json
    assert "/api/v1/stations/{station}/sample/notes" not in without["paths"]


def test_only_installed_plugins_are_listed_and_a_new_station_has_them_off(world, client,
                                                                          deployment):
    east = world.station("east")
    admin = world.person("admin", station=east, roles=["admin"])
    listed = client.get("/api/v1/stations/east/plugins", headers=admin.headers).json
    assert sorted(p["name"] for p in listed) == sorted(deployment.plugins)
    assert not any(p["enabled"] for p in listed)
    answer = client.put("/api/v1/stations/east/plugins/sample", json={"enabled": True},
                        headers=admin.headers)
    assert answer.status_code == 404 and answer.json["code"] == "plugin_not_installed"


@pytest.mark.postgres_only
def test_a_switch_applies_at_once_in_another_server_process(live_world, sample_site, sample_toml,
                                                             test_database_url):
    """Two app instances with their own engines and connection pools, as two servers have."""
    east = live_world.station("east")
    admin = live_world.person("admin", station=east, roles=["admin"])
    volunteer = live_world.person("vol", station=east, roles=["volunteer"])
    first, second = (create_app(TEST_CONFIG, deployment=sample_deployment_for(
        test_database_url, sample_toml)) for _ in range(2))
    try:
        a, b = first.test_client(), second.test_client()
        assert b.get(notes_url("east"), headers=volunteer.headers).status_code == 404
        assert switch(a, "east", admin, settings={"max_note_length": 5}).status_code == 200
        assert b.post(notes_url("east"), json={"text": "hello"},
                      headers=volunteer.headers).status_code == 201
        too_long = b.post(notes_url("east"), json={"text": "hello!"}, headers=volunteer.headers)
        assert too_long.json["details"]["max"] == 5
        assert switch(b, "east", admin, enabled=False).status_code == 200
        assert a.get(notes_url("east"), headers=volunteer.headers).json["code"] == \
            "plugin_disabled"
    finally:
        for app in (first, second):
            app.extensions["wardens"].database.engine.dispose()
