"""Registration, sign-in, refresh (with the retry case), logout, password change, limits."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from core import clock
from core.models import AuthSession, User
from tests.fixtures.people import PASSWORD, new_phone


def register(client, phone=None, password="s3cret-pass", name="Zhang Hong"):
    return client.post("/api/v1/auth/register", json={
        "phone": phone or new_phone(), "password": password, "display_name": name})


def test_register_then_sign_in_and_see_me(client, session):
    answer = register(client, phone="13912345678")
    assert answer.status_code == 201, answer.json
    body = answer.json
    assert body["token_type"] == "Bearer" and body["expires_in"] > 0
    assert body["user"]["phone"] == "+8613912345678"
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.status_code == 200 and me.json["display_name"] == "Zhang Hong"
    token = client.post("/api/v1/auth/token", json={
        "grant_type": "password", "phone": "+86 139 1234 5678", "password": "s3cret-pass"})
    assert token.status_code == 200
    stored = session.scalar(sa.select(User).where(User.phone == "+8613912345678"))
    assert stored.password_hash and "s3cret-pass" not in stored.password_hash


def test_register_refuses_taken_phone_bad_phone_and_weak_password(client):
    phone = new_phone()
    assert register(client, phone=phone).status_code == 201
    taken = register(client, phone=phone)
    assert taken.status_code == 409 and taken.json["code"] == "phone_taken"
    bad = register(client, phone="12345")
    assert bad.status_code == 422 and bad.json["code"] == "invalid_phone"
    weak = register(client, password="short")
    assert weak.status_code == 422 and weak.json["code"] == "weak_password"


def test_wrong_password_is_401(client, world):
    person = world.person()
    answer = client.post("/api/v1/auth/token", json={
        "grant_type": "password", "phone": person.phone, "password": "nope-nope"})
    assert answer.status_code == 401 and answer.json["code"] == "invalid_credentials"


def test_refresh_rotates_and_a_quick_retry_gets_the_same_pair(client, world):
    person = world.person()
    first = client.post("/api/v1/auth/token", json={
        "grant_type": "refresh_token", "refresh_token": person.refresh_token})
    assert first.status_code == 200
    assert first.json["refresh_token"] != person.refresh_token
    retry = client.post("/api/v1/auth/token", json={
        "grant_type": "refresh_token", "refresh_token": person.refresh_token})
    assert retry.status_code == 200
    assert retry.json["refresh_token"] == first.json["refresh_token"]
    assert retry.json["access_token"] == first.json["access_token"]
    nxt = client.post("/api/v1/auth/token", json={
        "grant_type": "refresh_token", "refresh_token": first.json["refresh_token"]})
    assert nxt.status_code == 200


def test_an_old_refresh_token_used_late_revokes_the_session(client, world):
    clock.freeze(dt.datetime(2026, 3, 1, 8, 0, tzinfo=dt.UTC))
    person = world.person()
    first = client.post("/api/v1/auth/token", json={
        "grant_type": "refresh_token", "refresh_token": person.refresh_token})
    clock.advance(dt.timedelta(minutes=5))
    stolen = client.post("/api/v1/auth/token", json={
        "grant_type": "refresh_token", "refresh_token": person.refresh_token})
    assert stolen.status_code == 401 and stolen.json["code"] == "refresh_token_reused"
    # the legitimate holder's newer token died with the session
    again = client.post("/api/v1/auth/token", json={
        "grant_type": "refresh_token", "refresh_token": first.json["refresh_token"]})
    assert again.status_code == 401


def test_access_token_expires_on_the_clock(client, world):
    clock.freeze(dt.datetime(2026, 3, 1, 8, 0, tzinfo=dt.UTC))
    person = world.person()
    assert client.get("/api/v1/me", headers=person.headers).status_code == 200
    clock.advance(dt.timedelta(minutes=16))
    late = client.get("/api/v1/me", headers=person.headers)
    assert late.status_code == 401 and late.json["code"] == "invalid_token"


def test_logout_ends_the_session(client, world, session):
    person = world.person()
    assert client.post("/api/v1/auth/logout", headers=person.headers).status_code == 204
    after = client.get("/api/v1/me", headers=person.headers)
    assert after.status_code == 401 and after.json["code"] == "session_revoked"
    refresh = client.post("/api/v1/auth/token", json={
        "grant_type": "refresh_token", "refresh_token": person.refresh_token})
    assert refresh.status_code == 401


def test_password_change_revokes_other_sessions_only(client, world):
    person = world.person()
    other = world.sign_in(person.user, person.phone)
    wrong = client.post("/api/v1/auth/password", headers=person.headers,
                        json={"current_password": "wrong-one", "new_password": "a-new-secret"})
    assert wrong.status_code == 422 and wrong.json["code"] == "wrong_password"
    changed = client.post("/api/v1/auth/password", headers=person.headers,
                          json={"current_password": PASSWORD, "new_password": "a-new-secret"})
    assert changed.status_code == 204
    assert client.get("/api/v1/me", headers=person.headers).status_code == 200
    assert client.get("/api/v1/me", headers=other.headers).status_code == 401
    old = client.post("/api/v1/auth/token", json={
        "grant_type": "password", "phone": person.phone, "password": PASSWORD})
    assert old.status_code == 401
    new = client.post("/api/v1/auth/token", json={
        "grant_type": "password", "phone": person.phone, "password": "a-new-secret"})
    assert new.status_code == 200


def test_twenty_wrong_passwords_hit_the_limit_with_retry_after(client, world):
    person = world.person()
    codes = []
    for _ in range(20):
        answer = client.post("/api/v1/auth/token", json={
            "grant_type": "password", "phone": person.phone, "password": "guess-guess"})
        codes.append(answer.status_code)
        if answer.status_code == 429:
            assert int(answer.headers["Retry-After"]) > 0
            assert answer.json["code"] == "rate_limited"
    # the person's own sign-in (world.person) counted too: every sign-in does
    assert codes[:9] == [401] * 9
    assert codes[9:] == [429] * 11
    # even the right password waits now: the limit is on the phone, not on the guess
    right = client.post("/api/v1/auth/token", json={
        "grant_type": "password", "phone": person.phone, "password": PASSWORD})
    assert right.status_code == 429


def test_unsupported_grant_type(client):
    answer = client.post("/api/v1/auth/token", json={"grant_type": "magic"})
    assert answer.status_code == 422 and answer.json["code"] == "unsupported_grant_type"


def test_delete_me_anonymises_and_signs_out(client, world, session):
    person = world.person("Li Lei")
    assert client.delete("/api/v1/me", headers=person.headers).status_code == 204
    stored = session.get(User, person.id)
    session.refresh(stored)
    assert stored.phone is None and "Li Lei" not in stored.display_name
    assert stored.erased_at is not None
    assert client.get("/api/v1/me", headers=person.headers).status_code == 401
    live = session.scalar(sa.select(sa.func.count()).select_from(AuthSession).where(
        AuthSession.user_id == person.id, AuthSession.revoked_at.is_(None)))
    assert live == 0
    # the number is free to register again
    assert register(client, phone=person.phone).status_code == 201


def test_limits_are_shared_through_redis_by_every_server_process(deployment, world):
    """Two app instances (two server processes) count failures in one Redis."""
    import redis

    from api import create_app
    from tests.fixtures.app import TEST_CONFIG

    url = "redis://127.0.0.1:6379/15"
    redis.Redis.from_url(url).flushdb()
    config = {**TEST_CONFIG, "RATELIMIT_STORAGE_URI": url, "AUTH_LIMIT_PER_PHONE": "4/hour"}
    first, second = create_app(config, deployment=deployment), create_app(config,
                                                                          deployment=deployment)
    person = world.person()
    bad = {"grant_type": "password", "phone": person.phone, "password": "guess-guess"}
    statuses = []
    for app in (first, second, first, second, first):
        with app.test_client() as client:
            statuses.append(client.post("/api/v1/auth/token", json=bad).status_code)
    assert statuses == [401, 401, 401, 401, 429]
    redis.Redis.from_url(url).flushdb()


def test_one_number_has_one_budget_however_it_is_written(client, world):
    person = world.person()  # +86139xxxxxxxx
    national = person.phone[3:]
    spellings = [person.phone, "86" + national, "0086" + national, national,
                 f"+86 {national[:3]} {national[3:7]} {national[7:]}",
                 f"{national[:3]}-{national[3:7]}-{national[7:]}"]
    statuses = []
    for i in range(12):
        answer = client.post("/api/v1/auth/token", json={
            "grant_type": "password", "phone": spellings[i % len(spellings)],
            "password": "guess-guess"})
        statuses.append(answer.status_code)
    assert statuses[:9] == [401] * 9 and statuses[9:] == [429] * 3  # 1 + 9 sign-ins
