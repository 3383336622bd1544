"""Firebase sign-in with real RS256 verification by firebase-admin, without the emulator.

ID tokens are signed here with test RSA keys; firebase-admin fetches the public keys from
Google's certificate URL, which a local stand-in on 127.0.0.1 answers (tests/plugins/firebase/
google_standins.py). The process has no FIREBASE_AUTH_EMULATOR_HOST: each test asserts it.
"""

from __future__ import annotations

import os
import time

import pytest
import sqlalchemy as sa

from core.models import AuthSession, User
from plugins.firebase import sdk
from tests.fixtures.people import PASSWORD, new_phone
from tests.plugins.firebase import google_standins
from tests.plugins.firebase.google_standins import CERTS_PATH, new_key, pem

SIGNING_KEY, OTHER_KEY = new_key(), new_key()


@pytest.fixture
def google_keys(firebase):
    """Google serves one key (kid "key-1"); OTHER_KEY is known to nobody."""
    cert = google_standins.certificate(SIGNING_KEY, "securetoken")
    firebase.certificates = {"key-1": pem(cert)}
    return firebase


def exchange(client, id_token, **headers):
    return client.post("/api/v1/auth/token", json={"grant_type": "firebase", "id_token": id_token},
                       headers=headers)


def test_the_process_has_no_emulator_variable(google_keys):
    assert sdk.EMULATOR_VARIABLE not in os.environ


def test_a_valid_phone_token_signs_in_and_creates_a_verified_account(client, session, google_keys):
    phone = new_phone()
    token = google_keys.id_token(SIGNING_KEY, "key-1", phone=phone, name="Wang Fang")
    answer = exchange(client, token)
    assert answer.status_code == 200, answer.json
    assert answer.json["user"]["phone"] == phone and answer.json["user"]["phone_verified"] is True
    assert answer.json["user"]["display_name"] == "Wang Fang"
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {answer.json['access_token']}"})
    assert me.status_code == 200
    stored = session.scalar(sa.select(AuthSession).where(
        AuthSession.user_id == answer.json["user"]["id"]))
    assert stored.provider == "firebase"
    # firebase-admin fetched the keys from Google's real certificate URL (answered locally)
    fetched = google_keys.of_host("www.googleapis.com")
    assert fetched and fetched[0].method == "GET" and fetched[0].path == CERTS_PATH
    # signing in again finds the same account
    again = exchange(client, google_keys.id_token(SIGNING_KEY, "key-1", phone=phone))
    assert again.status_code == 200 and again.json["user"]["id"] == answer.json["user"]["id"]


@pytest.mark.parametrize(("case", "code"), [
    ("expired", "firebase_token_expired"),
    ("not_yet_valid", "firebase_token_not_yet_valid"),
    ("wrong_key", "firebase_bad_signature"),
    ("unknown_kid", "firebase_unknown_key"),
    ("wrong_project", "firebase_wrong_project"),
    ("malformed", "firebase_token_invalid"),
    ("no_phone", "firebase_no_phone"),
])
def test_a_bad_token_is_refused_with_its_own_code(client, session, google_keys, case, code):
    assert sdk.EMULATOR_VARIABLE not in os.environ
    phone = new_phone()
    now = time.time()
    token = {
        "expired": lambda: google_keys.id_token(SIGNING_KEY, "key-1", phone=phone,
                                                issued=now - 7200),
        "not_yet_valid": lambda: google_keys.id_token(SIGNING_KEY, "key-1", phone=phone,
                                                      issued=now + 600),
        "wrong_key": lambda: google_keys.id_token(OTHER_KEY, "key-1", phone=phone),
        "unknown_kid": lambda: google_keys.id_token(OTHER_KEY, "key-9", phone=phone),
        "wrong_project": lambda: google_keys.id_token(SIGNING_KEY, "key-1", phone=phone,
                                                      project="demo-someone-else"),
        "malformed": lambda: "not.a-token",
        "no_phone": lambda: google_keys.id_token(SIGNING_KEY, "key-1", phone=None),
    }[case]()
    answer = exchange(client, token)
    assert answer.status_code == 401, answer.json
    assert answer.json["code"] == code
    assert session.scalar(sa.select(User).where(User.phone == phone)) is None


def test_refusals_are_told_in_the_readers_language(client, google_keys):
    token = google_keys.id_token(SIGNING_KEY, "key-1", issued=time.time() - 7200)
    english = exchange(client, token, **{"Accept-Language": "en"})
    chinese = exchange(client, token, **{"Accept-Language": "zh-CN"})
    assert english.json["message"] == "The Firebase sign-in has expired; sign in again."
    assert chinese.json["message"] == "Firebase 登录凭证已过期，请重新登录。"


def test_a_missing_id_token_is_a_422(client, google_keys):
    answer = client.post("/api/v1/auth/token", json={"grant_type": "firebase"})
    assert answer.status_code == 422 and answer.json["code"] == "validation_error"
    assert "id_token" in answer.json["details"]["fields"]["json"]


def test_unreachable_certificates_are_a_503_not_a_refusal(client, google_keys):
    google_keys.certificates_status = 500
    answer = exchange(client, google_keys.id_token(SIGNING_KEY, "key-1"))
    assert answer.status_code == 503 and answer.json["code"] == "firebase_unavailable"


def test_firebase_sign_in_for_a_password_registered_phone_ends_the_old_sessions(
        client, session, world, google_keys):
    """Whoever registered the number by password loses it (and their sessions) to the prover;
    their account and its records stay, without the number."""
    squatter = world.person("squatter")
    assert session.get(User, squatter.id).phone_verified is False
    answer = exchange(client, google_keys.id_token(SIGNING_KEY, "key-1", phone=squatter.phone))
    assert answer.status_code == 200, answer.json
    assert answer.json["user"]["id"] != squatter.id
    assert answer.json["user"]["phone"] == squatter.phone
    assert answer.json["user"]["phone_verified"] is True
    kept = session.get(User, squatter.id)
    session.refresh(kept)
    assert kept.phone is None and kept.display_name == "squatter" and kept.erased_at is None
    # the old refresh token and access token stop working, and so does the password
    refresh = client.post("/api/v1/auth/token", json={
        "grant_type": "refresh_token", "refresh_token": squatter.refresh_token})
    assert refresh.status_code == 401 and refresh.json["code"] == "invalid_refresh_token"
    old_access = client.get("/api/v1/me", headers=squatter.headers)
    assert old_access.status_code == 401 and old_access.json["code"] == "session_revoked"
    password = client.post("/api/v1/auth/token", json={
        "grant_type": "password", "phone": squatter.phone, "password": PASSWORD})
    assert password.status_code == 401
    # the new owner's session works, and a later Firebase sign-in revokes nothing
    owner = {"Authorization": f"Bearer {answer.json['access_token']}"}
    assert client.get("/api/v1/me", headers=owner).status_code == 200
    exchange(client, google_keys.id_token(SIGNING_KEY, "key-1", phone=squatter.phone))
    assert client.get("/api/v1/me", headers=owner).status_code == 200
