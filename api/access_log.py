"""Access logs without secrets: the secret segments of URLs (a calendar feed's) print as ***."""

from __future__ import annotations

import logging
import re
from typing import Any

from flask import Flask

MASK = "***"
# The servers' access loggers: gunicorn (``wardens serve``) and werkzeug (the dev server).
ACCESS_LOGGERS = ("gunicorn.access", "werkzeug")


def secret_paths(app: Flask) -> list[re.Pattern[str]]:
    """A pattern per route reached by a secret in its URL (``public_view``); the secret segments
    (every argument but the station) are its groups."""
    patterns = []
    for rule in app.url_map.iter_rules():
        view = app.view_functions.get(rule.endpoint)
        if not getattr(view, "wardens_public", False):
            continue
        parts = re.split(r"<(?:\w+:)?(\w+)>", rule.rule)
        regex = "".join(re.escape(part) if i % 2 == 0 else
                        ("[^/?\\s]+" if part == "station" else "([^/?\\s]+?)")
                        for i, part in enumerate(parts))
        patterns.append(re.compile(regex + r"(?=[?\s\"]|$)"))
    return patterns


class SecretMask(logging.Filter):
    """Rewrites the arguments of access-log records: the request line, path and referer."""

    def __init__(self, patterns: list[re.Pattern[str]]) -> None:
        super().__init__()
        self.patterns = patterns

    def mask(self, text: str) -> str:
        for pattern in self.patterns:
            text = pattern.sub(lambda m: _masked(m), text)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        args: Any = record.args
        if isinstance(args, dict):
            for key, value in list(args.items()):
                if isinstance(value, str):
                    args[key] = self.mask(value)
        elif isinstance(args, tuple):
            record.args = tuple(self.mask(a) if isinstance(a, str) else a for a in args)
        if isinstance(record.msg, str):
            record.msg = self.mask(record.msg)
        return True


def _masked(match: re.Match[str]) -> str:
    text, start = match.group(0), match.start(0)
    for index in range(len(match.groups()), 0, -1):
        a, b = match.span(index)
        text = text[:a - start] + MASK + text[b - start:]
    return text


def install(app: Flask) -> None:
    """Put the mask on the access loggers (once per logger, whatever the number of apps): it
    masks the secret routes of every app the process made (apps with other plugins installed
    share the loggers)."""
    patterns = {p.pattern: p for p in secret_paths(app)}
    for name in ACCESS_LOGGERS:
        logger = logging.getLogger(name)
        for old in [f for f in logger.filters if isinstance(f, SecretMask)]:
            patterns = {**{p.pattern: p for p in old.patterns}, **patterns}
            logger.removeFilter(old)
    mask = SecretMask(list(patterns.values()))
    for name in ACCESS_LOGGERS:
        logging.getLogger(name).addFilter(mask)
