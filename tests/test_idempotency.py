"""Idempotency-Key on non-auth POSTs: replays, reuse with another body, refusals, races."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
import sqlalchemy as sa

from core import clock
from core.models import Assignment, IdempotencyKey, PointsBalance, PointsEntry
from tests.test_tasks import START, task_body, url


@pytest.fixture
def scene(client, world):
    clock.freeze(START - dt.timedelta(days=1))
    east = world.station("east")
    officer = world.person("officer", station=east, roles=["officer"])
    vol = world.person("v", station=east, roles=["volunteer"])
    task = client.post(url(east, "/tasks"), json=task_body(capacity=1),
                       headers=officer.headers).json
    return east, officer, vol, task


def keyed(person, key):
    return {**person.headers, "Idempotency-Key": key}


def test_a_replay_returns_the_same_status_and_body_and_does_nothing_again(client, scene,
                                                                            session):
    east, _officer, vol, task = scene
    path = url(east, f"/tasks/{task['id']}/signups")
    first = client.post(path, json={}, headers=keyed(vol, "signup-1"))
    replay = client.post(path, json={}, headers=keyed(vol, "signup-1"))
    assert first.status_code == replay.status_code == 201
    assert replay.get_data() == first.get_data()
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert session.scalar(sa.select(sa.func.count()).select_from(Assignment)
                          .where(Assignment.task_id == task["id"])) == 1
    # without the key, the same request is a new one and is refused
    assert client.post(path, json={}, headers=vol.headers).status_code == 409


def test_the_same_key_with_another_body_is_refused(client, scene):
    east, officer, vol, _task = scene
    path = url(east, "/points/adjustments")
    body = {"user_id": vol.id, "amount": 5, "reason": "Helped at the fair"}
    assert client.post(path, json=body, headers=keyed(officer, "adj")).status_code == 201
    # the body is compared canonically: the same fields in another order are the same request
    same = client.post(path, json=dict(reversed(list(body.items()))),
                       headers=keyed(officer, "adj"))
    assert same.status_code == 201 and same.headers["Idempotent-Replayed"] == "true"
    other = client.post(path, json={**body, "amount": 50}, headers=keyed(officer, "adj"))
    assert other.status_code == 422 and other.json["code"] == "idempotency_key_reused"
    elsewhere = client.post(url(east, "/tasks"), json=task_body(), headers=keyed(officer, "adj"))
    assert elsewhere.status_code == 422 and elsewhere.json["code"] == "idempotency_key_reused"
    assert client.get(url(east, "/points/balance"), headers=vol.headers).json["balance"] == 5


def test_a_refusal_is_stored_and_replayed_too(client, world, scene, session):
    east, _officer, vol, task = scene
    other = world.person("w", station=east, roles=["volunteer"])
    path = url(east, f"/tasks/{task['id']}/signups")
    client.post(path, json={}, headers=vol.headers)
    refused = client.post(path, json={}, headers=keyed(other, "k"))
    assert refused.status_code == 409 and refused.json["code"] == "task_full"
    client.delete(f"{path}/me", headers=vol.headers)  # a place frees up
    replay = client.post(path, json={}, headers=keyed(other, "k"))
    assert replay.status_code == 409 and replay.get_data() == refused.get_data()
    stored = session.scalar(sa.select(IdempotencyKey).where(IdempotencyKey.user_id == other.id))
    assert stored.status_code == 409
    # a fresh key is a fresh attempt
    assert client.post(path, json={}, headers=keyed(other, "k2")).status_code == 201


def test_keys_belong_to_one_person_and_have_a_length_limit(client, world, scene):
    east, _officer, vol, _task = scene
    second = client.post(url(east, "/tasks"), json=task_body(capacity=5),
                         headers=scene[1].headers).json
    other = world.person("w", station=east, roles=["volunteer"])
    path = url(east, f"/tasks/{second['id']}/signups")
    assert client.post(path, json={}, headers=keyed(vol, "same")).status_code == 201
    theirs = client.post(path, json={}, headers=keyed(other, "same"))
    assert theirs.status_code == 201 and theirs.json["user_id"] == other.id
    long = client.post(path, json={}, headers=keyed(vol, "x" * 129))
    assert long.status_code == 422 and long.json["code"] == "idempotency_key_invalid"


def test_sign_in_posts_are_not_keyed(client, world, session):
    person = world.person()
    answer = client.post("/api/v1/auth/token", json={
        "grant_type": "password", "phone": person.phone, "password": "correct horse"},
        headers={"Idempotency-Key": "login"})
    assert answer.status_code == 200
    assert session.scalar(sa.select(sa.func.count()).select_from(IdempotencyKey)) == 0


@pytest.mark.postgres_only
def test_twenty_concurrent_duplicates_have_one_effect(app, live_world):
    world = live_world
    east = world.station("east")
    officer = world.person("officer", station=east, roles=["officer"])
    vol = world.person("v", station=east, roles=["volunteer"])
    body = {"user_id": vol.id, "amount": 7, "reason": "Night shift"}
    barrier = threading.Barrier(20)
    answers: list[tuple[int, bytes]] = []

    def post() -> None:
        with app.test_client() as client:
            barrier.wait()
            answer = client.post(url(east, "/points/adjustments"), json=body,
                                 headers=keyed(officer, "adjust-once"))
            answers.append((answer.status_code, answer.get_data()))

    threads = [threading.Thread(target=post) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [status for status, _ in answers] == [201] * 20
    assert len({data for _, data in answers}) == 1
    session = world.session
    entries = session.scalars(sa.select(PointsEntry).where(PointsEntry.user_id == vol.id)).all()
    assert [e.amount for e in entries] == [7]
    assert session.scalar(sa.select(PointsBalance.balance)
                          .where(PointsBalance.user_id == vol.id)) == 7
