"""The key that signs every session: strong in production, and its generated file owner-only."""

from __future__ import annotations

import os
import secrets
import stat
import sys

import pytest

from api import config
from core.plugins import StartupError

STRONG = "q7Hk2vXb9LmP4sTz8RwYc3NdFg6JeUa5"


@pytest.mark.parametrize("weak", ["secret", "changeme-changeme-changeme-changeme",
                                  "a" * 64, "0123456789abcdef" * 2, "ab" * 20,
                                  "a" * 22 + "0123456789"])
def test_production_refuses_a_short_or_plain_secret_key(monkeypatch, weak):
    monkeypatch.setenv("WARDENS_ENV", "production")
    monkeypatch.setenv("WARDENS_SECRET_KEY", weak)
    with pytest.raises(StartupError, match="WARDENS_SECRET_KEY is too weak"):
        config.load()


def test_production_takes_a_strong_key_and_development_any(monkeypatch):
    monkeypatch.setenv("WARDENS_ENV", "production")
    monkeypatch.setenv("WARDENS_SECRET_KEY", STRONG)
    assert config.load()["SECRET_KEY"] == STRONG
    monkeypatch.setenv("WARDENS_ENV", "development")
    monkeypatch.setenv("WARDENS_SECRET_KEY", "dev")
    assert config.load()["SECRET_KEY"] == "dev"


@pytest.mark.parametrize("make", [lambda: secrets.token_hex(16), lambda: secrets.token_hex(32),
                                  lambda: secrets.token_urlsafe(24),
                                  lambda: secrets.token_urlsafe(48)])
def test_production_takes_any_key_secrets_makes_of_128_bits_or_more(monkeypatch, make):
    """token_hex(16) is 128 random bits in 32 characters of 16: as strong as the rule asks."""
    monkeypatch.setenv("WARDENS_ENV", "production")
    for _ in range(200):
        key = make()
        monkeypatch.setenv("WARDENS_SECRET_KEY", key)
        assert config.load()["SECRET_KEY"] == key


_opened: list[tuple[str, int]] = []


def _watch(event: str, args: tuple) -> None:
    if event == "open" and isinstance(args[0], str) and args[0].endswith("secret_key"):
        _opened.append((args[0], args[2]))


sys.addaudithook(_watch)


def test_the_generated_key_file_is_created_owner_only_in_one_step(monkeypatch, tmp_path):
    monkeypatch.delenv("WARDENS_SECRET_KEY", raising=False)
    monkeypatch.setenv("WARDENS_INSTANCE", str(tmp_path))
    old_umask = os.umask(0)  # the loosest umask: only the mode given at creation protects it
    _opened.clear()
    try:
        key = config.load()["SECRET_KEY"]
    finally:
        os.umask(old_umask)
    path = tmp_path / "secret_key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    creating = [flags for name, flags in _opened if flags & os.O_CREAT]
    # Created exclusively with its mode, not written world-readable and narrowed afterwards.
    assert creating and all(flags & os.O_EXCL for flags in creating)
    assert len(key) >= config.MIN_SECRET_LENGTH
    assert config.load()["SECRET_KEY"] == key  # the next process reads the same key
