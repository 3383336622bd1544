"""The plugin's settings (plugins.toml [plugins.firebase]) and how the code reads them."""

from __future__ import annotations

import json
from typing import Any

import marshmallow as ma
from sqlalchemy import orm as so

from core import events
from core.plugins import load_settings

NAME = "firebase"


class FirebaseSettings(ma.Schema):
    """Deployment settings; a station only switches the plugin on or off (push for its people)."""

    project_id = ma.fields.String(
        required=True,
        validate=ma.validate.Regexp(r"^[a-z][a-z0-9-]{4,28}[a-z0-9]$",
                                    error="not a Firebase project id"),
        metadata={"description": "The Firebase project: ID tokens' audience, FCM's project"})
    credentials_file = ma.fields.String(
        load_default=None, allow_none=True,
        metadata={"description": "Service-account JSON file; else Application Default Credentials",
                  "secret": True})
    check_revoked = ma.fields.Boolean(
        load_default=True,
        metadata={"description": "Also ask Firebase whether the account is disabled or its"
                                 " tokens were revoked (one call per sign-in)"})
    clock_skew_seconds = ma.fields.Integer(load_default=5, validate=ma.validate.Range(0, 60))
    push = ma.fields.Boolean(
        load_default=False,
        metadata={"description": "Deliver notifications by FCM to stations that switch the"
                                 " plugin on (and account notifications)"})
    dry_run = ma.fields.Boolean(
        load_default=False, metadata={"description": "FCM validates the messages but sends none"})
    chunk_size = ma.fields.Integer(
        load_default=50, validate=ma.validate.Range(1, 500),
        metadata={"description": "Messages per send_each call (it starts a thread per message)"})
    http_timeout = ma.fields.Integer(load_default=10, validate=ma.validate.Range(1, 120))

    @ma.validates("credentials_file")
    def _service_account(self, value: str | None, data_key: str) -> None:
        if value is None:
            return
        try:
            with open(value, encoding="utf-8") as handle:
                kind = json.load(handle).get("type")
        except (OSError, ValueError, AttributeError):
            kind = None
        if kind != "service_account":
            # No detail: the message must not tell what else is (or is not) on the disk.
            raise ma.ValidationError("not a readable service-account JSON file")


def of(session: so.Session) -> dict[str, Any]:
    """The deployment's settings (plugins.toml only: a station cannot repoint credentials)."""
    plugin = events.deployment(session).plugins[NAME]
    return load_settings(plugin.info, plugin.defaults)

