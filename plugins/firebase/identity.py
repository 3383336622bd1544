"""Firebase phone sign-in: an ID token verified by firebase-admin becomes an Identity."""

from __future__ import annotations

import logging
from typing import Any

from core.errors import Invalid, Unauthenticated, Unavailable
from core.hookspecs import Identity
from plugins.firebase import sdk

log = logging.getLogger(__name__)

# firebase-admin raises one InvalidIdTokenError for several faults; its message (or
# google-auth's, which it carries) tells them apart. tests/plugins/firebase pin each one.
_REFUSALS = (
    ('incorrect "aud"', "firebase_wrong_project"),
    ('incorrect "iss"', "firebase_wrong_project"),
    ("Token used too early", "firebase_token_not_yet_valid"),
    ("Certificate for key id", "firebase_unknown_key"),
    ("Could not verify token signature", "firebase_bad_signature"),
)


def verify(settings: dict[str, Any], payload: dict[str, Any]) -> Identity:
    """The person behind a Firebase ID token, or 401 with a code saying what is wrong."""
    id_token = payload.get("id_token")
    if not id_token:
        raise Invalid("validation_error",
                      fields={"json": {"id_token": ["Missing data for required field."]}})
    claims = _verified_claims(settings, id_token)
    phone = claims.get("phone_number")
    if not phone:
        raise Unauthenticated("firebase_no_phone")
    return Identity(phone=phone, provider="firebase", phone_verified=True,
                    display_name=claims.get("name") or "", subject=claims.get("uid"))


def _verified_claims(settings: dict[str, Any], id_token: str) -> dict[str, Any]:
    from firebase_admin import auth, exceptions

    try:
        return auth.verify_id_token(
            id_token, app=sdk.app(settings), check_revoked=settings["check_revoked"],
            clock_skew_seconds=settings["clock_skew_seconds"])
    except auth.ExpiredIdTokenError:
        raise Unauthenticated("firebase_token_expired") from None
    except auth.RevokedIdTokenError:
        raise Unauthenticated("firebase_token_revoked") from None
    except auth.UserDisabledError:
        raise Unauthenticated("firebase_user_disabled") from None
    except auth.UserNotFoundError:
        raise Unauthenticated("firebase_user_deleted") from None
    except auth.InvalidIdTokenError as exc:
        raise Unauthenticated(refusal_code(str(exc))) from None
    except exceptions.FirebaseError as exc:
        # Google's certificates or the account lookup could not be reached: not the phone's fault.
        log.warning("firebase sign-in could not be checked: %s", exc)
        raise Unavailable("firebase_unavailable") from None


def refusal_code(message: str) -> str:
    return next((code for text, code in _REFUSALS if text in message), "firebase_token_invalid")
