"""Log lines: one JSON object per line in production, plain text in development; no secrets."""

from __future__ import annotations

import datetime as dt
import json
import logging
import os

#: the fields a record may carry into a line (set with ``extra=``); nothing else is written,
#: so a token or a code passed in a record's arguments never reaches a field by accident
FIELDS = ("request_id", "method", "route", "status", "duration_ms", "station", "user_id",
          "job", "error")


class JsonFormatter(logging.Formatter):
    """``{"time", "level", "logger", "message", ...FIELDS}`` on one line."""

    def format(self, record: logging.LogRecord) -> str:
        line = {"time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(),
                "level": record.levelname.lower(), "logger": record.name,
                "message": record.getMessage()}
        line.update({name: getattr(record, name) for name in FIELDS if hasattr(record, name)})
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def configure(level: int = logging.INFO) -> None:
    """Set up the root logger for ``serve`` and ``worker``: JSON lines unless
    ``WARDENS_LOG_FORMAT=text`` (the default in development)."""
    wanted = os.environ.get("WARDENS_LOG_FORMAT") or (
        "text" if os.environ.get("WARDENS_ENV") == "development" else "json")
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter() if wanted == "json" else logging.Formatter(TEXT_FORMAT))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
