"""Prometheus metrics, made once at import: requests, the database pool, jobs, limits, sign-ins."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import sqlalchemy as sa
from prometheus_client import Counter, Gauge, Histogram

from core.errors import WardensError

# Every label value comes from a short fixed set (a route template, a status, a job's name, an
# error code), never from what a client sends: a label per path or phone would grow forever.
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
NO_ROUTE = "(none)"

REQUESTS = Counter(
    "wardens_http_requests", "HTTP requests answered, by method, route template and status.",
    ("method", "route", "status"))
# Not by status: 11 buckets times every route is already the largest family.
REQUEST_SECONDS = Histogram(
    "wardens_http_request_duration_seconds", "Time to answer a request, by method and route template.",
    ("method", "route"), buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0))
DB_CONNECTIONS_IN_USE = Gauge(
    "wardens_db_connections_in_use", "Database connections checked out of the pool, all processes.",
    multiprocess_mode="livesum")
# job_name, not job: Prometheus gives every target a `job` label of its own.
JOB_RUNS = Counter("wardens_job_runs", "Job slots run (failed or not), by job.", ("job_name",))
JOB_FAILURES = Counter("wardens_job_failures", "Job slots that raised, by job.", ("job_name",))
NOTIFICATIONS_DELIVERED = Counter(
    "wardens_notifications_delivered", "Notifications taken out of the outbox by a worker.")
RATE_LIMIT_REFUSALS = Counter(
    "wardens_rate_limit_refusals", "Requests refused 429 by a sign-in limit, by action.",
    ("action",))
SIGN_INS = Counter(
    "wardens_sign_ins", "Sign-in attempts by method (password, phone_code, provider) and outcome "
    "(ok, or the error code answered).", ("method", "outcome"))


def observe_request(method: str, route: str | None, status: int, seconds: float) -> None:
    """Count one answered request under its route template (``None``: no route matched)."""
    method = method if method in METHODS else "other"
    route = route or NO_ROUTE
    REQUESTS.labels(method, route, str(status)).inc()
    REQUEST_SECONDS.labels(method, route).observe(seconds)


def watch_pool(engine: sa.Engine) -> None:
    """Follow ``engine``'s pool: one more in use per checkout, one fewer per checkin."""
    sa.event.listen(engine, "checkout", lambda *_: DB_CONNECTIONS_IN_USE.inc())
    sa.event.listen(engine, "checkin", lambda *_: DB_CONNECTIONS_IN_USE.dec())


@contextlib.contextmanager
def sign_in_attempt(method: str) -> Iterator[None]:
    """Count a sign-in by its outcome: ``ok``, or the code of the error it raised."""
    try:
        yield
    except WardensError as exc:
        SIGN_INS.labels(method, exc.code).inc()
        raise
    SIGN_INS.labels(method, "ok").inc()

