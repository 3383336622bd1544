"""The demo data: seeding twice changes nothing, and every printed login signs in."""

from __future__ import annotations

import sqlalchemy as sa

from core import demo
from core.db import Base


def counts(session):
    return {t.name: session.scalar(sa.select(sa.func.count()).select_from(t))
            for t in Base.metadata.sorted_tables if t.name not in ("audit_event", "notification")}


def test_demo_seed_is_idempotent_and_its_logins_work(client, session):
    demo.seed(session)
    session.commit()
    first = counts(session)
    demo.seed(session)
    session.commit()
    assert counts(session) == first
    for who, phone, password in demo.logins():
        answer = client.post("/api/v1/auth/token", json={
            "grant_type": "password", "phone": phone, "password": password})
        assert answer.status_code == 200, who
        if who.startswith("admin"):
            headers = {"Authorization": f"Bearer {answer.json['access_token']}"}
            station = client.get("/api/v1/stations/demo", headers=headers)
            assert "admin" in station.json["my_roles"]
