"""Every error code has zh-CN and en text with the same placeholders; Accept-Language picks."""

from __future__ import annotations

import re
import string
from pathlib import Path

import pytest

from core import messages

ROOT = Path(__file__).resolve().parent.parent
RAISED = re.compile(r"\b(?:Invalid|NotFound|PermissionDenied|Conflict|Unauthenticated|"
                    r"TooManyRequests)\(\s*\"([a-z0-9_]+)\"")
NOTIFIED = re.compile(r"\bnotify\([^)]*?\"([a-z0-9_.]+)\"", re.S)


def placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def test_every_code_has_both_translations_with_the_same_placeholders(deployment):
    for code, texts in messages.MESSAGES.items():
        assert set(texts) >= {"en", "zh-CN"}, code
        assert texts["en"].strip() and texts["zh-CN"].strip(), code
        assert placeholders(texts["en"]) == placeholders(texts["zh-CN"]), code


def test_every_raised_code_is_in_the_catalogue(deployment):
    sources = [p for folder in ("core", "api", "plugins") for p in (ROOT / folder).rglob("*.py")]
    raised = {code for path in sources for code in RAISED.findall(path.read_text())}
    raised |= {code for path in sources for code in NOTIFIED.findall(path.read_text())}
    missing = sorted(code for code in raised if code not in messages.MESSAGES)
    assert missing == []
    assert len(raised) > 20


def test_accept_language_picks_the_language(client):
    zh = client.get("/api/v1/me", headers={"Accept-Language": "zh-CN,zh;q=0.9"})
    en = client.get("/api/v1/me", headers={"Accept-Language": "en-US,en;q=0.8"})
    default = client.get("/api/v1/me")
    assert zh.json["code"] == en.json["code"] == "authentication_required"
    assert zh.json["message"] == "请先登录。"
    assert en.json["message"] == "Sign in first."
    assert default.json["message"] == "请先登录。"


def test_details_fill_the_message(client):
    answer = client.post("/api/v1/auth/token", json={"grant_type": "magic"},
                         headers={"Accept-Language": "en"})
    assert answer.json["message"] == "Unsupported grant_type magic."
    assert answer.json["details"]["grant_type"] == "magic"


def test_notification_codes_follow_one_scheme_and_the_document_lists_them(client, deployment):
    """core.<event> or <plugin>.<event>, each with a target kind of its owner or the core's."""
    owners = {"core", "tests", "sample", *deployment.plugins}
    assert messages.NOTIFICATIONS, "the catalogue holds the notification codes"
    for code, kind in messages.NOTIFICATIONS.items():
        owner, _, event = code.partition(".")
        assert owner in owners and re.fullmatch(r"[a-z][a-z0-9_]*", event), code
        assert kind.target in (None, messages.ANY_TARGET) or kind.target in messages.CORE_TARGETS or \
            kind.target.startswith(owner + "."), (code, kind.target)
    for old in ("task_assigned", "points_adjusted", "anti_fraud_coupon_granted"):
        assert old not in messages.NOTIFICATIONS
    spec = client.get("/api/openapi.json").json
    schema = spec["components"]["schemas"]["Notification"]["properties"]
    # the catalogue when the app started (tests register more codes later on)
    assert set(schema["code"]["enum"]) <= set(messages.NOTIFICATIONS)
    assert schema["code"]["enum"] == sorted(schema["code"]["enum"])
    assert {"core.task_assigned", "patrol.incident_reported", "anti_fraud.coupon_granted",
            "crossing_guard.reminder_hour", "care_visits.visit_planned"} <= set(
        schema["code"]["enum"])
    assert {"core.task", "core.group", "patrol.incident", "crossing_guard.shift"} <= (
        messages.TARGETS)


def test_a_plugin_notification_outside_its_namespace_is_refused():
    kind = messages.NotificationKind({"en": "x", "zh-CN": "x"})
    with pytest.raises(ValueError, match="is not patrol.<event>"):
        messages.register_notifications({"patrol_gap": kind}, "patrol")
    with pytest.raises(ValueError, match="is not patrol.<event>"):
        messages.register_notifications({"crossing_guard.gap": kind}, "patrol")
    with pytest.raises(ValueError, match="target kind"):
        messages.register_notifications({"patrol.gap": messages.NotificationKind(
            {"en": "x", "zh-CN": "x"}, target="crossing_guard.shift")}, "patrol")
    assert "patrol_gap" not in messages.NOTIFICATIONS


def test_every_notified_code_is_a_registered_notification(deployment):
    sources = [p for folder in ("core", "api", "plugins") for p in (ROOT / folder).rglob("*.py")]
    notified = {code for path in sources for code in NOTIFIED.findall(path.read_text())}
    assert notified and not notified - set(messages.NOTIFICATIONS), notified - set(
        messages.NOTIFICATIONS)
