"""Texts for every error and notification code, in zh-CN and en; rendered in the reader's language."""

from __future__ import annotations

import functools
import re
import string
from dataclasses import dataclass
from typing import Any

from core import local_time

LOCALES = ("zh-CN", "en")
DEFAULT_LOCALE = "zh-CN"

# code -> {locale: template}; templates use str.format with the error details / notification params.
MESSAGES: dict[str, dict[str, str]] = {
    # generic HTTP
    "bad_request": {"en": "The request could not be read.", "zh-CN": "无法解析请求。"},
    "invalid_json": {"en": "The body is not valid JSON.", "zh-CN": "请求体不是有效的 JSON。"},
    "validation_error": {"en": "Some fields are invalid.", "zh-CN": "部分字段无效。"},
    "period_invalid": {
        "en": "The period is invalid: it starts on or before its end and spans at most"
              " {max_days} days.",
        "zh-CN": "统计周期无效：开始日期不能晚于结束日期，且最长 {max_days} 天。",
    },
    "nul_character": {
        "en": "Text may not contain NUL characters.",
        "zh-CN": "文本中不能包含 NUL 字符。",
    },
    "idempotent_secret_not_replayed": {
        "en": "This request was done; its answer held a secret that is not kept. Read it where "
              "it is shown, or make a new one with a new Idempotency-Key.",
        "zh-CN": "该请求已完成；其结果含有不予保存的密钥。请在显示处重新读取，或使用新的 "
                 "Idempotency-Key 重新生成。",
    },
    "points_self_adjustment": {
        "en": "Nobody adjusts their own points: another officer must.",
        "zh-CN": "不能调整自己的积分，请由其他民警办理。",
    },
    "points_second_officer_required": {
        "en": "An adjustment this large is approved by another officer than the one who asked.",
        "zh-CN": "此笔较大的积分调整须由申请人以外的另一位民警批准。",
    },
    "adjustment_not_found": {
        "en": "No such pending adjustment.",
        "zh-CN": "未找到该待批准的积分调整。",
    },
    "adjustment_already_decided": {
        "en": "This adjustment was already approved or rejected.",
        "zh-CN": "该积分调整已被批准或驳回。",
    },
    "json_too_deep": {
        "en": "JSON may nest at most {max_depth} levels deep.",
        "zh-CN": "JSON 嵌套不能超过 {max_depth} 层。",
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
    "deployment_setting": {
        "en": "{settings}: set in plugins.toml for the whole deployment, not per station.",
        "zh-CN": "{settings} 为部署级设置，只能在 plugins.toml 中配置，站点不能修改。",
    },
    "insufficient_points": {
        "en": "Not enough points: {needed} needed, {balance} available.",
        "zh-CN": "积分不足：需要 {needed}，现有 {balance}。",
    },
    "already_spent": {"en": "This was already paid for.", "zh-CN": "该项已支付。"},
    "value_out_of_range": {
        "en": "A number or date is out of range.",
        "zh-CN": "数字或日期超出范围。",
    },
    "phone_verification_code": {
        "en": "Wardens verification code: {code}. It expires in {minutes} minutes."
              " Never share it.",
        "zh-CN": "【守望】验证码 {code}，{minutes} 分钟内有效，请勿告诉他人。",
    },
    "phone_already_verified": {
        "en": "This phone is already verified.",
        "zh-CN": "该手机号已验证。",
    },
    "sign_in_code": {
        "en": "Wardens sign-in code: {code}. It expires in {minutes} minutes. Never share it.",
        "zh-CN": "【守望】登录验证码 {code}，{minutes} 分钟内有效，请勿告诉他人。",
    },
    "password_reset_code": {
        "en": "Wardens password reset code: {code}. It expires in {minutes} minutes."
              " Never share it.",
        "zh-CN": "【守望】重置密码验证码 {code}，{minutes} 分钟内有效，请勿告诉他人。",
    },
    "verification_code_invalid": {
        "en": "The code is wrong; check it and try again.",
        "zh-CN": "验证码错误，请核对后重试。",
    },
    "verification_code_expired": {
        "en": "The code has expired, was used, or was tried too often; ask for a new one.",
        "zh-CN": "验证码已过期、已使用或尝试次数过多，请重新获取。",
    },
    "phone_not_proven": {
        "en": "This sign-in does not prove the phone number, which already has an account.",
        "zh-CN": "该登录方式未验证手机号，而该手机号已有账号。",
    },
    "identity_phone_required": {
        "en": "The first sign-in through {provider} needs the phone number too.",
        "zh-CN": "首次通过 {provider} 登录需要同时提供手机号。",
    },
    "identity_not_linked": {
        "en": "This sign-in method is not linked to the account.",
        "zh-CN": "该登录方式未与此账号关联。",
    },
    "last_sign_in_method": {
        "en": "This is the account's only way to sign in: set a password or prove the phone first.",
        "zh-CN": "这是该账号唯一的登录方式：请先设置密码或验证手机号。",
    },
    "http_error": {"en": "The request failed.", "zh-CN": "请求失败。"},
    "app_title": {"en": "Wardens", "zh-CN": "平安守望"},
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
    "group_in_use": {
        "en": "Group {group_id} is still in use (for example as a shop's staff); change that first.",
        "zh-CN": "群组 {group_id} 仍在使用中（例如作为商户的店员组），请先修改。",
    },
    "role_required": {
        "en": "This needs one of the roles: {roles}.",
        "zh-CN": "此操作需要以下角色之一：{roles}。",
    },
    "invalid_role": {"en": "Unknown role {role}.", "zh-CN": "未知角色 {role}。"},
    "station_file_invalid": {
        "en": "The station file has {count} mistake(s); nothing was changed.",
        "zh-CN": "站点文件有 {count} 处错误，未做任何更改。",
    },
    "station_file_harmful": {
        "en": "The station file would hurt people ({harms}); allow it explicitly to go on.",
        "zh-CN": "站点文件的更改会影响他人（{harms}），需明确允许才能执行。",
    },
    "station_file_refused": {
        "en": "The station file breaks a rule ({reason}); nothing was changed.",
        "zh-CN": "站点文件违反规则（{reason}），未做任何更改。",
    },
    "station_file_unknown_allow": {
        "en": "Cannot allow {allow}: known harms are {known}.",
        "zh-CN": "无法允许 {allow}：可允许的有 {known}。",
    },
    "station_file_fixed_field": {
        "en": "{path}: {fields} cannot change once set; give it a new key instead.",
        "zh-CN": "{path}：{fields} 设定后不能更改，请使用新的 key。",
    },
    "station_file_reference": {
        "en": "The station file names {kind} {key}, which the station does not have.",
        "zh-CN": "站点文件引用的{kind} {key} 不存在。",
    },
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
    # tasks, assignments, check-ins
    "task_not_found": {"en": "Task not found.", "zh-CN": "未找到该任务。"},
    "unknown_task_kind": {"en": "Unknown task kind {kind}.", "zh-CN": "未知任务类型 {kind}。"},
    "task_kind_private": {
        "en": "Tasks of kind {kind} are managed by their own feature.",
        "zh-CN": "{kind} 类任务由对应功能单独管理。",
    },
    "task_managed_by_plugin": {
        "en": "Tasks of kind {kind} are changed through {plugin}, not through the general task pages.",
        "zh-CN": "{kind} 类任务须通过 {plugin} 功能修改，不能通过通用任务页面操作。",
    },
    "checkout_before_start": {
        "en": "The task starts at {starts_at}: checking out before its start does not complete it.",
        "zh-CN": "任务 {starts_at} 开始：开始前签退不算完成。",
    },
    "checkout_too_soon": {
        "en": "This task needs at least {min_minutes} minutes between check-in and check-out.",
        "zh-CN": "该任务签到与签退之间至少需要 {min_minutes} 分钟。",
    },
    "task_kind_managed": {
        "en": "Tasks of kind {kind} are created through their own feature.",
        "zh-CN": "{kind} 类任务须通过对应功能创建。",
    },
    "task_window_invalid": {
        "en": "A task must end after it starts.",
        "zh-CN": "任务结束时间必须晚于开始时间。",
    },
    "position_incomplete": {
        "en": "Give both latitude and longitude, or neither.",
        "zh-CN": "纬度和经度须同时提供或同时省略。",
    },
    "crs_unknown": {
        "en": "Unknown coordinate system {crs}: use wgs84, gcj02 or bd09.",
        "zh-CN": "未知坐标系 {crs}：请使用 wgs84、gcj02 或 bd09。",
    },
    "capacity_below_filled": {
        "en": "{filled} places are taken; capacity cannot drop to {capacity}.",
        "zh-CN": "已有 {filled} 人报名，名额不能减至 {capacity}。",
    },
    "task_not_open": {"en": "This task is no longer open.", "zh-CN": "该任务已不再开放。"},
    "task_ended": {"en": "This task has ended.", "zh-CN": "该任务已结束。"},
    "already_signed_up": {
        "en": "Already signed up for this task.",
        "zh-CN": "已报名该任务。",
    },
    "task_full": {
        "en": "All {capacity} places are taken.",
        "zh-CN": "{capacity} 个名额已满。",
    },
    "assignment_not_found": {
        "en": "Not signed up for this task.",
        "zh-CN": "未报名该任务。",
    },
    "cannot_withdraw": {
        "en": "Cannot withdraw once {status}.",
        "zh-CN": "当前状态（{status}）无法退出。",
    },
    "not_assigned": {
        "en": "Only people with a place can check in.",
        "zh-CN": "只有已获得名额的人员才能签到。",
    },
    "already_checked_in": {"en": "Already checked in.", "zh-CN": "已签到。"},
    "already_completed": {"en": "This task is already completed.", "zh-CN": "该任务已完成。"},
    "not_checked_in": {"en": "Check in before checking out.", "zh-CN": "请先签到再签退。"},
    "checkin_not_open": {
        "en": "Check-in opens at {opens_at}.",
        "zh-CN": "签到将于 {opens_at} 开放。",
    },
    "checkin_closed": {
        "en": "Check-in closed at {closed_at}.",
        "zh-CN": "签到已于 {closed_at} 关闭。",
    },
    "device_time_in_future": {
        "en": "The phone's time is ahead of the server's; check the phone's clock.",
        "zh-CN": "手机时间快于服务器时间，请检查手机时钟。",
    },
    "device_time_too_old": {
        "en": "What a phone recorded is accepted up to {max_minutes} minutes after it happened.",
        "zh-CN": "手机记录的内容最多可在发生后 {max_minutes} 分钟内提交。",
    },
    "mock_location_refused": {
        "en": "Mock locations are not accepted.",
        "zh-CN": "不接受模拟定位。",
    },
    "position_inaccurate": {
        "en": "The position is too inaccurate ({accuracy_m} m; at most {limit_m} m).",
        "zh-CN": "定位精度不足（{accuracy_m} 米，最多 {limit_m} 米）。",
    },
    "outside_geofence": {
        "en": "You are {distance_m} m from the task; the area has a {radius_m} m radius.",
        "zh-CN": "您距任务地点 {distance_m} 米，范围半径为 {radius_m} 米。",
    },
    "client_id_reused": {
        "en": "This client_id was used for another record.",
        "zh-CN": "该 client_id 已用于其他记录。",
    },
    "today_unread": {
        "en": "{count} unread notifications",
        "zh-CN": "{count} 条未读消息",
    },
    # points, inbox
    "unknown_event_code": {
        "en": "Unknown points event {event_code}.",
        "zh-CN": "未知积分事件 {event_code}。",
    },
    "task_kind_pays_task_completed": {
        "en": "Tasks of kind {kind} already pay core.task_completed.",
        "zh-CN": "{kind} 类任务本身已按 core.task_completed 计分。",
    },
    "notification_not_found": {"en": "Notification not found.", "zh-CN": "未找到该通知。"},
    # notices from officers
    "notice_audience_incomplete": {
        "en": "A notice to a {audience} names it: give {field}.",
        "zh-CN": "发给{audience}的通知须指明对象：请提供 {field}。",
    },
    "notice_audience_mixed": {
        "en": "{field} is not for a notice to the {audience}.",
        "zh-CN": "发给{audience}的通知不能带 {field}。",
    },
    "notice_blank": {
        "en": "The notice's {field} is empty.",
        "zh-CN": "通知的 {field} 不能为空。",
    },
    "notice_target_invalid": {
        "en": "A notice's target names a kind the app opens (core.task, core.group, "
              "core.points, or a plugin's <plugin>.<thing>) and up to three <thing>_id ids.",
        "zh-CN": "通知的跳转目标须为应用可打开的类型（core.task、core.group、core.points 或插件的 "
                 "<plugin>.<thing>），最多三个 <thing>_id 编号。",
    },
    "notice_no_recipients": {
        "en": "Nobody but you is in this audience ({audience}): the notice was not sent.",
        "zh-CN": "该范围（{audience}）内除您以外没有其他人，通知未发送。",
    },
    "core.notice.title": {"en": "{title}", "zh-CN": "{title}"},
    # duties granted by groups (care teams, shop staff, patrol and crossing teams)
    "duty_group_admins_only": {
        "en": "Only a station admin may change a group of kind {kind}: it grants a duty.",
        "zh-CN": "{kind} 类小组授予职责，只有站点管理员可以更改。",
    },
    "duty_self_grant": {
        "en": "No one puts themselves in a group of kind {kind}: another admin does it.",
        "zh-CN": "不能将自己加入 {kind} 类小组，须由其他管理员操作。",
    },
}


@dataclass(frozen=True)
class NotificationKind:
    """One notification code: its texts and the kind of record the app opens for it.

    ``texts`` are ``{"en": ..., "zh-CN": ...}`` templates (``str.format`` with the
    notification's parameters; a parameter holding a time is shown in the station's zone and
    the reader's language). ``target`` is the kind of the notification's ``target``
    (``core.task``, ``patrol.incident``...: core/targets.py), None when it opens nothing, or
    :data:`ANY_TARGET` when its sender chooses (an officer's notice).
    """

    texts: dict[str, str]
    target: str | None = None


# The core's kinds of target (core/targets.py): a task (``task_id``), a group (``group_id``),
# the person's points in the station, the inbox.
CORE_TARGETS = frozenset({"core.task", "core.group", "core.points", "core.notifications"})
# A notification whose sender chooses what it opens (an officer's notice): any known kind.
ANY_TARGET = "*"
CODE = re.compile(r"^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$")

# Every notification code, ``core.<event>`` or ``<plugin>.<event>``: the core's below, each
# plugin's from its PluginInfo.notifications.
NOTIFICATIONS: dict[str, NotificationKind] = {}
# Every kind of target a notification may carry.
TARGETS: set[str] = set(CORE_TARGETS)

CORE_NOTIFICATIONS: dict[str, NotificationKind] = {
    "core.task_assigned": NotificationKind({
        "en": "{by} assigned you to {title}, {starts_at}.",
        "zh-CN": "{by} 安排您参加“{title}”，时间 {starts_at}。",
    }, target="core.task"),
    "core.task_cancelled": NotificationKind({
        "en": "{title}, {starts_at}, was cancelled. {reason}",
        "zh-CN": "“{title}”（{starts_at}）已取消。{reason}",
    }, target="core.task"),
    "core.waitlist_promoted": NotificationKind({
        "en": "A place freed up: you are now signed up for {title}, {starts_at}.",
        "zh-CN": "有名额空出：您已成功报名“{title}”，时间 {starts_at}。",
    }, target="core.task"),
    "core.points_adjusted": NotificationKind({
        "en": "{by} adjusted your points by {amount}: {reason}",
        "zh-CN": "{by} 将您的积分调整了 {amount}：{reason}",
    }, target="core.points"),
    # duties granted by groups (care teams, shop staff, patrol and crossing teams)
    "core.duty_group_created": NotificationKind({
        "en": "{by} set up a new team: {group}.",
        "zh-CN": "{by} 新建了小组“{group}”。",
    }, target="core.group"),
    "core.duty_group_kind_changed": NotificationKind({
        "en": "{by} made the team {group} of kind {kind}.",
        "zh-CN": "{by} 将小组“{group}”的类型改为 {kind}。",
    }, target="core.group"),
    "core.duty_group_deleted": NotificationKind({
        "en": "{by} deleted the team {group}.",
        "zh-CN": "{by} 删除了小组“{group}”。",
    }),
    "core.duty_group_member_added": NotificationKind({
        "en": "{by} added {person} to your team {group}.",
        "zh-CN": "{by} 将 {person} 加入了您所在的小组“{group}”。",
    }, target="core.group"),
    "core.duty_group_member_removed": NotificationKind({
        "en": "{person} is no longer in your team {group}.",
        "zh-CN": "{person} 已不在您所在的小组“{group}”中。",
    }, target="core.group"),
    "core.notice": NotificationKind({
        "en": "{by}: {text}",
        "zh-CN": "{by}：{text}",
    }, target=ANY_TARGET),
    "core.duty_group_leader_changed": NotificationKind({
        "en": "{by} changed the leaders of your team {group} ({person}).",
        "zh-CN": "{by} 变更了您所在的小组“{group}”的组长（{person}）。",
    }, target="core.group"),
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


def render(code: str, locale: str | None = None, params: dict[str, Any] | None = None, *,
           timezone: str | None = None) -> str:
    """The text of ``code`` in ``locale``; unknown placeholders stay readable, never raise.

    A parameter holding a time (RFC 3339 text or a datetime) or a date reads in words, the time
    in ``timezone`` (a station's; without one, in UTC and saying so): never raw ISO text.
    """
    texts = MESSAGES.get(code)
    if texts is None:
        return code
    locale = locale or DEFAULT_LOCALE
    template = texts.get(locale) or texts["en"]
    shown = {key: local_time.readable(value, timezone, locale)
             for key, value in (params or {}).items()}
    try:
        return template.format_map(_Lenient(shown))
    except (ValueError, IndexError):
        return template


class _Lenient(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def register_notifications(kinds: dict[str, NotificationKind], owner: str) -> None:
    """Add an owner's notification codes (``<owner>.<event>``) and their texts.

    :raises ValueError: a code outside the owner's namespace, a target kind that is neither the
        core's nor ``<owner>.<thing>``, or a code already defined with other texts.
    """
    for code, kind in kinds.items():
        if not CODE.match(code) or code.split(".")[0] != owner:
            raise ValueError(f"notification code {code!r} of {owner} is not {owner}.<event>")
        target = kind.target
        if target is not None and target != ANY_TARGET and target not in CORE_TARGETS and not (
                CODE.match(target) and target.split(".")[0] == owner):
            raise ValueError(f"notification {code!r}: target kind {target!r} is neither a core"
                             f" kind ({', '.join(sorted(CORE_TARGETS))}) nor {owner}.<thing>")
        if code in NOTIFICATIONS and NOTIFICATIONS[code] != kind:
            raise ValueError(f"notification code {code!r} of {owner} is already defined")
        register({code: kind.texts}, owner)
        NOTIFICATIONS[code] = kind
        if target is not None and target != ANY_TARGET:
            TARGETS.add(target)


def placeholders(template: str) -> list[str]:
    """The parameter names a template uses, in order."""
    return list(dict.fromkeys(name for _, name, _, _ in string.Formatter().parse(template)
                              if name))


# Field-level validation messages (a 422's ``details.fields``): marshmallow's and our own
# validators' English texts, with their zh-CN translation; ``{name}`` stands for a value.
FIELD_MESSAGES: dict[str, str] = {
    # marshmallow's fields and schemas
    "Missing data for required field.": "缺少必填字段。",
    "Field may not be null.": "该字段不能为空（null）。",
    "Unknown field.": "未知字段。",
    "Invalid input type.": "输入类型无效。",
    "Invalid type.": "类型无效。",
    "Invalid value.": "值无效。",
    "Invalid input.": "输入无效。",
    "Not a valid string.": "不是有效的字符串。",
    "Not a valid utf-8 string.": "不是有效的 UTF-8 字符串。",
    "Not a valid integer.": "不是有效的整数。",
    "Not a valid number.": "不是有效的数字。",
    "Number too large.": "数字过大。",
    "Special numeric values (nan or infinity) are not permitted.": "不允许特殊数值（nan 或 infinity）。",
    "Not a valid boolean.": "不是有效的布尔值。",
    "Not a valid list.": "不是有效的列表。",
    "Not a valid tuple.": "不是有效的元组。",
    "Not a valid mapping type.": "不是有效的对象。",
    "Not a valid date.": "不是有效的日期。",
    "Not a valid datetime.": "不是有效的日期时间。",
    "Not a valid time.": "不是有效的时间。",
    "Not a valid aware datetime.": "不是带时区的有效日期时间（请带上时区，例如 +08:00）。",
    "Not a valid naive datetime.": "不是不带时区的有效日期时间。",
    "Not a valid aware time.": "不是带时区的有效时间。",
    "Not a valid naive time.": "不是不带时区的有效时间。",
    "Not a valid period of time.": "不是有效的时长。",
    "Not a valid UUID.": "不是有效的 UUID。",
    "Not a valid URL.": "不是有效的网址。",
    "Not a valid email address.": "不是有效的电子邮箱地址。",
    "Not a valid IP address.": "不是有效的 IP 地址。",
    "Not a valid IPv4 address.": "不是有效的 IPv4 地址。",
    "Not a valid IPv6 address.": "不是有效的 IPv6 地址。",
    "Not a valid IP interface.": "不是有效的 IP 接口。",
    "Not a valid IPv4 interface.": "不是有效的 IPv4 接口。",
    "Not a valid IPv6 interface.": "不是有效的 IPv6 接口。",
    "\"{input}\" cannot be formatted as a date.": "“{input}”无法格式化为日期。",
    "\"{input}\" cannot be formatted as a datetime.": "“{input}”无法格式化为日期时间。",
    "\"{input}\" cannot be formatted as a time.": "“{input}”无法格式化为时间。",
    "{input} cannot be formatted as a timedelta.": "{input} 无法格式化为时长。",
    # marshmallow's validators
    "Shorter than minimum length {min}.": "长度不能少于 {min}。",
    "Longer than maximum length {max}.": "长度不能超过 {max}。",
    "Length must be between {min} and {max}.": "长度必须在 {min} 到 {max} 之间。",
    "Length must be {equal}.": "长度必须为 {equal}。",
    "Must be greater than or equal to {min}.": "必须大于或等于 {min}。",
    "Must be greater than {min}.": "必须大于 {min}。",
    "Must be less than or equal to {max}.": "必须小于或等于 {max}。",
    "Must be less than {max}.": "必须小于 {max}。",
    "Must be greater than or equal to {min} and less than or equal to {max}.":
        "必须大于或等于 {min} 且小于或等于 {max}。",
    "Must be greater than {min} and less than {max}.": "必须大于 {min} 且小于 {max}。",
    "Must be greater than or equal to {min} and less than {max}.":
        "必须大于或等于 {min} 且小于 {max}。",
    "Must be greater than {min} and less than or equal to {max}.":
        "必须大于 {min} 且小于或等于 {max}。",
    "Must be one of: {choices}.": "必须是以下之一：{choices}。",
    "Must be equal to {other}.": "必须等于 {other}。",
    "String does not match expected pattern.": "格式不正确。",
    "One or more of the choices you made was not in: {choices}.": "所选项中有不在以下范围内的：{choices}。",
    "One or more of the choices you made was in: {values}.": "所选项中有不允许的值：{values}。",
    # the API's own validators
    "Not a phone number.": "不是有效的电话号码。",
    "Use 2-32 lowercase letters, digits and hyphens.": "请使用 2-32 位小写字母、数字或连字符。",
    "8-64 letters, digits, '-' or '_' (a UUID, say).": "须为 8-64 位字母、数字、“-”或“_”（例如 UUID）。",
    "give either text or document": "请提供 text 或 document 之一",
    "This plugin takes no settings.": "该插件没有设置项。",
}


def register_field_messages(texts: dict[str, str], owner: str) -> None:
    """Add a plugin's validator texts (English -> zh-CN); another translation stops start-up."""
    for english, chinese in texts.items():
        if english in FIELD_MESSAGES and FIELD_MESSAGES[english] != chinese:
            raise ValueError(f"field message {english!r} of {owner} is already translated")
        FIELD_MESSAGES[english] = chinese
    _field_patterns.cache_clear()


@functools.cache
def _field_patterns() -> list[tuple[re.Pattern[str], str]]:
    patterns = []
    # The longest first: "Must be ... {min} and ... {max}." before "Must be ... {min}.".
    for english, chinese in sorted(FIELD_MESSAGES.items(), key=lambda item: -len(item[0])):
        names = placeholders(english)
        if not names:
            continue
        regex = re.escape(english)
        for name in names:
            regex = regex.replace(re.escape("{" + name + "}"), f"(?P<{name}>.*?)", 1)
        patterns.append((re.compile(f"^{regex}$", re.S), chinese))
    return patterns


def field_message(text: str, locale: str) -> str:
    """A field's validation message in ``locale``; one not in the catalogue stays English."""
    if locale == "en" or not isinstance(text, str):
        return text
    exact = FIELD_MESSAGES.get(text)
    if exact is not None:
        return exact
    for pattern, chinese in _field_patterns():
        found = pattern.match(text)
        if found:
            return chinese.format_map(_Lenient(found.groupdict()))
    return text


def field_messages(messages: Any, locale: str) -> Any:
    """Every message in a (nested) webargs/marshmallow error structure, in ``locale``."""
    if isinstance(messages, str):
        return field_message(messages, locale)
    if isinstance(messages, list):
        return [field_messages(item, locale) for item in messages]
    if isinstance(messages, dict):
        return {key: field_messages(value, locale) for key, value in messages.items()}
    return messages


register_notifications(CORE_NOTIFICATIONS, "core")
