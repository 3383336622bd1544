"""Demo activity on the demo file's night-patrol route: a duty shift, patrols, an incident."""

from __future__ import annotations

import datetime as dt
import uuid

import sqlalchemy as sa
from sqlalchemy import orm as so

from core import clock
from core.access import Actor
from core.models import Membership, Station, User
from plugins.patrol import checkpoints, codes, incidents, patrols, scans
from plugins.patrol.models import DutyShift, Route

ROUTE = "xingfuli-night"  # its key in examples/demo-station.toml

# 幸福里 (Xingfuli) is made up; the coordinates sit in an unremarkable spot of Hangzhou, and
# every demo place (checkpoints, school, shops, homes in examples/demo-station.toml) is within
# a kilometre of it (WGS-84).
CENTRE = (30.2650, 120.1720)


def _at(north_m: float, east_m: float) -> tuple[float, float]:
    lat = CENTRE[0] + north_m / 111_320
    lon = CENTRE[1] + east_m / 96_490  # metres per degree of longitude near 30° N
    return round(lat, 6), round(lon, 6)


def _actor(session: so.Session, station: Station, user: User) -> Actor:
    membership = session.scalar(sa.select(Membership).where(
        Membership.station_id == station.id, Membership.user_id == user.id))
    return Actor(user, station, membership)


def seed(session: so.Session, station: Station, people: dict[str, User]) -> None:
    """What happened on the route examples/demo-station.toml sets up: a duty shift, patrols."""
    now = clock.now()
    route = session.scalar(sa.select(Route).where(Route.station_id == station.id,
                                                  Route.key == ROUTE))
    if route is None:  # a demo file without the route: nothing walked it
        return
    stops = checkpoints.route_checkpoints(session, route)
    session.add(DutyShift(station_id=station.id, officer_id=people["officer"].id,
                          starts_at=now - dt.timedelta(hours=12),
                          ends_at=now + dt.timedelta(hours=12), note="值班 On duty",
                          created_by=people["admin"].id))
    # A patrol finished two hours ago, every checkpoint scanned with the code of its moment.
    walker = _actor(session, station, people["volunteer1"])
    started = now - dt.timedelta(hours=3)
    patrol, _ = patrols.start_patrol(session, walker, route_id=route.id, started_at=started,
                                     client_id=str(uuid.uuid4()))
    _walk(session, walker, patrol.id, stops, started)
    patrols.finish_patrol(session, walker, patrol.id, finished_at=started + dt.timedelta(minutes=30))
    # One under way, halfway round, whose walker has just seen something.
    walker2 = _actor(session, station, people["volunteer2"])
    started2 = now - dt.timedelta(minutes=20)
    patrol2, _ = patrols.start_patrol(session, walker2, route_id=route.id, started_at=started2,
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
        scans.scan(session, who, patrol_id, scans.ScanInput(
            checkpoint_id=stop.id, code=codes.code_at(stop.secret, at, stop.code_step_s),
            lat=round(stop.lat + 0.00002 * (index + 1), 7), lon=round(stop.lon - 0.00001 * index, 7),
            accuracy_m=8 + index, is_mock=False, device_time=at, client_id=str(uuid.uuid4())))
