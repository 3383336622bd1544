"""Texts through Tencent Cloud SMS (a local stand-in at the machine's edge, see conftest):
sign-in by a texted code claims a reserved seat; each refusal is a clear outcome."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from core import accounts, clock, notifications, stations
from core.models import TextMessage
from core.models.notifications import DeliveryStatus
from core.plugins import StartupError
from tests.fixtures.people import new_phone
from tests.fixtures.providers import provider_app

NOON = dt.datetime(2026, 3, 2, 12, 0, tzinfo=dt.UTC)


def test_a_texted_code_signs_in_and_claims_the_seat_reserved_for_the_number(tencent,
                                                                           tencent_sms):
    server, _ = tencent_sms
    client = tencent.test_client()
    phone = new_phone()
    with tencent.extensions["wardens"].database.writer() as session:
        root = accounts.create_user(session, phone=new_phone(), display_name="root",
                                    password="correct horse", is_superuser=True)
        stations.create_station(session, root, code="west", name="West", admin_phone=phone)
        session.commit()

    assert client.post("/api/v1/auth/phone-code", json={"phone": phone}).status_code == 202
    (request,) = server.requests
    assert request.headers["x-tc-action"] == "SendSms"
    assert request.headers["x-tc-version"] == "2021-01-11"
    assert "Credential=AKID-test-secret-id/" in request.headers["authorization"]  # from the env
    body = request.json()
    assert body["PhoneNumberSet"] == [phone] and body["SmsSdkAppId"] == "1400123456"
    assert body["SignName"] == "平安守望" and body["TemplateId"] == "2001"
    code, minutes = body["TemplateParamSet"]  # {1} and {2}, in the configured order
    assert minutes == "10" and len(code) == 6

    signed_in = client.post("/api/v1/auth/token", json={
        "grant_type": "phone_code", "phone": phone, "code": code})
    assert signed_in.status_code == 200, signed_in.json
    mine = client.get("/api/v1/me/memberships",
                      headers={"Authorization": f"Bearer {signed_in.json['access_token']}"})
    assert [m["station"]["code"] for m in mine.json] == ["west"]


@pytest.mark.parametrize(("code", "error", "status", "outcome"), [
    ("FailedOperation.TemplateIncorrectOrUnapproved", None, DeliveryStatus.FAILED,
     "template_not_approved"),
    ("InvalidParameterValue.IncorrectPhoneNumber", None, DeliveryStatus.FAILED, "number_invalid"),
    ("LimitExceeded.PhoneNumberThirtySecondLimit", None, DeliveryStatus.PENDING,
     "provider_rate_limited"),
    ("Ok", "FailedOperation.InsufficientBalanceInSmsPackage", DeliveryStatus.FAILED,
     "balance_exhausted"),
    ("Ok", "InternalError.Timeout", DeliveryStatus.PENDING, "provider_unavailable"),
])
def test_each_refusal_is_a_clear_outcome(tencent, tencent_sms, code, error, status, outcome):
    clock.freeze(NOON)
    _, behaviour = tencent_sms
    behaviour.code, behaviour.error = code, error
    database = tencent.extensions["wardens"].database
    phone = new_phone()
    with database.writer() as session:
        notifications.queue_text(session, phone, "sign_in_code", {"code": "123456", "minutes": 10})
        session.commit()
        notifications.send_due_texts(database, "w1")
        session.expire_all()
        text = session.scalars(sa.select(TextMessage).where(TextMessage.phone == phone)).one()
        assert text.status == status and text.provider == "sms_tencent"
        assert text.last_error.startswith(outcome), text.last_error
        if status == DeliveryStatus.PENDING:
            behaviour.code, behaviour.error = "Ok", None
            clock.advance(dt.timedelta(hours=1))
            notifications.send_due_texts(database, "w1")
            session.expire_all()
            assert text.status == DeliveryStatus.SENT and text.params == {}


def test_a_template_id_must_be_a_number(tmp_path, test_database_url, tencent_app):
    from tests.plugins.sms_tencent.conftest import TOML

    toml = TOML.format(endpoint="127.0.0.1:1").replace('"2001"', '"SMS_1"')
    with pytest.raises(StartupError, match="templates.sign_in_code.template: a Tencent template"):
        provider_app(test_database_url, tmp_path, toml)
