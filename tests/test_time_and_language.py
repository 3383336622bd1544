"""Times read in the station's zone and people's own language: texts, errors, field messages."""

from __future__ import annotations

import datetime as dt

import pytest

from core import accounts, clock, local_time, messages
from tests.test_tasks import START, checkin_body, task_body, url

# START is 01:00 UTC: 09:00 at a station in Asia/Shanghai.


@pytest.fixture
def east(world):
    return world.station("east")


def test_a_station_answer_says_its_times_in_the_station_zone(client, world, east):
    clock.freeze(START - dt.timedelta(hours=2))  # 07:00 station time; check-in opens 08:45
    officer = world.person("officer", station=east, roles=["officer"])
    vol = world.person("vol", station=east, roles=["volunteer"])
    task = client.post(url(east, "/tasks"), json=task_body(), headers=officer.headers).json
    client.post(url(east, f"/tasks/{task['id']}/signups"), json={}, headers=vol.headers)
    early = client.post(url(east, f"/tasks/{task['id']}/checkins"), json=checkin_body(),
                        headers={**vol.headers, "Accept-Language": "en"})
    assert early.status_code == 422 and early.json["code"] == "checkin_not_open"
    assert early.json["message"] == "Check-in opens at Mon 2 Mar 2026, 08:45."
    assert early.json["details"]["opens_at"] == "2026-03-02T00:45:00Z"  # machine-readable
    assert "T00:45" not in early.json["message"]


def test_an_assignment_notice_names_the_officer_the_task_and_the_local_time(
        client, world, east, session):
    clock.freeze(START - dt.timedelta(days=1))
    officer = world.person("Officer Wang", station=east, roles=["officer"])
    vol = world.person("vol", station=east, roles=["volunteer"])
    task = client.post(url(east, "/tasks"), json=task_body(title="Market patrol"),
                       headers=officer.headers).json
    assigned = client.post(url(east, f"/tasks/{task['id']}/signups"), json={"user_id": vol.id},
                           headers=officer.headers)
    assert assigned.status_code == 201
    (note,) = client.get("/api/v1/me/notifications", headers=vol.headers).json
    assert note["code"] == "core.task_assigned"
    assert note["text"] == "Officer Wang 安排您参加“Market patrol”，时间 2026年3月2日（周一）09:00。"
    assert note["target"] == {"kind": "core.task", "station": "east", "task_id": task["id"]}
    assert note["params"]["starts_at"] == "2026-03-02T09:00:00+08:00"
    assert note["params"]["by"] == "Officer Wang" and note["params"]["by_id"] == officer.id

    # the officer deletes their account: the notice no longer names them
    accounts.erase_user(session, officer.user)
    session.commit()
    (note,) = client.get("/api/v1/me/notifications", headers=vol.headers).json
    assert note["params"]["by"] == f"erased-{officer.id}" and "Wang" not in note["text"]


def test_the_short_station_reference_carries_the_zone(client, world, east):
    me = world.person("me", station=east, roles=["volunteer"])
    memberships = client.get("/api/v1/me/memberships", headers=me.headers).json
    assert memberships[0]["station"] == {"code": "east", "name": "east station",
                                         "timezone": "Asia/Shanghai"}


def test_the_helper_formats_a_moment_for_a_station_and_a_language():
    moment = dt.datetime(2026, 12, 28, 16, 0, tzinfo=dt.UTC)
    assert local_time.text(moment, "Asia/Shanghai", "zh-CN") == "2026年12月29日（周二）00:00"
    assert local_time.text(moment, "Asia/Shanghai", "en") == "Tue 29 Dec 2026, 00:00"
    assert local_time.text(moment, None, "en") == "Mon 28 Dec 2026, 16:00 UTC"
    assert local_time.rfc3339(moment, "Asia/Shanghai") == "2026-12-29T00:00:00+08:00"
    assert local_time.rfc3339(moment) == "2026-12-28T16:00:00Z"
    # what the issue saw: a text showing raw UTC
    assert messages.render("core.task_cancelled", "zh-CN", {
        "title": "夜巡", "starts_at": "2026-12-28T16:00:00Z", "reason": ""},
        timezone="Asia/Shanghai") == "“夜巡”（2026年12月29日（周二）00:00）已取消。"


# Language: the person's chosen locale without Accept-Language; field messages translated ----------

def test_a_person_who_chose_english_reads_english_errors_without_accept_language(client, world,
                                                                                east):
    me = world.person("me", station=east, roles=["volunteer"])
    chosen = client.patch("/api/v1/me", json={"locale": "en"}, headers=me.headers)
    assert chosen.status_code == 200
    missing = client.get(url(east, "/tasks/999999"), headers=me.headers)
    assert missing.status_code == 404 and missing.json["message"] == "Task not found."
    bad = client.post(url(east, "/tasks/999999/checkins"), json={"kind": "sideways"},
                      headers=me.headers)
    assert bad.status_code == 422
    assert bad.json["message"] == "Some fields are invalid."
    assert bad.json["details"]["fields"]["json"]["kind"] == ["Must be one of: in, out."]
    assert bad.json["details"]["fields"]["json"]["lat"] == ["Missing data for required field."]
    # Accept-Language, when sent, still wins
    chinese = client.get(url(east, "/tasks/999999"),
                         headers={**me.headers, "Accept-Language": "zh-CN"})
    assert chinese.json["message"] == "未找到该任务。"
    # nobody signed in: the default, zh-CN
    assert client.get("/api/v1/me").json["message"] == "请先登录。"


def test_field_messages_are_in_chinese_by_default(client, world, east):
    officer = world.person("officer", station=east, roles=["officer"])
    answer = client.post(url(east, "/tasks"), headers=officer.headers, json=task_body(
        capacity=0, title="", radius_m="far", colour="red", starts_at="soon"))
    assert answer.status_code == 422 and answer.json["message"] == "部分字段无效。"
    fields = answer.json["details"]["fields"]["json"]
    assert fields["colour"] == ["未知字段。"]
    assert fields["radius_m"] == ["不是有效的整数。"]
    assert fields["starts_at"] == ["不是有效的日期时间。"]
    assert any(text.startswith("长度") for text in fields["title"]), fields["title"]
    assert any(text.startswith("必须大于或等于 1") for text in fields["capacity"]), fields
    english = client.post(url(east, "/tasks"), headers={**officer.headers, "Accept-Language": "en"},
                          json=task_body(colour="red"))
    assert english.json["details"]["fields"]["json"]["colour"] == ["Unknown field."]


def test_every_marshmallow_message_and_our_validators_have_a_chinese_text(deployment):
    import inspect

    import marshmallow as ma

    from api import fields as api_fields

    english = set()
    for _name, cls in inspect.getmembers(ma.fields, inspect.isclass):
        if issubclass(cls, ma.fields.Field):
            english |= set(getattr(cls, "default_error_messages", {}).values())
    for validator in (ma.validate.Length, ma.validate.OneOf, ma.validate.Equal,
                      ma.validate.Regexp, ma.validate.ContainsOnly, ma.validate.ContainsNoneOf):
        english |= {getattr(validator, attr) for attr in dir(validator)
                    if attr.startswith("message") or attr == "default_message"}
    english |= set(ma.Schema._default_error_messages.values())
    english.add(api_fields.PHONE.error)
    templated = {"Not a valid {obj_type}.", "Not a valid {awareness} {obj_type}.",
                 '"{input}" cannot be formatted as a {obj_type}.',
                 "{input!r} cannot be formatted as a timedelta."}
    for text in sorted(english - templated):
        assert messages.field_message(text, "zh-CN") != text, text
    for low, high in ((1, None), (None, 9), (1, 9)):
        for inclusive in (True, False):
            rendered = ma.validate.Range(low, high, min_inclusive=inclusive,
                                         max_inclusive=inclusive)
            try:
                rendered(-100 if low is not None else 100)
            except ma.ValidationError as error:
                assert messages.field_message(error.messages[0], "zh-CN") != error.messages[0]
    assert messages.field_message("Not a valid datetime.", "zh-CN") == "不是有效的日期时间。"
    assert messages.field_message("Use HH:MM (24 h).", "zh-CN") == "请使用 HH:MM（24 小时制）。"
