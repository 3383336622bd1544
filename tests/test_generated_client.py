"""A Python client generated from the served document walks a volunteer's day on a live server.

Nothing here speaks raw HTTP: sign-in, a task sign-up and check-in, a patrol scan and a quiz go
through the generated client, so a document a generator cannot read, or answers its models
cannot parse, fail here first.
"""

from __future__ import annotations

import datetime as dt
import importlib
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from werkzeug.serving import make_server

from core import clock
from tests.fixtures.people import PASSWORD
from tests.plugins.patrol.conftest import BASE, T0, Scene

# text/csv bodies (the question import) read as bytes: the generator has no text body type.
CONFIG = """\
package_name_override: wardens_client
project_name_override: wardens-client
post_hooks: []
content_type_overrides:
  text/csv: application/octet-stream
"""


@pytest.fixture(scope="module")
def wardens_client(app: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """The package openapi-python-client generates from the served document, imported."""
    folder = tmp_path_factory.mktemp("generated")
    with app.test_client() as plain:
        (folder / "openapi.json").write_bytes(plain.get("/api/openapi.json").data)
    (folder / "config.yaml").write_text(CONFIG)
    generator = Path(sys.executable).with_name("openapi-python-client")
    done = subprocess.run(
        [str(generator), "generate", "--path", str(folder / "openapi.json"), "--meta", "none",
         "--output-path", str(folder / "wardens_client"), "--config", str(folder / "config.yaml")],
        capture_output=True, text=True, timeout=300)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    assert "Warning" not in output and "Error" not in output, output
    sys.path.insert(0, str(folder))
    try:
        yield importlib.import_module("wardens_client")
    finally:
        sys.path.remove(str(folder))
        for name in [n for n in sys.modules if n.split(".")[0] == "wardens_client"]:
            del sys.modules[name]


@pytest.fixture
def live_server(app: Any, live_world: Any) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(5)


def _day(world: Any) -> tuple[Scene, dict[str, Any], dict[str, Any]]:
    """A station with patrols and quizzes: a route, a task now, a quiz (made over HTTP)."""
    clock.freeze(T0)
    station = world.station("east", plugins=("patrol", "anti_fraud"))
    officer = world.person("Officer Li", station=station, roles=["officer"])
    walker = world.person("Volunteer Zhang", station=station, roles=["volunteer", "resident"])
    admin = world.person("Admin Wang", station=station, roles=["admin"])
    groups = "/api/v1/stations/east/groups"

    def group(kind: str, name: str) -> int:
        made = world.client.post(groups, headers=admin.headers, json={"kind": kind, "name": name})
        assert made.status_code == 201, made.json
        return int(made.json["id"])

    team = group("patrol_team", "Red armband team 1")
    grids = [group("grid", f"Grid {n}") for n in (1, 2, 3)]
    joined = world.client.put(f"{groups}/{team}/members/{walker.id}", headers=admin.headers,
                              json={"leader": False})
    assert joined.status_code in (200, 201), joined.json
    scene = Scene(world.client, world.session, world, station, officer, walker, team, grids)
    scene.route_id, scene.tags = scene.make_route()
    headers = officer.headers
    task = world.client.post("/api/v1/stations/east/tasks", headers=headers, json={
        "title": "Evening crossing", "starts_at": (T0 - dt.timedelta(minutes=5)).isoformat(),
        "ends_at": (T0 + dt.timedelta(hours=2)).isoformat(), "lat": BASE[0], "lon": BASE[1],
        "radius_m": 100, "capacity": 2})
    assert task.status_code == 201, task.json
    for n, category in enumerate(("order_brushing", "fake_loan", "screen_sharing") * 2):
        question = world.client.post("/api/v1/stations/east/anti-fraud/questions", headers=headers,
                                     json={"category": category, "text": f"Question {n}?",
                                           "choices": [f"right {n}", f"wrong {n}a", f"wrong {n}b"],
                                           "correct": [0], "explanation": "Because."})
        assert question.status_code == 201, question.json
    quiz = world.client.post("/api/v1/stations/east/anti-fraud/quizzes", headers=headers, json={
        "title": "Spot the scam", "question_count": 5, "pass_percent": 80, "time_limit_s": 300,
        "attempts_per_day": 3, "points": 20})
    assert quiz.status_code == 201, quiz.json
    return scene, task.json, quiz.json


def test_a_generated_client_walks_a_volunteers_day(wardens_client, live_server, live_world):
    from wardens_client import AuthenticatedClient, Client
    from wardens_client.api.anti_fraud import anti_fraud_attempts_start, anti_fraud_attempts_submit
    from wardens_client.api.auth import auth_token
    from wardens_client.api.patrol import patrol_scans_create, patrols_start
    from wardens_client.api.tasks import checkins_create, signups_create
    from wardens_client.models import (
        AntiFraudSubmission,
        CheckinCreate,
        PatrolScanCreate,
        PatrolStart,
        SignupCreate,
        TokenRequest,
    )

    scene, task, quiz = _day(live_world)

    signed_in = auth_token.sync_detailed(
        client=Client(base_url=live_server),
        body=TokenRequest.from_dict({"grant_type": "password", "phone": scene.walker.phone,
                                     "password": PASSWORD}))
    assert signed_in.status_code == 200, signed_in.content
    me = AuthenticatedClient(base_url=live_server, token=signed_in.parsed.access_token)
    assert signed_in.parsed.user.id == scene.walker.id

    signed_up = signups_create.sync_detailed("east", task["id"], client=me, body=SignupCreate())
    assert signed_up.status_code == 201, signed_up.content
    checked_in = checkins_create.sync_detailed("east", task["id"], client=me,
                                               body=CheckinCreate.from_dict({
        "kind": "in", "lat": BASE[0], "lon": BASE[1], "accuracy_m": 8.0, "is_mock": False,
        "device_time": clock.now().isoformat(), "client_id": str(uuid.uuid4())}))
    assert checked_in.status_code == 201, checked_in.content

    patrol = patrols_start.sync_detailed("east", client=me,
                                         body=PatrolStart.from_dict({"route_id": scene.route_id}))
    assert patrol.status_code == 201, patrol.content
    scan = patrol_scans_create.sync_detailed("east", patrol.parsed.id, client=me,
                                             body=PatrolScanCreate.from_dict(scene.body(0)))
    assert scan.status_code == 201, scan.content
    assert scan.parsed.id is not None and scan.parsed.checkpoint_id == scene.tags[0].id

    attempt = anti_fraud_attempts_start.sync_detailed("east", quiz["id"], client=me)
    assert attempt.status_code == 201, attempt.content
    answers = [{"question_id": item.question_id,
                "choices": [next(i for i, text in enumerate(item.choices)
                                 if text.startswith("right"))]}
               for item in attempt.parsed.questions]
    result = anti_fraud_attempts_submit.sync_detailed(
        "east", attempt.parsed.id, client=me,
        body=AntiFraudSubmission.from_dict({"answers": answers}))
    assert result.status_code == 200, result.content
    assert result.parsed.passed is True
