"""Database base: the declarative base, UTC and enum column types, engines and sessions."""

from __future__ import annotations

import datetime as dt
import enum
import os
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm as so
from sqlalchemy.dialects import postgresql

from core import metrics

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(sa.types.TypeDecorator[dt.datetime]):
    """An aware UTC datetime on every database (SQLite hands DateTime back naive)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def string_enum(enum_cls: type[enum.Enum]) -> sa.Enum:
    """A string column with a CHECK, so a new member never needs ALTER TYPE."""
    return sa.Enum(
        enum_cls,
        native_enum=False,
        create_constraint=True,
        length=32,
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
    )


class JSONType(sa.types.TypeDecorator[Any]):
    """JSON; JSONB on PostgreSQL."""

    impl = sa.JSON
    cache_ok = True

    def load_dialect_impl(self, dialect: Any) -> Any:
        if dialect.name == "postgresql":
            return dialect.type_descriptor(postgresql.JSONB())
        return dialect.type_descriptor(sa.JSON())


class Base(so.DeclarativeBase):
    """The one declarative base of core and every plugin."""

    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {
        dt.datetime: UTCDateTime(),
        dict[str, Any]: JSONType(),
        list[str]: JSONType(),
        enum.Enum: string_enum(enum.Enum),
    }


def instance_path() -> Path:
    """Where the SQLite file and uploads live: ``WARDENS_INSTANCE`` or ``./instance``."""
    path = Path(os.environ.get("WARDENS_INSTANCE") or Path.cwd() / "instance").resolve()
    path.mkdir(parents=True, exist_ok=True)
    return path


def default_database_url() -> str:
    return os.environ.get("WARDENS_DATABASE_URL") or f"sqlite:///{instance_path() / 'wardens.db'}"


def create_engine(url: str, **kwargs: Any) -> sa.Engine:
    """Create an engine; SQLite gets the pysqlite transaction recipe, WAL and a busy timeout."""
    if url.startswith("sqlite"):
        engine = sa.create_engine(
            url, connect_args={"check_same_thread": False, "timeout": 30}, **kwargs
        )
        _apply_sqlite_recipe(engine)
    else:
        engine = sa.create_engine(url, **kwargs)
        if not kwargs.get("pool_pre_ping") and engine.dialect.driver == "psycopg":
            _refuse_dropped_connections(engine)
    metrics.watch_pool(engine)
    return engine


def _refuse_dropped_connections(engine: sa.Engine) -> None:
    """A pooled connection the server has dropped is replaced before a request gets it.

    In place of ``pool_pre_ping`` (a ``SELECT 1``: a round trip on every checkout): an idle
    connection has nothing to read, so one with something waiting has had the server's last
    word (a restart's or an idle timeout's error, or the closed socket). The pool then opens
    a new one; a connection lost without a word fails once, as it would after a ping.
    """
    import select

    from psycopg.pq import ConnStatus, TransactionStatus

    @sa.event.listens_for(engine, "checkout")
    def on_checkout(dbapi_conn: Any, _record: Any, _proxy: Any) -> None:
        pgconn = dbapi_conn.pgconn
        if (dbapi_conn.closed or pgconn.status != ConnStatus.OK
                or pgconn.transaction_status != TransactionStatus.IDLE):
            raise sa.exc.DisconnectionError("connection closed or not idle")
        waiting = select.poll()
        waiting.register(pgconn.socket, select.POLLIN)
        if waiting.poll(0):
            raise sa.exc.DisconnectionError("the server has closed the connection")


def _apply_sqlite_recipe(engine: sa.Engine) -> None:
    # pysqlite's own transaction handling breaks SAVEPOINT and isolation; we emit BEGIN ourselves.
    @sa.event.listens_for(engine, "connect")
    def on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @sa.event.listens_for(engine, "begin")
    def on_begin(conn: sa.Connection) -> None:
        # A writer takes the lock up front, or two writers deadlock upgrading their read locks.
        write = conn.get_execution_options().get("wardens_write", True)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


class Database:
    """An engine with its session factories: one for writing requests, one for reads."""

    def __init__(self, url: str | None = None, **engine_kwargs: Any) -> None:
        self.url = url or default_database_url()
        self.engine = create_engine(self.url, **engine_kwargs)
        self.info: dict[str, Any] = {}
        self.bind(self.engine)

    def bind_info(self, info: dict[str, Any]) -> None:
        """Make ``info`` (e.g. the deployment) available as ``session.info`` on every session."""
        self.info.update(info)

    def bind(self, bind: sa.Engine | sa.Connection) -> None:
        """(Re)bind the session factories, e.g. to a test's connection."""
        options: dict[str, Any] = {"expire_on_commit": False, "info": self.info}
        if isinstance(bind, sa.Connection):
            options["join_transaction_mode"] = "create_savepoint"
            self.writer = self.reader = so.sessionmaker(bind=bind, **options)
            return
        self.writer = so.sessionmaker(bind=bind, **options)
        self.reader = so.sessionmaker(
            bind=bind.execution_options(wardens_write=False), **options
        )

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name


# Shared write patterns: each written once here, used by the core and every plugin ------------

def dialect_insert(session: so.Session, model: Any) -> Any:
    """An INSERT for ``model`` that can say ``ON CONFLICT DO NOTHING / DO UPDATE`` on the
    session's database (PostgreSQL or SQLite): the one place that picks the dialect."""
    from sqlalchemy.dialects import sqlite

    dialect = session.get_bind().dialect.name
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(model)


def flushed(session: so.Session, row: Any = None) -> bool:
    """Flush (adding ``row`` first) in a savepoint; False when a unique key clashes.

    Nothing of the clash stays behind and the caller's transaction goes on. On PostgreSQL a
    concurrent twin waits on the index until the first commits, then clashes.
    """
    try:
        with session.begin_nested():
            if row is not None:
                session.add(row)
            session.flush()
    except sa.exc.IntegrityError:
        return False
    return True


def flush_or_conflict(session: so.Session, row: Any = None, code: str = "conflict",
                      **details: Any) -> None:
    """Flush as :func:`flushed`; a unique key clash is 409 ``code`` with ``details``."""
    from core.errors import Conflict

    if not flushed(session, row):
        raise Conflict(code, **details)


def add_once(session: so.Session, row: Any) -> bool:
    """The client-id rule: a row whose ``(station_id, client_id)`` is stored already is a
    re-send and stores nothing; False then (also when a concurrent re-send won the race).

    A row without a client id is always stored.
    """
    if row.client_id is not None:
        model = type(row)
        seen = session.scalar(sa.select(model.id).where(model.station_id == row.station_id,
                                                        model.client_id == row.client_id))
        if seen is not None:
            return False
    return flushed(session, row)
