"""GET /metrics in Prometheus' text format: for the monitoring, by token or from this host only."""

from __future__ import annotations

import hmac
import ipaddress
import os
from collections.abc import Iterator
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, Response, current_app, request
from prometheus_client import REGISTRY, CollectorRegistry, generate_latest, multiprocess
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from core import clock, notifications
from core.db import Database
from core.errors import NotFound, Unauthenticated

bp = Blueprint("metrics", __name__)


class OutboxCollector:
    """The outbox's depth and the age of its oldest notification, read at scrape time."""

    def __init__(self, database: Database) -> None:
        self.database = database

    def collect(self) -> Iterator[GaugeMetricFamily]:
        try:
            with self.database.reader() as session:
                waiting, age = notifications.outbox_state(session, clock.now())
        except sa.exc.SQLAlchemyError:
            # The database is away: /readyz says so; the outbox gauges are absent meanwhile.
            yield GaugeMetricFamily("wardens_outbox_readable", "1 when the outbox could be read.", 0)
            return
        yield GaugeMetricFamily("wardens_outbox_readable", "1 when the outbox could be read.", 1)
        yield GaugeMetricFamily("wardens_outbox_depth", "Notifications not yet delivered.", waiting)
        yield GaugeMetricFamily("wardens_outbox_oldest_age_seconds",
                                "Age of the oldest notification not yet delivered (0: none).", age)


def exposition(database: Database) -> bytes:
    """Every process's counters (all gunicorn workers' under PROMETHEUS_MULTIPROC_DIR), then the
    outbox read now."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        counted = CollectorRegistry()
        multiprocess.MultiProcessCollector(counted)  # type: ignore[no-untyped-call]
    else:
        counted = REGISTRY
    read_now = CollectorRegistry(auto_describe=False)
    read_now.register(OutboxCollector(database))  # type: ignore[arg-type]
    return generate_latest(counted) + generate_latest(read_now)


def _admit() -> None:
    """With WARDENS_METRICS_TOKEN set, its bearer token (401 without it or with another);
    without one, only a request from this host's loopback (404 for anyone else)."""
    token = current_app.config["METRICS_TOKEN"]
    if not token:
        if not _loopback(request.remote_addr):
            raise NotFound("not_found")
        return
    header = request.headers.get("Authorization", "")
    if not header.startswith("Bearer "):
        raise Unauthenticated("authentication_required")
    if not hmac.compare_digest(header[7:].encode(), token.encode()):
        raise Unauthenticated("invalid_token")


def _loopback(address: str | None) -> bool:
    try:
        return ipaddress.ip_address(address or "").is_loopback
    except ValueError:
        return False


@bp.route("/metrics", methods=["GET"])
def metrics_get() -> Any:
    """The counters, histograms and gauges of docs/operations.md, Monitor."""
    _admit()
    return Response(exposition(current_app.extensions["wardens"].database),
                    headers={"Content-Type": CONTENT_TYPE_LATEST, "Cache-Control": "no-store"})
