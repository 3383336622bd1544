"""Domain errors: each carries a stable code (translated in core.messages) and details."""

from __future__ import annotations

from typing import Any


class WardensError(Exception):
    """Base of every domain error; ``code`` is stable and machine-readable."""

    def __init__(self, code: str, /, **details: Any) -> None:
        super().__init__(code)
        self.code = code
        self.details = details


class Invalid(WardensError):
    """The request is well-formed but breaks a rule (422)."""


class NotFound(WardensError):
    """The record does not exist, or this person may not know it does (404)."""


class PermissionDenied(WardensError):
    """The person is known to the station but lacks the role (403)."""


class Conflict(WardensError):
    """The record's state forbids the change (409)."""


class Unauthenticated(WardensError):
    """No valid credentials (401)."""


class Unavailable(WardensError):
    """A service the request depends on is down or unreachable; retrying later may work (503)."""


class TooManyRequests(WardensError):
    """Rate limited (429); ``retry_after`` is in seconds."""
