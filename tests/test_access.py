"""Who may act in a station: what a stranger, a member without the role and the superuser are told."""

from __future__ import annotations

from core import accounts
from tests.fixtures.people import PASSWORD, new_phone
from tests.test_tasks import make_task

API = "/api/v1/stations"


def _unseen(answer):
    """404 with the code that says nothing about whether the station exists."""
    assert answer.status_code == 404, answer.json
    assert answer.json["code"] == "station_not_found"


def test_a_station_unknown_or_closed_to_a_stranger_is_not_found(client, world):
    closed = world.station("closed")
    stranger = world.person("stranger")
    _unseen(client.get(f"{API}/nowhere/points/rules", headers=stranger.headers))
    _unseen(client.get(f"{API}/{closed.code}/points/rules", headers=stranger.headers))


def test_a_stranger_to_an_open_station_is_told_not_found_not_forbidden(client, world, session):
    open_station = world.station("open", open_join=True)
    task = make_task(session, open_station)
    session.commit()
    stranger = world.person("stranger")
    # Needs a role: a stranger is no member, so the station stays unseen rather than "forbidden".
    _unseen(client.get(f"{API}/{open_station.code}/points/rules", headers=stranger.headers))
    # Needs membership only.
    _unseen(client.get(f"{API}/{open_station.code}/tasks/{task.id}", headers=stranger.headers))


def test_a_member_without_the_role_is_told_which_roles_it_needs(client, world):
    east = world.station("east")
    volunteer = world.person("volunteer", station=east, roles=["volunteer"])
    answer = client.get(f"{API}/{east.code}/points/rules",
                        headers={**volunteer.headers, "Accept-Language": "en"})
    assert answer.status_code == 403
    assert answer.json["code"] == "role_required"
    assert answer.json["details"] == {"roles": "officer, admin"}
    assert answer.json["message"] == "This needs one of the roles: officer, admin."


def test_the_superuser_acts_as_any_stations_admin_without_a_membership(client, world, session):
    east = world.station("east")
    phone = new_phone()
    root = accounts.create_user(session, phone=phone, password=PASSWORD, display_name="root",
                                is_superuser=True)
    session.commit()
    superuser = world.sign_in(root, phone)
    answer = client.get(f"{API}/{east.code}/points/rules", headers=superuser.headers)
    assert answer.status_code == 200, answer.json
    assert any(rule["event_code"] == "core.task_completed" for rule in answer.json["rules"])
