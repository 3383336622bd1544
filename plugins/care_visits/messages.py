"""Texts of the care-visits plugin's error, notification and text-message codes (en, zh-CN)."""

from core.messages import NotificationKind

VISIT = "care_visits.visit"            # opens the visit: visit_id
RECIPIENT = "care_visits.recipient"    # opens the recipient: recipient_id
FOLLOW_UP = "care_visits.follow_up"    # opens the follow-up: follow_up_id

MESSAGES: dict[str, dict[str, str]] = {
    # errors
    "care_duty_required": {
        "en": "This needs care duties: an officer or admin in a care team.",
        "zh-CN": "此操作需要关爱职责：关爱小组中的民警或管理员。",
    },
    "recipient_not_found": {"en": "Care recipient not found.", "zh-CN": "未找到该关爱对象。"},
    "recipient_erased": {
        "en": "This care recipient's record was erased.",
        "zh-CN": "该关爱对象的信息已被删除。",
    },
    "recipient_position_missing": {
        "en": "The recipient's home has no position for the check-in fence.",
        "zh-CN": "关爱对象住址缺少定位，无法设置签到范围。",
    },
    "care_group_invalid": {
        "en": "Group {group_id} is not a care team of this station.",
        "zh-CN": "小组 {group_id} 不是本站点的关爱小组。",
    },
    "consent_required": {
        "en": "No consent or legal basis covers {scope} for this recipient.",
        "zh-CN": "该关爱对象没有涵盖 {scope} 的同意或法律依据。",
    },
    "consent_withdrawn": {
        "en": "The recipient withdrew consent: no further processing.",
        "zh-CN": "关爱对象已撤回同意，不再进行后续处理。",
    },
    "consent_not_given": {
        "en": "There is no standing consent to withdraw.",
        "zh-CN": "没有可撤回的有效同意。",
    },
    "visit_not_found": {"en": "Visit not found.", "zh-CN": "未找到该走访。"},
    "not_checked_in_here": {
        "en": "Check in at this visit before recording it.",
        "zh-CN": "请先在此次走访签到后再记录。",
    },
    "visit_not_started": {
        "en": "The visit has not begun (status {status}).",
        "zh-CN": "走访尚未开始（状态 {status}）。",
    },
    "visit_window_past": {
        "en": "The visit's window is already over.",
        "zh-CN": "走访时间段已经结束。",
    },
    "visit_closed": {
        "en": "This visit is over (status {status}).",
        "zh-CN": "此次走访已结束（状态 {status}）。",
    },
    "visit_not_under_review": {
        "en": "This visit is not waiting for review.",
        "zh-CN": "该走访无需审核。",
    },
    "review_reason_required": {
        "en": "Say why the visit is rejected.",
        "zh-CN": "请填写驳回走访的理由。",
    },
    "follow_up_not_found": {"en": "Follow-up not found.", "zh-CN": "未找到该跟进事项。"},
    "follow_up_closed": {"en": "This follow-up is already closed.", "zh-CN": "该跟进事项已关闭。"},
    "visit_acknowledged": {
        "en": "The recipient already acknowledged this visit.",
        "zh-CN": "关爱对象已确认此次走访。",
    },
    "ack_phone_missing": {
        "en": "No phone number to send the code to.",
        "zh-CN": "没有可接收确认码的电话号码。",
    },
    "ack_code_not_sent": {"en": "Send a confirmation code first.", "zh-CN": "请先发送确认码。"},
    "ack_code_locked": {
        "en": "Too many wrong codes for this visit; the recipient can sign instead.",
        "zh-CN": "此次走访确认码错误次数过多，请改由关爱对象签名确认。",
    },
    "ack_code_send_limit": {
        "en": "At most {max} codes may be sent for one visit; the recipient can sign instead.",
        "zh-CN": "每次走访最多发送 {max} 次确认码，请改由关爱对象签名确认。",
    },
    "ack_phone_text_limit": {
        "en": "This phone received {max} codes today; try again tomorrow or ask for a signature.",
        "zh-CN": "该号码今天已收到 {max} 条确认码，请明天再试或改用签名确认。",
    },
    "ack_code_expired": {
        "en": "The confirmation code expired; send a new one.",
        "zh-CN": "确认码已过期，请重新发送。",
    },
    "ack_code_wrong": {
        "en": "Wrong confirmation code; {attempts_left} tries left.",
        "zh-CN": "确认码错误，还可尝试 {attempts_left} 次。",
    },
    "signature_too_large": {
        "en": "The signature image may be at most {max_bytes} bytes.",
        "zh-CN": "签名图片不能超过 {max_bytes} 字节。",
    },
    "signature_not_an_image": {
        "en": "The signature must be a PNG or JPEG image.",
        "zh-CN": "签名必须是 PNG 或 JPEG 图片。",
    },
    "campaign_window_invalid": {
        "en": "A campaign ends after it starts.",
        "zh-CN": "活动结束时间必须晚于开始时间。",
    },
    "campaign_window_past": {
        "en": "The campaign's window is already over.",
        "zh-CN": "活动时间段已经结束。",
    },
    "campaign_name_taken": {
        "en": "A campaign named {name} exists.",
        "zh-CN": "已存在名为 {name} 的活动。",
    },
    "campaign_not_found": {"en": "Campaign not found.", "zh-CN": "未找到该活动。"},
    "campaign_ended": {"en": "The campaign has ended.", "zh-CN": "该活动已结束。"},
    # text message
    "care_visits.ack_code": {
        "en": "Your care-visit confirmation code is {pin} (valid {minutes} minutes).",
        "zh-CN": "您的关爱走访确认码为 {pin}，{minutes} 分钟内有效。",
    },
}

# The visitor reads the recipient's name and home (they visit them); the care officers read
# every record. Nothing else about the recipient goes into a notification.
NOTIFICATIONS: dict[str, NotificationKind] = {
    "care_visits.visit_planned": NotificationKind({
        "en": "Care visit to {recipient} at {place}: {starts_at} to {until}.",
        "zh-CN": "关爱走访：{recipient}（{place}），{starts_at} 至 {until}。",
    }, target=VISIT),
    "care_visits.visit_missed": NotificationKind({
        "en": "The care visit to {recipient} due {due_at} was missed.",
        "zh-CN": "对 {recipient} 的关爱走访（应于 {due_at} 前完成）未按时完成。",
    }, target=VISIT),
    "care_visits.visit_late": NotificationKind({
        "en": "The care visit to {recipient} is late; its window closes {ends_at}.",
        "zh-CN": "对 {recipient} 的关爱走访已逾期，将于 {ends_at} 截止。",
    }, target=VISIT),
    "care_visits.behind_plan": NotificationKind({
        "en": "{recipient} is behind plan: {made} of {expected} visits made.",
        "zh-CN": "{recipient} 的走访进度落后：已完成 {made} 次，应完成 {expected} 次。",
    }, target=RECIPIENT),
    "care_visits.follow_up_overdue": NotificationKind({
        "en": "A follow-up for {recipient} has been open since {opened_at}.",
        "zh-CN": "{recipient} 的跟进事项自 {opened_at} 起仍未关闭。",
    }, target=FOLLOW_UP),
}

# The plugin's own field validators (English as marshmallow reports them) in zh-CN.
FIELD_MESSAGES = {
    "4-32 letters and digits.": "须为 4-32 位字母或数字。",
    "Give either code or signature.": "请提供确认码或签名之一。",
}
