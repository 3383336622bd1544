"""The crossing guard's console pages: schools and posts on a map, the calendar, shift templates,
the shift board, swaps in progress and hours per guard per term."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Blueprint, redirect, request, url_for

from api.auth import actor
from api.unit_of_work import db
from console import maps
from console.pages import form_float, form_int, load, plugin_labels, refused, render
from core import stations
from core.access import Actor
from core.errors import Invalid, WardensError
from core.hookspecs import ConsoleNav, ConsolePages
from plugins.crossing_guard import board as shift_board
from plugins.crossing_guard import records, schedule, schools, shift_templates, swaps, terms
from plugins.crossing_guard import schemas as s
from plugins.crossing_guard.models import ClosureKind, PostKind, Term
from plugins.crossing_guard.team import TEAM_KIND, require_planner

bp = Blueprint("crossing_guard_console", __name__, template_folder="templates")
STAFF = ("officer", "admin")
PAGES = ConsolePages(bp, nav=(
    ConsoleNav("crossing_guard_console.schools", {"en": "Schools and posts", "zh-CN": "学校与岗位"},
               STAFF),
    ConsoleNav("crossing_guard_console.calendar", {"en": "Terms and closures",
                                                   "zh-CN": "学期与停课"}, STAFF),
    ConsoleNav("crossing_guard_console.templates", {"en": "Shift templates", "zh-CN": "班次模板"},
               STAFF),
    ConsoleNav("crossing_guard_console.board", {"en": "Shift board", "zh-CN": "护学排班"}, STAFF),
    ConsoleNav("crossing_guard_console.swaps", {"en": "Swaps", "zh-CN": "换班"}, STAFF),
    ConsoleNav("crossing_guard_console.hours", {"en": "Guard hours", "zh-CN": "护学时长"},
               (*STAFF, "volunteer")),
))
#: the board's span: two weeks unless asked otherwise, never more than eight
BOARD_WEEKS, MAX_BOARD_WEEKS = 2, 8

#: the pages' own words; errors show the core's and the plugin's messages (the API's texts)
LABELS: dict[str, dict[str, str]] = {
    "schools": {"en": "Schools and posts", "zh-CN": "学校与岗位"},
    "school": {"en": "School", "zh-CN": "学校"},
    "new_school": {"en": "New school (click the map to place it)",
                   "zh-CN": "新建学校（点击地图放置）"},
    "no_schools": {"en": "No schools yet. Place the first one on the map.",
                   "zh-CN": "还没有学校。请在地图上放置第一所学校。"},
    "address": {"en": "Address", "zh-CN": "地址"},
    "team": {"en": "Crossing team", "zh-CN": "护学队伍"},
    "any_team": {"en": "Any crossing team", "zh-CN": "任一护学队伍"},
    "edit_school": {"en": "Change the school", "zh-CN": "修改学校信息"},
    "posts": {"en": "Posts", "zh-CN": "岗位"},
    "no_posts": {"en": "No posts yet: click the map where the first one is.",
                 "zh-CN": "还没有岗位：请在地图上点击第一个岗位的位置。"},
    "new_post": {"en": "New post (click the map to place it)",
                 "zh-CN": "新建岗位（点击地图放置）"},
    "post": {"en": "Post", "zh-CN": "岗位"},
    "min_guards": {"en": "Minimum guards", "zh-CN": "最少人数"},
    "max_guards": {"en": "Maximum guards", "zh-CN": "最多人数"},
    "guards_range": {"en": "Guards (min–max)", "zh-CN": "人数（最少–最多）"},
    "active": {"en": "In use", "zh-CN": "启用中"},
    "switched_off": {"en": "switched off", "zh-CN": "已停用"},
    "kind_gate": {"en": "Gate", "zh-CN": "校门"},
    "kind_crossing": {"en": "Crossing", "zh-CN": "路口"},
    "map_grid": {"en": "No map tiles are set for this deployment: a plain grid to scale.",
                 "zh-CN": "本部署未配置地图底图：按比例显示的网格。"},
    "calendar": {"en": "Terms and closures", "zh-CN": "学期与停课"},
    "terms": {"en": "Terms", "zh-CN": "学期"},
    "no_terms": {"en": "No terms yet. Add one below, then make its shifts.",
                 "zh-CN": "还没有学期。请在下方添加，再生成班次。"},
    "new_term": {"en": "New term", "zh-CN": "新建学期"},
    "starts_on": {"en": "First day", "zh-CN": "开始日期"},
    "ends_on": {"en": "Last day", "zh-CN": "结束日期"},
    "every_school": {"en": "Every school", "zh-CN": "全部学校"},
    "generate": {"en": "Make its shifts", "zh-CN": "生成班次"},
    "generated": {"en": "Shifts made: {created} new, {existing} already there, {closed} on closed "
                        "days.",
                  "zh-CN": "已生成班次：新增 {created} 个，已有 {existing} 个，停课日 {closed} 个。"},
    "closures": {"en": "Closures", "zh-CN": "停课"},
    "no_closures": {"en": "No closures. Holidays and exam days go here.",
                    "zh-CN": "没有停课安排。节假日和考试日请在此添加。"},
    "new_closure": {"en": "Close days (their shifts are cancelled, guards told)",
                    "zh-CN": "停课（期间班次取消，并通知护学员）"},
    "closure_holiday": {"en": "Holiday", "zh-CN": "节假日"},
    "closure_exam": {"en": "Exam days", "zh-CN": "考试"},
    "closure_adhoc": {"en": "Closed", "zh-CN": "临时停课"},
    "templates": {"en": "Shift templates", "zh-CN": "班次模板"},
    "no_templates": {"en": "No shift templates yet. A template makes a post's weekly shifts.",
                     "zh-CN": "还没有班次模板。模板用于生成岗位每周的班次。"},
    "new_template": {"en": "New shift template", "zh-CN": "新建班次模板"},
    "weekdays": {"en": "Weekdays", "zh-CN": "星期"},
    "starts_time": {"en": "From", "zh-CN": "开始时间"},
    "ends_time": {"en": "To", "zh-CN": "结束时间"},
    "archive": {"en": "Archive", "zh-CN": "停用"},
    "restore": {"en": "Use again", "zh-CN": "重新启用"},
    "archived": {"en": "archived", "zh-CN": "已停用"},
    "board": {"en": "Shift board", "zh-CN": "护学排班"},
    "board_span": {"en": "{first} to {last}", "zh-CN": "{first} 至 {last}"},
    "earlier": {"en": "Earlier", "zh-CN": "往前"},
    "later": {"en": "Later", "zh-CN": "往后"},
    "this_fortnight": {"en": "From today", "zh-CN": "从今天起"},
    "no_board_posts": {"en": "No posts in use. Set up schools and posts first.",
                       "zh-CN": "没有启用中的岗位。请先设置学校和岗位。"},
    "under_minimum": {"en": "Under minimum", "zh-CN": "低于最少人数"},
    "under_count": {"en": "Shifts under their post's minimum: {count}",
                    "zh-CN": "低于岗位最少人数的班次：{count} 个"},
    "nobody": {"en": "nobody yet", "zh-CN": "暂无人报名"},
    "swaps": {"en": "Swaps in progress", "zh-CN": "进行中的换班"},
    "no_swaps": {"en": "No swap is waiting to be taken.", "zh-CN": "没有待接的换班。"},
    "shift": {"en": "Shift", "zh-CN": "班次"},
    "offered_by": {"en": "Offered by", "zh-CN": "发起人"},
    "offered_to": {"en": "Offered to", "zh-CN": "转给"},
    "anyone": {"en": "anyone in the team", "zh-CN": "队内任何人"},
    "offered_at": {"en": "Offered", "zh-CN": "发起时间"},
    "hours": {"en": "Guard hours", "zh-CN": "护学时长"},
    "term": {"en": "Term", "zh-CN": "学期"},
    "show": {"en": "Show", "zh-CN": "查看"},
    "no_term": {"en": "No term yet: hours are counted per term.",
                "zh-CN": "还没有学期：时长按学期统计。"},
    "no_hours": {"en": "Nobody has guarded a shift of this term yet.",
                 "zh-CN": "本学期还没有人完成护学班次。"},
    "guard": {"en": "Guard", "zh-CN": "护学员"},
    "shifts_completed": {"en": "Shifts completed", "zh-CN": "完成班次"},
    "scheduled_hours": {"en": "Scheduled hours", "zh-CN": "排班时长（小时）"},
    "on_site_hours": {"en": "Hours on site", "zh-CN": "在岗时长（小时）"},
    "no_shows": {"en": "No-shows", "zh-CN": "缺席"},
    "weekday_1": {"en": "Mon", "zh-CN": "周一"},
    "weekday_2": {"en": "Tue", "zh-CN": "周二"},
    "weekday_3": {"en": "Wed", "zh-CN": "周三"},
    "weekday_4": {"en": "Thu", "zh-CN": "周四"},
    "weekday_5": {"en": "Fri", "zh-CN": "周五"},
    "weekday_6": {"en": "Sat", "zh-CN": "周六"},
    "weekday_7": {"en": "Sun", "zh-CN": "周日"},
}


def _labels() -> Any:
    return plugin_labels(LABELS)


def _render(template: str, **context: Any) -> Any:
    return render(template, pt=_labels(), **context)


def _planner(station: str) -> Actor:
    """The actor of a form that changes the set-up: refused before its fields are judged."""
    who = actor(station)
    who.require_member()
    require_planner(who)
    return who


def _point(form: Any) -> dict[str, Any]:
    """A position picked on the map, in the datum its tiles are drawn in (the schema converts)."""
    lat, lon = form_float("lat"), form_float("lon")
    if lat is None or lon is None:
        raise Invalid("validation_error", field="lat" if lat is None else "lon")
    return {"lat": lat, "lon": lon, "crs": maps.settings()["datum"]}


def _marker(lat: float, lon: float, label: str) -> dict[str, Any]:
    shown = maps.for_display(lat, lon)
    return {"lat": shown[0], "lon": shown[1], "label": label}


def _post_label(post: Any) -> str:
    return f"{post.name} ({post.min_guards}–{post.max_guards})"


# Schools and posts ------------------------------------------------------------------------------

def _schools(station: str, status: int = 200, **context: Any) -> Any:
    who = actor(station)
    found = db().scalars(schools.schools_query(who)).all()
    posts = db().scalars(schools.posts_query(who)).all()
    markers = [_marker(x.lat, x.lon, x.name) for x in found]
    markers += [_marker(p.lat, p.lon, _post_label(p)) for p in posts if p.active]
    by_school: dict[int, list[Any]] = {}
    for post in posts:
        by_school.setdefault(post.school_id, []).append(post)
    return _render("crossing_guard/schools.html", status=status, station=station, schools=found,
                   by_school=by_school, markers=markers, teams=_teams(who), map=maps.settings(),
                   **context)


def _teams(who: Actor) -> list[Any]:
    return list(db().scalars(stations.groups_query(who, TEAM_KIND)).all())


@bp.route("/schools", methods=["GET"], endpoint="schools")
def schools_page(station: str) -> Any:
    return _schools(station)


def _school_fields(form: Any) -> dict[str, Any]:
    return {"name": form.get("name") or "", "address": form.get("address") or "",
            "team_group_id": form_int("team_group_id", required=False), **_point(form)}


@bp.route("/schools", methods=["POST"], endpoint="schools_create")
def schools_create(station: str) -> Any:
    who = _planner(station)
    try:
        body = load(s.CrossingSchoolSchema, _school_fields(request.form))
        school = schools.create_school(db(), who, **body)
    except WardensError as error:
        return refused(lambda **c: _schools(station, **c), error)
    return redirect(url_for("crossing_guard_console.school", station=station,
                            school_id=school.id), 303)


def _school(station: str, school_id: int, status: int = 200, **context: Any) -> Any:
    who = actor(station)
    who.require_member()
    school = schools.get_school(db(), who.station.id, school_id)
    posts = db().scalars(schools.posts_query(who, school.id)).all()
    markers = [_marker(p.lat, p.lon, _post_label(p)) for p in posts]
    return _render("crossing_guard/school.html", status=status, station=station, school=school,
                   posts=posts, markers=markers, center=_marker(school.lat, school.lon, ""),
                   teams=_teams(who), kinds=[k.value for k in PostKind], map=maps.settings(),
                   **context)


@bp.route("/schools/<int:school_id>", methods=["GET"], endpoint="school")
def school_page(station: str, school_id: int) -> Any:
    return _school(station, school_id)


@bp.route("/schools/<int:school_id>", methods=["POST"], endpoint="school_update")
def school_update(station: str, school_id: int) -> Any:
    """Change a school's name, address, place or team."""
    who = _planner(station)
    schools.get_school(db(), who.station.id, school_id)
    try:
        body = load(s.CrossingSchoolUpdateSchema, _school_fields(request.form))
        schools.update_school(db(), who, school_id, body)
    except WardensError as error:
        return refused(lambda **c: _school(station, school_id, **c), error)
    return redirect(url_for("crossing_guard_console.school", station=station,
                            school_id=school_id), 303)


@bp.route("/schools/<int:school_id>/posts", methods=["POST"], endpoint="posts_create")
def posts_create(station: str, school_id: int) -> Any:
    """Place a post where the map was clicked, with its minimum and maximum guards."""
    who = _planner(station)
    schools.get_school(db(), who.station.id, school_id)
    form = request.form
    try:
        body = load(s.CrossingPostSchema, {
            "name": form.get("name") or "", "kind": form.get("kind") or "",
            "radius_m": form_int("radius_m", required=False) or 50,
            "min_guards": form_int("min_guards"), "max_guards": form_int("max_guards"),
            **_point(form)})
        schools.create_post(db(), who, school_id, **body)
    except WardensError as error:
        return refused(lambda **c: _school(station, school_id, **c), error)
    return redirect(url_for("crossing_guard_console.school", station=station,
                            school_id=school_id), 303)


@bp.route("/posts/<int:post_id>", methods=["POST"], endpoint="post_update")
def post_update(station: str, post_id: int) -> Any:
    """Change a post's name, radius, minimum and maximum; or switch it off or on (``active``)."""
    who = _planner(station)
    post = schools.get_post(db(), who.station.id, post_id)
    form = request.form
    try:
        if "active" in form:
            changes: dict[str, Any] = {"active": form.get("active") == "1"}
        else:
            changes = load(s.CrossingPostUpdateSchema, {
                "name": form.get("name") or "", "radius_m": form_int("radius_m"),
                "min_guards": form_int("min_guards"), "max_guards": form_int("max_guards")})
        schools.update_post(db(), who, post_id, changes)
    except WardensError as error:
        return refused(lambda **c: _school(station, post.school_id, **c), error)
    return redirect(url_for("crossing_guard_console.school", station=station,
                            school_id=post.school_id), 303)


# Terms and closures -----------------------------------------------------------------------------

def _calendar(station: str, status: int = 200, **context: Any) -> Any:
    who = actor(station)
    found = db().scalars(schools.schools_query(who)).all()
    return _render("crossing_guard/calendar.html", status=status, station=station,
                   terms=db().scalars(terms.terms_query(who)).all(),
                   closures=db().scalars(terms.closures_query(who)).all(), schools=found,
                   school_names={x.id: x.name for x in found},
                   closure_kinds=[k.value for k in ClosureKind], **context)


@bp.route("/calendar", methods=["GET"], endpoint="calendar")
def calendar_page(station: str) -> Any:
    return _calendar(station)


def _term_fields(form: Any) -> dict[str, Any]:
    return {"name": form.get("name") or "", "starts_on": form.get("starts_on") or "",
            "ends_on": form.get("ends_on") or ""}


@bp.route("/terms", methods=["POST"], endpoint="terms_create")
def terms_create(station: str) -> Any:
    who = _planner(station)
    try:
        body = load(s.CrossingTermSchema, {
            **_term_fields(request.form),
            "school_id": form_int("school_id", required=False)})
        terms.create_term(db(), who, **body)
    except WardensError as error:
        return refused(lambda **c: _calendar(station, **c), error)
    return redirect(url_for("crossing_guard_console.calendar", station=station), 303)


@bp.route("/terms/<int:term_id>", methods=["POST"], endpoint="term_update")
def term_update(station: str, term_id: int) -> Any:
    """Rename a term or move its dates."""
    who = _planner(station)
    terms.get_term(db(), who.station.id, term_id)
    try:
        body = load(s.CrossingTermUpdateSchema, _term_fields(request.form))
        terms.update_term(db(), who, term_id, body)
    except WardensError as error:
        return refused(lambda **c: _calendar(station, **c), error)
    return redirect(url_for("crossing_guard_console.calendar", station=station), 303)


@bp.route("/terms/<int:term_id>/generate", methods=["POST"], endpoint="term_generate")
def term_generate(station: str, term_id: int) -> Any:
    """Make the term's shifts from the templates (again: only what is missing)."""
    who = _planner(station)
    result = terms.generate_term(db(), who, term_id)
    return _calendar(station, notice=_labels()("generated", created=result.created,
                                               existing=result.existing, closed=result.closed))


@bp.route("/closures", methods=["POST"], endpoint="closures_create")
def closures_create(station: str) -> Any:
    who = _planner(station)
    form = request.form
    try:
        body = load(s.CrossingClosureSchema, {
            "kind": form.get("kind") or "", "starts_on": form.get("starts_on") or "",
            "ends_on": form.get("ends_on") or "", "reason": form.get("reason") or "",
            "school_id": form_int("school_id", required=False)})
        terms.create_closure(db(), who, **body)
    except WardensError as error:
        return refused(lambda **c: _calendar(station, **c), error)
    return redirect(url_for("crossing_guard_console.calendar", station=station), 303)


@bp.route("/closures/<int:closure_id>", methods=["POST"], endpoint="closure_delete")
def closure_delete(station: str, closure_id: int) -> Any:
    """Remove a closure: the days it closed get their shifts back."""
    terms.delete_closure(db(), _planner(station), closure_id)
    return redirect(url_for("crossing_guard_console.calendar", station=station), 303)


# Shift templates --------------------------------------------------------------------------------

def _templates(station: str, status: int = 200, **context: Any) -> Any:
    who = actor(station)
    posts = db().scalars(schools.posts_query(who)).all()
    school_names = {x.id: x.name for x in db().scalars(schools.schools_query(who))}
    post_names = {p.id: f"{school_names.get(p.school_id, '')} · {p.name}" for p in posts}
    return _render("crossing_guard/templates.html", status=status, station=station,
                   templates=db().scalars(shift_templates.templates_query(who)).all(),
                   posts=posts, post_names=post_names, **context)


@bp.route("/templates", methods=["GET"], endpoint="templates")
def templates_page(station: str) -> Any:
    return _templates(station)


def _template_fields(form: Any) -> dict[str, Any]:
    weekdays = []
    for value in form.getlist("weekdays"):
        try:
            weekdays.append(int(value))
        except ValueError:
            raise Invalid("validation_error", field="weekdays") from None
    return {"name": form.get("name") or "", "weekdays": weekdays,
            "starts_time": form.get("starts_time") or "", "ends_time": form.get("ends_time") or ""}


@bp.route("/templates", methods=["POST"], endpoint="templates_create")
def templates_create(station: str) -> Any:
    who = _planner(station)
    try:
        post_id = form_int("post_id")
        body = load(s.CrossingTemplateSchema, _template_fields(request.form))
        shift_templates.create_template(db(), who, post_id=post_id, **body)
    except WardensError as error:
        return refused(lambda **c: _templates(station, **c), error)
    return redirect(url_for("crossing_guard_console.templates", station=station), 303)


@bp.route("/templates/<int:template_id>", methods=["POST"], endpoint="template_update")
def template_update(station: str, template_id: int) -> Any:
    """Change a template (its coming shifts follow), or archive it and use it again
    (``active``): archived, its coming shifts are cancelled and their guards told."""
    who = _planner(station)
    shift_templates.get_template(db(), who.station.id, template_id)
    form = request.form
    try:
        if "active" in form:
            changes: dict[str, Any] = {"active": form.get("active") == "1"}
        else:
            changes = load(s.CrossingTemplateUpdateSchema, _template_fields(form))
        shift_templates.update_template(db(), who, template_id, changes)
    except WardensError as error:
        return refused(lambda **c: _templates(station, **c), error)
    return redirect(url_for("crossing_guard_console.templates", station=station), 303)


# The shift board --------------------------------------------------------------------------------

def _weeks_asked() -> int:
    try:
        return max(1, min(MAX_BOARD_WEEKS, int(request.args.get("weeks", BOARD_WEEKS))))
    except ValueError:
        return BOARD_WEEKS


@bp.route("/board", methods=["GET"], endpoint="board")
def board_page(station: str) -> Any:
    """Each post's shifts over the coming weeks (from today in the station's zone), the guards
    on each against the post's minimum and maximum; shifts under the minimum stand out."""
    who = actor(station)
    today = schedule.today(who.station)
    weeks = _weeks_asked()
    span = dt.timedelta(days=weeks * 7)
    try:
        first = dt.date.fromisoformat(request.args.get("from", ""))
        earlier, later = first - span, first + span
    except (ValueError, OverflowError):  # not a date, or the calendar's very edge
        first, earlier, later = today, today - span, today + span
    lines = shift_board.board(db(), who, first, weeks * 7)
    calendar = [[first + dt.timedelta(days=7 * w + d) for d in range(7)] for w in range(weeks)]
    under = sum(shift.below_minimum for line in lines for shifts in line.days.values()
                for shift in shifts)
    return _render("crossing_guard/board.html", station=station, lines=lines, calendar=calendar,
                   first=first, last=first + span - dt.timedelta(days=1), today=today,
                   earlier=earlier, later=later, weeks=weeks, under=under)


# Swaps in progress ------------------------------------------------------------------------------

@bp.route("/swaps", methods=["GET"], endpoint="swaps")
def swaps_page(station: str) -> Any:
    """Open offers of coming shifts: who gives their place, to whom."""
    who = actor(station)
    return _render("crossing_guard/swaps.html", station=station,
                   offers=swaps.in_progress(db(), who))


# Hours per guard per term -----------------------------------------------------------------------

@bp.route("/hours", methods=["GET"], endpoint="hours")
def hours_page(station: str) -> Any:
    """Hours and no-shows per guard in the chosen term (coordinators: everyone; a guard: their
    own line), as ``GET .../reports/hours?term_id=`` answers."""
    who = actor(station)
    found = db().scalars(terms.terms_query(who)).all()
    term: Term | None = None
    try:
        chosen = int(request.args.get("term_id", ""))
    except ValueError:
        chosen = None
    if chosen is not None:
        term = terms.get_term(db(), who.station.id, chosen)
    elif found:
        try:
            term = terms.current_term(db(), who, None)
        except Invalid:  # every term is over: the last one
            term = found[-1]
    lines = records.guard_hours(db(), who, term) if term is not None else []
    return _render("crossing_guard/hours.html", station=station, terms=found, term=term,
                   lines=lines)
