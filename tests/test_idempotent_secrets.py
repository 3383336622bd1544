"""Answers that hold a secret are not kept by the Idempotency-Key table; a replay says so."""

from __future__ import annotations

import urllib.parse

import sqlalchemy as sa

from api.unit_of_work import SECRET_ANSWER_MARKER
from core.models import IdempotencyKey


def _stored(session) -> list[str]:
    session.expire_all()
    return list(session.scalars(sa.select(IdempotencyKey.body)).all())


def test_a_calendar_address_is_not_stored_and_its_replay_is_a_clear_409(client, world, session):
    station = world.station("east", plugins=("crossing_guard",))
    guard = world.person("guard", station=station, roles=["volunteer"])
    headers = {**guard.headers, "Idempotency-Key": "feed-1"}
    made = client.post("/api/v1/stations/east/crossing-guard/feed", headers=headers)
    assert made.status_code == 201
    token = made.json["url"].rsplit("/", 1)[1].removesuffix(".ics")
    assert _stored(session) == [SECRET_ANSWER_MARKER]
    assert all(token not in body for body in _stored(session))
    replay = client.post("/api/v1/stations/east/crossing-guard/feed", headers=headers)
    assert replay.status_code == 409
    assert replay.json["code"] == "idempotent_secret_not_replayed"
    # The address made first still works: the replay did not make another.
    assert client.get(urllib.parse.urlparse(made.json["url"]).path).status_code == 200


def test_a_rotated_checkpoint_secret_is_not_stored(client, world, session):
    station = world.station("east", plugins=("patrol",))
    officer = world.person("officer", station=station, roles=["officer"])
    route = client.post("/api/v1/stations/east/patrol/routes", headers=officer.headers, json={
        "name": "Night round", "checkpoints": [{"name": "Gate", "lat": 30.27, "lon": 120.15,
                                               "radius_m": 30}]})
    checkpoint = route.json["checkpoints"][0]["id"]
    headers = {**officer.headers, "Idempotency-Key": "rotate-1"}
    url = f"/api/v1/stations/east/patrol/checkpoints/{checkpoint}/rotate-secret"
    rotated = client.post(url, headers=headers)
    assert rotated.status_code == 200
    assert all(rotated.json["secret"] not in body and rotated.json["static_code"] not in body
               for body in _stored(session))
    replay = client.post(url, headers=headers)
    assert replay.status_code == 409 and replay.json["code"] == "idempotent_secret_not_replayed"
    # The secret is read again where it is shown, unchanged by the replay.
    shown = client.get(f"/api/v1/stations/east/patrol/checkpoints/{checkpoint}/provisioning",
                       headers=officer.headers)
    assert shown.json["secret"] == rotated.json["secret"]


def test_the_refusal_is_declared_on_the_secret_answers(client):
    spec = client.get("/api/openapi.json").json
    for path in ("/api/v1/stations/{station}/crossing-guard/feed",
                 "/api/v1/stations/{station}/patrol/checkpoints/{checkpoint_id}/rotate-secret"):
        assert "409" in spec["paths"][path]["post"]["responses"]
