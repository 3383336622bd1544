"""Scans: checkpoint codes verified, cheating flagged, offline batches, each stored once."""

from __future__ import annotations

import datetime as dt
import hmac
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm as so

from core import clock, geofence
from core.access import Actor
from core.errors import Conflict, Invalid, NotFound, WardensError
from plugins.patrol import codes, guesses
from plugins.patrol.models import (
    Assurance,
    Checkpoint,
    GuessLock,
    Patrol,
    PatrolStatus,
    Route,
    Scan,
    ScanStatus,
)
from plugins.patrol.patrols import get_patrol, move_task
from plugins.patrol.settings import PatrolSettings, for_station

# Flag reasons, in the order they are checked.
OUTSIDE_RADIUS = "outside_radius"
IMPOSSIBLE_SPEED = "impossible_speed"
MOCK_LOCATION = "mock_location"
REPEATED_COORDINATES = "repeated_coordinates"
OUT_OF_ORDER = "out_of_order"

MAX_SCANS_PER_PATROL = 500
MAX_BATCH = 200
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


# A patrol with its route and the person's guess lock (a right scan pays nothing for it);
# built once, bound per call.
_WALK = (sa.select(Patrol, Route, GuessLock).join(Route, Route.id == Patrol.route_id)
         .outerjoin(GuessLock, sa.and_(GuessLock.station_id == Patrol.station_id,
                                       GuessLock.user_id == Patrol.user_id))
         .where(Patrol.id == sa.bindparam("patrol_id"),
                Patrol.station_id == sa.bindparam("station_id"),
                Patrol.user_id == sa.bindparam("user_id")))
# One scan: the checkpoint comes in the same round trip (only an ordered route needs more), and
# so do the patrol's scans so far with any stored under this client id: a row each, the
# patrol's columns repeated (the session builds its objects once).
# Only the columns judging reads come: each earlier scan is a row, and a column is work for
# every one (a re-sent scan's other columns are loaded when its answer reads them).
_WALK_ONE_SCAN = _WALK.add_columns(Checkpoint, Scan).outerjoin(Checkpoint, sa.and_(
    Checkpoint.id == sa.bindparam("checkpoint_id"), Checkpoint.station_id == Patrol.station_id,
    Checkpoint.route_id == Patrol.route_id, Checkpoint.archived_at.is_(None))
).outerjoin(Scan, sa.and_(Scan.station_id == Patrol.station_id, sa.or_(
    Scan.patrol_id == Patrol.id, Scan.client_id == sa.bindparam("client_id")))
).options(
    so.load_only(Route.station_id, Route.ordered),
    so.load_only(Checkpoint.station_id, Checkpoint.route_id, Checkpoint.sequence, Checkpoint.lat,
                 Checkpoint.lon, Checkpoint.radius_m, Checkpoint.secret,
                 Checkpoint.previous_secret, Checkpoint.secret_rotated_at,
                 Checkpoint.code_step_s),
    so.load_only(Scan.patrol_id, Scan.checkpoint_id, Scan.client_id, Scan.status,
                 Scan.code_use, Scan.lat, Scan.lon, Scan.accuracy_m, Scan.is_mock,
                 Scan.device_time))


def _load_walk(session: so.Session, who: Actor, patrol_id: int, items: list[ScanInput],
               all_checkpoints: bool) -> _Walk:
    single = items[0] if len(items) == 1 and not all_checkpoints else None
    client_ids = {i.client_id for i in items}
    params: dict[str, Any] = {"patrol_id": patrol_id, "station_id": who.station.id,
                              "user_id": who.user.id}
    if single is not None:
        query = _WALK_ONE_SCAN
        params.update(checkpoint_id=single.checkpoint_id, client_id=single.client_id)
    else:
        query = _WALK
    # Any: the checkpoint and scan columns are there only for a single scan (row[3], row[4])
    rows: Any = session.execute(query, params).all()
    if not rows:
        raise NotFound("patrol_not_found")
    patrol, route, lock = rows[0][0], rows[0][1], rows[0][2]
    settings = for_station(session, who.station.id)
    if single is not None and not route.ordered:
        checkpoints = [rows[0][3]] if rows[0][3] is not None else []
    else:
        checkpoints = list(session.scalars(
            sa.select(Checkpoint).where(Checkpoint.station_id == route.station_id,
                                        Checkpoint.route_id == route.id,
                                        Checkpoint.archived_at.is_(None))
            .order_by(Checkpoint.sequence, Checkpoint.id)))
    earlier: list[Scan]
    if single is not None:
        earlier = [row[4] for row in rows if row[4] is not None]
    else:
        # The patrol's scans so far, and any scan stored under these client ids: one query.
        earlier = list(session.scalars(sa.select(Scan).where(
            Scan.station_id == route.station_id,
            sa.or_(Scan.patrol_id == patrol.id, Scan.client_id.in_(client_ids)))))
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
            move_task(session, walk.patrol, "in", walk.accepted[0])
    elif outcome.new:
        # Inserted now so the answer carries the scan's id. A concurrent twin clashes on the
        # unique keys: 409, and the retry is a duplicate. No savepoint: one statement fewer
        # on the hot path, and the request rolls back.
        assert outcome.scan is not None
        try:
            _insert(session, outcome.scan)
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
        move_task(session, walk.patrol, "in", walk.accepted[0])
    return [results[i] for i in range(len(items))]


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
    """Every column given (none left to a default): ``_insert`` writes them as they are."""
    return Scan(station_id=walk.patrol.station_id, patrol_id=walk.patrol.id,
                checkpoint_id=item.checkpoint_id, user_id=walk.patrol.user_id,
                client_id=item.client_id, lat=item.lat, lon=item.lon, accuracy_m=item.accuracy_m,
                is_mock=item.is_mock, device_time=item.device_time, server_time=walk.now,
                **{"assurance": None, "flags": [], "reject_code": None, "code_use": None,
                   "distance_m": None, **values})


# A scan that nothing later in its request reads back is written by one INSERT built once: the
# session's unit of work (change tracking, flush ordering) would cost more than the statement.
_SCAN_TABLE: sa.Table = Scan.__table__  # type: ignore[assignment]
_INSERT_SCAN = sa.insert(_SCAN_TABLE).returning(_SCAN_TABLE.c.id)
_SCAN_COLUMNS = [column.key for column in _SCAN_TABLE.columns if column.key != "id"]


def _insert(session: so.Session, row: Scan) -> None:
    """Store ``row`` (left outside the session: the answer only reads it) and give it its id."""
    values = {key: getattr(row, key) for key in _SCAN_COLUMNS}
    row.id = session.execute(_INSERT_SCAN, values).scalar_one()


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
    if code.isdecimal() and len(code) == codes.DIGITS:
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


