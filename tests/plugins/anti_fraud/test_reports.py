"""Reports: pass rates, the scams residents still miss, dashboard metrics, demo data, migrations."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from core import clock, demo, migrate
from core.models import Station
from plugins import anti_fraud
from plugins.anti_fraud.models import Offer, Quiz, Shop


def answer_all(alliance, who, attempt, wrong_category=None):
    answers = []
    for item in attempt["questions"]:
        good = next(i for i, text in enumerate(item["choices"]) if text.startswith("right"))
        pick = (good + 1) % 4 if item["category"] == wrong_category else good
        answers.append({"question_id": item["question_id"], "choices": [pick]})
    return alliance.ok(alliance.post(who, f"/attempts/{attempt['id']}/submission",
                                     {"answers": answers}))


def test_the_quiz_report_shows_pass_rate_and_what_residents_get_wrong(alliance):
    for n in range(2):
        alliance.question(n, category="fake_loan")
        alliance.question(10 + n, category="screen_sharing")
    quiz = alliance.quiz(question_count=4, pass_percent=75)
    good, shaky = alliance.resident("good"), alliance.resident("shaky")
    assert answer_all(alliance, good, alliance.attempt(good, quiz))["passed"] is True
    assert answer_all(alliance, shaky, alliance.attempt(shaky, quiz), "fake_loan")["passed"] is False
    assert answer_all(alliance, shaky, alliance.attempt(shaky, quiz), "fake_loan")["passed"] is False
    alliance.attempt(shaky, quiz)  # started, never submitted

    report = alliance.ok(alliance.get(alliance.officer, f"/reports/quizzes/{quiz['id']}"))
    assert (report["attempts"], report["submitted"], report["passed"]) == (4, 3, 1)
    assert report["pass_rate"] == round(1 / 3, 4)
    assert (report["residents"], report["residents_passed"]) == (2, 1)
    categories = {c["category"]: c for c in report["categories"]}
    assert categories["fake_loan"]["answered"] == 6 and categories["fake_loan"]["wrong"] == 4
    assert categories["fake_loan"]["wrong_share"] == round(4 / 6, 4)
    assert categories["screen_sharing"]["wrong_share"] == 0
    assert report["categories"][0]["category"] == "fake_loan"  # most missed first
    assert categories["fake_loan"]["labels"]["zh-CN"] == "虚假网络贷款"
    worst = report["questions"][0]
    assert worst["category"] == "fake_loan" and worst["answered"] == 3 and worst["wrong"] == 2

    station_wide = alliance.ok(alliance.get(alliance.officer, "/reports/categories"))
    assert [c["category"] for c in station_wide] == ["fake_loan", "screen_sharing"]
    later = (clock.now() + dt.timedelta(hours=1)).isoformat().replace("+00:00", "Z")
    assert alliance.ok(alliance.get(alliance.officer, f"/reports/categories?since={later}")) == []
    assert alliance.get(good, f"/reports/quizzes/{quiz['id']}").status_code == 403


def test_dashboard_metrics_count_the_period(alliance, session):
    alliance.bank()
    shop = alliance.shop()
    offer = alliance.offer(shop, points_cost=20, min_spend_cents=0)
    quiz = alliance.quiz(points=30)
    cashier = alliance.merchant(shop)
    resident = alliance.resident()
    alliance.submit(resident, alliance.attempt(resident, quiz))
    alliance.submit(resident, alliance.attempt(resident, quiz), right=0)
    coupon = alliance.ok(alliance.claim(resident, offer), 201)
    alliance.ok(alliance.redeem(cashier, alliance.qr(resident, coupon), bill_cents=900), 201)
    station = session.get(Station, alliance.station.id)
    metrics = anti_fraud.wardens_dashboard_metrics(
        session=session, station=station, since=clock.now() - dt.timedelta(days=1))
    assert metrics == {"quizzes_active": 1, "attempts_submitted": 2, "attempts_passed": 1,
                       "pass_rate": 0.5, "coupons_issued": 1, "coupons_redeemed": 1,
                       "discount_cents": 500, "points_spent": 20}
    later = anti_fraud.wardens_dashboard_metrics(
        session=session, station=station, since=clock.now() + dt.timedelta(minutes=1))
    assert later["attempts_submitted"] == 0 and later["quizzes_active"] == 1


def test_the_demo_has_a_quiz_two_shops_with_offers_and_a_merchant_at_the_till(client, session):
    clock.freeze(dt.datetime(2026, 3, 2, 2, 0, tzinfo=dt.UTC))
    people = demo.seed(session)
    session.commit()
    station = session.scalar(sa.select(Station).where(Station.code == demo.DEMO_STATION))
    quizzes = session.scalars(sa.select(Quiz).where(Quiz.station_id == station.id)).all()
    assert {q.locale for q in quizzes} == {"zh-CN", "en"}
    shops = session.scalars(sa.select(Shop).where(Shop.station_id == station.id)).all()
    assert len(shops) == 2
    assert {o.shop_id for o in session.scalars(sa.select(Offer).where(
        Offer.station_id == station.id))} == {s.id for s in shops}

    def sign_in(phone):
        answer = client.post("/api/v1/auth/token", json={
            "grant_type": "password", "phone": phone, "password": demo.DEMO_PASSWORD})
        return {"Authorization": f"Bearer {answer.json['access_token']}"}

    base = "/api/v1/stations/demo/anti-fraud"
    resident = sign_in(people["resident1"].phone)
    merchant = sign_in(people["merchant"].phone)
    chinese = next(q for q in quizzes if q.locale == "zh-CN")
    attempt = client.post(f"{base}/quizzes/{chinese.id}/attempts", headers=resident).json
    assert len(attempt["questions"]) == 5
    # the demo resident answers from the bank's key, as a resident who read the explanations
    from plugins.anti_fraud.models import Question

    answers = []
    for item in attempt["questions"]:
        question = session.get(Question, item["question_id"])
        right = {question.choices[i] for i in question.correct}
        answers.append({"question_id": item["question_id"],
                        "choices": [i for i, text in enumerate(item["choices"]) if text in right]})
    result = client.post(f"{base}/attempts/{attempt['id']}/submission", headers=resident,
                         json={"answers": answers}).json
    assert result["passed"] is True and result["points_awarded"] == 20 and result["coupon_id"]
    payload = client.get(f"{base}/coupons/{result['coupon_id']}/qr", headers=resident).json
    redeemed = client.post(f"{base}/redemptions", headers=merchant,
                           json={"payload": payload["payload"], "bill_cents": 1200})
    assert redeemed.status_code == 201 and redeemed.json["discount_cents"] == 300
    # seeding again changes nothing
    demo.seed(session)
    assert session.scalar(sa.select(sa.func.count()).select_from(Shop).where(
        Shop.station_id == station.id)) == 2


def test_the_migrations_match_the_models(connection):
    diffs = [d for d in migrate.drift(connection) if "anti_fraud" in repr(d)]
    assert diffs == []
