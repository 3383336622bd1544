"""The calendar: school terms (their shifts generated from the templates) and closures."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm as so

from core.access import Actor
from core.errors import Invalid, NotFound
from plugins.crossing_guard import schedule
from plugins.crossing_guard.models import Closure, Shift, Term
from plugins.crossing_guard.schools import get_school
from plugins.crossing_guard.team import record_planning, require_planner

MAX_TERM_DAYS = 400


def _check_dates(starts_on: dt.date, ends_on: dt.date, max_days: int | None = None) -> None:
    if ends_on < starts_on:
        raise Invalid("dates_out_of_order", field="ends_on")
    if max_days is not None and (ends_on - starts_on).days > max_days:
        raise Invalid("term_too_long", field="ends_on", max_days=max_days)


def terms_query(who: Actor) -> sa.Select[Term]:
    """The station's terms, the earliest first (members)."""
    who.require_member()
    return sa.select(Term).where(Term.station_id == who.station.id).order_by(Term.starts_on,
                                                                            Term.id)


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
    record_planning(session, who, "term_created", term)
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
    record_planning(session, who, "term_updated", term, fields=sorted(changes))
    return term


def delete_term(session: so.Session, who: Actor, term_id: int) -> None:
    require_planner(who)
    term = get_term(session, who.station.id, term_id)
    session.execute(sa.update(Shift).where(Shift.term_id == term.id).values(term_id=None))
    record_planning(session, who, "term_deleted", term, name=term.name)
    session.delete(term)
    session.flush()


def current_term(session: so.Session, who: Actor, school_id: int | None) -> Term:
    """The term in progress, else the next one, for a school (or station-wide)."""
    terms = schedule.terms_ahead(session, who.station, school_id)
    if not terms:
        raise Invalid("no_term", field="term_id")
    return terms[0]


def generate_term(session: so.Session, who: Actor, term_id: int) -> schedule.Generated:
    """Make the term's shifts from the active templates (planners); running it again adds only
    what is missing."""
    require_planner(who)
    term = get_term(session, who.station.id, term_id)
    result = schedule.generate(session, who.station, term, by=who.user.id)
    record_planning(session, who, "term_generated", term, created=result.created,
                    existing=result.existing, closed=result.closed)
    return result


# Closures ---------------------------------------------------------------------------------------

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
    record_planning(session, who, "closure_created", closure, cancelled=cancelled)
    return closure, cancelled


def closures_query(who: Actor) -> sa.Select[Closure]:
    """The station's closures, the earliest first (members)."""
    who.require_member()
    return sa.select(Closure).where(Closure.station_id == who.station.id).order_by(
        Closure.starts_on, Closure.id)


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
    record_planning(session, who, "closure_deleted", closure,
                    starts_on=closure.starts_on.isoformat(), ends_on=closure.ends_on.isoformat())
    session.delete(closure)
    session.flush()
    return schedule.regenerate(session, who.station, school_id=school_id, by=who.user.id)
