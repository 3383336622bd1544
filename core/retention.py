"""Position retention: one job clears the old positions every registered table holds."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy import orm as so

from core import events, geofence
from core.db import Base
from core.hookspecs import RetainedPositions
from core.models import Checkin, RetentionMark, Station

BATCH = 1000
# Per table and run: a first run over a long history catches up over the next days.
MAX_BATCHES = 50

#: The core's own: check-in positions (of every task kind); the check-ins stay.
CHECKINS = RetainedPositions(table=Checkin.__tablename__, time_column="server_time")


def check(spec: RetainedPositions) -> str | None:
    """Why ``spec`` cannot be cleared (an unknown table or column), or None."""
    table = Base.metadata.tables.get(spec.table)
    if table is None:
        return f"table {spec.table} is not a model of this deployment"
    needed = ["id", "station_id", spec.time_column, *spec.position_columns, *spec.only_when]
    if spec.cleared_at_column:
        needed.append(spec.cleared_at_column)
    missing = [name for name in needed if name not in table.c]
    if missing:
        return f"table {spec.table} has no column {', '.join(missing)}"
    if not spec.position_columns:
        return f"table {spec.table}: no position columns named"
    return None


def clear_old_positions(session: so.Session, station: Station | None, now: dt.datetime) -> int:
    """Retention (daily): positions older than the station's ``tasks.position_retention_days``
    are cleared in every registered table, whether or not the owning plugin is switched on;
    the rows themselves (the facts of a check-in, scan or visit) stay."""
    assert station is not None
    days = int(geofence.station_rules(station.settings)["position_retention_days"])
    cutoff = now - dt.timedelta(days=days)
    return sum(_clear(session, station.id, spec, cutoff, now)
               for spec in events.deployment(session).retained_positions)


def _clear(session: so.Session, station_id: int, spec: RetainedPositions, cutoff: dt.datetime,
           now: dt.datetime) -> int:
    table = Base.metadata.tables[spec.table]
    time = table.c[spec.time_column]
    mark = session.scalar(sa.select(RetentionMark).where(
        RetentionMark.station_id == station_id, RetentionMark.table_name == spec.table))
    since = mark.cleared_until if mark is not None else None
    if since is not None and since >= cutoff:
        return 0
    due = [table.c.station_id == station_id, time < cutoff,
           sa.or_(*(table.c[c].is_not(None) for c in spec.position_columns)),
           *(table.c[c] == value for c, value in spec.only_when.items())]
    values: dict[str, object] = {c: None for c in spec.position_columns}
    if spec.cleared_at_column:
        values[spec.cleared_at_column] = now
    cleared = 0
    for _ in range(MAX_BATCHES):
        window = due if since is None else [*due, time >= since]
        rows = session.execute(sa.select(table.c.id, time).where(*window)
                               .order_by(time, table.c.id).limit(BATCH)).all()
        if rows:
            session.execute(sa.update(table).where(table.c.id.in_([r[0] for r in rows]))
                            .values(values).execution_options(synchronize_session=False))
            cleared += len(rows)
        if len(rows) < BATCH:
            reached = cutoff
            break
        # Rows at this very time are cleared, so starting there again repeats none of them.
        since = rows[-1][1]
    else:
        assert since is not None
        reached = since
    if mark is None:
        session.add(RetentionMark(station_id=station_id, table_name=spec.table,
                                  cleared_until=reached))
    else:
        mark.cleared_until = reached
    return cleared
