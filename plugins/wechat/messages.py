"""The wechat plugin's error texts, zh-CN and en."""

from __future__ import annotations

MESSAGES = {
    "wechat_code_invalid": {
        "en": "The WeChat sign-in code is invalid or was used; sign in again in the mini-program.",
        "zh-CN": "微信登录凭证无效或已使用，请在小程序中重新登录。",
    },
    "wechat_phone_code_invalid": {
        "en": "The WeChat phone-number code is invalid or was used; ask for the number again.",
        "zh-CN": "微信手机号凭证无效或已使用，请重新获取手机号。",
    },
    "wechat_unavailable": {
        "en": "WeChat cannot be reached right now; try again shortly.",
        "zh-CN": "暂时无法连接微信，请稍后再试。",
    },
    "wechat_template_unknown": {
        "en": "This subscription template is not one of the deployment's.",
        "zh-CN": "该订阅消息模板不属于本系统。",
    },
}

FIELD_MESSAGES = {"not a WeChat AppID": "不是有效的微信 AppID"}
