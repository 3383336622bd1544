"""One error shape for every failure: {"code", "message", "details"}, in the reader's language."""

from __future__ import annotations

import logging
from typing import Any

import marshmallow as ma
import sqlalchemy as sa
from flask import Flask, Response, current_app, g, jsonify, request
from werkzeug.exceptions import HTTPException, MethodNotAllowed

from core import errors, messages

log = logging.getLogger(__name__)

STATUS: dict[type[errors.WardensError], int] = {
    errors.Invalid: 422,
    errors.NotFound: 404,
    errors.PermissionDenied: 403,
    errors.Conflict: 409,
    errors.Unauthenticated: 401,
    errors.TooManyRequests: 429,
    errors.Unavailable: 503,
}

HTTP_CODES = {
    400: "bad_request",
    401: "authentication_required",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "rate_limited",
    500: "internal_error",
    503: "service_unavailable",
}


class ErrorSchema(ma.Schema):
    """The error payload (documentation only)."""

    code = ma.fields.String(metadata={"description": "Stable machine-readable code"})
    message = ma.fields.String(metadata={"description": "Human message (Accept-Language)"})
    details = ma.fields.Dict(metadata={"description": "Fields and values behind the error"})


def request_locale() -> str:
    """The reader's language: Accept-Language when sent, else the signed-in person's chosen
    locale (``PATCH /me``), else zh-CN."""
    sent = [lang for lang, _q in request.accept_languages]
    if sent:
        return messages.pick_locale(sent)
    return messages.pick_locale([g.get("user_locale") or messages.DEFAULT_LOCALE])


def request_timezone() -> str | None:
    """The zone of the station the request acts in (None outside a station): texts show times
    in it."""
    return g.get("station_timezone")


def error_response(code: str, status: int, details: dict[str, Any] | None = None,
                   headers: dict[str, str] | None = None) -> Response:
    details = details or {}
    locale = request_locale()
    if isinstance(details.get("fields"), dict | list):
        details = {**details, "fields": messages.field_messages(details["fields"], locale)}
    response = jsonify(code=code, message=messages.render(code, locale, details,
                                                          timezone=request_timezone()),
                       details=details)
    response.status_code = status
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response


def handle_domain_error(error: errors.WardensError) -> Response:
    status = next(s for cls, s in STATUS.items() if isinstance(error, cls))
    headers = {}
    if isinstance(error, errors.TooManyRequests):
        headers["Retry-After"] = str(error.details.get("retry_after", 60))
    if isinstance(error, errors.Unauthenticated):
        headers["WWW-Authenticate"] = "Bearer"  # RFC 9110: a 401 names its scheme
    return error_response(error.code, status, error.details, headers)


def handle_http_exception(error: HTTPException) -> Response:
    status = error.code or 500
    data = getattr(error, "data", None) or {}
    code = HTTP_CODES.get(status, "http_error")
    details: dict[str, Any] = {}
    fields = data.get("messages") or data.get("errors")
    if fields:
        if status == 400 and "json" in fields:
            code = "invalid_json"
        else:
            details["fields"] = fields
            too_large = _page_size_too_large(fields)
            if too_large:
                code, details = "page_size_too_large", {"max": too_large}
    if status == 400 and isinstance(error.description, str) and "JSON" in error.description:
        code = "invalid_json"
    headers = dict(data.get("headers") or {})
    if isinstance(error, MethodNotAllowed) and error.valid_methods:
        headers["Allow"] = ", ".join(error.valid_methods)  # RFC 9110: a 405 lists what is
    return error_response(code, status, details, headers)


def _page_size_too_large(fields: dict[str, Any]) -> int | None:
    query = fields.get("query") if isinstance(fields, dict) else None
    if isinstance(query, dict) and "page_size" in query:
        try:
            size = int(request.args.get("page_size", "0"))
        except ValueError:
            return None
        maximum = current_app.config["MAX_PAGE_SIZE"]
        if size > maximum:
            return maximum
    return None


def _out_of_range(error: BaseException) -> bool:
    """An id past 64 bits or a date past year 9999 in UTC: the database cannot hold it."""
    if isinstance(error, (OverflowError, sa.exc.DataError)):
        return True
    return isinstance(error, sa.exc.StatementError) and isinstance(error.orig, OverflowError)


def handle_unexpected(error: Exception) -> Response:
    if isinstance(error, HTTPException):
        return handle_http_exception(error)
    if _out_of_range(error):
        return error_response("value_out_of_range", 422)
    log.exception("unhandled error on %s %s", request.method, request.path)
    g.pop("db_failed", None)
    return error_response("internal_error", 500)


def register(app: Flask) -> None:
    app.register_error_handler(errors.WardensError, handle_domain_error)
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(Exception, handle_unexpected)
