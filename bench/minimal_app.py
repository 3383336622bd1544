"""The yardstick: a minimal Flask + SQLAlchemy endpoint that inserts one row per request.

Served by gunicorn with the same workers and threads as ``wardens serve``, on the same
database, so the ratio shows what Wardens' own request path costs on top.
"""

from __future__ import annotations

import datetime as dt
import os

import sqlalchemy as sa
from flask import Flask, jsonify, request
from sqlalchemy import orm as so

engine = sa.create_engine(os.environ["WARDENS_DATABASE_URL"], pool_pre_ping=True)
metadata = sa.MetaData()
rows = sa.Table(
    "bench_minimal", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("payload", sa.String(200), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)
Session = so.sessionmaker(engine)


def create_table() -> None:
    """Called once by the driver before the server starts (workers would race on it)."""
    metadata.create_all(engine)
    engine.dispose()

app = Flask("minimal")


@app.post("/insert")
def insert() -> tuple[object, int]:
    payload = (request.get_json(force=True) or {}).get("payload", "")
    with Session.begin() as session:
        new_id = session.execute(
            sa.insert(rows).values(payload=payload, created_at=dt.datetime.now(dt.UTC))
            .returning(rows.c.id)).scalar_one()
    return jsonify(id=new_id), 201
