"""Settings from the environment (WARDENS_*), with safe defaults for the embedded set-up."""

from __future__ import annotations

import math
import os
import re
import secrets
from collections import Counter
from pathlib import Path
from typing import Any

from core.db import default_database_url, instance_path
from core.plugins import StartupError

PROJECT_ROOT = Path(__file__).resolve().parent.parent


# The contract's version, MAJOR.MINOR.PATCH: MAJOR is the /api/v<MAJOR> path; MINOR grows with
# each release that adds to it (new fields, routes, deprecated names); PATCH with fixes.
API_VERSION = "1.1.0"
SEMVER = re.compile(r"^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)$")


def check_min_app_version(value: str) -> str:
    """WARDENS_MIN_APP_VERSION is MAJOR.MINOR.PATCH, or start-up stops naming it."""
    if not SEMVER.match(value):
        raise StartupError(f"WARDENS_MIN_APP_VERSION={value!r}: write MAJOR.MINOR.PATCH, "
                           "e.g. 1.4.0")
    return value


# A key that signs every session: shorter or plainer than this is guessable offline.
MIN_SECRET_LENGTH = 32
MIN_SECRET_DISTINCT = 10
MIN_SECRET_BITS = 128  # the key's length times the bits of each character of its alphabet
HEX = frozenset("0123456789abcdef")
URLSAFE = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_+/=")
NEW_SECRET = "python3 -c 'import secrets; print(secrets.token_urlsafe(48))'"


def _secret_key() -> str:
    """WARDENS_SECRET_KEY, else one generated once and kept in the instance folder."""
    if os.environ.get("WARDENS_SECRET_KEY"):
        return os.environ["WARDENS_SECRET_KEY"]
    path = instance_path() / "secret_key"
    try:
        # Created owner-only in one step (never readable by others, not even for a moment);
        # O_EXCL: of two processes starting at once, the second reads the first one's key.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as out:
        out.write(secrets.token_urlsafe(48))
    return path.read_text().strip()


def weak_secret(key: str) -> bool:
    """Short, made of few characters, a repeated block, or too regular for MIN_SECRET_BITS.

    The bits are the alphabet's (hex 4, base64 6, other printable 6.5 a character), counted
    only when the characters are spread as a random draw from it would be: the measured
    entropy per character at least 70% of what ``len(key)`` draws could show at most
    (random keys from ``secrets`` stay above 73% in 100,000 draws).
    """
    counts = Counter(key)
    if (len(key) < MIN_SECRET_LENGTH or len(counts) < MIN_SECRET_DISTINCT
            or any(len(key) % size == 0 and key == key[:size] * (len(key) // size)
                   for size in range(1, len(key) // 2 + 1))):
        return True
    chars = set(key)
    alphabet = (16 if chars <= HEX or chars <= {c.upper() for c in HEX}
                else 64 if chars <= URLSAFE else 94)
    spread = -sum(n / len(key) * math.log2(n / len(key)) for n in counts.values())
    if spread < 0.7 * math.log2(min(len(key), alphabet)):
        return True
    return len(key) * math.log2(alphabet) < MIN_SECRET_BITS


def check_secret_key(config: dict[str, Any]) -> None:
    """Production refuses a weak WARDENS_SECRET_KEY: it signs every token and code."""
    if config["ENV"] != "production" or not os.environ.get("WARDENS_SECRET_KEY"):
        return
    if weak_secret(config["SECRET_KEY"]):
        raise StartupError(
            f"WARDENS_SECRET_KEY is too weak for production: use at least {MIN_SECRET_LENGTH} "
            f"random characters, e.g. {NEW_SECRET}")


def _plugins_toml() -> str:
    if os.environ.get("WARDENS_PLUGINS_TOML"):
        return os.environ["WARDENS_PLUGINS_TOML"]
    local = Path.cwd() / "plugins.toml"
    return str(local if local.exists() else PROJECT_ROOT / "plugins.toml")


def load(overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    env = os.environ.get
    config: dict[str, Any] = {
        "ENV": env("WARDENS_ENV", "production"),
        "DATABASE_URL": default_database_url(),
        "PLUGINS_TOML": _plugins_toml(),
        "RATELIMIT_STORAGE_URI": env("WARDENS_RATELIMIT_STORAGE_URI", "memory://"),
        "AUTH_LIMIT_PER_PHONE": env("WARDENS_AUTH_LIMIT_PER_PHONE", "10/15 minutes"),
        "AUTH_LIMIT_PER_IP": env("WARDENS_AUTH_LIMIT_PER_IP", "200/15 minutes"),
        # Proxies in front (a TLS terminator) whose X-Forwarded-For/-Proto are trusted; with 0
        # the headers are ignored, else a client could pick a fresh limit bucket per request.
        "PROXY_HOPS": int(env("WARDENS_PROXY_HOPS", "0")),
        # GET /metrics: with a token, only with it (Authorization: Bearer); without, from
        # loopback only (a Prometheus on the same host, or scraping through an SSH tunnel).
        "METRICS_TOKEN": env("WARDENS_METRICS_TOKEN", ""),
        "ACCESS_TOKEN_TTL": int(env("WARDENS_ACCESS_TOKEN_TTL", "900")),
        # The console's maps: a tile URL (OSM, AMap or Tianditu), the datum its tiles are drawn
        # in (wgs84, or gcj02 for Chinese maps: positions are converted for display) and the
        # attribution it asks for. Without a URL the map is a plain scaled grid (offline, demo).
        "MAP_TILE_URL": env("WARDENS_MAP_TILE_URL", ""),
        "MAP_TILE_DATUM": env("WARDENS_MAP_TILE_DATUM", "wgs84"),
        "MAP_ATTRIBUTION": env("WARDENS_MAP_ATTRIBUTION", ""),
        "MAX_CONTENT_LENGTH": 1024 * 1024,
        "MAX_PAGE_SIZE": 100,
        # The oldest phone app release this server still serves well (GET /api/v1/meta): an
        # older app asks its user to update. A deployment raises it when it drops an old name.
        "MIN_APP_VERSION": env("WARDENS_MIN_APP_VERSION", "1.0.0"),
        "JSON_SORT_KEYS": False,
        # flask-smorest / OpenAPI
        "API_TITLE": "Wardens",
        "API_VERSION": API_VERSION,
        "OPENAPI_VERSION": "3.0.3",
        "OPENAPI_URL_PREFIX": "/api",
        "OPENAPI_JSON_PATH": "openapi.json",
    }
    config.update(overrides or {})
    check_min_app_version(config["MIN_APP_VERSION"])
    if "SECRET_KEY" not in config:
        config["SECRET_KEY"] = _secret_key()
        check_secret_key(config)
    return config


def shared_limits_warning(config: dict[str, Any], workers: int) -> str | None:
    """A loud warning when sign-in limits kept in memory would multiply across processes."""
    if workers > 1 and config["RATELIMIT_STORAGE_URI"].startswith("memory://"):
        return (f"WARNING: {workers} server processes keep sign-in limits in memory, each its"
                f" own: every budget is {workers} times larger. Set"
                " WARDENS_RATELIMIT_STORAGE_URI=redis://... (see README, Production).")
    return None
