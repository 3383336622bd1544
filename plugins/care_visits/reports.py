"""Reports for care officers: this year's coverage per recipient, supplies delivered by campaign."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm as so

from core import audit, clock
from core.access import Actor
from core.hookspecs import Report
from core.reports import Period
from plugins.care_visits import policy
from plugins.care_visits.access import record_read, require_care_officer
from plugins.care_visits.alerts import behind_plan
from plugins.care_visits.models import (
    Campaign,
    ConsentState,
    Recipient,
    Review,
    SupplyDelivery,
    Visit,
    VisitStatus,
)
from plugins.care_visits.settings import for_station


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
    settings = for_station(session, station.id)
    counts: dict[int, dict[str, int]] = {}
    empty = {"done": 0, "planned": 0, "late": 0, "missed": 0, "rejected": 0, "under_review": 0}
    rows = session.execute(
        sa.select(Visit.recipient_id, Visit.status, Visit.review, sa.func.count())
        .where(Visit.station_id == station.id, Visit.year == year)
        .group_by(Visit.recipient_id, Visit.status, Visit.review))
    for recipient_id, status, review, n in rows:
        bucket = counts.setdefault(recipient_id, dict(empty))
        if status == VisitStatus.DONE:
            key = {Review.REJECTED: "rejected", Review.PENDING: "under_review"}.get(review, "done")
            bucket[key] += n
        elif status in (VisitStatus.PLANNED, VisitStatus.IN_PROGRESS):
            bucket["planned"] += n
        elif status == VisitStatus.MISSED:
            bucket["missed"] += n
    # Still planned past the day they were due: late, not yet missed.
    for recipient_id, n in session.execute(
            sa.select(Visit.recipient_id, sa.func.count())
            .where(Visit.station_id == station.id, Visit.year == year,
                   Visit.status == VisitStatus.PLANNED, Visit.due_at < now)
            .group_by(Visit.recipient_id)):
        counts.setdefault(recipient_id, dict(empty))["late"] += n
    behind = behind_plan(session, station, now, settings) if year == this_year else {}
    result: list[dict[str, Any]] = []
    for r in session.scalars(sa.select(Recipient).where(Recipient.station_id == station.id)
                             .order_by(Recipient.id)):
        active = r.consent_state == ConsentState.GIVEN and r.erased_at is None
        required = policy.required_visits(r, settings) if active else 0
        c = counts.get(r.id, empty)
        if not active and not any(c.values()):
            continue
        lagging = r.id in behind if year == this_year else c["done"] < required
        result.append({"recipient_id": r.id, "categories": list(r.categories),
                       "consent": str(r.consent_state), "erased": r.erased_at is not None,
                       "required": required, **c, "behind_plan": lagging})
    totals: dict[str, float] = {k: sum(row[k] for row in result)
              for k in ("required", "done", "planned", "late", "missed", "rejected",
                        "under_review")}
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


# The console's spreadsheet: visits per recipient against the quota over a period ----------------

def quota(session: so.Session, who: Actor, since: dt.datetime,
          until: dt.datetime) -> list[tuple[Any, ...]]:
    """Per recipient, over ``since``..``until``: the yearly quota, the visits due, made, accepted
    (counted: not flagged, or accepted on review) and overdue (due, not made: late or missed).

    Care officers only. A recipient is labelled by name, what care duty reads of them; each
    name read writes the record's read event, and the report its own. Erased recipients keep
    their counts under their erased label.
    """
    require_care_officer(session, who)
    station = who.station
    now = clock.now()
    settings = for_station(session, station.id)
    made_at = sa.func.coalesce(Visit.began_at, Visit.due_at)
    visits = session.execute(sa.select(
        Visit.recipient_id, Visit.status, Visit.review, Visit.due_at, made_at).where(
        Visit.station_id == station.id, Visit.status != VisitStatus.CANCELLED,
        sa.or_(sa.and_(Visit.due_at >= since, Visit.due_at < until),
               sa.and_(made_at >= since, made_at < until)))).all()
    counts: dict[int, list[int]] = {}
    for recipient_id, status, review, due_at, made in visits:
        row = counts.setdefault(recipient_id, [0, 0, 0, 0])
        due = since <= due_at < until
        if due:
            row[0] += 1
        if status == VisitStatus.DONE and since <= made < until:
            row[1] += 1
            row[2] += review in (Review.NOT_NEEDED, Review.ACCEPTED)
        if due and due_at < now and status in (VisitStatus.PLANNED, VisitStatus.MISSED):
            row[3] += 1
    result: list[tuple[Any, ...]] = []
    for r in session.scalars(sa.select(Recipient).where(Recipient.station_id == station.id)
                             .order_by(Recipient.name, Recipient.id)):
        active = r.consent_state == ConsentState.GIVEN and r.erased_at is None
        if not active and r.id not in counts:
            continue
        record_read(session, who, r, ("id", "name"), report="quota")
        result.append((r.name, policy.required_visits(r, settings) if active else 0,
                       *counts.get(r.id, [0, 0, 0, 0])))
    audit.record(session, actor=who.user, role=who.role, action="care_visits.report_read",
                 station_id=station.id, report="quota", since=since.isoformat(),
                 until=until.isoformat())
    return result


def quota_rows(session: so.Session, who: Actor, period: Period) -> list[tuple[Any, ...]]:
    return quota(session, who, period.since, period.until)


QUOTA = Report(
    name="care_visits.quota",
    title={"en": "Care visits per recipient against the quota", "zh-CN": "关爱对象走访完成情况"},
    columns=({"en": "Recipient", "zh-CN": "关爱对象"},
             {"en": "Visits a year", "zh-CN": "年度走访指标"},
             {"en": "Due in the period", "zh-CN": "期内应走访"},
             {"en": "Made", "zh-CN": "已走访"},
             {"en": "Accepted", "zh-CN": "已认可"},
             {"en": "Overdue", "zh-CN": "逾期未走访"}),
    # Listed for the staff; the rows are for care duty only (403 care_duty_required).
    rows=quota_rows)
