"""One unit of work per request: a session opened on first use, committed once after the view."""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import Callable
from typing import Any, TypeVar

import sqlalchemy as sa
from flask import Flask, Response, current_app, g, request
from sqlalchemy import orm as so

from api import errors
from core import errors as domain_errors
from core import notifications
from core.models import IdempotencyKey

log = logging.getLogger(__name__)

F = TypeVar("F", bound=Callable[..., Any])

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
IDEMPOTENT_EXEMPT_PREFIX = "/api/v1/auth/"
IDEMPOTENCY_KEY_MAX = 128


def db() -> so.Session:
    """The request's session; reads use a read transaction, writes take the write lock."""
    if "db" not in g:
        database = current_app.extensions["wardens"].database
        view = current_app.view_functions.get(request.endpoint or "")
        reads = (request.method in SAFE_METHODS and not _view_writes()) or bool(
            getattr(view, "wardens_reads_first", False))
        g.db = (database.reader if reads else database.writer)()
    return g.db


def reads_first(view: F) -> F:
    """Mark a write view that does slow work (password hashing) before writing.

    Its session starts as a read transaction; the view calls ``begin_writing`` once the slow
    part is done, so SQLite's write lock is never held while hashing.
    """
    view.wardens_reads_first = True  # type: ignore[attr-defined]
    return view


def begin_writing() -> so.Session:
    """End a ``reads_first`` view's read transaction and open the request's writing one.

    The signed-in person and session already loaded come along (re-attached, no query).
    """
    reader: so.Session | None = g.pop("db", None)
    g.pop("signed_in_at", None)  # the station read with the person: read again when asked
    if reader is not None:
        reader.close()
    g.db = current_app.extensions["wardens"].database.writer()
    for name in ("user", "auth_session"):
        if name in g:
            setattr(g, name, g.db.merge(getattr(g, name), load=False))
    return g.db


def writes(view: F) -> F:
    """Mark a GET view that writes (e.g. an audited read of a sensitive record).

    It then takes the write transaction from the start: on SQLite a read transaction that
    later writes can fail with "database is locked" under concurrent writers.
    Put it closest to the function, so every decorator above copies the mark.
    """
    view.wardens_writes = True  # type: ignore[attr-defined]
    return view


def _view_writes() -> bool:
    view = current_app.view_functions.get(request.endpoint or "")
    return bool(getattr(view, "wardens_writes", False))


# What an Idempotency-Key row keeps in place of an answer that held a secret.
SECRET_ANSWER_MARKER = '{"secret_answer": "not kept"}'
SECRET_NOT_REPLAYED_DOC = {"409": {
    "description": "A replay (same Idempotency-Key) of a request whose answer held a secret: "
                   "``idempotent_secret_not_replayed``; the secret is not kept, read it where it "
                   "is shown or make it anew",
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}}


def secret_answer(view: F) -> F:
    """Mark a POST view whose answer holds a secret (a calendar address, a checkpoint secret).

    Its Idempotency-Key row keeps a marker, not the answer, and a replay is 409
    ``idempotent_secret_not_replayed``: a secret is never stored in plain text by the edge.
    Put it closest to the function, so every decorator above copies the mark.
    """
    import flask_smorest

    documented = flask_smorest.Blueprint.doc(responses=SECRET_NOT_REPLAYED_DOC)(view)
    documented.wardens_secret_answer = True  # type: ignore[attr-defined]
    return documented  # type: ignore[no-any-return]


def _view_keeps_a_secret() -> bool:
    view = current_app.view_functions.get(request.endpoint or "")
    return bool(getattr(view, "wardens_secret_answer", False))


def _fingerprint() -> str:
    """Method, path and the canonical body: key order in JSON and multipart boundaries aside."""
    if (request.mimetype or "").startswith("multipart/"):
        parts = sorted(f"{k}={v}" for k, v in request.form.items(multi=True))
        for field, upload in sorted(request.files.items(multi=True), key=lambda kv: kv[0]):
            digest = hashlib.sha256(upload.stream.read()).hexdigest()
            upload.stream.seek(0)
            parts.append(f"{field}:{upload.filename}:{digest}")
        canonical = "&".join(parts)
    else:
        body = request.get_data(cache=True)
        try:
            canonical = (json.dumps(json.loads(body), sort_keys=True, separators=(",", ":"))
                         if body else "")
        except ValueError:
            canonical = body.decode("utf-8", "replace")
    raw = f"{request.method} {request.path}?{request.query_string.decode()} {canonical}"
    return hashlib.sha256(raw.encode()).hexdigest()


def honours_idempotency_key(method: str, path: str) -> bool:
    """POSTs do, sign-in and sign-up aside (they have no person to scope the key to)."""
    return method == "POST" and not path.startswith(IDEMPOTENT_EXEMPT_PREFIX)


def _begin_idempotent() -> Response | None:
    """Claim the Idempotency-Key inside the request's transaction, or replay the first answer."""
    key = request.headers.get("Idempotency-Key")
    if not key or not honours_idempotency_key(request.method, request.path):
        return None
    from api.auth import current_user

    user = current_user()
    if len(key) > IDEMPOTENCY_KEY_MAX:
        raise domain_errors.Invalid("idempotency_key_invalid", max_length=IDEMPOTENCY_KEY_MAX)
    fingerprint = _fingerprint()
    session = db()
    row = IdempotencyKey(user_id=user.id, key=key, fingerprint=fingerprint)
    try:
        # On PostgreSQL a concurrent duplicate waits here on the unique index until the first
        # request commits; on SQLite the write lock taken at BEGIN serialises them.
        with session.begin_nested():
            session.add(row)
            session.flush()
    except sa.exc.IntegrityError:
        stored = session.scalar(sa.select(IdempotencyKey).where(
            IdempotencyKey.user_id == user.id, IdempotencyKey.key == key))
        if stored is None or stored.status_code is None:
            raise domain_errors.Conflict("idempotency_key_in_flight") from None
        if stored.fingerprint != fingerprint:
            raise domain_errors.Invalid("idempotency_key_reused") from None
        if stored.body == SECRET_ANSWER_MARKER:
            raise domain_errors.Conflict("idempotent_secret_not_replayed") from None
        response = Response(stored.body, status=stored.status_code, mimetype="application/json")
        response.headers["Idempotent-Replayed"] = "true"
        g.idempotent_replay = True
        return response
    g.idempotency_key = row
    return None


def _finish(response: Response) -> Response:
    session: so.Session | None = g.pop("db", None)
    if session is None or g.get("idempotent_replay"):
        if session is not None:
            session.close()
        return response
    key: IdempotencyKey | None = g.pop("idempotency_key", None)
    try:
        if response.status_code < 400 or session.info.pop("commit_on_error", False):
            if key is not None and response.status_code < 500:
                key.status_code = response.status_code
                key.body = (SECRET_ANSWER_MARKER if _view_keeps_a_secret()
                            else response.get_data(as_text=True))
            session.commit()
            texts = notifications.queued_texts(session)
            if texts:
                _send_texts(texts)
        else:
            session.rollback()
            if key is not None and response.status_code < 500:
                _store_refusal(session, key, response)
    except Exception as exc:  # a failed commit must still answer in our error shape
        session.rollback()
        if isinstance(exc, domain_errors.WardensError):
            return errors.handle_domain_error(exc)
        if isinstance(exc, sa.exc.IntegrityError):
            log.warning("commit refused: %s", exc.orig)
            return errors.error_response("conflict", 409)
        log.exception("commit failed")
        return errors.error_response("internal_error", 500)
    finally:
        session.close()
    return response


def _send_texts(ids: list[int]) -> None:
    """The request's texts leave right after its commit (a sign-in code is awaited); one that
    cannot leave now is the worker's to retry, never the request's error."""
    try:
        notifications.send_queued_texts(current_app.extensions["wardens"].database, ids)
    except Exception:
        log.exception("texts %s left for the worker", ids)


def _store_refusal(session: so.Session, key: IdempotencyKey, response: Response) -> None:
    """A refused request is answered the same way when retried: store the 4xx alone.

    Our rollback released the key, so a duplicate that was waiting on it may have claimed it
    and run meanwhile; its answer then stands, and this refusal is still the one we give.
    """
    session.add(IdempotencyKey(user_id=key.user_id, key=key.key, fingerprint=key.fingerprint,
                               status_code=response.status_code,
                               body=response.get_data(as_text=True)))
    try:
        session.commit()
    except sa.exc.IntegrityError:
        session.rollback()


def _teardown(_exc: BaseException | None) -> None:
    session = g.pop("db", None)
    if session is not None:
        session.close()


def upload_limit(limit: Callable[[dict[str, Any]], int]) -> Callable[[Any], Any]:
    """Mark an upload view with its own body limit, ``limit(view_args)`` bytes.

    The core applies it before anything reads the body (the Idempotency-Key fingerprint does),
    so the 1 MB JSON limit never cuts an upload short. Put it right under ``@blp.route``.
    """
    def mark(view: Any) -> Any:
        view.wardens_upload_limit = limit
        return view
    return mark


def _apply_upload_limit() -> None:
    view = current_app.view_functions.get(request.endpoint or "")
    limit = getattr(view, "wardens_upload_limit", None)
    if limit is not None:
        request.max_content_length = limit(request.view_args or {})


def register(app: Flask) -> None:
    app.before_request(_apply_upload_limit)
    app.before_request(_reject_nul)
    app.before_request(_begin_idempotent)
    app.after_request(_finish)
    app.teardown_request(_teardown)


MAX_JSON_DEPTH = 64
_JSON_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_TEXT_FILE = re.compile(r"\.(csv|json|txt|tsv)$", re.IGNORECASE)


def _json_too_deep(body: bytes) -> bool:
    """Whether a JSON text nests deeper than ``MAX_JSON_DEPTH``, told without parsing it.

    Parsers recurse: a deep enough document is a RecursionError (a 500) wherever it is read.
    """
    if body.count(b"[") + body.count(b"{") <= MAX_JSON_DEPTH:
        return False
    depth = 0
    for byte in _JSON_STRING.sub(b"", body).translate(None, _NOT_BRACKETS):
        depth += 1 if byte in b"[{" else -1
        if depth > MAX_JSON_DEPTH:
            return True
    return False


def refuse_bad_text(data: bytes, *, json_text: bool = True) -> None:
    """Refuse a text the server will decode: NUL characters (raw or as a JSON escape), or JSON
    nested too deeply. Every request body passes here; upload views pass their files' text."""
    if b"\x00" in data or (json_text and b"\\u0000" in data):
        raise domain_errors.Invalid("nul_character")
    if json_text and _json_too_deep(data):
        raise domain_errors.Invalid("json_too_deep", max_depth=MAX_JSON_DEPTH)


def _reject_nul() -> None:
    """PostgreSQL refuses NUL in text with a 500; refuse it up front with a 422.

    Multipart forms: every field, and every file that is text (a CSV or JSON file is decoded
    and parsed like a body); images and other binary files are not text.
    """
    if b"%00" in request.query_string or b"\x00" in request.query_string:
        raise domain_errors.Invalid("nul_character")
    if request.method in SAFE_METHODS and not request.content_length:
        return
    if (request.mimetype or "").startswith("multipart/"):
        for value in request.form.values():
            refuse_bad_text(value.encode(), json_text=False)
        for upload in request.files.values():
            if ((upload.mimetype or "").startswith("text/") or upload.mimetype == "application/json"
                    or _TEXT_FILE.search(upload.filename or "")):
                refuse_bad_text(upload.stream.read())
                upload.stream.seek(0)
        return
    refuse_bad_text(request.get_data(cache=True))
