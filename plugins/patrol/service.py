"""Patrols: start, scan checkpoints (codes verified, cheating flagged), offline batches, finish."""

from __future__ import annotations

import datetime as dt
import hmac
import zoneinfo
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy import orm as so

from core import audit, clock, geofence, ledger, tasks
from core.access import Actor
from core.errors import Conflict, Invalid, NotFound, PermissionDenied, WardensError
from core.models import Assignment, GroupMember, Station, Task, TaskStatus
from core.models.tasks import AssignmentStatus
from core.stations import in_group_of_kind
from plugins.patrol import codes, guesses
from plugins.patrol.checkpoints import TASK_KIND, TEAM_KIND, route_checkpoints
from plugins.patrol.models import (
    Assurance,
    Checkpoint,
    GuessLock,
    Patrol,
    PatrolStatus,
    Route,
    RouteTask,
    Scan,
    ScanStatus,
)
from plugins.patrol.settings import PatrolSettings, for_station

# Flag reasons, in the order they are checked.
OUTSIDE_RADIUS = "outside_radius"
IMPOSSIBLE_SPEED = "impossible_speed"
MOCK_LOCATION = "mock_location"
REPEATED_COORDINATES = "repeated_coordinates"
OUT_OF_ORDER = "out_of_order"

MAX_SCANS_PER_PATROL = 500
MAX_BATCH = 200
TASK_ASSIGNED = (AssignmentStatus.SIGNED_UP, AssignmentStatus.CHECKED_IN,
                 AssignmentStatus.COMPLETED)


@dataclass(frozen=True)
class ScanInput:
    """One scan as a phone sends it."""

    checkpoint_id: int
    code: str
    lat: float
    lon: float
    accuracy_m: float
    is_mock: bool
    device_time: dt.datetime
    client_id: str


@dataclass
class ScanOutcome:
    """``created``, ``duplicate`` (that client id was stored before) or ``rejected`` with a code."""

    client_id: str
    result: str
    scan: Scan | None = None
    error: WardensError | None = None
    new: bool = False  # a row this request made, to be stored


class _Rejected(Exception):
    def __init__(self, error: WardensError, *, store: bool = True, wrong: bool = False) -> None:
        self.error, self.store, self.wrong = error, store, wrong


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


def scans_query(session: so.Session, who: Actor, patrol_id: int) -> sa.Select[Any]:
    patrol = get_patrol(session, who, patrol_id)
    return (sa.select(Scan).where(Scan.station_id == patrol.station_id, Scan.patrol_id == patrol.id)
            .order_by(Scan.device_time, Scan.id))


# Scanning -------------------------------------------------------------------------------------

@dataclass
class _Walk:
    """One patrol's state while its scans are judged: loaded once per request."""

    patrol: Patrol
    route: Route
    settings: PatrolSettings
    checkpoints: dict[int, Checkpoint]
    accepted: list[Scan]
    by_client_id: dict[str, Scan]
    now: dt.datetime
    accuracy_limit_m: float
    #: the station's task settings: the accuracy limit and the device-time bounds
    device_rules: dict[str, Any] = field(default_factory=dict)
    order: list[int] = field(default_factory=list)
    stored: int = 0
    # The person's lock across patrols (wrong codes per day), read with the patrol.
    locked_until: dt.datetime | None = None
    counts_from: dt.datetime | None = None


def _load_walk(session: so.Session, who: Actor, patrol_id: int, items: list[ScanInput],
               all_checkpoints: bool) -> _Walk:
    single = items[0] if len(items) == 1 and not all_checkpoints else None
    # The person's guess lock rides on the same round trip: a right scan pays nothing for it.
    query = (sa.select(Patrol, Route, GuessLock).join(Route, Route.id == Patrol.route_id)
             .outerjoin(GuessLock, sa.and_(GuessLock.station_id == Patrol.station_id,
                                           GuessLock.user_id == Patrol.user_id))
             .where(Patrol.id == patrol_id, Patrol.station_id == who.station.id,
                    Patrol.user_id == who.user.id))
    if single is not None:
        # The one checkpoint comes in the same round trip; only an ordered route needs more.
        query = query.add_columns(Checkpoint).outerjoin(Checkpoint, sa.and_(
            Checkpoint.id == single.checkpoint_id, Checkpoint.station_id == Patrol.station_id,
            Checkpoint.route_id == Patrol.route_id, Checkpoint.archived_at.is_(None)))
    # Any: the checkpoint column is there only for a single scan (row[3])
    row: Any = session.execute(query).first()
    if row is None:
        raise NotFound("patrol_not_found")
    patrol, route, lock = row[0], row[1], row[2]
    settings = for_station(session, who.station.id)
    if single is not None and not route.ordered:
        checkpoints = [row[3]] if row[3] is not None else []
    else:
        checkpoints = list(session.scalars(
            sa.select(Checkpoint).where(Checkpoint.station_id == route.station_id,
                                        Checkpoint.route_id == route.id,
                                        Checkpoint.archived_at.is_(None))
            .order_by(Checkpoint.sequence, Checkpoint.id)))
    # The patrol's scans so far, and any scan already stored under these client ids: one query.
    client_ids = {i.client_id for i in items}
    same_client = (Scan.client_id == single.client_id if single is not None
                   else Scan.client_id.in_(client_ids))
    earlier = session.scalars(sa.select(Scan).where(
        Scan.station_id == route.station_id, sa.or_(Scan.patrol_id == patrol.id, same_client))).all()
    rules = geofence.station_rules(who.station.settings)
    return _Walk(
        patrol=patrol, route=route, settings=settings,
        checkpoints={c.id: c for c in checkpoints}, now=clock.now(),
        accuracy_limit_m=rules["accuracy_limit_m"], device_rules=rules,
        accepted=sorted((s for s in earlier if s.patrol_id == patrol.id
                         and s.status != ScanStatus.REJECTED), key=lambda s: s.device_time),
        by_client_id={s.client_id: s for s in earlier if s.client_id in client_ids},
        order=[c.id for c in checkpoints],
        stored=sum(1 for s in earlier if s.patrol_id == patrol.id),
        locked_until=lock.locked_until if lock else None,
        counts_from=lock.counts_from if lock else None)


def scan(session: so.Session, who: Actor, patrol_id: int, item: ScanInput) -> ScanOutcome:
    """Judge and record one scan. A refused scan raises its error (422, or 409 for state)."""
    walk = _load_walk(session, who, patrol_id, [item], all_checkpoints=False)
    outcome = _apply(session, walk, item)
    first_for_task = (walk.patrol.task_id is not None and outcome.new and outcome.error is None
                      and walk.accepted == [outcome.scan])
    if first_for_task:
        # The task's check-in follows and writes: the scan is stored first, in a savepoint,
        # so that a concurrent twin is answered as a duplicate here.
        outcome = _store(session, walk, outcome)
        if outcome.result == "created":
            _move_task(session, walk.patrol, "in", walk.accepted[0])
    elif outcome.new:
        # Flushed now so the answer carries the scan's id (the insert runs either way). A
        # concurrent twin clashes on the unique keys: 409, and the retry is a duplicate.
        # No savepoint: one statement fewer on the hot path, and the request rolls back.
        session.add(outcome.scan)
        try:
            session.flush()
        except sa.exc.IntegrityError:
            raise Conflict("conflict") from None
    if outcome.error is not None:
        raise outcome.error
    return outcome


def scan_batch(session: so.Session, who: Actor, patrol_id: int,
               items: list[ScanInput]) -> list[ScanOutcome]:
    """An offline batch: each scan judged on its own, in device-time order; results in input order."""
    if len(items) > MAX_BATCH:
        raise Invalid("batch_too_large", max=MAX_BATCH)
    walk = _load_walk(session, who, patrol_id, items, all_checkpoints=True)
    order = sorted(range(len(items)), key=lambda i: items[i].device_time)
    results: dict[int, ScanOutcome] = {}
    for index in order:
        outcome = _apply(session, walk, items[index])
        results[index] = _store(session, walk, outcome) if outcome.new else outcome
    if walk.patrol.task_id is not None and walk.accepted:
        _move_task(session, walk.patrol, "in", walk.accepted[0])
    return [results[i] for i in range(len(items))]


def _move_task(session: so.Session, patrol: Patrol, kind: str, scan: Scan,
               device_time: dt.datetime | None = None) -> None:
    """A patrol for a scheduled task moves its assignment through the core's lifecycle.

    Checked in at the first accepted scan (its position and device time), checked out at the
    finish. Each step has a fixed client id, so a repeat is a duplicate. A step the core
    refuses (the task cancelled meanwhile, a fence the walk never touched) leaves the patrol
    as it is; the finish tries the check-in again.
    """
    task = session.get(Task, patrol.task_id)
    if task is None or scan.lat is None or scan.lon is None:
        return
    try:
        with session.begin_nested():
            tasks.check_in(session, task, patrol.user_id, kind=kind, lat=scan.lat, lon=scan.lon,
                           accuracy_m=scan.accuracy_m, is_mock=scan.is_mock,
                           device_time=device_time or scan.device_time,
                           client_id=f"patrol-{patrol.id}-{kind}")
    except (Conflict, Invalid):
        pass


def _store(session: so.Session, walk: _Walk, outcome: ScanOutcome) -> ScanOutcome:
    """Insert one batch item in a savepoint, so that a concurrent re-send of the batch is
    answered item by item (on PostgreSQL the insert waits for the other request, then clashes)."""
    row = outcome.scan
    assert row is not None
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
        return outcome
    except sa.exc.IntegrityError:
        if row in walk.accepted:
            walk.accepted.remove(row)
        walk.by_client_id.pop(row.client_id, None)
        walk.stored -= 1
    first = session.scalar(sa.select(Scan).where(Scan.station_id == walk.patrol.station_id,
                                                 Scan.client_id == row.client_id))
    if first is None:  # same code, other client id: the other request used it first
        return ScanOutcome(row.client_id, "rejected", error=Invalid("code_replayed"))
    return _seen_before(walk, first)


def _seen_before(walk: _Walk, stored: Scan) -> ScanOutcome:
    """The answer to a client id already stored: the first result, never a second row."""
    walk.by_client_id[stored.client_id] = stored
    if stored.patrol_id != walk.patrol.id:
        return ScanOutcome(stored.client_id, "rejected",
                           error=Conflict("client_id_taken", client_id=stored.client_id))
    if stored.status == ScanStatus.REJECTED:
        # The same answer as the first time; the attempt is not counted twice.
        return ScanOutcome(stored.client_id, "rejected", stored,
                           Invalid(stored.reject_code or "scan_rejected"))
    return ScanOutcome(stored.client_id, "duplicate", stored)


def _apply(session: so.Session, walk: _Walk, item: ScanInput) -> ScanOutcome:
    """Judge ``item`` against the walk so far; a new row is returned, not yet added."""
    stored = walk.by_client_id.get(item.client_id)
    if stored is not None:
        return _seen_before(walk, stored)
    try:
        row = _judge(walk, item)
    except _Rejected as rejected:
        if rejected.wrong:
            _count_wrong_code(session, walk)
            left_today, walk.locked_until = guesses.record_wrong(
                session, walk.patrol.station_id, walk.patrol.user_id, walk.counts_from,
                walk.now, walk.settings.max_wrong_codes_per_day)
            details = rejected.error.details
            details["attempts_left"] = min(details["attempts_left"], left_today)
        if rejected.store or rejected.wrong:
            # The attempt must stick although the request answers with an error.
            session.info["commit_on_error"] = True
        if not rejected.store:
            return ScanOutcome(item.client_id, "rejected", error=rejected.error)
        row = _new_scan(walk, item, status=ScanStatus.REJECTED, reject_code=rejected.error.code)
        walk.by_client_id[item.client_id] = row
        walk.stored += 1
        return ScanOutcome(item.client_id, "rejected", row, rejected.error, new=True)
    walk.by_client_id[item.client_id] = row
    walk.accepted.append(row)
    walk.accepted.sort(key=lambda s: s.device_time)
    walk.stored += 1
    return ScanOutcome(item.client_id, "created", row, new=True)


def _new_scan(walk: _Walk, item: ScanInput, **values: Any) -> Scan:
    return Scan(station_id=walk.patrol.station_id, patrol_id=walk.patrol.id,
                checkpoint_id=item.checkpoint_id, user_id=walk.patrol.user_id,
                client_id=item.client_id, lat=item.lat, lon=item.lon, accuracy_m=item.accuracy_m,
                is_mock=item.is_mock, device_time=item.device_time, server_time=walk.now,
                **values)


def _count_wrong_code(session: so.Session, walk: _Walk) -> None:
    # A conditional increment in SQL: concurrent wrong guesses are all counted.
    count = session.execute(
        sa.update(Patrol).where(Patrol.id == walk.patrol.id)
        .values(wrong_codes=Patrol.wrong_codes + 1).returning(Patrol.wrong_codes)
        .execution_options(synchronize_session=False)).scalar_one()
    so.attributes.set_committed_value(walk.patrol, "wrong_codes", count)


def _judge(walk: _Walk, item: ScanInput) -> Scan:
    """The scan to store (ok or flagged), or raise _Rejected."""
    patrol, settings, now = walk.patrol, walk.settings, walk.now
    if patrol.status != PatrolStatus.ACTIVE:
        raise _Rejected(Conflict("patrol_not_active", status=str(patrol.status)), store=False)
    if patrol.wrong_codes >= settings.max_wrong_codes:
        raise _Rejected(Invalid("patrol_locked", max=settings.max_wrong_codes), store=False)
    if walk.locked_until is not None and walk.locked_until > now:
        # Too many wrong codes across the person's patrols: a new patrol buys no more guesses.
        raise _Rejected(guesses.refusal(walk.locked_until, now, settings.max_wrong_codes_per_day),
                        store=False)
    if walk.stored >= MAX_SCANS_PER_PATROL:
        raise _Rejected(Invalid("patrol_scan_limit", max=MAX_SCANS_PER_PATROL), store=False)
    checkpoint = walk.checkpoints.get(item.checkpoint_id)
    if checkpoint is None:
        raise _Rejected(Invalid("checkpoint_not_on_route", checkpoint_id=item.checkpoint_id),
                        store=False)
    if item.accuracy_m > walk.accuracy_limit_m:
        # The station's one accuracy limit, the same as for task check-ins.
        raise _Rejected(Invalid("position_inaccurate", field="accuracy_m",
                                accuracy_m=round(item.accuracy_m),
                                limit_m=walk.accuracy_limit_m))
    try:
        clock.check_device_time(item.device_time, walk.device_rules, server_time=now)
    except Invalid as refused:
        raise _Rejected(refused) from None
    skew = dt.timedelta(seconds=walk.device_rules["device_clock_ahead_seconds"])
    latest = patrol.started_at + dt.timedelta(hours=settings.max_patrol_hours) + skew
    if not patrol.started_at - skew <= item.device_time <= latest:
        raise _Rejected(Invalid("scan_outside_patrol",
                                started_at=patrol.started_at.isoformat()))
    code_use, assurance = _verify_code(walk, checkpoint, item)
    for earlier in walk.accepted:
        if earlier.checkpoint_id == checkpoint.id and earlier.code_use == code_use:
            raise _Rejected(Invalid("code_replayed"))
    distance = geofence.distance_m(item.lat, item.lon, checkpoint.lat, checkpoint.lon)
    flags = _flags(walk, checkpoint, item, distance)
    return _new_scan(walk, item, status=ScanStatus.FLAGGED if flags else ScanStatus.OK,
                     assurance=assurance, flags=flags, code_use=code_use,
                     distance_m=round(distance, 1))


def _verify_code(walk: _Walk, checkpoint: Checkpoint, item: ScanInput) -> tuple[str, Assurance]:
    settings, code = walk.settings, item.code.strip()
    secrets = [checkpoint.secret]
    # A scan made before a rotation (uploaded later) still verifies with the old secret.
    if (checkpoint.previous_secret and checkpoint.secret_rotated_at
            and item.device_time < checkpoint.secret_rotated_at
            and walk.patrol.started_at < checkpoint.secret_rotated_at):
        secrets.append(checkpoint.previous_secret)
    step, drift = checkpoint.code_step_s, settings.code_drift_steps
    if code.isdigit() and len(code) == codes.DIGITS:
        for secret in secrets:
            counter = codes.match(secret, code, item.device_time, step, drift)
            if counter is not None:
                return f"t{counter}", Assurance.ROTATING
        if any(codes.is_expired(s, code, item.device_time, step, drift) for s in secrets):
            # A real code seen too early: no guess from home, so it does not count to the lock.
            raise _Rejected(Invalid("code_expired"))
        raise _Rejected(Invalid("code_invalid", attempts_left=_left(walk)), wrong=True)
    typed = codes.normalize_static(code)
    if any(hmac.compare_digest(typed, codes.static_code(s)) for s in secrets):
        if not settings.allow_static_codes:
            raise _Rejected(Invalid("static_codes_not_allowed"))
        return "s", Assurance.STATIC
    raise _Rejected(Invalid("code_invalid", attempts_left=_left(walk)), wrong=True)


def _left(walk: _Walk) -> int:
    return max(0, walk.settings.max_wrong_codes - walk.patrol.wrong_codes - 1)


def _flags(walk: _Walk, checkpoint: Checkpoint, item: ScanInput, distance: float) -> list[str]:
    flags: list[str] = []
    if not geofence.is_inside(distance, checkpoint.radius_m, item.accuracy_m):
        flags.append(OUTSIDE_RADIUS)
    if _too_fast(walk, item):
        flags.append(IMPOSSIBLE_SPEED)
    if item.is_mock:
        flags.append(MOCK_LOCATION)
    if any(s.lat == item.lat and s.lon == item.lon for s in walk.accepted):
        # Real fixes never repeat to the last digit; a replayed or typed position does.
        flags.append(REPEATED_COORDINATES)
    if walk.route.ordered and _out_of_order(walk, checkpoint):
        flags.append(OUT_OF_ORDER)
    return flags


def _too_fast(walk: _Walk, item: ScanInput) -> bool:
    """Compared with the scans just before and just after it in device time."""
    before = [s for s in walk.accepted if s.device_time <= item.device_time]
    after = [s for s in walk.accepted if s.device_time > item.device_time]
    neighbours = ([before[-1]] if before else []) + ([after[0]] if after else [])
    limit = walk.settings.max_speed_kmh / 3.6
    for other in neighbours:
        if other.lat is None or other.lon is None:
            continue
        # Each fix may be off by its accuracy (capped): only distance beyond that counts.
        slack = (min(item.accuracy_m, geofence.MAX_ACCURACY_CREDIT_M)
                 + min(other.accuracy_m, geofence.MAX_ACCURACY_CREDIT_M))
        metres = geofence.distance_m(item.lat, item.lon, other.lat, other.lon) - slack
        seconds = max(1.0, abs((item.device_time - other.device_time).total_seconds()))
        if metres > 0 and metres / seconds > limit:
            return True
    return False


def _out_of_order(walk: _Walk, checkpoint: Checkpoint) -> bool:
    visited = {s.checkpoint_id for s in walk.accepted}
    if checkpoint.id in visited:
        return False
    earlier = walk.order[:walk.order.index(checkpoint.id)]
    return any(c not in visited for c in earlier)


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
    summary["points"] = points
    patrol.summary = summary
    patrol.completed = summary["completed"]
    session.flush()
    if patrol.task_id is not None:
        accepted = session.scalars(sa.select(Scan).where(
            Scan.station_id == patrol.station_id, Scan.patrol_id == patrol.id,
            Scan.status != ScanStatus.REJECTED).order_by(Scan.device_time, Scan.id)).all()
        if accepted:
            _move_task(session, patrol, "in", accepted[0])
            _move_task(session, patrol, "out", accepted[-1], finished_at)
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
