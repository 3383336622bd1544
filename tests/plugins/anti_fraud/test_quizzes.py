"""Quizzes and attempts: drawing, shuffling, grading on the server, and every refusal's code."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from core import clock
from core.models import PointsEntry
from plugins.anti_fraud.models import Attempt, AttemptQuestion


def test_an_attempt_draws_the_count_from_the_quizs_categories_with_a_deadline(alliance):
    bank = alliance.bank()
    quiz = alliance.quiz(categories=["fake_loan"], question_count=3, time_limit_s=120)
    resident = alliance.resident()
    attempt = alliance.attempt(resident, quiz)
    loan_ids = {q["id"] for q in bank if q["category"] == "fake_loan"}
    assert len(attempt["questions"]) == 3
    assert {q["question_id"] for q in attempt["questions"]} <= loan_ids
    assert [q["position"] for q in attempt["questions"]] == [0, 1, 2]
    assert dt.datetime.fromisoformat(attempt["deadline"]) == clock.now() + dt.timedelta(minutes=2)
    for item in attempt["questions"]:
        source = next(q for q in bank if q["id"] == item["question_id"])
        assert sorted(item["choices"]) == sorted(source["choices"])
        assert item["multiple"] is False


def test_choices_are_shuffled_per_attempt_and_graded_in_the_order_shown(alliance, session):
    alliance.bank()
    quiz = alliance.quiz(question_count=12, attempts_per_day=20, pass_percent=100)
    resident = alliance.resident()
    orders = set()
    for _ in range(4):
        attempt = alliance.attempt(resident, quiz)
        orders |= {tuple(q["choices"]) for q in attempt["questions"]}
        result = alliance.ok(alliance.submit(resident, attempt))
        assert result["score"] == 12 and result["passed"] is True
    assert len(orders) > 12  # 48 questions served: not all in one order per question
    assert session.scalar(sa.select(sa.func.count()).select_from(AttemptQuestion).where(
        AttemptQuestion.is_correct.is_(True))) == 48


def test_a_fail_shows_the_right_answers_and_explanations_and_books_nothing(alliance, session):
    alliance.bank()
    quiz = alliance.quiz(question_count=5, pass_percent=80)
    resident = alliance.resident()
    attempt = alliance.attempt(resident, quiz)
    result = alliance.ok(alliance.submit(resident, attempt, right=3))
    assert result["score"] == 3 and result["passed"] is False and result["points_awarded"] == 0
    for n, item in enumerate(result["questions"]):
        right = item["choices"][item["correct_choices"][0]]
        assert right.startswith("right") and item["explanation"].startswith("Because-")
        assert item["is_correct"] is (n < 3)
    assert session.scalar(sa.select(sa.func.count()).select_from(PointsEntry)) == 0


def test_multiple_choice_needs_exactly_the_right_set(alliance):
    alliance.question(1, choices=["a", "b", "c", "d"], correct=[0, 2])
    quiz = alliance.quiz(question_count=1, pass_percent=100, attempts_per_day=5)
    resident = alliance.resident()

    def answer_with(texts):
        attempt = alliance.attempt(resident, quiz)
        item = attempt["questions"][0]
        assert item["multiple"] is True
        picks = [item["choices"].index(t) for t in texts]
        return alliance.ok(alliance.post(resident, f"/attempts/{attempt['id']}/submission",
                                         {"answers": [{"question_id": item["question_id"],
                                                       "choices": picks}]}))

    assert answer_with(["a"])["passed"] is False
    assert answer_with(["a", "c", "d"])["passed"] is False
    assert answer_with(["c", "a"])["passed"] is True


def test_unanswered_questions_count_as_wrong(alliance):
    alliance.bank()
    quiz = alliance.quiz(question_count=5, pass_percent=40)
    resident = alliance.resident()
    attempt = alliance.attempt(resident, quiz)
    answers = alliance.answers(attempt)[:2]
    result = alliance.ok(alliance.post(resident, f"/attempts/{attempt['id']}/submission",
                                       {"answers": answers}))
    assert result["score"] == 2 and result["passed"] is True
    assert [q["chosen"] for q in result["questions"]][2:] == [None, None, None]


def test_a_late_submission_is_refused_and_grace_covers_the_network(alliance, session):
    alliance.bank()
    quiz = alliance.quiz(time_limit_s=60)
    resident = alliance.resident()
    on_time = alliance.attempt(resident, quiz)
    late = alliance.attempt(resident, quiz)
    clock.advance(dt.timedelta(seconds=65))  # within the 10 s grace of the first
    assert alliance.submit(resident, on_time).status_code == 200
    clock.advance(dt.timedelta(seconds=10))
    refused = alliance.submit(resident, late)
    assert refused.status_code == 409 and refused.json["code"] == "attempt_late"
    assert "deadline" in refused.json["details"]
    assert session.get(Attempt, late["id"]).submitted_at is None
    expired = alliance.ok(alliance.get(resident, f"/attempts/{late['id']}"))
    assert expired["status"] == "expired"
    assert all("correct_choices" not in q for q in expired["questions"])
    listed = alliance.ok(alliance.get(resident, f"/attempts?quiz_id={quiz['id']}"))
    assert [(a["id"], a["status"]) for a in listed] == [(late["id"], "expired"),
                                                        (on_time["id"], "submitted")]
    assert all("questions" not in a for a in listed)


def test_answers_to_questions_not_served_are_refused(alliance, session):
    bank = alliance.bank()
    quiz = alliance.quiz(categories=["fake_loan"], question_count=4)
    resident = alliance.resident()
    attempt = alliance.attempt(resident, quiz)
    stranger = next(q for q in bank if q["category"] == "order_brushing")
    answers = alliance.answers(attempt) + [{"question_id": stranger["id"], "choices": [0]}]
    refused = alliance.post(resident, f"/attempts/{attempt['id']}/submission", {"answers": answers})
    assert refused.status_code == 422 and refused.json["code"] == "answer_not_served"
    assert refused.json["details"]["question_id"] == stranger["id"]
    twice = alliance.answers(attempt) + alliance.answers(attempt)[:1]
    refused = alliance.post(resident, f"/attempts/{attempt['id']}/submission", {"answers": twice})
    assert refused.status_code == 422 and refused.json["code"] == "answer_duplicate"
    bad_choice = [{"question_id": attempt["questions"][0]["question_id"], "choices": [7]}]
    refused = alliance.post(resident, f"/attempts/{attempt['id']}/submission",
                            {"answers": bad_choice})
    assert refused.status_code == 422 and refused.json["code"] == "answer_choice_invalid"
    two_for_single = [{"question_id": attempt["questions"][0]["question_id"], "choices": [0, 1]}]
    refused = alliance.post(resident, f"/attempts/{attempt['id']}/submission",
                            {"answers": two_for_single})
    assert refused.status_code == 422 and refused.json["code"] == "answer_choice_invalid"
    # none of the refusals used the attempt up
    assert session.get(Attempt, attempt["id"]).submitted_at is None
    assert alliance.submit(resident, attempt).status_code == 200


def test_someone_elses_attempt_is_not_found(alliance):
    alliance.bank()
    quiz = alliance.quiz()
    owner, other = alliance.resident("owner"), alliance.resident("other")
    attempt = alliance.attempt(owner, quiz)
    assert alliance.get(other, f"/attempts/{attempt['id']}").json["code"] == "attempt_not_found"
    assert alliance.submit(other, attempt).status_code == 404


def test_attempts_per_day_count_in_the_station_time_zone(alliance, world):
    alliance.bank()
    quiz = alliance.quiz(attempts_per_day=2)
    # 23:50 in Asia/Shanghai is still the same local day as 00:10 would not be
    clock.freeze(dt.datetime(2026, 3, 2, 15, 50, tzinfo=dt.UTC))
    resident = alliance.resident()
    alliance.attempt(resident, quiz)
    alliance.attempt(resident, quiz)
    refused = alliance.post(resident, f"/quizzes/{quiz['id']}/attempts")
    assert refused.status_code == 409 and refused.json["code"] == "attempt_limit_reached"
    assert refused.json["details"]["limit"] == 2
    standing = alliance.ok(alliance.get(resident, f"/quizzes/{quiz['id']}"))["me"]
    assert standing["attempts_today"] == 2 and standing["attempts_left_today"] == 0
    clock.freeze(dt.datetime(2026, 3, 2, 16, 5, tzinfo=dt.UTC))  # 00:05 the next local day
    resident = world.sign_in(resident.user, resident.phone)
    assert alliance.post(resident, f"/quizzes/{quiz['id']}/attempts").status_code == 201


def test_a_quiz_outside_its_window_or_switched_off_cannot_be_started(alliance):
    alliance.bank()
    now = clock.now()
    later = alliance.quiz(opens_at=(now + dt.timedelta(days=1)).isoformat(),
                          closes_at=(now + dt.timedelta(days=2)).isoformat())
    resident = alliance.resident()
    refused = alliance.post(resident, f"/quizzes/{later['id']}/attempts")
    assert refused.status_code == 409 and refused.json["code"] == "quiz_not_open"
    off = alliance.quiz()
    alliance.ok(alliance.patch(alliance.officer, f"/quizzes/{off['id']}", {"active": False}))
    assert alliance.post(resident, f"/quizzes/{off['id']}/attempts").json["code"] == \
        "quiz_not_found"
    listed = alliance.ok(alliance.get(resident, "/quizzes"))
    assert [q["id"] for q in listed] == [later["id"]]


def test_an_attempt_near_closing_time_ends_when_the_quiz_closes(alliance):
    alliance.bank()
    closes = clock.now() + dt.timedelta(seconds=90)
    quiz = alliance.quiz(time_limit_s=600, closes_at=closes.isoformat())
    attempt = alliance.attempt(alliance.resident(), quiz)
    assert dt.datetime.fromisoformat(attempt["deadline"]) == closes


def test_quiz_creation_checks_its_pool_window_and_offer(alliance):
    alliance.question(1, category="fake_loan")
    too_many = alliance.post(alliance.officer, "/quizzes",
                             {"title": "x", "question_count": 2, "categories": ["fake_loan"]})
    assert too_many.status_code == 422 and too_many.json["code"] == "quiz_needs_questions"
    assert too_many.json["details"] == {"field": "question_count", "needed": 2, "available": 1}
    now = clock.now()
    backwards = alliance.post(alliance.officer, "/quizzes", {
        "title": "x", "question_count": 1, "opens_at": now.isoformat(),
        "closes_at": (now - dt.timedelta(hours=1)).isoformat()})
    assert backwards.json["code"] == "quiz_window_invalid"
    no_offer = alliance.post(alliance.officer, "/quizzes",
                             {"title": "x", "question_count": 1, "reward_offer_id": 999999})
    assert no_offer.json["code"] == "offer_not_found"
    resident = alliance.resident()
    forbidden = alliance.post(resident, "/quizzes", {"title": "x", "question_count": 1})
    assert forbidden.status_code == 403 and forbidden.json["code"] == "role_required"


def test_a_shrunken_pool_refuses_new_attempts_clearly(alliance):
    questions = [alliance.question(i) for i in range(3)]
    quiz = alliance.quiz(question_count=3)
    alliance.client.delete(f"{alliance.url}/questions/{questions[0]['id']}",
                           headers=alliance.officer.headers)
    refused = alliance.post(alliance.resident(), f"/quizzes/{quiz['id']}/attempts")
    assert refused.status_code == 409 and refused.json["code"] == "quiz_needs_questions"


def test_editing_the_bank_mid_attempt_does_not_change_the_grading(alliance):
    question = alliance.question(1)
    quiz = alliance.quiz(question_count=1, pass_percent=100)
    resident = alliance.resident()
    attempt = alliance.attempt(resident, quiz)
    alliance.ok(alliance.patch(alliance.officer, f"/questions/{question['id']}",
                               {"correct": [1]}))
    result = alliance.ok(alliance.submit(resident, attempt))
    assert result["passed"] is True
    assert result["questions"][0]["choices"][result["questions"][0]["correct_choices"][0]] == \
        "right 1"


def test_stations_do_not_see_each_others_quizzes(alliance, world):
    alliance.bank()
    quiz = alliance.quiz()
    west = world.station("west", plugins=("anti_fraud",))
    outsider = world.person("outsider", station=west)
    answer = alliance.client.post(f"{alliance.url}/quizzes/{quiz['id']}/attempts",
                                  headers=outsider.headers)
    assert answer.status_code == 404 and answer.json["code"] == "station_not_found"
    answer = alliance.client.post(f"/api/v1/stations/west/anti-fraud/quizzes/{quiz['id']}/attempts",
                                  headers=outsider.headers)
    assert answer.status_code == 404 and answer.json["code"] == "quiz_not_found"


def test_a_station_without_the_plugin_gets_plugin_disabled(world):
    world.station("plain")
    person = world.person("p")
    from core.models import Membership, Station

    station = world.session.scalar(sa.select(Station).where(Station.code == "plain"))
    world.session.add(Membership(station_id=station.id, user_id=person.id, roles=["officer"]))
    world.session.commit()
    answer = world.client.get("/api/v1/stations/plain/anti-fraud/quizzes", headers=person.headers)
    assert answer.status_code == 404 and answer.json["code"] == "plugin_disabled"
