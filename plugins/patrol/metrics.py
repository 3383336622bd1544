"""The patrol figures on the station dashboard."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm as so

from core.models import Station
from plugins.patrol.models import (
    CoverageAlert,
    Incident,
    IncidentStatus,
    Patrol,
    PatrolStatus,
    Scan,
    ScanStatus,
)


def dashboard(session: so.Session, station: Station, since: dt.datetime) -> dict[str, Any]:
    """Patrols, scans by outcome, incidents and coverage alerts since ``since``."""
    sid = station.id
    patrols = dict(session.execute(
        sa.select(Patrol.status, sa.func.count()).where(Patrol.station_id == sid,
                                                        Patrol.started_at >= since)
        .group_by(Patrol.status)).all())
    completed = session.scalar(sa.select(sa.func.count()).select_from(Patrol).where(
        Patrol.station_id == sid, Patrol.started_at >= since,
        Patrol.completed.is_(True)))
    scans = dict(session.execute(
        sa.select(Scan.status, sa.func.count()).where(Scan.station_id == sid,
                                                      Scan.server_time >= since)
        .group_by(Scan.status)).all())
    reported = session.scalar(sa.select(sa.func.count()).select_from(Incident).where(
        Incident.station_id == sid, Incident.created_at >= since))
    still_open = session.scalar(sa.select(sa.func.count()).select_from(Incident).where(
        Incident.station_id == sid, Incident.status != IncidentStatus.RESOLVED))
    alerts = session.scalar(sa.select(sa.func.count()).select_from(CoverageAlert).where(
        CoverageAlert.station_id == sid, CoverageAlert.alerted_at >= since))
    return {
        "patrols_started": sum(patrols.values()),
        "patrols_active": patrols.get(PatrolStatus.ACTIVE, 0),
        "patrols_completed": completed or 0,
        "scans_ok": scans.get(ScanStatus.OK, 0),
        "scans_flagged": scans.get(ScanStatus.FLAGGED, 0),
        "scans_rejected": scans.get(ScanStatus.REJECTED, 0),
        "incidents_reported": reported or 0,
        "incidents_open": still_open or 0,
        "coverage_alerts": alerts or 0,
    }
