"""Demo data: a fictitious station with one person per role, and each plugin's demo records."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy import orm as so

from core import accounts, events, stations
from core.models import Membership, Station, StationPlugin, User

DEMO_PASSWORD = "wardens-demo"
DEMO_STATION = "demo"

# (key, phone, name, roles) — fictitious people of a fictitious station.
PEOPLE = [
    ("admin", "+8613800000001", "站长 王安", ["admin", "officer"]),
    ("officer", "+8613800000002", "民警 李卫", ["officer"]),
    ("volunteer1", "+8613800000003", "志愿者 张红", ["volunteer", "resident"]),
    ("volunteer2", "+8613800000004", "志愿者 陈刚", ["volunteer", "resident"]),
    ("volunteer3", "+8613800000005", "志愿者 刘梅", ["volunteer", "resident"]),
    ("resident1", "+8613800000006", "居民 赵丽", ["resident"]),
    ("resident2", "+8613800000007", "居民 孙强", ["resident"]),
    ("merchant", "+8613800000008", "商户 周平", ["merchant", "resident"]),
    ("partner", "+8613800000009", "物业 吴军", ["partner"]),
]
SUPERUSER = ("superuser", "+8613800000000", "系统管理员")


def seed(session: so.Session) -> dict[str, User]:
    """Create the demo station and people once; later runs change nothing."""
    people: dict[str, User] = {}
    key, phone, name = SUPERUSER
    people[key] = accounts.find_by_phone(session, phone) or accounts.create_user(
        session, phone=phone, display_name=name, password=DEMO_PASSWORD, is_superuser=True,
        phone_verified=True)
    station = session.scalar(sa.select(Station).where(Station.code == DEMO_STATION))
    fresh = station is None
    if station is None:
        station, _ = stations.create_station(
            session, people["superuser"], code=DEMO_STATION, name="示范社区警务站 Demo Station",
            timezone="Asia/Shanghai", open_join=True, admin_phone=PEOPLE[0][1])
    for key, phone, name, roles in PEOPLE:
        user = accounts.find_by_phone(session, phone) or accounts.create_user(
            session, phone=phone, display_name=name, password=DEMO_PASSWORD, phone_verified=True)
        people[key] = user
        membership = session.scalar(sa.select(Membership).where(
            Membership.station_id == station.id, Membership.user_id == user.id))
        if membership is None:
            membership = Membership(station_id=station.id, user_id=user.id, roles=roles)
            session.add(membership)
            session.flush()
            events.membership_created(session, membership)
        elif fresh:
            membership.roles = roles
    if fresh:
        deployment = events.deployment(session)
        for name in deployment.plugins:
            session.add(StationPlugin(station_id=station.id, name=name, enabled=True))
        session.flush()
        deployment.forget_switches(session)
        deployment.hooks_for(session, station.id).wardens_seed_demo(
            session=session, station=station, people=people)
    return people


def logins() -> list[tuple[str, str, str]]:
    """(who, phone, password) for the printed list."""
    rows = [(SUPERUSER[0], SUPERUSER[1], DEMO_PASSWORD)]
    rows += [(f"{key} ({', '.join(roles)})", phone, DEMO_PASSWORD)
             for key, phone, _name, roles in PEOPLE]
    return rows
