"""Reports for care officers: this year's coverage per recipient, supplies delivered by campaign."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm as so

from core import audit, clock
from core.access import Actor
from core.models import Station
from plugins.care_visits import policy
from plugins.care_visits.access import require_care_officer
from plugins.care_visits.alerts import behind_plan
from plugins.care_visits.models import (
    Campaign,
    ConsentState,
    FollowUp,
    FollowUpStatus,
    Recipient,
    Review,
    SupplyDelivery,
    Visit,
    VisitStatus,
)


def coverage(session: so.Session, who: Actor, year: int | None = None) -> dict[str, Any]:
    """Done / planned / required visits per recipient for ``year`` (default: this year).

    Rows carry ids, not names: reading a name is a read of the record, audited on its own.
    Erased recipients stay in the counts.
    """
    require_care_officer(session, who)
    station = who.station
    now = clock.now()
    this_year = now.astimezone(zoneinfo.ZoneInfo(station.timezone)).year
    year = year or this_year
    settings = policy.settings(session, station.id)
    counts: dict[int, dict[str, int]] = {}
    rows = session.execute(
        sa.select(Visit.recipient_id, Visit.status, Visit.review, sa.func.count())
        .where(Visit.station_id == station.id, Visit.year == year)
        .group_by(Visit.recipient_id, Visit.status, Visit.review))
    for recipient_id, status, review, n in rows:
        bucket = counts.setdefault(recipient_id, {"done": 0, "planned": 0, "missed": 0,
                                                  "rejected": 0, "under_review": 0})
        if status == VisitStatus.DONE:
            key = {Review.REJECTED: "rejected", Review.PENDING: "under_review"}.get(review, "done")
            bucket[key] += n
        elif status in (VisitStatus.PLANNED, VisitStatus.IN_PROGRESS):
            bucket["planned"] += n
        elif status == VisitStatus.MISSED:
            bucket["missed"] += n
    behind = behind_plan(session, station, now, settings) if year == this_year else {}
    result: list[dict[str, Any]] = []
    for r in session.scalars(sa.select(Recipient).where(Recipient.station_id == station.id)
                             .order_by(Recipient.id)):
        active = r.consent_state == ConsentState.GIVEN and r.erased_at is None
        required = policy.required_visits(r, settings) if active else 0
        c = counts.get(r.id, {"done": 0, "planned": 0, "missed": 0, "rejected": 0,
                              "under_review": 0})
        if not active and not any(c.values()):
            continue
        lagging = r.id in behind if year == this_year else c["done"] < required
        result.append({"recipient_id": r.id, "categories": list(r.categories),
                       "consent": str(r.consent_state), "erased": r.erased_at is not None,
                       "required": required, **c, "behind_plan": lagging})
    totals: dict[str, float] = {k: sum(row[k] for row in result)
              for k in ("required", "done", "planned", "missed", "rejected", "under_review")}
    totals["recipients"] = len(result)
    totals["behind_plan"] = sum(row["behind_plan"] for row in result)
    totals["coverage_pct"] = (round(100 * min(totals["done"], totals["required"])
                                    / totals["required"], 1) if totals["required"] else 100.0)
    audit.record(session, actor=who.user, role=who.role, action="care_visits.report_read",
                 station_id=station.id, report="coverage", year=year)
    return {"year": year, "totals": totals, "recipients": result}


def supplies(session: so.Session, who: Actor, campaign_id: int | None = None) -> dict[str, Any]:
    """Supplies delivered per campaign (and outside any campaign): totals and households."""
    require_care_officer(session, who)
    station_id = who.station.id
    visit_filter: list[Any] = [Visit.station_id == station_id]
    if campaign_id is not None:
        visit_filter.append(Visit.campaign_id == campaign_id)
    households = session.execute(
        sa.select(Visit.campaign_id,
                  sa.func.count(sa.case((Visit.status != VisitStatus.CANCELLED, 1))),
                  sa.func.count(sa.case((Visit.status == VisitStatus.DONE, 1))))
        .where(*visit_filter).group_by(Visit.campaign_id)).all()
    items = session.execute(
        sa.select(SupplyDelivery.campaign_id, SupplyDelivery.item, SupplyDelivery.unit,
                  sa.func.sum(SupplyDelivery.quantity),
                  sa.func.count(sa.distinct(SupplyDelivery.visit_id)))
        .where(SupplyDelivery.station_id == station_id,
               *([SupplyDelivery.campaign_id == campaign_id] if campaign_id is not None else []))
        .group_by(SupplyDelivery.campaign_id, SupplyDelivery.item, SupplyDelivery.unit)
        .order_by(SupplyDelivery.item, SupplyDelivery.unit)).all()
    plans = {c.id: c for c in session.scalars(sa.select(Campaign).where(
        Campaign.station_id == station_id))}
    campaigns: dict[int | None, dict[str, Any]] = {}

    def entry(cid: int | None) -> dict[str, Any]:
        if cid not in campaigns:
            campaigns[cid] = {"campaign_id": cid, "name": plans[cid].name if cid in plans else "",
                              "households_planned": 0, "households_visited": 0, "items": []}
        return campaigns[cid]

    for cid, planned, visited in households:
        entry(cid).update(households_planned=planned, households_visited=visited)
    totals: dict[tuple[int | None, str, str], dict[str, Any]] = {}
    for cid, item, unit, quantity, visits in items:
        row = {"item": item, "unit": unit, "quantity": int(quantity or 0),
               "households": visits, "planned": 0}
        totals[(cid, item, unit)] = row
        entry(cid)["items"].append(row)
    # What the campaign planned per household, times the households it planned for.
    for cid, data in list(campaigns.items()):
        if cid not in plans:
            continue
        for plan in plans[cid].supplies:
            key = (cid, plan["item"], plan.get("unit", ""))
            if key not in totals:
                totals[key] = {"item": key[1], "unit": key[2], "quantity": 0, "households": 0,
                               "planned": 0}
                data["items"].append(totals[key])
            totals[key]["planned"] = plan["quantity"] * data["households_planned"]
    ordered = sorted(campaigns.values(), key=lambda c: (c["campaign_id"] is None,
                                                         c["campaign_id"] or 0))
    return {"campaigns": ordered}


def dashboard_metrics(session: so.Session, station: Station, since: dt.datetime) -> dict[str, Any]:
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
