"""PostgreSQL: planners and campaign runs started at once never double a recipient's visits."""

from __future__ import annotations

import datetime as dt
import threading
from collections import Counter

import pytest
import sqlalchemy as sa

from core import clock
from core.models import Group, GroupMember
from plugins.care_visits.models import Visit
from tests.plugins.care_visits.conftest import CONSENT, HOME, NOW

THREADS = 10


@pytest.fixture
def live_care(live_world):
    clock.freeze(NOW)
    world = live_world
    station = world.station("east", plugins=("care_visits",))
    team = Group(station_id=station.id, kind="care_team", name="Care team")
    world.session.add(team)
    world.session.commit()
    officer = world.person("Officer Care", station=station, roles=["officer"])
    world.session.add(GroupMember(station_id=station.id, group_id=team.id, user_id=officer.id))
    world.session.commit()
    base = f"/api/v1/stations/{station.code}/care-visits"
    for n, categories in enumerate((["elderly_alone"], ["hardship"], ["disabled"])):
        made = world.client.post(f"{base}/recipients", headers=officer.headers, json={
            "name": f"Resident {n}", "address": f"Room {n}", "lat": HOME[0], "lon": HOME[1],
            "categories": categories, "care_group_id": team.id, "consent": CONSENT})
        assert made.status_code == 201, made.json
    return world, base, officer


def at_once(app, requests):
    barrier = threading.Barrier(len(requests))
    statuses: list[int] = []

    def run(method, path, headers, body):
        with app.test_client() as client:
            barrier.wait()
            statuses.append(getattr(client, method)(path, headers=headers, json=body).status_code)

    threads = [threading.Thread(target=run, args=r) for r in requests]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return statuses


@pytest.mark.postgres_only
def test_planners_started_at_once_plan_each_year_once(app, live_care):
    world, base, officer = live_care
    statuses = at_once(app, [("post", f"{base}/plan", officer.headers, {})] * THREADS)
    assert statuses == [200] * THREADS
    per_recipient = Counter(world.session.scalars(sa.select(Visit.recipient_id)))
    assert sorted(per_recipient.values()) == [5, 5, 12]


@pytest.mark.postgres_only
def test_a_campaign_run_at_once_gives_each_recipient_one_visit(app, live_care):
    world, base, officer = live_care
    created = world.client.post(f"{base}/campaigns", headers=officer.headers, json={
        "name": "Spring Festival visits", "starts_at": clock.now().isoformat(),
        "ends_at": (clock.now() + dt.timedelta(days=14)).isoformat(),
        "categories": ["hardship", "disabled"]}).json
    assert created["visits"]["created"] == 2
    world.client.post(f"{base}/recipients", headers=officer.headers, json={
        "name": "Late arrival", "address": "Room 9", "lat": HOME[0], "lon": HOME[1],
        "categories": ["hardship"], "consent": CONSENT})
    path = f"{base}/campaigns/{created['campaign']['id']}/run"
    statuses = at_once(app, [("post", path, officer.headers, {})] * THREADS)
    assert statuses == [200] * THREADS
    per_recipient = Counter(world.session.scalars(sa.select(Visit.recipient_id).where(
        Visit.campaign_id == created["campaign"]["id"])))
    assert len(per_recipient) == 3 and set(per_recipient.values()) == {1}


@pytest.mark.postgres_only
def test_forty_guesses_at_once_get_five_tries(app, live_care, texts):
    world, base, officer = live_care
    made = world.client.post(f"{base}/recipients", headers=officer.headers, json={
        "name": "Gao Lan", "phone": "+8613600001111", "address": "Room 7", "lat": HOME[0],
        "lon": HOME[1], "categories": ["elderly_alone"], "consent": CONSENT,
        "named_visitor_ids": [officer.id]})
    assert made.status_code == 201, made.json
    world.client.post(f"{base}/plan", headers=officer.headers, json={})
    visit = world.client.get(f"{base}/visits?recipient_id={made.json['id']}",
                             headers=officer.headers).json[0]
    task_url = base.replace("/care-visits", f"/tasks/{visit['task_id']}/checkins")
    checked_in = world.client.post(task_url, headers=officer.headers, json={
        "kind": "in", "lat": HOME[0], "lon": HOME[1], "accuracy_m": 10.0,
        "device_time": clock.now().isoformat(), "client_id": "ack-race-in"})
    assert checked_in.status_code == 201, checked_in.json
    sent = world.client.post(f"{base}/visits/{visit['id']}/acknowledgement/code",
                             headers=officer.headers, json={})
    assert sent.status_code == 200, sent.json
    code = texts.sent[-1]["params"]["pin"]
    guesses = [f"{(int(code) + 1 + i) % 1_000_000:06d}" for i in range(40)]
    barrier = threading.Barrier(len(guesses))
    answers: list[tuple[int, str | None]] = []

    def guess(value):
        with app.test_client() as client:
            barrier.wait()
            answer = client.post(f"{base}/visits/{visit['id']}/acknowledgement",
                                 headers=officer.headers, json={"code": value})
            answers.append((answer.status_code, (answer.json or {}).get("code")))

    threads = [threading.Thread(target=guess, args=(g,)) for g in guesses]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert Counter(answers) == {(422, "ack_code_wrong"): 5, (409, "ack_code_locked"): 35}
    right = world.client.post(f"{base}/visits/{visit['id']}/acknowledgement",
                              headers=officer.headers, json={"code": code})
    assert right.status_code == 409 and right.json["code"] == "ack_code_locked"
    world.session.expire_all()
    assert world.session.get(Visit, visit["id"]).ack_attempts == 5
