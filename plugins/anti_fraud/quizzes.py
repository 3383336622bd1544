"""Quizzes and attempts: questions drawn and shuffled on the server, graded only against them."""

from __future__ import annotations

import datetime as dt
import secrets
import zoneinfo
from dataclasses import dataclass
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy import orm as so

from core import audit, clock, ledger
from core.access import Actor
from core.errors import Conflict, Invalid, NotFound
from core.models import PointsEntry
from plugins.anti_fraud import coupons, questions
from plugins.anti_fraud.models import Attempt, AttemptQuestion, Offer, Question, Quiz

POINTS_EVENT = "anti_fraud.quiz_passed"
SOURCE_TYPE = "anti_fraud_quiz"  # earn-once: one award per (resident, quiz)
_random = secrets.SystemRandom()  # draws a resident cannot predict


def local_day(station_timezone: str, at: dt.datetime) -> dt.date:
    return at.astimezone(zoneinfo.ZoneInfo(station_timezone)).date()


def _validate(session: so.Session, station_id: int, values: dict[str, Any]) -> None:
    if values.get("opens_at") and values.get("closes_at") and \
            values["closes_at"] <= values["opens_at"]:
        raise Invalid("quiz_window_invalid", field="closes_at")
    if values["pass_percent"] < 1 or values["pass_percent"] > 100:
        raise Invalid("validation_error", field="pass_percent")
    offer_id = values.get("reward_offer_id")
    if offer_id is not None and session.scalar(sa.select(Offer.id).where(
            Offer.id == offer_id, Offer.station_id == station_id)) is None:
        raise Invalid("offer_not_found", field="reward_offer_id")
    available = session.scalar(sa.select(sa.func.count()).select_from(
        questions.pool_query(station_id, values["locale"], values["categories"]).subquery()))
    if available < values["question_count"]:
        raise Invalid("quiz_needs_questions", field="question_count",
                      needed=values["question_count"], available=available)


def create_quiz(session: so.Session, who: Actor, data: dict[str, Any]) -> Quiz:
    """Create a quiz (officers and admins); its pool must hold enough questions already."""
    who.require("officer", "admin")
    data = {"categories": [], "locale": "zh-CN", **data}
    _validate(session, who.station.id, data)
    quiz = Quiz(station_id=who.station.id, created_by=who.user.id, **data)
    session.add(quiz)
    session.flush()
    audit.record(session, actor=who.user, role=who.role, action="anti_fraud.quiz_created",
                 record=quiz)
    return quiz


def update_quiz(session: so.Session, who: Actor, quiz_id: int, changes: dict[str, Any]) -> Quiz:
    who.require("officer", "admin")
    quiz = get_quiz(session, who, quiz_id)
    merged = {c.key: getattr(quiz, c.key) for c in Quiz.__table__.columns} | changes
    _validate(session, who.station.id, merged)
    for name, value in changes.items():
        setattr(quiz, name, value)
    audit.record(session, actor=who.user, role=who.role, action="anti_fraud.quiz_updated",
                 record=quiz, fields=sorted(changes))
    return quiz


def get_quiz(session: so.Session, who: Actor, quiz_id: int) -> Quiz:
    """A quiz; residents see only active ones."""
    query = sa.select(Quiz).where(Quiz.id == quiz_id, Quiz.station_id == who.station.id)
    if not who.has_any("officer", "admin"):
        query = query.where(Quiz.active.is_(True))
    quiz = session.scalar(query)
    if quiz is None:
        raise NotFound("quiz_not_found")
    return quiz


def quizzes_query(who: Actor, *, include_inactive: bool = False) -> sa.Select[Quiz]:
    query = sa.select(Quiz).where(Quiz.station_id == who.station.id)
    if not (include_inactive and who.has_any("officer", "admin")):
        query = query.where(Quiz.active.is_(True))
    return query.order_by(Quiz.id.desc())


def is_open(quiz: Quiz, now: dt.datetime) -> bool:
    return quiz.active and (quiz.opens_at is None or quiz.opens_at <= now) and \
        (quiz.closes_at is None or now < quiz.closes_at)


def my_standing(session: so.Session, who: Actor, quiz: Quiz) -> dict[str, Any]:
    """What the app shows a resident on a quiz: attempts left today, passed or not."""
    today = local_day(who.station.timezone, clock.now())
    used = session.scalar(sa.select(sa.func.count()).select_from(Attempt).where(
        Attempt.station_id == quiz.station_id, Attempt.quiz_id == quiz.id,
        Attempt.user_id == who.user.id, Attempt.local_day == today)) or 0
    best = session.execute(sa.select(
        sa.func.max(Attempt.score), sa.func.max(sa.case((Attempt.passed.is_(True), 1), else_=0)))
        .where(Attempt.station_id == quiz.station_id, Attempt.quiz_id == quiz.id,
               Attempt.user_id == who.user.id)).one()
    return {"attempts_today": used, "attempts_left_today": max(0, quiz.attempts_per_day - used),
            "best_score": best[0], "passed": bool(best[1]), "open": is_open(quiz, clock.now())}


# Attempts -------------------------------------------------------------------------------------

def start_attempt(session: so.Session, who: Actor, quiz_id: int) -> Attempt:
    """Draw the quiz's questions at random, shuffle their choices, and start the clock.

    409 ``quiz_not_open`` outside its window, ``attempt_limit_reached`` over the day's attempts
    (days in the station's time zone), ``quiz_needs_questions`` when the pool has shrunk.
    """
    who.require_member()
    now = clock.now()
    quiz = get_quiz(session, who, quiz_id)
    if not is_open(quiz, now):
        raise Conflict("quiz_not_open", opens_at=_iso(quiz.opens_at), closes_at=_iso(quiz.closes_at))
    pool = list(session.scalars(questions.pool_query(quiz.station_id, quiz.locale, quiz.categories)))
    if len(pool) < quiz.question_count:
        raise Conflict("quiz_needs_questions", needed=quiz.question_count, available=len(pool))
    drawn = _random.sample(pool, quiz.question_count)
    attempt = _insert_attempt(session, who, quiz, now)
    rows = {q.id: q for q in session.scalars(sa.select(Question).where(Question.id.in_(drawn)))}
    for position, question_id in enumerate(drawn):
        question = rows[question_id]
        order = list(range(len(question.choices)))
        _random.shuffle(order)
        session.add(AttemptQuestion(
            station_id=quiz.station_id, attempt_id=attempt.id, question_id=question_id,
            position=position, choice_order=order,
            shown_choices=[question.choices[i] for i in order],
            correct_shown=sorted(order.index(i) for i in question.correct)))
    session.flush()
    return attempt


def _insert_attempt(session: so.Session, who: Actor, quiz: Quiz, now: dt.datetime) -> Attempt:
    today = local_day(who.station.timezone, now)
    deadline = now + dt.timedelta(seconds=quiz.time_limit_s)
    if quiz.closes_at is not None:
        deadline = min(deadline, quiz.closes_at)
    for _ in range(3):
        used = session.scalar(sa.select(sa.func.max(Attempt.day_number)).where(
            Attempt.station_id == quiz.station_id, Attempt.quiz_id == quiz.id,
            Attempt.user_id == who.user.id, Attempt.local_day == today)) or 0
        if used >= quiz.attempts_per_day:
            raise Conflict("attempt_limit_reached", limit=quiz.attempts_per_day)
        attempt = Attempt(station_id=quiz.station_id, quiz_id=quiz.id, user_id=who.user.id,
                          local_day=today, day_number=used + 1, started_at=now,
                          deadline=deadline, total=quiz.question_count)
        try:
            # A concurrent start of the same person took this number: count again.
            with session.begin_nested():
                session.add(attempt)
                session.flush()
            return attempt
        except sa.exc.IntegrityError:
            continue
    raise Conflict("conflict")


def get_attempt(session: so.Session, who: Actor, attempt_id: int) -> Attempt:
    attempt = session.scalar(sa.select(Attempt).where(
        Attempt.id == attempt_id, Attempt.station_id == who.station.id,
        Attempt.user_id == who.user.id))
    if attempt is None:
        raise NotFound("attempt_not_found")
    return attempt


def served(session: so.Session, attempt: Attempt) -> list[tuple[AttemptQuestion, Question]]:
    rows = session.execute(
        sa.select(AttemptQuestion, Question).join(Question, Question.id == AttemptQuestion.question_id)
        .where(AttemptQuestion.attempt_id == attempt.id).order_by(AttemptQuestion.position))
    return [(served, question) for served, question in rows]


def my_attempts(who: Actor, quiz_id: int | None = None) -> sa.Select[Attempt]:
    query = sa.select(Attempt).where(Attempt.station_id == who.station.id,
                                     Attempt.user_id == who.user.id)
    if quiz_id is not None:
        query = query.where(Attempt.quiz_id == quiz_id)
    return query.order_by(Attempt.started_at.desc(), Attempt.id.desc())


@dataclass
class Graded:
    attempt: Attempt
    rows: list[tuple[AttemptQuestion, Question]]
    coupon: Any = None
    coupon_refused: str | None = None


def submit(session: so.Session, who: Actor, attempt_id: int, answers: list[dict[str, Any]],
           *, grace: dt.timedelta) -> Graded:
    """Grade an attempt against the questions it served, once.

    409 ``attempt_already_submitted`` for a second submission, ``attempt_late`` after the
    deadline (plus ``grace`` for the network); 422 ``answer_not_served`` for a question the
    attempt did not serve. A pass books the quiz's points and its coupon once per resident.
    """
    now = clock.now()
    attempt = get_attempt(session, who, attempt_id)
    if attempt.submitted_at is not None:
        raise Conflict("attempt_already_submitted")
    if now > attempt.deadline + grace:
        raise Conflict("attempt_late", deadline=_iso(attempt.deadline))
    rows = served(session, attempt)
    chosen = _read_answers(answers, {aq.question_id: aq for aq, _q in rows})
    quiz = session.get(Quiz, attempt.quiz_id)
    assert quiz is not None
    graded_rows = [(aq, chosen.get(aq.question_id)) for aq, _q in rows]
    score = sum(picked == aq.correct_shown for aq, picked in graded_rows)
    passed = score * 100 >= quiz.pass_percent * attempt.total
    # The conditional UPDATE is what makes a submission count once, even when two race; it
    # comes before any other write, so a losing racer has changed nothing when it is refused.
    claimed = cast(sa.CursorResult[Any], session.execute(
        sa.update(Attempt).where(Attempt.id == attempt.id, Attempt.submitted_at.is_(None))
        .values(submitted_at=now, score=score, passed=passed)
        .execution_options(synchronize_session=False))).rowcount
    if claimed != 1:
        raise Conflict("attempt_already_submitted")
    for name, value in (("submitted_at", now), ("score", score), ("passed", passed)):
        so.attributes.set_committed_value(attempt, name, value)
    for served_question, picked in graded_rows:
        served_question.chosen = picked
        served_question.is_correct = picked == served_question.correct_shown
    graded = Graded(attempt, rows)
    if attempt.passed:
        _reward(session, who, quiz, graded)
    session.flush()
    return graded


def _read_answers(answers: list[dict[str, Any]],
                  served_by_id: dict[int, AttemptQuestion]) -> dict[int, list[int]]:
    chosen: dict[int, list[int]] = {}
    for answer in answers:
        question_id = answer["question_id"]
        served_question = served_by_id.get(question_id)
        if served_question is None:
            raise Invalid("answer_not_served", field="answers", question_id=question_id)
        if question_id in chosen:
            raise Invalid("answer_duplicate", field="answers", question_id=question_id)
        picked = sorted(set(answer["choices"]))
        count = len(served_question.shown_choices)
        single = len(served_question.correct_shown) == 1
        if (not picked or any(i < 0 or i >= count for i in picked)
                or len(picked) != len(answer["choices"]) or (single and len(picked) > 1)):
            raise Invalid("answer_choice_invalid", field="answers", question_id=question_id)
        chosen[question_id] = picked
    return chosen


def _reward(session: so.Session, who: Actor, quiz: Quiz, graded: Graded) -> None:
    """Points and the reward coupon of a first pass; later passes find both already booked."""
    attempt = graded.attempt
    # Residents retake quizzes to practise: a cheap look first spares the ledger a refused
    # insert; the ledger's unique key still decides when two first passes race.
    booked = session.scalar(sa.select(PointsEntry.id).where(
        PointsEntry.station_id == quiz.station_id, PointsEntry.user_id == who.user.id,
        PointsEntry.source_type == SOURCE_TYPE, PointsEntry.source_id == str(quiz.id)))
    entry = None if booked is not None else ledger.award(
        session, station_id=quiz.station_id, user_id=who.user.id, event_code=POINTS_EVENT,
        source_type=SOURCE_TYPE, source_id=quiz.id, amount=quiz.points, note=quiz.title[:200])
    attempt.points_awarded = entry.amount if entry is not None else 0
    if quiz.reward_offer_id is not None:
        coupon, refused = coupons.grant_for_quiz(session, quiz, who.user.id)
        graded.coupon, graded.coupon_refused = coupon, refused
        if coupon is not None:
            attempt.coupon_id = coupon.id


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value else None
