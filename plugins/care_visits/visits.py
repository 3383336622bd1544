"""Visits: core tasks of the private kind ``care_visit`` and the verified record kept beside them."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Sequence
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy import orm as so

from core import audit, clock, local_time, notifications, targets
from core.access import Actor
from core.db import add_once
from core.errors import Conflict, Invalid, NotFound, PermissionDenied
from core.models import (
    Assignment,
    AssignmentStatus,
    Checkin,
    Group,
    GroupMember,
    Membership,
    Station,
    Task,
)
from core.models.tasks import CheckinKind, TaskStatus
from core.tasks import (
    create_task,
    finish_task,
    pay_completion,
    sign_up,
    update_task,
    withdraw,
)
from plugins.care_visits.access import (
    ACTIVE_ASSIGNMENT,
    CARE_TEAM,
    TASK_KIND,
    get_recipient,
    is_care_officer,
    require_care_officer,
)
from plugins.care_visits.consents import require_consent
from plugins.care_visits.models import (
    Campaign,
    FollowUp,
    FollowUpStatus,
    NamedVisitor,
    Recipient,
    Review,
    Scope,
    ServiceType,
    Signature,
    SupplyDelivery,
    Visit,
    VisitSource,
    VisitStatus,
)
from plugins.care_visits.recipients import check_members
from plugins.care_visits.settings import for_station

HOLDING = (AssignmentStatus.SIGNED_UP, AssignmentStatus.CHECKED_IN, AssignmentStatus.COMPLETED)
# A visitor reads the record of a visit they made this long after it ended (to finish it).
RECORD_WINDOW = dt.timedelta(hours=24)
# A visit still checked in this long after its window is closed with what was recorded.
STALE_AFTER = dt.timedelta(hours=12)


class Flag:
    """Why a visit was not silently accepted: an officer reviews it."""

    FAR_FROM_HOME = "far_from_home"  # reported outside the home's circle (let in by accuracy)
    MOCK_LOCATION = "mock_location"
    TOO_SHORT = "too_short"
    NO_CHECK_OUT = "no_check_out"


def task_title(campaign: Campaign | None) -> str:
    # A private kind's title holds no personal data: never the recipient's name or address.
    return f"Care visit · {campaign.name}" if campaign else "Care visit"


def local_year(station: Station, when: dt.datetime) -> int:
    return when.astimezone(zoneinfo.ZoneInfo(station.timezone)).year


# Creating visits ------------------------------------------------------------------------------

def create_visit(session: so.Session, station: Station, recipient: Recipient, *,
                 source: VisitSource, starts_at: dt.datetime, ends_at: dt.datetime,
                 service_type: ServiceType = ServiceType.HOME_VISIT,
                 campaign: Campaign | None = None, created_by: int | None = None,
                 visitor_ids: Sequence[int] | None = None) -> Visit:
    """Create one visit: its core task (private kind, fenced at home) and its assignees.

    Without ``visitor_ids`` the visit goes to the recipient's named visitors, then to the
    members of its care team with the fewest open visits.
    """
    require_consent(recipient, Scope.VISITS)
    if recipient.lat is None or recipient.lon is None:
        raise Invalid("recipient_position_missing", recipient_id=recipient.id)
    settings = for_station(session, station.id)
    capacity = max(settings.visitors_per_visit, len(visitor_ids or ()))
    task = create_task(
        session, station.id, kind=TASK_KIND, title=task_title(campaign), starts_at=starts_at,
        ends_at=ends_at, lat=recipient.lat, lon=recipient.lon,
        radius_m=settings.geofence_radius_m, capacity=capacity, visibility="private",
        created_by=created_by)
    due_at = starts_at + (ends_at - starts_at) / 2
    visit = Visit(station_id=station.id, task_id=task.id, recipient_id=recipient.id,
                  campaign_id=campaign.id if campaign else None, source=source,
                  service_type=service_type, status=VisitStatus.PLANNED,
                  year=local_year(station, due_at), starts_at=starts_at, ends_at=ends_at,
                  due_at=due_at, care_group_id=recipient.care_group_id, visitor_ids=[], flags=[])
    session.add(visit)
    session.flush()
    chosen = list(visitor_ids) if visitor_ids is not None else choose_visitors(
        session, recipient, capacity)
    for user_id in chosen:
        sign_up(session, task, user_id, by=created_by, tell=False)
        tell_visitor(session, station, visit, recipient, user_id, by=created_by)
    return visit


def visit_target(visit: Visit) -> dict[str, Any]:
    """What the app opens for a notification about ``visit`` (the shape of today.py's cards)."""
    return targets.target("care_visits.visit", visit_id=visit.id, task_id=visit.task_id)


def tell_visitor(session: so.Session, station: Station, visit: Visit, recipient: Recipient,
                 user_id: int, *, by: int | None = None) -> None:
    """Tell a visitor whom they visit, where and when (station time).

    The task's title names nobody (a private kind); the visitor may read the recipient's name
    and home, so the notice names them. Erasing the recipient scrubs them from it
    (privacy.scrub_copies).
    """
    notifications.notify(
        session, user_id, "care_visits.visit_planned", station_id=station.id,
        target=visit_target(visit), visit_id=visit.id,
        task_id=visit.task_id, recipient_id=recipient.id, recipient=recipient.name,
        place=recipient.address or "-", starts_at=visit.starts_at, ends_at=visit.ends_at,
        until=local_time.until(visit.starts_at, visit.ends_at, station.timezone),
        **notifications.named(session, "by", by))


def create_manual_visit(session: so.Session, who: Actor, data: dict[str, Any]) -> Visit:
    """A visit outside the yearly plan (care officers): window, service type, visitors."""
    recipient, _ = get_recipient(session, who, data["recipient_id"], officer=True)
    if data["ends_at"] <= data["starts_at"]:
        raise Invalid("task_window_invalid", field="ends_at")
    if data["ends_at"] <= clock.now():
        raise Invalid("visit_window_past", field="ends_at")
    visitor_ids = data.get("visitor_ids")
    if visitor_ids is not None:
        visitor_ids = list(dict.fromkeys(visitor_ids))
        check_members(session, who.station.id, visitor_ids, field="visitor_ids")
    visit = create_visit(session, who.station, recipient, source=VisitSource.MANUAL,
                         starts_at=data["starts_at"], ends_at=data["ends_at"],
                         service_type=ServiceType(data["service_type"]),
                         created_by=who.user.id, visitor_ids=visitor_ids)
    audit.record(session, actor=who.user, role=who.role, action="care_visits.visit_created",
                 record=visit, recipient_id=recipient.id)
    return visit


def choose_visitors(session: so.Session, recipient: Recipient, count: int) -> list[int]:
    """Named visitors first, then care-team members with the fewest open visits (then by id)."""
    station_id = recipient.station_id
    named = list(session.scalars(
        sa.select(NamedVisitor.user_id).where(NamedVisitor.station_id == station_id,
                                              NamedVisitor.recipient_id == recipient.id)
        .order_by(NamedVisitor.id)))
    team: list[int] = []
    if recipient.care_group_id is not None:
        load = (sa.select(sa.func.count(Assignment.id))
                .join(Task, Task.id == Assignment.task_id)
                .where(Assignment.station_id == station_id,
                       Assignment.user_id == GroupMember.user_id,
                       Assignment.status.in_((AssignmentStatus.SIGNED_UP,
                                              AssignmentStatus.CHECKED_IN)),
                       Task.kind == TASK_KIND, Task.status == TaskStatus.OPEN)
                .scalar_subquery())
        team = list(session.scalars(
            sa.select(GroupMember.user_id).where(GroupMember.station_id == station_id,
                                                 GroupMember.group_id == recipient.care_group_id)
            .order_by(load, GroupMember.user_id)))
    chosen: list[int] = []
    for user_id in named + team:
        if user_id not in chosen:
            chosen.append(user_id)
    return chosen[:count]


# Who sees a visit -----------------------------------------------------------------------------

def visible_visits(session: so.Session, who: Actor) -> sa.Select[Visit]:
    """Care officers see every visit; a visitor the visits they hold (signed up or checked
    in), and one they made until :data:`RECORD_WINDOW` after it ended, to finish its record.

    A visit record carries health observations: a past visitor does not keep reading them.
    """
    who.require_member()
    query = sa.select(Visit).where(Visit.station_id == who.station.id)
    if not is_care_officer(session, who):
        mine = sa.select(Assignment.task_id).where(
            Assignment.station_id == who.station.id, Assignment.user_id == who.user.id)
        holding = mine.where(Assignment.status.in_(ACTIVE_ASSIGNMENT))
        made = mine.where(Assignment.status == AssignmentStatus.COMPLETED)
        ended = sa.func.coalesce(Visit.ended_at, Visit.ends_at)
        query = query.where(sa.or_(
            Visit.task_id.in_(holding),
            sa.and_(Visit.task_id.in_(made), ended > clock.now() - RECORD_WINDOW)))
    return query


def record_reads(session: so.Session, who: Actor, shown: Sequence[Visit]) -> None:
    """Every visit record read writes one audit event (it holds health observations)."""
    for visit in shown:
        audit.record(session, actor=who.user, role=who.role, action="care_visits.visit_read",
                     record=visit, recipient_id=visit.recipient_id)


def get_visit(session: so.Session, who: Actor, visit_id: int) -> Visit:
    visit = session.scalar(visible_visits(session, who).where(Visit.id == visit_id))
    if visit is None:
        raise NotFound("visit_not_found")
    return visit


def recording_visit(session: so.Session, who: Actor, visit_id: int) -> tuple[Visit, Recipient]:
    """A visit its visitors (checked in or done) or a care officer may record on."""
    visit = get_visit(session, who, visit_id)
    if not is_care_officer(session, who):
        status = session.scalar(sa.select(Assignment.status).where(
            Assignment.task_id == visit.task_id, Assignment.user_id == who.user.id))
        if status not in (AssignmentStatus.CHECKED_IN, AssignmentStatus.COMPLETED):
            raise PermissionDenied("not_checked_in_here")
    recipient = session.get(Recipient, visit.recipient_id)
    assert recipient is not None
    require_consent(recipient, Scope.VISITS)
    if visit.status not in (VisitStatus.IN_PROGRESS, VisitStatus.DONE):
        raise Conflict("visit_not_started", status=str(visit.status))
    return visit, recipient


# Check-in and check-out (told by the core) ----------------------------------------------------

def visit_of_task(session: so.Session, task: Task) -> Visit | None:
    if task.kind != TASK_KIND:
        return None
    return session.scalar(sa.select(Visit).where(Visit.station_id == task.station_id,
                                                 Visit.task_id == task.id))


def _last_checkin(session: so.Session, assignment: Assignment, kind: CheckinKind) -> Checkin | None:
    return session.scalar(sa.select(Checkin).where(
        Checkin.assignment_id == assignment.id, Checkin.kind == kind)
        .order_by(Checkin.id.desc()).limit(1))


def _flag_position(visit: Visit, task: Task, checkin: Checkin | None) -> None:
    if checkin is None:
        return
    flags = set(visit.flags)
    if checkin.is_mock:
        flags.add(Flag.MOCK_LOCATION)
    if checkin.distance_m is not None and checkin.distance_m > task.radius_m:
        flags.add(Flag.FAR_FROM_HOME)
    visit.flags = sorted(flags)


def on_assignment_changed(session: so.Session, task: Task, assignment: Assignment,
                          previous: str | None) -> None:
    """A visitor checked in: the visit begins, its place and time are recorded."""
    if assignment.status != AssignmentStatus.CHECKED_IN:
        return
    visit = visit_of_task(session, task)
    if visit is None:
        return
    recipient = session.get(Recipient, visit.recipient_id)
    assert recipient is not None
    # Refusing here rolls the check-in back: a withdrawn consent stops further visits.
    require_consent(recipient, Scope.VISITS)
    checkin = _last_checkin(session, assignment, CheckinKind.IN)
    began = assignment.checked_in_at or clock.now()
    if visit.began_at is None or began < visit.began_at:
        visit.began_at = began
    if visit.lat is None and checkin is not None:
        visit.lat, visit.lon, visit.distance_m = checkin.lat, checkin.lon, checkin.distance_m
    _flag_position(visit, task, checkin)
    if visit.status == VisitStatus.PLANNED:
        visit.status = VisitStatus.IN_PROGRESS
    visit.updated_at = clock.now()
    session.flush()


def on_task_completed(session: so.Session, task: Task, assignment: Assignment) -> None:
    """A visitor checked out; the last one out closes the visit."""
    visit = visit_of_task(session, task)
    if visit is None:
        return
    ended = assignment.checked_out_at or clock.now()
    if visit.ended_at is None or ended > visit.ended_at:
        visit.ended_at = ended
    if assignment.user_id not in visit.visitor_ids:
        visit.visitor_ids = sorted([*visit.visitor_ids, assignment.user_id])
    _flag_position(visit, task, _last_checkin(session, assignment, CheckinKind.OUT))
    still_in = session.scalar(sa.select(sa.func.count()).select_from(Assignment).where(
        Assignment.task_id == task.id, Assignment.status == AssignmentStatus.CHECKED_IN))
    if not still_in:
        close_visit(session, visit, task)
    session.flush()


def close_visit(session: so.Session, visit: Visit, task: Task) -> None:
    """The visit is done: flags decide whether it needs review before it counts and pays."""
    settings = for_station(session, visit.station_id)
    flags = set(visit.flags)
    minimum = dt.timedelta(minutes=settings.min_visit_minutes)
    if visit.began_at and visit.ended_at and visit.ended_at - visit.began_at < minimum:
        flags.add(Flag.TOO_SHORT)
    visit.flags = sorted(flags)
    visit.status = VisitStatus.DONE
    visit.review = Review.PENDING if flags else Review.NOT_NEEDED
    visit.updated_at = clock.now()
    if task.status == TaskStatus.OPEN:
        finish_task(session, task)
    if visit.review == Review.NOT_NEEDED:
        award_points(session, visit)


def award_points(session: so.Session, visit: Visit) -> None:
    """An accepted visit pays its kind's event to each volunteer who made it, once (officers
    are on duty); the core books it on their completed assignments."""
    if not visit.visitor_ids:
        return
    roles = session.execute(sa.select(Membership.user_id, Membership.roles).where(
        Membership.station_id == visit.station_id, Membership.user_id.in_(visit.visitor_ids)))
    volunteers = sorted(uid for uid, held in roles if uid is not None and "volunteer" in held)
    task = session.get(Task, visit.task_id)
    assert task is not None
    for assignment in session.scalars(sa.select(Assignment).where(
            Assignment.task_id == task.id, Assignment.user_id.in_(volunteers))
            .order_by(Assignment.id)):
        pay_completion(session, task, assignment)


def close_stale(session: so.Session, station: Station, now: dt.datetime) -> int:
    """Visits left checked in long after their window are closed with what was recorded."""
    rows = session.execute(
        sa.select(Visit, Task).join(Task, Task.id == Visit.task_id)
        .where(Visit.station_id == station.id, Visit.status == VisitStatus.IN_PROGRESS,
               Visit.ends_at < now - STALE_AFTER)).all()
    for visit, task in rows:
        visit.flags = sorted({*visit.flags, Flag.NO_CHECK_OUT})
        done = session.scalars(sa.select(Assignment.user_id).where(
            Assignment.task_id == task.id, Assignment.status == AssignmentStatus.COMPLETED))
        visit.visitor_ids = sorted(set(visit.visitor_ids) | set(done))
        close_visit(session, visit, task)
    return len(rows)


def mark_missed(session: so.Session, station: Station, now: dt.datetime) -> int:
    """Planned visits whose window ended without a check-in are missed."""
    return cast(sa.CursorResult[Any], session.execute(
        sa.update(Visit).where(Visit.station_id == station.id,
                               Visit.status == VisitStatus.PLANNED, Visit.ends_at <= now)
        .values(status=VisitStatus.MISSED, updated_at=now)
        .execution_options(synchronize_session=False))).rowcount


# Recording a visit ----------------------------------------------------------------------------

def record_supplies(session: so.Session, who: Actor, visit_id: int,
                    items: Sequence[dict[str, Any]]) -> tuple[Visit, list[str]]:
    """Supplies handed over (item, quantity, unit); a re-sent ``client_id`` is a duplicate.

    :return: the visit and the client ids that were duplicates.
    """
    visit, _ = recording_visit(session, who, visit_id)
    duplicates = []
    for item in items:
        row = SupplyDelivery(station_id=visit.station_id, visit_id=visit.id,
                             campaign_id=visit.campaign_id, item=item["item"].strip(),
                             quantity=item["quantity"], unit=item.get("unit", ""),
                             client_id=item.get("client_id"), recorded_by=who.user.id,
                             recorded_at=clock.now())
        if not add_once(session, row):
            duplicates.append(item["client_id"])
    audit.record(session, actor=who.user, role=who.role, action="care_visits.supplies_recorded",
                 record=visit, items=len(items) - len(duplicates))
    return visit, duplicates


def add_follow_ups(session: so.Session, who: Actor, visit_id: int,
                   needs: Sequence[dict[str, Any]]) -> tuple[Visit, list[str]]:
    """Needs found on the visit; each becomes an open item a care officer must close."""
    visit, _ = recording_visit(session, who, visit_id)
    duplicates = []
    for need in needs:
        row = FollowUp(station_id=visit.station_id, visit_id=visit.id,
                       recipient_id=visit.recipient_id, need=need["need"],
                       category=need.get("category", "other"), client_id=need.get("client_id"),
                       opened_by=who.user.id, opened_at=clock.now())
        if not add_once(session, row):
            duplicates.append(need["client_id"])
    audit.record(session, actor=who.user, role=who.role, action="care_visits.follow_ups_added",
                 record=visit, items=len(needs) - len(duplicates))
    return visit, duplicates


def update_observations(session: so.Session, who: Actor, visit_id: int, text: str) -> Visit:
    visit, _ = recording_visit(session, who, visit_id)
    visit.observations = text
    visit.updated_at = clock.now()
    audit.record(session, actor=who.user, role=who.role, action="care_visits.visit_updated",
                 record=visit, fields=["observations"])
    return visit


def review_visit(session: so.Session, who: Actor, visit_id: int, accept: bool,
                 note: str) -> Visit:
    """A care officer decides whether a flagged visit counts (and pays); a rejection says why."""
    require_care_officer(session, who)
    visit = get_visit(session, who, visit_id)
    if visit.review != Review.PENDING:
        raise Conflict("visit_not_under_review", review=str(visit.review))
    if not accept and not note.strip():
        # The visitor is not paid for it: the record says why.
        raise Invalid("review_reason_required", field="note")
    visit.review = Review.ACCEPTED if accept else Review.REJECTED
    visit.reviewed_by = who.user.id
    visit.review_note = note
    visit.updated_at = clock.now()
    if accept:
        award_points(session, visit)
    audit.record(session, actor=who.user, role=who.role, action="care_visits.visit_reviewed",
                 record=visit, decision=str(visit.review), flags=list(visit.flags))
    return visit


def close_follow_up(session: so.Session, who: Actor, follow_up_id: int,
                    resolution: str) -> FollowUp:
    require_care_officer(session, who)
    item = session.scalar(sa.select(FollowUp).where(FollowUp.id == follow_up_id,
                                                    FollowUp.station_id == who.station.id))
    if item is None:
        raise NotFound("follow_up_not_found")
    if item.status == FollowUpStatus.CLOSED:
        raise Conflict("follow_up_closed")
    item.status = FollowUpStatus.CLOSED
    item.closed_by = who.user.id
    item.closed_at = clock.now()
    item.resolution = resolution
    audit.record(session, actor=who.user, role=who.role, action="care_visits.follow_up_closed",
                 record=item)
    return item


def officers_for(session: so.Session, station_id: int, care_group_id: int | None) -> list[int]:
    """The care officers to tell about a recipient: its team's, else every care team's."""
    def officers(group_filter: Any) -> list[int]:
        rows = session.execute(
            sa.select(GroupMember.user_id, Membership.roles)
            .join(Group, Group.id == GroupMember.group_id)
            .join(Membership, sa.and_(Membership.station_id == GroupMember.station_id,
                                      Membership.user_id == GroupMember.user_id))
            .where(GroupMember.station_id == station_id, Group.kind == CARE_TEAM, group_filter)
            .order_by(GroupMember.user_id)).all()
        return sorted({uid for uid, roles in rows if {"officer", "admin"} & set(roles)})

    found = officers(GroupMember.group_id == care_group_id) if care_group_id else []
    return found or officers(sa.true())


# Presenting a visit ---------------------------------------------------------------------------

def present(session: so.Session, visits: Sequence[Visit], station: Station) -> list[dict[str, Any]]:
    """The visit record with its supplies and follow-ups (loaded in one query each)."""
    ids = [v.id for v in visits]
    supplies: dict[int, list[SupplyDelivery]] = {i: [] for i in ids}
    follow_ups: dict[int, list[FollowUp]] = {i: [] for i in ids}
    signed: set[int] = set()
    assignees: dict[int, list[dict[str, Any]]] = {v.task_id: [] for v in visits}
    if ids:
        for a in session.scalars(sa.select(Assignment).where(
                Assignment.station_id == station.id,
                Assignment.task_id.in_(list(assignees)),
                Assignment.status != AssignmentStatus.WITHDRAWN).order_by(Assignment.id)):
            assignees[a.task_id].append({"user_id": a.user_id, "status": str(a.status)})
        for s in session.scalars(sa.select(SupplyDelivery).where(
                SupplyDelivery.station_id == station.id, SupplyDelivery.visit_id.in_(ids))
                .order_by(SupplyDelivery.id)):
            supplies[s.visit_id].append(s)
        for f in session.scalars(sa.select(FollowUp).where(
                FollowUp.station_id == station.id, FollowUp.visit_id.in_(ids))
                .order_by(FollowUp.id)):
            follow_ups[f.visit_id].append(f)
        signed = set(session.scalars(sa.select(Signature.visit_id).where(
            Signature.station_id == station.id, Signature.visit_id.in_(ids))))
    tz = zoneinfo.ZoneInfo(station.timezone)
    return [{
        "id": v.id, "task_id": v.task_id, "recipient_id": v.recipient_id,
        "campaign_id": v.campaign_id, "source": str(v.source),
        "service_type": str(v.service_type), "status": str(v.status), "year": v.year,
        "starts_at": v.starts_at, "ends_at": v.ends_at, "due_at": v.due_at,
        "date": v.began_at.astimezone(tz).date().isoformat() if v.began_at else None,
        "began_at": v.began_at, "ended_at": v.ended_at,
        "location": {"lat": v.lat, "lon": v.lon, "distance_m": v.distance_m},
        "assignees": assignees[v.task_id], "visitor_ids": list(v.visitor_ids),
        "flags": list(v.flags), "review": str(v.review),
        "observations": v.observations,
        "supplies": [{"id": s.id, "item": s.item, "quantity": s.quantity, "unit": s.unit,
                      "client_id": s.client_id, "recorded_by": s.recorded_by,
                      "recorded_at": s.recorded_at} for s in supplies[v.id]],
        "follow_ups": [follow_up_dict(f) for f in follow_ups[v.id]],
        "acknowledgement": {"method": v.ack_method, "sent_to": v.ack_sent_to,
                            "sent_at": v.ack_sent_at, "acknowledged_at": v.acknowledged_at,
                            "signature": v.id in signed},
    } for v in visits]


def follow_up_dict(f: FollowUp) -> dict[str, Any]:
    return {"id": f.id, "visit_id": f.visit_id, "recipient_id": f.recipient_id,
            "need": f.need, "category": f.category, "status": str(f.status),
            "client_id": f.client_id, "opened_by": f.opened_by, "opened_at": f.opened_at,
            "closed_by": f.closed_by, "closed_at": f.closed_at, "resolution": f.resolution}


def add_visitor(session: so.Session, who: Actor, visit_id: int, user_id: int) -> Visit:
    """Put a station member on a visit (care officers); a full visit gets one more place."""
    require_care_officer(session, who)
    visit = get_visit(session, who, visit_id)
    if visit.status not in (VisitStatus.PLANNED, VisitStatus.IN_PROGRESS):
        raise Conflict("visit_closed", status=str(visit.status))
    if session.scalar(sa.select(Membership.id).where(
            Membership.station_id == who.station.id, Membership.user_id == user_id)) is None:
        raise Invalid("not_a_member", field="user_id")
    task = session.get(Task, visit.task_id)
    assert task is not None
    if task.filled >= task.capacity:
        update_task(session, task, {"capacity": task.capacity + 1})
    sign_up(session, task, user_id, by=who.user.id, tell=False)
    recipient = session.get(Recipient, visit.recipient_id)
    assert recipient is not None
    tell_visitor(session, who.station, visit, recipient, user_id, by=who.user.id)
    audit.record(session, actor=who.user, role=who.role, action="care_visits.visitor_added",
                 record=visit, user_id=user_id)
    return visit


def remove_visitor(session: so.Session, who: Actor, visit_id: int, user_id: int) -> Visit:
    """Take someone off a visit not yet begun by them (care officers)."""
    require_care_officer(session, who)
    visit = get_visit(session, who, visit_id)
    task = session.get(Task, visit.task_id)
    assert task is not None
    withdraw(session, task, user_id)
    audit.record(session, actor=who.user, role=who.role, action="care_visits.visitor_removed",
                 record=visit, user_id=user_id)
    return visit
