"""Every code the plugin raises, reports per import line or notifies has zh-CN and en text."""

from __future__ import annotations

import re
from pathlib import Path

from core import messages
from plugins.anti_fraud.messages import MESSAGES

PACKAGE = Path(__file__).resolve().parents[3] / "plugins" / "anti_fraud"
CODES = [re.compile(r'(?:Invalid|NotFound|PermissionDenied|Conflict)\(\s*"([a-z_]+)"'),
         re.compile(r'Problem\(\s*[^,()]+,\s*"([a-z_]+)"'),
         re.compile(r'errors\.add\([^,()]+,\s*[^,()]+,\s*"([a-z_]+)"'),
         re.compile(r'notify\([^,()]+,\s*[^,()]+,\s*"([a-z_]+)"')]


def test_every_code_used_has_both_translations(deployment):
    sources = [path.read_text(encoding="utf-8") for path in PACKAGE.glob("*.py")]
    used = {code for text in sources for pattern in CODES for code in pattern.findall(text)}
    assert len(used) > 40
    missing = {code for code in used if set(messages.MESSAGES.get(code, {})) < {"en", "zh-CN"}}
    assert missing == set()
    assert all(set(texts) == {"en", "zh-CN"} for texts in MESSAGES.values())
