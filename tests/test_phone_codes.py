"""Texted codes: sign-in and password reset by code, a squatted number taken back,
codes stored hashed with capped guesses and a growing wait, and the purge of old codes."""

from __future__ import annotations

import datetime as dt
import logging
import re
import threading

import pytest
import sqlalchemy as sa

from core import clock, phone_codes
from core.jobs import run_due_jobs
from core.models import AuditEvent, AuthSession, Membership, PhoneCode, User
from tests.fixtures.app import bearer
from tests.fixtures.people import PASSWORD, new_phone

NOON = dt.datetime(2026, 5, 1, 12, 0, tzinfo=dt.UTC)


def send_code(client, phone: str, path: str = "/api/v1/auth/phone-code", **headers):
    return client.post(path, json={"phone": phone}, headers=headers)


def sign_in_with_code(client, phone: str, code: str):
    return client.post("/api/v1/auth/token", json={
        "grant_type": "phone_code", "phone": phone, "code": code})


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


def test_a_first_sign_in_by_code_creates_a_verified_account(client, session, outbox):
    phone = new_phone()
    sent = send_code(client, phone)
    assert sent.status_code == 202 and sent.json == {"expires_in_minutes": 10}
    assert outbox.sent[-1]["code"] == "sign_in_code"
    answer = sign_in_with_code(client, phone, outbox.code_for(phone))
    assert answer.status_code == 200, answer.json
    assert answer.json["user"]["phone"] == phone and answer.json["user"]["phone_verified"]
    assert client.get("/api/v1/me", headers=bearer(answer.json["access_token"])).status_code == 200
    # the code is good once
    again = sign_in_with_code(client, phone, outbox.code_for(phone))
    assert again.status_code == 422 and again.json["code"] == "verification_code_expired"
    # a later sign-in by code opens the same account
    clock.freeze(clock.now() + dt.timedelta(minutes=2))
    send_code(client, phone)
    later = sign_in_with_code(client, phone, outbox.code_for(phone))
    assert later.json["user"]["id"] == answer.json["user"]["id"]


def test_asking_for_a_code_answers_the_same_for_registered_and_unknown_numbers(
        client, world, outbox):
    person = world.person()
    for path in ("/api/v1/auth/phone-code", "/api/v1/auth/password-reset"):
        known = send_code(client, person.phone, path)
        unknown = send_code(client, new_phone(), path)
        assert (known.status_code, known.json) == (unknown.status_code, unknown.json) == (
            202, {"expires_in_minutes": 10})
        clock.freeze(clock.now() + dt.timedelta(hours=1))


def test_codes_are_random_and_stored_only_as_a_keyed_hash(client, session, outbox):
    phone = new_phone()
    codes = set()
    for _ in range(4):
        send_code(client, phone)
        codes.add(outbox.code_for(phone))
        clock.freeze(clock.now() + dt.timedelta(hours=1))
    assert len(codes) > 1
    rows = session.scalars(sa.select(PhoneCode).where(PhoneCode.phone == phone)).all()
    assert len(rows) == 4
    stored = " ".join(f"{r.code_hash} {r.attempts} {r.purpose}" for r in rows)
    assert not any(code in stored for code in codes) and all(len(r.code_hash) == 64 for r in rows)
    # only the newest code is alive: sending one retires the ones before
    assert [r.used_at is None for r in sorted(rows, key=lambda r: r.id)] == [False] * 3 + [True]


def test_the_first_proven_sign_in_takes_a_squatted_number_back(client, session, world, outbox):
    """A password registration of someone else's number: the owner signs in by code and takes
    the number back."""
    open_station = world.station("open", open_join=True)
    squatter = world.person("squatter")
    other_session = world.sign_in(squatter.user, squatter.phone)
    assert client.post("/api/v1/stations/open/join", headers=squatter.headers).status_code == 201
    root = world.sign_in(world.root, world.root.phone)
    client.post("/api/v1/stations", headers=root.headers, json={
        "code": "taken", "name": "Taken", "admin_phone": squatter.phone})

    send_code(client, squatter.phone)
    owner = sign_in_with_code(client, squatter.phone, outbox.code_for(squatter.phone))
    assert owner.status_code == 200, owner.json
    owner_id = owner.json["user"]["id"]
    assert owner_id != squatter.id and owner.json["user"]["phone_verified"] is True
    # the prover holds the number and the seat waiting for it
    owner_headers = bearer(owner.json["access_token"])
    mine = client.get("/api/v1/me/memberships", headers=owner_headers).json
    assert [(m["station"]["code"], m["roles"]) for m in mine] == [("taken", ["admin"])]
    # the squatter's sessions ended; the account and its records stay, without the number
    for headers in (squatter.headers, other_session.headers):
        assert client.get("/api/v1/me", headers=headers).json["code"] == "session_revoked"
    password = client.post("/api/v1/auth/token", json={
        "grant_type": "password", "phone": squatter.phone, "password": PASSWORD})
    assert password.status_code == 401
    session.expire_all()
    kept = session.get(User, squatter.id)
    assert kept.phone is None and kept.display_name == "squatter" and kept.erased_at is None
    assert session.scalar(sa.select(Membership.roles).where(
        Membership.user_id == squatter.id, Membership.station_id == open_station.id)) == [
        "resident"]
    live = session.scalar(sa.select(sa.func.count()).select_from(AuthSession).where(
        AuthSession.user_id == squatter.id, AuthSession.revoked_at.is_(None)))
    assert live == 0
    assert session.scalar(sa.select(AuditEvent.actor_id).where(
        AuditEvent.action == "user.phone_reclaimed",
        AuditEvent.record_id == str(squatter.id))) == owner_id
    # a verified holder is never moved: the next proven sign-in opens the same account
    clock.freeze(clock.now() + dt.timedelta(minutes=2))
    send_code(client, squatter.phone)
    again = sign_in_with_code(client, squatter.phone, outbox.code_for(squatter.phone))
    assert again.json["user"]["id"] == owner_id
    assert client.get("/api/v1/me", headers=owner_headers).status_code == 200


def test_a_password_reset_by_code_ends_every_other_session(client, world, outbox):
    person = world.person()
    verified = client.post("/api/v1/me/phone-verification", headers=person.headers)
    assert verified.status_code == 202
    assert client.post("/api/v1/me/phone-verification/confirm", headers=person.headers,
                       json={"code": outbox.code_for(person.phone)}).status_code == 200
    clock.freeze(clock.now() + dt.timedelta(minutes=2))
    assert send_code(client, person.phone, "/api/v1/auth/password-reset").status_code == 202
    assert outbox.sent[-1]["code"] == "password_reset_code"
    code = outbox.code_for(person.phone)
    weak = client.post("/api/v1/auth/password-reset/confirm", json={
        "phone": person.phone, "code": code, "new_password": "short"})
    assert weak.status_code == 422 and weak.json["code"] == "weak_password"
    bad = client.post("/api/v1/auth/password-reset/confirm", json={
        "phone": person.phone, "code": wrong(code), "new_password": "a-new-secret"})
    assert bad.status_code == 422 and bad.json["code"] == "verification_code_invalid"
    reset = client.post("/api/v1/auth/password-reset/confirm", json={
        "phone": person.phone, "code": code, "new_password": "a-new-secret"})
    assert reset.status_code == 200, reset.json
    assert reset.json["user"]["id"] == person.id
    assert client.get("/api/v1/me", headers=person.headers).json["code"] == "session_revoked"
    assert client.get("/api/v1/me", headers=bearer(reset.json["access_token"])).status_code == 200
    for password, status in ((PASSWORD, 401), ("a-new-secret", 200)):
        answer = client.post("/api/v1/auth/token", json={
            "grant_type": "password", "phone": person.phone, "password": password})
        assert answer.status_code == status


def test_a_code_dies_after_five_guesses_and_the_wait_for_a_new_one_grows(client, outbox):
    clock.freeze(NOON)
    phone = new_phone()
    send_code(client, phone)
    code = outbox.code_for(phone)
    answers = [sign_in_with_code(client, phone, c).json["code"] for c in [wrong(code)] * 5 + [code]]
    assert answers == ["verification_code_invalid"] * 5 + ["verification_code_expired"]
    # the next code may go after 1 minute, then 2, then 4: each wait doubles
    waits = []
    for _ in range(3):
        refused = send_code(client, phone)
        assert refused.status_code == 429 and refused.json["code"] == "rate_limited"
        waits.append(int(refused.headers["Retry-After"]))
        clock.freeze(clock.now() + dt.timedelta(seconds=waits[-1]))
        assert send_code(client, phone).status_code == 202
    assert waits == [60, 120, 240]
    assert sign_in_with_code(client, phone, outbox.code_for(phone)).status_code == 200


def test_a_number_has_a_days_budget_of_guesses_whatever_the_code(client, outbox):
    clock.freeze(NOON)
    phone = new_phone()
    statuses = []
    for _ in range(phone_codes.GUESSES_PER_WINDOW // phone_codes.GUESSES_PER_CODE):
        clock.freeze(clock.now() + phone_codes.LONGEST_WAIT)
        client.application.extensions["wardens.throttle"].reset()  # the per-number HTTP limit
        send_code(client, phone)
        code = outbox.code_for(phone)
        statuses += [sign_in_with_code(client, phone, wrong(code)).status_code for _ in range(5)]
    assert statuses == [422] * phone_codes.GUESSES_PER_WINDOW
    clock.freeze(clock.now() + phone_codes.LONGEST_WAIT)
    client.application.extensions["wardens.throttle"].reset()
    refused = send_code(client, phone)
    assert refused.status_code == 429
    # the budget frees as the day's first code ages out
    assert int(refused.headers["Retry-After"]) == (
        phone_codes.WINDOW - 4 * phone_codes.LONGEST_WAIT).total_seconds()


def test_codes_older_than_a_day_are_purged(client, session, outbox, deployment):
    clock.freeze(NOON)
    phone = new_phone()
    send_code(client, phone)
    count = sa.select(sa.func.count()).select_from(PhoneCode).where(PhoneCode.phone == phone)
    run_due_jobs(deployment, NOON + dt.timedelta(hours=23))
    assert session.scalar(count) == 1
    run_due_jobs(deployment, NOON + dt.timedelta(days=1, hours=1))
    assert session.scalar(count) == 0


def test_the_default_text_provider_logs_no_code(client, world, caplog):
    person = world.person()
    with caplog.at_level(logging.INFO):
        sent = client.post("/api/v1/me/phone-verification", headers=person.headers)
    assert sent.status_code == 202
    sms = [r.getMessage() for r in caplog.records if r.name == "wardens.sms"]
    masked = person.phone[:-8] + "****" + person.phone[-4:]
    assert sms == [f"SMS to {masked} [phone_verification_code] (no SMS provider installed)"]
    assert not any(re.search(r"\d{6}", r.getMessage()) for r in caplog.records)


def test_an_identity_that_did_not_prove_the_phone_opens_no_existing_account(world, session):
    from core import accounts
    from core.errors import Unauthenticated
    from core.hookspecs import Identity

    person = world.person()
    with pytest.raises(Unauthenticated) as refused:
        accounts.sign_in_identity(session, Identity(phone=person.phone, provider="test",
                                                    phone_verified=False))
    assert refused.value.code == "phone_not_proven"
    fresh, _issued = accounts.sign_in_identity(
        session, Identity(phone=new_phone(), provider="test", phone_verified=False))
    assert fresh.phone_verified is False


@pytest.mark.postgres_only
def test_parallel_guesses_at_one_code_never_pass_the_cap(app, live_world, outbox):
    """20 guesses at once on PostgreSQL never pass the cap: the counter is a conditional UPDATE."""
    from api.auth import SignInThrottle

    phone = "+8613955550000"
    throttle = app.extensions["wardens.throttle"]
    # The HTTP limits are not what is tested here: the code's own count is.
    app.extensions["wardens.throttle"] = SignInThrottle("memory://", "1000/minute", "1000/minute")
    try:
        with app.test_client() as client:
            assert send_code(client, phone).status_code == 202
        code = outbox.code_for(phone)
        barrier = threading.Barrier(20)
        answers: list[str] = []

        def guess(n: int) -> None:
            with app.test_client() as client:
                barrier.wait()
                guessed = f"{(int(code) + 1 + n) % 1_000_000:06d}"
                answers.append(sign_in_with_code(client, phone, guessed).json["code"])

        threads = [threading.Thread(target=guess, args=(n,)) for n in range(20)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        with app.test_client() as client:
            answers.append(sign_in_with_code(client, phone, code).json["code"])
    finally:
        app.extensions["wardens.throttle"] = throttle
    assert sorted(answers[:20]) == (["verification_code_expired"] * 15
                                    + ["verification_code_invalid"] * 5)
    assert answers[20] == "verification_code_expired"  # the right code, too late
    stored = live_world.session.scalar(sa.select(PhoneCode.attempts).where(
        PhoneCode.phone == phone))
    assert stored == phone_codes.GUESSES_PER_CODE
    assert live_world.session.scalar(sa.select(User.id).where(User.phone == phone)) is None
