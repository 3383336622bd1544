"""The care-visits plugin's console pages, for care duty only: recipients, consent, plan, reviews."""

from __future__ import annotations

import calendar
import datetime as dt
import zoneinfo
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, redirect, request, url_for

from api.auth import actor
from api.unit_of_work import db, writes
from console.pages import PAGE_SIZE, form_int, load, paged, parse_local, plugin_labels, refused, render
from core import clock, datum, stations
from core.access import Actor
from core.errors import WardensError
from core.hookspecs import ConsoleNav, ConsolePages
from core.models import Task, User
from plugins.care_visits import (
    access,
    alerts,
    consents,
    planning,
    recipients,
    reports,
    visits,
)
from plugins.care_visits import schemas as s
from plugins.care_visits.models import (
    Basis,
    Campaign,
    Category,
    FollowUp,
    FollowUpStatus,
    Review,
    Scope,
    ServiceType,
    Visit,
    VisitStatus,
)

bp = Blueprint("care_visits_console", __name__, template_folder="templates")
STAFF = ("officer", "admin")


def _entry(view: str, en: str, zh: str) -> ConsoleNav:
    """A care page's entry: shown only to those with care duty, as each page asks first."""
    return ConsoleNav(f"care_visits_console.{view}", {"en": en, "zh-CN": zh}, STAFF,
                      access.is_care_officer)


PAGES = ConsolePages(bp, nav=(
    _entry("recipients", "Care recipients", "关爱对象"),
    _entry("plan", "Visit plan", "走访计划"),
    _entry("reviews", "Visits to review", "走访审核"),
    _entry("follow_ups", "Follow-ups", "跟进事项"),
    _entry("alerts", "Care alerts", "关爱提醒"),
    _entry("campaigns", "Campaigns", "慰问活动"),
))

#: the pages' own words; errors show the core's and the plugin's messages (the API's texts)
LABELS: dict[str, dict[str, str]] = {
    "recipients": {"en": "Care recipients", "zh-CN": "关爱对象"},
    "no_recipients": {"en": "No recipient matches. Add one below.",
                      "zh-CN": "没有符合条件的关爱对象。可在下方添加。"},
    "new_recipient": {"en": "Add a recipient", "zh-CN": "添加关爱对象"},
    "edit_recipient": {"en": "Change the record", "zh-CN": "修改信息"},
    "recipient": {"en": "Recipient", "zh-CN": "关爱对象"},
    "phone": {"en": "Phone", "zh-CN": "电话"},
    "address": {"en": "Address", "zh-CN": "住址"},
    "needs": {"en": "Needs", "zh-CN": "需求"},
    "categories": {"en": "Categories", "zh-CN": "类别"},
    "emergency": {"en": "Emergency contact", "zh-CN": "紧急联系人"},
    "emergency_name": {"en": "Contact's name", "zh-CN": "联系人姓名"},
    "emergency_phone": {"en": "Contact's phone", "zh-CN": "联系人电话"},
    "emergency_relation": {"en": "Relation", "zh-CN": "关系"},
    "visits_per_year": {"en": "Visits a year (blank: the category's)",
                        "zh-CN": "每年走访次数（留空按类别）"},
    "quota": {"en": "Visits a year", "zh-CN": "年度走访次数"},
    "care_team": {"en": "Care team", "zh-CN": "关爱小组"},
    "no_team": {"en": "None", "zh-CN": "无"},
    "named_visitors": {"en": "Named visitors", "zh-CN": "指定走访人"},
    "sensitive": {"en": "Sensitive details", "zh-CN": "敏感信息"},
    "disability_type": {"en": "Disability", "zh-CN": "残疾类别"},
    "disability_grade": {"en": "Grade", "zh-CN": "残疾等级"},
    "health_notes": {"en": "Health notes", "zh-CN": "健康情况"},
    "id_number": {"en": "ID number", "zh-CN": "身份证号"},
    "consent": {"en": "Consent", "zh-CN": "授权同意"},
    "consents": {"en": "Consent records", "zh-CN": "授权记录"},
    "no_consents": {"en": "No consent or legal basis is recorded.",
                    "zh-CN": "尚未记录同意或法律依据。"},
    "record_consent": {"en": "Record a consent or legal basis", "zh-CN": "记录同意或法律依据"},
    "withdraw": {"en": "Withdraw consent (planned visits are cancelled)",
                 "zh-CN": "撤回同意（已计划的走访将取消）"},
    "basis": {"en": "Basis", "zh-CN": "依据"},
    "scope": {"en": "Scope", "zh-CN": "范围"},
    "version": {"en": "Form version", "zh-CN": "表格版本"},
    "given_by": {"en": "Given by (if not the recipient)", "zh-CN": "同意人（非本人时）"},
    "recorded": {"en": "Recorded", "zh-CN": "记录时间"},
    "withdrawn": {"en": "Withdrawn", "zh-CN": "撤回时间"},
    "with_consent": {"en": "Consent given now (form version)",
                     "zh-CN": "现已取得同意（表格版本）"},
    "state_none": {"en": "None", "zh-CN": "未取得"},
    "state_given": {"en": "Given", "zh-CN": "已同意"},
    "state_withdrawn": {"en": "Withdrawn", "zh-CN": "已撤回"},
    "plan": {"en": "Visit plan", "zh-CN": "走访计划"},
    "year_quota": {"en": "The year {year}: quota, visits made, overdue",
                   "zh-CN": "{year} 年：走访指标、已完成、逾期"},
    "made": {"en": "Made", "zh-CN": "已完成"},
    "planned": {"en": "Planned", "zh-CN": "已计划"},
    "under_review": {"en": "Under review", "zh-CN": "待审核"},
    "rejected": {"en": "Rejected", "zh-CN": "已驳回"},
    "late": {"en": "Late", "zh-CN": "逾期"},
    "missed": {"en": "Missed", "zh-CN": "未完成"},
    "behind": {"en": "Behind plan", "zh-CN": "进度落后"},
    "no_plan": {"en": "Nobody is planned yet: recipients need consent and a home position.",
                "zh-CN": "尚无走访计划：关爱对象需要授权同意和住址定位。"},
    "due": {"en": "Due", "zh-CN": "应完成"},
    "previous_month": {"en": "Previous month", "zh-CN": "上个月"},
    "next_month": {"en": "Next month", "zh-CN": "下个月"},
    "plan_now": {"en": "Plan the year now", "zh-CN": "立即生成全年计划"},
    "planned_now": {"en": "{created} visits planned.", "zh-CN": "已计划 {created} 次走访。"},
    "reviews": {"en": "Visits to review", "zh-CN": "走访审核"},
    "no_reviews": {"en": "No visit waits for review.", "zh-CN": "没有待审核的走访。"},
    "visit": {"en": "Visit", "zh-CN": "走访"},
    "service_type": {"en": "Service", "zh-CN": "服务类型"},
    "checked_in": {"en": "Checked in", "zh-CN": "签到"},
    "checked_out": {"en": "Checked out", "zh-CN": "签退"},
    "on_site": {"en": "Time on site", "zh-CN": "在场时长"},
    "minutes": {"en": "{minutes} min", "zh-CN": "{minutes} 分钟"},
    "distance": {"en": "Distance from the home", "zh-CN": "距住址距离"},
    "metres": {"en": "{metres} m (fence {radius} m)", "zh-CN": "{metres} 米（范围 {radius} 米）"},
    "position": {"en": "Checked in at", "zh-CN": "签到位置"},
    "visitors": {"en": "Visitors", "zh-CN": "走访人"},
    "flags": {"en": "Why it is reviewed", "zh-CN": "审核原因"},
    "acknowledged": {"en": "Acknowledged by the recipient", "zh-CN": "关爱对象确认"},
    "not_acknowledged": {"en": "not acknowledged", "zh-CN": "未确认"},
    "observations": {"en": "Observations", "zh-CN": "走访情况"},
    "supplies": {"en": "Supplies", "zh-CN": "物资"},
    "accept": {"en": "Accept (counts and pays)", "zh-CN": "通过（计入并发放积分）"},
    "reject": {"en": "Reject", "zh-CN": "驳回"},
    "review_note": {"en": "Reason or note", "zh-CN": "理由或备注"},
    "reviewed_accepted": {"en": "Visit {visit_id} accepted.", "zh-CN": "走访 {visit_id} 已通过。"},
    "reviewed_rejected": {"en": "Visit {visit_id} rejected.", "zh-CN": "走访 {visit_id} 已驳回。"},
    "far_from_home": {"en": "Far from the home", "zh-CN": "距离住址过远"},
    "mock_location": {"en": "Simulated location", "zh-CN": "模拟定位"},
    "too_short": {"en": "Too short", "zh-CN": "时间过短"},
    "no_check_out": {"en": "No check-out", "zh-CN": "未签退"},
    "follow_ups": {"en": "Follow-ups", "zh-CN": "跟进事项"},
    "no_follow_ups": {"en": "No follow-up here.", "zh-CN": "没有跟进事项。"},
    "need": {"en": "Need found", "zh-CN": "发现的需求"},
    "opened": {"en": "Opened", "zh-CN": "提出时间"},
    "resolution": {"en": "What was done", "zh-CN": "处理结果"},
    "close": {"en": "Close", "zh-CN": "关闭"},
    "open": {"en": "Open", "zh-CN": "未关闭"},
    "closed": {"en": "Closed", "zh-CN": "已关闭"},
    "alerts": {"en": "Care alerts", "zh-CN": "关爱提醒"},
    "no_alerts": {"en": "No alert stands.", "zh-CN": "没有待处理的提醒。"},
    "all_alerts": {"en": "Show settled ones too", "zh-CN": "同时显示已处理的"},
    "standing": {"en": "Still stands", "zh-CN": "仍待处理"},
    "settled": {"en": "Settled", "zh-CN": "已处理"},
    "sent": {"en": "Sent", "zh-CN": "发送时间"},
    "alert_visit_late": {"en": "Visit late", "zh-CN": "走访逾期"},
    "alert_visit_missed": {"en": "Visit missed", "zh-CN": "走访未完成"},
    "alert_behind_plan": {"en": "Behind plan", "zh-CN": "进度落后"},
    "alert_follow_up_overdue": {"en": "Follow-up open too long", "zh-CN": "跟进事项超期"},
    "campaigns": {"en": "Campaigns", "zh-CN": "慰问活动"},
    "no_campaigns": {"en": "No campaign yet.", "zh-CN": "还没有慰问活动。"},
    "new_campaign": {"en": "Launch a campaign (one visit per recipient in scope)",
                     "zh-CN": "发起慰问活动（范围内每位关爱对象一次走访）"},
    "every_category": {"en": "Categories (none ticked: everyone)",
                       "zh-CN": "类别（不选则全部）"},
    "supply_item": {"en": "Supply per household", "zh-CN": "每户物资"},
    "quantity": {"en": "Quantity", "zh-CN": "数量"},
    "unit": {"en": "Unit", "zh-CN": "单位"},
    "households": {"en": "Households planned / visited", "zh-CN": "计划户数 / 已走访"},
    "run": {"en": "Add recipients new in scope", "zh-CN": "补充新纳入范围的对象"},
    "campaign_result": {"en": "{created} visits planned, {already_planned} already planned, "
                              "{without_consent} without consent.",
                        "zh-CN": "新计划 {created} 次，已计划 {already_planned} 次，"
                                 "{without_consent} 人未取得同意。"},
    "disabled": {"en": "Disabled", "zh-CN": "残疾人"},
    "elderly_alone": {"en": "Elderly living alone", "zh-CN": "独居老人"},
    "hardship": {"en": "Hardship", "zh-CN": "困难家庭"},
    "other": {"en": "Other", "zh-CN": "其他"},
    "visits": {"en": "Visits", "zh-CN": "走访"},
    "sensitive_details": {"en": "Sensitive details", "zh-CN": "敏感信息"},
    "basis_consent": {"en": "Consent of the recipient", "zh-CN": "本人同意"},
    "basis_guardian_consent": {"en": "Consent of a guardian", "zh-CN": "监护人同意"},
    "basis_legal_obligation": {"en": "Legal obligation", "zh-CN": "法定义务"},
    "basis_public_task": {"en": "Public task", "zh-CN": "公共职责"},
    "basis_vital_interests": {"en": "Vital interests", "zh-CN": "重大利益"},
    "home_visit": {"en": "Home visit", "zh-CN": "上门走访"},
    "festival_visit": {"en": "Festival visit", "zh-CN": "节日慰问"},
    "supplies_delivery": {"en": "Supplies delivery", "zh-CN": "物资配送"},
    "follow_up": {"en": "Follow-up", "zh-CN": "跟进走访"},
    "status_planned": {"en": "Planned", "zh-CN": "已计划"},
    "status_in_progress": {"en": "In progress", "zh-CN": "进行中"},
    "status_done": {"en": "Done", "zh-CN": "已完成"},
    "status_missed": {"en": "Missed", "zh-CN": "未完成"},
    "status_cancelled": {"en": "Cancelled", "zh-CN": "已取消"},
}


def _labels() -> Any:
    return plugin_labels(LABELS)


def _render(template: str, **context: Any) -> Any:
    return render(template, pt=_labels(), **context)


def _care(station: str) -> Actor:
    """The signed-in person, if they hold care duty: the API's own check, its 404 and 403."""
    who = actor(station)
    access.require_care_officer(db(), who)
    return who


def _common() -> dict[str, Any]:
    return {"categories": [c.value for c in Category], "bases": [b.value for b in Basis],
            "scopes": [sc.value for sc in Scope], "service_types": [t.value for t in ServiceType]}


def _people(ids: Any) -> dict[int, str]:
    """Members' names by id (a visitor, who recorded a consent)."""
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    return dict(db().execute(sa.select(User.id, User.display_name)
                             .where(User.id.in_(wanted))).all())


# Recipients ------------------------------------------------------------------------------------

def _recipient_form() -> dict[str, Any]:
    """The record's fields from the form, as the API's body names them."""
    form = request.form
    position = {key: raw for key in ("lat", "lon") if (raw := (form.get(key) or "").strip())}
    return {
        "name": form.get("name") or "", "phone": form.get("phone") or None,
        "address": form.get("address") or "", "needs": form.get("needs") or "",
        # Typed as the page shows them: the stored WGS-84 values, whatever the station's map.
        **position, "crs": datum.WGS84,
        "categories": form.getlist("categories"),
        "emergency_contact": {"name": form.get("emergency_name") or "",
                              "phone": form.get("emergency_phone") or None,
                              "relation": form.get("emergency_relation") or ""},
        "visits_per_year": form_int("visits_per_year", required=False),
        "care_group_id": form_int("care_group_id", required=False),
    }


def _recipients(station: str, status: int = 200, **context: Any) -> Any:
    who = _care(station)
    args = {k: v for k, v in request.args.items() if k in ("category", "consent", "q") and v}
    try:
        filters = load(s.RecipientQueryArgsSchema, args)
    except WardensError:
        filters = {}
    try:
        page = max(1, int(request.args.get("page", "1")))
    except ValueError:
        page = 1
    # The API's list: one audit event per recipient shown, the fields of the role's view.
    cards, total = recipients.read_recipients(db(), who, limit=PAGE_SIZE,
                                              offset=(page - 1) * PAGE_SIZE, **filters)
    teams = db().scalars(stations.groups_query(who, access.CARE_TEAM)).all()
    return _render("care_visits/recipients.html", status=status, station=station, cards=cards,
                   page=page, more=page * PAGE_SIZE < total, total=total, filters=filters,
                   teams=teams, **_common(), **context)


@bp.route("/recipients", methods=["GET"], endpoint="recipients")
@writes
def recipients_page(station: str) -> Any:
    return _recipients(station)


@bp.route("/recipients", methods=["POST"], endpoint="recipients_create")
def recipients_create(station: str) -> Any:
    """Add a recipient, with its consent when the form says one was given."""
    who = _care(station)
    form = request.form
    try:
        data = _recipient_form()
        if form.get("consent_version"):
            data["consent"] = {"basis": form.get("consent_basis") or "",
                               "scope": form.getlist("consent_scope"),
                               "version": form.get("consent_version") or ""}
        body = load(s.RecipientCreateSchema, data)
        recipient = recipients.create_recipient(db(), who, body)
    except WardensError as error:
        return refused(lambda **c: _recipients(station, **c), error)
    return redirect(url_for("care_visits_console.recipient", station=station,
                            recipient_id=recipient.id), 303)


def _recipient(station: str, recipient_id: int, status: int = 200, **context: Any) -> Any:
    who = _care(station)
    # The API's read of one recipient: its audit event, its fields (sensitive ones included).
    card = recipients.read_recipient(db(), who, recipient_id)
    teams = db().scalars(stations.groups_query(who, access.CARE_TEAM)).all()
    return _render("care_visits/recipient.html", status=status, station=station, card=card,
                   teams=teams, names=_people(card.get("named_visitor_ids", [])), **_common(),
                   **context)


@bp.route("/recipients/<int:recipient_id>", methods=["GET"], endpoint="recipient")
@writes
def recipient_page(station: str, recipient_id: int) -> Any:
    return _recipient(station, recipient_id)


@bp.route("/recipients/<int:recipient_id>", methods=["POST"], endpoint="recipient_change")
def recipient_change(station: str, recipient_id: int) -> Any:
    who = _care(station)
    try:
        body = load(s.RecipientUpdateSchema, _recipient_form())
        recipients.update_recipient(db(), who, recipient_id, body)
    except WardensError as error:
        return refused(lambda **c: _recipient(station, recipient_id, **c), error)
    return redirect(url_for("care_visits_console.recipient", station=station,
                            recipient_id=recipient_id), 303)


# Consent ---------------------------------------------------------------------------------------

def _consents(station: str, recipient_id: int, status: int = 200, **context: Any) -> Any:
    who = _care(station)
    # The API's consent history: one audit event naming the consents read.
    history = consents.consent_history(db(), who, recipient_id)
    return _render("care_visits/consents.html", status=status, station=station,
                   recipient_id=recipient_id, history=history,
                   names=_people([c.recorded_by for c in history]
                                 + [c.withdrawn_by for c in history]),
                   standing=any(c.withdrawn_at is None for c in history[-1:]), **_common(),
                   **context)


@bp.route("/recipients/<int:recipient_id>/consents", methods=["GET"], endpoint="consents")
@writes
def consents_page(station: str, recipient_id: int) -> Any:
    return _consents(station, recipient_id)


@bp.route("/recipients/<int:recipient_id>/consents", methods=["POST"],
          endpoint="consents_change")
def consents_change(station: str, recipient_id: int) -> Any:
    """Record a consent or legal basis, or withdraw the standing one (``withdraw``)."""
    who = _care(station)
    form = request.form
    try:
        if form.get("withdraw"):
            body = load(s.WithdrawSchema, {"note": form.get("note") or ""})
            consents.withdraw_consent(db(), who, recipient_id, body["note"])
        else:
            body = load(s.ConsentCreateSchema, {
                "basis": form.get("basis") or "", "scope": form.getlist("scope"),
                "version": form.get("version") or "", "given_by": form.get("given_by") or "",
                "note": form.get("note") or ""})
            recipient, _ = access.get_recipient(db(), who, recipient_id, officer=True)
            consents.record_consent(db(), who, recipient, **body)
    except WardensError as error:
        return refused(lambda **c: _consents(station, recipient_id, **c), error)
    return redirect(url_for("care_visits_console.consents", station=station,
                            recipient_id=recipient_id), 303)


# The plan: a month's visits, the year's quota per recipient ------------------------------------

def _month() -> tuple[int, int]:
    raw = request.args.get("month", "")
    try:
        first = dt.date.fromisoformat(f"{raw}-01")
        return first.year, first.month
    except ValueError:
        return 0, 0


@bp.route("/plan", methods=["GET"], endpoint="plan")
@writes
def plan_page(station: str) -> Any:
    """A month's visits on a calendar, by the day they are due, and the year's figures.

    The reads are the API's: the visits listed for the month (one audit event each) and the
    coverage report (ids, no names: a name is read on the recipient's page).
    """
    who = _care(station)
    zone = zoneinfo.ZoneInfo(who.station.timezone)
    year, month = _month()
    if not year:
        today = clock.now().astimezone(zone).date()
        year, month = today.year, today.month
    first = dt.date(year, month, 1)
    following = (first + dt.timedelta(days=32)).replace(day=1)
    since = dt.datetime.combine(first, dt.time(0), tzinfo=zone).astimezone(dt.UTC)
    until = dt.datetime.combine(following, dt.time(0), tzinfo=zone).astimezone(dt.UTC)
    shown = db().scalars(visits.visible_visits(db(), who)
                         .where(Visit.due_at >= since, Visit.due_at < until)
                         .order_by(Visit.due_at, Visit.id)).all()
    visits.record_reads(db(), who, shown)
    by_day: dict[dt.date, list[Visit]] = {}
    for visit in shown:
        by_day.setdefault(visit.due_at.astimezone(zone).date(), []).append(visit)
    coverage = reports.coverage(db(), who, year)
    weeks = calendar.Calendar().monthdatescalendar(year, month)
    return _render("care_visits/plan.html", station=station, weeks=weeks, by_day=by_day,
                   month=first, previous=(first - dt.timedelta(days=1)).strftime("%Y-%m"),
                   following=following.strftime("%Y-%m"), coverage=coverage,
                   planned=request.args.get("planned"))


@bp.route("/plan", methods=["POST"], endpoint="plan_run")
def plan_run(station: str) -> Any:
    """Plan the year now rather than at the nightly run (the API's ``POST /plan``)."""
    who = _care(station)
    created = planning.plan_station(db(), who.station, clock.now())
    return redirect(url_for("care_visits_console.plan", station=station, planned=created), 303)


# Reviews ---------------------------------------------------------------------------------------

def _reviews(station: str, status: int = 200, **context: Any) -> Any:
    who = _care(station)
    query = (visits.visible_visits(db(), who)
             .where(Visit.status == VisitStatus.DONE, Visit.review == Review.PENDING)
             .order_by(Visit.ended_at, Visit.id))
    shown, page, more = paged(query)
    # Each visit record read is audited, as the API's list does.
    visits.record_reads(db(), who, shown)
    records = visits.present(db(), shown, who.station)
    fences = dict(db().execute(sa.select(Task.id, Task.radius_m).where(
        Task.id.in_([v.task_id for v in shown]))).all())
    for record in records:
        record["radius_m"] = fences.get(record["task_id"])
        began, ended = record["began_at"], record["ended_at"]
        record["minutes"] = (int((ended - began).total_seconds() // 60)
                             if began and ended else None)
    names = _people(uid for r in records for uid in
                    [*r["visitor_ids"], *(a["user_id"] for a in r["assignees"])])
    return _render("care_visits/reviews.html", status=status, station=station, records=records,
                   page=page, more=more, names=names, done=request.args.get("done"),
                   **context)


@bp.route("/reviews", methods=["GET"], endpoint="reviews")
@writes
def reviews_page(station: str) -> Any:
    return _reviews(station)


@bp.route("/visits/<int:visit_id>/review", methods=["POST"], endpoint="review")
def review(station: str, visit_id: int) -> Any:
    """Accept (the visit counts and pays) or reject with a reason: the API's review."""
    who = _care(station)
    form = request.form
    decision = "accept" if form.get("accept") else "reject" if form.get("reject") else ""
    try:
        body = load(s.ReviewSchema, {"decision": decision, "note": form.get("note") or ""})
        visits.review_visit(db(), who, visit_id, body["decision"] == "accept", body["note"])
    except WardensError as error:
        return refused(lambda **c: _reviews(station, failed=visit_id, **c), error)
    return redirect(url_for("care_visits_console.reviews", station=station,
                            done=f"{body['decision']}:{visit_id}"), 303)


# Follow-ups ------------------------------------------------------------------------------------

def _follow_ups(station: str, status: int = 200, **context: Any) -> Any:
    who = _care(station)
    shown_status = request.args.get("status", FollowUpStatus.OPEN.value)
    query = sa.select(FollowUp).where(FollowUp.station_id == who.station.id)
    if shown_status in (FollowUpStatus.OPEN.value, FollowUpStatus.CLOSED.value):
        query = query.where(FollowUp.status == shown_status)
    rows, page, more = paged(query.order_by(FollowUp.opened_at, FollowUp.id))
    return _render("care_visits/follow_ups.html", status=status, station=station, rows=rows,
                   page=page, more=more, shown_status=shown_status, **context)


@bp.route("/follow-ups", methods=["GET"], endpoint="follow_ups")
def follow_ups_page(station: str) -> Any:
    return _follow_ups(station)


@bp.route("/follow-ups/<int:follow_up_id>/close", methods=["POST"], endpoint="follow_up_close")
def follow_up_close(station: str, follow_up_id: int) -> Any:
    who = _care(station)
    try:
        body = load(s.FollowUpCloseSchema, {"resolution": request.form.get("resolution") or ""})
        visits.close_follow_up(db(), who, follow_up_id, body["resolution"])
    except WardensError as error:
        return refused(lambda **c: _follow_ups(station, failed=follow_up_id, **c), error)
    return redirect(url_for("care_visits_console.follow_ups", station=station), 303)


# Alerts ----------------------------------------------------------------------------------------

@bp.route("/alerts", methods=["GET"], endpoint="alerts")
def alerts_page(station: str) -> Any:
    """The alerts sent to the care team; those whose matter still stands unless asked."""
    who = _care(station)
    everything = request.args.get("all") == "1"
    rows = alerts.sent_alerts(db(), who, clock.now(), standing_only=not everything)
    return _render("care_visits/alerts.html", station=station, rows=rows, everything=everything)


# Campaigns -------------------------------------------------------------------------------------

def _campaigns(station: str, status: int = 200, **context: Any) -> Any:
    who = _care(station)
    rows, page, more = paged(sa.select(Campaign).where(Campaign.station_id == who.station.id)
                             .order_by(Campaign.starts_at.desc(), Campaign.id.desc()))
    households = {c["campaign_id"]: c for c in reports.supplies(db(), who)["campaigns"]}
    return _render("care_visits/campaigns.html", status=status, station=station, rows=rows,
                   page=page, more=more, households=households,
                   result=context.pop("result", None), **_common(), **context)


@bp.route("/campaigns", methods=["GET"], endpoint="campaigns")
def campaigns_page(station: str) -> Any:
    return _campaigns(station)


@bp.route("/campaigns", methods=["POST"], endpoint="campaigns_create")
def campaigns_create(station: str) -> Any:
    """Launch a campaign: one visit per recipient in scope, in its window (the API's)."""
    who = _care(station)
    form = request.form
    tz = who.station.timezone
    try:
        # Up to three lines of supplies per household; blank lines are left out.
        supplies = [{"item": item, "quantity": quantity, "unit": unit}
                    for item, quantity, unit in zip(form.getlist("item"),
                                                    form.getlist("quantity"),
                                                    form.getlist("unit"), strict=False)
                    if item.strip()]
        body = load(s.CampaignSchema, {
            "name": form.get("name") or "",
            "starts_at": parse_local(form.get("starts_at", ""), tz, "starts_at").isoformat(),
            "ends_at": parse_local(form.get("ends_at", ""), tz, "ends_at").isoformat(),
            "categories": form.getlist("categories"), "supplies": supplies,
            "service_type": form.get("service_type") or ServiceType.FESTIVAL_VISIT.value})
        _, result = planning.create_campaign(db(), who, body)
    except WardensError as error:
        return refused(lambda **c: _campaigns(station, **c), error)
    return _campaigns(station, result=result)


@bp.route("/campaigns/<int:campaign_id>/run", methods=["POST"], endpoint="campaign_run")
def campaign_run(station: str, campaign_id: int) -> Any:
    """Add the visits of recipients new in the campaign's scope (the API's run)."""
    who = _care(station)
    try:
        result = planning.run_campaign(db(), who, planning.get_campaign(db(), who, campaign_id))
    except WardensError as error:
        return refused(lambda **c: _campaigns(station, **c), error)
    return _campaigns(station, result=result)
