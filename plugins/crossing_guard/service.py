"""Setting up the work: schools and their posts, terms and closures, shift templates."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm as so

from core import audit, clock
from core.access import Actor
from core.db import flush_or_conflict
from core.errors import Conflict, Invalid, NotFound
from core.models import Group
from plugins.crossing_guard import schedule
from plugins.crossing_guard.models import Closure, Post, School, Shift, Template, Term
from plugins.crossing_guard.team import TEAM_KIND, require_planner

MAX_TERM_DAYS = 400


def _record(session: so.Session, who: Actor, action: str, row: Any, **details: Any) -> None:
    audit.record(session, actor=who.user, role=who.role, action=f"crossing_guard.{action}",
                 record=row, **details)


# Schools ----------------------------------------------------------------------------------------

def get_school(session: so.Session, station_id: int, school_id: int) -> School:
    school = session.scalar(sa.select(School).where(School.id == school_id,
                                                    School.station_id == station_id))
    if school is None:
        raise NotFound("school_not_found")
    return school


def _check_team(session: so.Session, station_id: int, group_id: int | None) -> None:
    if group_id is None:
        return
    kind = session.scalar(sa.select(Group.kind).where(Group.id == group_id,
                                                      Group.station_id == station_id))
    if kind is None:
        raise Invalid("group_not_found", field="team_group_id")
    if kind != TEAM_KIND:
        raise Invalid("team_not_crossing_team", field="team_group_id")


def create_school(session: so.Session, who: Actor, **fields: Any) -> School:
    require_planner(who)
    _check_team(session, who.station.id, fields.get("team_group_id"))
    school = School(station_id=who.station.id, **fields)
    session.add(school)
    flush_or_conflict(session, None, "school_name_taken", field="name", name=fields["name"])
    _record(session, who, "school_created", school)
    return school


def update_school(session: so.Session, who: Actor, school_id: int,
                  changes: dict[str, Any]) -> School:
    require_planner(who)
    school = get_school(session, who.station.id, school_id)
    if "team_group_id" in changes:
        _check_team(session, who.station.id, changes["team_group_id"])
    for key, value in changes.items():
        setattr(school, key, value)
    flush_or_conflict(session, None, "school_name_taken", field="name", name=changes.get("name"))
    _record(session, who, "school_updated", school, fields=sorted(changes))
    return school


def delete_school(session: so.Session, who: Actor, school_id: int) -> None:
    require_planner(who)
    school = get_school(session, who.station.id, school_id)
    has_posts = session.scalar(sa.select(Post.id).where(Post.school_id == school.id).limit(1))
    if has_posts is not None:
        raise Conflict("school_has_posts")
    session.execute(sa.delete(Term).where(Term.school_id == school.id))
    session.execute(sa.delete(Closure).where(Closure.school_id == school.id))
    _record(session, who, "school_deleted", school, name=school.name)
    session.delete(school)
    session.flush()


# Posts ------------------------------------------------------------------------------------------

def get_post(session: so.Session, station_id: int, post_id: int) -> Post:
    post = session.scalar(sa.select(Post).where(Post.id == post_id,
                                                Post.station_id == station_id))
    if post is None:
        raise NotFound("post_not_found")
    return post


def _check_guards(min_guards: int, max_guards: int) -> None:
    if min_guards > max_guards:
        raise Invalid("guards_out_of_order", field="min_guards", min_guards=min_guards,
                      max_guards=max_guards)


def create_post(session: so.Session, who: Actor, school_id: int, **fields: Any) -> Post:
    require_planner(who)
    school = get_school(session, who.station.id, school_id)
    _check_guards(fields["min_guards"], fields["max_guards"])
    post = Post(station_id=who.station.id, school_id=school.id, **fields)
    session.add(post)
    flush_or_conflict(session, None, "post_name_taken", field="name", name=fields["name"])
    _record(session, who, "post_created", post)
    return post


def update_post(session: so.Session, who: Actor, post_id: int,
                changes: dict[str, Any]) -> tuple[Post, dict[str, int]]:
    """Change a post; its future shifts follow (place, radius, maximum, or cancelled if off)."""
    require_planner(who)
    post = get_post(session, who.station.id, post_id)
    _check_guards(changes.get("min_guards", post.min_guards),
                  changes.get("max_guards", post.max_guards))
    reactivated = changes.get("active") is True and not post.active
    for key, value in changes.items():
        setattr(post, key, value)
    flush_or_conflict(session, None, "post_name_taken", field="name", name=changes.get("name"))
    school = get_school(session, who.station.id, post.school_id)
    effect = schedule.apply_post_change(session, who.station, post, school)
    if reactivated:
        templates = session.scalars(sa.select(Template.id).where(Template.post_id == post.id))
        effect["created"] = schedule.regenerate(session, who.station, school_id=school.id,
                                                template_ids=list(templates), by=who.user.id)
    _record(session, who, "post_updated", post, fields=sorted(changes), **effect)
    return post, effect


def delete_post(session: so.Session, who: Actor, post_id: int) -> None:
    require_planner(who)
    post = get_post(session, who.station.id, post_id)
    if session.scalar(sa.select(Shift.id).where(Shift.post_id == post.id).limit(1)) is not None:
        raise Conflict("post_has_shifts")
    session.execute(sa.delete(Template).where(Template.post_id == post.id))
    _record(session, who, "post_deleted", post, name=post.name)
    session.delete(post)
    session.flush()


# Calendar ---------------------------------------------------------------------------------------

def _check_dates(starts_on: dt.date, ends_on: dt.date, max_days: int | None = None) -> None:
    if ends_on < starts_on:
        raise Invalid("dates_out_of_order", field="ends_on")
    if max_days is not None and (ends_on - starts_on).days > max_days:
        raise Invalid("term_too_long", field="ends_on", max_days=max_days)


def get_term(session: so.Session, station_id: int, term_id: int) -> Term:
    term = session.scalar(sa.select(Term).where(Term.id == term_id,
                                                Term.station_id == station_id))
    if term is None:
        raise NotFound("term_not_found")
    return term


def create_term(session: so.Session, who: Actor, **fields: Any) -> Term:
    require_planner(who)
    if fields.get("school_id") is not None:
        get_school(session, who.station.id, fields["school_id"])
    _check_dates(fields["starts_on"], fields["ends_on"], MAX_TERM_DAYS)
    term = Term(station_id=who.station.id, **fields)
    session.add(term)
    session.flush()
    _record(session, who, "term_created", term)
    return term


def update_term(session: so.Session, who: Actor, term_id: int, changes: dict[str, Any]) -> Term:
    """Rename or move a term's dates. Shifts already made stay; generate again for new days."""
    require_planner(who)
    term = get_term(session, who.station.id, term_id)
    _check_dates(changes.get("starts_on", term.starts_on), changes.get("ends_on", term.ends_on),
                 MAX_TERM_DAYS)
    for key, value in changes.items():
        setattr(term, key, value)
    session.flush()
    _record(session, who, "term_updated", term, fields=sorted(changes))
    return term


def delete_term(session: so.Session, who: Actor, term_id: int) -> None:
    require_planner(who)
    term = get_term(session, who.station.id, term_id)
    session.execute(sa.update(Shift).where(Shift.term_id == term.id).values(term_id=None))
    _record(session, who, "term_deleted", term, name=term.name)
    session.delete(term)
    session.flush()


def current_term(session: so.Session, who: Actor, school_id: int | None) -> Term:
    """The term in progress, else the next one, for a school (or station-wide)."""
    terms = schedule.terms_ahead(session, who.station, school_id)
    if not terms:
        raise Invalid("no_term", field="term_id")
    return terms[0]


def create_closure(session: so.Session, who: Actor, **fields: Any) -> tuple[Closure, int]:
    """Add a closure; the live future shifts it covers are cancelled and their guards told."""
    require_planner(who)
    if fields.get("school_id") is not None:
        get_school(session, who.station.id, fields["school_id"])
    _check_dates(fields["starts_on"], fields["ends_on"], MAX_TERM_DAYS)
    closure = Closure(station_id=who.station.id, created_by=who.user.id, **fields)
    session.add(closure)
    session.flush()
    cancelled = schedule.apply_closure(session, who.station, closure)
    _record(session, who, "closure_created", closure, cancelled=cancelled)
    return closure, cancelled


def get_closure(session: so.Session, station_id: int, closure_id: int) -> Closure:
    closure = session.scalar(sa.select(Closure).where(Closure.id == closure_id,
                                                      Closure.station_id == station_id))
    if closure is None:
        raise NotFound("closure_not_found")
    return closure


def delete_closure(session: so.Session, who: Actor, closure_id: int) -> int:
    """Remove a closure; the days it closed get their shifts back. Returns shifts created."""
    require_planner(who)
    closure = get_closure(session, who.station.id, closure_id)
    school_id = closure.school_id
    _record(session, who, "closure_deleted", closure, starts_on=closure.starts_on.isoformat(),
            ends_on=closure.ends_on.isoformat())
    session.delete(closure)
    session.flush()
    return schedule.regenerate(session, who.station, school_id=school_id, by=who.user.id)


# Templates --------------------------------------------------------------------------------------

def get_template(session: so.Session, station_id: int, template_id: int) -> Template:
    template = session.scalar(sa.select(Template).where(Template.id == template_id,
                                                        Template.station_id == station_id))
    if template is None:
        raise NotFound("template_not_found")
    return template


def _check_times(starts: dt.time, ends: dt.time) -> None:
    if ends <= starts:
        raise Invalid("times_out_of_order", field="ends_time")


def create_template(session: so.Session, who: Actor, **fields: Any) -> Template:
    require_planner(who)
    get_post(session, who.station.id, fields["post_id"])
    _check_times(fields["starts_time"], fields["ends_time"])
    fields["weekdays"] = sorted(set(fields["weekdays"]))
    template = Template(station_id=who.station.id, **fields)
    session.add(template)
    flush_or_conflict(session, None, "template_name_taken", field="name", name=fields["name"])
    _record(session, who, "template_created", template)
    return template


def update_template(session: so.Session, who: Actor, template_id: int,
                    changes: dict[str, Any]) -> tuple[Template, dict[str, int]]:
    """Change a template; its future shifts move, go or come, and their guards are told."""
    require_planner(who)
    template = get_template(session, who.station.id, template_id)
    _check_times(changes.get("starts_time", template.starts_time),
                 changes.get("ends_time", template.ends_time))
    if "weekdays" in changes:
        changes["weekdays"] = sorted(set(changes["weekdays"]))
    for key, value in changes.items():
        setattr(template, key, value)
    template.updated_at = clock.now()
    flush_or_conflict(session, None, "template_name_taken", field="name", name=changes.get("name"))
    post = get_post(session, who.station.id, template.post_id)
    school = get_school(session, who.station.id, post.school_id)
    effect = schedule.apply_template_change(session, who.station, template, post, school,
                                            by=who.user.id)
    _record(session, who, "template_updated", template, fields=sorted(changes), **effect)
    return template, effect


def generate_term(session: so.Session, who: Actor, term_id: int) -> schedule.Generated:
    require_planner(who)
    term = get_term(session, who.station.id, term_id)
    result = schedule.generate(session, who.station, term, by=who.user.id)
    _record(session, who, "term_generated", term, created=result.created,
            existing=result.existing, closed=result.closed)
    return result
