"""The anti-fraud endpoints, mounted at /api/v1/stations/<station>/anti-fraud/."""

from __future__ import annotations

from typing import Any

from flask import Response, current_app, request

from api.auth import actor
from api.errors import request_locale
from api.pagination import QueryPage
from api.smorest import Blueprint
from api.unit_of_work import db, refuse_bad_text, upload_limit
from core.errors import Invalid
from core.reports import Period
from plugins.anti_fraud import bank, coupons, questions, quizzes, reports, settings, shops
from plugins.anti_fraud import schemas as s
from plugins.anti_fraud.models import Attempt, Question, Redemption

blp = Blueprint("anti_fraud", __name__, description="Anti-fraud quizzes, alliance shops, coupons")

# A file, not an API body: a malformed one is a 422 with its line, like a bad CSV, so the JSON
# variant is described in the text rather than as an application/json request body.
FILE_BODY = {"required": True, "content": {
    "text/csv": {"schema": {"type": "string"}},
    "application/json": {"schema": {"oneOf": [  # a question file, or its bare list of questions
        {"$ref": "#/components/schemas/AntiFraudQuestionFile"},
        {"type": "array", "items": {"$ref": "#/components/schemas/AntiFraudQuestionFileItem"}}]}},
    "multipart/form-data": {"schema": {"type": "object", "properties": {
        "file": {"type": "string", "format": "binary"}}}},
}}


def csv_or_json(schema: Any) -> dict[str, Any]:
    return {"200": {"description": "JSON, or CSV with ?format=csv", "content": {
        "application/json": {"schema": schema}, "text/csv": {"schema": {"type": "string"}}}}}


def _secret() -> str:
    return current_app.config["SECRET_KEY"]


def download(text: str, filename: str, mimetype: str) -> Response:
    """A file to save (the console's downloads are these too)."""
    # A BOM, so that Excel (the officers' tool) opens a UTF-8 CSV with the Chinese intact.
    body = "\ufeff" + text if mimetype == "text/csv" else text
    return Response(body, mimetype=f"{mimetype}; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


# Question bank (officers) ---------------------------------------------------------------------

@blp.route("/categories", methods=["GET"])
@blp.response(200, s.CategorySchema(many=True))
def anti_fraud_categories_list(station: str) -> Any:
    """The scam categories, with their labels and live question counts per language."""
    who = actor(station)
    return questions.categories_in_use(db(), who.station.id)


@blp.route("/questions", methods=["GET"])
@blp.arguments(s.QuestionQueryArgsSchema, location="query")
@blp.response(200, s.QuestionSchema(many=True))
@blp.paginate(QueryPage)
def anti_fraud_questions_list(args: dict[str, Any], station: str) -> Any:
    """The question bank, with answers and explanations (officers and admins)."""
    return questions.questions_query(actor(station), **args)


@blp.route("/questions", methods=["POST"])
@blp.arguments(s.QuestionSchema)
@blp.response(201, s.QuestionSchema)
def anti_fraud_questions_create(body: dict[str, Any], station: str) -> Question:
    """Add a question (officers and admins)."""
    return questions.create_question(db(), actor(station), body)


@blp.route("/questions/<int:question_id>", methods=["GET"])
@blp.response(200, s.QuestionSchema)
def anti_fraud_questions_get(station: str, question_id: int) -> Question:
    """One question of the bank (officers and admins)."""
    who = actor(station)
    who.require("officer", "admin")
    return questions.get_question(db(), who.station.id, question_id)


@blp.route("/questions/<int:question_id>", methods=["PATCH"])
@blp.arguments(s.QuestionUpdateSchema)
@blp.response(200, s.QuestionSchema)
def anti_fraud_questions_update(changes: dict[str, Any], station: str, question_id: int) -> Question:
    """Change a question, or archive / restore it (officers and admins)."""
    return questions.update_question(db(), actor(station), question_id, changes)


@blp.route("/questions/<int:question_id>", methods=["DELETE"])
@blp.response(204)
def anti_fraud_questions_delete(station: str, question_id: int) -> None:
    """Archive a question: no new quiz draws it; past answers stay in the reports."""
    questions.archive_question(db(), actor(station), question_id)


@blp.route("/questions/import", methods=["POST"])
@upload_limit(lambda _args: bank.MAX_FILE_BYTES)
@blp.arguments(s.ImportArgsSchema, location="query")
@blp.response(200, s.ImportResultSchema)
@blp.doc(requestBody=FILE_BODY)
def anti_fraud_questions_import(args: dict[str, Any], station: str) -> bank.ImportResult:
    """Import a CSV or JSON file of questions, all or nothing (officers and admins).

    The body is the file (``text/csv``, or the JSON file as ``application/json``), or a form
    with ``file`` (``.csv`` or ``.json``). A bad file, a malformed JSON one included, is 422
    ``import_invalid`` listing each bad line; nothing is stored. A question whose key is already
    in the bank is updated. Files up to 4 MB.
    """
    who = actor(station)
    who.require("officer", "admin")
    data, fmt = uploaded_file(args.get("format"))
    return bank.import_questions(db(), who.station.id, data, fmt, by=who.user, role=who.role,
                                 locale=request_locale(), default_locale=args["locale"],
                                 dry_run=args["dry_run"])


def uploaded_file(fmt: str | None) -> tuple[bytes, str]:
    """The question file of the request (a form's ``file``, else the body) and its format."""
    upload = request.files.get("file")
    if upload is not None:
        data, name, mimetype = upload.read(), upload.filename or "", upload.mimetype or ""
        refuse_bad_text(data)  # parsed as CSV or JSON whatever its name says
    else:
        data, name, mimetype = request.get_data(), "", request.mimetype or ""
    if fmt is None:
        if mimetype in ("text/csv", "application/vnd.ms-excel") or name.lower().endswith(".csv"):
            fmt = "csv"
        elif mimetype == "application/json" or name.lower().endswith(".json"):
            fmt = "json"
        else:
            raise Invalid("import_format_invalid", field="format")
    return data, fmt


@blp.route("/questions/export", methods=["GET"])
@blp.arguments(s.ExportArgsSchema, location="query")
@blp.response(200, s.QuestionFileSchema)
@blp.doc(responses=csv_or_json(s.QuestionFileSchema))
def anti_fraud_questions_export(args: dict[str, Any], station: str) -> Response:
    """Download the live questions as CSV or JSON, in the format import reads (officers)."""
    who = actor(station)
    who.require("officer", "admin")
    rows = bank.export_rows(db(), who.station.id, category=args.get("category"),
                            locale=args.get("locale"))
    name = f"{who.station.code}-anti-fraud-questions.{args['format']}"
    if args["format"] == "csv":
        return download(bank.to_csv(rows), name, "text/csv")
    return download(bank.to_json(rows), name, "application/json")


@blp.route("/questions/starter-bank", methods=["POST"])
@blp.arguments(s.StarterBankSchema)
@blp.response(200, s.ImportResultSchema)
def anti_fraud_starter_bank_load(body: dict[str, Any], station: str) -> bank.ImportResult:
    """Add the starter questions the station lacks; its own edits are kept (officers)."""
    who = actor(station)
    who.require("officer", "admin")
    return bank.load_starter_bank(db(), who.station.id, body["locales"], by=who.user, role=who.role)


# Quizzes --------------------------------------------------------------------------------------

@blp.route("/quizzes", methods=["GET"])
@blp.arguments(s.QuizQueryArgsSchema, location="query")
@blp.response(200, s.QuizSchema(many=True))
@blp.paginate(QueryPage)
def anti_fraud_quizzes_list(args: dict[str, Any], station: str) -> Any:
    """Active quizzes (officers may ask for inactive ones too)."""
    return quizzes.quizzes_query(actor(station), **args)


@blp.route("/quizzes", methods=["POST"])
@blp.arguments(s.QuizSchema)
@blp.response(201, s.QuizSchema)
def anti_fraud_quizzes_create(body: dict[str, Any], station: str) -> Any:
    """Create a quiz drawn from the bank (officers and admins)."""
    return quizzes.create_quiz(db(), actor(station), body)


@blp.route("/quizzes/<int:quiz_id>", methods=["GET"])
@blp.response(200, s.QuizDetailSchema)
def anti_fraud_quizzes_get(station: str, quiz_id: int) -> dict[str, Any]:
    """A quiz, with my attempts left today and whether I passed it."""
    who = actor(station)
    quiz = quizzes.get_quiz(db(), who, quiz_id)
    columns = {c.key: getattr(quiz, c.key) for c in quiz.__table__.columns}
    return columns | {"me": quizzes.my_standing(db(), who, quiz)}


@blp.route("/quizzes/<int:quiz_id>", methods=["PATCH"])
@blp.arguments(s.QuizUpdateSchema)
@blp.response(200, s.QuizSchema)
def anti_fraud_quizzes_update(changes: dict[str, Any], station: str, quiz_id: int) -> Any:
    """Change a quiz or switch it off (officers and admins)."""
    return quizzes.update_quiz(db(), actor(station), quiz_id, changes)


@blp.route("/quizzes/<int:quiz_id>/attempts", methods=["POST"])
@blp.response(201, s.AttemptSchema)
def anti_fraud_attempts_start(station: str, quiz_id: int) -> dict[str, Any]:
    """Start an attempt: questions drawn at random, choices shuffled, no answers, a deadline."""
    who = actor(station)
    attempt = quizzes.start_attempt(db(), who, quiz_id)
    return _attempt_view(attempt, quizzes.served(db(), attempt))


@blp.route("/attempts", methods=["GET"])
@blp.arguments(s.AttemptQueryArgsSchema, location="query")
@blp.response(200, s.AttemptSchema(many=True))
@blp.paginate(QueryPage)
def anti_fraud_attempts_list(args: dict[str, Any], station: str) -> Any:
    """My attempts, newest first (without their questions)."""
    return quizzes.my_attempts(actor(station), args.get("quiz_id"))


@blp.route("/attempts/<int:attempt_id>", methods=["GET"])
@blp.response(200, s.AttemptSchema)
def anti_fraud_attempts_get(station: str, attempt_id: int) -> dict[str, Any]:
    """One of my attempts; answers and explanations only once it is submitted."""
    who = actor(station)
    attempt = quizzes.get_attempt(db(), who, attempt_id)
    return _attempt_view(attempt, quizzes.served(db(), attempt))


@blp.route("/attempts/<int:attempt_id>/submission", methods=["POST"])
@blp.arguments(s.SubmissionSchema)
@blp.response(200, s.AttemptSchema)
def anti_fraud_attempts_submit(body: dict[str, Any], station: str, attempt_id: int) -> dict[str, Any]:
    """Submit my answers, once, before the deadline; see the score, answers and explanations."""
    who = actor(station)
    grace = settings.for_station(db(), who.station.id).submit_grace
    graded = quizzes.submit(db(), who, attempt_id, body["answers"], grace=grace)
    view = _attempt_view(graded.attempt, graded.rows)
    view["coupon_refused"] = graded.coupon_refused
    return view


def _attempt_view(attempt: Attempt, rows: list[Any]) -> dict[str, Any]:
    """The attempt as its owner sees it: the answer key only after submission."""
    submitted = attempt.submitted_at is not None
    items = []
    for served, question in rows:
        item = {"question_id": question.id, "position": served.position,
                "category": question.category, "text": question.text,
                "multiple": len(served.correct_shown) > 1, "choices": served.shown_choices}
        if submitted:
            item |= {"chosen": served.chosen, "correct_choices": served.correct_shown,
                     "is_correct": bool(served.is_correct), "explanation": question.explanation}
        items.append(item)
    columns = ("id", "quiz_id", "status", "started_at", "deadline", "submitted_at", "total",
               "score", "passed", "points_awarded", "coupon_id")
    return {c: getattr(attempt, c) for c in columns} | {"questions": items}


# Shops and their staff ------------------------------------------------------------------------

@blp.route("/shops", methods=["GET"])
@blp.arguments(s.ShopQueryArgsSchema, location="query")
@blp.response(200, s.ShopSchema(many=True))
@blp.paginate(QueryPage)
def anti_fraud_shops_list(args: dict[str, Any], station: str) -> Any:
    """The alliance shops; ``mine`` for the shops I work at."""
    return shops.shops_query(actor(station), **args)


@blp.route("/shops", methods=["POST"])
@blp.arguments(s.ShopSchema)
@blp.response(201, s.ShopSchema)
def anti_fraud_shops_create(body: dict[str, Any], station: str) -> Any:
    """Add an alliance shop and its staff group (officers and admins)."""
    return shops.create_shop(db(), actor(station), body)


@blp.route("/shops/<int:shop_id>", methods=["GET"])
@blp.response(200, s.ShopSchema)
def anti_fraud_shops_get(station: str, shop_id: int) -> Any:
    """One alliance shop."""
    return shops.get_shop(db(), actor(station), shop_id)


@blp.route("/shops/<int:shop_id>", methods=["PATCH"])
@blp.arguments(s.ShopUpdateSchema)
@blp.response(200, s.ShopSchema)
def anti_fraud_shops_update(changes: dict[str, Any], station: str, shop_id: int) -> Any:
    """Change a shop, or take it out of the alliance with active=false (officers and admins)."""
    return shops.update_shop(db(), actor(station), shop_id, changes)


@blp.route("/shops/<int:shop_id>/staff", methods=["GET"])
@blp.response(200, s.StaffSchema(many=True))
def anti_fraud_shop_staff_list(station: str, shop_id: int) -> Any:
    """The shop's staff (officers, and the shop's own staff)."""
    return shops.staff(db(), actor(station), shop_id)


@blp.route("/shops/<int:shop_id>/staff/<int:user_id>", methods=["PUT"])
@blp.arguments(s.StaffPutSchema)
@blp.response(200, s.StaffSchema(many=True))
def anti_fraud_shop_staff_put(body: dict[str, Any], station: str, shop_id: int, user_id: int) -> Any:
    """Put a merchant member on the shop's staff (officers and admins)."""
    who = actor(station)
    shops.put_staff(db(), who, shop_id, user_id, body["leader"])
    return shops.staff(db(), who, shop_id)


@blp.route("/shops/<int:shop_id>/staff/<int:user_id>", methods=["DELETE"])
@blp.response(204)
def anti_fraud_shop_staff_delete(station: str, shop_id: int, user_id: int) -> None:
    """Take a person off the shop's staff (officers and admins)."""
    shops.remove_staff(db(), actor(station), shop_id, user_id)


@blp.route("/shops/<int:shop_id>/redemptions", methods=["GET"])
@blp.arguments(s.TimeRangeArgsSchema, location="query")
@blp.response(200, s.RedemptionSchema(many=True))
@blp.paginate(QueryPage)
def anti_fraud_shop_redemptions_list(args: dict[str, Any], station: str, shop_id: int) -> Any:
    """The coupons redeemed at the shop, newest first (its staff, and officers)."""
    who = actor(station)
    shop = shops.shop_for_staff_or_officer(db(), who, shop_id)
    query = reports.shop_redemptions_query(who.station.id, shop.id, args.get("since"),
                                           args.get("until"))
    return query.order_by(None).order_by(Redemption.redeemed_at.desc(),
                                         Redemption.id.desc())


# Offers and coupons ---------------------------------------------------------------------------

@blp.route("/offers", methods=["GET"])
@blp.arguments(s.OfferQueryArgsSchema, location="query")
@blp.response(200, s.OfferSchema(many=True))
@blp.paginate(QueryPage)
def anti_fraud_offers_list(args: dict[str, Any], station: str) -> Any:
    """Offers of the alliance shops; ``available`` for those I can claim now."""
    return shops.offers_query(actor(station), **args)


@blp.route("/offers", methods=["POST"])
@blp.arguments(s.OfferSchema)
@blp.response(201, s.OfferSchema)
def anti_fraud_offers_create(body: dict[str, Any], station: str) -> Any:
    """Add an offer of a shop: discount, price in points, stock, limits (officers and admins)."""
    who = actor(station)
    offer = shops.create_offer(db(), who, body)
    return [offer, shops.get_shop(db(), who, offer.shop_id)]


@blp.route("/offers/<int:offer_id>", methods=["GET"])
@blp.response(200, s.OfferSchema)
def anti_fraud_offers_get(station: str, offer_id: int) -> Any:
    """One offer, with its stock left."""
    who = actor(station)
    offer = shops.get_offer(db(), who, offer_id)
    return [offer, shops.get_shop(db(), who, offer.shop_id)]


@blp.route("/offers/<int:offer_id>", methods=["PATCH"])
@blp.arguments(s.OfferUpdateSchema)
@blp.response(200, s.OfferSchema)
def anti_fraud_offers_update(changes: dict[str, Any], station: str, offer_id: int) -> Any:
    """Change an offer's terms of sale or stock; the discount itself stays (officers)."""
    who = actor(station)
    offer = shops.update_offer(db(), who, offer_id, changes)
    return [offer, shops.get_shop(db(), who, offer.shop_id)]


@blp.route("/offers/<int:offer_id>/claims", methods=["POST"])
@blp.response(201, s.CouponSchema)
def anti_fraud_offers_claim(station: str, offer_id: int) -> Any:
    """Claim a coupon: points spent, stock taken and coupon issued together (send an
    Idempotency-Key: a retried claim is answered, not repeated)."""
    who = actor(station)
    coupon = coupons.claim(db(), who, offer_id)
    return list(coupons.get_my_coupon(db(), who, coupon.id))


@blp.route("/coupons", methods=["GET"])
@blp.arguments(s.CouponQueryArgsSchema, location="query")
@blp.response(200, s.CouponSchema(many=True))
@blp.paginate(QueryPage)
def anti_fraud_coupons_list(args: dict[str, Any], station: str) -> Any:
    """My coupons, newest first; filter by status."""
    return coupons.my_coupons(actor(station), args.get("status"))


@blp.route("/coupons/<int:coupon_id>", methods=["GET"])
@blp.response(200, s.CouponSchema)
def anti_fraud_coupons_get(station: str, coupon_id: int) -> Any:
    """One of my coupons."""
    return list(coupons.get_my_coupon(db(), actor(station), coupon_id))


@blp.route("/coupons/<int:coupon_id>/qr", methods=["GET"])
@blp.response(200, s.QrSchema)
def anti_fraud_coupons_qr(station: str, coupon_id: int) -> dict[str, Any]:
    """A fresh signed payload to show as a QR code at the till; it dies after a minute."""
    who = actor(station)
    ttl = settings.for_station(db(), who.station.id).qr_ttl
    code = coupons.qr_code(db(), who, coupon_id, secret=_secret(), ttl=ttl)
    return {"coupon_id": coupon_id, "payload": code.payload, "expires_at": code.expires_at,
            "ttl_seconds": int(ttl.total_seconds())}


@blp.route("/redemptions", methods=["POST"])
@blp.arguments(s.RedemptionCreateSchema)
@blp.response(201, s.RedemptionSchema)
def anti_fraud_redemptions_create(body: dict[str, Any], station: str) -> Any:
    """Redeem a scanned coupon at the till (the staff of the coupon's shop), once."""
    redemption, coupon, offer, _shop = coupons.redeem(
        db(), actor(station), body["payload"], body["bill_cents"], secret=_secret())
    return [redemption, offer.title, coupon.source]


# Reports (officers) ---------------------------------------------------------------------------

@blp.route("/reports/redemptions", methods=["GET"])
@blp.arguments(s.TimeRangeArgsSchema, location="query")
@blp.response(200, s.ShopTotalsSchema(many=True))
def anti_fraud_reports_redemptions(args: dict[str, Any], station: str) -> Any:
    """Redemptions per shop in a period: count, bills and discounts (officers and admins)."""
    who = actor(station)
    who.require("officer", "admin")
    return reports.redemptions_by_shop(db(), who.station.id, args.get("since"), args.get("until"))


@blp.route("/reports/shops/<int:shop_id>/redemptions", methods=["GET"])
@blp.arguments(s.ReportArgsSchema, location="query")
@blp.response(200, s.SettlementSchema)
@blp.doc(responses=csv_or_json(s.SettlementSchema))
def anti_fraud_reports_shop_settlement(args: dict[str, Any], station: str, shop_id: int) -> Any:
    """A shop's redemptions in a period with totals, JSON or CSV, to settle with the shop
    (officers, and the shop's own staff)."""
    who = actor(station)
    shop = shops.shop_for_staff_or_officer(db(), who, shop_id)
    report = reports.shop_settlement(db(), shop, args.get("since"), args.get("until"))
    if args["format"] == "csv":
        return download(reports.settlement_csv(report), f"{who.station.code}-shop-{shop.id}-"
                         "redemptions.csv", "text/csv")
    return report


@blp.route("/reports/quizzes/<int:quiz_id>", methods=["GET"])
@blp.arguments(s.TimeRangeArgsSchema, location="query")
@blp.response(200, s.QuizReportSchema)
def anti_fraud_reports_quiz(args: dict[str, Any], station: str, quiz_id: int) -> Any:
    """A quiz's pass rate, and per question and category the share answered wrongly."""
    who = actor(station)
    who.require("officer", "admin")
    quiz = quizzes.get_quiz(db(), who, quiz_id)
    return reports.quiz_report(db(), quiz, args.get("since"), args.get("until"))


@blp.route("/reports/categories", methods=["GET"])
@blp.arguments(s.CategoryReportArgsSchema, location="query")
@blp.response(200, s.CategoryShareSchema(many=True))
def anti_fraud_reports_categories(args: dict[str, Any], station: str) -> Any:
    """Across all quizzes, the scam types residents still get wrong, most missed first."""
    who = actor(station)
    who.require("officer", "admin")
    return reports.categories_report(db(), who.station.id, args.get("since"), args.get("until"),
                                     args.get("locale"))


@blp.route("/reports/missed", methods=["GET"])
@blp.arguments(s.MissedArgsSchema, location="query")
@blp.response(200, s.MissedReportSchema)
def anti_fraud_reports_missed(args: dict[str, Any], station: str) -> Any:
    """What residents still get wrong over whole days of the station's calendar (``from`` and
    ``to``, both included; left out: last month; at most 366 days): per question and per scam
    category, answers of submitted attempts and the share wrong, most missed first (officers
    and admins). ``to`` before ``from`` or a longer period is 422 ``period_invalid``."""
    who = actor(station)
    who.require("officer", "admin")
    period = Period.parse(_day(args.get("start")), _day(args.get("end")), who.station.timezone)
    return reports.missed(db(), who, period, args.get("locale"))


def _day(value: Any) -> str | None:
    return value.isoformat() if value is not None else None
