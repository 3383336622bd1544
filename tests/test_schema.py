"""The schema comes from the migrations, and the models do not drift from them."""

from __future__ import annotations

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
