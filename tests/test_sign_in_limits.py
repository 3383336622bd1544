"""Sign-in limits and their side channels: every sign-in counts, the password
change is limited, an unknown number costs the same hashing, hashing holds no write lock, and
the client's address comes through a trusted proxy only."""

from __future__ import annotations

import hashlib

import pytest
import sqlalchemy as sa

from api import create_app
from api.config import shared_limits_warning
from tests.fixtures.app import TEST_CONFIG
from tests.fixtures.people import PASSWORD, new_phone


def password_sign_in(client, phone: str, password: str = PASSWORD, **headers: str):
    return client.post("/api/v1/auth/token", headers=headers, json={
        "grant_type": "password", "phone": phone, "password": password})


@pytest.fixture
def hashing(monkeypatch):
    """The PBKDF2 work done, as (iterations, salt length), in order."""
    seen: list[tuple[int, int]] = []
    real = hashlib.pbkdf2_hmac

    def counted(name, password, salt, iterations, *rest):
        seen.append((iterations, len(salt)))
        return real(name, password, salt, iterations, *rest)

    monkeypatch.setattr(hashlib, "pbkdf2_hmac", counted)
    return seen


def test_an_unknown_number_costs_the_same_hashing_as_a_wrong_password(client, world, hashing):
    person = world.person()
    del hashing[:]
    assert password_sign_in(client, person.phone, "not-the-password").status_code == 401
    assert password_sign_in(client, new_phone(), "not-the-password").status_code == 401
    known, unknown = hashing
    assert known == unknown


def test_successful_sign_ins_are_limited_too(client, world):
    person = world.person()  # one sign-in
    statuses = [password_sign_in(client, person.phone).status_code for _ in range(10)]
    assert statuses == [200] * 9 + [429]


def test_password_changes_are_limited(client, world):
    person = world.person()
    statuses = [client.post("/api/v1/auth/password", headers=person.headers, json={
        "current_password": "a-guess-at-it", "new_password": "a-new-secret"}).status_code
        for _ in range(11)]
    assert statuses == [422] * 10 + [429]


def test_password_hashing_never_runs_inside_a_write_transaction(app, live_world, monkeypatch):
    """On SQLite a writer holds the database's only write lock: hashing first keeps it short."""
    engine = live_world.session.get_bind()
    events: list[str] = []
    real = hashlib.pbkdf2_hmac
    monkeypatch.setattr(hashlib, "pbkdf2_hmac",
                        lambda *args: events.append("hash") or real(*args))

    def began(conn):
        events.append("write" if conn.get_execution_options().get("wardens_write", True)
                      else "read")

    listeners = (("begin", began), ("commit", lambda _c: events.append("end")),
                 ("rollback", lambda _c: events.append("end")))
    for name, listener in listeners:
        sa.event.listen(engine, name, listener)
    try:
        person = live_world.person()
        with app.test_client() as client:
            calls = {
                "register": lambda: client.post("/api/v1/auth/register", json={
                    "phone": new_phone(), "password": PASSWORD, "display_name": "new"}),
                "sign-in": lambda: password_sign_in(client, person.phone),
                "refused sign-in": lambda: password_sign_in(client, person.phone, "wrong-one"),
                "password change": lambda: client.post(
                    "/api/v1/auth/password", headers=person.headers,
                    json={"current_password": PASSWORD, "new_password": "a-new-secret"}),
            }
            for what, call in calls.items():
                events.clear()
                assert call().status_code < 500, what
                assert "hash" in events, what
                writing = False
                for event in events:
                    writing = event == "write" or (writing and event != "end")
                    assert not (writing and event == "hash"), (what, events)
    finally:
        for name, listener in listeners:
            sa.event.remove(engine, name, listener)


@pytest.mark.parametrize("hops", [0, 1])
def test_the_client_address_comes_through_trusted_proxies_only(deployment, connection, hops):
    """Behind a TLS proxy, each client has its own budget; without one, the header is
    ignored, so nobody picks a fresh budget by writing X-Forwarded-For."""
    app = create_app({**TEST_CONFIG, "PROXY_HOPS": hops, "AUTH_LIMIT_PER_IP": "3/hour"},
                     deployment=deployment)
    with app.test_client() as client:
        first = [password_sign_in(client, new_phone(), "x" * 8,
                                  **{"X-Forwarded-For": "203.0.113.7"}).status_code
                 for _ in range(4)]
        other = password_sign_in(client, new_phone(), "x" * 8,
                                 **{"X-Forwarded-For": "198.51.100.9"}).status_code
    assert first == [401, 401, 401, 429]
    assert other == (401 if hops else 429)


def test_serving_several_processes_with_limits_in_memory_warns():
    config = {"RATELIMIT_STORAGE_URI": "memory://"}
    assert "4 times larger" in shared_limits_warning(config, 4)
    assert shared_limits_warning(config, 1) is None
    assert shared_limits_warning({"RATELIMIT_STORAGE_URI": "redis://cache:6379/0"}, 4) is None
