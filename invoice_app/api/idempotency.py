"""Idempotency-Key for the API's creating POSTs, with Stripe's rules.

- A repeat with the same key and the same request answers the first answer
  again (same status, body and Location) and creates nothing.
- The same key with another request is 422; a repeat while the first is still
  running is 409.
- Keys are the caller's own (per user) and kept KEEP hours.

The key's row is written and committed before the work starts, so of two
racing requests only one gets it (the unique (user, key) decides, on every
worker and host); the answer is stored when the work is done. Work that fails
with an error of the server removes the row, so a retry with the same key can
run again. A worker killed in the middle leaves the row running: a repeat then
answers 409 until the key expires; the caller can look the invoice up first
(GET /api/invoices) and use a new key.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import timedelta

from flask import Response, current_app, request
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from werkzeug.exceptions import (
    BadRequest,
    Conflict,
    HTTPException,
    UnprocessableEntity,
)

from ..database import begin_write
from ..extensions import db
from ..models import IdempotencyKey, utcnow

KEEP = timedelta(hours=24)
KEY_MAX = 255


def _request_hash(body: bytes) -> str:
    digest = hashlib.sha256()
    for part in (request.method.encode(), request.path.encode(), body):
        digest.update(len(part).to_bytes(8, "big") + part)
    return digest.hexdigest()


def _replay(row: IdempotencyKey) -> Response:
    response = current_app.response_class(
        row.response_body, row.status_code, mimetype="application/json"
    )
    if row.location:
        response.headers["Location"] = row.location
    response.headers["Idempotent-Replayed"] = "true"
    return response


def once(user_id: int, body: bytes, work: Callable[[], Response]) -> Response:
    """work()'s answer, or the stored one when the request's key was seen."""
    key = request.headers.get("Idempotency-Key", "").strip()
    if not key:
        return work()
    if len(key) > KEY_MAX or not key.isprintable() or not key.isascii():
        raise BadRequest(
            f"The Idempotency-Key must be up to {KEY_MAX} printable ASCII characters."
        )
    fingerprint = _request_hash(body)
    session = db.session
    # A write from the first statement (SQLite: BEGIN IMMEDIATE), so two racing
    # requests queue for the lock instead of failing to upgrade theirs.
    begin_write()
    expired = IdempotencyKey.created_at < utcnow() - KEEP
    session.execute(delete(IdempotencyKey).where(expired))
    session.add(IdempotencyKey(user_id=user_id, key=key, request_hash=fingerprint))
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        row = session.scalar(
            select(IdempotencyKey).where(
                IdempotencyKey.user_id == user_id, IdempotencyKey.key == key
            )
        )
        if row is None:  # expired and removed meanwhile: a fresh start
            return once(user_id, body, work)
        if row.request_hash != fingerprint:
            raise UnprocessableEntity(
                "This Idempotency-Key was used with another request; use a new "
                "key for a new request."
            ) from None
        if row.status_code is None:
            raise Conflict(
                "A request with this Idempotency-Key is still being processed; "
                "try again in a moment."
            ) from None
        return _replay(row)
    try:
        response = work()
    except HTTPException as error:
        if error.code >= 500:
            _forget(user_id, key)
            raise
        # A refusal (422, 409, …) is the answer too: a repeat gets it again.
        response = current_app.make_response(current_app.handle_http_exception(error))
    except Exception:
        _forget(user_id, key)
        raise
    _remember(user_id, key, response)
    return response


def _forget(user_id: int, key: str) -> None:
    db.session.rollback()
    begin_write()
    db.session.execute(
        delete(IdempotencyKey).where(
            IdempotencyKey.user_id == user_id, IdempotencyKey.key == key
        )
    )
    db.session.commit()


def _remember(user_id: int, key: str, response: Response) -> None:
    if response.status_code >= 500:
        _forget(user_id, key)
        return
    db.session.rollback()  # whatever the work left unfinished is not ours
    begin_write()
    row = db.session.scalar(
        select(IdempotencyKey).where(
            IdempotencyKey.user_id == user_id, IdempotencyKey.key == key
        )
    )
    row.status_code = response.status_code
    row.response_body = response.get_data(as_text=True)
    row.location = response.headers.get("Location")
    db.session.commit()
