"""WeChat mini-program sign-in and subscription messages against a local stand-in for WeChat's
API at the machine's edge (see conftest): the account by verified phone, found again by openid,
the same as by texted code; messages per accepted subscription; one access token for all."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import sqlalchemy as sa

from core import accounts, clock, notifications, stations, targets
from core.models import IdentityLink, NotificationDelivery, ProviderToken, StationPlugin
from core.models.notifications import DeliveryStatus
from tests.fixtures.people import new_phone
from tests.plugins.wechat.conftest import APP_ID, ENV

NOON = dt.datetime(2026, 3, 2, 12, 0, tzinfo=dt.UTC)
ROOT = Path(__file__).resolve().parents[3]


def station_with_seat(app, phone, code="east"):
    with app.extensions["wardens"].database.writer() as session:
        root = accounts.create_user(session, phone=new_phone(), display_name="root",
                                    password="correct horse", is_superuser=True)
        station, _ = stations.create_station(session, root, code=code, name=f"{code} station",
                                             admin_phone=phone)
        for name in ("patrol", "wechat"):
            session.add(StationPlugin(station_id=station.id, name=name, enabled=True))
        session.commit()
        return station


def wechat_sign_in(client, api, openid, phone=None, unionid=None):
    body = {"grant_type": "wechat", "login_code": api.person(openid, unionid)}
    if phone:
        body["phone_code"] = api.phone_code(phone)
    return client.post("/api/v1/auth/token", json=body)


def test_the_first_sign_in_creates_the_account_by_its_verified_number_and_finds_it_after(
        wechat, wechat_api, texts):
    _, api = wechat_api
    client = wechat.test_client()
    phone = new_phone()
    station_with_seat(wechat, phone)
    first = wechat_sign_in(client, api, "openid-1", phone, unionid="union-1")
    assert first.status_code == 200, first.json
    user = first.json["user"]
    assert user["phone"] == phone and user["phone_verified"] is True
    headers = {"Authorization": f"Bearer {first.json['access_token']}"}
    mine = client.get("/api/v1/me/memberships", headers=headers).json
    assert [m["station"]["code"] for m in mine] == ["east"]  # the reserved seat is claimed
    assert [i["provider"] for i in client.get("/api/v1/me/identities", headers=headers).json] \
        == ["wechat", "wechat_union"]

    again = wechat_sign_in(client, api, "openid-1")  # no phone code: the openid is linked
    assert again.status_code == 200 and again.json["user"]["id"] == user["id"]

    assert client.post("/api/v1/auth/phone-code", json={"phone": phone}).status_code == 202
    by_text = client.post("/api/v1/auth/token", json={
        "grant_type": "phone_code", "phone": phone, "code": texts.sent[-1]["params"]["code"]})
    assert by_text.status_code == 200 and by_text.json["user"]["id"] == user["id"]
    assert len(api.tokens) == 1  # the phone-number call fetched the shared access token once


def test_a_refused_code_or_an_unknown_person_without_a_number_is_refused(wechat, wechat_api):
    _, api = wechat_api
    client = wechat.test_client()
    bad = client.post("/api/v1/auth/token", json={"grant_type": "wechat", "login_code": "nope"})
    assert bad.status_code == 401 and bad.json["code"] == "wechat_code_invalid"
    unknown = wechat_sign_in(client, api, "openid-new")
    assert unknown.status_code == 401 and unknown.json["code"] == "identity_phone_required"
    used = client.post("/api/v1/auth/token", json={
        "grant_type": "wechat", "login_code": api.person("openid-2"), "phone_code": "used"})
    assert used.status_code == 401 and used.json["code"] == "wechat_phone_code_invalid"


def test_a_subscription_message_per_accepted_subscription_opens_the_target(wechat, wechat_api):
    clock.freeze(NOON)
    server, api = wechat_api
    client = wechat.test_client()
    deployment = wechat.extensions["wardens"]
    phone = new_phone()
    station = station_with_seat(wechat, phone)
    signed_in = wechat_sign_in(client, api, "openid-3", phone)
    headers = {"Authorization": f"Bearer {signed_in.json['access_token']}"}
    offered = client.get("/api/v1/stations/east/wechat/subscriptions", headers=headers).json
    assert {o["template_id"]: o["accepted"] for o in offered} == {
        "tpl-gap-0001": False, "tpl-task-0002": False}
    accepted = client.post("/api/v1/stations/east/wechat/subscriptions", headers=headers,
                           json={"results": {"tpl-gap-0001": "accept"}})
    assert accepted.status_code == 200
    assert {o["template_id"]: o["remaining"] for o in accepted.json}["tpl-gap-0001"] == 1
    unknown = client.post("/api/v1/stations/east/wechat/subscriptions", headers=headers,
                          json={"results": {"tpl-other-99": "accept"}})
    assert unknown.status_code == 422 and unknown.json["code"] == "wechat_template_unknown"

    user_id = signed_in.json["user"]["id"]
    with deployment.database.writer() as session:
        rows = [notifications.notify(session, user_id, "patrol.coverage_gap",
                                     station_id=station.id,
                                     target=targets.target("core.group", group_id=7),
                                     grid_group_id=7, grid="North gate", hours=5.0,
                                     since=NOON - dt.timedelta(hours=5)) for _ in range(2)]
        session.commit()
        notifications.deliver_pending(deployment.database.writer, "w1")
        (sent,) = api.sends  # one acceptance, one message
        assert sent["touser"] == "openid-3" and sent["template_id"] == "tpl-gap-0001"
        assert sent["data"]["thing1"] == {"value": "North gate"}
        assert sent["data"]["time2"] == {"value": "2026-03-02 15:00"}  # in the station's zone
        assert len(sent["data"]["thing3"]["value"]) <= 20
        page = urlsplit(sent["page"])
        assert page.path == "pages/open/index"
        assert parse_qs(page.query) == {"notification_id": [str(rows[0].id)], "kind": ["core.group"],
                                        "station": ["east"], "group_id": ["7"]}
        session.expire_all()
        channels = {(d.notification_id, d.channel): d.status for d in session.scalars(
            sa.select(NotificationDelivery).where(
                NotificationDelivery.notification_id.in_([r.id for r in rows])))}
        assert channels[rows[0].id, "wechat"] == DeliveryStatus.SENT
        assert channels[rows[1].id, "wechat"] == DeliveryStatus.SKIPPED  # none left
        assert channels[rows[1].id, "inbox"] == DeliveryStatus.SENT


def test_the_access_token_is_fetched_again_once_when_wechat_refuses_it(wechat, wechat_api):
    _, api = wechat_api
    client = wechat.test_client()
    assert wechat_sign_in(client, api, "openid-4", new_phone()).status_code == 200
    api.tokens.clear()  # WeChat rotated it (another app's process asked for a new one)
    assert wechat_sign_in(client, api, "openid-5", new_phone()).status_code == 200
    assert len(api.tokens) == 1


TWO_PROCESSES = """
import sys, time
from core.db import Database
from core.plugins import DeploymentConfig, Deployment
from plugins.wechat import settings, wechat_api
deployment = Deployment(Database(sys.argv[1]), DeploymentConfig.load(sys.argv[2]))
config = settings.of_deployment(deployment)
start = float(sys.argv[3])
time.sleep(max(0, start - time.time()))
with deployment.database.writer() as session, session.begin():
    print(wechat_api.access_token(session, config))
"""


def test_two_processes_share_one_access_token(committed, wechat_app, wechat_api, tmp_path,
                                              test_database_url, monkeypatch):
    """Two worker processes wanting the token at the same moment: WeChat is asked once."""
    import time

    from tests.plugins.wechat.conftest import TOML

    _, api = wechat_api
    api.tokens.clear()
    toml = tmp_path / "plugins.toml"
    toml.write_text(TOML.format(app_id=APP_ID, url=wechat_api[0].url), encoding="utf-8")
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)
    start = str(time.time() + 2)
    runs = [subprocess.Popen([sys.executable, "-c", TWO_PROCESSES, test_database_url, str(toml),
                              start], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True) for _ in range(2)]
    answers = [run.communicate(timeout=120) for run in runs]
    assert all(run.returncode == 0 for run in runs), answers
    assert [out.strip() for out, _ in answers] == ["token-1", "token-1"]
    assert api.tokens == ["token-1"]
    with committed.database.writer() as session:
        row = session.get(ProviderToken, f"wechat:{APP_ID}")
        assert row.value == "token-1" and row.expires_at is not None


def test_erasure_deletes_the_subscriptions_and_the_links(wechat, wechat_api):
    _, api = wechat_api
    client = wechat.test_client()
    phone = new_phone()
    station_with_seat(wechat, phone)
    signed_in = wechat_sign_in(client, api, "openid-6", phone)
    headers = {"Authorization": f"Bearer {signed_in.json['access_token']}"}
    client.post("/api/v1/stations/east/wechat/subscriptions", headers=headers,
                json={"results": {"tpl-gap-0001": "accept"}})
    exported = client.get("/api/v1/me/export", headers=headers).json
    assert [s["template_id"] for s in exported["plugins"]["wechat"]["subscriptions"]] == [
        "tpl-gap-0001"]
    assert client.delete("/api/v1/me", headers=headers).status_code in (200, 204)
    with wechat.extensions["wardens"].database.writer() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(IdentityLink).where(
            IdentityLink.subject == "openid-6")) == 0
    again = wechat_sign_in(client, api, "openid-6")
    assert again.status_code == 401  # the erased account is not found by its openid
    json.dumps(exported)
