"""Sign-up and sign-in: register, texted codes, token grants, logout, password change and reset."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask import current_app

from api.auth import current_session, current_user, issue_tokens
from api.fields import Name, Phone
from api.smorest import Blueprint, Schema
from api.unit_of_work import begin_writing, db, reads_first
from core import accounts, audit, messages, metrics
from core.errors import Invalid, Unauthenticated
from core.models import CodePurpose

blp = Blueprint("auth", __name__, url_prefix="/api/v1/auth", description="Sign-up and sign-in")


class UserSchema(Schema):
    id = ma.fields.Integer(dump_only=True)
    phone = ma.fields.String(dump_only=True)
    display_name = ma.fields.String(dump_only=True)
    locale = ma.fields.String(dump_only=True)
    phone_verified = ma.fields.Boolean(dump_only=True)
    is_superuser = ma.fields.Boolean(dump_only=True)
    created_at = ma.fields.AwareDateTime(dump_only=True)


class RegisterSchema(Schema):
    phone = Phone(required=True)
    password = ma.fields.String(required=True, validate=ma.validate.Length(max=200))
    display_name = Name(required=True, max_length=80)
    locale = ma.fields.String(load_default="zh-CN", validate=ma.validate.OneOf(messages.LOCALES))


CODE = ma.validate.Regexp(r"^\d{6}$")


class PhoneCodeRequestSchema(Schema):
    phone = ma.fields.String(required=True, validate=ma.validate.Length(max=32))
    locale = ma.fields.String(
        load_default="zh-CN", validate=ma.validate.OneOf(messages.LOCALES),
        metadata={"description": "The text's language for a number with no account"})


class CodeSentSchema(Schema):
    expires_in_minutes = ma.fields.Integer()


class PasswordResetSchema(Schema):
    phone = ma.fields.String(required=True, validate=ma.validate.Length(max=32))
    code = ma.fields.String(required=True, validate=CODE)
    new_password = ma.fields.String(required=True, validate=ma.validate.Length(max=200))


class TokenRequestSchema(Schema):
    grant_type = ma.fields.String(
        required=True, validate=ma.validate.Regexp(r"^[a-z][a-z0-9_]{0,31}$"),
        metadata={"description": "password {phone, password}, phone_code {phone, code}, "
                                 "refresh_token {refresh_token}, or a sign-in provider's grant "
                                 "that a plugin adds (firebase {id_token}, wechat {login_code,"
                                 " phone_code}); any other is 422 unsupported_grant_type"})
    phone = Phone()
    password = ma.fields.String(validate=ma.validate.Length(max=200))
    code = ma.fields.String(validate=CODE, metadata={"description": "The texted 6-digit code"})
    refresh_token = ma.fields.String(validate=ma.validate.Length(max=200))
    id_token = ma.fields.String(validate=ma.validate.Length(max=8192))
    login_code = ma.fields.String(validate=ma.validate.Length(max=256), metadata={
        "description": "wechat: the code of the mini-program's wx.login"})
    phone_code = ma.fields.String(validate=ma.validate.Length(max=256), metadata={
        "description": "wechat: the code of the getPhoneNumber button (needed the first time)"})


class TokenSchema(Schema):
    access_token = ma.fields.String()
    refresh_token = ma.fields.String()
    token_type = ma.fields.String()
    expires_in = ma.fields.Integer()
    user = ma.fields.Nested(UserSchema)


class PasswordChangeSchema(Schema):
    current_password = ma.fields.String(required=True, validate=ma.validate.Length(max=200))
    new_password = ma.fields.String(required=True, validate=ma.validate.Length(max=200))


def _throttle() -> Any:
    return current_app.extensions["wardens.throttle"]


@blp.route("/register", methods=["POST"])
@blp.arguments(RegisterSchema)
@blp.response(201, TokenSchema)
@blp.alt_response(409, response="CONFLICT")
@blp.alt_response(429, response="TOO_MANY_REQUESTS")
@blp.doc(security=[])
def auth_register(body: dict[str, Any]) -> dict[str, Any]:
    """Register with phone and password; signs the person in."""
    _throttle().check("register", body["phone"])
    _throttle().hit("register", body["phone"])
    password = accounts.new_password(body["password"])  # before the write lock: it is slow
    session = db()
    user = accounts.create_user(session, phone=body["phone"], password=password,
                                display_name=body["display_name"], locale=body["locale"])
    audit.record(session, actor=user, action="user.registered", record=user)
    issued = accounts.start_session(session, user)
    return issue_tokens(issued.session, issued.refresh_token, user)


def _send_code(body: dict[str, Any], purpose: CodePurpose) -> dict[str, Any]:
    _throttle().check("phone-code", body["phone"])
    _throttle().hit("phone-code", body["phone"])
    valid_for = accounts.send_sign_in_code(db(), body["phone"], purpose,
                                           current_app.config["SECRET_KEY"], body["locale"])
    return {"expires_in_minutes": int(valid_for.total_seconds()) // 60}


@blp.route("/phone-code", methods=["POST"])
@blp.arguments(PhoneCodeRequestSchema)
@blp.response(202, CodeSentSchema)
@blp.alt_response(429, response="TOO_MANY_REQUESTS")
@blp.doc(security=[])
def auth_phone_code(body: dict[str, Any]) -> dict[str, Any]:
    """Text a sign-in code to a number, registered or not (the answer is the same); then
    POST /token {grant_type: phone_code, phone, code}. The first sign-in creates the account."""
    return _send_code(body, CodePurpose.SIGN_IN)


@blp.route("/password-reset", methods=["POST"])
@blp.arguments(PhoneCodeRequestSchema)
@blp.response(202, CodeSentSchema)
@blp.alt_response(429, response="TOO_MANY_REQUESTS")
@blp.doc(security=[])
def auth_password_reset_code(body: dict[str, Any]) -> dict[str, Any]:
    """Text a password-reset code to a number (the answer is the same for any number)."""
    return _send_code(body, CodePurpose.PASSWORD_RESET)


@blp.route("/password-reset/confirm", methods=["POST"])
@blp.arguments(PasswordResetSchema)
@blp.response(200, TokenSchema)
@blp.alt_response(429, response="TOO_MANY_REQUESTS")
@blp.doc(security=[])
def auth_password_reset(body: dict[str, Any]) -> dict[str, Any]:
    """Set a new password with the texted code: signs in here and ends every other session.

    A proven number held by an account that never proved it moves to a new account, as for
    a sign-in by code."""
    _throttle().check("token", body["phone"])
    _throttle().hit("token", body["phone"])
    password = accounts.new_password(body["new_password"], field="new_password")
    user, issued = accounts.reset_password(db(), body["phone"], body["code"], password,
                                           current_app.config["SECRET_KEY"])
    return issue_tokens(issued.session, issued.refresh_token, user)


def _grant(body: dict[str, Any]) -> dict[str, Any]:
    """The token pair for a grant (see auth_token); defined first: the document reads its errors."""
    grant = body["grant_type"]
    secret = current_app.config["SECRET_KEY"]
    if grant == "password":
        phone, password = _required(body, "phone", "password")
        _throttle().check("token", phone)
        _throttle().hit("token", phone)
        # Hashing is slow: checked in the read transaction, before the write lock is taken.
        user = accounts.authenticate_password(db(), phone, password)
        session = begin_writing()
        issued = accounts.start_session(session, user)
        return issue_tokens(issued.session, issued.refresh_token, user)
    identity = None
    if grant not in ("phone_code", "refresh_token"):
        # The provider is asked (a network call) before the write transaction is opened.
        deployment = current_app.extensions["wardens"]
        _throttle().check("token", None)  # refused provider tokens count per IP
        try:
            identity = deployment.pm.hook.wardens_verify_identity(
                session=db(), grant_type=grant, payload=body)
        except Unauthenticated:
            _throttle().hit("token", None)
            raise
        if identity is None:
            raise Invalid("unsupported_grant_type", field="grant_type", grant_type=grant)
    session = begin_writing()
    if grant == "phone_code":
        phone, code = _required(body, "phone", "code")
        _throttle().check("token", phone)
        _throttle().hit("token", phone)
        user, issued = accounts.sign_in_with_code(session, phone, code, secret)
    elif grant == "refresh_token":
        (token,) = _required(body, "refresh_token")
        issued = accounts.rotate_session(session, token, secret)
        user = session.get_one(accounts.User, issued.session.user_id)
    else:
        assert identity is not None
        user, issued = accounts.sign_in_identity(session, identity)
    return issue_tokens(issued.session, issued.refresh_token, user)


@blp.route("/token", methods=["POST"])
@blp.arguments(TokenRequestSchema)
@blp.response(200, TokenSchema)
@blp.alt_response(401, response="UNAUTHENTICATED")
@blp.alt_response(429, response="TOO_MANY_REQUESTS")
@blp.alt_response(503, response="SERVICE_UNAVAILABLE")
@blp.doc(security=[])
@reads_first
def auth_token(body: dict[str, Any]) -> dict[str, Any]:
    """Get a token pair: grant_type password, phone_code, refresh_token, or a provider's.

    - `password` {phone, password}: wrong ones are 401 `invalid_credentials`.
    - `phone_code` {phone, code}: a code texted by `/auth/phone-code`; the first proven sign-in
      to a number creates the account, or takes the number back from an unverified holder.
    - Every password or code sign-in, successful or not, counts against the number's and the
      address's limits: too many are 429 `rate_limited` with Retry-After.
    - `refresh_token` {refresh_token}: every use rotates it, and the answer carries the next
      one. For 30 seconds after a use the old token answers again with the same new pair, so
      a phone that lost the answer (a dropped connection, two requests racing) may simply
      retry. Used later than that, it is taken for a stolen copy: 401
      `refresh_token_reused`, and the whole session is signed out (sign in again). An unknown,
      revoked or erased account's token is 401 `invalid_refresh_token`.
    - a provider grant such as `firebase` {id_token} or `wechat` {login_code, phone_code}: the
      provider's verified phone signs in, and its id of the person is linked to the account;
      later sign-ins find the account by it (401 `identity_phone_required` when neither the id
      nor a phone is known).

    The access token lives `expires_in` seconds; on 401 `invalid_token` refresh it once.
    """
    grant = body["grant_type"]
    if grant == "refresh_token":  # a session going on, not a sign-in
        return _grant(body)
    with metrics.sign_in_attempt(grant if grant in ("password", "phone_code") else "provider"):
        return _grant(body)


def _required(body: dict[str, Any], *names: str) -> list[str]:
    missing = [n for n in names if not body.get(n)]
    if missing:
        raise Invalid("validation_error",
                      fields={"json": {n: ["Missing data for required field."] for n in missing}})
    return [body[n] for n in names]


@blp.route("/logout", methods=["POST"])
@blp.response(204)
def auth_logout() -> None:
    """End this device's session; its push registration goes with it."""
    accounts.end_session(db(), current_session().id)


@blp.route("/password", methods=["POST"])
@blp.arguments(PasswordChangeSchema)
@blp.response(204)
@blp.alt_response(429, response="TOO_MANY_REQUESTS")
@reads_first
def auth_password_change(body: dict[str, Any]) -> None:
    """Change the password; every other session of the account is signed out.

    Attempts count against the account's number and the address's limits."""
    user = current_user()
    _throttle().check("password", user.phone)
    _throttle().hit("password", user.phone)
    new = accounts.check_password_change(user, body["current_password"], body["new_password"])
    session = begin_writing()
    accounts.change_password(session, current_user(), new, keep_session=current_session().id)
