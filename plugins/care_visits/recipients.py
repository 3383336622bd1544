"""Recipients: their record, named visitors, sensitive details kept apart, and every read audited."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm as so

from core import audit, clock, phones
from core.access import Actor
from core.errors import Conflict, Invalid
from core.models import Group, Membership, Task, TaskStatus
from core.tasks import update_task
from plugins.care_visits import policy
from plugins.care_visits.access import (
    CARE_TEAM,
    SENSITIVE_FIELDS,
    View,
    fields_for,
    get_recipient,
    record_read,
    require_care_officer,
    visible_recipients,
)
from plugins.care_visits.consents import (
    consent_dict,
    current_consents,
    record_consent,
    require_consent,
)
from plugins.care_visits.models import (
    Category,
    NamedVisitor,
    Recipient,
    Scope,
    SensitiveDetails,
    Visit,
    VisitStatus,
)
from plugins.care_visits.settings import for_station

CATEGORIES = {c.value for c in Category}


def _check_group(session: so.Session, station_id: int, group_id: int | None) -> None:
    if group_id is None:
        return
    kind = session.scalar(sa.select(Group.kind).where(Group.id == group_id,
                                                      Group.station_id == station_id))
    if kind != CARE_TEAM:
        raise Invalid("care_group_invalid", field="care_group_id", group_id=group_id)


def check_members(session: so.Session, station_id: int, user_ids: Sequence[int],
                  field: str = "named_visitor_ids") -> None:
    """422 ``not_a_member`` unless every one of ``user_ids`` is a member of the station."""
    found = set(session.scalars(sa.select(Membership.user_id).where(
        Membership.station_id == station_id, Membership.user_id.in_(user_ids))))
    for user_id in user_ids:
        if user_id not in found:
            raise Invalid("not_a_member", field=field, user_id=user_id)


def _categories(values: Sequence[str]) -> list[str]:
    for value in values:
        if value not in CATEGORIES:
            raise Invalid("validation_error", field="categories", category=value)
    if not values:
        raise Invalid("validation_error", field="categories")
    return sorted(set(values), key=[c.value for c in Category].index)


def _apply(recipient: Recipient, data: dict[str, Any]) -> list[str]:
    """Copy the record's fields from ``data``; return the names of those changed."""
    changed = []
    for key, value in data.items():
        if key == "phone" and value:
            value = phones.normalize(value)
        if key == "categories":
            value = _categories(value)
        if key == "emergency_contact":
            for sub in ("name", "phone", "relation"):
                if sub in value:
                    sub_value = value[sub]
                    if sub == "phone" and sub_value:
                        sub_value = phones.normalize(sub_value)
                    setattr(recipient, f"emergency_{sub}", sub_value or
                            (None if sub == "phone" else ""))
            changed.append(key)
            continue
        if getattr(recipient, key) != value:
            setattr(recipient, key, value)
            changed.append(key)
    return changed


def create_recipient(session: so.Session, who: Actor, data: dict[str, Any]) -> Recipient:
    """Add a recipient (care officers); the consent may come with it or later."""
    require_care_officer(session, who)
    data = dict(data)
    consent = data.pop("consent", None)
    named = data.pop("named_visitor_ids", [])
    _check_group(session, who.station.id, data.get("care_group_id"))
    if data.get("user_id") is not None:
        check_members(session, who.station.id, [data["user_id"]], field="user_id")
    recipient = Recipient(station_id=who.station.id, created_by=who.user.id,
                          categories=[], consent_scope=[])
    fields = _apply(recipient, data)
    session.add(recipient)
    session.flush()
    audit.record(session, actor=who.user, role=who.role, action="care_visits.recipient_created",
                 record=recipient, fields=sorted(fields))
    if named:
        set_named_visitors(session, who, recipient, named)
    if consent:
        record_consent(session, who, recipient, **consent)
    return recipient


def update_recipient(session: so.Session, who: Actor, recipient_id: int,
                     changes: dict[str, Any]) -> Recipient:
    recipient, _ = get_recipient(session, who, recipient_id, officer=True)
    if recipient.erased_at is not None:
        raise Conflict("recipient_erased")
    changes = dict(changes)
    named = changes.pop("named_visitor_ids", None)
    _check_group(session, who.station.id, changes.get("care_group_id"))
    if changes.get("user_id") is not None:
        check_members(session, who.station.id, [changes["user_id"]], field="user_id")
    fields = _apply(recipient, changes)
    if named is not None:
        set_named_visitors(session, who, recipient, named)
        fields.append("named_visitor_ids")
    if {"lat", "lon", "care_group_id"} & set(fields):
        _follow_planned_visits(session, recipient)
    recipient.updated_at = clock.now()
    audit.record(session, actor=who.user, role=who.role, action="care_visits.recipient_updated",
                 record=recipient, fields=sorted(fields))
    return recipient


def _follow_planned_visits(session: so.Session, recipient: Recipient) -> None:
    """A recipient who moved, or changed team: the visits to come follow (fence, team)."""
    rows = session.execute(
        sa.select(Visit, Task).join(Task, Task.id == Visit.task_id)
        .where(Visit.station_id == recipient.station_id, Visit.recipient_id == recipient.id,
               Visit.status == VisitStatus.PLANNED, Task.status == TaskStatus.OPEN)).all()
    for visit, task in rows:
        visit.care_group_id = recipient.care_group_id
        if (task.lat, task.lon) != (recipient.lat, recipient.lon):
            update_task(session, task, {"lat": recipient.lat, "lon": recipient.lon})


def set_named_visitors(session: so.Session, who: Actor, recipient: Recipient,
                       user_ids: Sequence[int]) -> None:
    """Name the people who visit this recipient besides (or instead of) its care team."""
    wanted = sorted(set(user_ids))
    check_members(session, who.station.id, wanted)
    session.execute(sa.delete(NamedVisitor).where(
        NamedVisitor.station_id == recipient.station_id,
        NamedVisitor.recipient_id == recipient.id, NamedVisitor.user_id.not_in(wanted)))
    have = set(session.scalars(sa.select(NamedVisitor.user_id).where(
        NamedVisitor.station_id == recipient.station_id,
        NamedVisitor.recipient_id == recipient.id)))
    for user_id in wanted:
        if user_id not in have:
            session.add(NamedVisitor(station_id=recipient.station_id, recipient_id=recipient.id,
                                     user_id=user_id))
    session.flush()


def named_visitors(session: so.Session, station_id: int,
                   recipient_ids: Sequence[int]) -> dict[int, list[int]]:
    result: dict[int, list[int]] = {rid: [] for rid in recipient_ids}
    rows = session.execute(sa.select(NamedVisitor.recipient_id, NamedVisitor.user_id).where(
        NamedVisitor.station_id == station_id, NamedVisitor.recipient_id.in_(recipient_ids))
        .order_by(NamedVisitor.user_id))
    for recipient_id, user_id in rows:
        result[recipient_id].append(user_id)
    return result


# Sensitive details ----------------------------------------------------------------------------

def get_sensitive(session: so.Session, recipient: Recipient) -> SensitiveDetails | None:
    return session.scalar(sa.select(SensitiveDetails).where(
        SensitiveDetails.station_id == recipient.station_id,
        SensitiveDetails.recipient_id == recipient.id))


def put_sensitive(session: so.Session, who: Actor, recipient_id: int,
                  data: dict[str, Any]) -> tuple[Recipient, SensitiveDetails]:
    """Record disability, health notes and ID number (care officers, with consent for them)."""
    recipient, _ = get_recipient(session, who, recipient_id, officer=True)
    require_consent(recipient, Scope.SENSITIVE_DETAILS)
    details = get_sensitive(session, recipient)
    if details is None:
        details = SensitiveDetails(station_id=recipient.station_id, recipient_id=recipient.id)
        session.add(details)
    for key, value in data.items():
        setattr(details, key, value)
    details.updated_by = who.user.id
    details.updated_at = clock.now()
    session.flush()
    audit.record(session, actor=who.user, role=who.role, action="care_visits.sensitive_updated",
                 record=recipient, fields=sorted(data))
    return recipient, details


# Presenting a recipient -----------------------------------------------------------------------

def present(session: so.Session, recipients: Sequence[Recipient], view: View, *,
            sensitive: bool = False) -> list[dict[str, Any]]:
    """Each recipient as the ``view`` may see it: visitors get only what a visit needs."""
    if not recipients:
        return []
    station_id = recipients[0].station_id
    ids = [r.id for r in recipients]
    allowed = fields_for(view, sensitive=sensitive)
    extras: dict[str, Any] = {}
    if view == View.OFFICER:
        extras["named"] = named_visitors(session, station_id, ids)
        extras["consents"] = current_consents(session, station_id, ids)
        extras["settings"] = for_station(session, station_id)
        if sensitive:
            extras["sensitive"] = {s.recipient_id: s for s in session.scalars(
                sa.select(SensitiveDetails).where(SensitiveDetails.station_id == station_id,
                                                  SensitiveDetails.recipient_id.in_(ids)))}
    if sensitive and view == View.OFFICER:
        allowed = (*allowed, "sensitive")
    return [{k: v for k, v in _full(r, extras).items() if k in allowed} for r in recipients]


def _full(r: Recipient, extras: dict[str, Any]) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": r.id, "name": r.name, "phone": r.phone, "address": r.address, "needs": r.needs,
    }
    if "named" not in extras:
        return data
    data.update({
        "lat": r.lat, "lon": r.lon, "categories": list(r.categories),
        "emergency_contact": {"name": r.emergency_name, "phone": r.emergency_phone,
                              "relation": r.emergency_relation},
        "visits_per_year": r.visits_per_year,
        "required_visits": policy.required_visits(r, extras["settings"]),
        "care_group_id": r.care_group_id, "named_visitor_ids": extras["named"].get(r.id, []),
        "consent": consent_dict(extras["consents"].get(r.id), r),
        "user_id": r.user_id, "created_at": r.created_at, "updated_at": r.updated_at,
        "erased": r.erased_at is not None,
    })
    if "sensitive" in extras:
        s = extras["sensitive"].get(r.id)
        data["sensitive"] = {f: getattr(s, f) if s else None for f in SENSITIVE_FIELDS}
    return data


# Reading recipients (every read audited) -------------------------------------------------------

def read_recipients(session: so.Session, who: Actor, *, limit: int, offset: int,
                    category: str | None = None, consent: str | None = None,
                    q: str | None = None) -> tuple[list[dict[str, Any]], int]:
    """A page of the recipients ``who`` may see, as their view shows them; one audit each.

    :return: the page and the number of recipients matching in all.
    """
    view, query = visible_recipients(session, who)
    if category:
        query = query.where(sa.cast(Recipient.categories, sa.String).like(f'%"{category}"%'))
    if consent:
        query = query.where(Recipient.consent_state == consent)
    if q:
        query = query.where(Recipient.name.icontains(q, autoescape=True))
    total = session.scalar(sa.select(sa.func.count()).select_from(
        query.order_by(None).subquery())) or 0
    rows = session.scalars(query.limit(limit).offset(offset)).all()
    fields = fields_for(view)
    for recipient in rows:
        record_read(session, who, recipient, fields)
    return present(session, rows, view), int(total)


def read_recipient(session: so.Session, who: Actor, recipient_id: int) -> dict[str, Any]:
    """One recipient as ``who`` may see it (care officers: with sensitive details); audited."""
    recipient, view = get_recipient(session, who, recipient_id)
    sensitive = view == View.OFFICER
    record_read(session, who, recipient, fields_for(view, sensitive=sensitive))
    return present(session, [recipient], view, sensitive=sensitive)[0]
