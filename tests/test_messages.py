"""Every error code has zh-CN and en text with the same placeholders; Accept-Language picks."""

from __future__ import annotations

import re
import string
from pathlib import Path

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
