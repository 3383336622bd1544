"""A station with care visits switched on, a care team, one person per role, and helpers."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from typing import Any

import pytest
import sqlalchemy as sa

from core import clock
from core.models import Group, GroupMember
from core.plugins import hookimpl
from tests.fixtures.people import Person, World

# 10:00 in the station's time zone (Asia/Shanghai) on a Monday.
NOW = dt.datetime(2026, 3, 2, 2, 0, tzinfo=dt.UTC)
HOME = (34.2301, 108.9402)
METRES_PER_DEGREE_LAT = 111_195.0
CONSENT = {"basis": "consent", "scope": ["visits", "sensitive_details"], "version": "2026-01",
           "note": "paper form signed at home"}


def north_of(point: tuple[float, float], metres: float) -> tuple[float, float]:
    return point[0] + metres / METRES_PER_DEGREE_LAT, point[1]


@dataclass
class Care:
    """The care scene: a station, its care team, and one person per role."""

    world: World
    client: Any
    station: Any
    other: Any
    team: Group
    people: dict[str, Person] = field(default_factory=dict)
    _phones: Any = None

    def url(self, path: str, station: Any = None) -> str:
        return f"/api/v1/stations/{(station or self.station).code}/care-visits{path}"

    def task_url(self, task_id: int, path: str = "") -> str:
        return f"/api/v1/stations/{self.station.code}/tasks/{task_id}{path}"

    def __getattr__(self, name: str) -> Person:
        people = self.__dict__.get("people", {})
        if name in people:
            return people[name]
        raise AttributeError(name)

    def get(self, path: str, who: Person, **kwargs: Any) -> Any:
        return self.client.get(self.url(path), headers=who.headers, **kwargs)

    def post(self, path: str, who: Person, json: Any = None, **kwargs: Any) -> Any:
        return self.client.post(self.url(path), json=json if json is not None else {},
                                headers={**who.headers, **kwargs.pop("headers", {})}, **kwargs)

    def recipient(self, who: Person | None = None, **fields: Any) -> dict[str, Any]:
        """Add a recipient over HTTP (as the care officer), with consent unless told."""
        body = {"name": fields.pop("name", "Gao Lan"), "phone": self._next_phone(),
                "address": "Building 3, Unit 2, Room 101, Example Road 7",
                "lat": HOME[0], "lon": HOME[1], "categories": ["elderly_alone"],
                "needs": "help with shopping", "care_group_id": self.team.id,
                "emergency_contact": {"name": "Gao Ming", "phone": self._next_phone(),
                                      "relation": "son"},
                "consent": CONSENT}
        headers = fields.pop("headers", {})
        body.update(fields)
        if body.get("consent") is None:
            body.pop("consent")
        answer = self.post("/recipients", who or self.officer_care, json=body, headers=headers)
        assert answer.status_code == 201, answer.json
        return answer.json

    def _next_phone(self) -> str:
        if self._phones is None:
            self._phones = iter(range(1000, 9999))
        return f"+861360000{next(self._phones):04d}"

    def refresh(self) -> None:
        """Sign everyone in again: a moved clock expires access tokens."""
        for key, person in list(self.people.items()):
            self.people[key] = self.world.sign_in(person.user, person.phone)

    def checkin(self, task_id: int, who: Person, kind: str = "in", at: tuple = HOME,
                accuracy: float = 10.0, **extra: Any) -> Any:
        body = {"kind": kind, "lat": at[0], "lon": at[1], "accuracy_m": accuracy,
                "device_time": clock.now().isoformat(), "client_id": uuid.uuid4().hex, **extra}
        return self.client.post(self.task_url(task_id, "/checkins"), json=body,
                                headers=who.headers)


def put_in_group(session: Any, group: Group, person: Person, leader: bool = False) -> None:
    session.add(GroupMember(station_id=group.station_id, group_id=group.id, user_id=person.id,
                            is_leader=leader))
    session.commit()


@pytest.fixture
def care(world: World, client: Any, session: Any) -> Care:
    return build(world, client, session)


def build(world: World, client: Any, session: Any) -> Care:
    """The care scene, with the clock frozen at NOW."""
    clock.freeze(NOW)
    station = world.station("east", plugins=("care_visits",))
    other = world.station("west", plugins=("care_visits",))
    team = Group(station_id=station.id, kind="care_team", name="Care team")
    other_team = Group(station_id=other.id, kind="care_team", name="West care team")
    session.add_all([team, other_team])
    session.commit()
    people = {
        "admin_care": world.person("Admin Care", station=station, roles=["admin"]),
        "officer_care": world.person("Officer Care", station=station, roles=["officer"]),
        "admin": world.person("Admin", station=station, roles=["admin"]),
        "officer": world.person("Officer", station=station, roles=["officer"]),
        "volunteer_team": world.person("Volunteer Team", station=station,
                                       roles=["volunteer", "resident"]),
        "volunteer_named": world.person("Volunteer Named", station=station,
                                        roles=["volunteer"]),
        "volunteer": world.person("Volunteer", station=station, roles=["volunteer"]),
        "resident": world.person("Resident", station=station, roles=["resident"]),
        "merchant": world.person("Merchant", station=station, roles=["merchant"]),
        "partner": world.person("Partner", station=station, roles=["partner"]),
        "stranger": world.person("West Officer", station=other, roles=["officer", "admin"]),
    }
    put_in_group(session, team, people["officer_care"], leader=True)
    put_in_group(session, team, people["admin_care"])
    put_in_group(session, team, people["volunteer_team"])
    put_in_group(session, other_team, people["stranger"], leader=True)
    return Care(world, client, station, other, team, people)


class TextCapture:
    """A text-message provider that keeps what it was asked to send (an inline plugin)."""

    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []

    @hookimpl
    def wardens_send_text(self, session: Any, phone: str, code: str, params: dict[str, Any],
                          locale: str) -> bool:
        self.sent.append({"phone": phone, "code": code, "params": params})
        return True


@pytest.fixture
def texts(deployment: Any) -> Any:
    capture = TextCapture()
    deployment.pm.register(capture, name="test-text-capture")
    try:
        yield capture
    finally:
        deployment.pm.unregister(name="test-text-capture")


def visits_of(session: Any, recipient_id: int) -> list[Any]:
    from plugins.care_visits.models import Visit

    return list(session.scalars(sa.select(Visit).where(Visit.recipient_id == recipient_id)
                                .order_by(Visit.starts_at, Visit.id)))
