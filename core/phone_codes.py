"""Codes texted to a phone: random, stored hashed, a few guesses each, sent with a growing wait."""

from __future__ import annotations

import datetime as dt
import hmac
import math
import secrets
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy import orm as so

from core import clock, notifications
from core.errors import Invalid, TooManyRequests
from core.models import CodePurpose, PhoneCode, Station

CODE_TTL = dt.timedelta(minutes=10)
GUESSES_PER_CODE = 5  # then the code is dead and a new one is needed
# Per number, whatever the purpose, over a sliding day: codes sent and guesses made.
WINDOW = dt.timedelta(days=1)
CODES_PER_WINDOW = 10
GUESSES_PER_WINDOW = 20
# The wait before the next code doubles with every code sent in the window.
FIRST_WAIT = dt.timedelta(minutes=1)
LONGEST_WAIT = dt.timedelta(hours=1)

TEXTS = {
    CodePurpose.SIGN_IN: "sign_in_code",
    CodePurpose.PASSWORD_RESET: "password_reset_code",
    CodePurpose.VERIFY_PHONE: "phone_verification_code",
}


def _digest(secret: str, phone: str, purpose: CodePurpose, code: str) -> str:
    # Keyed: six digits are a million guesses away from any hash a database leak exposes.
    message = f"{purpose.value}:{phone}:{code}".encode()
    return hmac.new(secret.encode(), message, "sha256").hexdigest()


def wait_after(sent: int) -> dt.timedelta:
    """How long after the latest of ``sent`` codes the next one may go."""
    if sent == 0:
        return dt.timedelta(0)
    return min(FIRST_WAIT * 2 ** (sent - 1), LONGEST_WAIT)


def _refuse_until(moment: dt.datetime, now: dt.datetime) -> TooManyRequests:
    return TooManyRequests("rate_limited",
                           retry_after=max(1, math.ceil((moment - now).total_seconds())))


def _recent(session: so.Session, phone: str, now: dt.datetime) -> list[Any]:
    return list(session.execute(
        sa.select(PhoneCode.created_at, PhoneCode.attempts)
        .where(PhoneCode.phone == phone, PhoneCode.created_at > now - WINDOW)
        .order_by(PhoneCode.created_at)
    ))


def _check_guesses_left(recent: list[Any], now: dt.datetime) -> None:
    if sum(row.attempts for row in recent) >= GUESSES_PER_WINDOW:
        raise _refuse_until(recent[0].created_at + WINDOW, now)


def send(session: so.Session, phone: str, purpose: CodePurpose, secret: str,
         locale: str = "zh-CN") -> dt.timedelta:
    """Text a new code to ``phone`` (E.164) for ``purpose``; earlier ones of that purpose die.

    Refused with 429 ``rate_limited`` (``retry_after``) while the number waits: the wait doubles
    with each code of the day, and a day allows ``CODES_PER_WINDOW`` codes and
    ``GUESSES_PER_WINDOW`` guesses. Returns how long the code is good for.
    """
    now = clock.now()
    recent = _recent(session, phone, now)
    if len(recent) >= CODES_PER_WINDOW:
        raise _refuse_until(recent[0].created_at + WINDOW, now)
    _check_guesses_left(recent, now)
    if recent and now < recent[-1].created_at + wait_after(len(recent)):
        raise _refuse_until(recent[-1].created_at + wait_after(len(recent)), now)
    session.execute(
        sa.update(PhoneCode)
        .where(PhoneCode.phone == phone, PhoneCode.purpose == purpose,
               PhoneCode.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    code = f"{secrets.randbelow(1_000_000):06d}"
    session.add(PhoneCode(phone=phone, purpose=purpose, code_hash=_digest(secret, phone, purpose,
                                                                           code),
                          created_at=now, expires_at=now + CODE_TTL))
    session.flush()
    # Queued: it leaves once the request commits, outside its write transaction.
    notifications.queue_text(session, phone, TEXTS[purpose],
                             {"code": code, "minutes": CODE_TTL // dt.timedelta(minutes=1)},
                             locale)
    return CODE_TTL


def redeem(session: so.Session, phone: str, purpose: CodePurpose, code: str,
           secret: str) -> None:
    """Accept ``code`` once, or refuse it: 422 ``verification_code_invalid`` (a wrong guess,
    counted), ``verification_code_expired`` (none sent, expired, used, or out of guesses) or
    429 ``rate_limited`` (the number's guesses for the day are used up).

    Each guess is counted by a conditional UPDATE before the comparison, so parallel guesses
    wait for each other on the code's row and never exceed ``GUESSES_PER_CODE``; a refused
    guess is committed although the request fails.
    """
    now = clock.now()
    row = session.scalar(
        sa.select(PhoneCode)
        .where(PhoneCode.phone == phone, PhoneCode.purpose == purpose,
               PhoneCode.used_at.is_(None), PhoneCode.expires_at > now)
        .order_by(PhoneCode.created_at.desc(), PhoneCode.id.desc()).limit(1)
    )
    if row is None:
        raise Invalid("verification_code_expired", field="code")
    _check_guesses_left(_recent(session, phone, now), now)
    counted = session.execute(
        sa.update(PhoneCode)
        .where(PhoneCode.id == row.id, PhoneCode.used_at.is_(None),
               PhoneCode.attempts < GUESSES_PER_CODE)
        .values(attempts=PhoneCode.attempts + 1)
        .execution_options(synchronize_session=False)
    )
    if not cast(sa.CursorResult[Any], counted).rowcount:
        raise Invalid("verification_code_expired", field="code")
    if not hmac.compare_digest(row.code_hash, _digest(secret, phone, purpose, code)):
        session.info["commit_on_error"] = True  # the guess stays counted
        raise Invalid("verification_code_invalid", field="code")
    used = session.execute(
        sa.update(PhoneCode)
        .where(PhoneCode.id == row.id, PhoneCode.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    if not cast(sa.CursorResult[Any], used).rowcount:  # a parallel guess took it
        raise Invalid("verification_code_expired", field="code")


def purge(session: so.Session, station: Station | None, now: dt.datetime) -> int:
    """Codes are kept for the day they count towards the number's limits, then deleted; so are
    the texts that carried them (and every other text sent or given up)."""
    result = session.execute(sa.delete(PhoneCode).where(PhoneCode.created_at < now - WINDOW))
    return cast(sa.CursorResult[Any], result).rowcount + notifications.purge_texts(
        session, station, now)
