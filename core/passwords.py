"""Password hashing for the local sign-in provider (PBKDF2-SHA256, cost set by the deployment)."""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass

# OWASP's 2023 figure; tests lower it through WARDENS_PASSWORD_ITERATIONS or the suite crawls.
DEFAULT_ITERATIONS = 600_000
ITERATIONS = int(os.environ.get("WARDENS_PASSWORD_ITERATIONS") or DEFAULT_ITERATIONS)
MIN_LENGTH = 8
# Compared against when there is no account or no password: the same work as a real one.
_DUMMY_SALT = secrets.token_hex(16)


@dataclass(frozen=True)
class Hashed:
    """A password already hashed: hashing is slow, so it is done before a write transaction."""

    value: str


def hash_password(password: str, iterations: int | None = None) -> str:
    iterations = iterations or ITERATIONS
    salt = secrets.token_hex(16)
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt.encode(), iterations)
    return f"pbkdf2_sha256${iterations}${salt}${digest.hex()}"


def check_password(stored: str | None, password: str) -> bool:
    if not stored:
        # The work a real hash would cost, so a missing account is not told apart by timing.
        hashlib.pbkdf2_hmac("sha256", password.encode(), _DUMMY_SALT.encode(), ITERATIONS)
        return False
    try:
        _algo, iterations, salt, expected = stored.split("$")
        digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt.encode(), int(iterations))
    except ValueError:
        return False
    return hmac.compare_digest(digest.hex(), expected)
