"""Texts of the patrol plugin's error and notification codes, in en and zh-CN."""

from __future__ import annotations

from core import messages as core_messages
from core.messages import NotificationKind


def _m(en: str, zh: str) -> dict[str, str]:
    return {"en": en, "zh-CN": zh}


# Codes any part of Wardens may use; defined here only when the core does not define them yet.
SHARED = {
    "position_inaccurate": _m("The position is too inaccurate ({accuracy_m} m; at most {limit_m} m).",
                              "定位精度不足（{accuracy_m} 米，最多 {limit_m} 米）。"),
    "client_id_taken": _m("This client id is used by another record.",
                          "该客户端编号已被其他记录使用。"),
    "task_not_found": _m("Task not found.", "未找到该任务。"),
    "task_not_open": _m("This task is no longer open.", "该任务已不再开放。"),
    "range_invalid": _m("The time range is invalid (at most {max_days} days).",
                        "时间范围无效（最多 {max_days} 天）。"),
}

PATROL = {
    # routes and checkpoints
    "route_not_found": _m("Patrol route not found.", "未找到该巡逻路线。"),
    "route_name_taken": _m("A route named {name} exists.", "已存在名为 {name} 的路线。"),
    "route_archived": _m("This route is archived.", "该路线已归档。"),
    "route_has_no_checkpoints": _m("This route has no checkpoints yet.", "该路线尚未设置巡逻点。"),
    "team_group_invalid": _m("The team must be a group of kind {kind} of this station.",
                             "巡逻队必须是本站点类型为 {kind} 的小组。"),
    "grid_group_invalid": _m("The grid cell must be a group of kind {kind} of this station.",
                             "网格必须是本站点类型为 {kind} 的小组。"),
    "checkpoint_not_found": _m("Checkpoint not found.", "未找到该巡逻点。"),
    "task_not_patrol": _m("This task is of kind {kind}, not a patrol.",
                          "该任务类型为 {kind}，不是巡逻任务。"),
    "task_not_now": _m("This patrol task runs from {starts_at} to {ends_at}.",
                       "该巡逻任务的时间为 {starts_at} 至 {ends_at}。"),
    "not_assigned_to_task": _m("You are not signed up for this patrol task.",
                               "您未报名该巡逻任务。"),
    "task_has_no_route": _m("This patrol task has no route; choose one.",
                            "该巡逻任务未关联路线，请选择路线。"),
    "task_route_mismatch": _m("This patrol task walks route {route_id}.",
                              "该巡逻任务对应路线 {route_id}。"),
    # patrols
    "not_on_patrol_team": _m("You are not on this route's patrol team.", "您不在该路线的巡逻队中。"),
    "patrol_not_found": _m("Patrol not found.", "未找到该巡逻。"),
    "patrol_already_active": _m("Finish your patrol {patrol_id} first.",
                                "请先结束您正在进行的巡逻 {patrol_id}。"),
    "patrol_exists": _m("This patrol was already started.", "该巡逻已开始。"),
    "finish_before_start": _m("A patrol cannot finish before it started.", "巡逻结束时间不能早于开始时间。"),
    "patrol_not_active": _m("This patrol is {status}; it takes no more scans.",
                            "该巡逻已{status}，不再接受扫码。"),
    "patrol_locked": _m("Too many wrong codes ({max}): this patrol takes no more scans.",
                        "错误码次数过多（{max} 次），该巡逻已锁定。"),
    "patrol_guesses_exceeded": _m(
        "Too many wrong codes ({max} in 24 hours across your patrols): scans are refused for "
        "{retry_after} seconds, or until an officer unlocks your patrol.",
        "24 小时内错误码过多（各次巡逻合计 {max} 次）：{retry_after} 秒内无法扫码，"
        "或请民警为您的巡逻解锁。"),
    "patrol_scan_limit": _m("A patrol takes at most {max} scans.", "每次巡逻最多 {max} 次扫码。"),
    "batch_too_large": _m("A batch holds at most {max} scans.", "每批最多 {max} 条扫码记录。"),
    # scans
    "checkpoint_not_on_route": _m("Checkpoint {checkpoint_id} is not on this patrol's route.",
                                  "巡逻点 {checkpoint_id} 不在本次巡逻路线上。"),
    "scan_outside_patrol": _m("The scan's time is outside the patrol (started {started_at}).",
                              "扫码时间不在本次巡逻时间内（开始于 {started_at}）。"),
    "code_invalid": _m("Wrong code ({attempts_left} attempts left).",
                       "巡逻码错误（还可尝试 {attempts_left} 次）。"),
    "code_expired": _m("This code has expired; scan the tag again.", "巡逻码已过期，请重新扫码。"),
    "code_replayed": _m("This code was already used on this patrol.", "该巡逻码在本次巡逻中已使用。"),
    "static_codes_not_allowed": _m("This station does not accept printed codes.",
                                   "本站点不接受纸质巡逻码。"),
    "scan_rejected": _m("The scan was refused.", "扫码被拒绝。"),
    # roster
    "roster_not_shared": _m("The duty roster is shared with patrol members and partners.",
                            "值班表仅向巡逻队员和合作单位开放。"),
    "shift_ends_before_start": _m("A shift must end after it starts.", "班次结束时间必须晚于开始时间。"),
    "shift_too_long": _m("A shift lasts at most {max_hours} hours.", "每个班次最长 {max_hours} 小时。"),
    "not_an_officer": _m("Only officers of this station can be on the duty roster.",
                         "只有本站点民警可以排班。"),
    "shift_not_found": _m("Shift not found.", "未找到该班次。"),
    # incidents
    "not_on_patrol": _m("Start a patrol to report an incident.", "请先开始巡逻再上报事件。"),
    "incident_not_found": _m("Incident not found.", "未找到该事件。"),
    "incident_not_open": _m("This incident is already {status}.", "该事件已{status}。"),
    "photo_missing": _m("Attach a photo in the field 'photo'.", "请在 photo 字段上传照片。"),
    "photo_too_large": _m("A photo may have at most {max_bytes} bytes.", "每张照片最大 {max_bytes} 字节。"),
    "photo_type_not_allowed": _m("Only photos are accepted ({allowed}).", "仅接受图片（{allowed}）。"),
    "too_many_photos": _m("An incident has at most {max} photos.", "每个事件最多 {max} 张照片。"),
    "photo_not_found": _m("Photo not found.", "未找到该照片。"),
}


NOTIFICATIONS: dict[str, NotificationKind] = {
    "patrol.incident_reported": NotificationKind(
        _m("{reporter} reported an incident ({category}), {occurred_at}.",
           "{reporter} 上报了事件（{category}），时间 {occurred_at}。"),
        target="patrol.incident"),
    "patrol.incident_acknowledged": NotificationKind(
        _m("{officer} is handling your incident report ({category}).",
           "{officer} 已受理您上报的事件（{category}）。"),
        target="patrol.incident"),
    "patrol.incident_resolved": NotificationKind(
        _m("{officer} resolved your incident report ({category}).",
           "{officer} 已处理完毕您上报的事件（{category}）。"),
        target="patrol.incident"),
    "patrol.coverage_gap": NotificationKind(
        _m("Grid cell {grid} has not been patrolled since {since} ({hours} hours).",
           "网格 {grid} 自 {since} 起已 {hours} 小时无人巡逻。"),
        target="core.group"),
}


def all_messages() -> dict[str, dict[str, str]]:
    """The plugin's codes, plus the shared ones the core does not define (yet)."""
    shared = {code: text for code, text in SHARED.items()
              if code not in core_messages.MESSAGES or core_messages.MESSAGES[code] == text}
    return {**shared, **PATROL}


# The plugin's own field validators (English as marshmallow reports them) in zh-CN.
FIELD_MESSAGES = {
    "Use 8-64 letters, digits, - or _ (a UUID).": "请使用 8-64 位字母、数字、- 或 _（例如 UUID）。",
}
