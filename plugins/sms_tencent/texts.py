"""Sending one text through Tencent Cloud SMS SendSms: the template, its parameters in order,
the number's status mapped to an outcome."""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import orm as so

from core import phones, sms
from core.hookspecs import Delivery
from plugins.sms_tencent import settings as plugin_settings

log = logging.getLogger(__name__)

# Tencent's codes (a number's status, or the whole request's error) -> the outcome they mean;
# matched by prefix, the longest first.
OUTCOMES = {
    "FailedOperation.TemplateIncorrectOrUnapproved": sms.TEMPLATE_NOT_APPROVED,
    "FailedOperation.SignatureIncorrectOrUnapproved": sms.TEMPLATE_NOT_APPROVED,
    "FailedOperation.TemplateUnapprovedOrNotExist": sms.TEMPLATE_NOT_APPROVED,
    "InvalidParameterValue.TemplateParameterFormatError": sms.TEMPLATE_NOT_APPROVED,
    "InvalidParameterValue.TemplateParameterLengthLimit": sms.TEMPLATE_NOT_APPROVED,
    "InvalidParameterValue.IncorrectPhoneNumber": sms.NUMBER_INVALID,
    "FailedOperation.PhoneNumberInBlacklist": sms.NUMBER_INVALID,
    "UnsupportedOperation.UnsupportedRegion": sms.NUMBER_INVALID,
    "LimitExceeded": sms.RATE_LIMITED,
    "RequestLimitExceeded": sms.RATE_LIMITED,
    "FailedOperation.InsufficientBalanceInSmsPackage": sms.BALANCE_EXHAUSTED,
    "FailedOperation.InsufficientBalance": sms.BALANCE_EXHAUSTED,
    "InternalError": sms.UNAVAILABLE,
    "ClientNetworkError": sms.UNAVAILABLE,
}
_PREFIXES = sorted(OUTCOMES, key=len, reverse=True)


def kind_of(code: str) -> str:
    return next((OUTCOMES[p] for p in _PREFIXES if code.startswith(p)), f"refused {code}")


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
        answer = _client(config).SendSms(_request(config, phone, text))
    except Exception as exc:  # TencentCloudSDKException carries a code; the rest is network
        error = getattr(exc, "code", None) or "ClientNetworkError"
        log.warning("sms_tencent: text to %s not sent: %s", phones.mask(phone), error)
        return sms.outcome(kind_of(error), f"{error}: {getattr(exc, 'message', exc)}"[:300])
    status = answer.SendStatusSet[0]
    if status.Code == "Ok":
        return sms.outcome(None, "")
    log.warning("sms_tencent: text to %s refused: %s", phones.mask(phone), status.Code)
    return sms.outcome(kind_of(status.Code), f"{status.Code}: {status.Message}")


def _request(config: dict[str, Any], phone: str, text: sms.Text) -> Any:
    from tencentcloud.sms.v20210111 import models

    request = models.SendSmsRequest()
    request.PhoneNumberSet = [phone]
    request.SmsSdkAppId = config["sdk_app_id"]
    request.SignName = text.sign_name
    request.TemplateId = text.template
    # Tencent's templates number their parameters: {1}, {2}... in the configured order.
    request.TemplateParamSet = list(text.params.values())
    return request


def _client(config: dict[str, Any]) -> Any:
    # Imported here: a deployment without this plugin never loads the SDK.
    from tencentcloud.common import credential
    from tencentcloud.common.profile.client_profile import ClientProfile
    from tencentcloud.common.profile.http_profile import HttpProfile
    from tencentcloud.sms.v20210111 import sms_client

    http = HttpProfile(protocol=config["protocol"], endpoint=config["endpoint"],
                       reqTimeout=config["timeout_seconds"])
    return sms_client.SmsClient(credential.Credential(config["secret_id"], config["secret_key"]),
                                config["region"], ClientProfile(httpProfile=http))
