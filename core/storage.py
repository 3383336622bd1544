"""Uploaded files behind a small interface: the instance folder by default, swappable later."""

from __future__ import annotations

import os
import re
import secrets
import tempfile
from pathlib import Path
from typing import BinaryIO, Protocol

from core.db import instance_path

_KEY = re.compile(r"^[a-z0-9_-]{1,40}(/[a-z0-9_-]{1,40}){0,3}/[a-f0-9]{32}\.[a-z0-9]{1,8}$")


class Storage(Protocol):
    """Where uploads live; keys are opaque strings the database keeps."""

    def save(self, data: bytes, *, folder: str, extension: str) -> str: ...

    def open(self, key: str) -> BinaryIO: ...

    def delete(self, key: str) -> None: ...


class LocalStorage:
    """Files under ``<instance>/uploads``; fine for one host (an S3-compatible store for more)."""

    def __init__(self, root: Path | None = None) -> None:
        self.root = (root or instance_path() / "uploads").resolve()

    def _path(self, key: str) -> Path:
        if not _KEY.match(key):
            raise ValueError(f"not a storage key: {key!r}")
        return self.root / key

    def save(self, data: bytes, *, folder: str, extension: str) -> str:
        """Write ``data`` under a new random name and return its key."""
        key = f"{folder}/{secrets.token_hex(16)}.{extension}"
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        # Written aside and renamed, so a reader never sees half a file.
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".upload-")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return key

    def open(self, key: str) -> BinaryIO:
        """The stored file for reading; FileNotFoundError when it is gone."""
        return self._path(key).open("rb")

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)


def default_storage() -> Storage:
    """The deployment's storage (the instance folder, resolved at call time)."""
    return LocalStorage()
