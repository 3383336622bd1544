"""Two admins demoting each other at once: the station keeps an admin (PostgreSQL, threads)."""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa

from core.models import Membership


@pytest.mark.postgres_only
def test_two_admins_demoting_each_other_at_once_leave_one_admin(app, live_world):
    world = live_world
    station = world.station("east")
    session = world.session
    # The station's first admin is a seat waiting for a phone: leave exactly two admins.
    session.execute(sa.delete(Membership).where(Membership.station_id == station.id,
                                                Membership.user_id.is_(None)))
    session.commit()
    first = world.person("first admin", station=station, roles=["admin"])
    second = world.person("second admin", station=station, roles=["admin"])
    seats = {m.user_id: m.id for m in session.scalars(
        sa.select(Membership).where(Membership.station_id == station.id))}
    barrier = threading.Barrier(2)
    statuses: list[int] = []

    def demote(me, other) -> None:
        with app.test_client() as client:
            barrier.wait()
            answer = client.patch(f"/api/v1/stations/east/members/{seats[other.id]}",
                                  headers=me.headers, json={"roles": ["officer"]})
            statuses.append(answer.status_code)

    threads = [threading.Thread(target=demote, args=pair)
               for pair in ((first, second), (second, first))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(statuses) == [200, 409]
    session.expire_all()
    roles = session.scalars(sa.select(Membership.roles).where(
        Membership.station_id == station.id)).all()
    assert sum("admin" in r for r in roles) == 1
