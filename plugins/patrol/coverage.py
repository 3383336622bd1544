"""Coverage: when each checkpoint and grid cell was last patrolled, and alerts for long gaps."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm as so

from core import targets
from core.access import Actor
from core.errors import Invalid
from core.models import Group, Station
from core.notifications import notify
from plugins.patrol.models import Checkpoint, CoverageAlert, Route, Scan, ScanStatus
from plugins.patrol.roster import whom_to_alert
from plugins.patrol.settings import for_station

MAX_RANGE = dt.timedelta(days=31)
# How far back the gap job looks for a cell's last visit; older than that, the cell's own
# creation (a fixed time) starts the gap, so the alert still fires once.
LOOKBACK = dt.timedelta(days=30)


def _live_checkpoints(session: so.Session, station_id: int) -> list[Checkpoint]:
    return list(session.scalars(
        sa.select(Checkpoint).join(Route, Route.id == Checkpoint.route_id)
        .where(Checkpoint.station_id == station_id, Checkpoint.archived_at.is_(None),
               Route.archived_at.is_(None))
        .order_by(Checkpoint.route_id, Checkpoint.sequence, Checkpoint.id)))


def _gaps(times: list[dt.datetime], since: dt.datetime, until: dt.datetime) -> dt.timedelta:
    """The longest stretch of [since, until) without a visit."""
    marks = [since, *sorted(times), until]
    return max(b - a for a, b in zip(marks, marks[1:], strict=False))


def report(session: so.Session, who: Actor, since: dt.datetime,
           until: dt.datetime) -> dict[str, Any]:
    """Per checkpoint and per grid cell: visits (ok scans), flagged visits, last visit, longest gap.

    Officers, admins and partners.
    """
    who.require("officer", "admin", "partner")
    if until <= since or until - since > MAX_RANGE:
        raise Invalid("range_invalid", max_days=MAX_RANGE.days)
    station_id = who.station.id
    checkpoints = _live_checkpoints(session, station_id)
    ids = [c.id for c in checkpoints]
    visits: dict[int, list[dt.datetime]] = defaultdict(list)
    flagged: dict[int, int] = defaultdict(int)
    rows = session.execute(
        sa.select(Scan.checkpoint_id, Scan.status, Scan.device_time)
        .where(Scan.station_id == station_id, Scan.checkpoint_id.in_(ids),
               Scan.status != ScanStatus.REJECTED, Scan.device_time >= since,
               Scan.device_time < until)
        .order_by(Scan.checkpoint_id, Scan.device_time)
        .execution_options(yield_per=2000))
    for checkpoint_id, status, at in rows:
        if status == ScanStatus.OK:
            visits[checkpoint_id].append(at)
        else:
            flagged[checkpoint_id] += 1
    route_names = dict(session.execute(sa.select(Route.id, Route.name).where(
        Route.station_id == station_id)).all())
    grid_ids = {c.grid_group_id for c in checkpoints if c.grid_group_id}
    grid_names = dict(session.execute(sa.select(Group.id, Group.name).where(
        Group.station_id == station_id, Group.id.in_(grid_ids))).all())

    def entry(times: list[dt.datetime], flagged_count: int) -> dict[str, Any]:
        return {"visits": len(times), "flagged_visits": flagged_count,
                "last_visit": max(times) if times else None,
                "longest_gap_s": int(_gaps(times, since, until).total_seconds())}

    per_checkpoint = []
    cells: dict[int, dict[str, Any]] = {}
    for c in checkpoints:
        per_checkpoint.append({"checkpoint_id": c.id, "name": c.name, "route_id": c.route_id,
                               "route": route_names.get(c.route_id, ""),
                               "grid_group_id": c.grid_group_id,
                               **entry(visits[c.id], flagged[c.id])})
        if c.grid_group_id:
            cell = cells.setdefault(c.grid_group_id, {"times": [], "flagged": 0, "ids": []})
            cell["times"] += visits[c.id]
            cell["flagged"] += flagged[c.id]
            cell["ids"].append(c.id)
    per_cell = [{"grid_group_id": gid, "name": grid_names.get(gid, ""),
                 "checkpoint_ids": cell["ids"], **entry(cell["times"], cell["flagged"])}
                for gid, cell in sorted(cells.items())]
    return {"since": since, "until": until, "checkpoints": per_checkpoint, "grid_cells": per_cell}


def alert_gaps(session: so.Session, station: Station | None, now: dt.datetime) -> int:
    """The scheduled job: tell officers of each grid cell unpatrolled past the limit, once per gap."""
    if station is None:
        return 0
    settings = for_station(session, station.id)
    limit = dt.timedelta(hours=settings.coverage_gap_hours)
    checkpoints = [c for c in _live_checkpoints(session, station.id) if c.grid_group_id]
    if not checkpoints:
        return 0
    born: dict[int, dt.datetime] = {}
    for c in checkpoints:
        gid = c.grid_group_id or 0
        born[gid] = min(born.get(gid, c.created_at), c.created_at)
    last_visits = dict(session.execute(
        sa.select(Checkpoint.grid_group_id, sa.func.max(Scan.device_time))
        .join(Checkpoint, Checkpoint.id == Scan.checkpoint_id)
        .where(Scan.station_id == station.id, Scan.status == ScanStatus.OK,
               Scan.checkpoint_id.in_([c.id for c in checkpoints]),
               Scan.device_time >= now - LOOKBACK, Scan.device_time <= now)
        .group_by(Checkpoint.grid_group_id)).all())
    overdue = {gid: last_visits.get(gid) or since for gid, since in born.items()}
    overdue = {gid: since for gid, since in overdue.items() if now - since > limit}
    if not overdue:
        return 0
    told = {(gid, since) for gid, since in session.execute(
        sa.select(CoverageAlert.grid_group_id, CoverageAlert.gap_since)
        .where(CoverageAlert.station_id == station.id, CoverageAlert.grid_group_id.in_(overdue)))}
    names = dict(session.execute(sa.select(Group.id, Group.name).where(
        Group.id.in_(overdue))).all())
    sent = 0
    for gid, since in sorted(overdue.items()):
        if (gid, since) in told:
            continue
        recipients = whom_to_alert(session, station.id, now)
        alert = CoverageAlert(station_id=station.id, grid_group_id=gid, gap_since=since,
                              alerted_at=now, notified=recipients)
        try:
            with session.begin_nested():
                session.add(alert)
                session.flush()
        except sa.exc.IntegrityError:
            continue  # another worker told them about this gap
        hours = round((now - since).total_seconds() / 3600, 1)
        for user_id in recipients:
            notify(session, user_id, "patrol.coverage_gap", station_id=station.id,
                   target=targets.target("core.group", group_id=gid), grid_group_id=gid,
                   grid=names.get(gid, str(gid)), hours=hours, since=since)
        sent += 1
    return sent
