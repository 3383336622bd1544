"""Alerts to the care team's officers: visits missed or late, recipients behind plan, old follow-ups."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm as so

from core import notifications, targets
from core.access import Actor
from core.models import Station
from plugins.care_visits import policy
from plugins.care_visits.access import require_care_officer
from plugins.care_visits.models import (
    Alert,
    FollowUp,
    FollowUpStatus,
    Recipient,
    Review,
    Visit,
    VisitStatus,
)
from plugins.care_visits.planning import plannable
from plugins.care_visits.settings import CareSettings, for_station
from plugins.care_visits.visits import close_stale, mark_missed, officers_for, visit_target


def _unsent(query: sa.Select[*tuple[Any, ...]], model: Any, kind: str,
            period: str = "") -> sa.Select[*tuple[Any, ...]]:
    """Keep the rows no alert of ``kind`` (for ``period``) was sent about."""
    sent = sa.select(Alert.id).where(Alert.station_id == model.station_id, Alert.kind == kind,
                                     Alert.subject_id == model.id, Alert.period == period)
    return query.where(~sent.exists())


def _send(session: so.Session, station: Station, kind: str, subject_id: int,
          care_group_id: int | None, target: dict[str, Any], period: str = "",
          **params: Any) -> int:
    """Notify the recipient's care officers once per (kind, subject, period)."""
    try:
        with session.begin_nested():
            session.add(Alert(station_id=station.id, kind=kind, subject_id=subject_id,
                              period=period))
            session.flush()
    except sa.exc.IntegrityError:  # another worker sent it
        return 0
    people = officers_for(session, station.id, care_group_id)
    recipient = session.get(Recipient, params["recipient_id"])
    # Care officers read every record: the alert names the recipient.
    name = recipient.name if recipient is not None else str(params["recipient_id"])
    for user_id in people:
        notifications.notify(session, user_id, f"care_visits.{kind}", station_id=station.id,
                             target=target, recipient=name, **params)
    return len(people)


def alert_station(session: so.Session, station: Station | None, now: dt.datetime) -> dict[str, int]:
    """The daily alerts job; each alert is sent once (behind plan: once a month)."""
    if station is None:
        return {}
    mark_missed(session, station, now)
    close_stale(session, station, now)
    settings = for_station(session, station.id)
    sent = {"visit_missed": 0, "visit_late": 0, "behind_plan": 0, "follow_up_overdue": 0}
    missed = _unsent(sa.select(Visit).where(Visit.station_id == station.id,
                                            Visit.status == VisitStatus.MISSED),
                     Visit, "visit_missed")
    for visit in session.scalars(missed.order_by(Visit.id)).all():
        sent["visit_missed"] += _send(session, station, "visit_missed", visit.id,
                                      visit.care_group_id, visit_target(visit), visit_id=visit.id,
                                      recipient_id=visit.recipient_id, due_at=visit.due_at)
    late = _unsent(sa.select(Visit).where(Visit.station_id == station.id,
                                          Visit.status == VisitStatus.PLANNED,
                                          Visit.due_at < now), Visit, "visit_late")
    for visit in session.scalars(late.order_by(Visit.id)).all():
        sent["visit_late"] += _send(session, station, "visit_late", visit.id,
                                    visit.care_group_id, visit_target(visit), visit_id=visit.id,
                                    recipient_id=visit.recipient_id, due_at=visit.due_at,
                                    ends_at=visit.ends_at)
    sent["behind_plan"] = _behind_plan(session, station, now, settings)
    cutoff = now - dt.timedelta(days=settings.follow_up_alert_days)
    old = _unsent(sa.select(FollowUp, Recipient.care_group_id)
                  .join(Recipient, Recipient.id == FollowUp.recipient_id)
                  .where(FollowUp.station_id == station.id,
                         FollowUp.status == FollowUpStatus.OPEN, FollowUp.opened_at < cutoff),
                  FollowUp, "follow_up_overdue")
    for item, group_id in session.execute(old.order_by(FollowUp.id)).all():
        sent["follow_up_overdue"] += _send(
            session, station, "follow_up_overdue", item.id, group_id,
            targets.target("care_visits.follow_up", follow_up_id=item.id), follow_up_id=item.id,
            recipient_id=item.recipient_id, opened_at=item.opened_at)
    return sent


def behind_plan(session: so.Session, station: Station, now: dt.datetime,
                settings: CareSettings) -> dict[int, tuple[int, int]]:
    """Recipients whose visits made so far this year trail the policy pro rata.

    :return: recipient id -> (made, expected by now).
    """
    tz = zoneinfo.ZoneInfo(station.timezone)
    local = now.astimezone(tz)
    start = dt.datetime(local.year, 1, 1, tzinfo=tz)
    end = dt.datetime(local.year + 1, 1, 1, tzinfo=tz)
    elapsed = (local - start) / (end - start)
    made = dict(session.execute(
        sa.select(Visit.recipient_id, sa.func.count()).where(
            Visit.station_id == station.id, Visit.year == local.year,
            Visit.status == VisitStatus.DONE, Visit.review != Review.REJECTED)
        .group_by(Visit.recipient_id)).all())
    result = {}
    for recipient in plannable(session, station.id):
        expected = int(policy.required_visits(recipient, settings) * elapsed)
        if made.get(recipient.id, 0) < expected:
            result[recipient.id] = (made.get(recipient.id, 0), expected)
    return result


def _behind_plan(session: so.Session, station: Station, now: dt.datetime,
                 settings: CareSettings) -> int:
    period = now.astimezone(zoneinfo.ZoneInfo(station.timezone)).strftime("%Y-%m")
    sent = 0
    behind = behind_plan(session, station, now, settings)
    if not behind:
        return 0
    groups = dict(session.execute(sa.select(Recipient.id, Recipient.care_group_id).where(
        Recipient.id.in_(list(behind)))).all())
    already = set(session.scalars(sa.select(Alert.subject_id).where(
        Alert.station_id == station.id, Alert.kind == "behind_plan", Alert.period == period)))
    for recipient_id, (made, expected) in behind.items():
        if recipient_id in already:
            continue
        sent += _send(session, station, "behind_plan", recipient_id, groups[recipient_id],
                      targets.target("care_visits.recipient", recipient_id=recipient_id),
                      period=period, recipient_id=recipient_id, made=made, expected=expected)
    return sent


# What was sent, for the care officers' console ------------------------------------------------

def sent_alerts(session: so.Session, who: Actor, now: dt.datetime, *,
                standing_only: bool = True) -> list[dict[str, Any]]:
    """The alerts of the last year, newest first, each with whether its matter still stands.

    A late visit stands while it is still planned, a missed one until the recipient is visited
    again, a follow-up while it is open, behind plan while the recipient still trails this
    month. Care officers only; rows carry ids (a name is read on the recipient's own page).
    """
    require_care_officer(session, who)
    station = who.station
    alerts = session.scalars(sa.select(Alert).where(
        Alert.station_id == station.id, Alert.created_at >= now - dt.timedelta(days=366))
        .order_by(Alert.created_at.desc(), Alert.id.desc())).all()
    visit_ids = [a.subject_id for a in alerts if a.kind in ("visit_late", "visit_missed")]
    visits = {v.id: v for v in session.scalars(sa.select(Visit).where(
        Visit.station_id == station.id, Visit.id.in_(visit_ids)))}
    items = {f.id: f for f in session.scalars(sa.select(FollowUp).where(
        FollowUp.station_id == station.id,
        FollowUp.id.in_([a.subject_id for a in alerts if a.kind == "follow_up_overdue"])))}
    last_made = dict(session.execute(
        sa.select(Visit.recipient_id, sa.func.max(Visit.began_at)).where(
            Visit.station_id == station.id, Visit.status == VisitStatus.DONE,
            Visit.review != Review.REJECTED).group_by(Visit.recipient_id)).all())
    month = now.astimezone(zoneinfo.ZoneInfo(station.timezone)).strftime("%Y-%m")
    behind = behind_plan(session, station, now, for_station(session, station.id))
    result = []
    for alert in alerts:
        row: dict[str, Any] = {"id": alert.id, "kind": alert.kind, "sent_at": alert.created_at,
                               "period": alert.period, "visit_id": None, "follow_up_id": None}
        if alert.kind in ("visit_late", "visit_missed"):
            visit = visits.get(alert.subject_id)
            row.update(visit_id=alert.subject_id,
                       recipient_id=visit.recipient_id if visit else None)
            if visit is None:
                stands = False
            elif alert.kind == "visit_late":
                stands = visit.status == VisitStatus.PLANNED
            else:
                made = last_made.get(visit.recipient_id)
                stands = made is None or made < visit.ends_at
        elif alert.kind == "follow_up_overdue":
            item = items.get(alert.subject_id)
            row.update(follow_up_id=alert.subject_id,
                       recipient_id=item.recipient_id if item else None)
            stands = item is not None and item.status == FollowUpStatus.OPEN
        else:
            row["recipient_id"] = alert.subject_id
            stands = alert.period == month and alert.subject_id in behind
        row["standing"] = stands
        if stands or not standing_only:
            result.append(row)
    return result

