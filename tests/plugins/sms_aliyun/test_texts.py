"""Texts through Alibaba Cloud Dysms (a local stand-in at the machine's edge, see conftest):
sign-in by a texted code claims a reserved seat; each refusal is a clear outcome; retries and
limits go through the outbox."""

from __future__ import annotations

import datetime as dt
import json
import logging

import pytest
import sqlalchemy as sa

from core import accounts, clock, notifications, stations
from core.models import TextMessage
from core.models.notifications import DeliveryStatus
from core.plugins import StartupError
from tests.fixtures.people import new_phone
from tests.fixtures.providers import provider_app

NOON = dt.datetime(2026, 3, 2, 12, 0, tzinfo=dt.UTC)


def text_to(session, phone):
    session.expire_all()
    return session.scalars(sa.select(TextMessage).where(TextMessage.phone == phone)
                           .order_by(TextMessage.id.desc())).first()


def test_a_texted_code_signs_in_and_claims_the_seat_reserved_for_the_number(aliyun, dysms):
    server, _ = dysms
    client = aliyun.test_client()
    database = aliyun.extensions["wardens"].database
    phone = new_phone()
    with database.writer() as session:
        root = accounts.create_user(session, phone=new_phone(), display_name="root",
                                    password="correct horse", is_superuser=True)
        station, _ = stations.create_station(session, root, code="east", name="East",
                                             admin_phone=phone)  # the admin's seat waits
        session.commit()

    sent = client.post("/api/v1/auth/phone-code", json={"phone": phone})
    assert sent.status_code == 202
    (request,) = server.requests
    form = request.form()
    assert request.headers["x-acs-action"] == "SendSms"
    assert form["PhoneNumbers"] == phone[3:]  # a mainland number without +86
    assert form["SignName"] == "平安守望" and form["TemplateCode"] == "SMS_100"
    params = json.loads(form["TemplateParam"])
    assert set(params) == {"code", "minutes"} and params["minutes"] == "10"
    # signed with the key from the environment
    assert "Credential=LTAI-test-key-id," in request.headers["authorization"]

    signed_in = client.post("/api/v1/auth/token", json={
        "grant_type": "phone_code", "phone": phone, "code": params["code"]})
    assert signed_in.status_code == 200, signed_in.json
    assert signed_in.json["user"]["phone_verified"] is True
    mine = client.get("/api/v1/me/memberships",
                      headers={"Authorization": f"Bearer {signed_in.json['access_token']}"})
    assert [m["station"]["code"] for m in mine.json] == ["east"]
    assert "admin" in mine.json[0]["roles"]


def test_a_templates_own_sign_name_is_used(aliyun, dysms):
    with aliyun.extensions["wardens"].database.writer() as session:
        notifications.queue_text(session, "+8613900001111", "phone_verification_code",
                                 {"code": "123456", "minutes": 10})
        session.commit()
    notifications.send_due_texts(aliyun.extensions["wardens"].database, "w1")
    form = dysms[0].requests[-1].form()
    assert form["SignName"] == "守望核验" and form["TemplateCode"] == "SMS_102"


@pytest.mark.parametrize(("code", "status", "outcome", "error"), [
    ("isv.SMS_TEMPLATE_ILLEGAL", DeliveryStatus.FAILED, "template_not_approved", None),
    ("isv.MOBILE_NUMBER_ILLEGAL", DeliveryStatus.FAILED, "number_invalid", None),
    ("isv.AMOUNT_NOT_ENOUGH", DeliveryStatus.FAILED, "balance_exhausted", None),
    ("isv.BUSINESS_LIMIT_CONTROL", DeliveryStatus.PENDING, "provider_rate_limited",
     dt.timedelta(minutes=1)),
    ("", DeliveryStatus.PENDING, "provider_unavailable", None),  # HTTP 503
])
def test_each_refusal_is_a_clear_outcome_and_the_retryable_ones_are_retried(
        aliyun, dysms, code, status, outcome, error):
    clock.freeze(NOON)
    _, behaviour = dysms
    behaviour.code = code
    behaviour.status = 503 if not code else 200
    database = aliyun.extensions["wardens"].database
    phone = new_phone()
    with database.writer() as session:
        notifications.queue_text(session, phone, "sign_in_code", {"code": "123456", "minutes": 10})
        session.commit()
        notifications.send_due_texts(database, "w1")
        text = text_to(session, phone)
        assert text.status == status and text.provider == "sms_aliyun"
        assert text.last_error.startswith(outcome)
        if status == DeliveryStatus.FAILED:
            assert text.params == {}
            return
        wait = error or notifications.backoff(1)
        assert text.next_attempt_at == NOON + wait
        behaviour.code, behaviour.status = "OK", 200
        clock.advance(wait)
        assert notifications.send_due_texts(database, "w1") == 1
        text = text_to(session, phone)
        assert text.status == DeliveryStatus.SENT and text.attempts == 2


def test_a_number_and_the_deployment_have_send_limits_shared_by_every_process(
        aliyun, dysms, monkeypatch):
    clock.freeze(NOON)
    deployment = aliyun.extensions["wardens"]
    settings = deployment.plugins["sms_aliyun"].defaults
    monkeypatch.setitem(settings, "per_number_per_hour", 2)
    monkeypatch.setitem(settings, "per_deployment_per_minute", 3)
    phone, other = new_phone(), new_phone()
    with deployment.database.writer() as session:
        for to in (phone, phone, phone, other, other):
            notifications.queue_text(session, to, "sign_in_code",
                                     {"code": "123456", "minutes": 10})
        session.commit()
        notifications.send_due_texts(deployment.database, "w1")
        session.expire_all()
        rows = session.scalars(sa.select(TextMessage).where(TextMessage.phone.in_([phone, other]))
                               .order_by(TextMessage.id)).all()
        assert [r.status for r in rows] == [DeliveryStatus.SENT] * 2 + [DeliveryStatus.PENDING] + [
            DeliveryStatus.SENT, DeliveryStatus.PENDING]
        assert rows[2].last_error.startswith("send_limit: at most 2 texts an hour")
        assert rows[2].next_attempt_at == NOON + dt.timedelta(hours=1)
        assert rows[4].last_error.startswith("send_limit: at most 3 texts a minute")
        assert rows[4].next_attempt_at == NOON + dt.timedelta(minutes=1)
        assert len(dysms[0].requests) == 3  # the held ones never reached the provider


def test_settings_are_checked_at_start_up_naming_the_setting(tmp_path, test_database_url,
                                                             aliyun_app):
    from tests.plugins.sms_aliyun.conftest import TOML

    toml = TOML.format(endpoint="127.0.0.1:1").replace(
        'password_reset_code = {template = "SMS_101", params = ["code", "minutes"]}\n', "")
    with pytest.raises(StartupError, match="sms_aliyun.*templates: no template for"
                                           " password_reset_code"):
        provider_app(test_database_url, tmp_path, toml)
    toml = TOML.format(endpoint="127.0.0.1:1").replace('sign_name = "平安守望"\n', "")
    with pytest.raises(StartupError, match="sign_name"):
        provider_app(test_database_url, tmp_path, toml)


def test_without_a_way_to_prove_phones_start_up_warns(tmp_path, test_database_url, caplog):
    with caplog.at_level(logging.WARNING, logger="core.plugins"):
        app = provider_app(test_database_url, tmp_path, '[plugins]\ninstalled = ["patrol"]\n')
    app.extensions["wardens"].database.engine.dispose()
    assert "phones cannot be verified" in caplog.text
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="core.plugins"):
        app = provider_app(test_database_url, tmp_path, '[plugins]\ninstalled = ["firebase"]\n'
                           '[plugins.firebase]\nproject_id = "demo-wardens"\n')
    app.extensions["wardens"].database.engine.dispose()
    assert "phones cannot be verified" not in caplog.text
