"""Bench data: a station, volunteers with tokens, tasks, points; and the request files for wrk.

Every write the bench sends must succeed once, so each line of a request file is a distinct
request: a sign-up is one (volunteer, task) pair, a check-in one signed-up assignment with its
own client_id. Rows the bench only needs to exist are inserted in bulk.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import uuid
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from api import create_app
from api.auth import issue_tokens
from core import accounts, clock, stations, tasks
from core.db import Database
from core.models import Assignment, Membership, PointsBalance, PointsEntry, Task
from core.plugins import Deployment, DeploymentConfig

STATION = "bench"
HERE = (31.2304, 121.4737)


def seed(database_url: str, plugins_toml: str, secret: str, folder: Path, *,
         volunteers: int = 300, tasks_each: int = 100, entries_each: int = 30) -> dict[str, Any]:
    """Fill the bench database and write signup.txt, checkin.txt, leaderboard.txt, minimal.txt."""
    deployment = Deployment(Database(database_url), DeploymentConfig.load(plugins_toml))
    app = create_app({"SECRET_KEY": secret, "ACCESS_TOKEN_TTL": 86400}, deployment=deployment)
    now = clock.now()
    rng = random.Random(42)
    with deployment.database.writer() as session, session.begin():
        root = accounts.create_user(session, phone="+8613800000000", display_name="root",
                                    is_superuser=True)
        station, _ = stations.create_station(session, root, code=STATION, name="Bench station",
                                             admin_phone="+8613800000001")
        people = [accounts.create_user(session, phone=f"+86139{n:08d}",
                                       display_name=f"Volunteer {n}")
                  for n in range(volunteers)]
        session.execute(sa.insert(Membership), [
            {"station_id": station.id, "user_id": p.id, "roles": ["volunteer"]} for p in people])
        auths = [accounts.start_session(session, p) for p in people]
        with app.app_context():
            tokens = [issue_tokens(a.session, a.refresh_token, p)["access_token"]
                      for a, p in zip(auths, people, strict=True)]
        soon = now + dt.timedelta(days=1)
        signup_tasks = [tasks.create_task(
            session, station.id, title=f"Patrol {n}", starts_at=soon,
            ends_at=soon + dt.timedelta(hours=2), lat=HERE[0], lon=HERE[1], radius_m=100,
            capacity=volunteers) for n in range(tasks_each)]
        checkin_tasks = [tasks.create_task(
            session, station.id, title=f"Crossing {n}", starts_at=now + dt.timedelta(minutes=5),
            ends_at=now + dt.timedelta(hours=3), lat=HERE[0], lon=HERE[1], radius_m=100,
            capacity=volunteers) for n in range(tasks_each)]
        session.execute(sa.insert(Assignment), [
            {"station_id": station.id, "task_id": t.id, "user_id": p.id, "status": "signed_up",
             "created_at": now, "updated_at": now} for t in checkin_tasks for p in people])
        session.execute(sa.update(Task).where(Task.id.in_([t.id for t in checkin_tasks]))
                        .values(filled=volunteers))
        entries = [{"station_id": station.id, "user_id": p.id, "amount": rng.randint(1, 20),
                    "event_code": "core.task_completed", "source_type": "bench",
                    "source_id": f"{p.id}-{n}",
                    "created_at": now - dt.timedelta(hours=rng.randint(0, 24 * 60))}
                   for p in people for n in range(entries_each)]
        session.execute(sa.insert(PointsEntry), entries)
        totals: dict[int, int] = {}
        for e in entries:
            totals[e["user_id"]] = totals.get(e["user_id"], 0) + e["amount"]
        session.execute(sa.insert(PointsBalance), [
            {"station_id": station.id, "user_id": u, "balance": b} for u, b in totals.items()])

    base = f"/api/v1/stations/{STATION}"
    device_time = now.isoformat()
    # Interleaved over tasks, as many volunteers signing up for many tasks would be.
    _write(folder / "signup.txt", (
        ("POST", f"{base}/tasks/{signup_tasks[k % tasks_each].id}/signups",
         tokens[k // tasks_each], "{}") for k in range(volunteers * tasks_each)))
    _write(folder / "checkin.txt", (
        ("POST", f"{base}/tasks/{checkin_tasks[k % tasks_each].id}/checkins",
         tokens[k // tasks_each], json.dumps({
             "kind": "in", "lat": HERE[0] + rng.uniform(-0.0004, 0.0004),
             "lon": HERE[1] + rng.uniform(-0.0004, 0.0004), "accuracy_m": 12.0,
             "is_mock": False, "device_time": device_time, "client_id": str(uuid.uuid4())}))
        for k in range(volunteers * tasks_each)))
    _write(folder / "leaderboard.txt", (
        ("GET", f"{base}/points/leaderboard?period=month&limit=10", token, "")
        for token in tokens))
    _write(folder / "minimal.txt", (
        ("POST", "/insert", "", json.dumps({"payload": f"row-{n}-{uuid.uuid4()}"}))
        for n in range(200_000)))
    deployment.database.engine.dispose()
    return {"volunteers": volunteers, "signups": volunteers * tasks_each,
            "checkins": volunteers * tasks_each, "entries": len(entries)}


def _write(path: Path, lines: Any) -> None:
    with path.open("w", encoding="utf-8") as out:
        for method, url, token, body in lines:
            out.write(f"{method}\t{url}\t{token}\t{body}\n")
