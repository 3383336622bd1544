"""Phone numbers: everything is stored as E.164; a bare national number defaults to China."""

from __future__ import annotations

import phonenumbers

from core.errors import Invalid

DEFAULT_REGION = "CN"


def normalize(raw: str, region: str = DEFAULT_REGION) -> str:
    """Return ``raw`` as E.164, or raise ``Invalid("invalid_phone")``."""
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        raise Invalid("invalid_phone", field="phone") from None
    if not phonenumbers.is_valid_number(number):
        raise Invalid("invalid_phone", field="phone")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def mask(phone: str | None) -> str:
    """A phone shown to people who need to recognise, not call, it: +86138****5678."""
    if not phone:
        return ""
    return phone[:-8] + "****" + phone[-4:] if len(phone) > 8 else "****"
