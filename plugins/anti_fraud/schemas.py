"""Request and response schemas of the anti-fraud API."""

from __future__ import annotations

from typing import Any

import marshmallow as ma

from api.fields import Name, Text, TimeRangeArgsSchema
from api.positions import Lat, Lon, Positioned
from api.smorest import Schema
from core.messages import LOCALES
from plugins.anti_fraud import questions
from plugins.anti_fraud.models import Coupon, CouponSource, DiscountKind, Offer, Shop

LOCALE = ma.validate.OneOf(LOCALES)
CATEGORY = ma.validate.Regexp(questions.CATEGORY.pattern)
CENTS = ma.validate.Range(min=0, max=100_000_000)


# Question bank --------------------------------------------------------------------------------

class QuestionSchema(Schema):
    id = ma.fields.Integer(dump_only=True)
    key = ma.fields.String(allow_none=True, load_default=None,
                           metadata={"description": "Your own id; importing it again updates"})
    category = ma.fields.String(required=True, metadata={"description": "e.g. fake_loan"})
    locale = ma.fields.String(load_default="zh-CN", validate=LOCALE)
    difficulty = ma.fields.Integer(load_default=1, metadata={"description": "1 easy, 2, 3 hard"})
    text = ma.fields.String(required=True)
    choices = ma.fields.List(ma.fields.String(), required=True,
                             metadata={"description": "2-6 choices"})
    correct = ma.fields.List(ma.fields.Integer(), required=True,
                             metadata={"description": "Indexes of the correct choices (from 0)"})
    explanation = ma.fields.String(load_default="")
    archived_at = ma.fields.AwareDateTime(dump_only=True, allow_none=True)
    created_at = ma.fields.AwareDateTime(dump_only=True)
    updated_at = ma.fields.AwareDateTime(dump_only=True)


class QuestionFileItemSchema(Schema):
    """A question in a question file: the fields of a question, without the bank's own."""

    key = ma.fields.String(allow_none=True)
    category = ma.fields.String(required=True)
    locale = ma.fields.String(validate=LOCALE)
    difficulty = ma.fields.Integer()
    text = ma.fields.String(required=True)
    choices = ma.fields.List(ma.fields.String(), required=True)
    correct = ma.fields.List(ma.fields.Integer(), required=True)
    explanation = ma.fields.String()


class QuestionFileSchema(Schema):
    """A question file (export and the JSON form of import); import also takes the bare list."""

    format = ma.fields.String(validate=ma.validate.OneOf(["wardens-anti-fraud-questions"]))
    version = ma.fields.Integer(validate=ma.validate.OneOf([1]))
    questions = ma.fields.List(ma.fields.Nested(QuestionFileItemSchema), required=True)


class QuestionUpdateSchema(Schema):
    key = ma.fields.String(allow_none=True)
    category = ma.fields.String()
    locale = ma.fields.String(validate=LOCALE)
    difficulty = ma.fields.Integer()
    text = ma.fields.String()
    choices = ma.fields.List(ma.fields.String())
    correct = ma.fields.List(ma.fields.Integer())
    explanation = ma.fields.String()
    archived = ma.fields.Boolean(metadata={"description": "false brings an archived one back"})


class QuestionQueryArgsSchema(Schema):
    category = ma.fields.String(validate=ma.validate.Length(max=32))
    locale = ma.fields.String(validate=LOCALE)
    q = ma.fields.String(validate=ma.validate.Length(max=50), metadata={"description": "Text contains"})
    archived = ma.fields.Boolean(load_default=False)


class CategorySchema(Schema):
    category = ma.fields.String()
    labels = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.String())
    questions = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Integer(),
                               metadata={"description": "Live questions per language"})


class ImportArgsSchema(Schema):
    format = ma.fields.String(validate=ma.validate.OneOf(["csv", "json"]),
                              metadata={"description": "Else taken from Content-Type or file name"})
    locale = ma.fields.String(load_default="zh-CN", validate=LOCALE,
                              metadata={"description": "Language of rows that name none"})
    dry_run = ma.fields.Boolean(load_default=False, metadata={"description": "Check only"})


class ImportResultSchema(Schema):
    total = ma.fields.Integer()
    created = ma.fields.Integer()
    updated = ma.fields.Integer()
    unchanged = ma.fields.Integer()
    dry_run = ma.fields.Boolean()


class ExportArgsSchema(Schema):
    format = ma.fields.String(load_default="json", validate=ma.validate.OneOf(["csv", "json"]))
    category = ma.fields.String(validate=ma.validate.Length(max=32))
    locale = ma.fields.String(validate=LOCALE)


class StarterBankSchema(Schema):
    locales = ma.fields.List(ma.fields.String(validate=LOCALE), load_default=list(LOCALES),
                             validate=ma.validate.Length(min=1))


# Quizzes and attempts -------------------------------------------------------------------------

class StandingSchema(Schema):
    attempts_today = ma.fields.Integer()
    attempts_left_today = ma.fields.Integer()
    best_score = ma.fields.Integer(allow_none=True)
    passed = ma.fields.Boolean()
    open = ma.fields.Boolean()


class QuizSchema(Schema):
    id = ma.fields.Integer(dump_only=True)
    title = Name(max_length=200, required=True)
    description = Text(max_length=2000, load_default="")
    categories = ma.fields.List(ma.fields.String(validate=CATEGORY), load_default=list,
                                validate=ma.validate.Length(max=20),
                                metadata={"description": "Empty: every category"})
    locale = ma.fields.String(load_default="zh-CN", validate=LOCALE)
    question_count = ma.fields.Integer(required=True, validate=ma.validate.Range(min=1, max=100))
    pass_percent = ma.fields.Integer(load_default=60, validate=ma.validate.Range(min=1, max=100),
                                     metadata={"description": "Share of correct answers to pass"})
    time_limit_s = ma.fields.Integer(load_default=600, validate=ma.validate.Range(min=30, max=7200))
    attempts_per_day = ma.fields.Integer(load_default=3, validate=ma.validate.Range(min=1, max=20),
                                         metadata={"description": "Days in the station's time zone"})
    opens_at = ma.fields.AwareDateTime(allow_none=True, load_default=None)
    closes_at = ma.fields.AwareDateTime(allow_none=True, load_default=None)
    points = ma.fields.Integer(allow_none=True, load_default=None,
                               validate=ma.validate.Range(min=0, max=100_000),
                               metadata={"description": "For the first pass; null: the station's "
                                                        "anti_fraud.quiz_passed rule"})
    reward_offer_id = ma.fields.Integer(allow_none=True, load_default=None,
                                        metadata={"description": "Coupon granted on passing"})
    active = ma.fields.Boolean(load_default=True)
    created_at = ma.fields.AwareDateTime(dump_only=True)


class QuizUpdateSchema(Schema):
    title = Name(max_length=200)
    description = Text(max_length=2000)
    categories = ma.fields.List(ma.fields.String(validate=CATEGORY), validate=ma.validate.Length(max=20))
    locale = ma.fields.String(validate=LOCALE)
    question_count = ma.fields.Integer(validate=ma.validate.Range(min=1, max=100))
    pass_percent = ma.fields.Integer(validate=ma.validate.Range(min=1, max=100))
    time_limit_s = ma.fields.Integer(validate=ma.validate.Range(min=30, max=7200))
    attempts_per_day = ma.fields.Integer(validate=ma.validate.Range(min=1, max=20))
    opens_at = ma.fields.AwareDateTime(allow_none=True)
    closes_at = ma.fields.AwareDateTime(allow_none=True)
    points = ma.fields.Integer(allow_none=True, validate=ma.validate.Range(min=0, max=100_000))
    reward_offer_id = ma.fields.Integer(allow_none=True)
    active = ma.fields.Boolean()


class QuizDetailSchema(QuizSchema):
    me = ma.fields.Nested(StandingSchema, dump_only=True)


class QuizQueryArgsSchema(Schema):
    include_inactive = ma.fields.Boolean(load_default=False, metadata={"description": "Officers"})


class ServedQuestionSchema(Schema):
    """A question as the attempt shows it; the answer fields appear only after submission."""

    question_id = ma.fields.Integer()
    position = ma.fields.Integer()
    category = ma.fields.String()
    text = ma.fields.String()
    multiple = ma.fields.Boolean(metadata={"description": "More than one choice is correct"})
    choices = ma.fields.List(ma.fields.String(), metadata={"description": "In the order shown"})
    chosen = ma.fields.List(ma.fields.Integer(), allow_none=True,
                            metadata={"description": "After submission"})
    correct_choices = ma.fields.List(ma.fields.Integer(), metadata={"description": "After submission"})
    is_correct = ma.fields.Boolean(metadata={"description": "After submission"})
    explanation = ma.fields.String(metadata={"description": "After submission"})


class AttemptSchema(Schema):
    id = ma.fields.Integer()
    quiz_id = ma.fields.Integer()
    status = ma.fields.String(metadata={"description": "open, submitted or expired"})
    started_at = ma.fields.AwareDateTime()
    deadline = ma.fields.AwareDateTime()
    submitted_at = ma.fields.AwareDateTime(allow_none=True)
    total = ma.fields.Integer()
    score = ma.fields.Integer(allow_none=True)
    passed = ma.fields.Boolean(allow_none=True)
    points_awarded = ma.fields.Integer()
    coupon_id = ma.fields.Integer(allow_none=True)
    coupon_refused = ma.fields.String(allow_none=True,
                                      metadata={"description": "Why a pass got no coupon"})
    questions = ma.fields.List(ma.fields.Nested(ServedQuestionSchema))


class AttemptQueryArgsSchema(Schema):
    quiz_id = ma.fields.Integer()


class AnswerSchema(Schema):
    question_id = ma.fields.Integer(required=True)
    choices = ma.fields.List(ma.fields.Integer(), required=True,
                             validate=ma.validate.Length(min=1, max=questions.MAX_CHOICES),
                             metadata={"description": "Indexes in the order shown"})


class SubmissionSchema(Schema):
    answers = ma.fields.List(ma.fields.Nested(AnswerSchema), required=True,
                             validate=ma.validate.Length(max=100))


# Shops, offers, coupons -----------------------------------------------------------------------

class ShopSchema(Positioned):
    id = ma.fields.Integer(dump_only=True)
    name = Name(required=True)
    address = Text(max_length=300, load_default="")
    lat = Lat(allow_none=True, load_default=None)
    lon = Lon(allow_none=True, load_default=None)
    phone = Text(max_length=32, load_default="")
    group_id = ma.fields.Integer(metadata={"description": "An existing shop group; else one is made"})
    active = ma.fields.Boolean(load_default=True)
    created_at = ma.fields.AwareDateTime(dump_only=True)


class ShopUpdateSchema(Positioned):
    name = Name()
    address = Text(max_length=300)
    lat = Lat(allow_none=True)
    lon = Lon(allow_none=True)
    phone = Text(max_length=32)
    active = ma.fields.Boolean()


class ShopQueryArgsSchema(Schema):
    mine = ma.fields.Boolean(load_default=False, metadata={"description": "Shops I am staff of"})
    include_inactive = ma.fields.Boolean(load_default=False, metadata={"description": "Officers"})


class StaffSchema(Schema):
    user_id = ma.fields.Integer()
    display_name = ma.fields.String()
    is_leader = ma.fields.Boolean()
    merchant = ma.fields.Boolean()


class StaffPutSchema(Schema):
    leader = ma.fields.Boolean(load_default=False)


class ShopRefSchema(Schema):
    id = ma.fields.Integer()
    name = ma.fields.String()
    address = ma.fields.String()


def _flatten(row: Any, names: tuple[type, ...]) -> dict[str, Any]:
    """[Offer, Shop]-like rows (a list, as a view's tuple would be read as a status) become one
    dict: the first entity's columns plus the others by name."""
    parts = tuple(row) if isinstance(row, list | tuple) or hasattr(row, "_fields") else (row,)
    first = parts[0]
    out = {c.key: getattr(first, c.key) for c in first.__table__.columns}
    for part in parts[1:]:
        for cls in names:
            if isinstance(part, cls):
                out[cls.__name__.lower()] = part
    return out


class OfferSchema(Schema):
    id = ma.fields.Integer(dump_only=True)
    shop_id = ma.fields.Integer(required=True)
    shop = ma.fields.Nested(ShopRefSchema, dump_only=True)
    title = Name(max_length=200, required=True)
    description = Text(max_length=2000, load_default="")
    kind = ma.fields.Enum(DiscountKind, by_value=True, required=True)
    percent_off = ma.fields.Integer(allow_none=True, load_default=None,
                                    validate=ma.validate.Range(min=1, max=99))
    amount_off_cents = ma.fields.Integer(allow_none=True, load_default=None,
                                         validate=ma.validate.Range(min=1, max=100_000_000))
    min_spend_cents = ma.fields.Integer(load_default=0, validate=CENTS)
    points_cost = ma.fields.Integer(allow_none=True, required=True,
                                    validate=ma.validate.Range(min=0, max=1_000_000),
                                    metadata={"description": "null: only granted by a quiz"})
    stock_total = ma.fields.Integer(required=True, validate=ma.validate.Range(min=0, max=1_000_000))
    stock_left = ma.fields.Integer(dump_only=True)
    per_resident_limit = ma.fields.Integer(load_default=1, validate=ma.validate.Range(min=1, max=100))
    valid_from = ma.fields.AwareDateTime(metadata={"description": "Default: now"})
    valid_until = ma.fields.AwareDateTime(required=True)
    coupon_days = ma.fields.Integer(load_default=30, validate=ma.validate.Range(min=1, max=366),
                                    metadata={"description": "How long a coupon stays good"})
    active = ma.fields.Boolean(load_default=True)
    created_at = ma.fields.AwareDateTime(dump_only=True)

    @ma.pre_dump
    def _rows(self, row: Any, **_kwargs: Any) -> dict[str, Any]:
        return _flatten(row, (Shop,))


class OfferUpdateSchema(Schema):
    title = Name(max_length=200)
    description = Text(max_length=2000)
    points_cost = ma.fields.Integer(allow_none=True, validate=ma.validate.Range(min=0, max=1_000_000))
    stock_total = ma.fields.Integer(validate=ma.validate.Range(min=0, max=1_000_000))
    per_resident_limit = ma.fields.Integer(validate=ma.validate.Range(min=1, max=100))
    valid_from = ma.fields.AwareDateTime()
    valid_until = ma.fields.AwareDateTime()
    coupon_days = ma.fields.Integer(validate=ma.validate.Range(min=1, max=366))
    active = ma.fields.Boolean()


class OfferQueryArgsSchema(Schema):
    shop_id = ma.fields.Integer()
    available = ma.fields.Boolean(load_default=False,
                                  metadata={"description": "Open now, in stock, for points"})
    include_inactive = ma.fields.Boolean(load_default=False, metadata={"description": "Officers"})


class CouponOfferSchema(Schema):
    """What a coupon is worth, from its offer."""

    title = ma.fields.String()
    kind = ma.fields.Enum(DiscountKind, by_value=True)
    percent_off = ma.fields.Integer(allow_none=True)
    amount_off_cents = ma.fields.Integer(allow_none=True)
    min_spend_cents = ma.fields.Integer()


class CouponSchema(Schema):
    id = ma.fields.Integer()
    status = ma.fields.String(metadata={"description": "active, redeemed or expired"})
    offer_id = ma.fields.Integer()
    offer = ma.fields.Nested(CouponOfferSchema, allow_none=True)
    shop = ma.fields.Nested(ShopRefSchema)
    source = ma.fields.Enum(CouponSource, by_value=True)
    quiz_id = ma.fields.Integer(allow_none=True)
    points_spent = ma.fields.Integer()
    issued_at = ma.fields.AwareDateTime()
    expires_at = ma.fields.AwareDateTime()
    redeemed_at = ma.fields.AwareDateTime(allow_none=True)

    @ma.pre_dump
    def _rows(self, row: Any, **_kwargs: Any) -> dict[str, Any]:
        from plugins.anti_fraud.coupons import status_of

        out = _flatten(row, (Offer, Shop))
        out["status"] = status_of(row if isinstance(row, Coupon) else tuple(row)[0])
        return out


class CouponQueryArgsSchema(Schema):
    status = ma.fields.String(validate=ma.validate.OneOf(["active", "redeemed", "expired"]))


class QrSchema(Schema):
    coupon_id = ma.fields.Integer()
    payload = ma.fields.String(metadata={"description": "Show it as a QR code; refresh it before "
                                                        "expires_at"})
    expires_at = ma.fields.AwareDateTime()
    ttl_seconds = ma.fields.Integer()


class RedemptionCreateSchema(Schema):
    payload = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=200),
                               metadata={"description": "What the scanner read"})
    bill_cents = ma.fields.Integer(required=True, validate=CENTS,
                                   metadata={"description": "The bill before the discount"})


class RedemptionSchema(Schema):
    id = ma.fields.Integer()
    coupon_id = ma.fields.Integer()
    offer_id = ma.fields.Integer()
    offer = ma.fields.String(metadata={"description": "The offer's title"})
    coupon_source = ma.fields.String()
    shop_id = ma.fields.Integer()
    staff_id = ma.fields.Integer()
    bill_cents = ma.fields.Integer()
    discount_cents = ma.fields.Integer()
    payable_cents = ma.fields.Integer()
    redeemed_at = ma.fields.AwareDateTime()

    @ma.pre_dump
    def _rows(self, row: Any, **_kwargs: Any) -> dict[str, Any]:
        redemption, title, source = row
        out = {c.key: getattr(redemption, c.key) for c in redemption.__table__.columns}
        return out | {"offer": title, "coupon_source": str(source),
                      "payable_cents": redemption.bill_cents - redemption.discount_cents}


# Reports --------------------------------------------------------------------------------------

class ReportArgsSchema(TimeRangeArgsSchema):
    format = ma.fields.String(load_default="json", validate=ma.validate.OneOf(["json", "csv"]))


class CategoryReportArgsSchema(TimeRangeArgsSchema):
    locale = ma.fields.String(validate=LOCALE)


class MissedArgsSchema(Schema):
    start = ma.fields.Date(data_key="from", metadata={
        "description": "First day (station time), YYYY-MM-DD; with `to`, else last month"})
    end = ma.fields.Date(data_key="to", metadata={"description": "Last day, included"})
    locale = ma.fields.String(validate=LOCALE, metadata={"description": "Questions in it only"})


class SettlementItemSchema(Schema):
    redemption_id = ma.fields.Integer()
    redeemed_at = ma.fields.AwareDateTime()
    coupon_id = ma.fields.Integer()
    offer_id = ma.fields.Integer()
    offer = ma.fields.String()
    coupon_source = ma.fields.String()
    staff_id = ma.fields.Integer()
    bill_cents = ma.fields.Integer()
    discount_cents = ma.fields.Integer()


class SettlementSchema(Schema):
    shop = ma.fields.Dict()
    since = ma.fields.AwareDateTime(allow_none=True)
    until = ma.fields.AwareDateTime(allow_none=True)
    count = ma.fields.Integer()
    bill_cents = ma.fields.Integer()
    discount_cents = ma.fields.Integer()
    redemptions = ma.fields.List(ma.fields.Nested(SettlementItemSchema))


class ShopTotalsSchema(Schema):
    shop_id = ma.fields.Integer()
    shop = ma.fields.String()
    count = ma.fields.Integer()
    bill_cents = ma.fields.Integer()
    discount_cents = ma.fields.Integer()


class QuestionShareSchema(Schema):
    question_id = ma.fields.Integer()
    category = ma.fields.String()
    text = ma.fields.String()
    answered = ma.fields.Integer()
    wrong = ma.fields.Integer()
    wrong_share = ma.fields.Float(allow_none=True)


class CategoryShareSchema(Schema):
    category = ma.fields.String()
    labels = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.String())
    answered = ma.fields.Integer()
    wrong = ma.fields.Integer()
    wrong_share = ma.fields.Float(allow_none=True)


class QuizReportSchema(Schema):
    quiz = ma.fields.Dict()
    since = ma.fields.AwareDateTime(allow_none=True)
    until = ma.fields.AwareDateTime(allow_none=True)
    attempts = ma.fields.Integer()
    submitted = ma.fields.Integer()
    passed = ma.fields.Integer()
    pass_rate = ma.fields.Float(allow_none=True)
    residents = ma.fields.Integer()
    residents_passed = ma.fields.Integer()
    questions = ma.fields.List(ma.fields.Nested(QuestionShareSchema))
    categories = ma.fields.List(ma.fields.Nested(CategoryShareSchema))


class MissedReportSchema(Schema):
    start = ma.fields.Date(data_key="from", required=True)
    end = ma.fields.Date(data_key="to", required=True)
    time_zone = ma.fields.String(required=True, metadata={"description": "The station's"})
    questions = ma.fields.List(ma.fields.Nested(QuestionShareSchema), required=True,
                               metadata={"description": "Most missed first"})
    categories = ma.fields.List(ma.fields.Nested(CategoryShareSchema), required=True,
                                metadata={"description": "Most missed first"})
