"""The firebase-admin app: imported and initialised lazily, once, always with the project id."""

from __future__ import annotations

import os
import threading
from typing import Any

from core.plugins import StartupError

EMULATOR_VARIABLE = "FIREBASE_AUTH_EMULATOR_HOST"

_lock = threading.Lock()
_apps: dict[tuple[str, str | None, int], Any] = {}


def refuse_emulator_in_production() -> None:
    """The Auth emulator's tokens carry no signature, and the SDK then checks none."""
    production = os.environ.get("WARDENS_ENV", "production") == "production"
    if production and os.environ.get(EMULATOR_VARIABLE):
        raise StartupError(
            f"firebase: {EMULATOR_VARIABLE} is set while WARDENS_ENV is production; firebase-admin"
            " would accept unsigned ID tokens from the Auth emulator. Unset it, or set WARDENS_ENV"
            " to development or testing.")


def app(settings: dict[str, Any]) -> Any:
    """The ``firebase_admin.App`` for these settings, created on first use and then reused."""
    key = (settings["project_id"], settings.get("credentials_file"), settings["http_timeout"])
    found = _apps.get(key)
    if found is not None:
        return found
    with _lock:
        if key not in _apps:
            # Imported here: a deployment without Firebase never loads the SDK.
            import firebase_admin
            from firebase_admin import credentials

            project_id, credentials_file, timeout = key
            credential = credentials.Certificate(credentials_file) if credentials_file else None
            _apps[key] = firebase_admin.initialize_app(
                credential, {"projectId": project_id, "httpTimeout": timeout},
                name=f"wardens-{len(_apps) + 1}")
        return _apps[key]
