"""The plugin's settings (plugins.toml [plugins.firebase]) and how the code reads them."""

from __future__ import annotations

import json
import os
import stat
from typing import Any

import marshmallow as ma
from sqlalchemy import orm as so

from core import events
from core.plugins import load_settings

NAME = "firebase"


# Every setting is the deployment's (plugins.toml only): a station only switches the plugin on.
DEPLOYMENT = {"deployment": True}
# A service-account JSON is a few kilobytes: anything much larger is not one.
MAX_CREDENTIALS_BYTES = 64 * 1024


class FirebaseSettings(ma.Schema):
    """Deployment settings; a station only switches the plugin on or off (push for its people).

    The validators read nothing: they also run on requests. The credentials file is checked
    once at start-up (:func:`check_credentials_file`).
    """

    project_id = ma.fields.String(
        required=True,
        validate=ma.validate.Regexp(r"^[a-z][a-z0-9-]{4,28}[a-z0-9]$",
                                    error="not a Firebase project id"),
        metadata={"description": "The Firebase project: ID tokens' audience, FCM's project",
                  **DEPLOYMENT})
    credentials_file = ma.fields.String(
        load_default=None, allow_none=True, validate=ma.validate.Length(min=1, max=4096),
        metadata={"description": "Service-account JSON file; else Application Default Credentials",
                  "secret": True, **DEPLOYMENT})
    check_revoked = ma.fields.Boolean(
        load_default=True,
        metadata={"description": "Also ask Firebase whether the account is disabled or its"
                                 " tokens were revoked (one call per sign-in)", **DEPLOYMENT})
    clock_skew_seconds = ma.fields.Integer(load_default=5, validate=ma.validate.Range(0, 60),
                                           metadata=DEPLOYMENT)
    push = ma.fields.Boolean(
        load_default=False,
        metadata={"description": "Deliver notifications by FCM to stations that switch the"
                                 " plugin on (and account notifications)", **DEPLOYMENT})
    dry_run = ma.fields.Boolean(
        load_default=False, metadata={"description": "FCM validates the messages but sends none",
                                      **DEPLOYMENT})
    chunk_size = ma.fields.Integer(
        load_default=50, validate=ma.validate.Range(1, 500),
        metadata={"description": "Messages per send_each call (it starts a thread per message)",
                  **DEPLOYMENT})
    http_timeout = ma.fields.Integer(load_default=10, validate=ma.validate.Range(1, 120),
                                     metadata=DEPLOYMENT)


def check_credentials_file(settings: dict[str, Any]) -> None:
    """At start-up only: ``credentials_file`` is a small regular file holding a service account."""
    path = settings.get("credentials_file")
    if path is None:
        return
    kind = None
    try:
        # A regular file of bounded size: a FIFO or a device must not hang or exhaust start-up.
        if stat.S_ISREG(os.stat(path).st_mode):
            with open(path, encoding="utf-8") as handle:
                text = handle.read(MAX_CREDENTIALS_BYTES + 1)
            if len(text) <= MAX_CREDENTIALS_BYTES:
                kind = json.loads(text).get("type")
    except (OSError, ValueError, AttributeError):
        kind = None
    if kind != "service_account":
        # No detail: the message must not tell what else is (or is not) on the disk.
        raise ValueError("credentials_file: not a readable service-account JSON file")


def of(session: so.Session) -> dict[str, Any]:
    """The deployment's settings (plugins.toml only: a station cannot repoint credentials)."""
    plugin = events.deployment(session).plugins[NAME]
    return load_settings(plugin.info, plugin.defaults)

