"""What every text-message (SMS) provider plugin shares: a template per message, send limits,
the outcomes a refusal maps to. The providers themselves are plugins (sms_aliyun, sms_tencent)."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from typing import Any

import marshmallow as ma
from sqlalchemy import orm as so

from core import budgets, events
from core.hookspecs import Delivery

# The texts the core sends: a deployment that texts must have a template for each.
CORE_TEXTS = ("sign_in_code", "password_reset_code", "phone_verification_code")

# What a provider's refusal means, whatever its own code: each is a clear outcome on the text.
TEMPLATE_NOT_APPROVED = "template_not_approved"  # the template or sign name is not approved
NUMBER_INVALID = "number_invalid"                # not a number the provider can text
RATE_LIMITED = "provider_rate_limited"           # the provider's own limit: tried again later
BALANCE_EXHAUSTED = "balance_exhausted"          # the account's balance or package is used up
UNAVAILABLE = "provider_unavailable"             # network, timeout, 5xx: tried again later
LIMITED_HERE = "send_limit"                      # this deployment's own limits: tried again later
RETRIED = {RATE_LIMITED: dt.timedelta(minutes=1), UNAVAILABLE: None}


class TemplateSchema(ma.Schema):
    """One message's template at the provider (these providers send approved templates only)."""

    template = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=64),
                                metadata={"description": "The approved template's id or code"})
    params = ma.fields.List(
        ma.fields.String(validate=ma.validate.Length(min=1, max=40)), load_default=list,
        metadata={"description": "The message's parameters the template takes, in its order"
                                 " (Tencent numbers them {1}, {2}...; Alibaba names them"
                                 " ${code}...)"})
    sign_name = ma.fields.String(load_default=None, allow_none=True,
                                 validate=ma.validate.Length(min=2, max=40),
                                 metadata={"description": "This template's sign name, if not the"
                                                          " plugin's"})


def templates_field() -> ma.fields.Dict:
    return ma.fields.Dict(
        keys=ma.fields.String(validate=ma.validate.Regexp(r"^[a-z0-9_.]{2,64}$")),
        values=ma.fields.Nested(TemplateSchema), required=True,
        metadata={"description": "Message code (sign_in_code...) -> its template",
                  "deployment": True})


def check_templates(templates: dict[str, Any]) -> None:
    """At start-up: the core's code texts each have a template (else no phone could be proven)."""
    missing = [code for code in CORE_TEXTS if code not in templates]
    if missing:
        raise ValueError(f"templates: no template for {', '.join(missing)}")
    for code, template in templates.items():
        if code in CORE_TEXTS and "code" not in template["params"]:
            raise ValueError(f"templates.{code}.params: must include \"code\"")


@dataclass(frozen=True)
class Text:
    """A text ready for a provider: the template, its sign name and parameters in order."""

    template: str
    sign_name: str
    params: dict[str, str]


def text_for(templates: dict[str, Any], sign_name: str, code: str,
             params: dict[str, Any]) -> Text | Delivery:
    """The template text of message ``code``, or a failed Delivery naming what is missing."""
    template = templates.get(code)
    if template is None:
        return Delivery("failed", f"{TEMPLATE_NOT_APPROVED}: no template for {code} in"
                                  " plugins.toml")
    values = {}
    for name in template["params"]:
        if name not in params:
            return Delivery("failed", f"{TEMPLATE_NOT_APPROVED}: {code} has no parameter {name}")
        values[name] = str(params[name])
    return Text(template["template"], template["sign_name"] or sign_name, values)


def outcome(kind: str | None, detail: str) -> Delivery:
    """The Delivery for a provider's answer mapped to one of the outcomes above (None: sent)."""
    if kind is None:
        return Delivery("sent")
    if kind in RETRIED:
        return Delivery("retry", f"{kind}: {detail}"[:500], retry_after=RETRIED[kind])
    return Delivery("failed", f"{kind}: {detail}"[:500])


def within_limits(session: so.Session, provider: str, phone: str, *, per_number_per_hour: int,
                  per_deployment_per_minute: int) -> Delivery | None:
    """Count the send against the deployment's and the number's budgets (shared by every
    process; both or neither); a Delivery to retry when one is spent. The number is hashed."""
    number = f"{provider}:number:{hashlib.sha256(phone.encode()).hexdigest()[:32]}"
    spent = budgets.take_now(
        events.deployment(session).database,
        (f"{provider}:deployment", per_deployment_per_minute, dt.timedelta(minutes=1)),
        (number, per_number_per_hour, dt.timedelta(hours=1)))
    if spent is None:
        return None
    key, wait = spent
    limit = (f"at most {per_number_per_hour} texts an hour to one number" if key == number
             else f"at most {per_deployment_per_minute} texts a minute")
    return Delivery("retry", f"{LIMITED_HERE}: {limit}", retry_after=wait)
