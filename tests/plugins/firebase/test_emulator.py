"""Firebase phone sign-in against the real Firebase Auth emulator (firebase-tools, demo project).

Run only under `make test-firebase`: `firebase emulators:exec --only auth --project demo-wardens`
starts the emulator on 127.0.0.1 and exports FIREBASE_AUTH_EMULATOR_HOST to pytest; the phone's
side of the flow goes through the emulator's REST API, as the Firebase client SDK would.
"""

from __future__ import annotations

import os
from typing import Any

import jwt
import pytest
import requests

from core.plugins import load_settings
from plugins.firebase import sdk
from tests.fixtures.people import PASSWORD, new_phone

pytestmark = pytest.mark.firebase_emulator

PROJECT = "demo-wardens"


@pytest.fixture
def emulator(deployment) -> str:
    host = os.environ.get(sdk.EMULATOR_VARIABLE)
    assert host, "run these tests under `make test-firebase` (firebase emulators:exec)"
    assert deployment.plugins["firebase"].defaults["project_id"] == PROJECT
    assert deployment.plugins["firebase"].defaults["check_revoked"] is True
    return f"http://{host}"


def phone_sign_in(emulator: str, phone: str) -> dict[str, Any]:
    """What the phone app does: send a code, read it (the emulator keeps it), sign in with it."""
    toolkit = f"{emulator}/identitytoolkit.googleapis.com/v1"
    sent = requests.post(f"{toolkit}/accounts:sendVerificationCode", params={"key": "fake-key"},
                         json={"phoneNumber": phone, "recaptchaToken": "ignored"}, timeout=10)
    sent.raise_for_status()
    session_info = sent.json()["sessionInfo"]
    codes = requests.get(f"{emulator}/emulator/v1/projects/{PROJECT}/verificationCodes",
                         timeout=10).json()["verificationCodes"]
    code = next(c["code"] for c in codes if c["sessionInfo"] == session_info)
    signed_in = requests.post(f"{toolkit}/accounts:signInWithPhoneNumber",
                              params={"key": "fake-key"},
                              json={"sessionInfo": session_info, "code": code}, timeout=10)
    signed_in.raise_for_status()
    return signed_in.json()


def exchange(client, id_token):
    return client.post("/api/v1/auth/token", json={"grant_type": "firebase", "id_token": id_token})


def admin(deployment):
    plugin = deployment.plugins["firebase"]
    return sdk.app(load_settings(plugin.info, plugin.defaults))


def test_the_phone_flow_yields_a_token_the_backend_exchanges_for_its_own(client, emulator):
    phone = new_phone()
    firebase_user = phone_sign_in(emulator, phone)
    assert firebase_user["phoneNumber"] == phone
    answer = exchange(client, firebase_user["idToken"])
    assert answer.status_code == 200, answer.json
    assert answer.json["user"]["phone"] == phone and answer.json["user"]["phone_verified"] is True
    headers = {"Authorization": f"Bearer {answer.json['access_token']}"}
    assert client.get("/api/v1/me", headers=headers).json["phone"] == phone
    refreshed = client.post("/api/v1/auth/token", json={
        "grant_type": "refresh_token", "refresh_token": answer.json["refresh_token"]})
    assert refreshed.status_code == 200


def test_a_revoked_user_is_refused(client, emulator, deployment):
    from firebase_admin import auth

    firebase_user = phone_sign_in(emulator, new_phone())
    assert exchange(client, firebase_user["idToken"]).status_code == 200
    # What auth.revoke_refresh_tokens does (validSince = now), pinned one second after the
    # token was issued so the outcome does not depend on crossing a second boundary.
    issued = jwt.decode(firebase_user["idToken"], options={"verify_signature": False})["iat"]
    revoked = requests.post(
        f"{emulator}/identitytoolkit.googleapis.com/v1/projects/{PROJECT}/accounts:update",
        headers={"Authorization": "Bearer owner"},
        json={"localId": firebase_user["localId"], "validSince": str(issued + 1)}, timeout=10)
    revoked.raise_for_status()
    user = auth.get_user(firebase_user["localId"], app=admin(deployment))
    assert user.tokens_valid_after_timestamp == (issued + 1) * 1000
    answer = exchange(client, firebase_user["idToken"])
    assert answer.status_code == 401 and answer.json["code"] == "firebase_token_revoked"


def test_a_disabled_user_is_refused(client, emulator, deployment):
    from firebase_admin import auth

    firebase_user = phone_sign_in(emulator, new_phone())
    auth.update_user(firebase_user["localId"], disabled=True, app=admin(deployment))
    answer = exchange(client, firebase_user["idToken"])
    assert answer.status_code == 401 and answer.json["code"] == "firebase_user_disabled"


def test_a_deleted_user_is_refused(client, emulator, deployment):
    from firebase_admin import auth

    firebase_user = phone_sign_in(emulator, new_phone())
    auth.delete_user(firebase_user["localId"], app=admin(deployment))
    answer = exchange(client, firebase_user["idToken"])
    assert answer.status_code == 401 and answer.json["code"] == "firebase_user_deleted"


def test_an_emulator_sign_in_takes_a_password_registered_phone_from_its_squatter(
        client, emulator, world):
    squatter = world.person("squatter")
    answer = exchange(client, phone_sign_in(emulator, squatter.phone)["idToken"])
    # the number moves to a new account; the squatter's keeps its records, not the number
    assert answer.status_code == 200 and answer.json["user"]["id"] != squatter.id
    assert answer.json["user"]["phone"] == squatter.phone
    old = client.post("/api/v1/auth/token", json={
        "grant_type": "refresh_token", "refresh_token": squatter.refresh_token})
    assert old.status_code == 401
    password = client.post("/api/v1/auth/token", json={
        "grant_type": "password", "phone": squatter.phone, "password": PASSWORD})
    assert password.status_code == 401
