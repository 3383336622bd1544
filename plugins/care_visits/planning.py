"""Planning: keep each recipient's year planned to meet the policy; campaigns of festival visits."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm as so

from core import audit, clock
from core.access import Actor
from core.errors import Conflict, Invalid, NotFound
from core.models import Station
from plugins.care_visits import policy
from plugins.care_visits.access import require_care_officer
from plugins.care_visits.models import (
    Campaign,
    ConsentState,
    Recipient,
    Review,
    Scope,
    ServiceType,
    Visit,
    VisitSource,
    VisitStatus,
)
from plugins.care_visits.settings import for_station
from plugins.care_visits.visits import create_visit, mark_missed

# Visits that count towards a year's plan: still to come, under way, or made and not rejected.
PENDING = (VisitStatus.PLANNED, VisitStatus.IN_PROGRESS)


def counted_this_year(session: so.Session, station_id: int, year: int) -> dict[int, int]:
    """Visits per recipient that meet (or will meet) the year's plan."""
    counts = sa.or_(Visit.status.in_(PENDING),
                    sa.and_(Visit.status == VisitStatus.DONE, Visit.review != Review.REJECTED))
    rows = session.execute(
        sa.select(Visit.recipient_id, sa.func.count()).where(
            Visit.station_id == station_id, Visit.year == year, counts)
        .group_by(Visit.recipient_id))
    return dict(rows.all())


def plannable(session: so.Session, station_id: int, *, lock: bool = False) -> list[Recipient]:
    """Recipients whose consent to visits stands and whose home can be fenced.

    :param lock: lock their rows (PostgreSQL) so two planners of one station take turns; on
        SQLite the write lock taken at BEGIN already serialises them.
    """
    query = (sa.select(Recipient).where(
        Recipient.station_id == station_id, Recipient.erased_at.is_(None),
        Recipient.consent_state == ConsentState.GIVEN, Recipient.lat.is_not(None))
        .order_by(Recipient.id))
    if lock:
        query = query.with_for_update()
    return [r for r in session.scalars(query) if Scope.VISITS.value in r.consent_scope]


def windows(today: dt.date, year_end: dt.date, count: int,
            tz: zoneinfo.ZoneInfo) -> list[tuple[dt.datetime, dt.datetime]]:
    """``count`` windows of whole local days spread evenly from ``today`` to the year's end."""
    days = max((year_end - today).days, 1)
    result = []
    for i in range(count):
        first = today + dt.timedelta(days=i * days // count)
        last = today + dt.timedelta(days=max((i + 1) * days // count, i * days // count + 1))
        last = min(last, year_end) if first < year_end else first + dt.timedelta(days=1)
        result.append((_midnight(first, tz), _midnight(last, tz)))
    return result


def _midnight(day: dt.date, tz: zoneinfo.ZoneInfo) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(0), tzinfo=tz).astimezone(dt.UTC)


def plan_station(session: so.Session, station: Station | None, now: dt.datetime) -> int:
    """The planning job: create the visits each recipient still needs this year.

    Needed = the policy's visits a year minus the visits planned, under way or made this year;
    missed visits no longer count, so the job plans their replacement. Running it again
    creates nothing new. :return: the number of visits created.
    """
    if station is None:
        return 0
    recipients = plannable(session, station.id, lock=True)
    # Counted after taking the locks: a planner that waited sees what the other one made.
    mark_missed(session, station, now)
    settings = for_station(session, station.id)
    tz = zoneinfo.ZoneInfo(station.timezone)
    today = now.astimezone(tz).date()
    year_end = dt.date(today.year + 1, 1, 1)
    have = counted_this_year(session, station.id, today.year)
    created = 0
    for recipient in recipients:
        needed = policy.required_visits(recipient, settings) - have.get(recipient.id, 0)
        if needed <= 0:
            continue
        for starts_at, ends_at in windows(today, year_end, needed, tz):
            create_visit(session, station, recipient, source=VisitSource.PLAN,
                         starts_at=starts_at, ends_at=ends_at)
            created += 1
    return created


# Campaigns ------------------------------------------------------------------------------------

def create_campaign(session: so.Session, who: Actor, data: dict[str, Any]) -> tuple[Campaign,
                                                                                   dict[str, int]]:
    """Launch a campaign (care officers): one visit per recipient in scope, in its window."""
    require_care_officer(session, who)
    if data["ends_at"] <= data["starts_at"]:
        raise Invalid("campaign_window_invalid", field="ends_at")
    if data["ends_at"] <= clock.now():
        raise Invalid("campaign_window_past", field="ends_at")
    taken = session.scalar(sa.select(Campaign.id).where(Campaign.station_id == who.station.id,
                                                        Campaign.name == data["name"]))
    if taken is not None:
        raise Conflict("campaign_name_taken", field="name", name=data["name"])
    campaign = Campaign(station_id=who.station.id, created_by=who.user.id,
                        name=data["name"], starts_at=data["starts_at"], ends_at=data["ends_at"],
                        categories=sorted(set(data.get("categories") or [])),
                        supplies=list(data.get("supplies") or []),
                        service_type=data.get("service_type", ServiceType.FESTIVAL_VISIT))
    try:
        with session.begin_nested():
            session.add(campaign)
            session.flush()
    except sa.exc.IntegrityError:  # the same name launched at the same moment
        raise Conflict("campaign_name_taken", field="name", name=data["name"]) from None
    result = run_campaign(session, who, campaign)
    audit.record(session, actor=who.user, role=who.role, action="care_visits.campaign_created",
                 record=campaign, **result)
    return campaign, result


def get_campaign(session: so.Session, who: Actor, campaign_id: int) -> Campaign:
    require_care_officer(session, who)
    campaign = session.scalar(sa.select(Campaign).where(Campaign.id == campaign_id,
                                                        Campaign.station_id == who.station.id))
    if campaign is None:
        raise NotFound("campaign_not_found")
    return campaign


def in_scope(campaign: Campaign, recipients: Sequence[Recipient]) -> list[Recipient]:
    wanted = set(campaign.categories)
    return [r for r in recipients if not wanted or wanted & set(r.categories)]


def run_campaign(session: so.Session, who: Actor, campaign: Campaign) -> dict[str, int]:
    """Create the campaign's missing visits; run again, it adds only recipients new in scope."""
    if campaign.ends_at <= clock.now():
        raise Conflict("campaign_ended")
    station = who.station
    # Locked, then counted: two runs of one campaign take turns instead of doubling visits.
    everyone = session.scalars(sa.select(Recipient).where(
        Recipient.station_id == station.id, Recipient.erased_at.is_(None))
        .order_by(Recipient.id).with_for_update()).all()
    done = set(session.scalars(sa.select(Visit.recipient_id).where(
        Visit.station_id == station.id, Visit.campaign_id == campaign.id)))
    result = {"created": 0, "already_planned": 0, "without_consent": 0, "consent_withdrawn": 0}
    for recipient in in_scope(campaign, everyone):
        if recipient.id in done:
            result["already_planned"] += 1
        elif recipient.consent_state == ConsentState.WITHDRAWN:
            result["consent_withdrawn"] += 1
        elif (recipient.consent_state != ConsentState.GIVEN
              or Scope.VISITS.value not in recipient.consent_scope):
            result["without_consent"] += 1
        else:
            create_visit(session, station, recipient, source=VisitSource.CAMPAIGN,
                         starts_at=campaign.starts_at,
                         ends_at=campaign.ends_at, service_type=campaign.service_type,
                         campaign=campaign, created_by=who.user.id)
            result["created"] += 1
    return result
