"""Retention of the tables that grow with use, each rule on a frozen clock through the services,
the jobs and the HTTP API: what is old goes, what is not stays, counts that reports read stay."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from core import clock, retention
from core.jobs import run_due_jobs
from core.models import AuditArchive, AuditEvent, AuthSession, Notification
from tests.test_notices import scene, send  # noqa: F401 (scene is a fixture)
from tests.test_tasks import START, url

DAY = dt.timedelta(days=1)


def refresh(client, token):
    return client.post("/api/v1/auth/token", json={"grant_type": "refresh_token",
                                                   "refresh_token": token})


def again(world, person):
    """Signed in anew: an access token lasts minutes, and these tests skip months."""
    return world.sign_in(person.user, person.phone)


def run_jobs(deployment):
    return run_due_jobs(deployment, clock.now())


def test_read_notifications_go_after_their_days_unread_ones_and_counts_stay(
        client, world, scene, deployment, session, monkeypatch):  # noqa: F811 (the fixture)
    monkeypatch.setenv("WARDENS_READ_NOTIFICATIONS_KEEP_DAYS", "30")
    team1 = scene["team1"]
    first = send(client, scene, title="First")
    assert first.status_code == 201, first.json
    second = send(client, scene, title="Second")
    inbox = client.get("/api/v1/me/notifications?code=core.notice", headers=team1.headers).json
    old = next(n for n in inbox if n["title"] == "First")
    assert client.post(f"/api/v1/me/notifications/{old['id']}/read",
                       headers=team1.headers).status_code == 200
    clock.advance(20 * DAY)
    team1 = again(world, team1)
    later = next(n for n in inbox if n["title"] == "Second")
    client.post(f"/api/v1/me/notifications/{later['id']}/read", headers=team1.headers)
    clock.advance(11 * DAY)  # First was read 31 days ago, Second 11 days ago
    assert ("core.purge_read_notifications", 0) in run_jobs(deployment)
    team1, team2, officer = (again(world, scene[who]) for who in ("team1", "team2", "officer"))

    left = client.get("/api/v1/me/notifications", headers=team1.headers).json
    assert [n["title"] for n in left if n["code"] == "core.notice"] == ["Second"]
    assert any(n["read_at"] is None for n in left)  # unread since March: kept
    # team2 never read theirs: both stay, and the unread count still says so
    assert len(client.get("/api/v1/me/notifications?code=core.notice",
                          headers=team2.headers).json) == 2
    unread = client.get("/api/v1/me/notifications/unread-count", headers=team2.headers).json
    assert unread["unread"] == 3  # the two notices and being added to the team
    # the officer's list of notices still says how many each reached
    notices = client.get(url(scene["east"], "/notices"), headers=officer.headers).json
    assert sorted(n["recipients"] for n in notices) == [2, 2]
    assert first.json["recipients"] == 2 and second.json["recipients"] == 2


def test_a_session_refreshes_until_its_idle_limit(client, world, session, monkeypatch):
    monkeypatch.setenv("WARDENS_SESSION_IDLE_DAYS", "30")
    clock.freeze(START)
    me = world.person("me")
    clock.advance(29 * DAY)
    kept = refresh(client, me.refresh_token)
    assert kept.status_code == 200, kept.json  # refreshed in time: idle counts from here
    clock.advance(30 * DAY + dt.timedelta(minutes=1))
    gone = refresh(client, kept.json["refresh_token"])
    assert gone.status_code == 401 and gone.json["code"] == "invalid_refresh_token"


def test_a_session_older_than_its_lifetime_cannot_refresh(client, world, session, deployment):
    clock.freeze(START)
    me = world.person("me")  # default lifetime: 90 days, idle: 30
    token = me.refresh_token
    for _ in range(4):  # refreshed every 20 days: never idle
        clock.advance(20 * DAY)
        answer = refresh(client, token)
        assert answer.status_code == 200, answer.json
        token = answer.json["refresh_token"]
    clock.advance(11 * DAY)  # 91 days after signing in
    refused = refresh(client, token)
    assert refused.status_code == 401 and refused.json["code"] == "invalid_refresh_token"
    # a fresh sign-in works; the retention job removes the ended session and keeps the new one
    fresh = world.sign_in(me.user, me.phone)
    run_jobs(deployment)
    left = session.scalars(sa.select(AuthSession.created_at).where(
        AuthSession.user_id == me.id)).all()
    assert left == [clock.now()]
    assert refresh(client, fresh.refresh_token).status_code == 200


def test_revoked_and_idle_sessions_are_purged_recent_ones_stay(client, world, session,
                                                               deployment):
    clock.freeze(START)
    me = world.person("me")
    logged_out = world.sign_in(me.user, me.phone)
    assert client.post("/api/v1/auth/logout", headers=logged_out.headers).status_code in (200, 204)
    idle = world.sign_in(me.user, me.phone)
    clock.advance(2 * DAY)
    active = world.sign_in(me.user, me.phone)
    clock.advance(29 * DAY)  # idle (and me's first) last refreshed 31 days ago; active 29
    run_jobs(deployment)
    assert refresh(client, idle.refresh_token).status_code == 401
    assert refresh(client, active.refresh_token).status_code == 200
    left = session.scalars(sa.select(AuthSession.id).where(AuthSession.user_id == me.id)).all()
    assert len(left) == 1


def test_audit_events_move_to_the_archive_after_their_months(
        client, world, scene, deployment, session):  # noqa: F811 (the fixture)
    admin, east = scene["admin"], scene["east"]
    send(client, scene)  # audited: notice.sent
    before = client.get(url(east, "/audit"), headers=admin.headers).json
    assert before
    clock.advance(5 * 30 * DAY)
    scene = {**scene, "officer": again(world, scene["officer"])}
    recent = send(client, scene, title="Recent")
    assert recent.status_code == 201
    clock.freeze(retention.months_before(START, -6) + DAY)  # six months and a day later
    run_jobs(deployment)

    online = client.get(url(east, "/audit"), headers=again(world, admin).headers).json
    assert [e["action"] for e in online].count("notice.sent") == 1  # the recent one stays
    online_ids = {e["id"] for e in online}
    assert not online_ids & {e["id"] for e in before}  # every old event left the page
    archived = session.execute(sa.select(AuditArchive.id, AuditArchive.action)).all()
    assert {i for i, _a in archived} >= {e["id"] for e in before}  # kept, with the same ids
    assert session.scalar(sa.select(sa.func.count()).select_from(AuditEvent).where(
        AuditEvent.id.in_([e["id"] for e in before]))) == 0
    # the person's export still holds their archived events
    exported = client.get("/api/v1/me/export", headers=again(world, scene["officer"]).headers).json
    assert "notice.sent" in {e["action"] for e in exported["audit_events"]}


def test_archived_events_are_deleted_when_the_law_no_longer_asks(
        client, scene, deployment, session, monkeypatch):  # noqa: F811 (the fixture)
    monkeypatch.setenv("WARDENS_AUDIT_ONLINE_MONTHS", "1")
    monkeypatch.setenv("WARDENS_AUDIT_ARCHIVE_MONTHS", "12")
    send(client, scene)
    clock.freeze(START + 40 * DAY)
    run_jobs(deployment)
    assert session.scalar(sa.select(sa.func.count()).select_from(AuditArchive)) > 0
    clock.freeze(START + 370 * DAY)
    run_jobs(deployment)
    assert session.scalar(sa.select(sa.func.count()).select_from(AuditArchive)) == 0


def test_retention_runs_in_batches_and_goes_on_next_time(session, world, deployment,
                                                         monkeypatch):
    from core import notifications

    monkeypatch.setattr(retention, "BATCH", 3)
    monkeypatch.setattr(retention, "MAX_BATCHES", 2)
    clock.freeze(START)
    me = world.person("me")
    for number in range(8):
        notifications.notify(session, me.id, "core.waitlist_promoted", task_id=number,
                             title="x", starts_at=START)
    session.flush()
    session.execute(sa.update(Notification).values(read_at=START))
    session.commit()
    clock.advance(100 * DAY)
    assert retention.purge_read_notifications(session, None, clock.now()) == 6  # two batches
    assert retention.purge_read_notifications(session, None, clock.now()) == 2
    assert session.scalar(sa.select(sa.func.count()).select_from(Notification).where(
        Notification.user_id == me.id)) == 0


@pytest.mark.parametrize(("name", "value"), [("WARDENS_SESSION_LIFETIME_DAYS", "0"),
                                             ("WARDENS_AUDIT_ONLINE_MONTHS", "six"),
                                             ("WARDENS_AUDIT_ARCHIVE_MONTHS", "3")])
def test_a_bad_retention_setting_stops_start_up_naming_it(monkeypatch, name, value):
    from api import config
    from core.plugins import StartupError

    monkeypatch.setenv(name, value)
    with pytest.raises(StartupError, match=name):
        config.load({"SECRET_KEY": "x"})


def test_months_are_calendar_months():
    assert retention.months_before(dt.datetime(2026, 8, 31, tzinfo=dt.UTC), 6) == dt.datetime(
        2026, 2, 28, tzinfo=dt.UTC)
    assert retention.months_before(dt.datetime(2026, 1, 15, tzinfo=dt.UTC), 1) == dt.datetime(
        2025, 12, 15, tzinfo=dt.UTC)
