"""Several delivery channels at once, each recorded on its own; texts through the outbox, sent
after the request commits; identity links (a provider's subject -> a person)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import sqlalchemy as sa

from core import accounts, clock, notifications
from core.hookspecs import Delivery, Identity
from core.models import IdentityLink, Membership, NotificationDelivery, TextMessage
from core.models.notifications import DeliveryStatus
from core.plugins import hookimpl
from tests.fixtures.people import new_phone

NOON = dt.datetime(2026, 3, 2, 12, 0, tzinfo=dt.UTC)


class Channel:
    """An inline delivery channel that answers what the test tells it (a plugin of the test's)."""

    def __init__(self, answer: str) -> None:
        self.answer = answer
        self.asked: list[int] = []

    @hookimpl
    def wardens_deliver_notifications(self, session: Any, notifications: list[Any]) -> Any:
        self.asked.extend(n.id for n in notifications)
        if self.answer == "none":
            return None
        return [Delivery(self.answer, None if self.answer == "sent" else f"{self.answer}!")
                for _ in notifications]


@pytest.fixture
def channels(deployment):
    made = {"push_a": Channel("sent"), "push_b": Channel("retry")}
    for name, channel in made.items():
        deployment.pm.register(channel, name=name)
    try:
        yield made
    finally:
        for name in made:
            deployment.pm.unregister(name=name)


def deliveries(session, notification_id):
    session.expire_all()
    return {d.channel: d for d in session.scalars(sa.select(NotificationDelivery).where(
        NotificationDelivery.notification_id == notification_id))}


def test_every_channel_delivers_and_a_failing_one_is_retried_alone(world, session, deployment,
                                                                    channels):
    clock.freeze(NOON)
    east = world.station("east")
    person = world.person(station=east)
    row = notifications.notify(session, person.id, "core.task_cancelled", station_id=east.id,
                               title="x")
    session.commit()
    notifications.deliver_pending(deployment.database.writer, "w1")
    found = deliveries(session, row.id)
    assert {c: d.status for c, d in found.items()} == {
        "inbox": DeliveryStatus.SENT, "push_a": DeliveryStatus.SENT,
        "push_b": DeliveryStatus.PENDING}
    assert found["push_b"].next_attempt_at == NOON + notifications.backoff(1)
    assert found["push_b"].last_error == "retry!"
    session.refresh(row)
    assert row.delivery_status == DeliveryStatus.PENDING  # one channel still to go
    assert row.next_attempt_at == NOON + notifications.backoff(1)

    channels["push_b"].answer = "sent"
    clock.advance(dt.timedelta(seconds=30))  # not due yet: nothing is asked
    assert notifications.deliver_pending(deployment.database.writer, "w1") == 0
    clock.advance(dt.timedelta(seconds=30))
    notifications.deliver_pending(deployment.database.writer, "w1")
    assert channels["push_a"].asked == [row.id]  # the channel that delivered is not asked again
    assert channels["push_b"].asked == [row.id, row.id]
    found = deliveries(session, row.id)
    assert found["push_b"].status == DeliveryStatus.SENT and found["push_b"].attempts == 2
    assert found["push_a"].attempts == 1
    session.refresh(row)
    assert row.delivery_status == DeliveryStatus.SENT and row.last_error is None


def test_a_channel_that_gives_up_leaves_the_others_delivered(world, session, deployment,
                                                            channels):
    clock.freeze(NOON)
    person = world.person()
    row = notifications.notify(session, person.id, "core.task_cancelled", title="x")
    session.commit()
    for _ in range(notifications.MAX_ATTEMPTS):
        notifications.deliver_pending(deployment.database.writer, "w1")
        clock.advance(dt.timedelta(hours=1))
    found = deliveries(session, row.id)
    assert found["push_b"].status == DeliveryStatus.FAILED
    assert found["push_b"].attempts == notifications.MAX_ATTEMPTS
    assert found["push_a"].status == DeliveryStatus.SENT
    session.refresh(row)
    # the person was reached: the notification is sent, the failing channel's error kept
    assert row.delivery_status == DeliveryStatus.SENT
    assert row.last_error == "push_b: retry!"


def test_a_channel_that_does_not_apply_leaves_no_record(world, session, deployment, channels):
    channels["push_a"].answer = "none"
    channels["push_b"].answer = "skipped"
    person = world.person()
    row = notifications.notify(session, person.id, "core.task_cancelled", title="x")
    session.commit()
    notifications.deliver_pending(deployment.database.writer, "w1")
    assert set(deliveries(session, row.id)) == {"inbox", "push_b"}
    session.refresh(row)
    assert row.delivery_status == DeliveryStatus.SKIPPED  # the inbox is the delivery


# Texts -----------------------------------------------------------------------------------------

class Gateway:
    """An inline text provider: refuses while ``down``, else keeps what it sent."""

    def __init__(self) -> None:
        self.down = False
        self.sent: list[dict[str, Any]] = []

    @hookimpl
    def wardens_send_text(self, session, phone, code, params, locale):
        if self.down:
            return Delivery("retry", "gateway down")
        self.sent.append({"phone": phone, "code": code, "params": params})
        return True


@pytest.fixture
def gateway(deployment):
    box = Gateway()
    deployment.pm.register(box, name="test-gateway")
    try:
        yield box
    finally:
        deployment.pm.unregister(name="test-gateway")


def test_a_requests_text_leaves_after_its_commit_and_a_refused_one_is_retried(
        client, session, deployment, gateway):
    clock.freeze(NOON)
    phone = new_phone()
    gateway.down = True
    answer = client.post("/api/v1/auth/phone-code", json={"phone": phone})
    assert answer.status_code == 202  # the person is not told the gateway is down
    (text,) = session.scalars(sa.select(TextMessage).where(TextMessage.phone == phone))
    assert text.status == DeliveryStatus.PENDING and text.last_error == "gateway down"
    assert text.provider == "test-gateway" and text.params["code"]  # kept for the retry
    assert text.next_attempt_at == NOON + notifications.backoff(1)

    gateway.down = False
    clock.advance(notifications.backoff(1))
    assert notifications.send_due_texts(deployment.database, "w1") == 1
    assert gateway.sent[-1]["code"] == "sign_in_code"
    session.expire_all()
    assert text.status == DeliveryStatus.SENT and text.params == {} and text.attempts == 2
    code = gateway.sent[-1]["params"]["code"]
    signed_in = client.post("/api/v1/auth/token", json={
        "grant_type": "phone_code", "phone": phone, "code": code})
    assert signed_in.status_code == 200, signed_in.json


def test_a_refused_requests_text_never_leaves(client, world, session, gateway):
    person = world.person()
    proven = world.person(verified=True)
    # the second code asked for within the minute is refused: nothing is queued or sent
    assert client.post("/api/v1/me/phone-verification", headers=person.headers).status_code == 202
    assert client.post("/api/v1/me/phone-verification",
                       headers=proven.headers).status_code == 409
    assert [t["phone"] for t in gateway.sent] == [person.phone]
    assert session.scalar(sa.select(sa.func.count()).select_from(TextMessage)
                          .where(TextMessage.phone == proven.phone)) == 0


# Identity links --------------------------------------------------------------------------------

class Provider:
    """An inline sign-in provider for grant_type "test_provider": vouches for what it is told."""

    @hookimpl
    def wardens_verify_identity(self, session, grant_type, payload):
        if grant_type != "test_provider":
            return None
        return Identity(phone=payload.get("phone"), provider="test_provider",
                        subject=payload["id_token"], also=(("test_union", "u-" + payload["id_token"]),))


@pytest.fixture
def provider(deployment):
    deployment.pm.register(Provider(), name="test-provider")
    try:
        yield
    finally:
        deployment.pm.unregister(name="test-provider")


def test_a_providers_subject_finds_its_account_and_can_be_unlinked(client, world, session,
                                                                  provider):
    east = world.station("east")
    phone = new_phone()
    admin = world.person("Admin", station=east, roles=["admin"])
    reserved = client.post(f"/api/v1/stations/{east.code}/members", headers=admin.headers,
                           json={"phone": phone, "roles": ["volunteer"]})
    assert reserved.status_code == 201, reserved.json
    first = client.post("/api/v1/auth/token", json={
        "grant_type": "test_provider", "id_token": "sub-1", "phone": phone})
    assert first.status_code == 200, first.json
    user_id = first.json["user"]["id"]
    assert first.json["user"]["phone_verified"] is True
    seat = session.scalar(sa.select(Membership).where(Membership.station_id == east.id,
                                                      Membership.roles == ["volunteer"]))
    assert seat.user_id == user_id  # the seat waiting for the number is claimed
    # later sign-ins need no phone: the subject is linked
    again = client.post("/api/v1/auth/token", json={"grant_type": "test_provider",
                                                     "id_token": "sub-1"})
    assert again.status_code == 200 and again.json["user"]["id"] == user_id
    unknown = client.post("/api/v1/auth/token", json={"grant_type": "test_provider",
                                                       "id_token": "sub-2"})
    assert unknown.status_code == 401
    assert unknown.json["code"] == "identity_phone_required"

    headers = {"Authorization": f"Bearer {again.json['access_token']}"}
    listed = client.get("/api/v1/me/identities", headers=headers)
    assert [i["provider"] for i in listed.json] == ["test_provider", "test_union"]
    assert "subject" not in listed.json[0]
    assert client.delete("/api/v1/me/identities/test_provider",
                         headers=headers).status_code == 204
    assert client.delete("/api/v1/me/identities/test_provider",
                         headers=headers).status_code == 404
    assert accounts.linked_user(session, "test_provider", "sub-1") is None


def test_the_only_way_in_is_not_unlinked_and_erasure_unlinks_all(client, session, provider):
    phone = new_phone()
    user = accounts.create_user(session, phone=phone, display_name="x")  # no password, unproven
    accounts.link_identity(session, user, "test_provider", "sub-9")
    session.commit()
    signed_in = client.post("/api/v1/auth/token", json={"grant_type": "test_provider",
                                                         "id_token": "sub-9"})
    headers = {"Authorization": f"Bearer {signed_in.json['access_token']}"}
    assert client.delete("/api/v1/me/identities/test_union", headers=headers).status_code == 204
    refused = client.delete("/api/v1/me/identities/test_provider", headers=headers)
    assert refused.status_code == 409 and refused.json["code"] == "last_sign_in_method"
    exported = client.get("/api/v1/me/export", headers=headers).json
    assert [i["provider"] for i in exported["identities"]] == ["test_provider"]
    assert "subject" in exported["identities"][0]  # their own copy holds it
    assert client.delete("/api/v1/me", headers=headers).status_code in (200, 204)
    assert session.scalar(sa.select(sa.func.count()).select_from(IdentityLink)
                          .where(IdentityLink.user_id == user.id)) == 0
