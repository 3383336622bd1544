"""My inbox (rendered in my language, mark read) and my assignments across stations."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from core import clock, notifications, tasks
from core.models import Membership, Notification
from tests.test_tasks import START, make_task


def test_notifications_are_mine_newest_first_and_in_my_language(client, world, session):
    clock.freeze(START)
    east = world.station("east")
    me = world.person("me", station=east, roles=["volunteer"])
    other = world.person("other", station=east, roles=["volunteer"])
    notifications.notify(session, me.id, "task_cancelled", station_id=east.id, task_id=1,
                         title="Night patrol", starts_at="x", reason="")
    clock.advance(dt.timedelta(minutes=1))
    notifications.notify(session, me.id, "waitlist_promoted", station_id=east.id, task_id=2,
                         title="Market day", starts_at="x")
    notifications.notify(session, other.id, "waitlist_promoted", task_id=3, title="x",
                         starts_at="x")
    session.commit()
    listed = client.get("/api/v1/me/notifications", headers=me.headers)
    assert listed.status_code == 200
    assert [(n["code"], n["station"]) for n in listed.json] == [
        ("waitlist_promoted", "east"), ("task_cancelled", "east")]
    assert listed.json[0]["text"] == "有名额空出：您已成功报名“Market day”。"  # zh-CN by default
    assert listed.json[0]["params"]["task_id"] == 2 and listed.json[0]["read_at"] is None
    client.patch("/api/v1/me", json={"locale": "en"}, headers=me.headers)
    english = client.get("/api/v1/me/notifications", headers=me.headers).json
    assert english[1]["text"] == "The task Night patrol was cancelled. "


def test_mark_one_or_all_read_and_count_the_unread(client, world, session):
    clock.freeze(START)
    me = world.person("me")
    other = world.person("other")
    rows = [notifications.notify(session, me.id, "task_assigned", task_id=i, title=f"t{i}",
                                 starts_at="x", status="signed_up") for i in range(3)]
    theirs = notifications.notify(session, other.id, "task_assigned", task_id=9, title="t",
                                  starts_at="x", status="signed_up")
    session.commit()
    base = "/api/v1/me/notifications"
    assert client.get(f"{base}/unread-count", headers=me.headers).json == {"unread": 3}
    read = client.post(f"{base}/{rows[0].id}/read", headers=me.headers)
    assert read.status_code == 200 and read.json["read_at"] == clock.now().isoformat()
    again = client.post(f"{base}/{rows[0].id}/read", headers=me.headers)
    assert again.json["read_at"] == read.json["read_at"]
    stranger = client.post(f"{base}/{theirs.id}/read", headers=me.headers)
    assert stranger.status_code == 404 and stranger.json["code"] == "notification_not_found"
    unread = client.get(f"{base}?unread=true", headers=me.headers).json
    assert sorted(n["id"] for n in unread) == [rows[1].id, rows[2].id]
    assert [n["id"] for n in client.get(f"{base}?unread=false", headers=me.headers).json] == [
        rows[0].id]
    assert client.post(f"{base}/read-all", headers=me.headers).json == {"marked": 2}
    assert client.get(f"{base}/unread-count", headers=me.headers).json == {"unread": 0}
    assert session.scalar(sa.select(Notification.read_at).where(Notification.id == theirs.id)) \
        is None
    assert client.get(base, headers={}).status_code == 401


def test_my_assignments_across_stations_with_filters(client, world, session):
    clock.freeze(START - dt.timedelta(days=1))
    east, west = world.station("east"), world.station("west")
    me = world.person("me", station=east, roles=["volunteer"])
    session.add(Membership(station_id=west.id, user_id=me.id, roles=["volunteer"]))
    session.commit()
    first = make_task(session, east, title="East patrol")
    later = make_task(session, west, title="West crossing",
                      starts_at=START + dt.timedelta(days=2),
                      ends_at=START + dt.timedelta(days=2, hours=1))
    gone = make_task(session, east, title="Withdrawn one")
    for task in (first, later, gone):
        tasks.sign_up(session, task, me.id)
    tasks.withdraw(session, gone, me.id)
    session.commit()
    base = "/api/v1/me/assignments"
    listed = client.get(base, headers=me.headers)
    assert listed.status_code == 200
    assert [(a["task"]["title"], a["station"]["code"], a["status"]) for a in listed.json] == [
        ("East patrol", "east", "signed_up"), ("Withdrawn one", "east", "withdrawn"),
        ("West crossing", "west", "signed_up")]
    active = client.get(f"{base}?status=signed_up&status=checked_in", headers=me.headers).json
    assert [a["task"]["title"] for a in active] == ["East patrol", "West crossing"]
    assert [a["task"]["title"] for a in client.get(f"{base}?station=west",
                                                   headers=me.headers).json] == ["West crossing"]
    since = (START + dt.timedelta(days=1)).isoformat()
    assert [a["task"]["title"] for a in client.get(
        f"{base}?since={since.replace('+', '%2B')}", headers=me.headers).json] == ["West crossing"]
    assert client.get(f"{base}?status=lost", headers=me.headers).status_code == 422
