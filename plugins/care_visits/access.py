"""Who sees what of a recipient: care officers everything, visitors what a visit needs, others nothing."""

from __future__ import annotations

import enum
from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm as so

from core import audit
from core.access import Actor
from core.errors import NotFound, PermissionDenied
from core.models import Assignment, AssignmentStatus, Group, GroupMember
from core.stations import in_group_of_kind
from plugins.care_visits.models import (
    ConsentState,
    NamedVisitor,
    Recipient,
    Scope,
    Visit,
    VisitStatus,
)

CARE_TEAM = "care_team"
TASK_KIND = "care_visit"

# What a visit needs, and all a visitor is ever shown.
VISITOR_FIELDS = ("id", "name", "phone", "address", "needs")
OFFICER_FIELDS = (
    "id", "name", "phone", "address", "lat", "lon", "categories", "needs", "emergency_contact",
    "visits_per_year", "required_visits", "care_group_id", "named_visitor_ids", "consent",
    "user_id", "created_at", "updated_at", "erased",
)
SENSITIVE_FIELDS = ("disability_type", "disability_grade", "health_notes", "id_number")

# An assignment that makes a person a visitor of the recipient of an open visit.
ACTIVE_ASSIGNMENT = (AssignmentStatus.SIGNED_UP, AssignmentStatus.CHECKED_IN)
OPEN_VISIT = (VisitStatus.PLANNED, VisitStatus.IN_PROGRESS)


class View(enum.StrEnum):
    OFFICER = "officer"
    VISITOR = "visitor"


def is_care_officer(session: so.Session, who: Actor) -> bool:
    """Care duties: an officer or admin of the station who is in a ``care_team`` group."""
    if who.membership is None or not who.membership.has_any("officer", "admin"):
        return False
    cache = session.info.setdefault("care_officers", {})
    key = (who.station.id, who.user.id)
    if key not in cache:
        cache[key] = in_group_of_kind(session, who.station.id, who.user.id, CARE_TEAM)
    return bool(cache[key])


def require_care_officer(session: so.Session, who: Actor) -> None:
    """404 for a stranger to the station, 403 ``care_duty_required`` for a member without it."""
    who.require_member()
    if not is_care_officer(session, who):
        raise PermissionDenied("care_duty_required")


def visitor_clause(who: Actor) -> Any:
    """Recipients ``who`` visits: their care team's, named for them, or on a visit they hold.

    Only while the recipient's consent to visits stands: a withdrawal stops further visits.
    """
    station_id, user_id = who.station.id, who.user.id
    teams = (sa.select(GroupMember.group_id).join(Group, Group.id == GroupMember.group_id)
             .where(GroupMember.station_id == station_id, GroupMember.user_id == user_id,
                    Group.kind == CARE_TEAM))
    named = sa.select(NamedVisitor.recipient_id).where(NamedVisitor.station_id == station_id,
                                                       NamedVisitor.user_id == user_id)
    assigned = (sa.select(Visit.recipient_id)
                .join(Assignment, Assignment.task_id == Visit.task_id)
                .where(Visit.station_id == station_id, Visit.status.in_(OPEN_VISIT),
                       Assignment.user_id == user_id,
                       Assignment.status.in_(ACTIVE_ASSIGNMENT)))
    return sa.and_(
        Recipient.erased_at.is_(None),
        Recipient.consent_state == ConsentState.GIVEN,
        # Scope lists are short JSON arrays: a text match works on both databases.
        sa.cast(Recipient.consent_scope, sa.String).like(f'%"{Scope.VISITS.value}"%'),
        sa.or_(Recipient.care_group_id.in_(teams), Recipient.id.in_(named),
               Recipient.id.in_(assigned)),
    )


def visible_recipients(session: so.Session, who: Actor) -> tuple[View, sa.Select[Any]]:
    """The recipients ``who`` may see, with the view they get; ordered by id.

    A stranger to the station gets 404 ``station_not_found``; a member without care duties
    sees, as a visitor, only the recipients they visit (often none).
    """
    who.require_member()
    query = (sa.select(Recipient).where(Recipient.station_id == who.station.id)
             .order_by(Recipient.id))
    if is_care_officer(session, who):
        return View.OFFICER, query
    return View.VISITOR, query.where(visitor_clause(who))


def get_recipient(session: so.Session, who: Actor, recipient_id: int,
                  *, officer: bool = False) -> tuple[Recipient, View]:
    """The recipient if ``who`` may see it (404 ``recipient_not_found`` otherwise).

    :param officer: the action needs care duties: a visitor gets 403 ``care_duty_required``.
    """
    view, query = visible_recipients(session, who)
    recipient = session.scalar(query.where(Recipient.id == recipient_id))
    if recipient is None:
        raise NotFound("recipient_not_found")
    if officer and view != View.OFFICER:
        raise PermissionDenied("care_duty_required")
    return recipient, view


def fields_for(view: View, *, sensitive: bool = False) -> tuple[str, ...]:
    if view == View.OFFICER:
        return OFFICER_FIELDS + (SENSITIVE_FIELDS if sensitive else ())
    return VISITOR_FIELDS


def record_read(session: so.Session, who: Actor, recipient: Recipient, fields: tuple[str, ...],
                action: str = "care_visits.recipient_read", **details: Any) -> None:
    """Every read of a recipient record writes one audit event naming the fields read."""
    audit.record(session, actor=who.user, role=who.role, action=action, record=recipient,
                 fields=list(fields), **details)
