"""A station with the crossing-guard plugin on, its crossing team, and a school set up by HTTP."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import pytest
import sqlalchemy as sa

from core import clock
from core.models import Group, GroupMember, Notification, StationPlugin
from tests.fixtures.people import Person, World

# A Friday in the Shanghai winter: every test starts here unless it says otherwise.
FROZEN = dt.datetime(2026, 2, 20, 2, 0, tzinfo=dt.UTC)


@dataclass
class Crossing:
    world: World
    station: Any
    officer: Person
    leader: Person
    team_id: int
    code: str
    people: list[Person] = field(default_factory=list)

    @property
    def client(self) -> Any:
        return self.world.client

    @property
    def session(self) -> Any:
        return self.world.session

    def url(self, path: str) -> str:
        return f"/api/v1/stations/{self.code}/crossing-guard{path}"

    def call(self, method: str, path: str, who: Person, **kwargs: Any) -> Any:
        return self.client.open(self.url(path), method=method, headers=who.headers, **kwargs)

    def get(self, path: str, who: Person, **kwargs: Any) -> Any:
        return self.call("GET", path, who, **kwargs)

    def post(self, path: str, who: Person, json: Any = None, **kwargs: Any) -> Any:
        return self.call("POST", path, who, json=json if json is not None else {}, **kwargs)

    def guard(self, name: str, roles: list[str] | None = None, *, team: bool = True,
              leader: bool = False) -> Person:
        person = self.world.person(name, station=self.station, roles=roles or ["volunteer"])
        if team:
            self.session.add(GroupMember(station_id=self.station.id, group_id=self.team_id,
                                         user_id=person.id, is_leader=leader))
            self.session.commit()
        self.people.append(person)
        return person

    def refresh(self) -> None:
        """Sign everyone in again after the clock moved past the access-token lifetime."""
        for person in [self.officer, self.leader, *self.people]:
            fresh = self.world.sign_in(person.user, person.phone)
            person.token = fresh.token

    def settings(self, **values: Any) -> None:
        row = self.session.scalar(sa.select(StationPlugin).where(
            StationPlugin.station_id == self.station.id, StationPlugin.name == "crossing_guard"))
        row.settings = values
        self.session.commit()

    def school(self, *, name: str = "Sunny Primary", posts: list[dict[str, Any]] | None = None,
               templates: list[dict[str, Any]] | None = None, term: tuple[str, str] | None = None,
               ) -> dict[str, Any]:
        """A school with posts, each with the templates, and a term; returns their ids."""
        school = self.post("/schools", self.officer, {"name": name, "lat": 35.0, "lon": 116.0})
        assert school.status_code == 201, school.json
        made: dict[str, Any] = {"school": school.json["id"], "posts": [], "templates": []}
        for spec in posts or [{"name": "North gate"}]:
            body = {"kind": "gate", "lat": 35.0, "lon": 116.0, "radius_m": 50, "min_guards": 2,
                    "max_guards": 3, **spec}
            post = self.post(f"/schools/{made['school']}/posts", self.officer, body)
            assert post.status_code == 201, post.json
            made["posts"].append(post.json["id"])
            for tpl in templates or [
                    {"name": "Morning", "weekdays": [1, 5], "starts_time": "07:10",
                     "ends_time": "07:50"}]:
                answer = self.post(f"/posts/{post.json['id']}/templates", self.officer, tpl)
                assert answer.status_code == 201, answer.json
                made["templates"].append(answer.json["id"])
        if term is not None:
            answer = self.post("/terms", self.officer, {"name": "Spring", "starts_on": term[0],
                                                        "ends_on": term[1]})
            assert answer.status_code == 201, answer.json
            made["term"] = answer.json["id"]
        return made

    def generate(self, term_id: int) -> dict[str, Any]:
        answer = self.post(f"/terms/{term_id}/generate", self.officer)
        assert answer.status_code == 200, answer.json
        return answer.json

    def shifts(self, who: Person | None = None, **params: Any) -> list[dict[str, Any]]:
        answer = self.get("/shifts", who or self.officer,
                          query_string={"page_size": 100, **params})
        assert answer.status_code == 200, answer.json
        return answer.json

    def notes(self, person: Person, code: str | None = None) -> list[Notification]:
        query = sa.select(Notification).where(Notification.user_id == person.id)
        if code:
            query = query.where(Notification.code == code)
        return list(self.session.scalars(query.order_by(Notification.id)))


def build(world: World, code: str = "east", timezone: str = "Asia/Shanghai") -> Crossing:
    station = world.station(code, plugins=("crossing_guard",))
    station.timezone = timezone
    team = Group(station_id=station.id, kind="crossing_team", name="Crossing team")
    world.session.add(team)
    world.session.commit()
    officer = world.person("Officer Li", station=station, roles=["officer"])
    crossing = Crossing(world, station, officer, officer, team.id, code)
    crossing.leader = crossing.guard("Leader Chen", ["volunteer"], leader=True)
    crossing.people.remove(crossing.leader)
    return crossing


@pytest.fixture
def crossing(world: World) -> Crossing:
    clock.freeze(FROZEN)
    return build(world)
