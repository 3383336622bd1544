"""Sending one text through Dysms SendSms: the template, its parameters, the outcome mapped."""

from __future__ import annotations

import json
import logging
from typing import Any

from sqlalchemy import orm as so

from core import phones, sms
from core.hookspecs import Delivery
from plugins.sms_aliyun import settings as plugin_settings

log = logging.getLogger(__name__)

# Dysms answer codes -> the outcome they mean (the rest fail with their own code).
OUTCOMES = {
    "isv.SMS_TEMPLATE_ILLEGAL": sms.TEMPLATE_NOT_APPROVED,
    "isv.SMS_SIGNATURE_ILLEGAL": sms.TEMPLATE_NOT_APPROVED,
    "isv.SIGN_NAME_ILLEGAL": sms.TEMPLATE_NOT_APPROVED,
    "isv.TEMPLATE_MISSING_PARAMETERS": sms.TEMPLATE_NOT_APPROVED,
    "isv.TEMPLATE_PARAMS_ILLEGAL": sms.TEMPLATE_NOT_APPROVED,
    "isv.MOBILE_NUMBER_ILLEGAL": sms.NUMBER_INVALID,
    "isv.MOBILE_COUNT_OVER_LIMIT": sms.NUMBER_INVALID,
    "isv.BLACK_KEY_CONTROL_LIMIT": sms.NUMBER_INVALID,
    "isv.BUSINESS_LIMIT_CONTROL": sms.RATE_LIMITED,
    "isv.DAY_LIMIT_CONTROL": sms.RATE_LIMITED,
    "Throttling.User": sms.RATE_LIMITED,
    "isv.AMOUNT_NOT_ENOUGH": sms.BALANCE_EXHAUSTED,
    "isv.OUT_OF_SERVICE": sms.BALANCE_EXHAUSTED,
    "isp.SYSTEM_ERROR": sms.UNAVAILABLE,
    "isp.RAM_PERMISSION_DENY": "permission_denied",
}


def send(session: so.Session, phone: str, code: str, params: dict[str, Any]) -> Delivery:
    config = plugin_settings.of(session)
    text = sms.text_for(config["templates"], config["sign_name"], code, params)
    if isinstance(text, Delivery):
        return text
    limited = sms.within_limits(session, plugin_settings.NAME, phone,
                                per_number_per_hour=config["per_number_per_hour"],
                                per_deployment_per_minute=config["per_deployment_per_minute"])
    if limited is not None:
        return limited
    try:
        answer = _client(config).send_sms_with_options(_request(phone, text), _runtime(config))
    except Exception as exc:  # the SDK's errors carry the provider's code; the rest is network
        kind = OUTCOMES.get(getattr(exc, "code", None) or "", sms.UNAVAILABLE)
        log.warning("sms_aliyun: text to %s not sent: %s", phones.mask(phone), kind)
        return sms.outcome(kind, f"{getattr(exc, 'code', type(exc).__name__)}: {exc}"[:300])
    body = answer.body
    if body.code == "OK":
        return sms.outcome(None, "")
    kind = OUTCOMES.get(body.code or "", f"refused {body.code}")
    log.warning("sms_aliyun: text to %s refused: %s", phones.mask(phone), body.code)
    return sms.outcome(kind, f"{body.code}: {body.message}")


def dysms_number(phone: str) -> str:
    """Dysms takes a mainland number without +86, any other with its country code, no +."""
    return phone[3:] if phone.startswith("+86") else phone.lstrip("+")


def _request(phone: str, text: sms.Text) -> Any:
    from alibabacloud_dysmsapi20170525 import models

    return models.SendSmsRequest(phone_numbers=dysms_number(phone), sign_name=text.sign_name,
                                 template_code=text.template,
                                 template_param=json.dumps(text.params, ensure_ascii=False))


def _client(config: dict[str, Any]) -> Any:
    # Imported here: a deployment without this plugin never loads the SDK.
    from alibabacloud_dysmsapi20170525.client import Client
    from alibabacloud_tea_openapi import models as open_api

    return Client(open_api.Config(access_key_id=config["access_key_id"],
                                  access_key_secret=config["access_key_secret"],
                                  endpoint=config["endpoint"], protocol=config["protocol"]))


def _runtime(config: dict[str, Any]) -> Any:
    from darabonba.runtime import RuntimeOptions

    timeout = config["timeout_seconds"] * 1000
    # The outbox retries with its own backoff: the SDK must not retry on its own.
    return RuntimeOptions(read_timeout=timeout, connect_timeout=timeout, autoretry=False)
