"""Checkpoint codes: RFC 6238 time-step codes (pyotp) for a tag's screen, and the printed static
fallback."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import urllib.parse

import pyotp

DIGITS = 6
# A code that matches one of these earlier steps is reported as expired rather than wrong.
EXPIRED_LOOKBACK_STEPS = 20
STATIC_ALPHABET = "ABCDEFGHJKMNPQRSTVWXYZ23456789"  # no 0/O, 1/I/L, U: read off paper


def new_secret() -> str:
    """A fresh 160-bit secret, base32 without padding (what authenticator tags expect)."""
    return pyotp.random_base32(32)


def _key(secret: str) -> bytes:
    return base64.b32decode(secret + "=" * (-len(secret) % 8), casefold=True)


def counter_at(at: dt.datetime, step: int) -> int:
    return int(at.timestamp()) // step


def code_for(secret: str, counter: int) -> str:
    """HOTP (RFC 4226) for ``counter``, SHA-1, six digits."""
    return pyotp.HOTP(secret, digits=DIGITS).at(counter)


def code_at(secret: str, at: dt.datetime, step: int) -> str:
    """The code a tag shows at ``at``."""
    return code_for(secret, counter_at(at, step))


def match(secret: str, code: str, at: dt.datetime, step: int, drift: int) -> int | None:
    """The counter ``code`` belongs to, within ``drift`` steps of ``at``; None if it matches none.

    Not ``pyotp.TOTP.verify``: it answers only yes or no, and a scan needs the step that
    matched (one code pays once).
    """
    otp = pyotp.HOTP(secret, digits=DIGITS)
    centre = counter_at(at, step)
    found = None
    for counter in range(centre - drift, centre + drift + 1):
        # Compare every candidate: the time taken must not tell which step matched.
        if hmac.compare_digest(otp.at(counter), code) and found is None:
            found = counter
    return found


def is_expired(secret: str, code: str, at: dt.datetime, step: int, drift: int) -> bool:
    """Whether ``code`` was valid shortly before ``at`` (an old photo of the tag, a slow upload)."""
    otp = pyotp.HOTP(secret, digits=DIGITS)
    centre = counter_at(at, step) - drift
    return any(hmac.compare_digest(otp.at(c), code)
               for c in range(centre - EXPIRED_LOOKBACK_STEPS, centre))


def static_code(secret: str) -> str:
    """The printed fallback code, derived from the secret so a rotation replaces it too."""
    digest = hmac.new(_key(secret), b"wardens-static-code", hashlib.sha256).digest()
    chars = "".join(STATIC_ALPHABET[b % len(STATIC_ALPHABET)] for b in digest[:8])
    return f"{chars[:4]}-{chars[4:]}"


def normalize_static(code: str) -> str:
    """What a person typed off the sheet: case, spaces and dashes do not matter."""
    cleaned = "".join(ch for ch in code.upper() if ch.isalnum())
    return f"{cleaned[:4]}-{cleaned[4:]}" if len(cleaned) == 8 else cleaned


def provisioning_uri(secret: str, *, label: str, issuer: str, step: int) -> str:
    """The otpauth:// URI a tag (or its QR code) is provisioned with.

    Built here, not by ``pyotp.TOTP.provisioning_uri``: that one leaves out the digits,
    algorithm and a 30-second period as defaults, and tags that read no defaults need them.
    """
    query = urllib.parse.urlencode({"secret": secret, "issuer": issuer, "algorithm": "SHA1",
                                    "digits": DIGITS, "period": step})
    path = urllib.parse.quote(f"{issuer}:{label}")
    return f"otpauth://totp/{path}?{query}"
