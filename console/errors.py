"""Errors on console pages: an HTML page with the core's message, the same text as the API's."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, redirect, render_template, request, session, url_for
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from api import errors as api_errors
from console.pages import error_text, registry, t
from core import errors

log = logging.getLogger(__name__)


def install(app: Flask) -> None:
    """The API's handlers answer JSON; on a console page the same errors answer a page."""
    app.register_error_handler(CSRFError, _csrf)
    app.register_error_handler(errors.WardensError, _either(api_errors.handle_domain_error,
                                                            _domain))
    app.register_error_handler(HTTPException, _either(api_errors.handle_http_exception, _http))
    app.register_error_handler(Exception, _either(api_errors.handle_unexpected, _unexpected))


def _console_request() -> bool:
    return request.blueprint in registry().blueprints


def _either(api_handler: Any, console_handler: Any) -> Any:
    def handle(error: Exception) -> Any:
        return console_handler(error) if _console_request() else api_handler(error)
    return handle


def _page(status: int, message: str, code: str) -> tuple[str, int]:
    return render_template("console/error.html", status=status, message=message,
                           code=code), status


def _domain(error: errors.WardensError) -> Any:
    status = next(s for cls, s in api_errors.STATUS.items() if isinstance(error, cls))
    return _page(status, error_text(error), error.code)


def _http(error: HTTPException) -> Any:
    status = error.code or 500
    code = api_errors.HTTP_CODES.get(status, "http_error")
    return _page(status, t(code), code)


def _csrf(error: CSRFError) -> Any:
    if not _console_request():
        return api_errors.handle_http_exception(error)
    if request.endpoint in ("console.sign_in", "console.sign_in_code"):
        session["notice"] = "form_expired"
        return redirect(url_for("console.sign_in"))
    return _page(400, t("form_expired"), "csrf_failed")


def _unexpected(error: Exception) -> Any:
    if isinstance(error, HTTPException):
        return _http(error)
    log.exception("unhandled error on %s %s", request.method, request.path)
    return _page(500, t("internal_error"), "internal_error")
