"""Texts for every error and notification code, in zh-CN and en; rendered in the reader's language."""

from __future__ import annotations

from typing import Any

LOCALES = ("zh-CN", "en")
DEFAULT_LOCALE = "zh-CN"

# code -> {locale: template}; templates use str.format with the error details / notification params.
MESSAGES: dict[str, dict[str, str]] = {
    # generic HTTP
    "bad_request": {"en": "The request could not be read.", "zh-CN": "无法解析请求。"},
    "invalid_json": {"en": "The body is not valid JSON.", "zh-CN": "请求体不是有效的 JSON。"},
    "validation_error": {"en": "Some fields are invalid.", "zh-CN": "部分字段无效。"},
    "nul_character": {
        "en": "Text may not contain NUL characters.",
        "zh-CN": "文本中不能包含 NUL 字符。",
    },
    "page_size_too_large": {
        "en": "page_size may be at most {max}.",
        "zh-CN": "每页数量最多为 {max}。",
    },
    "not_found": {"en": "Not found.", "zh-CN": "未找到。"},
    "method_not_allowed": {"en": "Method not allowed.", "zh-CN": "不支持该请求方法。"},
    "payload_too_large": {"en": "The body is too large.", "zh-CN": "请求体过大。"},
    "unsupported_media_type": {
        "en": "Send the body as application/json.",
        "zh-CN": "请以 application/json 发送请求体。",
    },
    "rate_limited": {
        "en": "Too many attempts; try again in {retry_after} seconds.",
        "zh-CN": "尝试次数过多，请 {retry_after} 秒后再试。",
    },
    "internal_error": {
        "en": "Something went wrong on our side.",
        "zh-CN": "服务器内部错误。",
    },
    "conflict": {"en": "The change clashes with another one; retry.", "zh-CN": "操作冲突，请重试。"},
    "idempotency_key_reused": {
        "en": "This Idempotency-Key was used for another request.",
        "zh-CN": "该幂等键已用于其他请求。",
    },
    "idempotency_key_in_flight": {
        "en": "A request with this Idempotency-Key is still running.",
        "zh-CN": "使用该幂等键的请求仍在处理中。",
    },
    "idempotency_key_invalid": {
        "en": "An Idempotency-Key has at most {max_length} characters.",
        "zh-CN": "幂等键最多 {max_length} 个字符。",
    },
    "plugin_disabled": {
        "en": "The {plugin} feature is not switched on for this station.",
        "zh-CN": "本站点未开启 {plugin} 功能。",
    },
    "plugin_not_installed": {
        "en": "No plugin {plugin} is installed.",
        "zh-CN": "未安装插件 {plugin}。",
    },
    "invalid_settings": {"en": "Some settings are invalid.", "zh-CN": "部分设置无效。"},
    "insufficient_points": {
        "en": "Not enough points: {needed} needed, {balance} available.",
        "zh-CN": "积分不足：需要 {needed}，现有 {balance}。",
    },
    "already_spent": {"en": "This was already paid for.", "zh-CN": "该项已支付。"},
    "http_error": {"en": "The request failed.", "zh-CN": "请求失败。"},
    "service_unavailable": {
        "en": "The service is unavailable; try again later.",
        "zh-CN": "服务暂时不可用，请稍后再试。",
    },
    # auth
    "authentication_required": {"en": "Sign in first.", "zh-CN": "请先登录。"},
    "invalid_token": {
        "en": "The access token is invalid or expired.",
        "zh-CN": "访问令牌无效或已过期。",
    },
    "session_revoked": {"en": "This session has ended.", "zh-CN": "该会话已失效。"},
    "invalid_credentials": {"en": "Wrong phone or password.", "zh-CN": "手机号或密码错误。"},
    "invalid_refresh_token": {
        "en": "The refresh token is invalid.",
        "zh-CN": "刷新令牌无效。",
    },
    "refresh_token_reused": {
        "en": "This refresh token was already used; sign in again.",
        "zh-CN": "该刷新令牌已被使用，请重新登录。",
    },
    "unsupported_grant_type": {
        "en": "Unsupported grant_type {grant_type}.",
        "zh-CN": "不支持的授权类型 {grant_type}。",
    },
    "phone_taken": {
        "en": "This phone number is already registered.",
        "zh-CN": "该手机号已注册。",
    },
    "invalid_phone": {"en": "Not a valid phone number.", "zh-CN": "手机号无效。"},
    "weak_password": {
        "en": "The password needs at least {min_length} characters.",
        "zh-CN": "密码至少需要 {min_length} 个字符。",
    },
    "wrong_password": {"en": "The current password is wrong.", "zh-CN": "当前密码错误。"},
    "account_erased": {"en": "This account was deleted.", "zh-CN": "该账号已注销。"},
    "device_not_found": {"en": "No such device is registered.", "zh-CN": "未找到该设备。"},
    "superuser_required": {
        "en": "Only a deployment superuser may do this.",
        "zh-CN": "仅系统超级管理员可执行此操作。",
    },
    # stations, members, groups
    "station_not_found": {"en": "Station not found.", "zh-CN": "未找到该站点。"},
    "station_code_taken": {
        "en": "A station with code {code} exists.",
        "zh-CN": "站点代码 {code} 已存在。",
    },
    "invalid_timezone": {"en": "Unknown time zone {timezone}.", "zh-CN": "未知时区 {timezone}。"},
    "join_closed": {
        "en": "This station does not accept open sign-up.",
        "zh-CN": "该站点不开放自助加入。",
    },
    "already_member": {"en": "Already a member.", "zh-CN": "已经是成员。"},
    "member_not_found": {"en": "Member not found.", "zh-CN": "未找到该成员。"},
    "role_required": {
        "en": "This needs one of the roles: {roles}.",
        "zh-CN": "此操作需要以下角色之一：{roles}。",
    },
    "invalid_role": {"en": "Unknown role {role}.", "zh-CN": "未知角色 {role}。"},
    "last_admin": {
        "en": "A station keeps at least one admin.",
        "zh-CN": "站点至少需要保留一名管理员。",
    },
    "group_not_found": {"en": "Group not found.", "zh-CN": "未找到该小组。"},
    "group_name_taken": {
        "en": "A group named {name} exists.",
        "zh-CN": "已存在名为 {name} 的小组。",
    },
    "not_a_member": {
        "en": "That person is not a member of this station.",
        "zh-CN": "此人不是本站点成员。",
    },
}


def register(messages: dict[str, dict[str, str]], owner: str) -> None:
    """Add a plugin's codes; a code defined twice with other text stops start-up."""
    for code, texts in messages.items():
        if code in MESSAGES and MESSAGES[code] != texts:
            raise ValueError(f"message code {code!r} of {owner} is already defined")
        MESSAGES[code] = texts


def pick_locale(candidates: list[str] | tuple[str, ...] | None) -> str:
    """The first supported locale among ``candidates`` (zh, zh-Hans → zh-CN), else the default."""
    for candidate in candidates or ():
        lowered = (candidate or "").lower()
        if lowered.startswith("zh"):
            return "zh-CN"
        if lowered.startswith("en"):
            return "en"
    return DEFAULT_LOCALE


def render(code: str, locale: str | None = None, params: dict[str, Any] | None = None) -> str:
    """The text of ``code`` in ``locale``; unknown placeholders stay readable, never raise."""
    texts = MESSAGES.get(code)
    if texts is None:
        return code
    template = texts.get(locale or DEFAULT_LOCALE) or texts["en"]
    try:
        return template.format_map(_Lenient(params or {}))
    except (ValueError, IndexError):
        return template


class _Lenient(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"
