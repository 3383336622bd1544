"""One task lifecycle across the core and the plugins: lists, hooks, no-shows, policies, points."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from flask.testing import FlaskClient

from api import create_app
from core import clock
from core.db import Database
from core.plugins import Deployment, DeploymentConfig
from tests.fixtures.app import TEST_CONFIG
from tests.fixtures.plugins import _bound, write_distribution

NOON = dt.datetime(2026, 3, 2, 12, 0, tzinfo=dt.UTC)
HOUR = dt.timedelta(hours=1)


def url(station: Any, path: str) -> str:
    return f"/api/v1/stations/{station.code}{path}"


def post_task(client: FlaskClient, station: Any, officer: Any, **body: Any) -> dict[str, Any]:
    body = {"title": "Evening round", "starts_at": (NOON + HOUR).isoformat(),
            "ends_at": (NOON + 2 * HOUR).isoformat(), **body}
    made = client.post(url(station, "/tasks"), json=body, headers=officer.headers)
    assert made.status_code == 201, made.json
    return made.json


def assign(client: FlaskClient, station: Any, officer: Any, task: dict[str, Any],
           person: Any) -> None:
    answer = client.post(url(station, f"/tasks/{task['id']}/signups"),
                         json={"user_id": person.id}, headers=officer.headers)
    assert answer.status_code == 201, answer.json


def switch(client: FlaskClient, station: Any, admin: Any, plugin: str, enabled: bool) -> None:
    answer = client.put(url(station, f"/plugins/{plugin}"), json={"enabled": enabled},
                        headers=admin.headers)
    assert answer.status_code == 200, answer.json


def test_a_switched_off_plugins_tasks_are_in_no_list(client, world):
    clock.freeze(NOON)
    east = world.station("east", plugins=("patrol",))
    admin = world.person("admin", station=east, roles=["admin", "officer"])
    walker = world.person("walker", station=east, roles=["volunteer"])
    general = post_task(client, east, admin, title="Leaflets")
    patrol = post_task(client, east, admin, kind="patrol", title="Night patrol")
    for task in (general, patrol):
        assign(client, east, admin, task, walker)

    def listed() -> tuple[list[int], list[int], list[int], int]:
        seen = client.get(url(east, "/tasks"), headers=admin.headers).json
        mine = client.get(url(east, "/tasks"), query_string={"mine": "true"},
                          headers=walker.headers).json
        assignments = client.get("/api/v1/me/assignments", headers=walker.headers).json
        dashboard = client.get(url(east, "/dashboard"), headers=admin.headers).json
        return ([t["id"] for t in seen], [t["id"] for t in mine],
                [a["task"]["id"] for a in assignments], dashboard["core"]["open_tasks"])

    both = [general["id"], patrol["id"]]
    assert listed() == (both, both, both, 2)
    switch(client, east, admin, "patrol", False)
    assert listed() == ([general["id"]], [general["id"]], [general["id"]], 1)
    hidden = client.get(url(east, f"/tasks/{patrol['id']}"), headers=walker.headers)
    assert hidden.status_code == 404 and hidden.json["code"] == "plugin_disabled"
    switch(client, east, admin, "patrol", True)
    assert listed() == (both, both, both, 2)


# Hooks through pluggy ----------------------------------------------------------------------------

@pytest.fixture
def subset_client(site, test_database_url, connection) -> Iterator[FlaskClient]:
    """An app whose only plugin declares a subset of each hook's parameters."""
    from tests import subset_plugin

    write_distribution(site, "wardens_subset", {"subset": "tests.subset_plugin"})
    deployment = Deployment(Database(test_database_url),
                            DeploymentConfig.from_dict({"plugins": {"installed": ["subset"]}}))
    app = create_app(TEST_CONFIG, deployment=deployment)
    subset_plugin.HEARD.clear()
    try:
        for bound in _bound(app, connection):
            yield bound.test_client()
    finally:
        deployment.database.engine.dispose()


def test_hook_implementations_with_a_subset_of_the_parameters_work_everywhere(
        subset_client, world):
    from tests.subset_plugin import HEARD

    clock.freeze(NOON)
    east = world.station("east", plugins=("subset",))
    admin = world.person("admin", station=east, roles=["admin", "officer"])
    vol = world.person("vol", station=east, roles=["volunteer"])
    task = post_task(subset_client, east, admin, starts_at=(NOON - HOUR).isoformat(),
                     ends_at=(NOON + HOUR).isoformat())
    signed = subset_client.post(url(east, f"/tasks/{task['id']}/signups"), json={},
                                headers=vol.headers)
    assert signed.status_code == 201, signed.json
    for kind in ("in", "out"):
        answer = subset_client.post(url(east, f"/tasks/{task['id']}/checkins"), json={
            "kind": kind, "lat": 30.0, "lon": 120.0, "accuracy_m": 5,
            "device_time": clock.now().isoformat(), "client_id": str(uuid.uuid4())},
            headers=vol.headers)
        assert answer.status_code == 201, answer.json
    dashboard = subset_client.get(url(east, "/dashboard"), headers=admin.headers)
    assert dashboard.status_code == 200, dashboard.json
    assert dashboard.json["plugins"] == {"subset": {"station_id": east.id}}
    switch(subset_client, east, admin, "subset", False)
    assert [("assignment_changed", "None->signed_up"),
                     ("assignment_changed", "signed_up->checked_in"),
                     ("assignment_changed", "checked_in->completed"),
                     ("task_completed", task["id"]),
                     ("plugin_switched", "subset:False")] == HEARD
