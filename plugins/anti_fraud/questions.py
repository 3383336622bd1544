"""The question bank: checking a question, and officers creating, changing and archiving them."""

from __future__ import annotations

import dataclasses
import re
from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm as so

from core import audit, clock
from core.access import Actor
from core.errors import Invalid, NotFound
from core.messages import LOCALES
from plugins.anti_fraud.models import Question

MIN_CHOICES, MAX_CHOICES = 2, 6
TEXT_MAX, CHOICE_MAX, EXPLANATION_MAX = 1000, 300, 2000
CATEGORY = re.compile(r"^[a-z][a-z0-9_]{1,31}$")
KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$")
FIELDS = ("key", "category", "locale", "difficulty", "text", "choices", "correct", "explanation")

#: The scam types of the starter bank; a station may use other category words of its own.
CATEGORIES: dict[str, dict[str, str]] = {
    "order_brushing": {"zh-CN": "刷单返利", "en": "Order brushing and fake part-time jobs"},
    "impersonating_officials": {"zh-CN": "冒充公检法", "en": "Fake police, prosecutors and courts"},
    "fake_customer_service": {"zh-CN": "冒充客服退款理赔", "en": "Fake customer service refunds"},
    "romance_investment": {"zh-CN": "网络交友诱导投资（杀猪盘）",
                           "en": "Romance and investment (pig butchering)"},
    "fake_loan": {"zh-CN": "虚假网络贷款", "en": "Fake loans"},
    "fake_shopping": {"zh-CN": "虚假购物", "en": "Fake online shopping"},
    "game_trading": {"zh-CN": "网络游戏虚假交易", "en": "Game account and item trading"},
    "screen_sharing": {"zh-CN": "屏幕共享", "en": "Screen sharing and remote control"},
    "impersonating_acquaintance": {"zh-CN": "冒充领导、熟人", "en": "Fake bosses, relatives and friends"},
    "account_cancellation": {"zh-CN": "注销账户、修复征信", "en": "\"Close your account\" and credit repair"},
    "phishing_links": {"zh-CN": "钓鱼短信与链接", "en": "Phishing texts and links"},
    "elderly_care": {"zh-CN": "养老、保健品诈骗", "en": "Pension and health-product scams"},
    "basics": {"zh-CN": "防骗常识", "en": "Anti-fraud basics"},
}


@dataclasses.dataclass(frozen=True)
class Problem:
    """One thing wrong with a question: the field, a message code and its parameters."""

    field: str
    code: str
    params: dict[str, Any] = dataclasses.field(default_factory=dict)


def check(data: dict[str, Any]) -> list[Problem]:
    """Every problem of a complete question (as the API and the import files give it)."""
    problems: list[Problem] = []
    for name in ("category", "text", "choices", "correct"):
        if data.get(name) in (None, "", []):
            problems.append(Problem(name, "question_field_required"))
    if problems:
        return problems
    key = data.get("key")
    if key is not None and not (isinstance(key, str) and KEY.match(key)):
        problems.append(Problem("key", "question_key_invalid"))
    if not isinstance(data["category"], str) or not CATEGORY.match(data["category"]):
        problems.append(Problem("category", "question_category_invalid"))
    if data.get("locale", "zh-CN") not in LOCALES:
        problems.append(Problem("locale", "question_locale_invalid", {"locales": ", ".join(LOCALES)}))
    difficulty = data.get("difficulty", 1)
    if isinstance(difficulty, bool) or difficulty not in (1, 2, 3):
        problems.append(Problem("difficulty", "question_difficulty_invalid"))
    for name, limit in (("text", TEXT_MAX), ("explanation", EXPLANATION_MAX)):
        value = data.get(name, "")
        if not isinstance(value, str):
            problems.append(Problem(name, "question_field_type"))
        elif len(value) > limit:
            problems.append(Problem(name, "question_field_too_long", {"max": limit}))
    problems += _check_choices(data["choices"], data["correct"])
    return problems


def _check_choices(choices: Any, correct: Any) -> list[Problem]:
    if not isinstance(choices, list) or not all(isinstance(c, str) for c in choices):
        return [Problem("choices", "question_field_type")]
    if not MIN_CHOICES <= len(choices) <= MAX_CHOICES:
        return [Problem("choices", "question_choices_count", {"min": MIN_CHOICES, "max": MAX_CHOICES})]
    if any(not c.strip() for c in choices):
        return [Problem("choices", "question_choice_empty")]
    if any(len(c) > CHOICE_MAX for c in choices):
        return [Problem("choices", "question_field_too_long", {"max": CHOICE_MAX})]
    if len({c.strip() for c in choices}) != len(choices):
        return [Problem("choices", "question_choices_duplicate")]
    if (not isinstance(correct, list) or not correct or len(set(correct)) != len(correct)
            or not all(isinstance(i, int) and not isinstance(i, bool) and 0 <= i < len(choices)
                       for i in correct)):
        return [Problem("correct", "question_correct_invalid", {"count": len(choices)})]
    return []


def raise_first(problems: list[Problem]) -> None:
    if problems:
        first = problems[0]
        raise Invalid(first.code, field=first.field, **first.params)


def normalized(data: dict[str, Any]) -> dict[str, Any]:
    """The stored form: trimmed texts, sorted answer indexes, defaults filled in."""
    return {
        "key": data.get("key") or None,
        "category": data["category"],
        "locale": data.get("locale") or "zh-CN",
        "difficulty": data.get("difficulty", 1),
        "text": data["text"].strip(),
        "choices": [c.strip() for c in data["choices"]],
        "correct": sorted(data["correct"]),
        "explanation": (data.get("explanation") or "").strip(),
    }


def get_question(session: so.Session, station_id: int, question_id: int) -> Question:
    question = session.scalar(sa.select(Question).where(
        Question.id == question_id, Question.station_id == station_id))
    if question is None:
        raise NotFound("question_not_found")
    return question


def _key_taken(session: so.Session, station_id: int, key: str | None, but: int | None) -> bool:
    if key is None:
        return False
    query = sa.select(Question.id).where(Question.station_id == station_id, Question.key == key)
    if but is not None:
        query = query.where(Question.id != but)
    return session.scalar(query) is not None


def create_question(session: so.Session, who: Actor, data: dict[str, Any]) -> Question:
    """Add a question to the station's bank (officers and admins)."""
    who.require("officer", "admin")
    raise_first(check(data))
    values = normalized(data)
    if _key_taken(session, who.station.id, values["key"], None):
        raise Invalid("question_key_taken", field="key", key=values["key"])
    question = Question(station_id=who.station.id, created_by=who.user.id, **values)
    session.add(question)
    session.flush()
    audit.record(session, actor=who.user, role=who.role, action="anti_fraud.question_created",
                 record=question)
    return question


def update_question(session: so.Session, who: Actor, question_id: int,
                    changes: dict[str, Any]) -> Question:
    """Change a question; attempts already served keep the choices and answers they showed."""
    who.require("officer", "admin")
    question = get_question(session, who.station.id, question_id)
    merged = {name: getattr(question, name) for name in FIELDS} | changes
    raise_first(check(merged))
    values = normalized(merged)
    if _key_taken(session, who.station.id, values["key"], question.id):
        raise Invalid("question_key_taken", field="key", key=values["key"])
    for name, value in values.items():
        setattr(question, name, value)
    if "archived" in changes:
        question.archived_at = clock.now() if changes["archived"] else None
    question.updated_at = clock.now()
    audit.record(session, actor=who.user, role=who.role, action="anti_fraud.question_updated",
                 record=question, fields=sorted(changes))
    return question


def archive_question(session: so.Session, who: Actor, question_id: int) -> None:
    """Take a question out of future quizzes; answers given to it stay in the reports."""
    who.require("officer", "admin")
    question = get_question(session, who.station.id, question_id)
    if question.archived_at is None:
        question.archived_at = clock.now()
        audit.record(session, actor=who.user, role=who.role,
                     action="anti_fraud.question_archived", record=question)


def questions_query(who: Actor, *, category: str | None = None, locale: str | None = None,
                    q: str | None = None, archived: bool = False) -> sa.Select[Question]:
    who.require("officer", "admin")
    query = sa.select(Question).where(Question.station_id == who.station.id)
    query = query.where(Question.archived_at.is_not(None) if archived
                        else Question.archived_at.is_(None))
    if category:
        query = query.where(Question.category == category)
    if locale:
        query = query.where(Question.locale == locale)
    if q:
        query = query.where(Question.text.ilike(f"%{q}%"))
    return query.order_by(Question.category, Question.id)


def pool_query(station_id: int, locale: str, categories: list[str]) -> sa.Select[int]:
    """Ids of the questions a quiz may draw: live, in its language and categories."""
    query = sa.select(Question.id).where(
        Question.station_id == station_id, Question.locale == locale,
        Question.archived_at.is_(None))
    if categories:
        query = query.where(Question.category.in_(categories))
    return query


def categories_in_use(session: so.Session, station_id: int) -> list[dict[str, Any]]:
    """Each category with its labels and how many live questions it holds per language."""
    rows = session.execute(
        sa.select(Question.category, Question.locale, sa.func.count())
        .where(Question.station_id == station_id, Question.archived_at.is_(None))
        .group_by(Question.category, Question.locale)
    ).all()
    counts: dict[str, dict[str, int]] = {}
    for category, locale, count in rows:
        counts.setdefault(category, {})[locale] = count
    names = list(CATEGORIES) + sorted(set(counts) - set(CATEGORIES))
    return [{"category": name, "labels": CATEGORIES.get(name, {"zh-CN": name, "en": name}),
             "questions": counts.get(name, {})} for name in names]
