"""The plugin's error and notification texts, in zh-CN and en."""

from __future__ import annotations

from core.messages import NotificationKind

MESSAGES: dict[str, dict[str, str]] = {
    # errors
    "school_not_found": {"en": "School not found.", "zh-CN": "未找到该学校。"},
    "school_name_taken": {"en": "A school named {name} exists.",
                          "zh-CN": "已存在名为 {name} 的学校。"},
    "school_has_posts": {"en": "The school still has posts; remove them first.",
                         "zh-CN": "该学校仍有护学岗，请先删除岗位。"},
    "post_not_found": {"en": "Post not found.", "zh-CN": "未找到该护学岗。"},
    "post_name_taken": {"en": "This school already has a post named {name}.",
                        "zh-CN": "该学校已有名为 {name} 的岗位。"},
    "post_has_shifts": {"en": "The post has shifts; switch it off instead.",
                        "zh-CN": "该岗位已有班次，请改为停用。"},
    "guards_out_of_order": {
        "en": "The minimum number of guards ({min_guards}) exceeds the maximum ({max_guards}).",
        "zh-CN": "最少护学人数（{min_guards}）不能大于最多人数（{max_guards}）。"},
    "team_not_crossing_team": {
        "en": "The team must be a group of kind crossing_team.",
        "zh-CN": "护学队必须是类型为 crossing_team 的小组。"},
    "term_not_found": {"en": "Term not found.", "zh-CN": "未找到该学期。"},
    "dates_out_of_order": {"en": "The end date is before the start date.",
                           "zh-CN": "结束日期早于开始日期。"},
    "term_too_long": {"en": "A term lasts at most {max_days} days.",
                      "zh-CN": "一个学期最长 {max_days} 天。"},
    "closure_not_found": {"en": "Closure not found.", "zh-CN": "未找到该停课安排。"},
    "template_not_found": {"en": "Shift template not found.", "zh-CN": "未找到该班次模板。"},
    "template_name_taken": {"en": "This post already has a template named {name}.",
                            "zh-CN": "该岗位已有名为 {name} 的班次模板。"},
    "times_out_of_order": {"en": "The shift must end after it starts.",
                           "zh-CN": "班次结束时间必须晚于开始时间。"},
    "shift_not_found": {"en": "Shift not found.", "zh-CN": "未找到该班次。"},
    "shift_cancelled": {"en": "This shift is cancelled.", "zh-CN": "该班次已取消。"},
    "shift_started": {"en": "This shift has already started.", "zh-CN": "该班次已开始。"},
    "not_eligible": {
        "en": "Only volunteers and officers of the school's crossing team can guard this post.",
        "zh-CN": "只有该校护学队中的志愿者和民警可以在此岗位执勤。"},
    "coordinator_required": {
        "en": "Only a coordinator of the crossing team can do this.",
        "zh-CN": "只有护学队协调人可以执行此操作。"},
    "overlapping_shift": {"en": "You already have a shift at that time.",
                          "zh-CN": "您在该时段已有其他班次。"},
    "already_on_shift": {"en": "You are already on this shift.", "zh-CN": "您已在该班次中。"},
    "not_on_shift": {"en": "You are not signed up for this shift.",
                     "zh-CN": "您未报名该班次。"},
    "withdrawal_cutoff_passed": {
        "en": "It is less than {cutoff_hours} hours before the shift: ask a coordinator to "
              "release you, or offer a swap.",
        "zh-CN": "距班次开始已不足 {cutoff_hours} 小时：请联系协调人解除，或发起换班。"},
    "swap_not_found": {"en": "Swap offer not found.", "zh-CN": "未找到该换班请求。"},
    "swap_not_open": {"en": "This swap offer is no longer open.",
                      "zh-CN": "该换班请求已失效。"},
    "swap_already_offered": {"en": "You already offered this shift.",
                             "zh-CN": "您已为该班次发起换班。"},
    "swap_own_offer": {"en": "You cannot take your own offer.", "zh-CN": "不能接受自己的换班请求。"},
    "swap_offered_to_other": {"en": "This swap is offered to someone else.",
                              "zh-CN": "该换班请求是发给其他人的。"},
    "swap_offer_not_yours": {"en": "Only the person who offered it can withdraw it.",
                             "zh-CN": "只有发起人可以撤回换班请求。"},
    "no_term": {"en": "No current or coming term; name one.",
                "zh-CN": "当前没有进行中或即将开始的学期，请指定学期。"},
    "weekday_not_in_template": {"en": "The template has no shift on weekday {weekday}.",
                                "zh-CN": "该模板在星期 {weekday} 没有班次。"},
    "feed_not_found": {"en": "No such calendar feed.", "zh-CN": "未找到该日历订阅。"},
}

SHIFT = "crossing_guard.shift"  # opens the shift: shift_id
SWAP = "crossing_guard.swap"    # opens the swap offer: offer_id

NOTIFICATIONS: dict[str, NotificationKind] = {
    "crossing_guard.shift_changed": NotificationKind({
        "en": "Your crossing shift at {post}, {school} on {date} now runs {starts}-{ends}.",
        "zh-CN": "您在{school}{post}的护学班次（{date}）时间改为 {starts}-{ends}。"}, target=SHIFT),
    "crossing_guard.released": NotificationKind({
        "en": "A coordinator released you from the crossing shift at {post} on {date} {starts}.",
        "zh-CN": "协调人已解除您在{post}的护学班次（{date} {starts}）。"}, target=SHIFT),
    "crossing_guard.reminder_evening": NotificationKind({
        "en": "Tomorrow {starts}: crossing shift at {post}, {school}.",
        "zh-CN": "明天 {starts}：{school}{post}护学执勤。"}, target=SHIFT),
    "crossing_guard.reminder_hour": NotificationKind({
        "en": "At {starts}: crossing shift at {post}, {school}. Check in on arrival.",
        "zh-CN": "{starts}：{school}{post}护学执勤，到岗后请签到。"}, target=SHIFT),
    "crossing_guard.no_show": NotificationKind({
        "en": "{names} did not check in for the shift at {post}, {school} ({date} {starts}).",
        "zh-CN": "{names} 未在{school}{post}的班次（{date} {starts}）签到。"}, target=SHIFT),
    "crossing_guard.needs_cover": NotificationKind({
        "en": "{post}, {school} needs cover on {date} {starts}: {filled} of {min_guards} guards.",
        "zh-CN": "{school}{post}（{date} {starts}）缺人：已有 {filled} 人，至少需要 {min_guards} 人。"},
        target=SHIFT),
    "crossing_guard.swap_offered": NotificationKind({
        "en": "{name} offers the crossing shift at {post} on {date} {starts}. Take it?",
        "zh-CN": "{name} 希望转让{post}的护学班次（{date} {starts}），您愿意接班吗？"}, target=SWAP),
    "crossing_guard.swap_taken": NotificationKind({
        "en": "{name} took your crossing shift at {post} on {date} {starts}.",
        "zh-CN": "{name} 已接替您在{post}的护学班次（{date} {starts}）。"}, target=SWAP),
}

# The plugin's own field validators (English as marshmallow reports them) in zh-CN.
FIELD_MESSAGES = {"Use HH:MM (24 h).": "请使用 HH:MM（24 小时制）。"}
