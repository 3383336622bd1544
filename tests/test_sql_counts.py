"""The request path stays lean: the SQL statements of a sign-up and of a check-in are pinned."""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator

import sqlalchemy as sa

from core import clock
from tests.test_tasks import START, checkin_body, task_body, url

# Transaction control differs between the test set-up (savepoints) and production (BEGIN /
# COMMIT); the statements that read or write data do not.
CONTROL = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE", "PRAGMA")


@contextlib.contextmanager
def statements(engine: sa.Engine) -> Iterator[list[str]]:
    seen: list[str] = []

    def count(_conn, _cursor, statement, _params, _context, _many) -> None:
        if not statement.lstrip().upper().startswith(CONTROL):
            seen.append(" ".join(statement.split())[:120])

    sa.event.listen(engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        sa.event.remove(engine, "before_cursor_execute", count)


def test_sign_up_and_check_in_statement_counts(client, world, deployment):
    clock.freeze(START - dt.timedelta(minutes=10))
    east = world.station("east")
    officer = world.person("officer", station=east, roles=["officer"])
    vol = world.person("v", station=east, roles=["volunteer"])
    task = client.post(url(east, "/tasks"), json=task_body(), headers=officer.headers).json
    engine = deployment.database.engine

    with statements(engine) as sign_up:
        answer = client.post(url(east, f"/tasks/{task['id']}/signups"), json={},
                             headers=vol.headers)
    assert answer.status_code == 201
    # session+user, station+membership, task+my assignment, take a place, insert the
    # assignment, the station's plugin switches (for the assignment_changed hook)
    assert len(sign_up) == 6, "\n".join(sign_up)

    with statements(engine) as check_in:
        answer = client.post(url(east, f"/tasks/{task['id']}/checkins"), json=checkin_body(),
                             headers=vol.headers)
    assert answer.status_code == 201
    # session+user, station+membership, task+my assignment, insert the check-in, move the
    # assignment, the station's plugin switches (a duplicate client_id is looked for only
    # when a check-in is refused as new)
    assert len(check_in) == 6, "\n".join(check_in)

    with statements(engine) as keyed:
        answer = client.post(url(east, f"/tasks/{task['id']}/checkins"),
                             json=checkin_body("out"),
                             headers={**vol.headers, "Idempotency-Key": "out-1"})
    assert answer.status_code == 201 and answer.json["points_awarded"] == 10
    # the check-in's 6, the key's insert and its answer, and the award: its rule, the entry,
    # the balance (the completion hook reuses the plugin switches read earlier)
    assert len(keyed) == 6 + 2 + 3, "\n".join(keyed)


def test_home_screen_statement_count(world, deployment):
    """GET /me/today stays a fixed handful of statements however many cards it shows."""
    from tests.test_today import scene

    _crossing, _admin, guard, *_ = scene(world)
    with statements(deployment.database.engine) as home:
        answer = world.client.get("/api/v1/me/today", headers=guard.headers)
    assert answer.status_code == 200 and len(answer.json["cards"]) == 4
    # session+user, my stations, the core's tasks, the station's plugin switches, then each
    # plugin switched on: patrol (patrols under way, patrol tasks), crossing (shifts),
    # anti-fraud (quizzes, coupons); the unread count
    assert len(home) == 10, "\n".join(home)
