"""The care-visits plugin's dashboard figures: counts only, no names, no positions."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm as so

from core import clock
from core.models import Station
from plugins.care_visits.models import (
    ConsentState,
    FollowUp,
    FollowUpStatus,
    Recipient,
    Review,
    SupplyDelivery,
    Visit,
    VisitStatus,
)


def dashboard(session: so.Session, station: Station, since: dt.datetime) -> dict[str, Any]:
    """Counts for the station dashboard: no names, no positions."""
    sid = station.id
    year = clock.now().astimezone(zoneinfo.ZoneInfo(station.timezone)).year

    def count(model: Any, *where: Any) -> int:
        return int(session.scalar(sa.select(sa.func.count()).select_from(model).where(
            model.station_id == sid, *where)) or 0)

    return {
        "recipients": count(Recipient, Recipient.erased_at.is_(None)),
        "recipients_without_consent": count(Recipient, Recipient.erased_at.is_(None),
                                            Recipient.consent_state != ConsentState.GIVEN),
        "visits_done": count(Visit, Visit.status == VisitStatus.DONE, Visit.ended_at >= since),
        "visits_planned": count(Visit, Visit.status.in_((VisitStatus.PLANNED,
                                                          VisitStatus.IN_PROGRESS))),
        "visits_missed": count(Visit, Visit.status == VisitStatus.MISSED,
                               Visit.ends_at >= since),
        "visits_under_review": count(Visit, Visit.review == Review.PENDING),
        "visits_done_this_year": count(Visit, Visit.year == year,
                                       Visit.status == VisitStatus.DONE),
        "follow_ups_open": count(FollowUp, FollowUp.status == FollowUpStatus.OPEN),
        "supplies_delivered": int(session.scalar(sa.select(
            sa.func.coalesce(sa.func.sum(SupplyDelivery.quantity), 0)).where(
            SupplyDelivery.station_id == sid, SupplyDelivery.recorded_at >= since)) or 0),
    }
