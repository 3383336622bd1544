"""An alliance to test with: a station with the plugin on, its officer, questions, shops, offers."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

import pytest

from core import clock, ledger
from tests.fixtures.people import Person, World

CATEGORIES = ("order_brushing", "fake_loan", "screen_sharing")
_sources = itertools.count(1)


class Alliance:
    """Builds anti-fraud records through the HTTP API, as an officer would."""

    def __init__(self, world: World, code: str = "east") -> None:
        self.world = world
        self.client = world.client
        self.station = world.station(code, plugins=("anti_fraud",))
        self.officer = world.person("officer", station=self.station, roles=["officer"])
        self.url = f"/api/v1/stations/{code}/anti-fraud"

    # HTTP, as someone
    def get(self, who: Person, path: str, **kwargs: Any) -> Any:
        return self.client.get(self.url + path, headers=who.headers, **kwargs)

    def post(self, who: Person, path: str, json: Any = None, headers: dict[str, str] | None = None,
             **kwargs: Any) -> Any:
        return self.client.post(self.url + path, json=json,
                                headers={**who.headers, **(headers or {})}, **kwargs)

    def patch(self, who: Person, path: str, json: Any) -> Any:
        return self.client.patch(self.url + path, json=json, headers=who.headers)

    def ok(self, answer: Any, status: int = 200) -> Any:
        assert answer.status_code == status, answer.json
        return answer.json

    # people
    def resident(self, name: str = "resident", points: int = 0) -> Person:
        person = self.world.person(name, station=self.station, roles=["resident"])
        if points:
            self.give_points(person, points)
        return person

    def give_points(self, person: Person, points: int) -> None:
        ledger.award(self.world.session, station_id=self.station.id, user_id=person.id,
                     event_code="core.adjustment", source_type="test", source_id=next(_sources),
                     amount=points)
        self.world.session.commit()

    def merchant(self, shop: dict[str, Any], name: str = "merchant") -> Person:
        person = self.world.person(name, station=self.station, roles=["merchant", "resident"])
        self.ok(self.client.put(f"{self.url}/shops/{shop['id']}/staff/{person.id}",
                                json={}, headers=self.officer.headers))
        return person

    # records
    def question(self, n: int = 0, category: str = "order_brushing", **fields: Any) -> dict[str, Any]:
        body = {"category": category, "text": f"Question {n} about {category}?",
                "choices": [f"right {n}", f"wrong {n}a", f"wrong {n}b", f"wrong {n}c"],
                "correct": [0], "explanation": f"Because-{category}-{n}.", **fields}
        return self.ok(self.post(self.officer, "/questions", body), 201)

    def bank(self, per_category: int = 4) -> list[dict[str, Any]]:
        return [self.question(i * 10 + j, category)
                for i, category in enumerate(CATEGORIES) for j in range(per_category)]

    def quiz(self, **fields: Any) -> dict[str, Any]:
        body = {"title": "Spot the scam", "question_count": 5, "pass_percent": 80,
                "time_limit_s": 300, "attempts_per_day": 3, "points": 20, **fields}
        return self.ok(self.post(self.officer, "/quizzes", body), 201)

    def shop(self, name: str = "Corner Shop", **fields: Any) -> dict[str, Any]:
        body = {"name": name, "address": "12 Demo Road", "lat": 30.27, "lon": 120.15, **fields}
        return self.ok(self.post(self.officer, "/shops", body), 201)

    def offer(self, shop: dict[str, Any], **fields: Any) -> dict[str, Any]:
        body = {"shop_id": shop["id"], "title": "5 yuan off 30", "kind": "amount",
                "amount_off_cents": 500, "min_spend_cents": 3000, "points_cost": 50,
                "stock_total": 10, "per_resident_limit": 2,
                "valid_until": (clock.now() + dt.timedelta(days=30)).isoformat(),
                "coupon_days": 7, **fields}
        return self.ok(self.post(self.officer, "/offers", body), 201)

    # a resident's moves
    def attempt(self, who: Person, quiz: dict[str, Any]) -> dict[str, Any]:
        return self.ok(self.post(who, f"/quizzes/{quiz['id']}/attempts"), 201)

    def answers(self, attempt: dict[str, Any], right: int | None = None) -> list[dict[str, Any]]:
        """Answers to an attempt's questions: the first ``right`` of them right, the rest wrong.

        The test bank's right choice is the text starting with "right".
        """
        answers = []
        for n, item in enumerate(attempt["questions"]):
            good = next(i for i, text in enumerate(item["choices"]) if text.startswith("right"))
            pick = good if right is None or n < right else (good + 1) % len(item["choices"])
            answers.append({"question_id": item["question_id"], "choices": [pick]})
        return answers

    def submit(self, who: Person, attempt: dict[str, Any], right: int | None = None,
               **kwargs: Any) -> Any:
        return self.post(who, f"/attempts/{attempt['id']}/submission",
                         {"answers": self.answers(attempt, right)}, **kwargs)

    def claim(self, who: Person, offer: dict[str, Any], **kwargs: Any) -> Any:
        return self.post(who, f"/offers/{offer['id']}/claims", **kwargs)

    def qr(self, who: Person, coupon: dict[str, Any]) -> str:
        return self.ok(self.get(who, f"/coupons/{coupon['id']}/qr"))["payload"]

    def redeem(self, staff: Person, payload: str, bill_cents: int = 5000, **kwargs: Any) -> Any:
        return self.post(staff, "/redemptions", {"payload": payload, "bill_cents": bill_cents},
                         **kwargs)


@pytest.fixture
def alliance(world: World) -> Alliance:
    clock.freeze(dt.datetime(2026, 3, 2, 2, 0, tzinfo=dt.UTC))  # 10:00 in Asia/Shanghai
    return Alliance(world)
