"""A database of the first release (every branch at its 0001), a row in every table written in
that release's SQL, upgraded to head by `wardens db upgrade`: every row and value is still there."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.script import ScriptDirectory
from click.testing import CliRunner

from api.cli import cli
from core import migrate
from core.db import create_engine

FIRST = re.compile(r"^0001_")
# "kind IN ('a', 'b')" as SQLite keeps it, "kind::text = ANY (ARRAY['a'::..." as PostgreSQL does
CHOICES = re.compile(r"^\W*(\w+)(?:::\w+)? (?:IN \(|= ANY \(ARRAY\[)'([^']+)'")
# Columns a check ties together: a person's seat is either theirs or waits for a phone.
LEFT_EMPTY = {("membership", "pending_phone")}
START = dt.datetime(2026, 3, 1, 8, 0, tzinfo=dt.UTC)


def _first_revisions() -> list[str]:
    script = ScriptDirectory.from_config(migrate.alembic_config())
    return sorted(rev.revision for rev in script.walk_revisions()
                  if FIRST.match(rev.revision) and not rev.down_revision)


def _value(table: sa.Table, column: sa.Column, position: int) -> Any:
    """A value valid at the first release: foreign keys point at the row of id 1, counts are 1
    (within every range its checks ask), times grow with the column's position (an end comes
    after its start), a listed value is the first of its list."""
    for check in table.constraints:
        if isinstance(check, sa.CheckConstraint):
            found = CHOICES.match(str(check.sqltext))
            if found and found.group(1) == column.name:
                return found.group(2)
    kind = column.type
    if isinstance(kind, sa.Enum) and kind.enums:
        return kind.enums[0]
    if isinstance(kind, sa.Boolean):
        return True
    if isinstance(kind, sa.Integer):
        return 1
    if isinstance(kind, sa.Float | sa.Numeric):
        return 1.5
    if isinstance(kind, sa.DateTime):
        return START + dt.timedelta(minutes=position)
    if isinstance(kind, sa.Date):
        return START.date() + dt.timedelta(days=position)
    if isinstance(kind, sa.Time):
        return (START + dt.timedelta(minutes=position)).time()
    if isinstance(kind, sa.JSON):
        return {"kept": position}
    if isinstance(kind, sa.LargeBinary):
        return b"kept"
    if isinstance(kind, sa.String | sa.Text):
        length = getattr(kind, "length", None) or 40
        return f"k{position}"[:length]
    raise AssertionError(f"{table.name}.{column.name}: no sample value for {kind!r}")


def _row(table: sa.Table) -> dict[str, Any]:
    return {column.name: None if (table.name, column.name) in LEFT_EMPTY
            else _value(table, column, position)
            for position, column in enumerate(table.columns)}


def _plain(value: Any) -> Any:
    """A time as UTC without its zone: SQLite's reflected columns read it back without one."""
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        return value.astimezone(dt.UTC).replace(tzinfo=None)
    return value


def test_the_first_release_upgraded_to_head_keeps_every_row_and_value(fresh_url, tmp_path,
                                                                       monkeypatch):
    config = migrate.alembic_config(fresh_url)
    for first in _first_revisions():
        command.upgrade(config, first)
    engine = create_engine(fresh_url)
    released = sa.MetaData()
    released.reflect(engine)
    written: dict[str, dict[str, Any]] = {}
    with engine.begin() as conn:
        for table in released.sorted_tables:
            if table.name == "alembic_version":
                continue
            written[table.name] = _row(table)
            conn.execute(table.insert().values(written[table.name]))

    monkeypatch.setenv("WARDENS_INSTANCE", str(tmp_path))
    monkeypatch.setenv("WARDENS_DATABASE_URL", fresh_url)
    upgraded = CliRunner().invoke(cli, ["db", "upgrade"])
    assert upgraded.exit_code == 0, upgraded.output

    head = sa.MetaData()
    head.reflect(engine)
    kept: dict[str, dict[str, Any]] = {}
    with engine.connect() as conn:
        for name, row in written.items():
            assert name in head.tables, f"{name} is gone"
            stored = conn.execute(sa.select(head.tables[name])).mappings().all()
            assert len(stored) == 1, f"{name}: {len(stored)} rows"
            kept[name] = {key: _plain(stored[0][key]) for key in row if key in stored[0]}
    engine.dispose()
    expected = {name: {key: _plain(value) for key, value in row.items() if key in kept[name]}
                for name, row in written.items()}
    assert kept == expected
