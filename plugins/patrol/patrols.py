"""Patrols: who may walk a route, start (ad hoc or for a scheduled task), read, finish, unlock."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections import Counter
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy import orm as so

from core import audit, clock, geofence, ledger, tasks
from core.access import Actor
from core.errors import Conflict, Invalid, NotFound, PermissionDenied
from core.models import Assignment, GroupMember, Station, Task, TaskStatus
from core.models.tasks import AssignmentStatus
from core.stations import in_group_of_kind
from plugins.patrol import guesses
from plugins.patrol.checkpoints import TASK_KIND, TEAM_KIND, route_checkpoints
from plugins.patrol.models import (
    Assurance,
    Checkpoint,
    Patrol,
    PatrolStatus,
    Route,
    RouteTask,
    Scan,
    ScanStatus,
)
from plugins.patrol.settings import PatrolSettings, for_station

TASK_ASSIGNED = (AssignmentStatus.SIGNED_UP, AssignmentStatus.CHECKED_IN,
                 AssignmentStatus.COMPLETED)



# Who may patrol -------------------------------------------------------------------------------

def is_patrol_member(session: so.Session, who: Actor) -> bool:
    """Officers, admins, and anyone in one of the station's patrol teams."""
    return who.is_staff or (who.is_member and in_group_of_kind(
        session, who.station.id, who.user.id, TEAM_KIND))


def _may_walk(session: so.Session, who: Actor, route: Route) -> None:
    if who.is_staff:
        return
    if route.team_group_id is None:
        who.require("volunteer", "officer", "admin")
        return
    in_team = session.scalar(sa.select(GroupMember.id).where(
        GroupMember.station_id == route.station_id, GroupMember.group_id == route.team_group_id,
        GroupMember.user_id == who.user.id))
    if in_team is None:
        raise PermissionDenied("not_on_patrol_team")


# Starting -------------------------------------------------------------------------------------

def start_patrol(session: so.Session, who: Actor, *, route_id: int | None = None,
                 task_id: int | None = None, client_id: str | None = None,
                 started_at: dt.datetime | None = None) -> tuple[Patrol, bool]:
    """Start a patrol on a route, ad hoc or for a scheduled patrol task; returns (patrol, created).

    ``started_at`` is the phone's time when the patrol began offline; ``client_id`` makes a
    re-sent start return the first patrol.
    """
    who.require_member()
    station_id = who.station.id
    settings = for_station(session, station_id)
    now = clock.now()
    if client_id is not None:
        existing = session.scalar(sa.select(Patrol).where(Patrol.station_id == station_id,
                                                          Patrol.client_id == client_id))
        if existing is not None:
            if existing.user_id != who.user.id:
                raise Conflict("client_id_taken", client_id=client_id)
            return existing, False
    if started_at is None:
        started_at = now
    else:
        clock.check_device_time(started_at, geofence.station_rules(who.station.settings),
                                field="started_at", server_time=now)
    if task_id is not None:
        route_id = _route_of_task(session, who, task_id, route_id, started_at, settings)
    if route_id is None:
        raise Invalid("validation_error", field="route_id")
    route = session.scalar(sa.select(Route).where(Route.id == route_id,
                                                  Route.station_id == station_id,
                                                  Route.archived_at.is_(None)))
    if route is None:
        raise NotFound("route_not_found")
    _may_walk(session, who, route)
    has_checkpoints = session.scalar(sa.select(Checkpoint.id).where(
        Checkpoint.station_id == station_id, Checkpoint.route_id == route.id,
        Checkpoint.archived_at.is_(None)).limit(1))
    if has_checkpoints is None:
        raise Invalid("route_has_no_checkpoints")
    active = session.scalar(sa.select(Patrol.id).where(
        Patrol.station_id == station_id, Patrol.user_id == who.user.id,
        Patrol.status == PatrolStatus.ACTIVE).limit(1))
    if active is not None:
        raise Conflict("patrol_already_active", patrol_id=active)
    patrol = Patrol(station_id=station_id, route_id=route.id, user_id=who.user.id,
                    task_id=task_id, client_id=client_id, started_at=started_at)
    try:
        # Added inside the savepoint: begin_nested() flushes what is pending before it.
        with session.begin_nested():
            session.add(patrol)
            session.flush()
    except sa.exc.IntegrityError:
        # A concurrent start won the race: the person's one active patrol (a partial unique
        # index), or the same client id or task.
        won = session.scalar(sa.select(Patrol.id).where(
            Patrol.station_id == station_id, Patrol.user_id == who.user.id,
            Patrol.status == PatrolStatus.ACTIVE).limit(1))
        if won is not None:
            raise Conflict("patrol_already_active", patrol_id=won) from None
        raise Conflict("patrol_exists", task_id=task_id, client_id=client_id) from None
    return patrol, True


def _route_of_task(session: so.Session, who: Actor, task_id: int, route_id: int | None,
                   at: dt.datetime, settings: PatrolSettings) -> int:
    task = session.scalar(sa.select(Task).where(Task.id == task_id,
                                                Task.station_id == who.station.id))
    if task is None:
        raise NotFound("task_not_found")
    if task.kind != TASK_KIND:
        raise Invalid("task_not_patrol", field="task_id", kind=task.kind)
    if task.status != TaskStatus.OPEN:
        raise Conflict("task_not_open", status=str(task.status))
    lead = dt.timedelta(minutes=settings.task_lead_minutes)
    if not task.starts_at - lead <= at <= task.ends_at:
        raise Invalid("task_not_now", starts_at=task.starts_at.isoformat(),
                      ends_at=task.ends_at.isoformat())
    assigned = session.scalar(sa.select(Assignment.status).where(
        Assignment.station_id == who.station.id, Assignment.task_id == task.id,
        Assignment.user_id == who.user.id))
    if assigned not in TASK_ASSIGNED:
        raise PermissionDenied("not_assigned_to_task")
    linked = session.scalar(sa.select(RouteTask.route_id).where(
        RouteTask.station_id == who.station.id, RouteTask.task_id == task.id))
    if linked is None:
        if route_id is None:
            raise Invalid("task_has_no_route", field="route_id")
        return route_id
    if route_id is not None and route_id != linked:
        raise Invalid("task_route_mismatch", field="route_id", route_id=linked)
    return linked


# Reading --------------------------------------------------------------------------------------

def get_patrol(session: so.Session, who: Actor, patrol_id: int) -> Patrol:
    """A patrol: its walker's, and the officers' to see."""
    who.require_member()
    patrol = session.scalar(sa.select(Patrol).where(Patrol.id == patrol_id,
                                                    Patrol.station_id == who.station.id))
    if patrol is None or (patrol.user_id != who.user.id and not who.is_staff):
        raise NotFound("patrol_not_found")
    return patrol


def patrols_query(who: Actor, *, status: str | None = None, route_id: int | None = None,
                  user_id: int | None = None, since: dt.datetime | None = None,
                  until: dt.datetime | None = None, mine: bool = False) -> sa.Select[Any]:
    """Patrols newest first: officers see all, others their own."""
    who.require_member()
    query = sa.select(Patrol).where(Patrol.station_id == who.station.id)
    if mine or not who.is_staff:
        query = query.where(Patrol.user_id == who.user.id)
    elif user_id is not None:
        query = query.where(Patrol.user_id == user_id)
    if status:
        query = query.where(Patrol.status == status)
    if route_id is not None:
        query = query.where(Patrol.route_id == route_id)
    if since is not None:
        query = query.where(Patrol.started_at >= since)
    if until is not None:
        query = query.where(Patrol.started_at < until)
    return query.order_by(Patrol.started_at.desc(), Patrol.id.desc())



# A scheduled task's assignment ----------------------------------------------------------------

def move_task(session: so.Session, patrol: Patrol, kind: str, scan: Scan,
              device_time: dt.datetime | None = None) -> int:
    """A patrol for a scheduled task moves its assignment through the core's lifecycle.

    Checked in at the first accepted scan (its position and device time), checked out at the
    finish. Each step has a fixed client id, so a repeat is a duplicate. A step the core
    refuses (the task cancelled meanwhile, a fence the walk never touched) leaves the patrol
    as it is; the finish tries the check-in again.

    :return: the points the core booked for the completion (a station's rules may pay
        ``core.task_completed`` for a patrol besides the patrol's own events).
    """
    task = session.get(Task, patrol.task_id)
    if task is None or scan.lat is None or scan.lon is None:
        return 0
    try:
        with session.begin_nested():
            result = tasks.check_in(session, task, patrol.user_id, kind=kind, lat=scan.lat,
                                    lon=scan.lon, accuracy_m=scan.accuracy_m,
                                    is_mock=scan.is_mock,
                                    device_time=device_time or scan.device_time,
                                    client_id=f"patrol-{patrol.id}-{kind}")
    except (Conflict, Invalid):
        return 0
    return result.points



# Finishing ------------------------------------------------------------------------------------

def finish_patrol(session: so.Session, who: Actor, patrol_id: int,
                  finished_at: dt.datetime | None = None) -> Patrol:
    """Finish a patrol (its walker, or an officer): summary stored, points booked once.

    Finishing again returns the same summary and books nothing.
    """
    patrol = get_patrol(session, who, patrol_id)
    if patrol.status == PatrolStatus.FINISHED:
        return patrol
    settings = for_station(session, patrol.station_id)
    now = clock.now()
    if finished_at is None:
        finished_at = now
    else:
        station = session.get_one(Station, patrol.station_id)
        clock.check_device_time(finished_at, geofence.station_rules(station.settings),
                                field="finished_at", server_time=now)
    if finished_at < patrol.started_at:
        raise Invalid("finish_before_start", field="finished_at")
    close(session, patrol, finished_at, settings)
    if patrol.user_id != who.user.id:
        audit.record(session, actor=who.user, role=who.role, action="patrol.finished_for",
                     record=patrol, user_id=patrol.user_id)
    return patrol


def close(session: so.Session, patrol: Patrol, finished_at: dt.datetime,
          settings: PatrolSettings, *, auto: bool = False) -> dict[str, Any]:
    """Mark the patrol finished, store its summary and book its points (earn-once)."""
    # The conditional UPDATE makes two concurrent finishes close it once.
    closed = cast(sa.CursorResult[Any], session.execute(
        sa.update(Patrol).where(Patrol.id == patrol.id, Patrol.status == PatrolStatus.ACTIVE)
        .values(status=PatrolStatus.FINISHED, finished_at=finished_at, auto_finished=auto)
        .execution_options(synchronize_session=False))).rowcount
    session.refresh(patrol)
    if not closed:
        return patrol.summary or {}
    route = session.get_one(Route, patrol.route_id)
    summary = summarize(session, patrol, route, settings)
    points = 0
    zone = zoneinfo.ZoneInfo(session.get_one(Station, patrol.station_id).timezone)
    hours = settings.checkpoint_points_period_hours
    # Earn-once per person, checkpoint and period, whatever the patrol: walking the same tags
    # on several patrols (or on patrols started at once) pays them once a period. One batch.
    points += ledger.award_many(
        session, station_id=patrol.station_id, user_id=patrol.user_id,
        event_code="patrol.checkpoint_ok", source_type="patrol_checkpoint",
        source_ids=[f"{checkpoint_id}@{checkpoint_period(scanned_at, zone, hours)}"
                    for checkpoint_id, scanned_at in summary.pop("_earning")])
    if summary["completed"]:
        entry = ledger.award(session, station_id=patrol.station_id, user_id=patrol.user_id,
                             event_code="patrol.completed", source_type="patrol",
                             source_id=patrol.id)
        points += entry.amount if entry else 0
    if patrol.task_id is not None:
        accepted = session.scalars(sa.select(Scan).where(
            Scan.station_id == patrol.station_id, Scan.patrol_id == patrol.id,
            Scan.status != ScanStatus.REJECTED).order_by(Scan.device_time, Scan.id)).all()
        if accepted:
            move_task(session, patrol, "in", accepted[0])
            points += move_task(session, patrol, "out", accepted[-1], finished_at)
    summary["points"] = points
    patrol.summary = summary
    patrol.completed = summary["completed"]
    session.flush()
    return summary


def checkpoint_period(at: dt.datetime, zone: zoneinfo.ZoneInfo, hours: int) -> str:
    """The station-local block of ``hours`` (from midnight) holding ``at``, e.g. 2026-03-02T16."""
    local = at.astimezone(zone)
    return f"{local.date().isoformat()}T{local.hour // hours * hours:02d}"


def summarize(session: so.Session, patrol: Patrol, route: Route,
              settings: PatrolSettings) -> dict[str, Any]:
    """Checkpoints ok / flagged / missed, distance walked, duration, completion."""
    checkpoints = route_checkpoints(session, route)
    on_route = {c.id for c in checkpoints}
    scans = session.scalars(sa.select(Scan).where(
        Scan.station_id == patrol.station_id, Scan.patrol_id == patrol.id)
        .order_by(Scan.device_time, Scan.id)).all()
    accepted = [s for s in scans if s.status != ScanStatus.REJECTED]
    ok = {s.checkpoint_id for s in accepted if s.status == ScanStatus.OK} & on_route
    rotating = {s.checkpoint_id for s in accepted
                if s.status == ScanStatus.OK and s.assurance == Assurance.ROTATING}
    ok_static = ok - rotating
    flagged = {s.checkpoint_id for s in accepted if s.status == ScanStatus.FLAGGED} & on_route
    flagged -= ok
    earning = ok if settings.static_codes_earn_points else ok - ok_static
    first_ok: dict[int, Scan] = {}
    for s in accepted:
        if s.status == ScanStatus.OK:
            first_ok.setdefault(s.checkpoint_id, s)
    distance = sum(
        geofence.distance_m(a.lat, a.lon, b.lat, b.lon)
        for a, b in zip(accepted, accepted[1:], strict=False)
        if a.lat is not None and a.lon is not None and b.lat is not None and b.lon is not None)
    total = len(on_route)
    ratio = len(earning) / total if total else 0.0
    reasons = Counter(flag for s in accepted for flag in s.flags)
    finished_at = patrol.finished_at or clock.now()
    return {
        "checkpoints_total": total,
        "ok": len(ok),
        "ok_static": len(ok_static),
        "flagged": len(flagged),
        "missed": total - len(ok) - len(flagged),
        "scans_rejected": sum(1 for s in scans if s.status == ScanStatus.REJECTED),
        "flag_reasons": dict(sorted(reasons.items())),
        "distance_m": round(distance, 1),
        "duration_s": int((finished_at - patrol.started_at).total_seconds()),
        "completion_ratio": round(ratio, 3),
        "completed": total > 0 and ratio >= settings.completion_ratio,
        # Each paying checkpoint with the device time of its first good scan.
        "_earning": sorted((s.checkpoint_id, s.device_time) for s in first_ok.values()
                           if s.checkpoint_id in earning),
    }


def unlock_patrol(session: so.Session, who: Actor, patrol_id: int) -> Patrol:
    """Clear a patrol's wrong-code count after a check (officers, audited).

    It also lifts the walker's lock across patrols (``max_wrong_codes_per_day``): the officer
    has checked the person, so their wrong codes so far stop counting.
    """
    who.require("officer", "admin")
    patrol = get_patrol(session, who, patrol_id)
    before = patrol.wrong_codes
    patrol.wrong_codes = 0
    lifted = guesses.unlock(session, patrol.station_id, patrol.user_id, clock.now())
    audit.record(session, actor=who.user, role=who.role, action="patrol.unlocked", record=patrol,
                 wrong_codes=before,
                 guess_lock_until=lifted.isoformat() if lifted is not None else None)
    return patrol


def finish_stale(session: so.Session, station_id: int, now: dt.datetime) -> int:
    """Close patrols left open past the longest patrol (plus an hour for the last uploads)."""
    settings = for_station(session, station_id)
    cutoff = now - dt.timedelta(hours=settings.max_patrol_hours + 1)
    stale = session.scalars(sa.select(Patrol).where(
        Patrol.station_id == station_id, Patrol.status == PatrolStatus.ACTIVE,
        Patrol.started_at < cutoff).limit(500)).all()
    for patrol in stale:
        last = session.scalar(sa.select(sa.func.max(Scan.device_time)).where(
            Scan.station_id == station_id, Scan.patrol_id == patrol.id,
            Scan.status != ScanStatus.REJECTED))
        close(session, patrol, last or patrol.started_at, settings, auto=True)
    return len(stale)
