"""A patrol scene: a station with patrol on, an officer, a team, grid cells and a route."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import struct
import urllib.parse
import uuid
from dataclasses import dataclass, field
from typing import Any

import pytest
import sqlalchemy as sa

from core import clock
from core.models import Group, GroupMember, PointsEntry

T0 = dt.datetime(2026, 3, 2, 12, 0, tzinfo=dt.UTC)  # 20:00 in Asia/Shanghai: a night round
BASE = (30.2650, 120.1720)
M_PER_DEG_LAT = 111_320.0
M_PER_DEG_LON = 96_490.0  # near 30° N


def offset(north_m: float, east_m: float, origin: tuple[float, float] = BASE) -> tuple[float, float]:
    return (round(origin[0] + north_m / M_PER_DEG_LAT, 7),
            round(origin[1] + east_m / M_PER_DEG_LON, 7))


def totp(secret: str, at: dt.datetime, period: int = 30) -> str:
    """RFC 6238, written out here so the tests do not trust the plugin's own implementation."""
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    counter = int(at.timestamp()) // period
    digest = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    offset_ = digest[-1] & 0x0F
    value = struct.unpack(">I", digest[offset_:offset_ + 4])[0] & 0x7FFFFFFF
    return f"{value % 1_000_000:06d}"


@dataclass
class Tag:
    """A checkpoint as its tag was provisioned (from the otpauth URI the API hands out)."""

    id: int
    lat: float
    lon: float
    secret: str
    period: int
    static_code: str

    def code(self, at: dt.datetime) -> str:
        return totp(self.secret, at, self.period)


@dataclass
class Scene:
    client: Any
    session: Any
    world: Any
    station: Any
    officer: Any
    walker: Any
    team_id: int
    grid_ids: list[int]
    route_id: int = 0
    tags: list[Tag] = field(default_factory=list)

    def url(self, path: str) -> str:
        return f"/api/v1/stations/{self.station.code}/patrol{path}"

    signed: dict[int, dt.datetime] = field(default_factory=dict)

    def headers(self, person: Any) -> dict[str, str]:
        """The person's bearer header, signed in again when the frozen clock outran the token."""
        if clock.now() - self.signed.get(id(person), T0) > dt.timedelta(minutes=10):
            person.token = self.world.sign_in(person.user, person.phone).token
            self.signed[id(person)] = clock.now()
        return person.headers

    def post(self, path: str, person: Any = None, **kwargs: Any) -> Any:
        return self.client.post(self.url(path), headers=self.headers(person or self.walker),
                                **kwargs)

    def put(self, path: str, person: Any = None, **kwargs: Any) -> Any:
        return self.client.put(self.url(path), headers=self.headers(person or self.officer),
                               **kwargs)

    def delete(self, path: str, person: Any = None, **kwargs: Any) -> Any:
        return self.client.delete(self.url(path), headers=self.headers(person or self.officer),
                                  **kwargs)

    def get(self, path: str, person: Any = None, **kwargs: Any) -> Any:
        return self.client.get(self.url(path), headers=self.headers(person or self.officer),
                               **kwargs)

    def start(self, person: Any = None, **body: Any) -> dict[str, Any]:
        body.setdefault("route_id", self.route_id)
        answer = self.post("/patrols", person, json=body)
        assert answer.status_code == 201, answer.json
        return answer.json

    def body(self, index: int, at: dt.datetime | None = None, *, code: str | None = None,
             north_m: float | None = None, east_m: float = 2.0, accuracy_m: float = 8.0,
             is_mock: bool = False, position: tuple[float, float] | None = None,
             client_id: str | None = None) -> dict[str, Any]:
        """A scan of tag ``index`` at ``at`` (default now), a few metres from the checkpoint."""
        tag = self.tags[index]
        at = at or clock.now()
        if north_m is None:  # a real fix wanders a little: never the same twice
            north_m = 3.0 + (int(at.timestamp()) % 89) / 50
        lat, lon = position or offset(north_m, east_m, (tag.lat, tag.lon))
        return {"checkpoint_id": tag.id, "code": code if code is not None else tag.code(at),
                "lat": lat, "lon": lon, "accuracy_m": accuracy_m, "is_mock": is_mock,
                "device_time": at.isoformat(), "client_id": client_id or str(uuid.uuid4())}

    def scan(self, patrol_id: int, index: int, at: dt.datetime | None = None,
             person: Any = None, **kwargs: Any) -> Any:
        return self.post(f"/patrols/{patrol_id}/scans", person, json=self.body(index, at, **kwargs))

    def finish(self, patrol_id: int, person: Any = None) -> Any:
        return self.post(f"/patrols/{patrol_id}/finish", person, json={})

    def points(self, person: Any = None) -> list[tuple[str, int, str]]:
        rows = self.session.execute(
            sa.select(PointsEntry.event_code, PointsEntry.amount, PointsEntry.source_id)
            .where(PointsEntry.station_id == self.station.id,
                   PointsEntry.user_id == (person or self.walker).id)
            .order_by(PointsEntry.id)).all()
        return [tuple(r) for r in rows]

    def make_route(self, name: str = "Night round", *, ordered: bool = False, count: int = 5,
                   radius_m: int = 30, spacing_m: float = 150.0) -> tuple[int, list[Tag]]:
        """A route of ``count`` checkpoints ``spacing_m`` apart going east, over the grid cells."""
        checkpoints = []
        for i in range(count):
            lat, lon = offset(0, spacing_m * i)
            checkpoints.append({"name": f"Point {i + 1}", "lat": lat, "lon": lon,
                                "radius_m": radius_m,
                                "grid_group_id": self.grid_ids[min(i // 2, 2)]})
        answer = self.post("/routes", self.officer, json={
            "name": name, "team_group_id": self.team_id, "ordered": ordered,
            "checkpoints": checkpoints})
        assert answer.status_code == 201, answer.json
        tags = [self.provision(c) for c in answer.json["checkpoints"]]
        return answer.json["id"], tags

    def provision(self, checkpoint: dict[str, Any]) -> Tag:
        """Set up a tag the way an officer would: from the otpauth URI of the provisioning call."""
        answer = self.get(f"/checkpoints/{checkpoint['id']}/provisioning")
        assert answer.status_code == 200, answer.json
        uri = urllib.parse.urlparse(answer.json["otpauth_uri"])
        assert uri.scheme == "otpauth" and uri.netloc == "totp"
        query = dict(urllib.parse.parse_qsl(uri.query))
        assert query["digits"] == "6" and query["algorithm"] == "SHA1"
        return Tag(checkpoint["id"], checkpoint["lat"], checkpoint["lon"], query["secret"],
                   int(query["period"]), answer.json["static_code"])


@pytest.fixture
def scene(client, session, world) -> Scene:
    return build_scene(client, session, world)


def build_scene(client: Any, session: Any, world: Any) -> Scene:
    clock.freeze(T0)
    station = world.station("east", plugins=("patrol",))
    officer = world.person("Officer Li", station=station, roles=["officer"])
    walker = world.person("Volunteer Zhang", station=station, roles=["volunteer"])
    team = Group(station_id=station.id, kind="patrol_team", name="Red armband team 1")
    grids = [Group(station_id=station.id, kind="grid", name=f"Grid {n}") for n in (1, 2, 3)]
    session.add_all([team, *grids])
    session.flush()
    session.add(GroupMember(station_id=station.id, group_id=team.id, user_id=walker.id))
    session.commit()
    scene = Scene(client, session, world, station, officer, walker, team.id, [g.id for g in grids])
    scene.route_id, scene.tags = scene.make_route()
    return scene


def teammate(scene: Scene, name: str = "Volunteer Chen") -> Any:
    person = scene.world.person(name, station=scene.station, roles=["volunteer"])
    scene.session.add(GroupMember(station_id=scene.station.id, group_id=scene.team_id,
                                  user_id=person.id))
    scene.session.commit()
    return person
