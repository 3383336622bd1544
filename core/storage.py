"""Uploaded files behind a small interface: the instance folder (one host) or an S3-compatible
object store (any number of hosts), chosen by the deployment's settings."""

from __future__ import annotations

import io
import os
import re
import secrets
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Protocol

import sqlalchemy as sa
from sqlalchemy import orm as so

from core.db import instance_path

_KEY = re.compile(r"^[a-z0-9_-]{1,40}(/[a-z0-9_-]{1,40}){0,3}/[a-f0-9]{32}\.[a-z0-9]{1,8}$")


class Storage(Protocol):
    """Where uploads live; keys are opaque strings the database keeps."""

    def put(self, key: str, data: bytes) -> None: ...

    def open(self, key: str) -> BinaryIO: ...

    def delete(self, key: str) -> None: ...

    def exists(self, key: str) -> bool: ...


def check_key(key: str) -> str:
    """``key`` if it is one this code makes (never a path that climbs out), else ValueError."""
    if not _KEY.match(key):
        raise ValueError(f"not a storage key: {key!r}")
    return key


def new_key(folder: str, extension: str) -> str:
    return check_key(f"{folder}/{secrets.token_hex(16)}.{extension}")


class LocalStorage:
    """Files under ``<instance>/uploads``: fine for one host (an object store for more)."""

    def __init__(self, root: Path | None = None) -> None:
        self.root = (root or instance_path() / "uploads").resolve()

    def _path(self, key: str) -> Path:
        return self.root / check_key(key)

    def put(self, key: str, data: bytes) -> None:
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

    def open(self, key: str) -> BinaryIO:
        """The stored file for reading; FileNotFoundError when it is gone."""
        return self._path(key).open("rb")

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def stored_keys(self) -> Iterator[str]:
        """Every stored key (files being written, named ``.upload-*``, left out)."""
        if not self.root.is_dir():
            return
        for path in sorted(self.root.rglob("*")):
            key = path.relative_to(self.root).as_posix()
            if path.is_file() and _KEY.match(key):
                yield key


@dataclass(frozen=True)
class S3Settings:
    bucket: str
    endpoint_url: str | None = None  # MinIO, Alibaba OSS, Tencent COS...; None: AWS
    region: str | None = None
    prefix: str = ""


class S3Storage:
    """Objects in an S3-compatible bucket, shared by every host; credentials come from boto3's
    own chain (``AWS_ACCESS_KEY_ID``/``AWS_SECRET_ACCESS_KEY``, a profile, an instance role)."""

    def __init__(self, settings: S3Settings, client: Any = None) -> None:
        import boto3
        from botocore.config import Config

        self.settings = settings
        self.client = client or boto3.client(
            "s3", endpoint_url=settings.endpoint_url, region_name=settings.region,
            config=Config(retries={"max_attempts": 3, "mode": "standard"},
                          connect_timeout=5, read_timeout=30))

    def _name(self, key: str) -> str:
        return self.settings.prefix + check_key(key)

    def put(self, key: str, data: bytes) -> None:
        self.client.put_object(Bucket=self.settings.bucket, Key=self._name(key), Body=data)

    def open(self, key: str) -> BinaryIO:
        """The object for reading (a photo: read whole); FileNotFoundError when it is gone."""
        try:
            answer = self.client.get_object(Bucket=self.settings.bucket, Key=self._name(key))
        except self.client.exceptions.NoSuchKey:
            raise FileNotFoundError(key) from None
        with answer["Body"] as body:
            return io.BytesIO(body.read())

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.settings.bucket, Key=self._name(key))

    def exists(self, key: str) -> bool:
        from botocore.exceptions import ClientError

        try:
            self.client.head_object(Bucket=self.settings.bucket, Key=self._name(key))
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return False
            raise
        return True


def s3_settings(environ: Mapping[str, str] | None = None) -> S3Settings | None:
    """The object store the settings name (``WARDENS_STORAGE=s3``), or None for the instance
    folder; ValueError names a missing or unknown setting."""
    environ = os.environ if environ is None else environ
    kind = environ.get("WARDENS_STORAGE", "local") or "local"
    if kind == "local":
        return None
    if kind != "s3":
        raise ValueError(f"WARDENS_STORAGE={kind!r}: local (the instance folder) or s3")
    bucket = environ.get("WARDENS_S3_BUCKET", "")
    if not bucket:
        raise ValueError("WARDENS_S3_BUCKET: not set (WARDENS_STORAGE=s3 needs the bucket's name)")
    prefix = environ.get("WARDENS_S3_PREFIX", "").strip("/")
    return S3Settings(bucket=bucket, endpoint_url=environ.get("WARDENS_S3_ENDPOINT_URL") or None,
                      region=environ.get("WARDENS_S3_REGION") or None,
                      prefix=f"{prefix}/" if prefix else "")


_stores: dict[S3Settings, S3Storage] = {}


def default_storage() -> Storage:
    """The deployment's storage, as the settings say at call time."""
    settings = s3_settings()
    if settings is None:
        return LocalStorage()
    # One client per process and settings: making one costs more than a small upload.
    if settings not in _stores:
        _stores[settings] = S3Storage(settings)
    return _stores[settings]


def save(session: so.Session, storage: Storage, data: bytes, *, folder: str,
         extension: str) -> str:
    """Store ``data`` under a new key, before the transaction that records it commits; if that
    transaction rolls back instead, the file goes too (no file without its row)."""
    key = new_key(folder, extension)
    storage.put(key, data)
    written = session.info.setdefault("wardens_written_files", [])
    written.append((storage, key))
    if len(written) == 1:
        sa.event.listen(session, "after_commit", _forget_written, once=True)
        sa.event.listen(session, "after_rollback", _remove_written, once=True)
    return key


def _forget_written(session: so.Session) -> None:
    session.info.pop("wardens_written_files", None)
    if sa.event.contains(session, "after_rollback", _remove_written):
        sa.event.remove(session, "after_rollback", _remove_written)


def _remove_written(session: so.Session) -> None:
    for storage, key in session.info.pop("wardens_written_files", []):
        storage.delete(key)
    if sa.event.contains(session, "after_commit", _forget_written):
        sa.event.remove(session, "after_commit", _forget_written)


def delete_after_commit(session: so.Session, storage: Storage, keys: list[str]) -> None:
    """Delete the files once the transaction that dropped their rows commits: a rolled-back
    erasure must not leave rows pointing at files already gone."""
    def delete(_session: so.Session) -> None:
        for key in keys:
            storage.delete(key)

    sa.event.listen(session, "after_commit", delete, once=True)


def migrate(source: LocalStorage, target: Storage) -> Iterator[tuple[str, bool]]:
    """Copy every file of the instance folder into ``target``, yielding (key, copied): a key
    already there is left as it is, so a migration stopped half-way can simply run again.
    The local files stay (remove the folder once the deployment reads the new store)."""
    for key in source.stored_keys():
        if target.exists(key):
            yield key, False
            continue
        with source.open(key) as handle:
            target.put(key, handle.read())
        yield key, True
