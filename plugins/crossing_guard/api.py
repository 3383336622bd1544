"""The crossing-guard endpoints, mounted at /api/v1/stations/<station>/crossing-guard/."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import Response, request

from api.auth import actor, public_view
from api.pagination import QueryPage
from api.smorest import Blueprint, deprecated_alias
from api.task_schemas import (
    CheckinCreateSchema,
    CheckinResultSchema,
    SignupCreateSchema,
    assignment_view,
    checkin_answer,
)
from api.unit_of_work import db, secret_answer
from core.errors import NotFound
from core.models import AssignmentStatus, Station
from plugins.crossing_guard import feed, records, roster, schools, shift_templates, swaps, terms
from plugins.crossing_guard import schemas as s
from plugins.crossing_guard.models import Closure, Post, School, Shift, SwapOffer, Template, Term

blp = Blueprint("crossing_guard", __name__, url_prefix="",
                description="School-crossing guards: posts, calendar, shifts, swaps, records")


# Schools and posts -------------------------------------------------------------------------------

@blp.route("/schools", methods=["GET"])
@blp.response(200, s.CrossingSchoolSchema(many=True))
@blp.paginate(QueryPage)
def crossing_schools_list(station: str) -> Any:
    """The station's schools."""
    who = actor(station)
    return sa.select(School).where(School.station_id == who.station.id).order_by(School.name)


@blp.route("/schools", methods=["POST"])
@blp.arguments(s.CrossingSchoolSchema)
@blp.response(201, s.CrossingSchoolSchema)
def crossing_schools_create(body: dict[str, Any], station: str) -> School:
    """Add a school (officers and admins)."""
    return schools.create_school(db(), actor(station), **body)


@blp.route("/schools/<int:school_id>", methods=["GET"])
@blp.response(200, s.CrossingSchoolSchema)
def crossing_schools_get(station: str, school_id: int) -> School:
    """A school."""
    return schools.get_school(db(), actor(station).station.id, school_id)


@blp.route("/schools/<int:school_id>", methods=["PATCH"])
@blp.arguments(s.CrossingSchoolUpdateSchema)
@blp.response(200, s.CrossingSchoolSchema)
def crossing_schools_update(changes: dict[str, Any], station: str, school_id: int) -> School:
    """Change a school's name, address, position or team (officers and admins)."""
    return schools.update_school(db(), actor(station), school_id, changes)


@blp.route("/schools/<int:school_id>", methods=["DELETE"])
@blp.response(204)
def crossing_schools_delete(station: str, school_id: int) -> None:
    """Delete a school without posts (officers and admins)."""
    schools.delete_school(db(), actor(station), school_id)


@blp.route("/schools/<int:school_id>/posts", methods=["GET"])
@blp.response(200, s.CrossingPostSchema(many=True))
@blp.paginate(QueryPage)
def crossing_posts_list(station: str, school_id: int) -> Any:
    """A school's posts."""
    who = actor(station)
    school = schools.get_school(db(), who.station.id, school_id)
    return sa.select(Post).where(Post.station_id == who.station.id,
                                 Post.school_id == school.id).order_by(Post.name)


@blp.route("/schools/<int:school_id>/posts", methods=["POST"])
@blp.arguments(s.CrossingPostSchema)
@blp.response(201, s.CrossingPostSchema)
def crossing_posts_create(body: dict[str, Any], station: str, school_id: int) -> Post:
    """Add a post (gate or crossing) with its fence and its minimum and maximum guards."""
    return schools.create_post(db(), actor(station), school_id, **body)


@blp.route("/posts/<int:post_id>", methods=["GET"])
@blp.response(200, s.CrossingPostSchema)
def crossing_posts_get(station: str, post_id: int) -> Post:
    """A post."""
    return schools.get_post(db(), actor(station).station.id, post_id)


@blp.route("/posts/<int:post_id>", methods=["PATCH"])
@blp.arguments(s.CrossingPostUpdateSchema)
@blp.response(200, s.CrossingPostChangedSchema)
def crossing_posts_update(changes: dict[str, Any], station: str, post_id: int) -> Any:
    """Change a post; its coming shifts follow (switched off: they are cancelled)."""
    post, effect = schools.update_post(db(), actor(station), post_id, changes)
    return {**_columns(post), "shifts": effect}


@blp.route("/posts/<int:post_id>", methods=["DELETE"])
@blp.response(204)
def crossing_posts_delete(station: str, post_id: int) -> None:
    """Delete a post that never had shifts (else switch it off)."""
    schools.delete_post(db(), actor(station), post_id)


def _columns(row: Any) -> dict[str, Any]:
    return {c.key: getattr(row, c.key) for c in sa.inspect(row).mapper.column_attrs}


# Calendar ----------------------------------------------------------------------------------------

@blp.route("/terms", methods=["GET"])
@blp.arguments(s.CrossingCalendarQueryArgsSchema, location="query")
@blp.response(200, s.CrossingTermSchema(many=True))
@blp.paginate(QueryPage)
def crossing_terms_list(args: dict[str, Any], station: str) -> Any:
    """Terms, the station's and the schools' own."""
    who = actor(station)
    query = sa.select(Term).where(Term.station_id == who.station.id)
    if "school_id" in args:
        query = query.where(sa.or_(Term.school_id.is_(None), Term.school_id == args["school_id"]))
    return query.order_by(Term.starts_on, Term.id)


@blp.route("/terms", methods=["POST"])
@blp.arguments(s.CrossingTermSchema)
@blp.response(201, s.CrossingTermSchema)
def crossing_terms_create(body: dict[str, Any], station: str) -> Term:
    """Add a term in local dates, for the station or one school (officers and admins)."""
    return terms.create_term(db(), actor(station), **body)


@blp.route("/terms/<int:term_id>", methods=["GET"])
@blp.response(200, s.CrossingTermSchema)
def crossing_terms_get(station: str, term_id: int) -> Term:
    """A term."""
    return terms.get_term(db(), actor(station).station.id, term_id)


@blp.route("/terms/<int:term_id>", methods=["PATCH"])
@blp.arguments(s.CrossingTermUpdateSchema)
@blp.response(200, s.CrossingTermSchema)
def crossing_terms_update(changes: dict[str, Any], station: str, term_id: int) -> Term:
    """Rename a term or move its dates (generate again for new days)."""
    return terms.update_term(db(), actor(station), term_id, changes)


@blp.route("/terms/<int:term_id>", methods=["DELETE"])
@blp.response(204)
def crossing_terms_delete(station: str, term_id: int) -> None:
    """Delete a term; its shifts stay."""
    terms.delete_term(db(), actor(station), term_id)


@blp.route("/terms/<int:term_id>/generate", methods=["POST"])
@blp.response(200, s.CrossingGeneratedSchema)
def crossing_terms_generate(station: str, term_id: int) -> Any:
    """Create the term's shifts from the templates; running it again creates nothing new."""
    return terms.generate_term(db(), actor(station), term_id)


@blp.route("/closures", methods=["GET"])
@blp.arguments(s.CrossingCalendarQueryArgsSchema, location="query")
@blp.response(200, s.CrossingClosureSchema(many=True))
@blp.paginate(QueryPage)
def crossing_closures_list(args: dict[str, Any], station: str) -> Any:
    """Closures: holidays, exam days and ad-hoc closures."""
    who = actor(station)
    query = sa.select(Closure).where(Closure.station_id == who.station.id)
    if "school_id" in args:
        query = query.where(sa.or_(Closure.school_id.is_(None),
                                   Closure.school_id == args["school_id"]))
    return query.order_by(Closure.starts_on, Closure.id)


@blp.route("/closures", methods=["POST"])
@blp.arguments(s.CrossingClosureSchema)
@blp.response(201, s.CrossingClosureCreatedSchema)
def crossing_closures_create(body: dict[str, Any], station: str) -> Any:
    """Close days for the station or a school; their coming shifts are cancelled, guards told."""
    closure, cancelled = terms.create_closure(db(), actor(station), **body)
    return {**_columns(closure), "shifts_cancelled": cancelled}


@blp.route("/closures/<int:closure_id>", methods=["DELETE"])
@blp.response(204)
def crossing_closures_delete(station: str, closure_id: int) -> None:
    """Remove a closure; the days it closed get their shifts again."""
    terms.delete_closure(db(), actor(station), closure_id)


# Templates ---------------------------------------------------------------------------------------

@blp.route("/templates", methods=["GET"])
@blp.arguments(s.CrossingTemplateQueryArgsSchema, location="query")
@blp.response(200, s.CrossingTemplateSchema(many=True))
@blp.paginate(QueryPage)
def crossing_templates_list(args: dict[str, Any], station: str) -> Any:
    """Shift templates."""
    who = actor(station)
    query = sa.select(Template).where(Template.station_id == who.station.id)
    if "post_id" in args:
        query = query.where(Template.post_id == args["post_id"])
    if "active" in args:
        query = query.where(Template.active.is_(args["active"]))
    return query.order_by(Template.post_id, Template.starts_time, Template.id)


@blp.route("/posts/<int:post_id>/templates", methods=["POST"])
@blp.arguments(s.CrossingTemplateSchema)
@blp.response(201, s.CrossingTemplateSchema)
def crossing_templates_create(body: dict[str, Any], station: str, post_id: int) -> Template:
    """Add a recurring shift to a post: weekdays and local times (officers and admins)."""
    return shift_templates.create_template(db(), actor(station), post_id=post_id, **body)


@blp.route("/templates/<int:template_id>", methods=["PATCH"])
@blp.arguments(s.CrossingTemplateUpdateSchema)
@blp.response(200, s.CrossingTemplateChangedSchema)
def crossing_templates_update(changes: dict[str, Any], station: str, template_id: int) -> Any:
    """Change a template; coming shifts move, go or come and their guards are told."""
    template, effect = shift_templates.update_template(db(), actor(station), template_id, changes)
    return {**_columns(template), "shifts": effect}


@blp.route("/templates/<int:template_id>", methods=["DELETE"])
@blp.response(200, s.CrossingTemplateChangedSchema)
def crossing_templates_delete(station: str, template_id: int) -> Any:
    """Switch a template off: its coming shifts are cancelled, their guards told."""
    template, effect = shift_templates.update_template(db(), actor(station), template_id,
                                               {"active": False})
    return {**_columns(template), "shifts": effect}


# Shifts ------------------------------------------------------------------------------------------

@blp.route("/shifts", methods=["GET"])
@blp.arguments(s.CrossingShiftQueryArgsSchema, location="query")
@blp.response(200, s.CrossingShiftSchema(many=True))
@blp.paginate(QueryPage)
def crossing_shifts_list(args: dict[str, Any], station: str) -> Any:
    """Shifts, soonest first, with my status; filter by time, school, post, mine, short."""
    return roster.shifts_query(db(), actor(station), **args)


@blp.route("/shifts/<int:shift_id>", methods=["GET"])
@blp.response(200, s.CrossingShiftDetailSchema)
def crossing_shifts_get(station: str, shift_id: int) -> Any:
    """A shift with its roster (for the team and coordinators)."""
    who = actor(station)
    session = db()
    row = session.execute(roster.shifts_query(session, who, include_cancelled=True)
                          .where(Shift.id == shift_id)).first()
    if row is None:
        raise NotFound("shift_not_found")
    view = roster.ShiftView(row.Shift, row.Task, row.Post, row.School)
    people = []
    if roster.can_see_roster(session, who, view):
        people = [{"user_id": a.user_id, "display_name": u.display_name, "status": a.status}
                  for a, u in roster.roster(session, row.Shift)
                  if a.status != AssignmentStatus.WITHDRAWN]
    return {**row._asdict(), "roster": people}


# Sign-ups: the core's shape (POST .../signups, DELETE .../signups/me and .../signups/<user>);
# the paths of the first release stay for one more, deprecated.

def _signed_up(session: Any, shift_id: int, assignment: Any) -> dict[str, Any]:
    return assignment_view(session, assignment, shift_id=shift_id)


def _sign_up(body: dict[str, Any], station: str, shift_id: int) -> dict[str, Any]:
    session = db()
    view, assignment = roster.sign_up(session, actor(station), shift_id, **body)
    return _signed_up(session, view.shift.id, assignment)


@blp.route("/shifts/<int:shift_id>/signups", methods=["POST"])
@blp.arguments(SignupCreateSchema)
@blp.response(201, s.CrossingSignupResultSchema)
def crossing_signups_create(body: dict[str, Any], station: str, shift_id: int) -> Any:
    """Sign up for a shift, or join its waitlist when full (``waitlist: false``: 409
    ``task_full`` instead); a coordinator may put a guard on (``user_id``)."""
    return _sign_up(body, station, shift_id)


@blp.route("/shifts/<int:shift_id>/signups/me", methods=["DELETE"])
@blp.response(204)
def crossing_signups_delete_mine(station: str, shift_id: int) -> None:
    """Leave a shift, until the station's cutoff before it; the first in line takes the place."""
    roster.withdraw(db(), actor(station), shift_id)


@blp.route("/shifts/<int:shift_id>/signups/<int:user_id>", methods=["DELETE"])
@blp.response(204)
def crossing_signups_delete(station: str, shift_id: int, user_id: int) -> None:
    """A coordinator takes a guard off a shift, also after the cutoff; the guard is told."""
    roster.release(db(), actor(station), shift_id, user_id)


@blp.route("/shifts/<int:shift_id>/signup", methods=["POST"])
@blp.arguments(SignupCreateSchema)
@blp.response(201, s.CrossingSignupResultSchema)
@deprecated_alias("crossing_guard.crossing_signups_create")
def crossing_shifts_signup(body: dict[str, Any], station: str, shift_id: int) -> Any:
    """Deprecated: ``POST .../shifts/<shift_id>/signups``, which answers the same."""
    return _sign_up(body, station, shift_id)


@blp.route("/shifts/<int:shift_id>/signup", methods=["DELETE"])
@blp.response(204)
@deprecated_alias("crossing_guard.crossing_signups_delete_mine")
def crossing_shifts_withdraw(station: str, shift_id: int) -> None:
    """Deprecated: ``DELETE .../shifts/<shift_id>/signups/me``."""
    roster.withdraw(db(), actor(station), shift_id)


@blp.route("/series-signups", methods=["POST"])
@blp.arguments(s.CrossingSeriesSchema)
@blp.response(200, s.CrossingSeriesResultSchema)
def crossing_series_signup(body: dict[str, Any], station: str) -> Any:
    """Sign up for every coming shift of a template this term: one result per shift."""
    results = roster.series(db(), actor(station), template_id=body["template_id"],
                            term_id=body.get("term_id"), weekdays=body.get("weekdays"),
                            waitlist=body["waitlist"])
    counts = {"signed_up": 0, "waitlisted": 0, "refused": 0}
    for entry in results:
        counts[entry["result"] if entry["result"] in counts else "refused"] += 1
    return {"results": results, **counts}


@blp.route("/shifts/<int:shift_id>/release", methods=["POST"])
@blp.arguments(s.CrossingReleaseSchema)
@blp.response(200, s.CrossingSignupResultSchema)
@deprecated_alias("crossing_guard.crossing_signups_delete")
def crossing_shifts_release(body: dict[str, Any], station: str, shift_id: int) -> Any:
    """Deprecated: ``DELETE .../shifts/<shift_id>/signups/<user_id>``."""
    session = db()
    assignment = roster.release(session, actor(station), shift_id, body["user_id"])
    return _signed_up(session, shift_id, assignment)


@blp.route("/shifts/<int:shift_id>/cancel", methods=["POST"])
@blp.arguments(s.CrossingCancelSchema)
@blp.response(200, s.CrossingShiftSchema)
def crossing_shifts_cancel(body: dict[str, Any], station: str, shift_id: int) -> Any:
    """A coordinator cancels one shift; its guards are told."""
    view = roster.cancel(db(), actor(station), shift_id, body["reason"])
    return {"Shift": view.shift, "Task": view.task, "Post": view.post, "School": view.school,
            "my_status": None}


@blp.route("/shifts/<int:shift_id>/checkins", methods=["POST"])
@blp.arguments(CheckinCreateSchema)
@blp.response(201, CheckinResultSchema)
@blp.alt_response(200, schema=CheckinResultSchema, description="A re-sent client_id")
def crossing_shifts_checkin(body: dict[str, Any], station: str, shift_id: int) -> Any:
    """Check in or out at the post, inside its fence (the core's rules); the answer is the
    one of ``POST .../tasks/<task_id>/checkins`` (a re-sent ``client_id`` answers 200)."""
    return checkin_answer(roster.check_in(db(), actor(station), shift_id, **body))


# Swaps -------------------------------------------------------------------------------------------

@blp.route("/shifts/<int:shift_id>/swap-offers", methods=["POST"])
@blp.arguments(s.CrossingSwapOfferCreateSchema)
@blp.response(201, s.CrossingSwapOfferSchema)
def crossing_swaps_offer(body: dict[str, Any], station: str, shift_id: int) -> SwapOffer:
    """Offer my place on a shift to the team (or to one guard)."""
    return swaps.offer(db(), actor(station), shift_id, **body)


@blp.route("/swap-offers", methods=["GET"])
@blp.arguments(s.CrossingSwapQueryArgsSchema, location="query")
@blp.response(200, s.CrossingSwapOfferSchema(many=True))
@blp.paginate(QueryPage)
def crossing_swaps_list(args: dict[str, Any], station: str) -> Any:
    """Swap offers, newest first."""
    return swaps.offers_query(actor(station), **args)


@blp.route("/swap-offers/<int:offer_id>/take", methods=["POST"])
@blp.response(200, s.CrossingSwapOfferSchema)
def crossing_swaps_take(station: str, offer_id: int) -> SwapOffer:
    """Take an offered shift: it becomes mine in one step, or 409 if someone was first."""
    return swaps.take(db(), actor(station), offer_id)


@blp.route("/swap-offers/<int:offer_id>", methods=["DELETE"])
@blp.response(200, s.CrossingSwapOfferSchema)
def crossing_swaps_withdraw(station: str, offer_id: int) -> SwapOffer:
    """Withdraw my open offer."""
    return swaps.withdraw_offer(db(), actor(station), offer_id)


# Records -----------------------------------------------------------------------------------------

def _term(args: dict[str, Any], who: Any) -> Term:
    if "term_id" in args:
        return terms.get_term(db(), who.station.id, args["term_id"])
    return terms.current_term(db(), who, args.get("school_id"))


@blp.route("/reports/hours", methods=["GET"])
@blp.arguments(s.CrossingReportArgsSchema, location="query")
@blp.response(200, s.CrossingHoursReportSchema)
def crossing_reports_hours(args: dict[str, Any], station: str) -> Any:
    """Hours and no-shows per guard in a term (coordinators: everyone; a guard: their own)."""
    who = actor(station)
    term = _term(args, who)
    return {"term": term, "guards": records.guard_hours(db(), who, term)}


@blp.route("/reports/fill-rate", methods=["GET"])
@blp.arguments(s.CrossingReportArgsSchema, location="query")
@blp.response(200, s.CrossingFillRateReportSchema)
def crossing_reports_fill_rate(args: dict[str, Any], station: str) -> Any:
    """Fill rate per post per week of a term (coordinators)."""
    who = actor(station)
    term = _term(args, who)
    return {"term": term, "weeks": records.fill_rate(db(), who, term, args.get("school_id"))}


# Calendar feed -----------------------------------------------------------------------------------

def _feed_url(station: Station, token: str) -> str:
    return f"{request.host_url.rstrip('/')}/api/v1/stations/{station.code}/crossing-guard/" \
           f"feed/{token}.ics"


@blp.route("/feed", methods=["GET"])
@blp.response(200, s.CrossingFeedSchema)
def crossing_feed_get(station: str) -> Any:
    """Whether I have a calendar feed (its secret address is shown only when made)."""
    row = feed.get_feed(db(), actor(station))
    return {"active": row is not None, "created_at": row.created_at if row else None}


@blp.route("/feed", methods=["POST"])
@blp.response(201, s.CrossingFeedSchema)
@secret_answer
def crossing_feed_reset(station: str) -> Any:
    """Make (or reset) my secret calendar address; an older one stops working."""
    who = actor(station)
    row, token = feed.reset(db(), who)
    return {"active": True, "created_at": row.created_at, "url": _feed_url(who.station, token)}


@blp.route("/feed", methods=["DELETE"])
@blp.response(204)
def crossing_feed_delete(station: str) -> None:
    """Switch my calendar feed off."""
    feed.remove(db(), actor(station))


@blp.route("/feed/<token>.ics", methods=["GET"])
@blp.doc(security=[], responses={"200": {
    "description": "My shifts, iCalendar (RFC 5545)",
    "content": {"text/calendar": {"schema": {"type": "string"}}}}})
@public_view
def crossing_feed_ics(station: str, token: str) -> Response:
    """My shifts as an iCalendar feed; the secret in the address is the only credential."""
    session = db()
    found = session.scalar(sa.select(Station).where(Station.code == station))
    if found is None:
        raise NotFound("feed_not_found")
    user_id = feed.owner(session, found, token)
    body = feed.render(session, found, user_id)
    response = Response(body, mimetype="text/calendar")
    response.headers["Cache-Control"] = "private, max-age=300"
    response.headers["Content-Disposition"] = 'inline; filename="crossing-shifts.ics"'
    return response

