"""What a fuzzer found: 500s, silent truncation, 422 before 401, headers the HTTP rules require."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from core.models import Membership, PointsEntry


@pytest.fixture
def east(world):
    return world.station("east")


@pytest.fixture
def admin(world, east):
    return world.person("admin", station=east, roles=["admin", "officer"])


def test_members_without_roles_is_a_422_for_anyone(world, east, admin):
    resident = world.person("resident", station=east)
    target = world.session.scalar(sa.select(Membership).where(
        Membership.user_id == resident.id))
    for who in (admin, resident):
        created = world.client.post("/api/v1/stations/east/members", json={"phone": "+8613900009999"},
                                    headers=who.headers)
        assert created.status_code == 422, created.json
        changed = world.client.patch(f"/api/v1/stations/east/members/{target.id}", json={},
                                     headers=who.headers)
        assert changed.status_code == 422, changed.json
    assert world.session.scalar(sa.select(sa.func.count()).select_from(Membership).where(
        Membership.station_id == east.id)) == 3  # the first admin, admin, resident


def test_members_with_a_text_body_or_an_unknown_id_is_never_a_500(world, east, admin):
    plain = world.client.post("/api/v1/stations/east/members", data="phone=+8613900009999",
                              content_type="text/plain", headers=admin.headers)
    assert plain.status_code == 422, plain.json
    unknown = world.client.patch("/api/v1/stations/east/members/987654", json={"roles": ["resident"]},
                                 headers=admin.headers)
    assert unknown.status_code == 404, unknown.json
    assert unknown.json["code"] == "member_not_found"


@pytest.mark.parametrize("body", [
    {"user_id": 7.9, "amount": 1, "reason": "x"},
    {"user_id": "{id}", "amount": 1.9, "reason": "x"},
    {"user_id": "{id}", "amount": "5", "reason": "x"},
    {"user_id": "{id}", "amount": True, "reason": "x"},
    {"user_id": "{id}", "amount": 1.0, "reason": "x"},
])
def test_a_number_is_never_truncated_or_converted(world, east, admin, body):
    volunteer = world.person("volunteer", station=east)
    body = {k: (volunteer.id if v == "{id}" else v) for k, v in body.items()}
    answer = world.client.post("/api/v1/stations/east/points/adjustments", json=body,
                               headers=admin.headers)
    assert answer.status_code == 422, answer.json
    assert answer.json["code"] == "validation_error"
    assert world.session.scalar(sa.select(sa.func.count()).select_from(PointsEntry)) == 0


def test_text_numbers_in_a_query_string_still_read(world, east, admin):
    answer = world.client.get(f"/api/v1/stations/east/points/balance?user_id={admin.id}",
                              headers=admin.headers)
    assert answer.status_code == 200, answer.json
    assert world.client.get(f"/api/v1/stations/east/points/balance?user_id={admin.id}.5",
                            headers=admin.headers).status_code == 422


def test_booleans_in_a_body_are_json_booleans(world, east, admin):
    answer = world.client.patch("/api/v1/stations/east", json={"open_join": "yes"},
                                headers=admin.headers)
    assert answer.status_code == 422, answer.json
    answer = world.client.patch("/api/v1/stations/east", json={"open_join": 1},
                                headers=admin.headers)
    assert answer.status_code == 422, answer.json
    assert world.client.patch("/api/v1/stations/east", json={"open_join": True},
                              headers=admin.headers).status_code == 200


def test_authentication_is_checked_before_the_body(world, east):
    for body in ({"user_id": "x"}, None):
        answer = world.client.post("/api/v1/stations/east/points/adjustments", json=body)
        assert answer.status_code == 401, answer.json
        assert answer.json["code"] == "authentication_required"
        assert answer.headers["WWW-Authenticate"] == "Bearer"
    answer = world.client.post("/api/v1/stations/east/groups", data=b'{"kind": ',
                               content_type="application/json",
                               headers={"Authorization": "Bearer nonsense"})
    assert answer.status_code == 401 and answer.json["code"] == "invalid_token"
    assert answer.headers["WWW-Authenticate"] == "Bearer"


def test_public_operations_need_no_token(client):
    answer = client.post("/api/v1/auth/token", json={"grant_type": "password"})
    assert answer.status_code == 422, answer.json


def test_405_lists_the_allowed_methods(world, admin):
    answer = world.client.put("/api/v1/stations/east/members", json={}, headers=admin.headers)
    assert answer.status_code == 405
    assert answer.json["code"] == "method_not_allowed"
    assert set(answer.headers["Allow"].replace(" ", "").split(",")) >= {"GET", "POST"}


def test_deleting_a_group_something_still_uses_is_a_409(world, session):
    from plugins.anti_fraud.models import Shop

    station = world.station("east", plugins=("anti_fraud",))
    officer = world.person("officer", station=station, roles=["officer", "admin"])
    shop = world.client.post("/api/v1/stations/east/anti-fraud/shops", headers=officer.headers,
                             json={"name": "Corner", "address": "12 Demo Road", "lat": 30.27,
                                   "lon": 120.15})
    assert shop.status_code == 201, shop.json
    group_id = session.get(Shop, shop.json["id"]).group_id
    answer = world.client.delete(f"/api/v1/stations/east/groups/{group_id}",
                                 headers=officer.headers)
    assert answer.status_code == 409, answer.json
    assert answer.json["code"] == "group_in_use"
    assert world.client.get(f"/api/v1/stations/east/groups/{group_id}",
                            headers=officer.headers).status_code == 200


def _spec(app):
    with app.test_request_context():
        return app.extensions["flask-smorest"]["apis"][""]["ext_obj"].spec.to_dict()


def test_a_body_the_document_requires_is_required(app, world, session):
    """An operation whose document marks its body required refuses a request without one."""
    import re

    station = world.station("east", plugins=tuple(app.extensions["wardens"].plugins))
    boss = world.person("boss", station=station, roles=["admin", "officer", "volunteer"])
    boss.user.is_superuser = True
    session.commit()
    accepted = []
    for path, item in _spec(app)["paths"].items():
        for method, op in item.items():
            body = op.get("requestBody") if isinstance(op, dict) else None
            if not body or not body.get("required") or "application/json" not in body["content"]:
                continue
            url = re.sub(r"\{[^}]+\}", "1", path.replace("{station}", "east"))
            answer = world.client.open(url, method=method.upper(), headers=boss.headers)
            if answer.status_code < 400 or answer.status_code >= 500:
                accepted.append((method, path, answer.status_code))
    assert accepted == []


def test_pagination_header_is_declared_as_the_text_it_is(app, world, admin):
    spec = _spec(app)
    header = spec["components"]["headers"]["PAGINATION"]
    assert header["schema"] == {"type": "string"}
    answer = world.client.get("/api/v1/stations/east/members", headers=admin.headers)
    assert isinstance(answer.headers["X-Pagination"], str)
    assert '"total": 2' in answer.headers["X-Pagination"]
