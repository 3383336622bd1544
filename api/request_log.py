"""One log line and the metrics per request: its id (taken from X-Request-ID or made, and
answered), route template, status, duration, station and user; never a URL's query, a body or a
header."""

from __future__ import annotations

import logging
import re
import time
import uuid
from typing import Any

import sqlalchemy as sa
from flask import Flask, Response, g, request

from core import metrics

log = logging.getLogger("wardens.request")
HEADER = "X-Request-ID"
# A proxy's id is kept when it is plain (letters, digits, . _ -) and short; else one is made.
GOOD_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


def _start() -> None:
    given = request.headers.get(HEADER, "")
    g.request_id = given if GOOD_ID.match(given) else uuid.uuid4().hex
    g.request_started = time.perf_counter()


def _finish(response: Response) -> Response:
    request_id = g.get("request_id") or uuid.uuid4().hex
    response.headers[HEADER] = request_id
    started = g.get("request_started")
    seconds = time.perf_counter() - started if started else 0.0
    user = g.get("user")
    # The rule's template, never the path: a feed's secret is part of its path.
    route = request.url_rule.rule if request.url_rule is not None else None
    metrics.observe_request(request.method, route, response.status_code, seconds)
    fields: dict[str, Any] = {
        "request_id": request_id, "method": request.method, "route": route,
        "status": response.status_code,
        "duration_ms": round(seconds * 1000, 1) if started else None,
        "station": (request.view_args or {}).get("station"),
        "user_id": _user_id(user)}
    log.info("%s %s %s", request.method, fields["route"] or "(no route)",
             response.status_code, extra=fields)
    return response


def _user_id(user: Any) -> int | None:
    """The signed-in person's id from the row's identity: no database read, so a request whose
    transaction failed (and expired the row) is still logged, not turned into a 500."""
    state = sa.inspect(user, raiseerr=False) if user is not None else None
    identity = state.identity if state is not None else None
    return int(identity[0]) if identity else None


def install(app: Flask) -> None:
    app.before_request_funcs.setdefault(None, []).insert(0, _start)  # before signing in
    app.after_request(_finish)
