"""The firebase plugin's error and notification texts, zh-CN and en."""

from __future__ import annotations

MESSAGES = {
    "firebase_token_expired": {
        "en": "The Firebase sign-in has expired; sign in again.",
        "zh-CN": "Firebase 登录凭证已过期，请重新登录。",
    },
    "firebase_token_not_yet_valid": {
        "en": "The Firebase sign-in is not valid yet; check the phone's clock.",
        "zh-CN": "Firebase 登录凭证尚未生效，请检查手机时间。",
    },
    "firebase_token_revoked": {
        "en": "This Firebase sign-in was revoked; sign in again.",
        "zh-CN": "该 Firebase 登录已被撤销，请重新登录。",
    },
    "firebase_user_disabled": {
        "en": "This Firebase account is disabled.",
        "zh-CN": "该 Firebase 账号已被停用。",
    },
    "firebase_user_deleted": {
        "en": "This Firebase account no longer exists.",
        "zh-CN": "该 Firebase 账号已不存在。",
    },
    "firebase_wrong_project": {
        "en": "The Firebase sign-in belongs to another app.",
        "zh-CN": "该 Firebase 登录凭证属于其他应用。",
    },
    "firebase_unknown_key": {
        "en": "The Firebase sign-in is signed with an unknown key.",
        "zh-CN": "Firebase 登录凭证的签名密钥未知。",
    },
    "firebase_bad_signature": {
        "en": "The Firebase sign-in's signature does not match.",
        "zh-CN": "Firebase 登录凭证的签名不匹配。",
    },
    "firebase_token_invalid": {
        "en": "The Firebase sign-in token is malformed.",
        "zh-CN": "Firebase 登录凭证格式无效。",
    },
    "firebase_no_phone": {
        "en": "The Firebase sign-in carries no verified phone number.",
        "zh-CN": "Firebase 登录未包含已验证的手机号。",
    },
    "firebase_unavailable": {
        "en": "Firebase cannot be reached right now; try again shortly.",
        "zh-CN": "暂时无法连接 Firebase，请稍后再试。",
    },
    "firebase_push_title": {"en": "Wardens", "zh-CN": "平安守望"},
}

# The plugin's own field validators (English as marshmallow reports them) in zh-CN.
FIELD_MESSAGES = {"not a Firebase project id": "不是有效的 Firebase 项目 ID"}
