"""The anti-fraud console pages (officers and admins): bank, quizzes, still missed, shops, offers."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import Blueprint, redirect, request, url_for

from api.auth import actor
from api.unit_of_work import db, upload_limit
from console.pages import (
    error_text,
    form_int,
    load,
    locale,
    paged,
    parse_local,
    plugin_labels,
    refused,
    render,
    status_of,
)
from core import ledger
from core.access import Actor
from core.errors import WardensError
from core.hookspecs import ConsoleNav, ConsolePages
from core.models import User
from core.reports import Period
from plugins.anti_fraud import api, bank, questions, quizzes, reports, shops
from plugins.anti_fraud import schemas as s
from plugins.anti_fraud.models import Offer, Quiz

bp = Blueprint("anti_fraud_console", __name__, template_folder="templates")
STAFF = ("officer", "admin")
PAGES = ConsolePages(bp, nav=(
    ConsoleNav("anti_fraud_console.questions", {"en": "Question bank", "zh-CN": "反诈题库"}, STAFF),
    ConsoleNav("anti_fraud_console.quizzes", {"en": "Quizzes", "zh-CN": "反诈答题"}, STAFF),
    ConsoleNav("anti_fraud_console.missed", {"en": "Still missed", "zh-CN": "易错题"}, STAFF),
    ConsoleNav("anti_fraud_console.shops", {"en": "Alliance shops", "zh-CN": "联盟商户"}, STAFF),
    ConsoleNav("anti_fraud_console.offers", {"en": "Offers", "zh-CN": "优惠活动"}, STAFF),
))

#: the pages' own words; errors show the core's and the plugin's messages (the API's texts)
LABELS: dict[str, dict[str, str]] = {
    "questions": {"en": "Question bank", "zh-CN": "反诈题库"},
    "category": {"en": "Scam category", "zh-CN": "诈骗类型"},
    "any_category": {"en": "Every category", "zh-CN": "全部类型"},
    "language": {"en": "Language", "zh-CN": "语言"},
    "any_language": {"en": "Every language", "zh-CN": "全部语言"},
    "difficulty": {"en": "Difficulty", "zh-CN": "难度"},
    "question": {"en": "Question", "zh-CN": "题目"},
    "choices": {"en": "Choices", "zh-CN": "选项"},
    "correct": {"en": "Answer", "zh-CN": "答案"},
    "no_questions": {"en": "No questions here yet. Import a file or load the starter bank.",
                     "zh-CN": "暂无题目。请导入题库文件或加载内置题库。"},
    "questions_count": {"en": "{count} live questions", "zh-CN": "共 {count} 道在用题目"},
    "import": {"en": "Import a question file (CSV or JSON)", "zh-CN": "导入题库文件（CSV 或 JSON）"},
    "import_help": {"en": "All or nothing: a file with a broken line imports nothing; each bad "
                          "line is listed. A question whose key is already in the bank is "
                          "updated.",
                    "zh-CN": "要么全部导入，要么不导入：文件中有错误行时不导入任何题目，并逐行列出错误。"
                             "编号已在题库中的题目会被更新。"},
    "file": {"en": "File", "zh-CN": "文件"},
    "rows_language": {"en": "Language of rows that name none", "zh-CN": "未注明语言的题目使用"},
    "dry_run": {"en": "Check only, store nothing", "zh-CN": "仅检查，不保存"},
    "do_import": {"en": "Import", "zh-CN": "导入"},
    "imported": {"en": "Imported {total}: {created} new, {updated} updated, {unchanged} "
                       "unchanged.",
                 "zh-CN": "已导入 {total} 道：新增 {created}，更新 {updated}，未变 {unchanged}。"},
    "checked": {"en": "The file is fine: {total} questions, {created} would be new, {updated} "
                      "updated, {unchanged} unchanged. Nothing was stored.",
                "zh-CN": "文件无误：共 {total} 道，将新增 {created}，更新 {updated}，未变 "
                         "{unchanged}。未保存任何内容。"},
    "import_errors": {"en": "Lines to correct", "zh-CN": "需要修改的行"},
    "line": {"en": "Line", "zh-CN": "行"},
    "field": {"en": "Field", "zh-CN": "字段"},
    "problem": {"en": "Problem", "zh-CN": "问题"},
    "export": {"en": "Download the bank", "zh-CN": "下载题库"},
    "starter": {"en": "Starter bank", "zh-CN": "内置题库"},
    "starter_help": {"en": "Adds the starter questions the station lacks; your own edits stay.",
                     "zh-CN": "补充本站缺少的内置题目；已修改的题目保持不变。"},
    "load_starter": {"en": "Load the starter bank", "zh-CN": "加载内置题库"},
    "starter_loaded": {"en": "Starter bank: {created} questions added.",
                       "zh-CN": "内置题库：新增 {created} 道题目。"},
    "quizzes": {"en": "Quizzes", "zh-CN": "反诈答题"},
    "no_quizzes": {"en": "No quizzes yet.", "zh-CN": "还没有答题活动。"},
    "quiz": {"en": "Quiz", "zh-CN": "答题"},
    "draw": {"en": "Questions drawn", "zh-CN": "抽题数"},
    "draw_from": {"en": "Drawn from", "zh-CN": "抽题范围"},
    "pass_percent": {"en": "Pass mark", "zh-CN": "及格线"},
    "time_limit": {"en": "Time limit", "zh-CN": "限时"},
    "minutes": {"en": "{minutes} min", "zh-CN": "{minutes} 分钟"},
    "attempts_per_day": {"en": "Attempts a day", "zh-CN": "每日次数"},
    "points": {"en": "Points for the first pass", "zh-CN": "首次通过积分"},
    "station_rule": {"en": "{points} (the station's rule)", "zh-CN": "{points}（本站规则）"},
    "reward": {"en": "Reward coupon", "zh-CN": "奖励优惠券"},
    "no_reward": {"en": "none", "zh-CN": "无"},
    "window": {"en": "Open", "zh-CN": "开放时间"},
    "always": {"en": "always", "zh-CN": "长期"},
    "active": {"en": "In use", "zh-CN": "启用"},
    "yes": {"en": "yes", "zh-CN": "是"},
    "no": {"en": "no", "zh-CN": "否"},
    "so_far": {"en": "So far", "zh-CN": "累计"},
    "attempts": {"en": "Attempts", "zh-CN": "答题次数"},
    "submitted": {"en": "Submitted", "zh-CN": "已交卷"},
    "passed": {"en": "Passed", "zh-CN": "通过"},
    "pass_rate": {"en": "Pass rate", "zh-CN": "通过率"},
    "residents": {"en": "Residents", "zh-CN": "参与居民"},
    "missed": {"en": "What residents still get wrong", "zh-CN": "居民仍易答错的题"},
    "missed_help": {"en": "Answers of submitted quizzes in the period, most missed first: what "
                          "the station teaches next.",
                    "zh-CN": "统计周期内已交卷的作答，答错比例最高的排在最前：下一步宣传的重点。"},
    "by_question": {"en": "Per question", "zh-CN": "按题目"},
    "by_category": {"en": "Per scam category", "zh-CN": "按诈骗类型"},
    "answered": {"en": "Answered", "zh-CN": "作答次数"},
    "wrong": {"en": "Wrong", "zh-CN": "答错次数"},
    "wrong_share": {"en": "Share wrong", "zh-CN": "答错比例"},
    "no_answers": {"en": "No quiz was submitted in this period.",
                   "zh-CN": "本周期内没有已交卷的答题。"},
    "shops": {"en": "Alliance shops", "zh-CN": "联盟商户"},
    "no_shops": {"en": "No alliance shops yet.", "zh-CN": "还没有联盟商户。"},
    "shop": {"en": "Shop", "zh-CN": "商户"},
    "address": {"en": "Address", "zh-CN": "地址"},
    "phone": {"en": "Phone", "zh-CN": "电话"},
    "staff": {"en": "Staff", "zh-CN": "店员"},
    "no_staff": {"en": "Nobody works the till yet.", "zh-CN": "还没有店员。"},
    "staff_leader": {"en": "Manager", "zh-CN": "店长"},
    "add_staff": {"en": "Put a merchant member on the staff, by phone",
                  "zh-CN": "按手机号添加店员（须为本站商户成员）"},
    "settlement": {"en": "Settlement", "zh-CN": "结算"},
    "offers": {"en": "Offers", "zh-CN": "优惠活动"},
    "no_offers": {"en": "No offers yet.", "zh-CN": "还没有优惠活动。"},
    "offer": {"en": "Offer", "zh-CN": "优惠"},
    "discount": {"en": "Discount", "zh-CN": "优惠内容"},
    "percent_off": {"en": "{percent}% off", "zh-CN": "{percent}% 折扣"},
    "amount_off": {"en": "{yuan} yuan off", "zh-CN": "立减 {yuan} 元"},
    "min_spend": {"en": "Minimum spend", "zh-CN": "最低消费"},
    "points_cost": {"en": "Points", "zh-CN": "所需积分"},
    "quiz_only": {"en": "quiz reward only", "zh-CN": "仅答题奖励"},
    "stock": {"en": "Stock left / total", "zh-CN": "剩余 / 总量"},
    "per_resident": {"en": "Per resident", "zh-CN": "每人限领"},
    "coupon_days": {"en": "Coupon good for", "zh-CN": "券有效期"},
    "days": {"en": "{days} days", "zh-CN": "{days} 天"},
    "settlement_of": {"en": "Settlement: {shop}", "zh-CN": "结算：{shop}"},
    "redeemed_at": {"en": "Redeemed", "zh-CN": "核销时间"},
    "coupon": {"en": "Coupon", "zh-CN": "优惠券"},
    "source": {"en": "Coupon from", "zh-CN": "来源"},
    "source_claim": {"en": "points", "zh-CN": "积分兑换"},
    "source_quiz": {"en": "quiz reward", "zh-CN": "答题奖励"},
    "bill": {"en": "Bill (yuan)", "zh-CN": "消费金额（元）"},
    "discount_yuan": {"en": "Discount (yuan)", "zh-CN": "优惠金额（元）"},
    "total": {"en": "Total", "zh-CN": "合计"},
    "no_redemptions": {"en": "No coupon was redeemed here in this period.",
                       "zh-CN": "本周期内该商户没有核销记录。"},
    "download_csv": {"en": "Download as CSV", "zh-CN": "下载 CSV"},
    "change": {"en": "Change", "zh-CN": "修改"},
    "stock_total": {"en": "Stock in all", "zh-CN": "总量"},
    "valid_from": {"en": "From", "zh-CN": "开始"},
    "valid_until": {"en": "Until", "zh-CN": "结束"},
}


def _render(template: str, **context: Any) -> Any:
    return render(template, pt=plugin_labels(LABELS), yuan=_yuan, percent=_percent,
                  category_label=_category_label, **context)


def _officer(station: str) -> Actor:
    """Every page here is the staff's: refused before anything of the station is read."""
    who = actor(station)
    who.require(*STAFF)
    return who


def _yuan(cents: int | None) -> str:
    return "" if cents is None else f"{cents / 100:.2f}"


def _percent(share: float | None) -> str:
    return "–" if share is None else f"{share * 100:.1f}%"


def _category_label(category: str) -> str:
    labels = questions.CATEGORIES.get(category)
    return f"{labels.get(locale(), labels['en'])} ({category})" if labels else category


def _period(who: Actor) -> tuple[Period, str | None]:
    """The period asked (``from``, ``to``: station days), else last month with the refusal."""
    try:
        return Period.parse(request.args.get("from"), request.args.get("to"),
                            who.station.timezone), None
    except WardensError as refusal:
        return Period.last_month(who.station.timezone), error_text(refusal)


# Question bank ----------------------------------------------------------------------------------

def _questions(station: str, status: int = 200, **context: Any) -> Any:
    who = _officer(station)
    asked = {k: v for k, v in request.args.items() if k in ("category", "locale") and v}
    try:
        filters: dict[str, Any] = load(s.QuestionQueryArgsSchema, asked)
    except WardensError:  # a filter the API would refuse: the whole bank instead
        filters = {}
    query = questions.questions_query(who, **filters)
    total = db().scalar(sa.select(sa.func.count()).select_from(query.subquery()))
    shown, page, more = paged(query)
    return _render("anti_fraud/questions.html", status=status, station=station,
                   questions=shown, page=page, more=more, total=total, filters=filters,
                   letters=bank.LETTERS, categories=questions.categories_in_use(db(),
                                                                                who.station.id),
                   locales=list(s.LOCALES), **context)


@bp.route("/questions", methods=["GET"], endpoint="questions")
def questions_page(station: str) -> Any:
    return _questions(station)


@bp.route("/questions/import", methods=["POST"], endpoint="questions_import")
@upload_limit(lambda _args: bank.MAX_FILE_BYTES + 64 * 1024)  # the file and the form around it
def questions_import(station: str) -> Any:
    """Import the uploaded file as the API does: all or nothing, each bad line on the page."""
    who = _officer(station)  # before the file is read: a stranger learns nothing from its errors
    try:
        args = load(s.ImportArgsSchema, {"locale": request.form.get("locale") or "zh-CN",
                                         "dry_run": bool(request.form.get("dry_run"))})
        data, fmt = api.uploaded_file(None)
        result = bank.import_questions(db(), who.station.id, data, fmt, by=who.user,
                                       role=who.role, locale=locale(),
                                       default_locale=args["locale"], dry_run=args["dry_run"])
    except WardensError as error:
        if status_of(error) != 422:
            raise
        return _questions(station, status=422, error=error_text(error),
                          mistakes=error.details.get("errors") or [])
    notice = "checked" if result.dry_run else "imported"
    return _questions(station, notice=plugin_labels(LABELS)(
        notice, total=result.total, created=result.created, updated=result.updated,
        unchanged=result.unchanged))


@bp.route("/questions/export", methods=["GET"], endpoint="questions_export")
def questions_export(station: str) -> Any:
    """The live questions as the API's export gives them: ``?format=csv`` or ``json``."""
    who = _officer(station)
    fmt = "json" if request.args.get("format") == "json" else "csv"
    rows = bank.export_rows(db(), who.station.id)
    name = f"{who.station.code}-anti-fraud-questions.{fmt}"
    if fmt == "csv":
        return api.download(bank.to_csv(rows), name, "text/csv")
    return api.download(bank.to_json(rows), name, "application/json")


@bp.route("/questions/starter-bank", methods=["POST"], endpoint="starter_bank")
def starter_bank(station: str) -> Any:
    """Add the starter questions the station lacks (the languages ticked, else both)."""
    who = _officer(station)
    try:
        body = load(s.StarterBankSchema, {"locales": request.form.getlist("locales")}
                    if request.form.getlist("locales") else {})
    except WardensError as error:
        return refused(lambda **c: _questions(station, **c), error)
    result = bank.load_starter_bank(db(), who.station.id, body["locales"], by=who.user,
                                    role=who.role)
    return _questions(station, notice=plugin_labels(LABELS)("starter_loaded",
                                                            created=result.created))


# Quizzes ----------------------------------------------------------------------------------------

def _offer_titles(who: Actor) -> dict[int, str]:
    return {offer.id: offer.title for offer, _shop in
            db().execute(shops.offers_query(who, include_inactive=True)).all()}


@bp.route("/quizzes", methods=["GET"], endpoint="quizzes")
def quizzes_page(station: str) -> Any:
    """Every quiz, switched off ones too: its draw, pass mark, points and reward coupon."""
    who = _officer(station)
    found = db().scalars(quizzes.quizzes_query(who, include_inactive=True)).all()
    return _render("anti_fraud/quizzes.html", station=station, quizzes=found,
                   offers=_offer_titles(who), rule=_quiz_points_rule(who))


def _quiz_points_rule(who: Actor) -> int:
    return ledger.amount_for(db(), who.station.id, quizzes.POINTS_EVENT)


@bp.route("/quizzes/<int:quiz_id>", methods=["GET"], endpoint="quiz")
def quiz_page(station: str, quiz_id: int) -> Any:
    """A quiz's set-up and how residents did on it so far (the API's quiz report)."""
    who = _officer(station)
    quiz: Quiz = quizzes.get_quiz(db(), who, quiz_id)
    return _render("anti_fraud/quiz.html", station=station, quiz=quiz,
                   offers=_offer_titles(who), rule=_quiz_points_rule(who),
                   report=reports.quiz_report(db(), quiz, None, None))


# What residents still get wrong -----------------------------------------------------------------

@bp.route("/missed", methods=["GET"], endpoint="missed")
def missed_page(station: str) -> Any:
    """Per question and per scam category over the chosen days, most missed first (the API's
    ``GET .../reports/missed``); a refused period shows last month with the refusal."""
    who = _officer(station)
    period, error = _period(who)
    found = reports.missed(db(), who, period)
    return _render("anti_fraud/missed.html", status=422 if error else 200, station=station,
                   period=period, error=error, lines=found["questions"],
                   categories=found["categories"])


# Shops and their staff --------------------------------------------------------------------------

@bp.route("/shops", methods=["GET"], endpoint="shops")
def shops_page(station: str) -> Any:
    who = _officer(station)
    found = db().scalars(shops.shops_query(who, include_inactive=True)).all()
    return _render("anti_fraud/shops.html", station=station, shops=found)


def _shop(station: str, shop_id: int, status: int = 200, **context: Any) -> Any:
    who = _officer(station)
    shop = shops.get_shop(db(), who, shop_id)
    staff = shops.staff(db(), who, shop.id)
    phones = dict(db().execute(sa.select(User.id, User.phone).where(
        User.id.in_([line["user_id"] for line in staff]))).all())
    offers = [offer for offer, _shop in
              db().execute(shops.offers_query(who, shop_id=shop.id, include_inactive=True))]
    return _render("anti_fraud/shop.html", status=status, station=station, shop=shop,
                   staff=staff, phones=phones, offers=offers, **context)


@bp.route("/shops/<int:shop_id>", methods=["GET"], endpoint="shop")
def shop_page(station: str, shop_id: int) -> Any:
    return _shop(station, shop_id)


@bp.route("/shops/<int:shop_id>/staff", methods=["POST"], endpoint="staff_add")
def staff_add(station: str, shop_id: int) -> Any:
    """Put a merchant member on the shop's staff by their phone number."""
    who = _officer(station)
    shops.get_shop(db(), who, shop_id)
    try:
        shops.put_staff_by_phone(db(), who, shop_id, request.form.get("phone") or "",
                                 bool(request.form.get("leader")))
    except WardensError as error:
        return refused(lambda **c: _shop(station, shop_id, **c), error)
    return redirect(url_for("anti_fraud_console.shop", station=station, shop_id=shop_id), 303)


@bp.route("/shops/<int:shop_id>/staff/<int:user_id>/remove", methods=["POST"],
          endpoint="staff_remove")
def staff_remove(station: str, shop_id: int, user_id: int) -> Any:
    who = _officer(station)
    shops.remove_staff(db(), who, shop_id, user_id)
    return redirect(url_for("anti_fraud_console.shop", station=station, shop_id=shop_id), 303)


# Offers -----------------------------------------------------------------------------------------

def _offers(station: str, status: int = 200, **context: Any) -> Any:
    who = _officer(station)
    rows = db().execute(shops.offers_query(who, include_inactive=True)
                        .order_by(None).order_by(Offer.shop_id, Offer.id)).all()
    return _render("anti_fraud/offers.html", status=status, station=station, rows=rows,
                   **context)


@bp.route("/offers", methods=["GET"], endpoint="offers")
def offers_page(station: str) -> Any:
    """Every offer with its stock, limits and window (switched off ones too)."""
    return _offers(station)


@bp.route("/offers/<int:offer_id>", methods=["POST"], endpoint="offer_update")
def offer_update(station: str, offer_id: int) -> Any:
    """Change an offer's stock, per-resident limit or window, as ``PATCH .../offers/<id>``:
    the stock never below what was claimed (409 ``offer_stock_below_claimed``)."""
    who = _officer(station)
    shops.get_offer(db(), who, offer_id)
    form, zone = request.form, who.station.timezone
    try:
        changes = load(s.OfferUpdateSchema, {
            "stock_total": form_int("stock_total"),
            "per_resident_limit": form_int("per_resident_limit"),
            "valid_from": parse_local(form.get("valid_from", ""), zone, "valid_from").isoformat(),
            "valid_until": parse_local(form.get("valid_until", ""), zone,
                                       "valid_until").isoformat()})
        shops.update_offer(db(), who, offer_id, changes)
    except WardensError as error:
        return refused(lambda **c: _offers(station, **c), error, offer_id=offer_id)
    return redirect(url_for("anti_fraud_console.offers", station=station), 303)


# Settlement per shop ----------------------------------------------------------------------------

def _settlement(who: Actor, shop_id: int, period: Period) -> dict[str, Any]:
    shop = shops.shop_for_staff_or_officer(db(), who, shop_id)
    return reports.shop_settlement(db(), shop, period.since, period.until)


@bp.route("/shops/<int:shop_id>/settlement", methods=["GET"], endpoint="settlement")
def settlement_page(station: str, shop_id: int) -> Any:
    """A shop's redemptions over the chosen days with their totals, as the API's settlement."""
    who = _officer(station)
    period, error = _period(who)
    report = _settlement(who, shop_id, period)
    return _render("anti_fraud/settlement.html", status=422 if error else 200, station=station,
                   period=period, error=error, report=report, shop_id=shop_id)


@bp.route("/shops/<int:shop_id>/settlement.csv", methods=["GET"], endpoint="settlement_csv")
def settlement_csv(station: str, shop_id: int) -> Any:
    """The settlement as the API's CSV (``?format=csv``) gives it."""
    who = _officer(station)
    period, error = _period(who)
    if error:
        return settlement_page(station, shop_id)
    report = _settlement(who, shop_id, period)
    return api.download(reports.settlement_csv(report),
                        f"{who.station.code}-shop-{shop_id}-redemptions-{period.start}-"
                        f"{period.end}.csv", "text/csv")

