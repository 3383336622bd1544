"""Before submitting, nothing a resident can fetch holds an answer or an explanation."""

from __future__ import annotations

import datetime as dt
import json

from core import clock

SECRET_KEYS = {"correct", "correct_choices", "is_correct", "explanation"}


def keys_in(value):
    if isinstance(value, dict):
        for key, inner in value.items():
            yield key
            yield from keys_in(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from keys_in(inner)


def test_no_endpoint_a_resident_can_call_gives_away_answers_before_submission(alliance, app):
    questions = [alliance.question(n, explanation=f"EXPLANATION-MARKER-{n}") for n in range(6)]
    shop = alliance.shop()
    reward = alliance.offer(shop, points_cost=None)
    offer = alliance.offer(shop, points_cost=10)
    quiz = alliance.quiz(reward_offer_id=reward["id"], time_limit_s=60)
    resident = alliance.resident(points=50)
    coupon = alliance.ok(alliance.claim(resident, offer), 201)
    started = alliance.attempt(resident, quiz)
    expired = alliance.attempt(resident, quiz)
    clock.advance(dt.timedelta(seconds=30))
    open_attempt = alliance.attempt(resident, quiz)
    clock.advance(dt.timedelta(seconds=45))  # the first two are past their deadline now
    assert alliance.ok(alliance.get(resident, f"/attempts/{expired['id']}"))["status"] == "expired"

    ids = {"station": "east", "quiz_id": quiz["id"], "attempt_id": open_attempt["id"],
           "question_id": questions[0]["id"], "shop_id": shop["id"], "offer_id": offer["id"],
           "coupon_id": coupon["id"], "user_id": resident.id}
    bodies = {"POST /quizzes/<int:quiz_id>/attempts": json.dumps(started)}
    called = set()
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("anti_fraud.") or "GET" not in rule.methods:
            continue
        path = rule.rule.split("/anti-fraud", 1)[1]
        url = rule.build({k: v for k, v in ids.items() if k in rule.arguments}, append_unknown=False)[1]
        for query in ("", "?format=csv"):
            answer = alliance.client.get(url + query, headers=resident.headers)
            assert answer.status_code in (200, 403), (url, answer.json)
            bodies[f"GET {path}{query}"] = answer.get_data(as_text=True)
        called.add(path)
    # every resident-facing read was exercised, the attempt ones included
    assert {"/attempts", "/attempts/<int:attempt_id>", "/quizzes/<int:quiz_id>", "/quizzes",
            "/coupons", "/coupons/<int:coupon_id>", "/offers", "/shops", "/categories",
            "/questions", "/questions/export"} <= called
    assert len(called) >= 20
    for where, text in bodies.items():
        assert "EXPLANATION-MARKER" not in text, where
        try:
            document = json.loads(text)
        except ValueError:
            continue
        assert not SECRET_KEYS & set(keys_in(document)), where
    for attempt_id in (started["id"], expired["id"], open_attempt["id"]):
        seen = alliance.ok(alliance.get(resident, f"/attempts/{attempt_id}"))
        assert not SECRET_KEYS & set(keys_in(seen))
        assert all(set(q) == {"question_id", "position", "category", "text", "multiple", "choices"}
                   for q in seen["questions"])
    # and after submitting (still in time), the answers and explanations are there
    result = alliance.ok(alliance.submit(resident, open_attempt))
    assert all(q["explanation"].startswith("EXPLANATION-MARKER") for q in result["questions"])


def test_the_question_bank_is_for_officers_only(alliance):
    question = alliance.question(1)
    resident = alliance.resident()
    for method, path in [("get", "/questions"), ("get", f"/questions/{question['id']}"),
                         ("get", "/questions/export"), ("post", "/questions/starter-bank"),
                         ("patch", f"/questions/{question['id']}"),
                         ("delete", f"/questions/{question['id']}")]:
        answer = getattr(alliance.client, method)(alliance.url + path, headers=resident.headers,
                                                  json={} if method != "get" else None)
        assert answer.status_code == 403 and answer.json["code"] == "role_required", path
        assert "Because" not in answer.get_data(as_text=True)
