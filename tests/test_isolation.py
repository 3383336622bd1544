"""Station isolation: a member of A sees nothing of B; a resident cannot do admin work."""

from __future__ import annotations

import sqlalchemy as sa

from core.models import Group, Membership


def test_a_member_of_a_gets_404_on_every_b_path_with_nothing_of_b(client, world, session):
    a = world.station("alpha")
    b = world.station("bravo")
    outsider = world.person("outsider", station=a, roles=["admin", "officer"])
    b_admin = world.person("bravo-admin", station=b, roles=["admin"])
    group = Group(station_id=b.id, kind="grid", name="Bravo secret grid")
    session.add(group)
    session.commit()
    member_id = session.scalar(sa.select(Membership.id).where(Membership.user_id == b_admin.id))
    paths = [
        ("get", "/api/v1/stations/bravo"),
        ("patch", "/api/v1/stations/bravo"),
        ("get", "/api/v1/stations/bravo/members"),
        ("post", "/api/v1/stations/bravo/members"),
        ("patch", f"/api/v1/stations/bravo/members/{member_id}"),
        ("delete", f"/api/v1/stations/bravo/members/{member_id}"),
        ("get", "/api/v1/stations/bravo/groups"),
        ("post", "/api/v1/stations/bravo/groups"),
        ("get", f"/api/v1/stations/bravo/groups/{group.id}"),
        ("patch", f"/api/v1/stations/bravo/groups/{group.id}"),
        ("delete", f"/api/v1/stations/bravo/groups/{group.id}"),
        ("put", f"/api/v1/stations/bravo/groups/{group.id}/members/{b_admin.id}"),
        ("get", "/api/v1/stations/bravo/audit"),
        ("post", "/api/v1/stations/bravo/join"),
    ]
    bodies = {"post": {"phone": "+8613900009999", "roles": ["admin"]},
              "patch": {"roles": ["resident"]}, "put": {"leader": True}}
    for method, path in paths:
        body = bodies.get(method)
        if path.endswith("/groups") and method == "post":
            body = {"kind": "grid", "name": "x"}
        if method == "patch" and "/members/" not in path:
            body = {"name": "taken over"}
        answer = getattr(client, method)(path, headers=outsider.headers, json=body)
        assert answer.status_code == 404, (method, path, answer.json)
        assert answer.json["code"] == "station_not_found"
        text = answer.get_data(as_text=True)
        assert "Bravo" not in text and "bravo-admin" not in text
    listed = client.get("/api/v1/stations", headers=outsider.headers)
    assert [s["code"] for s in listed.json] == ["alpha"]
    assert session.get(Group, group.id).name == "Bravo secret grid"


def test_a_resident_gets_403_on_admin_operations(client, world):
    station = world.station("alpha")
    resident = world.person("res", station=station, roles=["resident"])
    for method, path, body in [
        ("patch", "/api/v1/stations/alpha", {"name": "mine now"}),
        ("get", "/api/v1/stations/alpha/members", None),
        ("post", "/api/v1/stations/alpha/members", {"phone": "+8613900001111",
                                                    "roles": ["admin"]}),
        ("post", "/api/v1/stations/alpha/groups", {"kind": "grid", "name": "g"}),
        ("get", "/api/v1/stations/alpha/audit", None),
    ]:
        answer = getattr(client, method)(path, headers=resident.headers, json=body)
        assert answer.status_code == 403, (method, path)
        assert answer.json["code"] == "role_required"
    # what a resident may do: see the station and its groups
    assert client.get("/api/v1/stations/alpha", headers=resident.headers).status_code == 200
    assert client.get("/api/v1/stations/alpha/groups", headers=resident.headers).status_code == 200


def test_no_token_is_401_everywhere_but_sign_in(client):
    for path in ("/api/v1/me", "/api/v1/stations", "/api/v1/stations/alpha/members"):
        answer = client.get(path)
        assert answer.status_code == 401 and answer.json["code"] == "authentication_required"
    forged = client.get("/api/v1/me", headers={"Authorization": "Bearer not.a.token"})
    assert forged.status_code == 401 and forged.json["code"] == "invalid_token"
