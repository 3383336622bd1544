"""Schools and their posts: where the guards stand, how many, and the team that guards them."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm as so

from core.access import Actor
from core.db import flush_or_conflict
from core.errors import Conflict, Invalid, NotFound
from core.models import Group
from plugins.crossing_guard import schedule
from plugins.crossing_guard.models import Closure, Post, School, Shift, Template, Term
from plugins.crossing_guard.team import TEAM_KIND, record_planning, require_planner


def schools_query(who: Actor) -> sa.Select[School]:
    """The station's schools by name (members)."""
    who.require_member()
    return sa.select(School).where(School.station_id == who.station.id).order_by(School.name,
                                                                                  School.id)


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
    record_planning(session, who, "school_created", school)
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
    record_planning(session, who, "school_updated", school, fields=sorted(changes))
    return school


def delete_school(session: so.Session, who: Actor, school_id: int) -> None:
    require_planner(who)
    school = get_school(session, who.station.id, school_id)
    has_posts = session.scalar(sa.select(Post.id).where(Post.school_id == school.id).limit(1))
    if has_posts is not None:
        raise Conflict("school_has_posts")
    session.execute(sa.delete(Term).where(Term.school_id == school.id))
    session.execute(sa.delete(Closure).where(Closure.school_id == school.id))
    record_planning(session, who, "school_deleted", school, name=school.name)
    session.delete(school)
    session.flush()


# Posts ------------------------------------------------------------------------------------------

def posts_query(who: Actor, school_id: int | None = None) -> sa.Select[Post]:
    """The station's posts (of one school), by name (members)."""
    who.require_member()
    query = sa.select(Post).where(Post.station_id == who.station.id)
    if school_id is not None:
        query = query.where(Post.school_id == school_id)
    return query.order_by(Post.name, Post.id)


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
    record_planning(session, who, "post_created", post)
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
    record_planning(session, who, "post_updated", post, fields=sorted(changes), **effect)
    return post, effect


def delete_post(session: so.Session, who: Actor, post_id: int) -> None:
    require_planner(who)
    post = get_post(session, who.station.id, post_id)
    if session.scalar(sa.select(Shift.id).where(Shift.post_id == post.id).limit(1)) is not None:
        raise Conflict("post_has_shifts")
    session.execute(sa.delete(Template).where(Template.post_id == post.id))
    record_planning(session, who, "post_deleted", post, name=post.name)
    session.delete(post)
    session.flush()
