"""Shift templates: a post's weekly times, from which each term's shifts are generated."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm as so

from core import clock
from core.access import Actor
from core.db import flush_or_conflict
from core.errors import Invalid, NotFound
from plugins.crossing_guard import schedule
from plugins.crossing_guard.models import Template
from plugins.crossing_guard.schools import get_post, get_school
from plugins.crossing_guard.team import record_planning, require_planner


def templates_query(who: Actor) -> sa.Select[Template]:
    """The station's shift templates by post and start time (members)."""
    who.require_member()
    return sa.select(Template).where(Template.station_id == who.station.id).order_by(
        Template.post_id, Template.starts_time, Template.id)


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
    record_planning(session, who, "template_created", template)
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
    record_planning(session, who, "template_updated", template, fields=sorted(changes),
                    **effect)
    return template, effect
