"""The anti-fraud plugin's error, import-problem and notification texts, in zh-CN and en."""

from __future__ import annotations

from core.messages import NotificationKind

MESSAGES: dict[str, dict[str, str]] = {
    # question bank
    "question_not_found": {"en": "Question not found.", "zh-CN": "未找到该题目。"},
    "question_field_required": {"en": "{field} is required.", "zh-CN": "{field} 为必填项。"},
    "question_field_type": {"en": "{field} has the wrong type.", "zh-CN": "{field} 的类型不正确。"},
    "question_field_too_long": {
        "en": "{field} is longer than {max} characters.",
        "zh-CN": "{field} 超过 {max} 个字符。",
    },
    "question_key_invalid": {
        "en": "A key has 1-64 letters, digits, dots, colons, underscores or hyphens.",
        "zh-CN": "编号须为 1-64 位字母、数字、点、冒号、下划线或连字符。",
    },
    "question_key_taken": {
        "en": "Another question has the key {key}.",
        "zh-CN": "编号 {key} 已被其他题目使用。",
    },
    "question_category_invalid": {
        "en": "A category is 2-32 lowercase letters, digits and underscores, e.g. fake_loan.",
        "zh-CN": "类别须为 2-32 位小写字母、数字或下划线，例如 fake_loan。",
    },
    "question_locale_invalid": {
        "en": "The language must be one of {locales}.",
        "zh-CN": "语言必须是以下之一：{locales}。",
    },
    "question_difficulty_invalid": {
        "en": "Difficulty is 1 (easy), 2 (medium) or 3 (hard).",
        "zh-CN": "难度须为 1（简单）、2（中等）或 3（困难）。",
    },
    "question_choices_count": {
        "en": "A question has {min} to {max} choices.",
        "zh-CN": "每道题须有 {min} 到 {max} 个选项。",
    },
    "question_choice_empty": {"en": "A choice is empty.", "zh-CN": "有选项为空。"},
    "question_choices_duplicate": {
        "en": "Two choices have the same text.",
        "zh-CN": "有两个选项内容相同。",
    },
    "question_correct_invalid": {
        "en": "The correct answer must name one or more of the {count} choices, each once.",
        "zh-CN": "正确答案须为 {count} 个选项中的一个或多个，且不能重复。",
    },
    # import files
    "import_invalid": {
        "en": "The file has {count} problem(s), the first on line {first_line}; nothing was imported.",
        "zh-CN": "文件有 {count} 处错误，第一处在第 {first_line} 行；未导入任何题目。",
    },
    "import_unreadable": {
        "en": "The file could not be read as UTF-8 or GB18030 text.",
        "zh-CN": "无法以 UTF-8 或 GB18030 编码读取该文件。",
    },
    "import_unreadable_line": {"en": "This line cannot be read as CSV.", "zh-CN": "该行不是有效的 CSV。"},
    "import_empty": {"en": "The file holds no questions.", "zh-CN": "文件中没有题目。"},
    "import_too_many": {
        "en": "A file may hold at most {max} questions.",
        "zh-CN": "一个文件最多包含 {max} 道题目。",
    },
    "import_format_invalid": {
        "en": "Say whether the file is csv or json.",
        "zh-CN": "请说明文件格式是 csv 还是 json。",
    },
    "import_unknown_column": {"en": "Unknown column {field}.", "zh-CN": "未知的列 {field}。"},
    "import_missing_column": {"en": "The column {field} is missing.", "zh-CN": "缺少列 {field}。"},
    "import_duplicate_column": {"en": "A column appears twice.", "zh-CN": "有列重复出现。"},
    "import_too_many_values": {
        "en": "This line has more values than the {expected} columns.",
        "zh-CN": "该行的值多于 {expected} 列。",
    },
    "import_choice_gap": {
        "en": "Fill the choices from A on, without gaps.",
        "zh-CN": "选项须从 A 开始依次填写，中间不能空缺。",
    },
    "import_json_syntax": {
        "en": "Invalid JSON at column {column}: {problem}.",
        "zh-CN": "JSON 格式错误（第 {column} 列）：{problem}。",
    },
    "import_json_shape": {
        "en": "Expected a list of questions, each an object.",
        "zh-CN": "应为题目列表，每道题是一个对象。",
    },
    "import_format_unknown": {
        "en": "This is not a {format} file of version 1.",
        "zh-CN": "这不是版本 1 的 {format} 文件。",
    },
    "import_unknown_field": {"en": "Unknown field {field}.", "zh-CN": "未知字段 {field}。"},
    "import_duplicate_key": {
        "en": "This key was already used on line {first_line}.",
        "zh-CN": "该编号已在第 {first_line} 行使用。",
    },
    # quizzes and attempts
    "quiz_not_found": {"en": "Quiz not found.", "zh-CN": "未找到该答题活动。"},
    "quiz_window_invalid": {
        "en": "A quiz must close after it opens.",
        "zh-CN": "答题活动的结束时间须晚于开始时间。",
    },
    "quiz_needs_questions": {
        "en": "The quiz needs {needed} questions but its categories hold {available}.",
        "zh-CN": "该答题需要 {needed} 道题，但所选类别只有 {available} 道。",
    },
    "quiz_not_open": {"en": "This quiz is not open now.", "zh-CN": "该答题活动当前未开放。"},
    "attempt_limit_reached": {
        "en": "You have used today's {limit} attempt(s) at this quiz; try again tomorrow.",
        "zh-CN": "今天的 {limit} 次答题机会已用完，请明天再来。",
    },
    "attempt_not_found": {"en": "Attempt not found.", "zh-CN": "未找到该答题记录。"},
    "attempt_already_submitted": {
        "en": "This attempt was already submitted.",
        "zh-CN": "本次答题已提交。",
    },
    "attempt_late": {
        "en": "Time is up: the attempt closed at {deadline}.",
        "zh-CN": "答题时间已到（截止于 {deadline}），无法提交。",
    },
    "answer_not_served": {
        "en": "Question {question_id} was not part of this attempt.",
        "zh-CN": "题目 {question_id} 不在本次答题中。",
    },
    "answer_duplicate": {
        "en": "Question {question_id} is answered twice.",
        "zh-CN": "题目 {question_id} 重复作答。",
    },
    "answer_choice_invalid": {
        "en": "The choices given for question {question_id} are not valid for it.",
        "zh-CN": "题目 {question_id} 的所选选项无效。",
    },
    # shops and offers
    "shop_not_found": {"en": "Shop not found.", "zh-CN": "未找到该商户。"},
    "shop_name_taken": {"en": "A shop named {name} exists.", "zh-CN": "已存在名为 {name} 的商户。"},
    "shop_group_kind": {
        "en": "A shop's staff group must be of kind shop.",
        "zh-CN": "商户的员工小组类型必须是 shop。",
    },
    "shop_group_taken": {
        "en": "That group already staffs another shop.",
        "zh-CN": "该小组已是其他商户的员工小组。",
    },
    "not_a_merchant": {
        "en": "Only members with the merchant role can be shop staff.",
        "zh-CN": "只有具有商户角色的成员才能成为商户员工。",
    },
    "offer_not_found": {"en": "Offer not found.", "zh-CN": "未找到该优惠。"},
    "offer_discount_invalid": {
        "en": "A percent offer gives percent_off only; an amount offer gives amount_off_cents only.",
        "zh-CN": "折扣优惠只填 percent_off，立减优惠只填 amount_off_cents。",
    },
    "offer_window_invalid": {
        "en": "An offer must end after it starts.",
        "zh-CN": "优惠的结束时间须晚于开始时间。",
    },
    "offer_not_open": {"en": "This offer is not available now.", "zh-CN": "该优惠当前不可领取。"},
    "offer_reward_only": {
        "en": "This offer is a quiz reward and cannot be bought with points.",
        "zh-CN": "该优惠仅作为答题奖励发放，不能用积分兑换。",
    },
    "offer_limit_reached": {
        "en": "You already have the {limit} coupon(s) this offer allows per person.",
        "zh-CN": "该优惠每人限领 {limit} 张，您已领满。",
    },
    "offer_out_of_stock": {"en": "This offer is out of stock.", "zh-CN": "该优惠已领完。"},
    "offer_stock_below_claimed": {
        "en": "The stock cannot be lowered below what was already claimed.",
        "zh-CN": "库存不能低于已领取的数量。",
    },
    # coupons
    "coupon_not_found": {"en": "Coupon not found.", "zh-CN": "未找到该优惠券。"},
    "coupon_qr_invalid": {
        "en": "This is not a valid coupon code of this station.",
        "zh-CN": "这不是本站点的有效优惠券码。",
    },
    "coupon_qr_expired": {
        "en": "This coupon code has expired; ask the customer to refresh it.",
        "zh-CN": "该券码已过期，请顾客刷新后再扫。",
    },
    "coupon_already_redeemed": {
        "en": "This coupon was already used.",
        "zh-CN": "该优惠券已被使用。",
    },
    "coupon_expired": {"en": "This coupon has expired.", "zh-CN": "该优惠券已过期。"},
    "not_shop_staff": {
        "en": "Only the staff of the coupon's shop can redeem it.",
        "zh-CN": "只有该优惠券所属商户的员工才能核销。",
    },
    "coupon_self_redemption": {
        "en": "You cannot redeem your own coupon; another member of the shop's staff must.",
        "zh-CN": "不能核销自己的优惠券，请由商户的其他员工核销。",
    },
    "minimum_spend_not_met": {
        "en": "This coupon needs a bill of at least {min_spend_cents} cents.",
        "zh-CN": "该优惠券需消费满 {min_spend_cents} 分才能使用。",
    },
}

NOTIFICATIONS: dict[str, NotificationKind] = {
    "anti_fraud.coupon_granted": NotificationKind({
        "en": "You passed \"{quiz}\" and won a coupon: {offer}, valid until {expires_at}.",
        "zh-CN": "您通过了“{quiz}”，获得优惠券：{offer}，有效期至 {expires_at}。",
    }, target="anti_fraud.coupon"),
    "anti_fraud.coupon_redeemed": NotificationKind({
        "en": "Your coupon \"{offer}\" was used at {shop}, {redeemed_at}: {discount} yuan off.",
        "zh-CN": "您的优惠券“{offer}”已于 {redeemed_at} 在{shop}使用，优惠 {discount} 元。",
    }, target="anti_fraud.coupon"),
}
