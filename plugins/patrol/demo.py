"""Demo data: a night-patrol route through a fictitious neighbourhood, a team, patrols, an incident."""

from __future__ import annotations

import datetime as dt
import uuid

import sqlalchemy as sa
from sqlalchemy import orm as so

from core import clock
from core.access import Actor
from core.models import Group, GroupMember, Membership, Station, User
from plugins.patrol import checkpoints, codes, incidents, service
from plugins.patrol.models import DutyShift

# 幸福里 (Xingfuli) is made up; the coordinates sit in an unremarkable spot.
CENTRE = (30.2650, 120.1720)
STOPS = [  # name, metres north, metres east, grid cell index
    ("东门岗亭 East gate booth", 0, 120, 0),
    ("3号楼电动车棚 E-bike shed, building 3", 60, 60, 0),
    ("儿童乐园 Playground", 110, -10, 1),
    ("地下车库入口 Garage entrance", 40, -90, 1),
    ("西门便利店 West gate shop", -50, -130, 2),
]


def _at(north_m: float, east_m: float) -> tuple[float, float]:
    lat = CENTRE[0] + north_m / 111_320
    lon = CENTRE[1] + east_m / 96_490  # metres per degree of longitude near 30° N
    return round(lat, 6), round(lon, 6)


def _actor(session: so.Session, station: Station, user: User) -> Actor:
    membership = session.scalar(sa.select(Membership).where(
        Membership.station_id == station.id, Membership.user_id == user.id))
    return Actor(user, station, membership)


def seed(session: so.Session, station: Station, people: dict[str, User]) -> None:
    now = clock.now()
    officer = _actor(session, station, people["officer"])
    team = Group(station_id=station.id, kind="patrol_team", name="红袖标巡逻一队 Red Armband Team 1",
                 description="幸福里志愿巡逻队 Xingfuli volunteer patrol")
    cells = [Group(station_id=station.id, kind="grid", name=f"幸福里第{n}网格 Xingfuli grid {n}",
                   polygon=[list(_at(-80 + 80 * (n - 1), -160)), list(_at(-80 + 80 * n, -160)),
                            list(_at(-80 + 80 * n, 160)), list(_at(-80 + 80 * (n - 1), 160))])
             for n in (1, 2, 3)]
    session.add_all([team, *cells])
    session.flush()
    for key in ("volunteer1", "volunteer2", "volunteer3"):
        session.add(GroupMember(station_id=station.id, group_id=team.id, user_id=people[key].id,
                                is_leader=key == "volunteer1"))
    route = checkpoints.create_route(
        session, officer, name="幸福里夜巡路线 Xingfuli night round", team_group_id=team.id,
        description="每晚 20:00–次日 06:00 每两小时一趟 Every two hours, 20:00-06:00",
        checkpoints=[{"name": name, "lat": _at(n, e)[0], "lon": _at(n, e)[1], "radius_m": 30,
                      "grid_group_id": cells[cell].id} for name, n, e, cell in STOPS])
    stops = checkpoints.route_checkpoints(session, route)
    session.add(DutyShift(station_id=station.id, officer_id=people["officer"].id,
                          starts_at=now - dt.timedelta(hours=12),
                          ends_at=now + dt.timedelta(hours=12), note="值班 On duty",
                          created_by=people["admin"].id))
    # A patrol finished two hours ago, every checkpoint scanned with the code of its moment.
    walker = _actor(session, station, people["volunteer1"])
    started = now - dt.timedelta(hours=3)
    patrol, _ = service.start_patrol(session, walker, route_id=route.id, started_at=started,
                                     client_id=str(uuid.uuid4()))
    _walk(session, walker, patrol.id, stops, started)
    service.finish_patrol(session, walker, patrol.id, finished_at=started + dt.timedelta(minutes=30))
    # One under way, halfway round, whose walker has just seen something.
    walker2 = _actor(session, station, people["volunteer2"])
    started2 = now - dt.timedelta(minutes=20)
    patrol2, _ = service.start_patrol(session, walker2, route_id=route.id, started_at=started2,
                                      client_id=str(uuid.uuid4()))
    _walk(session, walker2, patrol2.id, stops[:2], started2)
    lat, lon = _at(105, -5)
    incidents.report(session, walker2, category="suspicious_person", lat=lat, lon=lon,
                     accuracy_m=12, patrol_id=patrol2.id, client_id=str(uuid.uuid4()),
                     description="一名男子在电动车棚附近反复查看电瓶 A man keeps checking e-bike "
                                 "batteries near the shed")


def _walk(session: so.Session, who: Actor, patrol_id: int, stops: list, started: dt.datetime) -> None:
    for index, stop in enumerate(stops):
        at = started + dt.timedelta(minutes=4 + 5 * index)
        service.scan(session, who, patrol_id, service.ScanInput(
            checkpoint_id=stop.id, code=codes.code_at(stop.secret, at, stop.code_step_s),
            lat=round(stop.lat + 0.00002 * (index + 1), 7), lon=round(stop.lon - 0.00001 * index, 7),
            accuracy_m=8 + index, is_mock=False, device_time=at, client_id=str(uuid.uuid4())))
