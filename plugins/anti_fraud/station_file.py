"""The ``[anti_fraud]`` section of the station file: shops and offers, quizzes, the question bank."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import marshmallow as ma
import sqlalchemy as sa

from core.errors import Invalid
from core.messages import LOCALES
from core.models import GroupMember, User
from core.station_file.core_sections import PhoneField
from core.station_file.section import (
    ARCHIVE,
    CREATE,
    UPDATE,
    Change,
    SectionContext,
    StationSection,
    diff_items,
    key_field,
    key_of,
)
from plugins.anti_fraud import bank, questions, quizzes, shops
from plugins.anti_fraud.models import DiscountKind, Offer, Question, Quiz, Shop

SECTION = "anti_fraud"
#: an offer's discount is what its coupons promised: fixed once the offer exists.
FIXED_OFFER_FIELDS = ("kind", "percent_off", "amount_off_cents", "min_spend_cents")


def _range(low: int, high: int) -> ma.validate.Range:
    return ma.validate.Range(low, high, error="must be between {min} and {max}")


class OfferFileSchema(ma.Schema):
    key = key_field()
    title = ma.fields.String(required=True, validate=ma.validate.Length(1, 200))
    description = ma.fields.String(load_default="", validate=ma.validate.Length(max=2000))
    kind = ma.fields.String(required=True, validate=ma.validate.OneOf([k.value for k in DiscountKind]))
    percent_off = ma.fields.Integer(load_default=None, validate=_range(1, 99))
    amount_off_cents = ma.fields.Integer(load_default=None, validate=_range(1, 100_000_000))
    min_spend_cents = ma.fields.Integer(load_default=0, validate=_range(0, 100_000_000))
    points_cost = ma.fields.Integer(load_default=None, validate=_range(0, 1_000_000),
                                    metadata={"description": "left out: only granted by a quiz"})
    stock_total = ma.fields.Integer(required=True, validate=_range(0, 1_000_000))
    per_resident_limit = ma.fields.Integer(load_default=1, validate=_range(1, 100))
    valid_from = ma.fields.AwareDateTime(required=True)
    valid_until = ma.fields.AwareDateTime(required=True)
    coupon_days = ma.fields.Integer(load_default=30, validate=_range(1, 366))

    @ma.validates_schema
    def _discount(self, data: dict[str, Any], **_: Any) -> None:
        wanted = "percent_off" if data["kind"] == DiscountKind.PERCENT else "amount_off_cents"
        other = "amount_off_cents" if wanted == "percent_off" else "percent_off"
        if data[wanted] is None:
            raise ma.ValidationError(f"required for a {data['kind']} offer", wanted)
        if data[other] is not None:
            raise ma.ValidationError(f"not for a {data['kind']} offer", other)
        if data["valid_until"] <= data["valid_from"]:
            raise ma.ValidationError("must be after valid_from", "valid_until")


class ShopFileSchema(ma.Schema):
    key = key_field()
    name = ma.fields.String(required=True, validate=ma.validate.Length(1, 120))
    address = ma.fields.String(load_default="", validate=ma.validate.Length(max=300))
    lat = ma.fields.Float(load_default=None, validate=_range(-90, 90))
    lon = ma.fields.Float(load_default=None, validate=_range(-180, 180))
    phone = ma.fields.String(load_default="", validate=ma.validate.Length(max=32),
                             metadata={"description": "the shop's own number, shown to residents"})
    managers = ma.fields.List(PhoneField(), load_default=list,
                              metadata={"description": "merchant seats leading the shop's staff"})
    staff = ma.fields.List(PhoneField(), load_default=list)
    offers = ma.fields.List(ma.fields.Nested(OfferFileSchema), load_default=list)

    @ma.post_load
    def _canonical(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        data["managers"] = sorted(set(data["managers"]))
        data["staff"] = sorted(set(data["staff"]) - set(data["managers"]))
        return data


class QuizFileSchema(ma.Schema):
    key = key_field()
    title = ma.fields.String(required=True, validate=ma.validate.Length(1, 200))
    description = ma.fields.String(load_default="", validate=ma.validate.Length(max=2000))
    categories = ma.fields.List(ma.fields.String(), load_default=list)
    locale = ma.fields.String(load_default="zh-CN",
                              validate=ma.validate.OneOf(list(LOCALES)))
    question_count = ma.fields.Integer(required=True, validate=_range(1, 100))
    pass_percent = ma.fields.Integer(load_default=60, validate=_range(1, 100))
    time_limit_s = ma.fields.Integer(load_default=600, validate=_range(30, 7200))
    attempts_per_day = ma.fields.Integer(load_default=3, validate=_range(1, 20))
    opens_at = ma.fields.AwareDateTime(load_default=None)
    closes_at = ma.fields.AwareDateTime(load_default=None)
    points = ma.fields.Integer(load_default=None, validate=_range(0, 100_000))
    reward_offer = ma.fields.String(load_default=None,
                                    metadata={"description": "an offer's key: a coupon on passing"})


class QuestionFileSchema(ma.Schema):
    key = key_field()
    category = ma.fields.String(required=True)
    locale = ma.fields.String(load_default="zh-CN")
    difficulty = ma.fields.Integer(load_default=1, validate=_range(1, 3))
    text = ma.fields.String(required=True)
    choices = ma.fields.List(ma.fields.String(), required=True)
    correct = ma.fields.List(ma.fields.Integer(), required=True,
                             metadata={"description": "indexes into choices, from 0"})
    explanation = ma.fields.String(load_default="")

    @ma.validates_schema
    def _question(self, data: dict[str, Any], **_: Any) -> None:
        problems = questions.check(data)
        if problems:
            raise ma.ValidationError({p.field or "_schema": [p.code] for p in problems})

    @ma.post_load
    def _normalized(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        return questions.normalized(data)


class AntiFraudFileSchema(ma.Schema):
    shops = ma.fields.List(ma.fields.Nested(ShopFileSchema), load_default=list)
    quizzes = ma.fields.List(ma.fields.Nested(QuizFileSchema), load_default=list)
    questions = ma.fields.List(
        ma.fields.Nested(QuestionFileSchema), load_default=None,
        metadata={"description": "the question bank; left out: the bank is left alone"})
    bank = ma.fields.String(load_default=None, metadata={
        "description": "command line only: a CSV or JSON bank file, relative to this file"})


def inline_files(data: dict[str, Any], folder: Path) -> dict[str, Any]:
    """The command line reads ``bank = "questions.csv"`` into ``questions``."""
    if not isinstance(data, dict) or not isinstance(data.get("bank"), str):
        return data
    from core.station_file.document import FileErrors

    path = folder / data["bank"]
    fmt = "csv" if path.suffix.lower() == ".csv" else "json"
    try:
        rows = bank.parse(path.read_bytes(), fmt, "en")
    except OSError as exc:
        raise FileErrors([{"path": "anti_fraud.bank", "message": f"{path}: {exc.strerror}"}]) from None
    except Invalid as exc:
        raise FileErrors([{"path": f"anti_fraud.bank (line {e['line']})",
                           "message": f"{e['field']}: {e['message']}"}
                          for e in exc.details.get("errors", [])]) from None
    inlined = {k: v for k, v in data.items() if k != "bank"}
    inlined["questions"] = [{k: v for k, v in questions.normalized(r.data).items()
                             if v is not None} for r in rows]
    return inlined


def check(section: dict[str, Any], document: dict[str, Any],
          _deployment: Any) -> list[tuple[str, str]]:
    errors: list[tuple[str, str]] = []
    if section["bank"] is not None:
        errors.append(("anti_fraud.bank", "a file path is read by the command line only: send"
                       " the questions inline"))
    seats = {s["phone"]: s["roles"] for s in document["seats"]} if "seats" in document else None
    offers: set[str] = set()
    seen: dict[str, set[str]] = {}

    def once(kind: str, key: str, path: str) -> None:
        if key in seen.setdefault(kind, set()):
            errors.append((path, "appears twice in the station"))
        seen[kind].add(key)

    for s, shop in enumerate(section["shops"]):
        where = f"anti_fraud.shops[{s}]"
        once("shop", shop["key"], f"{where}.key")
        for field in ("managers", "staff"):
            for n, phone in enumerate(shop[field]):
                if seats is not None and "merchant" not in seats.get(phone, []):
                    errors.append((f"{where}.{field}[{n}]", "needs a seat with the merchant role"))
        for o, offer in enumerate(shop["offers"]):
            once("offer", offer["key"], f"{where}.offers[{o}].key")
            offers.add(offer["key"])
    for q, quiz in enumerate(section["quizzes"]):
        once("quiz", quiz["key"], f"anti_fraud.quizzes[{q}].key")
        if quiz["reward_offer"] is not None and quiz["reward_offer"] not in offers:
            errors.append((f"anti_fraud.quizzes[{q}].reward_offer",
                           f"no offer with key {quiz['reward_offer']} in this section"))
        if quiz["opens_at"] and quiz["closes_at"] and quiz["closes_at"] <= quiz["opens_at"]:
            errors.append((f"anti_fraud.quizzes[{q}].closes_at", "must be after opens_at"))
    for n, question in enumerate(section["questions"] or []):
        once("question", question["key"], f"anti_fraud.questions[{n}].key")
    return errors


def export(ctx: SectionContext) -> dict[str, Any]:
    assert ctx.station is not None
    session, station_id = ctx.session, ctx.station.id
    shop_rows = session.scalars(sa.select(Shop).where(Shop.station_id == station_id,
                                                      Shop.active.is_(True)).order_by(Shop.id)).all()
    people: dict[int, list[tuple[str, bool]]] = {}
    for group_id, phone, leader in session.execute(
            sa.select(GroupMember.group_id, User.phone, GroupMember.is_leader)
            .join(User, User.id == GroupMember.user_id)
            .where(GroupMember.station_id == station_id)):
        if phone:
            people.setdefault(group_id, []).append((phone, leader))
    offers: dict[int, list[Offer]] = {}
    offer_keys: dict[int, str] = {}
    for offer in session.scalars(sa.select(Offer).where(Offer.station_id == station_id)
                                 .order_by(Offer.id)):
        offer_keys[offer.id] = key_of(offer, "offer")
        if offer.active:
            offers.setdefault(offer.shop_id, []).append(offer)
    return {
        "shops": [{
            "key": key_of(s, "shop"), "id": s.id, "name": s.name, "address": s.address or "",
            "lat": s.lat, "lon": s.lon, "phone": s.phone or "",
            "managers": sorted(p for p, lead in people.get(s.group_id, []) if lead),
            "staff": sorted(p for p, lead in people.get(s.group_id, []) if not lead),
            "offers": [{
                "key": offer_keys[o.id], "id": o.id, "title": o.title,
                "description": o.description or "", "kind": str(o.kind),
                "percent_off": o.percent_off, "amount_off_cents": o.amount_off_cents,
                "min_spend_cents": o.min_spend_cents, "points_cost": o.points_cost,
                "stock_total": o.stock_total, "per_resident_limit": o.per_resident_limit,
                "valid_from": o.valid_from, "valid_until": o.valid_until,
                "coupon_days": o.coupon_days} for o in offers.get(s.id, [])],
        } for s in shop_rows],
        "quizzes": [{
            "key": key_of(q, "quiz"), "id": q.id, "title": q.title,
            "description": q.description or "", "categories": list(q.categories or []),
            "locale": q.locale, "question_count": q.question_count,
            "pass_percent": q.pass_percent, "time_limit_s": q.time_limit_s,
            "attempts_per_day": q.attempts_per_day, "opens_at": q.opens_at,
            "closes_at": q.closes_at, "points": q.points,
            "reward_offer": offer_keys.get(q.reward_offer_id) if q.reward_offer_id else None,
        } for q in session.scalars(sa.select(Quiz).where(
            Quiz.station_id == station_id, Quiz.active.is_(True)).order_by(Quiz.id))],
        # The bank is large and has its own export (wardens anti-fraud export): left out, a
        # file leaves it alone; a file that lists questions manages them.
        "questions": None,
        "bank": None,
    }


def _stored_questions(ctx: SectionContext) -> list[dict[str, Any]]:
    assert ctx.station is not None
    rows = ctx.session.scalars(sa.select(Question).where(
        Question.station_id == ctx.station.id, Question.archived_at.is_(None))
        .order_by(Question.id))
    return [{**questions.normalized({c: getattr(q, c) for c in (
        "key", "category", "locale", "difficulty", "text", "choices", "correct",
        "explanation")}), "key": key_of(q, "question"), "id": q.id} for q in rows]


def plan(ctx: SectionContext, current: dict[str, Any], wanted: dict[str, Any]) -> list[Change]:
    shop_list = current.get("shops", [])
    changes = diff_items(SECTION, "shop", "anti_fraud.shops", shop_list, wanted["shops"],
                         skip=("offers",))
    stored_offers = [{**o, "shop": s["key"]} for s in shop_list for o in s["offers"]]
    wanted_offers = [{**o, "shop": s["key"]} for s in wanted["shops"] for o in s["offers"]]
    for change in diff_items(SECTION, "offer", "", stored_offers, wanted_offers):
        item = change.wanted or change.current
        change.path = f"anti_fraud.shops[{item['shop']}].offers[{change.key}]"
        if change.action == CREATE:
            change.fields.pop("shop", None)
        if change.action == UPDATE and set(FIXED_OFFER_FIELDS) & set(change.fields):
            change.note = "a discount is fixed once offered: give the new terms a new key"
        changes.append(change)
    changes += diff_items(SECTION, "quiz", "anti_fraud.quizzes", current.get("quizzes", []),
                          wanted["quizzes"])
    if wanted["questions"] is not None:
        stored = _stored_questions(ctx) if ctx.station is not None else []
        changes += diff_items(SECTION, "question", "anti_fraud.questions", stored,
                              wanted["questions"])
    return changes


def apply(ctx: SectionContext, changes: list[Change]) -> None:
    session, who = ctx.session, ctx.actor
    assert who is not None and ctx.station is not None

    def of(kind: str, *actions: str) -> list[Change]:
        return [c for c in changes if c.kind == kind and c.action in actions]

    shop_ids: dict[str, int] = {}
    for change in of("question", CREATE, UPDATE):
        if change.action == CREATE:
            questions.create_question(session, who, change.wanted)
        else:
            fields = {k: v for k, v in change.wanted.items() if k != "key"}
            questions.update_question(session, who, change.current["id"], fields)
        ctx.progress(change)
    # Archived, never deleted: coupons, attempts and redemptions keep pointing at them. What
    # goes comes first: a new shop may take the name of one the file drops.
    for change in of("quiz", ARCHIVE):
        quizzes.update_quiz(session, who, change.current["id"], {"key": None, "active": False})
        ctx.progress(change)
    for change in of("offer", ARCHIVE):
        shops.update_offer(session, who, change.current["id"], {"key": None, "active": False})
        ctx.progress(change)
    for change in of("shop", ARCHIVE):
        shops.update_shop(session, who, change.current["id"], {"key": None, "active": False})
        ctx.progress(change)
    for change in of("shop", CREATE, UPDATE):
        item = change.wanted
        fields = {"key": item["key"], "name": item["name"], "address": item["address"],
                  "lat": item["lat"], "lon": item["lon"], "phone": item["phone"]}
        dropped = session.scalar(sa.select(Shop.id).where(
            Shop.station_id == ctx.station.id, Shop.name == item["name"],
            Shop.active.is_(False))) if change.action == CREATE else None
        if dropped is not None:
            # A shop of that name the file once dropped comes back, with its staff group.
            shop = shops.update_shop(session, who, dropped, {**fields, "active": True})
        elif change.action == CREATE:
            shop = shops.create_shop(session, who, fields)
        else:
            shop = shops.update_shop(session, who, change.current["id"], fields)
        before = dict(session.execute(
            sa.select(User.phone, GroupMember.is_leader).join(User, User.id == GroupMember.user_id)
            .where(GroupMember.group_id == shop.group_id, User.phone.is_not(None))).all())
        shop_ids[item["key"]] = shop.id
        after = {**{p: False for p in item["staff"]}, **{p: True for p in item["managers"]}}
        ids = dict(session.execute(sa.select(User.phone, User.id).where(
            User.phone.in_([*before, *after]))).all())  # type: ignore[arg-type]
        for phone in before.keys() - after.keys():
            shops.remove_staff(session, who, shop.id, ids[phone])
        for phone, leader in after.items():
            # A merchant not registered yet joins the staff at the first apply after.
            if phone in ids and before.get(phone) != leader:
                shops.put_staff(session, who, shop.id, ids[phone], leader)
        ctx.progress(change)
    for change in of("offer", CREATE, UPDATE):
        item = change.wanted
        terms = {"title": item["title"], "description": item["description"],
                 "points_cost": item["points_cost"], "stock_total": item["stock_total"],
                 "per_resident_limit": item["per_resident_limit"],
                 "valid_from": item["valid_from"], "valid_until": item["valid_until"],
                 "coupon_days": item["coupon_days"]}
        if change.action == CREATE:
            shop_id = shop_ids.get(item["shop"]) or _shop_id(ctx, item["shop"])
            shops.create_offer(session, who, {
                **terms, "key": item["key"], "shop_id": shop_id, "kind": DiscountKind(item["kind"]),
                **{f: item[f] for f in FIXED_OFFER_FIELDS if f != "kind"}})
        else:
            if set(FIXED_OFFER_FIELDS) & set(change.fields):
                raise Invalid("station_file_fixed_field", path=change.path,
                              fields=", ".join(sorted(set(FIXED_OFFER_FIELDS) & set(change.fields))))
            shops.update_offer(session, who, change.current["id"], terms)
        ctx.progress(change)
    offer_ids = {o.key: o.id for o in session.scalars(sa.select(Offer).where(
        Offer.station_id == ctx.station.id, Offer.key.is_not(None)))}
    for change in of("quiz", CREATE, UPDATE):
        item = change.wanted
        fields = {k: item[k] for k in ("title", "description", "categories", "locale",
                                       "question_count", "pass_percent", "time_limit_s",
                                       "attempts_per_day", "opens_at", "closes_at", "points")}
        fields["key"] = item["key"]
        fields["reward_offer_id"] = (offer_ids.get(item["reward_offer"])
                                     if item["reward_offer"] else None)
        if change.action == CREATE:
            quizzes.create_quiz(session, who, fields)
        else:
            quizzes.update_quiz(session, who, change.current["id"], fields)
        ctx.progress(change)
    for change in of("question", ARCHIVE):
        questions.update_question(session, who, change.current["id"], {"key": None})
        questions.archive_question(session, who, change.current["id"])
        ctx.progress(change)


def _shop_id(ctx: SectionContext, key: str) -> int:
    assert ctx.station is not None
    for shop in ctx.session.scalars(sa.select(Shop).where(Shop.station_id == ctx.station.id)):
        if key_of(shop, "shop") == key:
            return shop.id
    raise LookupError(key)  # the plan listed the shop: it exists by now


SECTION_SPEC = StationSection(
    SECTION, AntiFraudFileSchema, export, plan, apply, check=check, group_kinds=("shop",),
    inline_files=inline_files,
    description="Alliance shops with their staff and offers, quizzes, and the question bank.")
