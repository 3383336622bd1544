"""My inbox (rendered in my language, mark read) and my assignments across stations."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from core import clock, notifications, tasks
from core.models import Membership, Notification
from tests.test_tasks import START, make_task


def test_notifications_are_mine_newest_first_and_in_my_language(client, world, session):
    clock.freeze(START)
    east = world.station("east")
    me = world.person("me", station=east, roles=["volunteer"])
    other = world.person("other", station=east, roles=["volunteer"])
    notifications.notify(session, me.id, "core.task_cancelled", station_id=east.id,
                         target={"kind": "core.task", "task_id": 1}, task_id=1, title="Night patrol",
                         starts_at=START, reason="")
    clock.advance(dt.timedelta(minutes=1))
    notifications.notify(session, me.id, "core.waitlist_promoted", station_id=east.id,
                         target={"kind": "core.task", "task_id": 2}, task_id=2, title="Market day",
                         starts_at=START)
    notifications.notify(session, other.id, "core.waitlist_promoted", task_id=3, title="x",
                         starts_at=START)
    session.commit()
    listed = client.get("/api/v1/me/notifications", headers=me.headers)
    assert listed.status_code == 200
    assert [(n["code"], n["station"]) for n in listed.json] == [
        ("core.waitlist_promoted", "east"), ("core.task_cancelled", "east")]
    # zh-CN by default; 01:00 UTC is 09:00 at the station (Asia/Shanghai)
    assert listed.json[0]["text"] == "有名额空出：您已成功报名“Market day”，时间 2026年3月2日（周一）09:00。"
    assert listed.json[0]["params"]["task_id"] == 2 and listed.json[0]["read_at"] is None
    assert listed.json[0]["params"]["starts_at"] == "2026-03-02T09:00:00+08:00"
    assert listed.json[0]["target"] == {"kind": "core.task", "station": "east", "task_id": 2}
    assert listed.json[0]["timezone"] == "Asia/Shanghai"
    assert listed.json[0]["title"] == "east station"
    client.patch("/api/v1/me", json={"locale": "en"}, headers=me.headers)
    english = client.get("/api/v1/me/notifications", headers=me.headers).json
    assert english[1]["text"] == "Night patrol, Mon 2 Mar 2026, 09:00, was cancelled. "
    # Accept-Language, when sent, wins over the chosen locale
    chinese = client.get("/api/v1/me/notifications",
                         headers={**me.headers, "Accept-Language": "zh-CN"}).json
    assert chinese[1]["text"] == "“Night patrol”（2026年3月2日（周一）09:00）已取消。"


def test_times_follow_the_station_zone_and_an_account_notice_says_utc(client, world, session):
    clock.freeze(START)
    west = world.station("west")
    west.timezone = "Asia/Urumqi"  # UTC+6
    session.commit()
    me = world.person("me", station=west, roles=["volunteer"])
    notifications.notify(session, me.id, "core.waitlist_promoted", station_id=west.id,
                         task_id=2, title="Market day", starts_at=START)
    notifications.notify(session, me.id, "core.waitlist_promoted", task_id=3, title="Fair",
                         starts_at=START)
    session.commit()
    listed = client.get("/api/v1/me/notifications", headers={**me.headers,
                                                             "Accept-Language": "en"}).json
    texts = sorted(n["text"] for n in listed)
    assert texts == ["A place freed up: you are now signed up for Fair, Mon 2 Mar 2026, 01:00 UTC.",
                     "A place freed up: you are now signed up for Market day, Mon 2 Mar 2026, 07:00."]
    stored = {n["params"]["title"]: n["params"]["starts_at"] for n in listed}
    assert stored == {"Market day": "2026-03-02T07:00:00+06:00", "Fair": "2026-03-02T01:00:00Z"}


def test_an_unknown_code_or_a_target_of_another_kind_is_refused(session, world):
    me = world.person("me")
    with pytest.raises(ValueError, match="unknown notification code"):
        notifications.notify(session, me.id, "task_cancelled", title="x")
    with pytest.raises(ValueError, match="target kind"):
        notifications.notify(session, me.id, "core.task_cancelled",
                             target={"kind": "core.group", "group_id": 1}, title="x")


def test_mark_one_or_all_read_and_count_the_unread(client, world, session):
    clock.freeze(START)
    me = world.person("me")
    other = world.person("other")
    rows = [notifications.notify(session, me.id, "core.task_assigned", task_id=i, title=f"t{i}",
                                 starts_at="x", status="signed_up") for i in range(3)]
    theirs = notifications.notify(session, other.id, "core.task_assigned", task_id=9, title="t",
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
