"""Idempotent writes: each write row stores its key and a fingerprint of the request.

A retry with the same key and the same request returns the stored row; the same key with a
different request is a conflict. Callers lock the account first, so two concurrent requests
with one key are serialised and the second sees the first's row.
"""
import hashlib
import json
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from billing_core.errors import IdempotencyConflict, InvalidRequest

Row = TypeVar("Row")


def fingerprint(**fields: object) -> str:
    return hashlib.sha256(json.dumps(fields, sort_keys=True, default=str).encode()).hexdigest()


def stored_result(session: Session, model: type[Row], *, key: str, request_hash: str) -> Row | None:
    if not key or len(key) > 128:
        raise InvalidRequest("an idempotency key of 1 to 128 characters is required")
    existing = session.scalar(select(model).where(model.idempotency_key == key))
    if existing is not None and existing.request_hash != request_hash:
        raise IdempotencyConflict(f"idempotency key {key!r} was used for a different request")
    return existing
