"""Texts of the sample plugin's codes, in en and zh-CN."""

from __future__ import annotations

from core.messages import NotificationKind

MESSAGES = {
    "sample_note_too_long": {"en": "A note has at most {max} characters.",
                             "zh-CN": "笔记最多 {max} 个字符。"},
}

NOTIFICATIONS = {
    "sample.hello": NotificationKind({"en": "Hello {name}.", "zh-CN": "你好，{name}。"},
                                     target="sample.note"),
}
