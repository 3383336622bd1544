"""Notices from officers: who may send them, whom they reach, what is checked, audited, limited."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from core import clock, notifications
from core.models import Notification
from core.models.notifications import DeliveryStatus
from tests.test_tasks import START, task_body, url

# START is 01:00 UTC: 09:00 at a station in Asia/Shanghai.


@pytest.fixture
def scene(world, client):
    """A station with an admin, an officer, a patrol team of two volunteers, one more volunteer,
    a resident, and another station with its own team."""
    clock.freeze(START)
    east, west = world.station("east"), world.station("west")
    people = {
        "admin": world.person("Admin Zhao", station=east, roles=["admin"]),
        "officer": world.person("Officer Wang", station=east, roles=["officer"]),
        "team1": world.person("Li Na", station=east, roles=["volunteer"]),
        "team2": world.person("Chen Jie", station=east, roles=["volunteer"]),
        "volunteer": world.person("Sun Yu", station=east, roles=["volunteer"]),
        "resident": world.person("Zhou Min", station=east, roles=["resident"]),
        "west_admin": world.person("West Admin", station=west, roles=["admin"]),
    }
    team = client.post(url(east, "/groups"), json={"kind": "patrol_team", "name": "Night team"},
                       headers=people["admin"].headers).json
    for key in ("team1", "team2"):
        put = client.put(url(east, f"/groups/{team['id']}/members/{people[key].id}"),
                         json={"leader": False}, headers=people["admin"].headers)
        assert put.status_code == 200, put.json
    west_team = client.post(url(west, "/groups"), json={"kind": "patrol_team", "name": "W team"},
                            headers=people["west_admin"].headers).json
    return {"east": east, "west": west, "team": team, "west_team": west_team, **people}


def inbox(client, person, **headers):
    answer = client.get("/api/v1/me/notifications?code=core.notice",
                        headers={**person.headers, **headers})
    assert answer.status_code == 200, answer.json
    return answer.json


def send(client, scene, who="officer", **body):
    payload = {"audience": "group", "group_id": scene["team"]["id"], "title": "Tonight",
               "text": "Meet at the north gate.", **body}
    return client.post(url(scene["east"], "/notices"), json=payload, headers=scene[who].headers)


def test_a_notice_to_a_group_reaches_exactly_its_members_and_is_audited(client, scene):
    sent = send(client, scene, target={"kind": "core.group", "group_id": scene["team"]["id"]})
    assert sent.status_code == 201, sent.json
    assert sent.json["recipients"] == 2 and sent.json["audience"] == "group"
    assert sent.json["group"] == {"id": scene["team"]["id"], "name": "Night team"}
    assert sent.json["sent_by"] == {"id": scene["officer"].id, "display_name": "Officer Wang"}
    assert sent.json["target"] == {"kind": "core.group", "station": "east",
                                   "group_id": scene["team"]["id"]}

    for key in ("team1", "team2"):
        (note,) = inbox(client, scene[key])
        assert note["title"] == "Tonight"
        assert note["text"] == "Officer Wang：Meet at the north gate."
        assert note["params"]["notice_id"] == sent.json["id"]
        assert note["target"] == {"kind": "core.group", "station": "east",
                                  "group_id": scene["team"]["id"]}
    english = inbox(client, scene["team1"], **{"Accept-Language": "en"})
    assert english[0]["text"] == "Officer Wang: Meet at the north gate."
    for key in ("officer", "admin", "volunteer", "resident", "west_admin"):
        assert inbox(client, scene[key]) == [], key

    audit = client.get(url(scene["east"], "/audit?action=notice.sent"),
                       headers=scene["admin"].headers).json
    assert [(e["actor_id"], e["details"]["audience"], e["details"]["group_id"],
             e["details"]["recipients"], e["details"]["title"]) for e in audit] == [
        (scene["officer"].id, "group", scene["team"]["id"], 2, "Tonight")]


def test_residents_and_volunteers_cannot_send_and_strangers_see_no_station(client, scene):
    for who in ("resident", "volunteer"):
        refused = send(client, scene, who=who)
        assert refused.status_code == 403 and refused.json["code"] == "role_required", who
    stranger = send(client, scene, who="west_admin")
    assert stranger.status_code == 404 and stranger.json["code"] == "station_not_found"
    listed = client.get(url(scene["east"], "/notices"), headers=scene["resident"].headers)
    assert listed.status_code == 403
    for key in ("team1", "team2"):
        assert inbox(client, scene[key]) == []


def test_a_notice_to_a_role_or_the_station_reaches_those_people_but_the_sender(client, scene):
    payload = {"audience": "role", "role": "volunteer", "title": "Volunteers",
               "text": "Training on Saturday."}
    by_role = client.post(url(scene["east"], "/notices"), json=payload,
                          headers=scene["officer"].headers)
    assert by_role.status_code == 201 and by_role.json["recipients"] == 3
    assert by_role.json["role"] == "volunteer" and by_role.json["group"] is None
    told = {key for key in ("team1", "team2", "volunteer", "resident", "admin")
            if inbox(client, scene[key])}
    assert told == {"team1", "team2", "volunteer"}

    everyone = client.post(url(scene["east"], "/notices"), headers=scene["admin"].headers,
                           json={"audience": "station", "title": "Road works",
                                 "text": "Gate 2 is closed this week."})
    assert everyone.status_code == 201 and everyone.json["recipients"] == 5  # not the admin
    assert inbox(client, scene["admin"]) == []
    assert len(inbox(client, scene["resident"])) == 1
    assert inbox(client, scene["west_admin"]) == []


def test_what_a_notice_must_say_and_whom_it_may_name(client, scene, world):
    team_id = scene["team"]["id"]
    cases = [
        ({"group_id": None}, 422, "validation_error"),
        ({"audience": "group", "group_id": 999999}, 404, "group_not_found"),
        ({"group_id": scene["west_team"]["id"]}, 404, "group_not_found"),
        ({"audience": "role", "group_id": team_id, "role": "resident"}, 422,
         "notice_audience_mixed"),
        ({"audience": "station"}, 422, "notice_audience_mixed"),
        ({"title": "   "}, 422, "notice_blank"),
        ({"title": "x" * 81}, 422, "validation_error"),
        ({"text": ""}, 422, "validation_error"),
        ({"target": {"kind": "nowhere"}}, 422, "notice_target_invalid"),
        ({"target": {"kind": "core.task", "task_id": 1.5}}, 422, "validation_error"),
        ({"target": {"kind": "core.task", "task": 3}}, 422, "notice_target_invalid"),
        ({"target": {"kind": "core.task", "task_id": 999999}}, 404, "task_not_found"),
        ({"target": {"kind": "core.group", "group_id": scene["west_team"]["id"]}}, 404,
         "group_not_found"),
        ({"target": {"kind": "core.group", "station": "west", "group_id": team_id}}, 422,
         "notice_target_invalid"),
    ]
    for change, status, code in cases:
        answer = send(client, scene, **change)
        assert (answer.status_code, answer.json.get("code")) == (status, code), (change, answer.json)
    missing = client.post(url(scene["east"], "/notices"), headers=scene["officer"].headers,
                          json={"audience": "group", "title": "x", "text": "y"})
    assert missing.status_code == 422 and missing.json["code"] == "notice_audience_incomplete"
    assert missing.json["details"]["field"] == "group_id"
    zh = missing.json["message"]
    assert "group_id" in zh and "通知" in zh

    lonely = client.post(url(scene["east"], "/groups"), json={"kind": "grid", "name": "Empty"},
                         headers=scene["admin"].headers).json
    nobody = send(client, scene, group_id=lonely["id"])
    assert nobody.status_code == 422 and nobody.json["code"] == "notice_no_recipients"
    for key in ("team1", "team2", "volunteer", "resident"):
        assert inbox(client, scene[key]) == []  # nothing went out

    # a target the app can open: a task of the station, or a plugin's kind
    task = client.post(url(scene["east"], "/tasks"), json=task_body(),
                       headers=scene["officer"].headers).json
    ok = send(client, scene, target={"kind": "core.task", "task_id": task["id"]})
    assert ok.status_code == 201, ok.json
    (note,) = inbox(client, scene["team1"])
    assert note["target"] == {"kind": "core.task", "station": "east", "task_id": task["id"]}


def test_notices_are_rate_limited_per_officer(client, scene, world):
    for n in range(10):
        assert send(client, scene, title=f"n{n}").status_code == 201
    refused = send(client, scene, title="one too many")
    assert refused.status_code == 429 and refused.json["code"] == "rate_limited"
    assert int(refused.headers["Retry-After"]) == 3601
    # another officer still may; an hour later the first one may again
    assert send(client, scene, who="admin").status_code == 201
    clock.advance(dt.timedelta(hours=1, seconds=1))
    officer = world.sign_in(scene["officer"].user, scene["officer"].phone)
    again = client.post(url(scene["east"], "/notices"), headers=officer.headers, json={
        "audience": "station", "title": "later", "text": "ok"})
    assert again.status_code == 201


def test_officers_list_the_notices_sent_newest_first(client, scene):
    send(client, scene, title="first")
    clock.advance(dt.timedelta(minutes=1))
    send(client, scene, who="admin", title="second")
    listed = client.get(url(scene["east"], "/notices"), headers=scene["officer"].headers)
    assert listed.status_code == 200
    assert [n["title"] for n in listed.json] == ["second", "first"]
    assert listed.json[0]["sent_at"] == "2026-03-02T01:01:00+00:00"
    mine = client.get(url(scene["east"], "/notices?mine=true"), headers=scene["officer"].headers)
    assert [n["title"] for n in mine.json] == ["first"]
    assert client.get(url(scene["west"], "/notices"),
                      headers=scene["west_admin"].headers).json == []


def test_a_notice_is_delivered_like_every_notification(client, scene, session, deployment):
    sent = send(client, scene)
    assert sent.status_code == 201
    notifications.deliver_pending(deployment.database.writer, "w")
    session.expire_all()
    rows = session.scalars(sa.select(Notification).where(Notification.code == "core.notice")).all()
    # no push provider in this deployment: the inbox is the delivery
    assert sorted(r.user_id for r in rows) == sorted([scene["team1"].id, scene["team2"].id])
    assert {r.delivery_status for r in rows} == {DeliveryStatus.SKIPPED}
    (note,) = inbox(client, scene["team2"])
    assert note["code"] == "core.notice" and note["station"] == "east"
