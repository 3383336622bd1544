"""The schema comes from the migrations, and the models do not drift from them."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from core import migrate


def test_migrations_built_the_schema_and_models_match(connection):
    tables = set(sa.inspect(connection).get_table_names())
    assert {"station", "user_account", "membership", "audit_event", "alembic_version"} <= tables
    assert migrate.drift(connection) == []


def test_naive_datetimes_are_refused_and_aware_ones_come_back_utc(session):
    import datetime as dt

    import pytest

    from core.models import Station

    station = Station(code="tz", name="tz", created_at=dt.datetime(2026, 1, 1, 8, 0))
    session.add(station)
    with pytest.raises(sa.exc.StatementError):
        session.flush()
    session.rollback()
    shanghai = dt.timezone(dt.timedelta(hours=8))
    station = Station(code="tz", name="tz", created_at=dt.datetime(2026, 1, 1, 8, 0,
                                                                     tzinfo=shanghai))
    session.add(station)
    session.flush()
    session.expire(station)
    assert station.created_at == dt.datetime(2026, 1, 1, 0, 0, tzinfo=dt.UTC)
    assert station.created_at.tzinfo is not None


# A foreign key needs an index to be followed from the row it points at (a person's rows, a
# patrol's scans) and to delete that row without reading the whole table. An index counts when
# the key leads it, or follows station_id (every query of a tenant table names the station).
# Left out on purpose: who-did-it marks (``*_by`` pointing at user_account): a person's row is
# never deleted (erasure rewrites it), and nothing lists records by who made them.
UNINDEXED_FOREIGN_KEYS = """
SELECT c.conrelid::regclass::text, a.attname, c.confrelid::regclass::text
FROM pg_constraint c
JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
WHERE c.contype = 'f' AND NOT EXISTS (
  SELECT 1 FROM pg_index i WHERE i.indrelid = c.conrelid AND (
    i.indkey[0] = c.conkey[1]
    OR (i.indkey[1] = c.conkey[1] AND EXISTS (
      SELECT 1 FROM pg_attribute s WHERE s.attrelid = i.indrelid AND s.attnum = i.indkey[0]
      AND s.attname = 'station_id'))))
ORDER BY 1, 2
"""


@pytest.mark.postgres_only
def test_every_foreign_key_has_an_index(connection):
    missing = [f"{table}.{column} -> {target}" for table, column, target
               in connection.execute(sa.text(UNINDEXED_FOREIGN_KEYS)).all()
               if not (column.endswith("_by") and target == "user_account")
               and not table.startswith("sample_")]  # the suite's own sample plugin
    assert missing == []
