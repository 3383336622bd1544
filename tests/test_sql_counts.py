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
    # The station's plugin switches, read once by this process (then kept while the station's
    # plugins_version, read with the person, stays the same).
    assert client.get(url(east, "/tasks"), headers=vol.headers).status_code == 200

    with statements(engine) as sign_up:
        answer = client.post(url(east, f"/tasks/{task['id']}/signups"), json={},
                             headers=vol.headers)
    assert answer.status_code == 201
    # session+user+station+membership, task+my assignment, take a place, insert the
    # assignment (the plugin switches for the assignment_changed hook: cached)
    assert len(sign_up) == 4, "\n".join(sign_up)

    with statements(engine) as check_in:
        answer = client.post(url(east, f"/tasks/{task['id']}/checkins"), json=checkin_body(),
                             headers=vol.headers)
    assert answer.status_code == 201
    # session+user+station+membership, task+my assignment, insert the check-in, move the
    # assignment (a duplicate client_id is looked for only when a check-in is refused as new)
    assert len(check_in) == 4, "\n".join(check_in)

    with statements(engine) as keyed:
        answer = client.post(url(east, f"/tasks/{task['id']}/checkins"),
                             json=checkin_body("out"),
                             headers={**vol.headers, "Idempotency-Key": "out-1"})
    assert answer.status_code == 201 and answer.json["points_awarded"] == 10
    # the check-in's 4, the key's insert and its answer, and the award: its rule, the entry,
    # the balance
    assert len(keyed) == 4 + 2 + 3, "\n".join(keyed)


def test_a_switch_is_read_again_by_the_next_request_and_only_then(client, world, deployment):
    """The process keeps a station's switches while its plugins_version stays the same; a
    switch changes it in the same transaction, so the next request reads them again."""
    east = world.station("east")
    admin = world.person("admin", station=east, roles=["admin"])
    switches = "SELECT station.plugins_version, station_plugin.name"
    engine = deployment.database.engine
    tasks = url(east, "/tasks")
    client.get(tasks, headers=admin.headers)
    with statements(engine) as warm:
        assert client.get(tasks, headers=admin.headers).status_code == 200
    assert not any(switches in s for s in warm), "\n".join(warm)
    answer = client.put(url(east, "/plugins/patrol"), json={"enabled": True},
                        headers=admin.headers)
    assert answer.status_code == 200
    with statements(engine) as after:
        assert client.get(url(east, "/patrol/routes"), headers=admin.headers).status_code == 200
    assert sum(switches in s for s in after) == 1, "\n".join(after)
    with statements(engine) as again:
        assert client.get(url(east, "/patrol/routes"), headers=admin.headers).status_code == 200
    assert not any(switches in s for s in again), "\n".join(again)


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
